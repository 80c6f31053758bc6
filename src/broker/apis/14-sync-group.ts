// SyncGroup (key 14), versions 0-5.
// v1: throttle time. v3: group instance id. v4: flexible. v5: protocol type and name.
// Followers park until the leader sends the assignment for the generation. Read on the group
// is needed (GROUP_AUTHORIZATION_FAILED otherwise).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

export const syncGroup: ApiHandler<typeof ApiKey.SyncGroup> = {
  apiKey: ApiKey.SyncGroup,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (!authorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    const precheck = broker.groups.precheck(request.groupId);
    if (precheck !== ErrorCode.NONE) return this.errorResponse(request, precheck, ctx.header.apiVersion);
    const reply = await broker.groups.sync(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
      protocolType: request.protocolType ?? null,
      protocolName: request.protocolName ?? null,
      assignments: request.assignments,
    });
    return { throttleTimeMs: 0, ...reply };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  },
};
