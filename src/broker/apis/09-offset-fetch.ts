// OffsetFetch (key 9), versions 1-9.
// v1: log-backed offsets. v2: null topics = every committed partition; top-level error.
// v3: throttle time. v5: committed leader epoch. v6: flexible. v7: requireStable (no
// transactions here, so offsets are always stable). v8: several groups per request, at
// most brook.max.groups.per.request, each named once (otherwise each gets INVALID_REQUEST,
// a deliberate difference: Kafka answers repeats). v9: member id
// and member epoch per group: Kafka checks them only for KIP-848 consumer groups and
// ignores them for classic groups, which are all Brook has, so they are ignored here.
// An unknown group answers -1 offsets with no error, as Kafka's coordinator does. At most
// brook.max.partitions.per.request partitions named (all INVALID_REQUEST past it).
// Authorization as Kafka's: Describe on each group (GROUP_AUTHORIZATION_FAILED for that
// group otherwise); offsets are shown only for topics the principal may Describe: a named
// topic it may not is answered with -1 offsets and TOPIC_AUTHORIZATION_FAILED, and when all
// the group's offsets are asked for (null topics) such topics are left out.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request } from '../../../protocol/apis';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import type { Broker } from '../broker';
import { DEFAULT_GROUPS_PER_REQUEST_MAX } from '../../group/coordinator';

type TopicRequest = NonNullable<Request<typeof ApiKey.OffsetFetch>['topics']>[number];

/**
 * The metadata of an offset committed without any, and of a partition with no committed
 * offset: "" (Kafka's OffsetAndMetadata.NO_METADATA and OffsetFetchResponse.NO_METADATA),
 * never null.
 */
export const NO_METADATA = '';

/**
 * brook.max.groups.per.request, and each group named once: a group's answer grows with its
 * state (every committed offset, every member's metadata), so naming one group many times
 * would make a small request answer many times what the coordinator holds.
 */
export function groupsBounded(broker: Broker, groupIds: string[]): boolean {
  if (groupIds.length > (broker.settings.maxGroupsPerRequest ?? DEFAULT_GROUPS_PER_REQUEST_MAX)) return false;
  return new Set(groupIds).size === groupIds.length;
}

function groupAnswer(ctx: RequestContext, groupId: string, topics: TopicRequest[] | null) {
  const { broker } = ctx;
  if (!authorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  const precheck = broker.groups.precheck(groupId, true);
  if (precheck !== ErrorCode.NONE) return { errorCode: precheck, topics: [] };
  const committed = broker.groups.fetchOffsets(groupId);
  const describable = (name: string) => authorized(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
  const wanted: TopicRequest[] =
    topics ??
    [...committed.entries()]
      .filter(([name]) => describable(name))
      .map(([name, partitions]) => ({ name, partitionIndexes: [...partitions.keys()] }));
  return {
    errorCode: ErrorCode.NONE,
    topics: wanted.map((topic) => {
      const allowed = topics === null || describable(topic.name);
      return {
        name: topic.name,
        partitions: topic.partitionIndexes.map((partitionIndex) => {
          const found = allowed ? committed.get(topic.name)?.get(partitionIndex) : undefined;
          return {
            partitionIndex,
            committedOffset: found ? found.offset : -1,
            committedLeaderEpoch: found ? found.leaderEpoch : -1,
            metadata: found ? (found.metadata ?? NO_METADATA) : NO_METADATA,
            errorCode: allowed ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          };
        }),
      };
    }),
  };
}

export const offsetFetch: ApiHandler<typeof ApiKey.OffsetFetch> = {
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 9,
  handle(ctx, request) {
    const version = ctx.header.apiVersion;
    const named = version >= 8 ? request.groups.flatMap((g) => g.topics ?? []) : (request.topics ?? []);
    let partitionCount = 0;
    for (const topic of named) partitionCount += topic.partitionIndexes.length;
    if (partitionCount > ctx.broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
    if (version >= 8) {
      if (
        !groupsBounded(
          ctx.broker,
          request.groups.map((g) => g.groupId),
        )
      )
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
      return {
        throttleTimeMs: 0,
        groups: request.groups.map((g) => ({ groupId: g.groupId, ...groupAnswer(ctx, g.groupId, g.topics) })),
      };
    }
    const answer = groupAnswer(ctx, request.groupId, request.topics);
    // Before v2 there is no top-level error: it goes on every partition.
    if (version < 2 && answer.errorCode !== ErrorCode.NONE)
      return this.errorResponse(request, answer.errorCode, version);
    return { throttleTimeMs: 0, topics: answer.topics, errorCode: answer.errorCode };
  },
  errorResponse(request, errorCode) {
    const topics = (request?.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1,
        committedLeaderEpoch: -1,
        metadata: NO_METADATA,
        errorCode,
      })),
    }));
    return {
      throttleTimeMs: 0,
      topics,
      errorCode,
      groups: (request?.groups ?? []).map((g: { groupId: string }) => ({ groupId: g.groupId, topics: [], errorCode })),
    };
  },
};
