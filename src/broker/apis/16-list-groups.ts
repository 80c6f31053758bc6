// ListGroups (key 16), versions 0-4.
// v1: throttle time. v3: flexible. v4: state filter and state in the answer.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

export const listGroups: ApiHandler<typeof ApiKey.ListGroups> = {
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    if (!ctx.broker.groups.isLoaded)
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const filter: string[] = request.statesFilter ?? [];
    const wanted = new Set(filter.map((s) => s.toLowerCase()));
    const groups = ctx.broker.groups
      .listGroups()
      .filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] };
  },
};
