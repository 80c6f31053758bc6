// ListGroups (key 16), versions 0-5.
// v1: throttle time. v3: flexible. v4: state filter and state in the answer. v5: type
// filter and type in the answer. As Kafka: both filters are case-insensitive (states also
// trimmed), an empty filter matches everything, a type Kafka does not know matches
// nothing, and every group here is a "classic" group.
// Authorization as Kafka's: with Describe on the cluster every group is listed; otherwise
// only the groups the principal may Describe (the others are left out, not refused).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

/** Kafka's name for the group type of classic-protocol groups, the only kind Brook has. */
const CLASSIC = 'classic';

export const listGroups: ApiHandler<typeof ApiKey.ListGroups> = {
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    if (!ctx.broker.groups.isLoaded)
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const states = new Set((request.statesFilter ?? []).map((s) => s.trim().toLowerCase()));
    const types = new Set((request.typesFilter ?? []).map((t) => t.toLowerCase()));
    const everyGroup = clusterAuthorized(ctx, AclOperation.DESCRIBE);
    const groups = ctx.broker.groups
      .listGroups()
      .filter((g) => everyGroup || authorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId))
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .filter(() => types.size === 0 || types.has(CLASSIC))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: CLASSIC }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] };
  },
};
