// The bundled client's workload matrix: for each record size (100 B, 1 KiB, 16 KiB) x
// producers (1 or 4 Producer instances) x acks (1, or all with idempotence) x replication
// factor (1 on one node; 3 on a three-node cluster, min.insync.replicas 2), the bundled
// producer's throughput and per-send latency (HDR p50, p99, p99.9, max), then the bundled
// consumer reading back everything that row stored; and end-to-end latency (one producer
// at a fixed offered rate, one consumer, send-to-receipt) for each acks and RF. Rows run
// on fresh topics, alternate across rounds so that noise hits them alike, and report the
// median and each round's spread. Both clusters are started once with the peer bench's
// launcher (bench/peers/brook.ts) and stopped by PID at the end; data lives in a
// temporary directory that is removed.
// Usage: node dist/bench/client-matrix.js [--quick] [--record-sizes 100,1024,16384]
//        [--producers 1,4] [--replication-factors 1,3] [--rounds N] [--duration-ms N]
//        [--end-to-end-duration-ms N]   (a part of the matrix, to look into one row)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCode } from '../protocol/errors';
import { Admin } from '../src/client/admin';
import { KafkaError } from '../src/client/cluster';
import { KafkaConnection } from '../src/net/kafka-connection';
import { Producer } from '../src/client/producer';
import { BundledConsumeResult, runBundledConsumer } from './lib/bundled-consume';
import { BundledEndToEndResult, runBundledEndToEnd } from './lib/bundled-end-to-end';
import { BundledProduceResult, runBundledProducers } from './lib/bundled-produce';
import { environment, writeBackDirtyPages, writeResult } from './lib/env';
import { median, spread } from './lib/stats';
import { Brook } from './peers/brook';
import { CpuMeter, killAllOnExit, printLogTails } from './lib/process';

type Acks = 1 | 'all';

const quick = process.argv.includes('--quick');

/** The value after `--name` as a list of positive integers, or `fallback` when absent. */
function integersOption(name: string, fallback: number[], allowed?: number[]): number[] {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const text = process.argv[at + 1] ?? '';
  const values = text.split(',').map((part) => Number(part));
  const bad =
    values.length === 0 ||
    values.some((v) => !Number.isInteger(v) || v <= 0 || (allowed !== undefined && !allowed.includes(v)));
  if (bad) {
    process.stderr.write(
      `--${name} takes a comma-separated list of ${allowed ? `values from ${allowed.join(', ')}` : 'positive integers'}, got "${text}"\n`,
    );
    process.exit(2);
  }
  return values;
}

/** --quick runs inside `npm test` (through `npm run bench -- --quick`): a few seconds in all. */
const RECORD_SIZES = integersOption('record-sizes', quick ? [1024] : [100, 1024, 16 * 1024]);
const PRODUCER_COUNTS = integersOption('producers', [1, 4]);
const ACKS: Acks[] = [1, 'all'];
const REPLICATION_FACTORS = integersOption('replication-factors', quick ? [1] : [1, 3], [1, 3]);
const ROUNDS = integersOption('rounds', [quick ? 1 : 3])[0];
const PRODUCE_DURATION_MS = integersOption('duration-ms', [quick ? 1000 : 4000])[0];
const END_TO_END_DURATION_MS = integersOption('end-to-end-duration-ms', [quick ? 500 : 5000])[0];
const END_TO_END_RATE_PER_SECOND = 10_000;
const END_TO_END_RECORD_BYTES = 1024;
/** Six partitions: two led by each node of the three-node cluster. */
const PARTITIONS = 6;
/** The producer settings of bench/client.ts, so the two benches' 1 KiB rows compare. */
const LINGER_MS = 5;
const BATCH_BYTES = 256 * 1024;
const BUFFER_MEMORY_BYTES = 64 * 1024 * 1024;
/** Record bytes each producer keeps outstanding (8192 records of 1 KiB, 512 of 16 KiB). */
const OUTSTANDING_BYTES_PER_PRODUCER = 8 * 1024 * 1024;
const CONSUME_DEADLINE_MS = 120_000;
const END_TO_END_DRAIN_TIMEOUT_MS = 30_000;
const TOPIC_READY_DEADLINE_MS = 30_000;
const TOPIC_READY_POLL_MS = 50;
const METADATA_VERSION = 9;
const ADMIN_RETRY_DEADLINE_MS = 60_000;
const ADMIN_RETRY_BACKOFF_MS = 250;

