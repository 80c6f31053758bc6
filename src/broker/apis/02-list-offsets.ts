// ListOffsets (key 2), versions 1-7 served (1 is librdkafka's offsetsForTimes probe).
// v1: one offset per partition with its timestamp. v2: isolation level, throttle time.
// v3: same. v4: current leader epoch in, leader epoch out. v5: same. v6: flexible.
// v7: timestamp -3 asks for the offset of the record with the largest timestamp (KIP-734).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const READ_COMMITTED = 1;

function answer(partitionIndex: number, errorCode: number, timestamp = -1, offset = -1, leaderEpoch = -1) {
  return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp, offset, leaderEpoch: offset >= 0 ? leaderEpoch : -1 };
}

export const listOffsets: ApiHandler<typeof ApiKey.ListOffsets> = {
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 7,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const topics = [];
    for (const topic of request.topics) {
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
        } else if (wanted.timestamp === EARLIEST) {
          partitions.push(answer(index, ErrorCode.NONE, -1, log.logStartOffset, leaderEpoch));
        } else if (wanted.timestamp === MAX_TIMESTAMP && header.apiVersion >= 7) {
          const found = await log.offsetOfMaxTimestamp();
          partitions.push(found ? answer(index, ErrorCode.NONE, found.timestamp, found.offset, leaderEpoch) : answer(index, ErrorCode.NONE));
        } else if (wanted.timestamp < 0) {
          partitions.push(answer(index, ErrorCode.INVALID_REQUEST));
        } else {
          const found = await log.offsetForTimestamp(wanted.timestamp);
          // No record at or after the timestamp: Kafka answers offset -1, timestamp -1.
          partitions.push(found && found.offset < upper ? answer(index, ErrorCode.NONE, found.timestamp, found.offset, leaderEpoch) : answer(index, ErrorCode.NONE));
        }
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => answer(p.partitionIndex, errorCode)) })),
    };
  },
};
