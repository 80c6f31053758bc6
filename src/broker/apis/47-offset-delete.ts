// OffsetDelete (key 47), version 0: deletes committed offsets of partitions a group no
// longer consumes; refused (GROUP_SUBSCRIBED_TO_TOPIC) for topics an active member is
// subscribed to, and (NON_EMPTY_GROUP) for a group with members that does not use the
// consumer protocol, whose subscriptions cannot be read, as Kafka refuses them. At most
// brook.max.partitions.per.request partitions (INVALID_REQUEST past it).
// Authorization as Kafka's: Delete on the group, else the request is refused with
// GROUP_AUTHORIZATION_FAILED; then Read on each topic, else its partitions are answered
// TOPIC_AUTHORIZATION_FAILED and their offsets kept.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { subscribedTopics } from '../../group/consumer-protocol';

export const offsetDelete: ApiHandler<typeof ApiKey.OffsetDelete> = {
  apiKey: ApiKey.OffsetDelete,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const groups = ctx.broker.groups;
    let partitionCount = 0;
    for (const topic of request.topics) partitionCount += topic.partitions.length;
    if (partitionCount > ctx.broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);
    if (!authorized(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId))
      return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, 0);
    const denied = new Set<string>();
    for (const t of request.topics)
      if (!authorized(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)) denied.add(t.name);
    const precheck = groups.precheck(request.groupId);
    if (precheck !== ErrorCode.NONE) return this.errorResponse(request, precheck, 0);
    const group = groups.describe(request.groupId);
    const subscribed = group ? subscribedTopics(group) : new Set<string>();
    const wanted = request.topics
      .filter((t) => !denied.has(t.name))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    const { groupError, results } = groups.deleteOffsets(request.groupId, wanted, subscribed);
    if (groupError !== ErrorCode.NONE) return this.errorResponse(request, groupError, 0);
    let i = 0;
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((t: { name: string; partitions: { partitionIndex: number }[] }) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: denied.has(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : results[i++],
        })),
      })),
    };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, throttleTimeMs: 0, topics: [] };
  },
};
