// Heartbeat (key 12), versions 0-4.
// v1: throttle time. v3: group instance id. v4: flexible.
// REBALANCE_IN_PROGRESS tells a member to join again. Read on the group is needed
// (GROUP_AUTHORIZATION_FAILED otherwise).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

export const heartbeat: ApiHandler<typeof ApiKey.Heartbeat> = {
  apiKey: ApiKey.Heartbeat,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    if (!authorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const precheck = ctx.broker.groups.precheck(request.groupId);
    if (precheck !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: precheck };
    const errorCode = ctx.broker.groups.heartbeat(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
    });
    return { throttleTimeMs: 0, errorCode };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};
