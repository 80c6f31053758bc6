// Produce (key 0), versions 3-13 served (3 is the first with record batch v2 and the
// transactional id; librdkafka 2.0 needs 3 in range to use batch v2), 0-13 advertised.
// librdkafka up to 2.11.0 compresses with gzip, snappy and lz4 only when the advertised
// range includes v0, so Brook advertises Produce from 0 as Kafka 4.0 does since
// KAFKA-18659 (ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION = 0, broker listeners).
// No client sends v0-2 to a broker that lists v3+: one that does has its connection
// closed, as Kafka's network processor closes it (the header check throws before any
// handler runs, so no response is written).
// v4: same as v3. v5: log start offset in the response. v6, v7: same (v7 allows zstd).
// v8: per-record errors and an error message. v9: flexible. v10: a partition answered
// NOT_LEADER_OR_FOLLOWER carries the leader and epoch this node knows, and the response
// the endpoints of those leaders, so the producer can go there without a metadata round
// trip (KIP-951). v11, v12: same (their transactional additions do not arise: Brook
// refuses transactional producers). v13: topics are named by topic id (KIP-516); an id no
// current topic has (a zero id, or a deleted topic's id after it was recreated) gets
// UNKNOWN_TOPIC_ID on each of its partitions, as Kafka answers it.
// With acks=0 nothing is answered; a request with any failed partition closes the
// connection instead (Kafka's handleProduceRequest), which is how such a producer learns.
//
// Each partition's record set is cut into batches, each batch validated (magic, sizes,
// CRC-32C, record count, producer fields, and every record: a compressed batch is
// decompressed, within brook.message.decompressed.max.bytes, and walked, as Kafka's
// LogValidator does), then converted as the topic asks (batch-conversion.ts: recompressed
// to its compression.type, stamped with the append time for LogAppendTime, which the
// response answers as log_append_time_ms) and appended; the log patches only the base
// offset and partition leader epoch. A partition with any bad batch stores nothing. For
// CreateTime topics, a record whose timestamp lies more than message.timestamp.before.max.ms
// in the past or message.timestamp.after.max.ms in the future (the deprecated
// message.timestamp.difference.max.ms standing in for a bound left at its default), and a
// batch the producer marked LogAppendTime, are refused with INVALID_TIMESTAMP and Kafka's
// messages (the partition's, and the record error's naming the record).
// Only the partition's leader takes produce. acks=1 is answered after the leader's append;
// acks=all once every ISR member has the batch (the high watermark passed it), refused
// up front with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas.
// With an authorizer, Kafka's checks in its order: a request holding a transactional batch
// needs Write on its transactional id (the whole request TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// then each topic needs Write (TOPIC_AUTHORIZATION_FAILED on its partitions, before its
// existence is looked at). Idempotent batches need nothing more: since KIP-679 Kafka checks
// IdempotentWrite (or Write on any topic) at InitProducerId, not here.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { Compression } from '../../../protocol/compression';
import { RecordBatchView, splitBatches, TimestampWindow } from '../../../protocol/record-batch';
import type { Request } from '../../../protocol/apis';
import { ApiHandler, CLOSE_CONNECTION, NO_RESPONSE, type RequestContext } from '../api-handler';
import { authorized, topicAuthorizer } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { isInternalTopic } from '../../../protocol/topic-names';
import type { Broker } from '../broker';
import { brokerEndpoint, DescribedBroker } from '../cluster-view';
import { timestampBoundsMs } from '../topic-config';
import { batchConversion, convertBatches } from '../batch-conversion';
import { isCompacted } from '../../log/cleaner/log-cleaner';

/** The first version that names topics by id. */
const TOPIC_ID_VERSION = 13;
/** The first version with KIP-951 leader hints. */
const LEADER_HINT_VERSION = 10;

interface PartitionAnswer {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[];
  errorMessage: string | null;
  /** KIP-951 (v10+): set only for NOT_LEADER_OR_FOLLOWER with a known leader. */
  currentLeader?: { leaderId: number; leaderEpoch: number };
}

/** File-system error codes that mean the storage failed, not the request. */
const STORAGE_ERROR_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EFBIG']);
let lastStorageErrorLogMs = 0;

function partitionResponse(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
  extra: Partial<{
    baseOffset: number;
    logStartOffset: number;
    batchIndex: number;
    logAppendTimeMs: number;
    /** The record error's own message, when it differs from the partition's. */
    recordMessage: string;
  }> = {},
): PartitionAnswer {
  return {
    index,
    errorCode,
    baseOffset: extra.baseOffset ?? -1,
    logAppendTimeMs: extra.logAppendTimeMs ?? -1,
    logStartOffset: extra.logStartOffset ?? -1,
    recordErrors:
      extra.batchIndex !== undefined && errorCode !== ErrorCode.NONE
        ? [{ batchIndex: extra.batchIndex, batchIndexErrorMessage: extra.recordMessage ?? errorMessage }]
        : [],
    errorMessage,
  };
}

