// JoinGroup (key 11), versions 0-9.
// v1: rebalance timeout. v2: throttle time. v4: MEMBER_ID_REQUIRED two-step join.
// v5: static membership. v6: flexible. v7: protocol type in the answer. v8: reason.
// v9: skip assignment (always false here: the leader assigns).
// The request parks in the group until the rebalance completes. Read on the group is needed
// (GROUP_AUTHORIZATION_FAILED otherwise, with no member id, as Kafka answers).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

function failure(errorCode: number, memberId = '') {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: '',
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export const joinGroup: ApiHandler<typeof ApiKey.JoinGroup> = {
  apiKey: ApiKey.JoinGroup,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const { broker, header, connection } = ctx;
    if (!authorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const precheck = broker.groups.precheck(request.groupId);
    if (precheck !== ErrorCode.NONE) return failure(precheck, request.memberId);
    const reply = await broker.groups.join(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: header.clientId ?? '',
      clientHost: connection.remote,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // v0 has no rebalance timeout: Kafka uses the session timeout.
      rebalanceTimeoutMs: header.apiVersion >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      requireKnownMemberId: header.apiVersion >= 4,
    });
    return {
      throttleTimeMs: 0,
      errorCode: reply.errorCode,
      generationId: reply.generationId,
      protocolType: reply.protocolType,
      protocolName: reply.protocolName ?? (header.apiVersion >= 7 ? null : ''),
      leader: reply.leader,
      skipAssignment: false,
      memberId: reply.memberId,
      members: reply.members,
    };
  },
  errorResponse(request, errorCode) {
    return failure(errorCode, request?.memberId ?? '');
  },
};
