// DescribeGroups (key 15), versions 0-5.
// v1: throttle time. v3: authorized operations. v4: instance ids. v5: flexible.
// Member assignments are returned only once the group is Stable, as Kafka does.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { ResponseInput } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';

type DescribedMember = ResponseInput<typeof ApiKey.DescribeGroups>['groups'][number]['members'][number];

export const describeGroups: ApiHandler<typeof ApiKey.DescribeGroups> = {
  apiKey: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const groups = request.groups.map((groupId) => {
      const precheck = ctx.broker.groups.precheck(groupId);
      const base = {
        errorCode: precheck,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [] as DescribedMember[],
        authorizedOperations: -2147483648,
      };
      if (precheck !== ErrorCode.NONE) return base;
      const group = ctx.broker.groups.describe(groupId);
      // Kafka describes unknown groups as Dead with no error.
      if (!group) return { ...base, groupState: 'Dead' };
      const stable = group.state === 'Stable';
      return {
        ...base,
        groupState: group.state,
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
