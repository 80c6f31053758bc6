// The bundled producer. Records are batched per partition (linger.ms, batch.size),
// compressed per batch, and sent to each partition's leader in one Produce request per
// broker. Idempotence is on by default: the producer gets a producer id and epoch
// (InitProducerId) and numbers every batch per partition, and a batch that is retried is
// sent again byte for byte with the same sequence, so the broker stores it once. Up to
// max.in.flight (5, as idempotence allows) batches of a partition are out at once, on the
// leader's one connection, in order. When one fails with a retriable error, the partition
// stops sending, takes back that batch and every later one still out (the broker refuses
// those as out of sequence), and sends them again in order once the back-off and a
// metadata refresh are done; a batch the broker refuses for good leaves a sequence gap,
// so the later batches are numbered again from it. Retries end at delivery.timeout.ms;
// buffer.memory bounds the bytes waiting to be sent, and send() waits for room up to
// max.block.ms, then fails.
//
// A record is written into its partition's open batch when send() takes it (a
// RecordBatchBuilder over one buffer of batch.size, Kafka's MemoryRecordsBuilder idea), so
// it is copied once and nothing of it is kept but its promise; the sent batch is that
// buffer with the header filled in, and the buffer is reused for a later batch once the
// broker has answered.

import { Compression, compressionByName } from '../../protocol/compression';
import { ErrorCode } from '../../protocol/errors';
import {
  fieldLength,
  headerKeyLength,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  RecordField,
  setProducerFields,
} from '../../protocol/record-batch';
import { BrokerConnection, ClientOptions, Cluster, isRetriableError, KafkaError, TopicMetadata } from './cluster';
import { DefaultPartitioner } from './partitioner';
import { ApiKey } from '../../protocol/api-keys';
import type { Response } from '../../protocol/apis';

/** The newest Produce version this producer speaks: v13 names topics by id, which it does not track. */
const PRODUCE_VERSION_MAX = 12;

