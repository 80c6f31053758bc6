// DescribeTopicPartitions (key 75), version 0 (KIP-966): topics and their partitions in
// pages, as the Java admin's describeTopics and kafka-topics --describe (3.7+) ask for them.
// Answered from this node's metadata image, following Kafka's
// DescribeTopicPartitionsRequestHandler and KRaftMetadataCache:
// - An empty topic list means every topic; unknown topics are then simply absent. Named
//   topics that do not exist are answered UNKNOWN_TOPIC_OR_PARTITION (an illegal name
//   INVALID_TOPIC_EXCEPTION), with the zero topic id and no partitions.
// - Topics are answered in name order, each once, from the cursor's topic on (names before
//   it are skipped); the cursor's topic starts at the cursor's partition, the others at 0.
//   A cursor naming a topic not in a non-empty list, or a negative partition, refuses the
//   whole request with INVALID_REQUEST on every topic named (none when the list is empty).
//   A cursor naming a topic that does not exist, with an empty list, just starts there.
// - At most max(min(max.request.partition.size.limit, responsePartitionLimit), 1)
//   partitions are answered. When a topic does not fit, the answer stops inside it and
//   nextCursor names the first partition left out; when the limit is used up exactly, the
//   next topic named (existing or not) is the cursor at partition 0.
// - Partitions carry no error: a partition whose leader is not a live broker has leader -1.
//   Replicas and ISR are listed whole, offline replicas are those on brokers not live.
//   Brook has no eligible leader replicas (KIP-966), so both ELR lists are empty.
// - Each topic needs Describe. Every topic: those refused are left out. Named topics: those
//   refused are answered TOPIC_AUTHORIZATION_FAILED (zero id, no partitions) after the
//   others, whether or not they exist, and take no part in paging.
// - Authorized operations are those the principal may perform on each topic answered
//   (every topic operation without an authorizer).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import { isInternalTopic, validateTopicName } from '../../../protocol/topic-names';
import { ApiHandler, type RequestContext } from '../api-handler';
import { authorizedOperations, topicAuthorizer } from '../authorize';
import { AclOperation, AUTHORIZED_OPERATIONS_OMITTED, ResourceType } from '../../security/acl';

/** Kafka's default for max.request.partition.size.limit. */
const PARTITION_LIMIT_DEFAULT = 2000;

function refusedTopic(ctx: RequestContext, name: string, errorCode: number) {
  return {
    errorCode,
    name,
    topicId: ZERO_UUID,
    isInternal: isInternalTopic(name),
    partitions: [],
    topicAuthorizedOperations: authorizedOperations(ctx, true, ResourceType.TOPIC, name),
  };
}

/** A named topic the principal may not Describe: no id, no partitions, not even whether it exists. */
function unauthorizedTopic(name: string) {
  return {
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    name,
    topicId: ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const describeTopicPartitions: ApiHandler<typeof ApiKey.DescribeTopicPartitions> = {
  apiKey: ApiKey.DescribeTopicPartitions,
  name: 'DescribeTopicPartitions',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const image = broker.quorum.image;
    const cursor = request.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const everyTopic = request.topics.length === 0;
    if (request.topics.length > broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);
    const names = new Set<string>();
    for (const name of everyTopic ? image.topicsByName.keys() : request.topics.map((t) => t.name))
      if (name >= cursorTopic) names.add(name);
    if (cursor && !everyTopic && !names.has(cursor.topicName))
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);
    if (cursor && cursor.partitionIndex < 0) return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);

    const limitMax = broker.settings.maxRequestPartitionSizeLimit ?? PARTITION_LIMIT_DEFAULT;
    let remaining = Math.max(Math.min(limitMax, request.responsePartitionLimit), 1);
    const alive = (id: number) => id === broker.nodeId || image.brokers.get(id)?.fenced === false;
    const topics = [];
    // Describe on each topic, in name order; refused named topics are answered after the
    // others and take no part in paging (Kafka's handler filters them out first).
    const mayDescribe = topicAuthorizer(ctx, AclOperation.DESCRIBE);
    const unauthorized = [];
    const sorted = [];
    for (const name of [...names].sort()) {
      if (mayDescribe(name)) sorted.push(name);
      else if (!everyTopic) unauthorized.push(unauthorizedTopic(name));
    }
    let nextCursor: { topicName: string; partitionIndex: number } | null = null;
    for (const name of sorted) {
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const topic = image.topicsByName.get(name);
      if (!topic) {
        if (!everyTopic)
          topics.push(
            refusedTopic(
              ctx,
              name,
              validateTopicName(name) === null
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.INVALID_TOPIC_EXCEPTION,
            ),
          );
        continue;
      }
      const start = cursor && name === cursor.topicName ? cursor.partitionIndex : 0;
      const count = topic.partitions.size;
      const upper = Math.min(count, start + remaining);
      const partitions = [];
      for (let index = start; index < upper; index++) {
        const p = topic.partitions.get(index);
        if (!p) continue;
        partitions.push({
          errorCode: ErrorCode.NONE,
          partitionIndex: index,
          leaderId: p.leader >= 0 && alive(p.leader) ? p.leader : -1,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas,
          isrNodes: p.isr,
          eligibleLeaderReplicas: [],
          lastKnownElr: [],
          offlineReplicas: p.replicas.filter((id) => !alive(id)),
        });
      }
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.topicId,
        isInternal: isInternalTopic(name),
        partitions,
        topicAuthorizedOperations: authorizedOperations(ctx, true, ResourceType.TOPIC, name),
      });
      if (upper < count) {
        nextCursor = { topicName: name, partitionIndex: upper };
        break;
      }
      remaining -= partitions.length;
    }
    topics.push(...unauthorized);
    return { throttleTimeMs: 0, topics, nextCursor };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({
        errorCode,
        name: t.name,
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
      })),
      nextCursor: null,
    };
  },
};
