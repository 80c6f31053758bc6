// ListOffsets (key 2), versions 0-10 (1 is librdkafka's offsetsForTimes probe).
// v0: up to max_num_offsets "old-style" offsets per partition, newest first, as Kafka 3.x
// served them (its ReplicaManager.legacyFetchOffsetsForTimestamp; Kafka 4.0 dropped v0 in
// KIP-896, old clients and tools still send it).
// v1: one offset per partition with its timestamp. v2: isolation level, throttle time.
// v3: same. v4: current leader epoch in, leader epoch out. v5: same. v6: flexible.
// v7: timestamp -3 asks for the offset of the record with the largest timestamp (KIP-734).
// v8: timestamp -4 asks for the earliest offset in local storage (KIP-405); without tiered
// storage that is the log start offset, answered as -2 is (Kafka's UnifiedLog does the same
// when remote storage is off). v9: timestamp -5 asks for the last offset in tiered storage
// (KIP-1005); with none, Kafka answers offset -1 and leader epoch -1 without an error.
// v10: a timeout for lookups in remote storage (KIP-1075); nothing here reads remote
// storage, so it has nothing to bound. A special timestamp sent at a version before the
// one that defines it is refused with INVALID_REQUEST, as -3 before v7 is.
// With an authorizer each topic needs Describe; refused topics are answered
// TOPIC_AUTHORIZATION_FAILED after the others, as Kafka answers them.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';
import { topicAuthorizer } from '../authorize';
import { AclOperation } from '../../security/acl';
import type { Broker } from '../broker';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const READ_COMMITTED = 1;
const CONSUMER_REPLICA_ID = -1;

type ListedTopic = Request<typeof ApiKey.ListOffsets>['topics'][number];

function answer(partitionIndex: number, errorCode: number, timestamp = -1, offset = -1, leaderEpoch = -1) {
  return {
    partitionIndex,
    errorCode,
    oldStyleOffsets: [],
    timestamp,
    offset,
    leaderEpoch: offset >= 0 ? leaderEpoch : -1,
  };
}

/**
 * Version 0: per partition up to maxNumOffsets offsets, newest first
 * (PartitionLog.legacyOffsetsBefore). For a consumer (replica id -1), offsets above the
 * high watermark are replaced by the high watermark, as Kafka 3.x does.
 */
function listOffsetsV0(broker: Broker, request: Request<typeof ApiKey.ListOffsets>, topics: ListedTopic[]) {
  return {
    throttleTimeMs: 0,
    topics: topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((wanted) => {
        const located = broker.replicas.leaderReplica(topic.name, wanted.partitionIndex, -1);
        if ('errorCode' in located) return answer(wanted.partitionIndex, located.errorCode);
        const { log } = located.replica;
        if (wanted.timestamp < 0 && wanted.timestamp !== LATEST && wanted.timestamp !== EARLIEST)
          return answer(wanted.partitionIndex, ErrorCode.INVALID_REQUEST);
        let offsets = log.legacyOffsetsBefore(wanted.timestamp, wanted.maxNumOffsets ?? 1);
        if (request.replicaId === CONSUMER_REPLICA_ID && offsets.some((offset) => offset > log.highWatermark)) {
          offsets = [log.highWatermark, ...offsets.filter((offset) => offset <= log.highWatermark)];
        }
        return { ...answer(wanted.partitionIndex, ErrorCode.NONE), oldStyleOffsets: offsets };
      }),
    })),
  };
}

export const listOffsets: ApiHandler<typeof ApiKey.ListOffsets> = {
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 10,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    // Describe on each topic; the refused ones come last, as Kafka merges them.
    const mayDescribe = topicAuthorizer(ctx, AclOperation.DESCRIBE);
    const allowed = request.topics.filter((t) => mayDescribe(t.name));
    const refused = allowed.length === request.topics.length ? [] : request.topics.filter((t) => !mayDescribe(t.name));
    const unauthorized = refused.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => answer(p.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
    }));
    if (header.apiVersion === 0) {
      const answered = listOffsetsV0(broker, request, allowed);
      return { ...answered, topics: [...answered.topics, ...unauthorized] };
    }
    const topics = [];
    for (const topic of allowed) {
      const partitions = [];
      const seen = new Set<number>();
      for (const wanted of topic.partitions) {
        const index = wanted.partitionIndex;
        if (seen.has(index)) {
          partitions.push(answer(index, ErrorCode.INVALID_REQUEST));
          continue;
        }
        seen.add(index);
        // Only the leader answers, in the leader epoch the client expects (KIP-320).
        const located = broker.replicas.leaderReplica(topic.name, index, wanted.currentLeaderEpoch ?? -1);
        if ('errorCode' in located) {
          partitions.push(answer(index, located.errorCode));
          continue;
        }
        const { log, leaderEpoch } = located.replica;
        const readCommitted = header.apiVersion >= 2 && request.isolationLevel === READ_COMMITTED;
        const upper = readCommitted ? log.lastStableOffset : log.highWatermark;
        if (wanted.timestamp === LATEST) {
          partitions.push(answer(index, ErrorCode.NONE, -1, upper, leaderEpoch));
        } else if (wanted.timestamp === EARLIEST || (wanted.timestamp === EARLIEST_LOCAL && header.apiVersion >= 8)) {
          partitions.push(answer(index, ErrorCode.NONE, -1, log.logStartOffset, leaderEpoch));
        } else if (wanted.timestamp === MAX_TIMESTAMP && header.apiVersion >= 7) {
          const found = await log.offsetOfMaxTimestamp();
          partitions.push(
            found
              ? answer(index, ErrorCode.NONE, found.timestamp, found.offset, leaderEpoch)
              : answer(index, ErrorCode.NONE),
          );
        } else if (wanted.timestamp === LATEST_TIERED && header.apiVersion >= 9) {
          partitions.push(answer(index, ErrorCode.NONE));
        } else if (wanted.timestamp < 0) {
          partitions.push(answer(index, ErrorCode.INVALID_REQUEST));
        } else {
          const found = await log.offsetForTimestamp(wanted.timestamp);
          // No record at or after the timestamp: Kafka answers offset -1, timestamp -1.
          partitions.push(
            found && found.offset < upper
              ? answer(index, ErrorCode.NONE, found.timestamp, found.offset, leaderEpoch)
              : answer(index, ErrorCode.NONE),
          );
        }
      }
      topics.push({ name: topic.name, partitions });
    }
    topics.push(...unauthorized);
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => answer(p.partitionIndex, errorCode)),
      })),
    };
  },
};