interface ThroughputSpec {
  kind: 'throughput';
  recordBytes: number;
  producers: number;
  acks: Acks;
  replicationFactor: number;
}

interface EndToEndSpec {
  kind: 'end-to-end';
  acks: Acks;
  replicationFactor: number;
}

type Spec = ThroughputSpec | EndToEndSpec;

interface ThroughputSample {
  round: number;
  produce: BundledProduceResult;
  /** Records the topic held after the producers flushed: what the consumer was asked to read. */
  stored: number;
  consume: BundledConsumeResult;
  /** CPU while producing, 100 = one core: the brokers, this process, the whole machine. */
  cpuPercent: { server: number; client: number; machine: number; others: number };
}

interface EndToEndSample extends BundledEndToEndResult {
  round: number;
}

interface ClusterUnderTest {
  replicationFactor: number;
  brook: Brook;
  admin: Admin;
  bootstrap: string[];
  /** One connection per node, to ask each node's own metadata view. */
  probes: KafkaConnection[];
}

function sizeName(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function specName(spec: Spec): string {
  if (spec.kind === 'end-to-end')
    return `end-to-end ${sizeName(END_TO_END_RECORD_BYTES)} at ${END_TO_END_RATE_PER_SECOND.toLocaleString('en-US')}/s, acks=${spec.acks}, RF${spec.replicationFactor}`;
  return `${sizeName(spec.recordBytes)} x${spec.producers} acks=${spec.acks} RF${spec.replicationFactor}`;
}

function topicName(spec: Spec, round: number): string {
  const size = spec.kind === 'throughput' ? `${spec.recordBytes}b-${spec.producers}p` : 'e2e';
  return `matrix-r${round + 1}-${size}-acks${spec.acks}-rf${spec.replicationFactor}`;
}

function newProducer(cluster: ClusterUnderTest, acks: Acks): Producer {
  return new Producer({
    bootstrap: cluster.bootstrap,
    clientId: 'bench-client-matrix',
    acks,
    idempotent: acks === 'all',
    lingerMs: LINGER_MS,
    batchSize: BATCH_BYTES,
    bufferMemory: BUFFER_MEMORY_BYTES,
  });
}

async function startCluster(base: string, replicationFactor: number): Promise<ClusterUnderTest> {
  const brook = await Brook.start(base, replicationFactor === 1 ? 1 : 3);
  const bootstrap = brook.nodes.map((node) => `127.0.0.1:${node.port}`);
  const admin = new Admin({ bootstrap, clientId: 'bench-client-matrix-admin' });
  await admin.connect();
  const probes = await Promise.all(
    brook.nodes.map(async (node) => {
      const probe = new KafkaConnection({ host: '127.0.0.1', port: node.port, clientId: 'bench-client-matrix-probe' });
      await probe.connect();
      return probe;
    }),
  );
  return { replicationFactor, brook, admin, bootstrap, probes };
}

/** One node's view of a topic's partitions: each one's leader and ISR size, or null while it does not know the topic. */
async function partitionsSeenBy(
  probe: KafkaConnection,
  topic: string,
): Promise<{ leader: number; isr: number }[] | null> {
  const answer = await probe.request(3, METADATA_VERSION, {
    topics: [{ name: topic }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const seen = answer.topics[0];
  if (!seen || seen.errorCode !== 0) return null;
  return (seen.partitions as { partitionIndex: number; leaderId: number; isrNodes: number[] }[])
    .sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map((p) => ({ leader: p.leaderId, isr: p.isrNodes.length }));
}

/**
 * Sends an admin request until it succeeds, as a Kafka admin client does: a retriable error
 * (NOT_CONTROLLER after the metadata quorum elected another controller, a lost connection)
 * is retried within a bound after a metadata refresh, and `doneOnRetry` (the topic already
 * exists, or is already gone) counts as success once an earlier attempt may have gone
 * through. The bundled Admin does not retry by itself.
 */
async function withAdminRetries(
  what: string,
  cluster: ClusterUnderTest,
  doneOnRetry: number,
  send: () => Promise<unknown>,
): Promise<void> {
  const deadlineMs = performance.now() + ADMIN_RETRY_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      if (error instanceof KafkaError && error.code === doneOnRetry && attempt > 0) return;
      if ((error instanceof KafkaError && !error.retriable) || performance.now() > deadlineMs) throw error;
      process.stderr.write(`${what}: ${(error as Error).message}; retrying\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, ADMIN_RETRY_BACKOFF_MS));
    await cluster.admin.cluster.refreshMetadata(null).catch(() => undefined);
  }
}

/**
 * Creates a fresh topic and waits until every node names the same leader for every
 * partition, with a full ISR. Asking one node is not enough: a client whose metadata
 * request lands on a node that has not applied the topic yet is told it does not exist,
 * and the bundled producer fails such sends at once (see docs/benchmarks.md).
 */
async function createTopic(cluster: ClusterUnderTest, name: string): Promise<void> {
  const replicationFactor = cluster.replicationFactor;
  const configs: Record<string, string> = replicationFactor > 1 ? { 'min.insync.replicas': '2' } : {};
  await withAdminRetries(`create topic ${name}`, cluster, ErrorCode.TOPIC_ALREADY_EXISTS, () =>
    cluster.admin.createTopics([{ name, partitions: PARTITIONS, replicationFactor, configs }]),
  );
  const deadlineMs = performance.now() + TOPIC_READY_DEADLINE_MS;
  for (;;) {
    const views = await Promise.all(cluster.probes.map((probe) => partitionsSeenBy(probe, name)));
    const first = views[0];
    const ready =
      first !== null &&
      first.length === PARTITIONS &&
      first.every((p) => p.leader >= 0 && p.isr === replicationFactor) &&
      views.every(
        (view) => view !== null && view.every((p, i) => p.leader === first[i].leader && p.isr === replicationFactor),
      );
    if (ready) return;
    if (performance.now() > deadlineMs)
      throw new Error(
        `topic ${name}: no leader with a full ISR on every partition after ${TOPIC_READY_DEADLINE_MS} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, TOPIC_READY_POLL_MS));
  }
}

/** Deletes a row's topic so the disk holds one row's data at a time. */
async function deleteTopic(cluster: ClusterUnderTest, name: string): Promise<void> {
  try {
    await withAdminRetries(`delete topic ${name}`, cluster, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, () =>
      cluster.admin.deleteTopics([name]),
    );
  } catch (error) {
    process.stderr.write(
      `delete topic ${name} failed (its data stays until the bench's directory is removed): ${(error as Error).message}\n`,
    );
  }
}

async function storedRecords(cluster: ClusterUnderTest, topic: string): Promise<number> {
  const ends = await cluster.admin.listOffsets(topic, 'latest');
  let total = 0;
  for (const offset of ends.values()) total += offset;
  return total;
}

async function measureThroughput(
  cluster: ClusterUnderTest,
  spec: ThroughputSpec,
  round: number,
): Promise<ThroughputSample> {
  const topic = topicName(spec, round);
  await createTopic(cluster, topic);
  try {
    const producers = Array.from({ length: spec.producers }, () => newProducer(cluster, spec.acks));
    let produce: BundledProduceResult;
    let cpuPercent: ThroughputSample['cpuPercent'];
    try {
      await Promise.all(producers.map((producer) => producer.connect()));
      await Promise.all(producers.map((producer) => producer.cluster.refreshMetadata([topic])));
      const meter = new CpuMeter(cluster.brook.pids);
      produce = await runBundledProducers({
        producers,
        topic,
        recordBytes: spec.recordBytes,
        durationMs: PRODUCE_DURATION_MS,
        outstandingPerProducer: Math.max(1, Math.floor(OUTSTANDING_BYTES_PER_PRODUCER / spec.recordBytes)),
      });
      cpuPercent = meter.read();
    } finally {
      await Promise.all(producers.map((producer) => producer.close()));
    }
    const stored = await storedRecords(cluster, topic);
    const consume = await runBundledConsumer({
      bootstrap: cluster.bootstrap,
      topic,
      partitions: PARTITIONS,
      records: stored,
      deadlineMs: CONSUME_DEADLINE_MS,
    });
    return { round, produce, stored, consume, cpuPercent };
  } finally {
    await deleteTopic(cluster, topic);
  }
}

async function measureEndToEnd(cluster: ClusterUnderTest, spec: EndToEndSpec, round: number): Promise<EndToEndSample> {
  const topic = topicName(spec, round);
  await createTopic(cluster, topic);
  const producer = newProducer(cluster, spec.acks);
  try {
    await producer.connect();
    await producer.cluster.refreshMetadata([topic]);
    const result = await runBundledEndToEnd({
      producer,
      bootstrap: cluster.bootstrap,
      topic,
      partitions: PARTITIONS,
      recordBytes: END_TO_END_RECORD_BYTES,
      ratePerSecond: END_TO_END_RATE_PER_SECOND,
      durationMs: END_TO_END_DURATION_MS,
      drainTimeoutMs: END_TO_END_DRAIN_TIMEOUT_MS,
    });
    return { round, ...result };
  } finally {
    await producer.close();
    await deleteTopic(cluster, topic);
  }
}

function specs(): Spec[] {
  const out: Spec[] = [];
  for (const replicationFactor of REPLICATION_FACTORS) {
    for (const recordBytes of RECORD_SIZES) {
      for (const producers of PRODUCER_COUNTS) {
        for (const acks of ACKS) out.push({ kind: 'throughput', recordBytes, producers, acks, replicationFactor });
      }
    }
    for (const acks of ACKS) out.push({ kind: 'end-to-end', acks, replicationFactor });
  }
  return out;
}

const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const milliseconds = (value: number) => (value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`);
const rangeOf = (values: number[]) =>
  values.length > 1 ? ` (${whole(Math.min(...values))}-${whole(Math.max(...values))})` : '';

function throughputLine(spec: ThroughputSpec, sample: ThroughputSample): string {
  const { produce, consume } = sample;
  return `${specName(spec)}: produce ${whole(produce.recordsPerSecond)} records/s ${produce.megabytesPerSecond.toFixed(1)} MB/s p50 ${milliseconds(produce.latency.p50Ms)} p99 ${milliseconds(produce.latency.p99Ms)} p99.9 ${milliseconds(produce.latency.p999Ms)} max ${milliseconds(produce.latency.maxMs)}, ${produce.errors} errors${produce.firstError ? ` (${produce.firstError})` : ''}; consume ${whole(consume.recordsPerSecond)} records/s ${consume.megabytesPerSecond.toFixed(1)} MB/s, ${consume.records} of ${sample.stored} records; CPU brokers ${sample.cpuPercent.server}% client ${sample.cpuPercent.client}% machine ${sample.cpuPercent.machine}%`;
}

function endToEndLine(spec: EndToEndSpec, sample: EndToEndSample): string {
  return `${specName(spec)}: end-to-end p50 ${milliseconds(sample.endToEnd.p50Ms)} p99 ${milliseconds(sample.endToEnd.p99Ms)} p99.9 ${milliseconds(sample.endToEnd.p999Ms)} max ${milliseconds(sample.endToEnd.maxMs)}; acknowledged p50 ${milliseconds(sample.acknowledgement.p50Ms)} p99 ${milliseconds(sample.acknowledgement.p99Ms)}; sent ${sample.sent}, acknowledged ${sample.acknowledged}, consumed ${sample.consumed}, ${sample.errors} errors${sample.firstError ? ` (${sample.firstError})` : ''}; sender at most ${milliseconds(sample.maxScheduleLagMs)} behind schedule`;
}

function throughputSummary(spec: ThroughputSpec, samples: ThroughputSample[]) {
  return {
    row: specName(spec),
    ...spec,
    produceRecordsPerSecond: spread(samples.map((s) => s.produce.recordsPerSecond)),
    produceMegabytesPerSecond: spread(samples.map((s) => s.produce.megabytesPerSecond)),
    sendP50Ms: median(samples.map((s) => s.produce.latency.p50Ms)),
    sendP99Ms: median(samples.map((s) => s.produce.latency.p99Ms)),
    sendP999Ms: median(samples.map((s) => s.produce.latency.p999Ms)),
    sendMaxMs: Math.max(...samples.map((s) => s.produce.latency.maxMs)),
    produceClientCpuMicrosPerRecord: median(samples.map((s) => s.produce.clientCpuMicrosPerRecord)),
    consumeRecordsPerSecond: spread(samples.map((s) => s.consume.recordsPerSecond)),
    consumeMegabytesPerSecond: spread(samples.map((s) => s.consume.megabytesPerSecond)),
    consumeClientCpuMicrosPerRecord: median(samples.map((s) => s.consume.clientCpuMicrosPerRecord)),
    machineCpuPercent: median(samples.map((s) => s.cpuPercent.machine)),
    sendErrors: samples.reduce((sum, s) => sum + s.produce.errors, 0),
    consumerComplete: samples.every((s) => s.consume.complete),
  };
}

function endToEndSummary(spec: EndToEndSpec, samples: EndToEndSample[]) {
  return {
    row: specName(spec),
    ...spec,
    recordBytes: END_TO_END_RECORD_BYTES,
    offeredPerSecond: END_TO_END_RATE_PER_SECOND,
    consumedPerSecond: spread(samples.map((s) => s.consumedPerSecond)),
    endToEndP50Ms: spread(samples.map((s) => s.endToEnd.p50Ms)),
    endToEndP99Ms: spread(samples.map((s) => s.endToEnd.p99Ms)),
    endToEndP999Ms: median(samples.map((s) => s.endToEnd.p999Ms)),
    endToEndMaxMs: Math.max(...samples.map((s) => s.endToEnd.maxMs)),
    acknowledgedP50Ms: median(samples.map((s) => s.acknowledgement.p50Ms)),
    acknowledgedP99Ms: median(samples.map((s) => s.acknowledgement.p99Ms)),
    maxScheduleLagMs: Math.max(...samples.map((s) => s.maxScheduleLagMs)),
    sent: samples.reduce((sum, s) => sum + s.sent, 0),
    consumed: samples.reduce((sum, s) => sum + s.consumed, 0),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
  };
}

function markdown(
  throughput: ReturnType<typeof throughputSummary>[],
  endToEnd: ReturnType<typeof endToEndSummary>[],
  samplesOf: Map<string, { produce: number[]; consume: number[] }>,
  failures: { row: string; round: number; error: string }[],
): string {
  const lines = [
    `Bundled producer and consumer, ${PARTITIONS} partitions, ${ROUNDS} round(s) of ${PRODUCE_DURATION_MS / 1000} s per row, median (lowest-highest round); producer linger.ms ${LINGER_MS}, batch.size ${BATCH_BYTES / 1024} KiB, default partitioner; RF3: min.insync.replicas 2.`,
    '',
    '| record | producers | acks | RF | produce records/s | MB/s | send p50 | p99 | p99.9 | max | consume records/s | MB/s | client us/record (produce, consume) | machine CPU | errors |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of throughput) {
    const rounds = samplesOf.get(row.row)!;
    if (rounds.produce.length === 0) {
      lines.push(
        `| ${sizeName(row.recordBytes)} | ${row.producers} | ${row.acks === 'all' ? 'all (idempotent)' : '1'} | ${row.replicationFactor} | failed in every round |  |  |  |  |  |  |  |  |  |  |`,
      );
      continue;
    }
    lines.push(
      `| ${sizeName(row.recordBytes)} | ${row.producers} | ${row.acks === 'all' ? 'all (idempotent)' : '1'} | ${row.replicationFactor} | ${whole(row.produceRecordsPerSecond.median)}${rangeOf(rounds.produce)} | ${row.produceMegabytesPerSecond.median.toFixed(1)} | ${milliseconds(row.sendP50Ms)} | ${milliseconds(row.sendP99Ms)} | ${milliseconds(row.sendP999Ms)} | ${milliseconds(row.sendMaxMs)} | ${whole(row.consumeRecordsPerSecond.median)}${rangeOf(rounds.consume)} | ${row.consumeMegabytesPerSecond.median.toFixed(1)} | ${row.produceClientCpuMicrosPerRecord.toFixed(1)}, ${row.consumeClientCpuMicrosPerRecord.toFixed(1)} | ${row.machineCpuPercent}% | ${row.sendErrors}${row.consumerComplete ? '' : ', consumer incomplete'} |`,
    );
  }
  lines.push(
    '',
    `End to end: one producer at ${END_TO_END_RATE_PER_SECOND.toLocaleString('en-US')} records/s of ${sizeName(END_TO_END_RECORD_BYTES)} for ${END_TO_END_DURATION_MS / 1000} s, one consumer; latency from each record's due time (in its value) to its receipt, median over rounds (p50 and p99 with lowest-highest round), max over all.`,
    '',
    '| acks | RF | consumed/s | end-to-end p50 | p99 | p99.9 | max | acknowledged p50 | p99 | sender behind schedule at most | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const msRange = (s: { median: number; min: number; max: number }) =>
    `${milliseconds(s.median)}${ROUNDS > 1 ? ` (${s.min.toFixed(1)}-${s.max.toFixed(1)})` : ''}`;
  for (const row of endToEnd) {
    if (row.sent === 0) {
      lines.push(
        `| ${row.acks === 'all' ? 'all (idempotent)' : '1'} | ${row.replicationFactor} | failed in every round |  |  |  |  |  |  |  |  |`,
      );
      continue;
    }
    lines.push(
      `| ${row.acks === 'all' ? 'all (idempotent)' : '1'} | ${row.replicationFactor} | ${whole(row.consumedPerSecond.median)} | ${msRange(row.endToEndP50Ms)} | ${msRange(row.endToEndP99Ms)} | ${milliseconds(row.endToEndP999Ms)} | ${milliseconds(row.endToEndMaxMs)} | ${milliseconds(row.acknowledgedP50Ms)} | ${milliseconds(row.acknowledgedP99Ms)} | ${milliseconds(row.maxScheduleLagMs)} | ${row.errors}${row.consumed < row.sent ? `, consumed ${row.consumed} of ${row.sent}` : ''} |`,
    );
  }
  if (failures.length > 0) {
    lines.push(
      '',
      `Failed samples (not in the medians): ${failures.map((f) => `round ${f.round} ${f.row}: ${f.error}`).join('; ')}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function main(): Promise<{ result: Record<string, unknown>; markdown: string; failed: boolean }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-client-matrix-'));
  const forgetExitHandler = killAllOnExit();
  const clusters = new Map<number, ClusterUnderTest>();
  const rows = specs();
  const samples = new Map<Spec, (ThroughputSample | EndToEndSample)[]>(rows.map((spec) => [spec, []]));
  const failures: { row: string; round: number; error: string }[] = [];
  const startedMs = performance.now();
  try {
    for (const replicationFactor of REPLICATION_FACTORS)
      clusters.set(replicationFactor, await startCluster(base, replicationFactor));
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round runs the rows in reverse, so no row always follows the same one.
      const order = round % 2 === 0 ? rows : [...rows].reverse();
      for (const spec of order) {
        writeBackDirtyPages();
        const cluster = clusters.get(spec.replicationFactor)!;
        // A failed sample (the cluster refused for longer than the retries allow) is
        // reported and counted, and the run goes on: one bad moment of a shared machine
        // should not throw away the other rows.
        try {
          if (spec.kind === 'throughput') {
            const sample = await measureThroughput(cluster, spec, round);
            samples.get(spec)!.push(sample);
            process.stdout.write(`round ${round + 1} ${throughputLine(spec, sample)}\n`);
          } else {
            const sample = await measureEndToEnd(cluster, spec, round);
            samples.get(spec)!.push(sample);
            process.stdout.write(`round ${round + 1} ${endToEndLine(spec, sample)}\n`);
          }
        } catch (error) {
          failures.push({ row: specName(spec), round: round + 1, error: (error as Error).message });
          process.stdout.write(`round ${round + 1} ${specName(spec)}: FAILED: ${(error as Error).message}\n`);
        }
      }
    }
  } catch (error) {
    printLogTails();
    throw error;
  } finally {
    if (failures.length > 0) printLogTails();
    for (const cluster of clusters.values()) {
      cluster.admin.cluster.close();
      for (const probe of cluster.probes) probe.close();
      await cluster.brook.stop();
    }
    forgetExitHandler();
    fs.rmSync(base, { recursive: true, force: true });
  }

  const throughputRows = rows.filter((spec): spec is ThroughputSpec => spec.kind === 'throughput');
  const endToEndRows = rows.filter((spec): spec is EndToEndSpec => spec.kind === 'end-to-end');
  const throughput = throughputRows.map((spec) => throughputSummary(spec, samples.get(spec) as ThroughputSample[]));
  const endToEnd = endToEndRows.map((spec) => endToEndSummary(spec, samples.get(spec) as EndToEndSample[]));
  const roundsOf = new Map(
    throughputRows.map((spec) => {
      const list = samples.get(spec) as ThroughputSample[];
      return [
        specName(spec),
        { produce: list.map((s) => s.produce.recordsPerSecond), consume: list.map((s) => s.consume.recordsPerSecond) },
      ];
    }),
  );
  const table = markdown(throughput, endToEnd, roundsOf, failures);
  const sendErrors =
    throughput.reduce((sum, row) => sum + row.sendErrors, 0) + endToEnd.reduce((sum, row) => sum + row.errors, 0);
  const throughputSamples = throughputRows.flatMap((spec) => samples.get(spec) as ThroughputSample[]);
  const complete = throughputSamples.filter((s) => s.consume.complete).length;
  const delivered = endToEnd.every((row) => row.consumed >= row.sent - row.errors);
  process.stdout.write(`\n${table}\n`);
  process.stdout.write(
    `client matrix: ${throughputRows.length} throughput rows and ${endToEndRows.length} end-to-end rows x ${ROUNDS} round(s) in ${((performance.now() - startedMs) / 1000).toFixed(0)} s, ${sendErrors} send errors, consumer complete in ${complete} of ${throughputSamples.length} samples, end-to-end ${delivered ? 'delivered every acknowledged record' : 'missed records'}, ${failures.length} failed samples\n`,
  );
  const result = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    command: `node ${['dist/bench/client-matrix.js', ...process.argv.slice(2)].join(' ')}`,
    settings: {
      recordSizes: RECORD_SIZES,
      producerCounts: PRODUCER_COUNTS,
      acks: ACKS,
      replicationFactors: REPLICATION_FACTORS,
      rounds: ROUNDS,
      produceDurationMs: PRODUCE_DURATION_MS,
      partitions: PARTITIONS,
      producer: {
        lingerMs: LINGER_MS,
        batchSize: BATCH_BYTES,
        bufferMemory: BUFFER_MEMORY_BYTES,
        maxInFlight: 5,
        partitioner: 'default (sticky)',
        idempotentWithAcksAll: true,
      },
      outstandingBytesPerProducer: OUTSTANDING_BYTES_PER_PRODUCER,
      consumer: { maxWaitMs: 500, maxPartitionBytes: 1048576, assignment: 'standalone, every partition from earliest' },
      rf3: 'three nodes, min.insync.replicas 2 (topic)',
      endToEnd: {
        recordBytes: END_TO_END_RECORD_BYTES,
        ratePerSecond: END_TO_END_RATE_PER_SECOND,
        durationMs: END_TO_END_DURATION_MS,
        latencyFrom: 'due time on the schedule, written in the value',
      },
    },
    throughput,
    endToEnd,
    failures,
    samples: rows.map((spec) => ({ row: specName(spec), spec, samples: samples.get(spec) })),
  };
  return { result, markdown: table, failed: failures.length > 0 };
}

if (require.main === module) {
  main().then(
    ({ result, markdown: table, failed }) => {
      // The result is written even when samples failed; the exit code says they did.
      if (failed) process.exitCode = 1;
      const file = writeResult(quick ? 'client-matrix-quick' : 'client-matrix', result);
      if (file.endsWith('.json')) fs.writeFileSync(file.replace(/\.json$/, '.md'), table);
      process.stdout.write(`written ${file}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
