// Brook in the peer benchmark: one node (RF1 rows) or a three-node cluster (RF3 rows)
// started from scripts/brook.js on free ports with data under the bench's temporary
// directory; a fresh one-partition topic per sample, produced to with pre-encoded Produce
// frames (the approach of bench/lib/load.ts: each in-flight slot owns its frame and
// correlation id, so nothing is encoded while the clock runs), then the topic deleted.
// Also kcat (librdkafka) as a second, independent client, timed over a file of records,
// and the bundled client (src/client): its Producer for the bundled rows, its Consumer to
// read a sample's topic back from the start for the consumer rows.

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode, errorName, isRetriable } from '../../protocol/errors';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { runBundledProducers } from '../lib/bundled-produce';
import { BrokerCluster, BrokerNode } from '../lib/cluster';
import { EndToEndOutcome, EndToEndRun, EndToEndWorkload } from './end-to-end';
import { until } from '../lib/process';
import {
  ConsumeOutcome,
  countError,
  newHistogram,
  ProduceOutcome,
  ProduceWorkload,
  READ_BACK_DEADLINE_MS,
  READ_BACK_REQUEST_BYTES,
  runProducers,
} from './workload';

const PRODUCE_VERSION = 7;
const METADATA_VERSION = 9;
/** The end-to-end producer's largest batch (records due at once are split above this). */
const END_TO_END_BATCH_BYTES_MAX = 256 * 1024;
const PRODUCE_TIMEOUT_MS = 30_000;
const READY_DEADLINE_MS = 40_000;
const SETTLE_DEADLINE_MS = 60_000;
const ADMIN_RETRY_DEADLINE_MS = 60_000;
const ADMIN_RETRY_BACKOFF_MS = 250;
const KCAT_DEADLINE_MS = 300_000;
const FETCH_VERSION = 11;
const FETCH_MAX_WAIT_MS = 100;
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

type BrookNode = BrokerNode;

export interface BrookBatching {
  /** Bytes of record values per batch (one batch per Produce request). */
  batchBytes: number;
  inflightPerConnection: number;
}

/** The bundled producer's records outstanding per producer (send() promises not yet settled), in bytes. */
const BUNDLED_OUTSTANDING_BYTES = 8 * 1024 * 1024;

export class Brook {
  private admins = new Map<number, KafkaConnection>();
  private topics = 0;
  /** Admin requests answered with a retriable error (NOT_CONTROLLER after a controller change, say) and sent again. */
  readonly adminRetries: Record<string, number> = {};

  private constructor(private readonly cluster: BrokerCluster) {}

  static async start(base: string, count: 1 | 3): Promise<Brook> {
    const dir = path.join(base, `brook-${count}`);
    const cluster = await BrokerCluster.start({
      dir,
      nodes: count,
      logLevel: 'info',
      cwd: dir,
      readyDeadlineMs: READY_DEADLINE_MS,
      readyPollMs: 100,
      readyInOrder: true,
    });
    await cluster.waitRegistered(SETTLE_DEADLINE_MS, 100);
    return new Brook(cluster);
  }

  get nodes(): BrookNode[] {
    return this.cluster.nodes;
  }

  get pids(): (number | undefined)[] {
    return this.cluster.pids;
  }

