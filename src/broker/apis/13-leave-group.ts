// LeaveGroup (key 13), versions 0-5.
// v1: throttle time. v3: several members (with instance ids) per request. v4: flexible.
// v5: reason. Read on the group is needed: GROUP_AUTHORIZATION_FAILED otherwise, as the
// top-level error with no member results (Kafka's error response).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

export const leaveGroup: ApiHandler<typeof ApiKey.LeaveGroup> = {
  apiKey: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const version = ctx.header.apiVersion;
    if (!authorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const precheck = ctx.broker.groups.precheck(request.groupId);
    if (precheck !== ErrorCode.NONE) return this.errorResponse(request, precheck, version);
    const members =
      version >= 3
        ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null }))
        : [{ memberId: request.memberId, groupInstanceId: null }];
    const result = ctx.broker.groups.leave(request.groupId, members);
    // Before v3 the single member's error is the top-level error.
    const errorCode = version >= 3 ? result.errorCode : result.members[0].errorCode;
    return { throttleTimeMs: 0, errorCode, members: result.members };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      members: (request?.members ?? []).map((m: { memberId: string; groupInstanceId: string | null }) => ({
        ...m,
        errorCode,
      })),
    };
  },
};