export interface ProducerOptions extends ClientOptions {
  /** 0, 1 or 'all' (-1). Default 'all'. */
  acks?: 0 | 1 | -1 | 'all';
  /** How long a batch waits for more records (default 5 ms). */
  lingerMs?: number;
  /** Bytes of records per partition batch before it is sent at once (default 16384). */
  batchSize?: number;
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * No batch is written twice by a retry. Default: on with acks=all, off with acks 0 or 1
   * (as Kafka's producer turns it off when acks is not all and it was not asked for);
   * asking for it with acks 0 or 1 is an error.
   */
  idempotent?: boolean;
  /** Bytes of records waiting to be sent, across partitions (default 32 MiB). */
  bufferMemory?: number;
  /** How long send() waits for buffer room or metadata before failing (default 60 s). */
  maxBlockMs?: number;
  /** Upper bound on the time from send() to success or failure (default 120 s). */
  deliveryTimeoutMs?: number;
  retryBackoffMs?: number;
  /** Produce request timeout at the broker for acks=all (default 30 s). */
  produceTimeoutMs?: number;
  /** Batches of one partition out at once (default 5, at most 5 with idempotence). */
  maxInFlight?: number;
}

export interface ProducerRecord {
  topic: string;
  value: Buffer | string | null;
  key?: Buffer | string | null;
  headers?: Record<string, Buffer | string> | { key: string; value: Buffer | string | null }[];
  partition?: number;
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0. */
  offset: number;
  timestamp: number;
}

/** send() could not get buffer room within max.block.ms. */
export class BufferExhaustedError extends Error {
  override name = 'BufferExhaustedError';
}

interface Batch {
  /** Creation order within the producer: the order batches of a partition must keep. */
  id: number;
  topic: string;
  partition: number;
  /** The records, written as they were sent. */
  builder: RecordBatchBuilder;
  /** Per record, in offset order: how its send() promise is settled, and its timestamp. */
  resolvers: ((metadata: RecordMetadata) => void)[];
  rejecters: ((error: Error) => void)[];
  timestamps: number[];
  /** Every record was sent without a key and without a partition (sticky partitioning). */
  keyless: boolean;
  /** What the records count against batch.size and buffer.memory. */
  bytes: number;
  createdMs: number;
  /** The bytes to send, made at the first send; retries send these same bytes. */
  encoded: Buffer | null;
  /** The first bytes made: a renumbered batch is a copy of them with new producer fields. */
  built: Buffer | null;
  baseSequence: number;
  attempts: number;
}

interface PartitionQueue {
  open: Batch | null;
  /** Sealed batches not sent yet (or taken back for a retry), in creation order. */
  ready: Batch[];
  /** Sent and awaiting their answer, in send order. */
  inFlight: Batch[];
  /** Set while a retry is pending: nothing of this partition is sent until then. */
  held: boolean;
  nextSequence: number;
  lingerTimer: NodeJS.Timeout | null;
}

/** What a record counts beyond its key, value and headers (an upper bound of its framing). */
const RECORD_OVERHEAD_BYTES = 24;
/** Batch buffers kept for reuse, in bytes at most. */
const POOLED_BYTES_MAX = 16 * 1024 * 1024;

type HeaderList = { key: string; value: RecordField }[];

function headerList(headers: ProducerRecord['headers']): HeaderList | null {
  if (headers === undefined || headers === null) return null;
  const list = Array.isArray(headers) ? headers : Object.entries(headers).map(([key, value]) => ({ key, value }));
  return list.length === 0 ? null : list;
}

/** What a record counts against batch.size and buffer.memory; throws on a field of a wrong type. */
function recordBytes(keyLength: number, valueLength: number, headers: HeaderList | null): number {
  let bytes = RECORD_OVERHEAD_BYTES + Math.max(0, keyLength) + Math.max(0, valueLength);
  if (headers) {
    for (const h of headers) bytes += headerKeyLength(h.key) + Math.max(0, fieldLength(h.value, 'header value'));
  }
  return bytes;
}

/** A key in the bytes the partitioner hashes (murmur2 over its UTF-8 for text). */
function keyBytes(key: RecordField | undefined): Buffer | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}

/** A record that send() checked: lengths worked out once, and what it counts. */
interface Checked {
  keyLength: number;
  valueLength: number;
  headers: HeaderList | null;
  bytes: number;
}

// How append() takes a new promise's resolving functions without a closure per record.
let takenResolve: (metadata: RecordMetadata) => void = () => undefined;
let takenReject: (error: Error) => void = () => undefined;
function takeResolvers(resolve: (metadata: RecordMetadata) => void, reject: (error: Error) => void): void {
  takenResolve = resolve;
  takenReject = reject;
}