  private async admin(node: BrookNode): Promise<KafkaConnection> {
    const existing = this.admins.get(node.id);
    if (existing?.isOpen) return existing;
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: node.port,
      requestTimeoutMs: 15_000,
      connectTimeoutMs: 1000,
      clientId: 'bench-peers',
    });
    await connection.connect();
    this.admins.set(node.id, connection);
    return connection;
  }

  private dropAdmin(node: BrookNode): void {
    this.admins.get(node.id)?.close();
    this.admins.delete(node.id);
  }

  private async metadata(node: BrookNode, topics: string[]): Promise<any | null> {
    try {
      return await (
        await this.admin(node)
      ).request(3, METADATA_VERSION, {
        topics: topics.map((name) => ({ name })),
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
    } catch {
      this.dropAdmin(node);
      return null;
    }
  }

  /**
   * Creates a one-partition topic and waits until every node names the same leader with a
   * full ISR; the leader's node.
   */
  async createTopic(name: string, replicationFactor: number): Promise<BrookNode> {
    const configs = replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: '2' }] : [];
    await this.adminWithRetries(`CreateTopics ${name}`, ErrorCode.TOPIC_ALREADY_EXISTS, async (node) => {
      const response = await (
        await this.admin(node)
      ).request(19, 4, {
        topics: [{ name, numPartitions: 1, replicationFactor, assignments: [], configs }],
        timeoutMs: 10_000,
        validateOnly: false,
      });
      return { errorCode: response.topics[0].errorCode, message: response.topics[0].errorMessage ?? '' };
    });
    const leaderId = await until(
      `${name}: one leader and a full ISR on every node`,
      SETTLE_DEADLINE_MS,
      async () => {
        const views = await Promise.all(this.nodes.map((n) => this.metadata(n, [name])));
        const partitions = views.map((v) => (v?.topics[0]?.errorCode === 0 ? v.topics[0].partitions[0] : null));
        const first = partitions[0];
        if (!first || first.leaderId <= 0 || first.isrNodes.length !== replicationFactor) return null;
        return partitions.every((p) => p && p.leaderId === first.leaderId && p.isrNodes.length === replicationFactor)
          ? (first.leaderId as number)
          : null;
      },
      50,
    );
    return this.nodes.find((n) => n.id === leaderId)!;
  }

  async deleteTopic(name: string): Promise<void> {
    await this.adminWithRetries(`DeleteTopics ${name}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, async (node) => {
      const response = await (await this.admin(node)).request(20, 4, { topicNames: [name], timeoutMs: 10_000 });
      return { errorCode: response.responses[0].errorCode, message: '' };
    });
  }

  /**
   * Sends an admin request until it succeeds, as a Kafka admin client does: retriable
   * errors and lost connections are retried (within a bound) at the next node, and
   * `doneOnRetry` (the topic already exists, or is already gone) counts as success once
   * an earlier attempt may have gone through.
   */
  private async adminWithRetries(
    what: string,
    doneOnRetry: number,
    send: (node: BrookNode) => Promise<{ errorCode: number; message: string }>,
  ): Promise<void> {
    let attempt = 0;
    await until(
      what,
      ADMIN_RETRY_DEADLINE_MS,
      async () => {
        const node = this.nodes[attempt % this.nodes.length];
        let errorCode: number;
        let message = '';
        try {
          ({ errorCode, message } = await send(node));
        } catch (error) {
          this.dropAdmin(node);
          errorCode = -1;
          message = (error as Error).message;
        }
        if (errorCode === 0 || (attempt > 0 && errorCode === doneOnRetry)) return true;
        if (errorCode !== -1 && !isRetriable(errorCode)) throw new Error(`${what}: ${errorName(errorCode)} ${message}`);
        const reason = errorCode === -1 ? message : errorName(errorCode);
        this.adminRetries[reason] = (this.adminRetries[reason] ?? 0) + 1;
        attempt++;
        return null;
      },
      ADMIN_RETRY_BACKOFF_MS,
    );
  }

  /** One sample: a fresh topic, `producers` connections to its leader, then the topic deleted. */
  async produce(
    workload: ProduceWorkload,
    replicationFactor: number,
    acks: number,
    batching: BrookBatching,
    readBack = false,
  ): Promise<ProduceOutcome & { leader: number; consumed?: ConsumeOutcome }> {
    const topic = `bench${++this.topics}`;
    const leader = await this.createTopic(topic, replicationFactor);
    const recordsPerBatch = Math.max(1, Math.floor(batching.batchBytes / workload.recordBytes));
    const value = Buffer.alloc(workload.recordBytes, 0x61);
    const batch = encodeRecordBatchSync({
      records: Array.from({ length: recordsPerBatch }, () => ({ value, timestamp: Date.now() })),
    });
    const producers: { connection: KafkaConnection; slots: { frame: Buffer; correlationId: number }[] }[] = [];
    try {
      for (let p = 0; p < workload.producers; p++) {
        const connection = new KafkaConnection({
          host: '127.0.0.1',
          port: leader.port,
          requestTimeoutMs: PRODUCE_TIMEOUT_MS + 10_000,
          clientId: 'bench-peers',
        });
        await connection.connect();
        const slots = Array.from({ length: batching.inflightPerConnection }, (_, s) => {
          const correlationId = 1000 + s;
          const body = {
            transactionalId: null,
            acks,
            timeoutMs: PRODUCE_TIMEOUT_MS,
            topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
          };
          return {
            frame: encodeRequestFrame(
              { apiKey: 0, apiVersion: PRODUCE_VERSION, correlationId, clientId: 'bench' },
              requestCodec(0, PRODUCE_VERSION),
              body,
            ),
            correlationId,
          };
        });
        producers.push({ connection, slots });
      }
      const outcome = await runProducers(workload, async (index, deadlineMs, histogram, errors) => {
        const { connection, slots } = producers[index];
        let records = 0;
        await Promise.all(
          slots.map(async (slot) => {
            while (performance.now() < deadlineMs) {
              const sentMs = performance.now();
              let reader;
              try {
                reader = await connection.sendFrame(slot.frame, slot.correlationId);
              } catch (error) {
                countError(errors, (error as Error).message, recordsPerBatch);
                return;
              }
              histogram.recordValue(Math.max(1, Math.round((performance.now() - sentMs) * 1000)));
              decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
              const errorCode: number = responseCodec(0, PRODUCE_VERSION).decode(reader).responses[0]
                .partitionResponses[0].errorCode;
              if (errorCode === 0) records += recordsPerBatch;
              else countError(errors, errorName(errorCode), recordsPerBatch);
            }
          }),
        );
        return records;
      });
      const consumed = readBack ? await this.readBack(leader, topic, outcome.records, workload.recordBytes) : undefined;
      return { ...outcome, leader: leader.id, consumed };
    } finally {
      for (const { connection } of producers) connection.close();
      await this.deleteTopic(topic);
    }
  }

  /**
   * One sample with the bundled client: a fresh topic, `producers` Producer instances
   * (each its own connection to the leader, linger.ms 5, batch.size `batchBytes`), each
   * sending record by record through send() with up to 8 MiB of records outstanding;
   * latency is that of every 8th send() to its acknowledgement.
   */
  async produceBundled(
    workload: ProduceWorkload,
    replicationFactor: number,
    acks: 1 | -1,
    batchBytes: number,
    readBack = false,
  ): Promise<ProduceOutcome & { leader: number; consumed?: ConsumeOutcome }> {
    const topic = `bench${++this.topics}`;
    const leader = await this.createTopic(topic, replicationFactor);
    const producers = Array.from(
      { length: workload.producers },
      () =>
        new Producer({
          bootstrap: [`127.0.0.1:${leader.port}`],
          clientId: 'bench-peers',
          acks: acks === -1 ? 'all' : 1,
          lingerMs: 5,
          batchSize: batchBytes,
          bufferMemory: 4 * BUNDLED_OUTSTANDING_BYTES,
          produceTimeoutMs: PRODUCE_TIMEOUT_MS,
        }),
    );
    try {
      await Promise.all(producers.map((p) => p.connect()));
      const result = await runBundledProducers({
        producers,
        topic,
        recordBytes: workload.recordBytes,
        durationMs: workload.durationMs,
        outstandingPerProducer: Math.max(64, Math.floor(BUNDLED_OUTSTANDING_BYTES / workload.recordBytes)),
        partitions: 1,
        latencySampleEvery: 8,
      });
      const errors: Record<string, number> = {};
      if (result.errors > 0) countError(errors, result.firstError ?? 'send failed', result.errors);
      const consumed = readBack ? await this.readBack(leader, topic, result.records, workload.recordBytes) : undefined;
      return {
        records: result.records,
        seconds: result.seconds,
        errors,
        histogram: result.histogram,
        leader: leader.id,
        consumed,
      };
    } finally {
      await Promise.all(producers.map((p) => p.close().catch(() => undefined)));
      await this.deleteTopic(topic);
    }
  }

  /** The bundled Consumer reads the topic's one partition from offset 0 until it holds every record. */
  private async readBack(
    leader: BrookNode,
    topic: string,
    expected: number,
    recordBytes: number,
  ): Promise<ConsumeOutcome> {
    if (expected === 0) return { records: 0, expected, seconds: 0 };
    const consumer = new Consumer({
      bootstrap: [`127.0.0.1:${leader.port}`],
      clientId: 'bench-peers',
      maxWaitMs: FETCH_MAX_WAIT_MS,
      maxPartitionBytes: Math.max(READ_BACK_REQUEST_BYTES, recordBytes * 4),
    });
    consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const startedMs = performance.now();
    // next() answers null once the consumer is closed: the deadline closes it.
    const deadline = setTimeout(() => void consumer.close(), READ_BACK_DEADLINE_MS);
    let records = 0;
    try {
      while (records < expected) {
        const record = await consumer.next();
        if (record === null) break;
        records++;
      }
      return { records, expected, seconds: (performance.now() - startedMs) / 1000 };
    } finally {
      clearTimeout(deadline);
      await consumer.close();
    }
  }

  /**
   * One end-to-end sample: a fresh topic; every pace tick one Produce request holds the
   * records due since the last tick (as a lingering Kafka producer would send them); one
   * consumer long-polls Fetch from offset 0 at the leader and walks the batch headers.
   */
  async endToEnd(workload: EndToEndWorkload, replicationFactor: number, acks: number): Promise<EndToEndOutcome> {
    const topic = `bench${++this.topics}`;
    const leader = await this.createTopic(topic, replicationFactor);
    const connect = async () => {
      const connection = new KafkaConnection({
        host: '127.0.0.1',
        port: leader.port,
        requestTimeoutMs: PRODUCE_TIMEOUT_MS + 10_000,
        clientId: 'bench-peers',
      });
      await connection.connect();
      return connection;
    };
    const producer = await connect();
    const consumer = await connect();
    const value = Buffer.alloc(workload.recordBytes, 0x61);
    const batches = new Map<number, Buffer>();
    const batchOf = (count: number) => {
      let batch = batches.get(count);
      if (!batch)
        batches.set(
          count,
          (batch = encodeRecordBatchSync({
            records: Array.from({ length: count }, () => ({ value, timestamp: Date.now() })),
          })),
        );
      return batch;
    };
    const run = new EndToEndRun();
    let stopped = false;
    let consuming: Promise<void> = Promise.resolve();
    try {
      return await run.run(workload, {
        send: (allDueMs) => {
          // After a stall many records are due at once; they go in batches that stay well
          // under max.message.bytes (1 MiB), as a Kafka producer's batch.size keeps them.
          const perBatch = Math.max(1, Math.floor(END_TO_END_BATCH_BYTES_MAX / workload.recordBytes));
          for (let from = 0; from < allDueMs.length; from += perBatch) {
            const dueMs = allDueMs.slice(from, from + perBatch);
            producer
              .request(0, PRODUCE_VERSION, {
                transactionalId: null,
                acks,
                timeoutMs: PRODUCE_TIMEOUT_MS,
                topicData: [{ name: topic, partitionData: [{ index: 0, records: batchOf(dueMs.length) }] }],
              })
              .then(
                (response) => {
                  const partition = response.responses[0].partitionResponses[0];
                  if (partition.errorCode === 0) run.acknowledge(Number(partition.baseOffset), dueMs);
                  else run.fail(errorName(partition.errorCode), dueMs.length);
                },
                (error: Error) => run.fail(error.message, dueMs.length),
              );
          }
        },
        startConsumer: () => {
          consuming = (async () => {
            let offset = 0;
            while (!stopped) {
              const response = await consumer.request(1, FETCH_VERSION, {
                replicaId: -1,
                maxWaitMs: FETCH_MAX_WAIT_MS,
                minBytes: 1,
                maxBytes: FETCH_MAX_BYTES,
                isolationLevel: 0,
                topics: [
                  {
                    topic,
                    partitions: [
                      {
                        partition: 0,
                        fetchOffset: offset,
                        partitionMaxBytes: FETCH_MAX_BYTES,
                        currentLeaderEpoch: -1,
                        logStartOffset: -1,
                      },
                    ],
                  },
                ],
              });
              const partition = response.responses[0].partitions[0];
              if (partition.errorCode !== 0)
                throw new Error(`Fetch ${topic} at ${offset}: ${errorName(partition.errorCode)}`);
              const records: Buffer | null = partition.records;
              // Walk the batch headers: base offset (8 bytes), length (4), and at byte 23
              // the last offset delta; a batch cut off at the end of the answer waits.
              let at = 0;
              while (records && at + 61 <= records.length) {
                const size = 12 + records.readInt32BE(at + 8);
                if (at + size > records.length) break;
                const baseOffset = Number(records.readBigInt64BE(at));
                run.join.consume(baseOffset);
                offset = baseOffset + records.readInt32BE(at + 23) + 1;
                at += size;
              }
            }
          })().catch((error: Error) => run.note(`consumer: ${error.message}`));
        },
        stop: async () => {
          stopped = true;
          await consuming;
        },
      });
    } finally {
      producer.close();
      consumer.close();
      await this.deleteTopic(topic);
    }
  }

  /**
   * kcat (librdkafka) producing every line of `recordsFile` to a fresh topic; the wall time
   * of the whole kcat run (start, metadata, produce, flush, exit). kcat reports no
   * latency, so the histogram stays empty.
   */
  async produceWithKcat(
    recordsFile: string,
    records: number,
    acks: string,
    kcatSettings: string[],
  ): Promise<ProduceOutcome & { exitCode: number | null; stderrTail: string }> {
    const topic = `bench${++this.topics}`;
    const leader = await this.createTopic(topic, 1);
    try {
      const args = [
        '-P',
        '-b',
        `127.0.0.1:${leader.port}`,
        '-t',
        topic,
        '-p',
        '0',
        '-X',
        `acks=${acks}`,
        ...kcatSettings.flatMap((s) => ['-X', s]),
        '-l',
        recordsFile,
      ];
      const startedMs = performance.now();
      const child = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
      const exitCode = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`kcat did not finish within ${KCAT_DEADLINE_MS} ms`));
        }, KCAT_DEADLINE_MS);
        child.once('error', reject);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      const seconds = (performance.now() - startedMs) / 1000;
      const errors: Record<string, number> = {};
      const failed = (stderr.match(/Delivery failed/g) ?? []).length;
      if (failed > 0) countError(errors, 'delivery failed', failed);
      if (exitCode !== 0) countError(errors, `kcat exit code ${exitCode}`);
      // The records the topic holds: what was acknowledged, counted by the broker.
      const stored = await this.endOffset(leader, topic);
      if (stored !== records) countError(errors, `topic holds ${stored} of ${records} records`);
      return { records: stored, seconds, errors, histogram: newHistogram(), exitCode, stderrTail: stderr.trim() };
    } finally {
      await this.deleteTopic(topic);
    }
  }

  private async endOffset(node: BrookNode, topic: string): Promise<number> {
    const answer = await (
      await this.admin(node)
    ).request(2, 2, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
    });
    return Number(answer.topics[0].partitions[0].offset);
  }

  async stop(): Promise<void> {
    for (const connection of this.admins.values()) connection.close();
    this.admins.clear();
    await this.cluster.stop();
  }
}
