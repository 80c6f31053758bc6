// DescribeGroups (key 15), versions 0-6.
// v1: throttle time. v3: authorized operations. v4: instance ids. v5: flexible.
// v6: error message; an unknown group is answered Dead with GROUP_ID_NOT_FOUND and
// "Group <id> not found." (KIP-1043), where older versions answer Dead with no error.
// Member assignments are returned only once the group is Stable, as Kafka does. At most
// brook.max.groups.per.request groups, each named once: otherwise every group gets
// INVALID_REQUEST. Describe on each group is needed: a group the principal may not describe
// is answered GROUP_AUTHORIZATION_FAILED with nothing else. From v3, when the client asks,
// each group answered without error carries the operations the principal may perform on it.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { ResponseInput } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';
import { authorized, authorizedOperations } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { groupsBounded } from './09-offset-fetch';

type DescribedMember = ResponseInput<typeof ApiKey.DescribeGroups>['groups'][number]['members'][number];

export const describeGroups: ApiHandler<typeof ApiKey.DescribeGroups> = {
  apiKey: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, request) {
    if (!groupsBounded(ctx.broker, request.groups))
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    const withOperations = ctx.header.apiVersion >= 3 && request.includeAuthorizedOperations === true;
    const groups = request.groups.map((groupId) => {
      const permitted = authorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId);
      const precheck = permitted ? ctx.broker.groups.precheck(groupId, true) : ErrorCode.GROUP_AUTHORIZATION_FAILED;
      const base = {
        errorCode: precheck,
        errorMessage: null as string | null,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [] as DescribedMember[],
        authorizedOperations: -2147483648,
      };
      if (!permitted) return { ...base, errorMessage: 'Group authorization failed.' };
      if (precheck !== ErrorCode.NONE) return base;
      const group = ctx.broker.groups.describe(groupId);
      if (!group) {
        // Kafka describes an unknown group as Dead: from v6 with GROUP_ID_NOT_FOUND.
        if (ctx.header.apiVersion < 6)
          return {
            ...base,
            groupState: 'Dead',
            authorizedOperations: authorizedOperations(ctx, withOperations, ResourceType.GROUP, groupId),
          };
        return {
          ...base,
          groupState: 'Dead',
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: `Group ${groupId} not found.`,
        };
      }
      const stable = group.state === 'Stable';
      return {
        ...base,
        groupState: group.state,
        authorizedOperations: authorizedOperations(ctx, withOperations, ResourceType.GROUP, groupId),
        protocolType: group.protocolType ?? '',
        protocolData: stable ? (group.protocolName ?? '') : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable
            ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? Buffer.alloc(0))
            : Buffer.alloc(0),
          memberAssignment: stable ? m.assignment : Buffer.alloc(0),
        })),
      };
    });
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: (request?.groups ?? []).map((groupId: string) => ({
        errorCode,
        errorMessage: null,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: -2147483648,
      })),
    };
  },
};