/** The limits a partition's produced batches are checked against. */
interface BatchRules {
  maxMessageBytes: number;
  decompressedMaxBytes: number;
  /** Null for LogAppendTime topics, whose record timestamps are not checked. */
  window: TimestampWindow | null;
  /** cleanup.policy has compact: every record needs a key (Kafka's LogValidator.validateKey). */
  compacted?: boolean;
  /** For the refusal's message. */
  topicPartition?: string;
}

/** The create-time window of a topic's config around `nowMs`, or null for LogAppendTime. */
export function timestampWindow(config: Record<string, string>, nowMs: number): TimestampWindow | null {
  if (config['message.timestamp.type'] === 'LogAppendTime') return null;
  const { beforeMs, afterMs } = timestampBoundsMs(config);
  return { low: nowMs - beforeMs, high: nowMs + afterMs };
}

type Checked =
  | { batches: Buffer[]; decompressed?: Map<Buffer, Buffer> }
  | { errorCode: number; message: string; batchIndex: number; recordMessage?: string };

/** Kafka's partition-level message for records refused for their timestamps (LogValidator). */
const INVALID_TIMESTAMP_MESSAGE = 'One or more records have been rejected due to invalid timestamp';

/**
 * Checks every batch of one partition's record set; returns the batches (with the records
 * sections it decompressed, when `keepDecompressed`) or an error.
 */
async function validatePartition(
  records: Buffer | null,
  rules: BatchRules,
  keepDecompressed = false,
): Promise<Checked> {
  const checked = validateBatches(records, rules);
  if ('errorCode' in checked) return checked;
  const decompressed = new Map<Buffer, Buffer>();
  for (let index = 0; index < checked.batches.length; index++) {
    const view = new RecordBatchView(checked.batches[index]);
    // A CreateTime topic takes no batch the producer marked LogAppendTime (Kafka's check).
    if (rules.window !== null && view.timestampType === 1) return logAppendTimeFromProducer(view, rules);
    // Uncompressed batches had their records walked above; compressed ones are walked now.
    if (view.compression === Compression.None) continue;
    const window = windowCopy(rules);
    const keep = keepDecompressed ? (payload: Buffer) => decompressed.set(checked.batches[index], payload) : undefined;
    const problem = await view.validateCompressed(rules.decompressedMaxBytes, window, keep);
    if (problem) return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: problem, batchIndex: index };
    if (window?.outside) return outOfWindow(window, view);
  }
  if (rules.compacted) {
    for (const batch of checked.batches) {
      const records = await new RecordBatchView(batch).records(rules.decompressedMaxBytes);
      const keyless = records.findIndex((record) => record.key === null);
      if (keyless >= 0)
        return {
          errorCode: ErrorCode.INVALID_RECORD,
          message: 'One or more records have been rejected',
          recordMessage: `Compacted topic cannot accept message without key in topic partition ${rules.topicPartition}.`,
          batchIndex: keyless,
        };
    }
  }
  return { batches: checked.batches, decompressed };
}

/** INVALID_TIMESTAMP for a producer's LogAppendTime batch, with Kafka's message naming its first record. */
async function logAppendTimeFromProducer(view: RecordBatchView, rules: BatchRules): Promise<Checked> {
  const [first] = await view.records(rules.decompressedMaxBytes).catch(() => []);
  const described = first
    ? `DefaultRecord(offset=${first.offset}, timestamp=${first.timestamp}, key=${first.key?.length ?? 0} bytes, value=${first.value?.length ?? 0} bytes)`
    : `at offset ${view.baseOffset}`;
  return {
    errorCode: ErrorCode.INVALID_TIMESTAMP,
    message: INVALID_TIMESTAMP_MESSAGE,
    batchIndex: 0,
    recordMessage: `Invalid timestamp type in message ${described}. Producer should not set timestamp type to LogAppendTime.`,
  };
}

function windowCopy(rules: BatchRules): TimestampWindow | undefined {
  return rules.window ? { low: rules.window.low, high: rules.window.high } : undefined;
}

/**
 * INVALID_TIMESTAMP with Kafka's messages: the partition's names the cause, the record
 * error (KIP-467) the record's index in its batch and, as Kafka words it, its offset in the
 * producer's batch.
 */