export class Producer {
  readonly cluster: Cluster;
  private readonly partitioner = new DefaultPartitioner();
  /** Every partition queue, and the same by topic and partition. */
  private readonly queues: PartitionQueue[] = [];
  private readonly queuesByTopic = new Map<string, PartitionQueue[]>();
  /** Buffers of answered batches, for new batches (see reuse()). */
  private readonly freeBuffers: Buffer[] = [];
  private readonly acks: number;
  private readonly compression: Compression;
  private bufferedBytes = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private producerId = -1;
  private producerEpoch = -1;
  private idInit: Promise<void> | null = null;
  private draining = false;
  private nextBatchId = 0;
  private readonly writeOrder = new Map<number, Promise<void>>();
  private drainAgain = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly options: ProducerOptions) {
    this.cluster = new Cluster(options);
    this.acks = options.acks === 'all' || options.acks === undefined ? -1 : options.acks;
    if (![0, 1, -1].includes(this.acks)) throw new Error(`acks must be 0, 1 or 'all', got ${String(options.acks)}`);
    const compression = compressionByName(options.compression ?? 'none');
    if (compression === undefined)
      throw new Error(`unknown compression "${options.compression}" (none, gzip, snappy, lz4, zstd)`);
    this.compression = compression;
    if (options.idempotent === true && this.acks !== -1)
      throw new Error('an idempotent producer needs acks=all (leave idempotent unset, or false, for acks 0 or 1)');
  }

  private get idempotent(): boolean {
    return this.options.idempotent ?? this.acks === -1;
  }

  private get maxInFlight(): number {
    const wanted = this.options.maxInFlight ?? 5;
    return Math.max(1, this.idempotent ? Math.min(5, wanted) : wanted);
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 16384;
  }

  /** Fetches the cluster metadata (and a producer id when idempotent). */
  async connect(): Promise<void> {
    await this.cluster.refreshMetadata(null);
    if (this.idempotent) await this.ensureProducerId();
  }

  private ensureProducerId(): Promise<void> {
    this.idInit ??= (async () => {
      const deadline = Date.now() + (this.options.maxBlockMs ?? 60_000);
      for (;;) {
        try {
          const broker = await this.cluster.anyBroker();
          const answer = await broker.request(ApiKey.InitProducerId, {
            transactionalId: null,
            transactionTimeoutMs: -1,
            producerId: -1,
            producerEpoch: -1,
          });
          if (answer.errorCode === ErrorCode.NONE) {
            this.producerId = Number(answer.producerId);
            this.producerEpoch = answer.producerEpoch;
            return;
          }
          if (!isRetriableError(new KafkaError(answer.errorCode, 'InitProducerId')) || Date.now() > deadline)
            throw new KafkaError(answer.errorCode, 'InitProducerId');
        } catch (error) {
          if (Date.now() > deadline || (error instanceof KafkaError && !error.retriable)) {
            this.idInit = null;
            throw error;
          }
        }
        await new Promise((r) => setTimeout(r, this.options.retryBackoffMs ?? 100));
      }
    })();
    return this.idInit;
  }

  /** Queues one record; resolves once the broker has it (as acks asks), with its offset. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    let keyLength: number;
    let valueLength: number;
    let headers: HeaderList | null;
    let bytes: number;
    try {
      keyLength = fieldLength(record.key, 'key');
      valueLength = fieldLength(record.value);
      headers = headerList(record.headers);
      bytes = recordBytes(keyLength, valueLength, headers);
      if (record.timestamp !== undefined && !Number.isSafeInteger(record.timestamp))
        throw new TypeError(`a record timestamp must be an integer of milliseconds, got ${String(record.timestamp)}`);
    } catch (error) {
      return Promise.reject(error);
    }
    // The common case takes no await: producer id known, topic cached, buffer room left.
    const topic = this.cluster.topics.get(record.topic);
    if (
      !this.closed &&
      topic !== undefined &&
      (this.producerId >= 0 || !this.idempotent) &&
      this.bufferedBytes + bytes <= this.bufferMemory
    ) {
      const partitions = topic.partitions.length;
      const partition =
        record.partition ??
        this.partitioner.partition(record.topic, keyBytes(record.key), partitions, this.available(topic));
      if (partition >= 0 && partition < partitions) {
        this.bufferedBytes += bytes;
        return this.append(record, partition, keyLength, valueLength, headers, bytes, topic);
      }
    }
    return this.sendSlowly(record, { keyLength, valueLength, headers, bytes });
  }

  private get bufferMemory(): number {
    return this.options.bufferMemory ?? 32 * 1024 * 1024;
  }

  /** Partitions with a leader, cached per metadata object. */
  private available(topic: { partitions: { partition: number; leader: number }[] }): number[] {
    let list = this.availableCache.get(topic);
    if (!list)
      this.availableCache.set(topic, (list = topic.partitions.filter((p) => p.leader >= 0).map((p) => p.partition)));
    return list;
  }

  private readonly availableCache = new WeakMap<object, number[]>();

  /** send() when it must wait: for metadata, a producer id or buffer room. */
  private async sendSlowly(record: ProducerRecord, checked: Checked): Promise<RecordMetadata> {
    if (this.closed) throw new Error('producer closed');
    const { bytes } = checked;
    const maxBlockMs = this.options.maxBlockMs ?? 60_000;
    const bufferMemory = this.bufferMemory;
    if (bytes > bufferMemory)
      throw new BufferExhaustedError(`a record of ${bytes} bytes is larger than buffer.memory (${bufferMemory} bytes)`);
    const blockedUntil = Date.now() + maxBlockMs;
    while (this.bufferedBytes + bytes > bufferMemory) {
      const left = blockedUntil - Date.now();
      if (left <= 0)
        throw new BufferExhaustedError(
          `buffer.memory (${bufferMemory} bytes) stayed full for max.block.ms (${maxBlockMs} ms): the brokers take records more slowly than they are sent`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.bufferedBytes += bytes;
    let topic: TopicMetadata;
    let partition: number;
    try {
      if (this.idempotent) await this.ensureProducerId();
      topic = await this.waitForTopic(record.topic, blockedUntil, maxBlockMs);
      partition =
        record.partition ??
        this.partitioner.partition(record.topic, keyBytes(record.key), topic.partitions.length, this.available(topic));
      if (partition < 0 || partition >= topic.partitions.length)
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${record.topic}-${partition}`);
    } catch (error) {
      this.release(bytes);
      throw error;
    }
    const { keyLength, valueLength, headers } = checked;
    return this.append(record, partition, keyLength, valueLength, headers, bytes, topic);
  }

  /**
   * The topic's metadata, asked for again (with back-off) while the answer is a retriable
   * error, such as a topic just created that the node asked has not learnt yet, until
   * max.block.ms: Kafka's producer waits for metadata the same way. Concurrent sends to
   * one topic share the wait.
   */
  private waitForTopic(name: string, deadline: number, maxBlockMs: number): Promise<TopicMetadata> {
    let wait = this.topicWaits.get(name);
    if (wait) return wait;
    wait = (async () => {
      let backoff = 50;
      for (;;) {
        try {
          return await this.cluster.topic(name, true);
        } catch (error) {
          if (!(error instanceof KafkaError) || !error.retriable || this.closed) throw error;
          if (Date.now() >= deadline)
            throw new KafkaError(
              error.code,
              `topic ${name} not present in metadata after ${maxBlockMs} ms (max.block.ms)`,
            );
        }
        await new Promise((r) => setTimeout(r, Math.max(1, Math.min(backoff, deadline - Date.now()))));
        backoff = Math.min(1000, backoff * 2);
      }
    })().finally(() => this.topicWaits.delete(name));
    this.topicWaits.set(name, wait);
    return wait;
  }

  private readonly topicWaits = new Map<string, Promise<TopicMetadata>>();

  private release(bytes: number): void {
    this.bufferedBytes -= bytes;
    const waiters = this.roomWaiters.splice(0);
    for (const wake of waiters) wake();
  }

  private queue(topic: string, partition: number): PartitionQueue {
    let list = this.queuesByTopic.get(topic);
    if (!list) this.queuesByTopic.set(topic, (list = []));
    let queue = list[partition];
    if (!queue) {
      list[partition] = queue = {
        open: null,
        ready: [],
        inFlight: [],
        held: false,
        nextSequence: 0,
        lingerTimer: null,
      };
      this.queues.push(queue);
    }
    return queue;
  }

  /** Writes the record into its partition's open batch; the promise settles with the batch. */
  private append(
    record: ProducerRecord,
    partition: number,
    keyLength: number,
    valueLength: number,
    headers: HeaderList | null,
    bytes: number,
    topic: TopicMetadata,
  ): Promise<RecordMetadata> {
    const queue = this.queue(record.topic, partition);
    const sticky = record.partition === undefined && (record.key === null || record.key === undefined);
    let batch = queue.open;
    if (batch !== null && batch.bytes + bytes > this.batchSize) {
      this.seal(queue, sticky, topic);
      batch = null;
    }
    if (batch === null) batch = queue.open = this.newBatch(record.topic, partition, bytes);
    const timestamp = record.timestamp ?? Date.now();
    batch.builder.append(timestamp, record.key, keyLength, record.value, valueLength, headers);
    batch.bytes += bytes;
    batch.timestamps.push(timestamp);
    if (!sticky) batch.keyless = false;
    const settled = new Promise<RecordMetadata>(takeResolvers);
    batch.resolvers.push(takenResolve);
    batch.rejecters.push(takenReject);
    if (batch.bytes >= this.batchSize) this.seal(queue, sticky, topic);
    else if (queue.lingerTimer === null) {
      queue.lingerTimer = setTimeout(() => {
        queue.lingerTimer = null;
        this.seal(queue, false, topic);
      }, this.options.lingerMs ?? 5);
    }
    return settled;
  }

  private newBatch(topic: string, partition: number, firstRecordBytes: number): Batch {
    const pooled = firstRecordBytes <= this.batchSize ? this.freeBuffers.pop() : undefined;
    const builder = new RecordBatchBuilder(
      pooled ?? RECORD_BATCH_OVERHEAD + Math.max(this.batchSize, firstRecordBytes),
    );
    return {
      id: this.nextBatchId++,
      topic,
      partition,
      builder,
      resolvers: [],
      rejecters: [],
      timestamps: [],
      keyless: true,
      bytes: 0,
      createdMs: Date.now(),
      encoded: null,
      built: null,
      baseSequence: -1,
      attempts: 0,
    };
  }

  /** Keeps a finished batch's buffer for a later batch, when it is of the usual size. */
  private reuse(batch: Batch): void {
    const buffer = batch.builder.buffer;
    if (
      buffer.length !== RECORD_BATCH_OVERHEAD + this.batchSize ||
      (this.freeBuffers.length + 1) * buffer.length > POOLED_BYTES_MAX
    )
      return;
    this.freeBuffers.push(buffer);
  }

  /**
   * Closes the open batch of a partition and lets the sender take it. `topic`: its metadata,
   * for the sticky partitioner's next pick (null from flush(): the pick stays).
   */
  private seal(queue: PartitionQueue, sticky: boolean, topic: TopicMetadata | null): void {
    if (queue.lingerTimer) clearTimeout(queue.lingerTimer);
    queue.lingerTimer = null;
    const batch = queue.open;
    if (!batch || batch.builder.count === 0) return;
    queue.open = null;
    queue.ready.push(batch);
    if (sticky || batch.keyless) {
      if (topic)
        this.partitioner.onNewBatch(batch.topic, batch.partition, topic.partitions.length, this.available(topic));
      else this.partitioner.onNewBatch(batch.topic, batch.partition, 0, []);
    }
    void this.drain();
  }

  /** Sends every ready batch whose partition has none in flight, grouped by leader. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        // One request per leader per pass, with at most one batch per partition (Produce
        // takes one record set per partition); further passes send the next ones.
        for (;;) {
          const byLeader = new Map<number, { queue: PartitionQueue; batch: Batch }[]>();
          for (const queue of this.queues) {
            if (queue.held || queue.ready.length === 0 || queue.inFlight.length >= this.maxInFlight) continue;
            const batch = queue.ready[0];
            const topic = this.cluster.topics.get(batch.topic);
            const leader = topic?.partitions[batch.partition]?.leader ?? -1;
            if (leader < 0) {
              this.retryLater(
                queue,
                batch,
                new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${batch.topic}-${batch.partition}`),
              );
              continue;
            }
            queue.ready.shift();
            queue.inFlight.push(batch);
            this.number(queue, batch);
            if (!byLeader.has(leader)) byLeader.set(leader, []);
            byLeader.get(leader)!.push({ queue, batch });
          }
          if (byLeader.size === 0) break;
          for (const [leader, items] of byLeader) {
            // Requests to one leader are written in the order they were made here, so that a
            // partition's batches reach the broker in sequence (encoding may finish out of order).
            const previous = this.writeOrder.get(leader) ?? Promise.resolve();
            let written!: () => void;
            const mine = new Promise<void>((resolve) => (written = resolve));
            this.writeOrder.set(leader, mine);
            void this.sendTo(leader, items, previous, written);
          }
        }
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  /** Numbers a batch when it is first sent (in send order, so sequences follow it). */
  private number(queue: PartitionQueue, batch: Batch): void {
    if (!this.idempotent || batch.baseSequence >= 0) return;
    batch.baseSequence = queue.nextSequence;
    queue.nextSequence = (queue.nextSequence + batch.builder.count) & 0x7fffffff;
  }

  private async encode(batch: Batch): Promise<Buffer> {
    if (batch.encoded) return batch.encoded;
    const fields = {
      producerId: this.idempotent ? this.producerId : -1,
      producerEpoch: this.idempotent ? this.producerEpoch : -1,
      baseSequence: this.idempotent ? batch.baseSequence : -1,
    };
    if (batch.built) {
      // Renumbered after a failure: a copy, since the first bytes may still be queued on a socket.
      const copy = Buffer.from(batch.built);
      setProducerFields(copy, fields);
      batch.encoded = copy;
    } else {
      batch.encoded = batch.built = await batch.builder.buildCompressed(this.compression, fields);
    }
    return batch.encoded;
  }

  private async sendTo(
    leader: number,
    items: { queue: PartitionQueue; batch: Batch }[],
    previous: Promise<void>,
    written: () => void,
  ): Promise<void> {
    let broker: BrokerConnection;
    let encoded: Buffer[];
    try {
      broker = await this.cluster.broker(leader);
      encoded = await Promise.all(items.map(({ batch }) => this.encode(batch)));
      await previous;
    } catch (error) {
      written();
      for (const { queue, batch } of items) this.retryLater(queue, batch, error as Error);
      return;
    }
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    items.forEach(({ batch }, i) => {
      if (!topics.has(batch.topic)) topics.set(batch.topic, []);
      topics.get(batch.topic)!.push({ index: batch.partition, records: encoded[i] });
    });
    const body = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.options.produceTimeoutMs ?? 30_000,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    for (const { batch } of items) batch.attempts++;
    let answer: Response<typeof ApiKey.Produce> | undefined;
    try {
      // request() writes the frame before its first await: the write order is kept.
      const response = broker.request(ApiKey.Produce, body, {
        cap: PRODUCE_VERSION_MAX,
        expectResponse: this.acks !== 0,
      });
      written();
      answer = await response;
    } catch (error) {
      written();
      this.cluster.drop(leader);
      for (const { queue, batch } of items) this.retryLater(queue, batch, error as Error);
      return;
    }
    // With acks 0 nothing is read back: the answer is undefined.
    if (answer === undefined) {
      for (const { queue, batch } of items) this.complete(queue, batch, -1, -1);
      return;
    }
    for (const { queue, batch } of items) {
      const t = answer.responses.find((r) => r.name === batch.topic);
      const p = t?.partitionResponses.find((r) => r.index === batch.partition);
      const code = p ? p.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
      if (p && (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER)) {
        this.complete(queue, batch, Number(p.baseOffset), Number(p.logAppendTimeMs ?? -1));
        continue;
      }
      const error = new KafkaError(
        code,
        `produce to ${batch.topic}-${batch.partition}${p?.errorMessage ? ` (${p.errorMessage})` : ''}`,
      );
      // Out of sequence: an earlier batch of this partition failed or is being retried.
      if (error.retriable || (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && this.idempotent))
        this.retryLater(queue, batch, error, true);
      else this.fail(queue, batch, error);
    }
  }

  private takeOut(queue: PartitionQueue, batch: Batch): void {
    const at = queue.inFlight.indexOf(batch);
    if (at >= 0) queue.inFlight.splice(at, 1);
    const waiting = queue.ready.indexOf(batch);
    if (waiting >= 0) queue.ready.splice(waiting, 1);
  }

  private complete(queue: PartitionQueue, batch: Batch, baseOffset: number, logAppendTimeMs: number): void {
    this.takeOut(queue, batch);
    const { topic, partition, resolvers, timestamps } = batch;
    for (let i = 0; i < resolvers.length; i++) {
      resolvers[i]({
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTimeMs >= 0 ? logAppendTimeMs : timestamps[i],
      });
    }
    // Answered after one send: nothing else holds its bytes (with acks=0 a socket may still).
    if (this.acks !== 0 && batch.attempts === 1) this.reuse(batch);
    this.release(batch.bytes);
    this.afterBatch();
  }

  private fail(queue: PartitionQueue, batch: Batch, error: Error): void {
    this.takeOut(queue, batch);
    if (this.idempotent && batch.baseSequence >= 0) {
      // The broker did not store it: its sequence numbers are free again, and every later
      // batch not yet stored is numbered again from there.
      const later = [...queue.inFlight, ...queue.ready].filter((b) => b.id > batch.id);
      if (later.every((b) => b.encoded === null || b.baseSequence > batch.baseSequence)) {
        queue.nextSequence = batch.baseSequence;
        for (const b of later.sort((x, y) => x.id - y.id)) {
          b.encoded = null;
          b.baseSequence = -1;
        }
      }
    }
    for (const reject of batch.rejecters) reject(error);
    this.release(batch.bytes);
    this.afterBatch();
  }

  /**
   * A retriable failure: the batch goes back to the front of its partition's queue (in
   * creation order), the partition holds its sends, and after a back-off and a metadata
   * refresh it sends again from there. Past delivery.timeout.ms the batch fails.
   */
  private retryLater(queue: PartitionQueue, batch: Batch, error: Error, forceRetriable = false): void {
    const deliveryTimeoutMs = this.options.deliveryTimeoutMs ?? 120_000;
    if (
      (!forceRetriable && !isRetriableError(error)) ||
      Date.now() - batch.createdMs > deliveryTimeoutMs ||
      this.closed
    ) {
      this.fail(queue, batch, error);
      return;
    }
    this.takeOut(queue, batch);
    queue.ready.push(batch);
    queue.ready.sort((a, b) => a.id - b.id);
    if (queue.held) return;
    queue.held = true;
    const backoff = Math.min(1000, (this.options.retryBackoffMs ?? 100) * 2 ** Math.min(4, batch.attempts));
    setTimeout(() => {
      void this.cluster
        .refreshMetadata([batch.topic])
        // The retry goes to the leader the cache knows; a failed refresh is tried again on the next retry.
        .catch((error) => this.cluster.report(`metadata refresh before retrying ${batch.topic}`, error))
        .then(async () => {
          // Wait for the answers of what is still out, so they come back first.
          const deadline = Date.now() + 30_000;
          while (queue.inFlight.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
          queue.held = false;
          void this.drain();
        });
    }, backoff);
  }

  private afterBatch(): void {
    void this.drain();
    if (this.pendingCount() === 0) for (const wake of this.idle.splice(0)) wake();
  }

  private pendingCount(): number {
    let n = 0;
    for (const queue of this.queues) n += queue.ready.length + queue.inFlight.length + (queue.open ? 1 : 0);
    return n;
  }

  /** Sends every queued record now and resolves when all have an answer. */
  async flush(): Promise<void> {
    for (const queue of this.queues) if (queue.open) this.seal(queue, false, null);
    if (this.pendingCount() === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.cluster.close();
  }
}
