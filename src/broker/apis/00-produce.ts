// Produce (key 0), versions 3-9 served (3 is the first with record batch v2 and the
// transactional id; librdkafka 2.0 needs 3 in range to use batch v2), 0-9 advertised.
// librdkafka up to 2.11.0 compresses with gzip, snappy and lz4 only when the advertised
// range includes v0, so Brook advertises Produce from 0 as Kafka 4.0 does since
// KAFKA-18659 (ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION = 0, broker listeners).
// No client sends v0-2 to a broker that lists v3+: one that does has its connection
// closed, as Kafka's network processor closes it (the header check throws before any
// handler runs, so no response is written).
// v4: same as v3. v5: log start offset in the response. v6, v7: same (v7 allows zstd).
// v8: per-record errors and an error message. v9: flexible.
//
// Each partition's record set is cut into batches, each batch validated (magic, sizes,
// CRC-32C, record count, producer fields) and appended as it came; the log patches only the
// base offset and partition leader epoch. A partition with any bad batch stores nothing.
// Only the partition's leader takes produce. acks=1 is answered after the leader's append;
// acks=all once every ISR member has the batch (the high watermark passed it), refused
// up front with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { RecordBatchView, splitBatches } from '../../../protocol/record-batch';
import type { Request } from '../../../protocol/apis';
import { ApiHandler, NO_RESPONSE } from '../api-handler';
import { isInternalTopic } from '../../../protocol/topic-names';
import type { Broker } from '../broker';

function partitionResponse(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
  extra: Partial<{ baseOffset: number; logStartOffset: number; batchIndex: number }> = {},
) {
  return {
    index,
    errorCode,
    baseOffset: extra.baseOffset ?? -1,
    logAppendTimeMs: -1,
    logStartOffset: extra.logStartOffset ?? -1,
    recordErrors:
      extra.batchIndex !== undefined && errorCode !== ErrorCode.NONE
        ? [{ batchIndex: extra.batchIndex, batchIndexErrorMessage: errorMessage }]
        : [],
    errorMessage,
  };
}

/** Checks every batch of one partition's record set; returns the batches or an error. */
function validatePartition(
  records: Buffer | null,
  maxMessageBytes: number,
): { batches: Buffer[] } | { errorCode: number; message: string } {
  if (records === null || records.length === 0)
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: 'empty record set' };
  const split = splitBatches(records);
  if (split.error) return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: split.error };
  if (split.batches.length === 0)
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: 'no record batch in the record set' };
  for (const batch of split.batches) {
    const view = new RecordBatchView(batch);
    if (view.magic !== 2) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        message: `record batch magic ${view.magic}; Produce v3+ requires magic 2`,
      };
    }
    if (batch.length > maxMessageBytes) {
      return {
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        message: `batch of ${batch.length} bytes exceeds max.message.bytes ${maxMessageBytes}`,
      };
    }
    const problem = view.validate();
    if (problem) return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: problem };
    if (view.isControl)
      return { errorCode: ErrorCode.INVALID_RECORD, message: 'clients may not produce control batches' };
    if (view.isTransactional) {
      return {
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        message: 'transactional batches are not supported yet',
      };
    }
  }
  return { batches: split.batches };
}

async function producePartition(broker: Broker, topic: string, data: PartitionData, acks: number, timeoutMs: number) {
  if (isInternalTopic(topic))
    return partitionResponse(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic}`);
  const located = broker.topics.get(topic)
    ? broker.replicas.leaderReplica(topic, data.index)
    : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if ('errorCode' in located) {
    const message =
      located.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER
        ? 'This broker is not the leader of this partition.'
        : 'This server does not host this topic-partition.';
    return partitionResponse(data.index, located.errorCode, message);
  }
  const { replica } = located;
  const { log } = replica;
  // acks=all needs enough in-sync replicas before anything is written (Kafka's check).
  if (acks === -1 && replica.isr.length < replica.minInsyncReplicas) {
    return partitionResponse(
      data.index,
      ErrorCode.NOT_ENOUGH_REPLICAS,
      `ISR ${replica.isr.length} below min.insync.replicas ${replica.minInsyncReplicas}`,
    );
  }
  const maxMessageBytes = Number(log.config['max.message.bytes'] ?? broker.settings.messageMaxBytes);
  const checked = validatePartition(data.records, maxMessageBytes);
  if ('errorCode' in checked) {
    broker.logger.debug('produce refused', { topic, partition: data.index, reason: checked.message });
    return partitionResponse(data.index, checked.errorCode, checked.message, { batchIndex: 0 });
  }
  // The high watermark moves when the ISR has the batch (at once with a single replica).
  const result = await log.append(checked.batches, { leaderEpoch: replica.leaderEpoch, holdHighWatermark: true });
  if (result.errorCode !== ErrorCode.NONE) {
    return partitionResponse(data.index, result.errorCode, result.errorMessage ?? null, {
      logStartOffset: log.logStartOffset,
    });
  }
  broker.replicas.afterLeaderAppend(replica);
  if (!result.duplicate)
    broker.metrics.produced(topic, result.lastOffset - result.baseOffset + 1, data.records!.length);
  if (acks === -1) {
    const committed = await broker.replicas.awaitCommit(replica, result.lastOffset + 1, timeoutMs);
    if (committed !== ErrorCode.NONE) {
      const message =
        committed === ErrorCode.REQUEST_TIMED_OUT
          ? 'the in-sync replicas did not all acknowledge within the timeout'
          : null;
      return partitionResponse(data.index, committed, message, {
        baseOffset: committed === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND ? result.baseOffset : -1,
      });
    }
  }
  return partitionResponse(data.index, ErrorCode.NONE, null, {
    baseOffset: result.baseOffset,
    logStartOffset: result.logStartOffset,
  });
}

type PartitionData = Request<typeof ApiKey.Produce>['topicData'][number]['partitionData'][number];

export const produce: ApiHandler<typeof ApiKey.Produce> = {
  apiKey: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 9,
  advertisedMinVersion: 0,
  async handle(ctx, request) {
    const { broker } = ctx;
    const acks = request.acks;
    let partitionCount = 0;
    for (const topic of request.topicData) partitionCount += topic.partitionData.length;
    if (partitionCount > broker.settings.maxPartitionsPerRequest) {
      broker.logger.warn('produce with too many partitions', {
        partitions: partitionCount,
        remote: ctx.connection.remote,
      });
      return acks === 0 ? NO_RESPONSE : this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    }
    let failure: number | null = null;
    if (acks !== 0 && acks !== 1 && acks !== -1) failure = ErrorCode.INVALID_REQUIRED_ACKS;
    else if (request.transactionalId !== null) failure = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    if (failure !== null) return acks === 0 ? NO_RESPONSE : this.errorResponse(request, failure, ctx.header.apiVersion);

    const responses = await Promise.all(
      request.topicData.map(async (topic) => ({
        name: topic.name,
        partitionResponses: await Promise.all(
          topic.partitionData.map((data) => producePartition(broker, topic.name, data, acks, request.timeoutMs)),
        ),
      })),
    );
    if (acks === 0) return NO_RESPONSE;
    return { responses, throttleTimeMs: 0 };
  },
  errorResponse(request, errorCode) {
    return {
      responses: (request?.topicData ?? []).map((topic) => ({
        name: topic.name,
        partitionResponses: topic.partitionData.map((data) => partitionResponse(data.index, errorCode)),
      })),
      throttleTimeMs: 0,
    };
  },
};