function outOfWindow(window: TimestampWindow, view: RecordBatchView): Checked {
  const { index, timestamp } = window.outside!;
  return {
    errorCode: ErrorCode.INVALID_TIMESTAMP,
    message: INVALID_TIMESTAMP_MESSAGE,
    batchIndex: index,
    recordMessage:
      `Timestamp ${timestamp} of message with offset ${view.baseOffset + index} is out of range. ` +
      `The timestamp should be within [${window.low}, ${window.high}]`,
  };
}

/** The structural checks of every batch (no decompression). */
function validateBatches(records: Buffer | null, rules: BatchRules): Checked {
  const { maxMessageBytes } = rules;
  const refuse = (errorCode: number, message: string) => ({ errorCode, message, batchIndex: 0 });
  if (records === null || records.length === 0) return refuse(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
  const split = splitBatches(records);
  if (split.error) return refuse(ErrorCode.CORRUPT_MESSAGE, split.error);
  if (split.batches.length === 0) return refuse(ErrorCode.CORRUPT_MESSAGE, 'no record batch in the record set');
  for (let index = 0; index < split.batches.length; index++) {
    const batch = split.batches[index];
    const view = new RecordBatchView(batch);
    if (view.magic !== 2) {
      return refuse(
        ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        `record batch magic ${view.magic}; Produce v3+ requires magic 2`,
      );
    }
    if (batch.length > maxMessageBytes) {
      return refuse(
        ErrorCode.MESSAGE_TOO_LARGE,
        `batch of ${batch.length} bytes exceeds max.message.bytes ${maxMessageBytes}`,
      );
    }
    const window = windowCopy(rules);
    const problem = view.validate(window);
    if (problem) return refuse(ErrorCode.CORRUPT_MESSAGE, problem);
    if (window?.outside) return outOfWindow(window, view);
    if (view.isControl) return refuse(ErrorCode.INVALID_RECORD, 'clients may not produce control batches');
    if (view.isTransactional)
      return refuse(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactional batches are not supported yet');
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
  const nowMs = Date.now();
  // The topic's compression.type and message.timestamp.type (Kafka's LogValidator).
  const conversion = batchConversion(log.config, nowMs, broker.settings.messageDecompressedMaxBytes);
  const checked = await validatePartition(
    data.records,
    {
      maxMessageBytes,
      decompressedMaxBytes: broker.settings.messageDecompressedMaxBytes,
      window: timestampWindow(log.config, nowMs),
      compacted: isCompacted(log.config),
      topicPartition: `${topic}-${data.index}`,
    },
    conversion.codec !== null,
  );
  if ('errorCode' in checked) {
    broker.logger.debug('produce refused', {
      topic,
      partition: data.index,
      reason: checked.recordMessage ?? checked.message,
    });
    return partitionResponse(data.index, checked.errorCode, checked.message, {
      batchIndex: checked.batchIndex,
      recordMessage: checked.recordMessage,
    });
  }
  const batches = await convertBatches(checked.batches, conversion, broker.conversionPool, checked.decompressed);
  const tooLarge = batches.findIndex((batch) => batch.length > maxMessageBytes);
  if (tooLarge >= 0)
    return partitionResponse(
      data.index,
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${batches[tooLarge].length} bytes after recompression exceeds max.message.bytes ${maxMessageBytes}`,
      { batchIndex: tooLarge },
    );
  // The high watermark moves when the ISR has the batch (at once with a single replica).
  let result;
  try {
    result = await log.append(batches, { leaderEpoch: replica.leaderEpoch, holdHighWatermark: true });
  } catch (error) {
    // A file-system error (a full disk, an I/O error) is Kafka's KAFKA_STORAGE_ERROR, which
    // clients retry; the log's own append is all-or-nothing, so nothing was acknowledged.
    const code = (error as NodeJS.ErrnoException)?.code;
    if (typeof code !== 'string' || !STORAGE_ERROR_CODES.has(code)) throw error;
    const now = Date.now();
    if (now - lastStorageErrorLogMs >= 10_000) {
      lastStorageErrorLogMs = now;
      broker.logger.error('append failed on storage (logged at most every 10 s)', {
        topic,
        partition: data.index,
        code,
      });
    }
    return partitionResponse(data.index, ErrorCode.KAFKA_STORAGE_ERROR, `storage error on append: ${code}`, {
      logStartOffset: log.logStartOffset,
    });
  }
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
    logAppendTimeMs: result.duplicate ? -1 : (conversion.logAppendTimeMs ?? -1),
  });
}

/**
 * The leader of a partition as this node's metadata has it, with the leader's endpoint when
 * it is a live broker with the client's listener (Kafka's getCurrentLeader for KIP-951); undefined when no leader is known.
 */
function leaderHint(broker: Broker, topic: string, index: number, listenerName: string) {
  const partition = broker.quorum.image.topicsByName.get(topic)?.partitions.get(index);
  if (!partition || partition.leader < 0) return undefined;
  const endpoint = brokerEndpoint(broker, partition.leader, listenerName);
  return {
    leaderId: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    endpoint: endpoint && !endpoint.fenced ? endpoint : undefined,
  };
}

type PartitionData = Request<typeof ApiKey.Produce>['topicData'][number]['partitionData'][number];

/** The attributes bit of a transactional record batch, and where the attributes sit. */
const TRANSACTIONAL_FLAG = 0x10;
const ATTRIBUTES_OFFSET = 21;
const BATCH_LENGTH_OFFSET = 8;
const BATCH_HEADER_BYTES = 61;

/**
 * Kafka's first check of a Produce: a request holding any transactional batch needs a
 * transactional id with Write on it. Batches are found by their length fields alone (a
 * malformed set stops the walk here; validation refuses it per partition later).
 */
function transactionalWriteAuthorized(ctx: RequestContext, request: Request<typeof ApiKey.Produce>): boolean {
  let transactional = false;
  for (const topic of request.topicData) {
    for (const data of topic.partitionData) {
      const records = data.records;
      if (records === null) continue;
      for (let at = 0; at + BATCH_HEADER_BYTES <= records.length;) {
        if ((records.readInt16BE(at + ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) !== 0) transactional = true;
        const length = records.readInt32BE(at + BATCH_LENGTH_OFFSET);
        if (transactional || length <= 0) break;
        at += 12 + length;
      }
      if (transactional) break;
    }
    if (transactional) break;
  }
  if (!transactional) return true;
  const id = request.transactionalId;
  return id !== null && authorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, id);
}

export const produce: ApiHandler<typeof ApiKey.Produce> = {
  apiKey: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 13,
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
      return acks === 0
        ? CLOSE_CONNECTION
        : this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    }
    let failure: number | null = null;
    if (acks !== 0 && acks !== 1 && acks !== -1) failure = ErrorCode.INVALID_REQUIRED_ACKS;
    else if (broker.authorizer && !transactionalWriteAuthorized(ctx, request))
      failure = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    else if (request.transactionalId !== null) failure = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    if (failure !== null)
      return acks === 0 ? CLOSE_CONNECTION : this.errorResponse(request, failure, ctx.header.apiVersion);

    const version = ctx.header.apiVersion;
    const mayWrite = topicAuthorizer(ctx, AclOperation.WRITE);
    const endpoints = new Map<number, DescribedBroker>();
    const responses = await Promise.all(
      request.topicData.map(async (topic) => {
        // v13 names the topic by id: resolve it through the metadata image.
        const name = version >= TOPIC_ID_VERSION ? (broker.topics.getById(topic.topicId)?.name ?? null) : topic.name;
        // Write on the topic, checked before its existence (Kafka's order): a topic the
        // principal may not write is TOPIC_AUTHORIZATION_FAILED whether or not it exists.
        const writable = name !== null && mayWrite(name);
        const partitionResponses = await Promise.all(
          topic.partitionData.map((data) =>
            name === null
              ? partitionResponse(data.index, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.')
              : !writable
                ? partitionResponse(data.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                : producePartition(broker, name, data, acks, request.timeoutMs),
          ),
        );
        if (version >= LEADER_HINT_VERSION && name !== null) {
          for (const p of partitionResponses) {
            if (p.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) continue;
            const hint = leaderHint(broker, name, p.index, ctx.connection.security.listenerName);
            if (!hint) continue;
            p.currentLeader = { leaderId: hint.leaderId, leaderEpoch: hint.leaderEpoch };
            if (hint.endpoint) endpoints.set(hint.endpoint.nodeId, hint.endpoint);
          }
        }
        return { name: name ?? '', topicId: topic.topicId, partitionResponses };
      }),
    );
    if (acks === 0) {
      // Kafka sends nothing for acks=0, but closes the connection when any partition failed,
      // so the producer notices (a stale topic id, a moved leader) and refreshes its metadata.
      const failed = responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== ErrorCode.NONE));
      if (!failed) return NO_RESPONSE;
      broker.logger.debug('acks=0 produce failed, closing the connection', { remote: ctx.connection.remote });
      return CLOSE_CONNECTION;
    }
    const nodeEndpoints = [...endpoints.values()].map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    }));
    return { responses, throttleTimeMs: 0, nodeEndpoints };
  },
  errorResponse(request, errorCode) {
    return {
      responses: (request?.topicData ?? []).map((topic) => ({
        name: topic.name,
        topicId: topic.topicId,
        partitionResponses: topic.partitionData.map((data) => partitionResponse(data.index, errorCode)),
      })),
      throttleTimeMs: 0,
    };
  },
};
