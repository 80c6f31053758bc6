// DeleteRecords (key 21), versions 0-2 (flexible from v2): moves each partition's log start
// offset up to the requested offset (-1: the high watermark), as Kafka's
// KafkaApis.handleDeleteRecordsRequest and ReplicaManager.deleteRecords do. Per partition:
// Delete on the topic, else TOPIC_AUTHORIZATION_FAILED; a partition the metadata lacks is
// UNKNOWN_TOPIC_OR_PARTITION; an internal topic INVALID_TOPIC_EXCEPTION; only the leader
// deletes (NOT_LEADER_OR_FOLLOWER elsewhere); a topic whose cleanup.policy lacks "delete"
// is refused with POLICY_VIOLATION; an offset below -1 or past the high watermark is
// OFFSET_OUT_OF_RANGE. The new starts are made durable (log-start-offset-checkpoint) before
// anything is answered, then the answer waits, up to timeoutMs, until every live replica's
// log start reached the offset (the low watermark; REQUEST_TIMED_OUT after that). A
// partition named twice counts once, with its last offset, as in Kafka's map of requests.
// At most brook.max.partitions.per.request partitions (INVALID_REQUEST past it).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { isInternalTopic } from '../../../protocol/topic-names';
import { ApiHandler } from '../api-handler';
import { topicAuthorizer } from '../authorize';
import { AclOperation } from '../../security/acl';
import { isStorageError } from '../../log/log-directory';
import type { LowWatermarkResult, Replica } from '../../replica/replica-manager';

/** Kafka's DeleteRecordsRequest.HIGH_WATERMARK: delete everything below the high watermark. */
const HIGH_WATERMARK = -1;
/** Kafka's DeleteRecordsResponse.INVALID_LOW_WATERMARK. */
const INVALID_LOW_WATERMARK = -1;

interface Pending {
  topic: string;
  partition: number;
  result: LowWatermarkResult | null;
  /** Set when the start moved (or already was there): the replica and the offset to wait for. */
  replica?: Replica;
  offset?: number;
}

function refused(errorCode: number): LowWatermarkResult {
  return { errorCode, lowWatermark: INVALID_LOW_WATERMARK };
}

export const deleteRecords: ApiHandler<typeof ApiKey.DeleteRecords> = {
  apiKey: ApiKey.DeleteRecords,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { broker } = ctx;
    let count = 0;
    for (const topic of request.topics) count += topic.partitions.length;
    if (count > broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);
    const mayDelete = topicAuthorizer(ctx, AclOperation.DELETE);
    const image = broker.quorum.image;
    // One entry per partition, in the order first named; a later offset replaces an earlier one.
    const byPartition = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const topic of request.topics)
      for (const p of topic.partitions) {
        const key = `${topic.name}\u0000${p.partitionIndex}`;
        const existing = byPartition.get(key);
        if (existing) existing.offset = p.offset;
        else byPartition.set(key, { topic: topic.name, partition: p.partitionIndex, offset: p.offset });
      }
    const pending: Pending[] = [];
    let moved = false;
    for (const { topic, partition, offset } of byPartition.values()) {
      const entry: Pending = { topic, partition, result: null };
      pending.push(entry);
      if (!mayDelete(topic)) entry.result = refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      else if (!image.topicsByName.get(topic)?.partitions.has(partition))
        entry.result = refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else if (isInternalTopic(topic)) entry.result = refused(ErrorCode.INVALID_TOPIC_EXCEPTION);
      else {
        const located = broker.replicas.leaderReplica(topic, partition);
        if ('errorCode' in located) {
          entry.result = refused(located.errorCode);
          continue;
        }
        const { log } = located.replica;
        if (!log.deletePolicy) {
          entry.result = refused(ErrorCode.POLICY_VIOLATION);
          continue;
        }
        const target = offset === HIGH_WATERMARK ? log.highWatermark : offset;
        const change = log.maybeIncrementLogStartOffset(target);
        moved ||= change.moved;
        if (change.errorCode !== ErrorCode.NONE) entry.result = refused(change.errorCode);
        else {
          entry.replica = located.replica;
          entry.offset = target;
        }
      }
    }
    if (moved) {
      // Nothing is answered, and no follower learns the new starts, before they are durable.
      try {
        broker.logs.checkpointLogStartOffsets();
      } catch (error) {
        if (!isStorageError(error)) throw error;
        broker.logger.warn('could not write the log start offsets', { error: (error as Error).message });
        for (const entry of pending) if (entry.replica) entry.result = refused(ErrorCode.KAFKA_STORAGE_ERROR);
      }
    }
    const timeoutMs = Math.max(0, request.timeoutMs);
    await Promise.all(
      pending.map(async (entry) => {
        if (entry.result || !entry.replica || entry.offset === undefined) return;
        entry.result = await broker.replicas.awaitLowWatermark(entry.replica, entry.offset, timeoutMs);
      }),
    );
    const topics: {
      name: string;
      partitions: { partitionIndex: number; lowWatermark: number; errorCode: number }[];
    }[] = [];
    const byTopic = new Map<string, (typeof topics)[number]>();
    for (const entry of pending) {
      let answer = byTopic.get(entry.topic);
      if (!answer) {
        answer = { name: entry.topic, partitions: [] };
        byTopic.set(entry.topic, answer);
        topics.push(answer);
      }
      const result = entry.result ?? refused(ErrorCode.UNKNOWN_SERVER_ERROR);
      answer.partitions.push({
        partitionIndex: entry.partition,
        lowWatermark: result.lowWatermark,
        errorCode: result.errorCode,
      });
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          lowWatermark: INVALID_LOW_WATERMARK,
          errorCode,
        })),
      })),
    };
  },
};
