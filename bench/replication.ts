// Replicated produce with real processes: three Brook nodes on 127.0.0.1.
// Part 1 (throughput): topics rf1 and rf3 (min.insync.replicas 2) with the same partition
// count and leaders spread over the three brokers; pre-encoded Produce frames of 1 KiB
// records go to each partition's leader with many requests in flight. Four rows (RF1 and
// RF3, acks=1 and acks=all) alternate over several rounds; after every row the bench waits
// until each partition's high watermark covers every acknowledged record with the ISR
// still full, so the figures count data that reached all replicas.
// Part 2 (failover): one RF3 partition, one acks=all producer sending one request at a
// time; the partition leader is killed with SIGKILL and the bench times kill to the first
// acknowledged produce at the new leader, then restarts the node and waits for the ISR.
// Usage: node dist/bench/replication.js [--quick] [--throughput-only | --failover-only]
//        [--set KEY=VALUE ...]   (broker settings for both clusters, to test a hypothesis)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { requestCodec, responseCodec } from '../protocol/codec';
import { errorName } from '../protocol/errors';
import { encodeRequestFrame } from '../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../protocol/header';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { KafkaConnection } from '../src/net/kafka-connection';
import { LOG_SUFFIX, LOGS_DIR, partitionDirName } from '../src/log/on-disk-names';
import { BrokerCluster, BrokerNode } from './lib/cluster';
import { connectController } from '../src/raft/handshake';
import { environment, uncommittedChanges, writeBackDirtyPages, writeResult } from './lib/env';
import { LatencySummary, newHistogram, summarise } from './lib/load';
import { cpuSeconds, killAllOnExit, machineCpuSeconds, printLogTails, sleep, stopAll, until } from './lib/process';

const quick = process.argv.includes('--quick');
const throughputOnly = process.argv.includes('--throughput-only');
const failoverOnly = process.argv.includes('--failover-only');
/** Broker settings given with --set KEY=VALUE; they are recorded in the result. */
const overrides: Record<string, string> = Object.fromEntries(
  process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--set' ? [arg.split('=', 2) as [string, string]] : [])),
);

const PARTITIONS = 6;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 100;
const CONNECTIONS_PER_BROKER = 2;
const INFLIGHT_PER_CONNECTION = 8;
const ROUNDS = quick ? 1 : 3;
const ROW_DURATION_MS = quick ? 1000 : 6000;
const WARMUP_DURATION_MS = quick ? 300 : 1500;
const ISR_POLL_MS = 250;
const PRODUCE_TIMEOUT_MS = 30_000;
const FAILOVER_RUNS = quick ? 2 : 20;
const FAILOVER_RECORD_BYTES = 100;
const FAILOVER_PRODUCE_TIMEOUT_MS = 3000;
const BROKER_SESSION_TIMEOUT_MS = 3000;
const RETRY_BACKOFF_MS = 20;
const READY_DEADLINE_MS = 40_000;
const SETTLE_DEADLINE_MS = 60_000;
const CATCH_UP_DEADLINE_MS = 60_000;
const FAILOVER_DEADLINE_MS = 30_000;
const PRODUCE_VERSION = 7;
const METADATA_VERSION = 9;

// ---- Cluster: three processes, ports and data directories fixed across restarts. ----

type Cluster = BrokerCluster;
type Node = BrokerNode;

/** One admin connection per node, opened on first use and dropped when it fails. */
const admins = new Map<Node, KafkaConnection>();

async function stopNode(node: Node): Promise<void> {
  dropAdmin(node);
  await node.stop();
}

async function admin(node: Node): Promise<KafkaConnection> {
  const existing = admins.get(node);
  if (existing) return existing;
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: node.port,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 1000,
    clientId: 'bench-replication',
  });
  await connection.connect();
  admins.set(node, connection);
  return connection;
}

function dropAdmin(node: Node): void {
  admins.get(node)?.close();
  admins.delete(node);
}

async function startCluster(base: string, name: string, config: Record<string, string>): Promise<Cluster> {
  const nodeArgs = process.env.BROOK_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const cluster = await BrokerCluster.start({
    dir: path.join(base, name),
    nodes: 3,
    config,
    logLevel: 'info',
    nodeArgs,
    readyDeadlineMs: READY_DEADLINE_MS,
  });
  // Topics can be placed once every broker has registered and is unfenced.
  await cluster.waitRegistered(SETTLE_DEADLINE_MS);
  return cluster;
}

// ---- Metadata, topic creation, high watermarks. ----

interface PartitionView {
  partition: number;
  leaderId: number;
  leaderEpoch: number;
  isr: number[];
}

interface MetadataView {
  brokers: { nodeId: number; port: number }[];
  partitions: Map<string, PartitionView[]>;
}

/** Metadata v9 from one node, or null when it does not answer. */
async function metadata(node: Node, topics: string[]): Promise<MetadataView | null> {
  if (!node.isAlive) return null;
  try {
    const answer = await (
      await admin(node)
    ).request(3, METADATA_VERSION, {
      topics: topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const partitions = new Map<string, PartitionView[]>();
    for (const topic of answer.topics) {
      // Asked by name, every topic comes back named; one without a name is no answer.
      if (topic.errorCode !== 0 || topic.name === null) return null;
      const views = topic.partitions.map((p: any) => ({
        partition: p.partitionIndex,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        isr: p.isrNodes,
      }));
      partitions.set(
        topic.name,
        views.sort((a: PartitionView, b: PartitionView) => a.partition - b.partition),
      );
    }
    return { brokers: answer.brokers, partitions };
  } catch {
    dropAdmin(node);
    return null;
  }
}

/**
 * Creates a topic with explicit assignments: partition p is led by broker (p mod 3) + 1
 * and followed by the next ones, so leaders and follower load are spread evenly.
 */
async function createTopic(
  node: Node,
  name: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string>,
): Promise<void> {
  const assignments = Array.from({ length: partitions }, (_, p) => ({
    partitionIndex: p,
    brokerIds: Array.from({ length: replicationFactor }, (_, r) => ((p + r) % 3) + 1),
  }));
  const response = await (
    await admin(node)
  ).request(19, 4, {
    topics: [
      {
        name,
        numPartitions: -1,
        replicationFactor: -1,
        assignments,
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  const errorCode = response.topics[0].errorCode;
  if (errorCode !== 0)
    throw new Error(`CreateTopics ${name}: ${errorName(errorCode)} ${response.topics[0].errorMessage ?? ''}`);
}

/** Waits until every live node reports the same leaders and a full ISR for the topics. */
async function waitSettled(
  cluster: Cluster,
  topics: { name: string; replicationFactor: number }[],
): Promise<Map<string, PartitionView[]>> {
  return until(`leaders and full ISRs for ${topics.map((t) => t.name).join(', ')}`, SETTLE_DEADLINE_MS, async () => {
    const live = cluster.nodes.filter((n) => n.isAlive);
    const views = await Promise.all(
      live.map((n) =>
        metadata(
          n,
          topics.map((t) => t.name),
        ),
      ),
    );
    if (views.some((v) => v === null)) return null;
    const first = views[0]!;
    for (const { name, replicationFactor } of topics) {
      const mine = first.partitions.get(name)!;
      if (mine.some((p) => p.leaderId <= 0 || p.isr.length !== replicationFactor)) return null;
      const same = views.every((v) =>
        v!.partitions
          .get(name)!
          .every(
            (p, i) =>
              p.leaderId === mine[i].leaderId &&
              p.leaderEpoch === mine[i].leaderEpoch &&
              p.isr.length === mine[i].isr.length,
          ),
      );
      if (!same) return null;
    }
    return first.partitions;
  });
}

/**
 * The metadata quorum (controller) leader as a node's controller port reports it, or -1.
 * The controller port answers only after the handshake with the cluster's secret.
 */
async function quorumLeader(node: Node, secret: Buffer): Promise<number> {
  let connection: KafkaConnection | null = null;
  try {
    connection = await connectController(
      {
        host: '127.0.0.1',
        port: node.controllerPort,
        requestTimeoutMs: 2000,
        connectTimeoutMs: 1000,
        clientId: 'bench-replication',
      },
      { secret, nodeId: -1 },
      { clusterId: null, nodeId: null },
    );
    const view = await connection.request(1004, 0, {});
    return view.errorCode === 0 ? view.leaderId : -1;
  } catch {
    return -1;
  } finally {
    connection?.close();
  }
}

/** ListOffsets LATEST at each partition's leader: the high watermark. */
async function highWatermarks(cluster: Cluster, topic: string, leaders: PartitionView[]): Promise<number[] | null> {
  const out: number[] = [];
  for (const p of leaders) {
    const node = cluster.nodes[p.leaderId - 1];
    try {
      const answer = await (
        await admin(node)
      ).request(2, 2, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: p.partition, timestamp: -1 }] }],
      });
      const partition = answer.topics[0].partitions[0];
      if (partition.errorCode !== 0) return null;
      out.push(Number(partition.offset));
    } catch {
      dropAdmin(node);
      return null;
    }
  }
  return out;
}

/** Bytes in a partition's segment files on one node. */
function logBytes(node: Node, topic: string, partition: number): number {
  const dir = path.join(node.dataDir, LOGS_DIR, partitionDirName(topic, partition));
  if (!fs.existsSync(dir)) return -1;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(LOG_SUFFIX))
    .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

// ---- Part 1: throughput, each partition's batches sent to its leader. ----

interface Row {
  name: string;
  topic: string;
  replicationFactor: number;
  acks: number;
}

interface RowSample {
  round: number;
  records: number;
  bytes: number;
  requests: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  errors: Record<string, number>;
  isrSizeMin: number;
  /** Acknowledged records not yet under the high watermark when the load stopped. */
  lagAtEndRecords: number;
  catchUpMs: number;
  /** CPU use during the row, 100 = one core: each node, this process, the whole machine, and what else ran. */
  cpuPercent: Record<string, number>;
  /** CPU time of the three brokers during the row. */
  brokerCpuMs: number;
  latency: LatencySummary;
}

/**
 * One closed-loop load: per leader, CONNECTIONS_PER_BROKER connections with
 * INFLIGHT_PER_CONNECTION requests out; each request holds one batch for every partition
 * that broker leads. Each in-flight slot owns its frame and correlation id, so frames are
 * built before the clock starts and never rewritten while a socket may still hold them.
 */
async function runLoad(
  cluster: Cluster,
  row: Row,
  leaders: PartitionView[],
  durationMs: number,
  acked: number[],
  histogram: hdr.Histogram,
) {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const batch = encodeRecordBatchSync({
    records: Array.from({ length: RECORDS_PER_BATCH }, () => ({ value, timestamp: Date.now() })),
  });
  const legs = cluster.nodes
    .map((node) => ({ node, partitions: leaders.filter((p) => p.leaderId === node.id).map((p) => p.partition) }))
    .filter((leg) => leg.partitions.length > 0);
  const slots: { connection: KafkaConnection; frame: Buffer; correlationId: number }[] = [];
  const connections: KafkaConnection[] = [];
  for (const leg of legs) {
    for (let c = 0; c < CONNECTIONS_PER_BROKER; c++) {
      const connection = new KafkaConnection({
        host: '127.0.0.1',
        port: leg.node.port,
        requestTimeoutMs: PRODUCE_TIMEOUT_MS + 10_000,
        clientId: 'bench-replication',
      });
      await connection.connect();
      connections.push(connection);
      for (let s = 0; s < INFLIGHT_PER_CONNECTION; s++) {
        const correlationId = 1000 + s;
        const body = {
          transactionalId: null,
          acks: row.acks,
          timeoutMs: PRODUCE_TIMEOUT_MS,
          topicData: [{ name: row.topic, partitionData: leg.partitions.map((index) => ({ index, records: batch })) }],
        };
        const frame = encodeRequestFrame(
          { apiKey: 0, apiVersion: PRODUCE_VERSION, correlationId, clientId: 'bench' },
          requestCodec(0, PRODUCE_VERSION),
          body,
        );
        slots.push({ connection, frame, correlationId });
      }
    }
  }
  let requests = 0;
  let records = 0;
  const errors: Record<string, number> = {};
  const startedAt = process.hrtime.bigint();
  const deadline = startedAt + BigInt(durationMs) * 1_000_000n;
  try {
    await Promise.all(
      slots.map(async (slot) => {
        while (process.hrtime.bigint() < deadline) {
          const sent = process.hrtime.bigint();
          const reader = await slot.connection.sendFrame(slot.frame, slot.correlationId);
          histogram.recordValue(Math.max(1, Math.round(Number(process.hrtime.bigint() - sent) / 1000)));
          decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
          const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
          for (const p of response.responses[0].partitionResponses) {
            if (p.errorCode === 0) {
              acked[p.index] += RECORDS_PER_BATCH;
              records += RECORDS_PER_BATCH;
            } else errors[errorName(p.errorCode)] = (errors[errorName(p.errorCode)] ?? 0) + 1;
          }
          requests++;
        }
      }),
    );
  } finally {
    for (const connection of connections) connection.close();
  }
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return { requests, records, bytes: records * RECORD_BYTES, seconds, errors };
}

/** Polls the ISR of the topic while `running` holds; the smallest ISR size seen. */
async function watchIsr(cluster: Cluster, topic: string, running: () => boolean): Promise<number> {
  let smallest = Infinity;
  while (running()) {
    const view = await metadata(cluster.nodes[0], [topic]);
    for (const p of view?.partitions.get(topic) ?? []) smallest = Math.min(smallest, p.isr.length);
    await sleep(ISR_POLL_MS);
  }
  return smallest;
}

async function measureRow(
  cluster: Cluster,
  row: Row,
  round: number,
  leaders: PartitionView[],
  acked: number[],
  merged: hdr.Histogram,
): Promise<RowSample> {
  const histogram = newHistogram();
  const pids = cluster.pids;
  const cpuBefore = pids.map(cpuSeconds);
  const clientBefore = process.cpuUsage();
  const machineBefore = machineCpuSeconds();
  const wallBefore = performance.now();
  let running = true;
  const isrWatch = watchIsr(cluster, row.topic, () => running);
  let load;
  try {
    load = await runLoad(cluster, row, leaders, ROW_DURATION_MS, acked, histogram);
  } finally {
    running = false;
  }
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const clientUsage = process.cpuUsage(clientBefore);
  const cpuPercent: Record<string, number> = {};
  const brokerCpuSeconds = pids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]);
  brokerCpuSeconds.forEach((seconds, i) => (cpuPercent[`node${i + 1}`] = Math.round((100 * seconds) / wallSeconds)));
  cpuPercent.client = Math.round((clientUsage.user + clientUsage.system) / 1e4 / wallSeconds);
  const machineAfter = machineCpuSeconds();
  const cores = os.cpus().length;
  cpuPercent.machine = Math.round(
    (100 * cores * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total),
  );
  // Whatever else ran on this shared machine during the row (other tests, other benches).
  cpuPercent.others = Math.max(
    0,
    cpuPercent.machine - cpuPercent.node1 - cpuPercent.node2 - cpuPercent.node3 - cpuPercent.client,
  );
  const isrSizeMin = await isrWatch;

  // The row counts only once every acknowledged record is under the high watermark, which
  // the leader keeps at the smallest log end in the ISR.
  const stoppedAt = performance.now();
  let lagAtEndRecords = -1;
  await until(
    `${row.topic}: high watermarks to cover the acknowledged records`,
    CATCH_UP_DEADLINE_MS,
    async () => {
      const hw = await highWatermarks(cluster, row.topic, leaders);
      if (!hw) return null;
      const lag = hw.reduce((sum, offset, p) => sum + Math.max(0, acked[p] - offset), 0);
      if (lagAtEndRecords < 0) lagAtEndRecords = lag;
      return lag === 0 ? true : null;
    },
    10,
  );
  const catchUpMs = performance.now() - stoppedAt;
  const settled = await waitSettled(cluster, [{ name: row.topic, replicationFactor: row.replicationFactor }]);
  const isrAfter = Math.min(...settled.get(row.topic)!.map((p) => p.isr.length));
  merged.add(histogram);
  return {
    round,
    ...load,
    recordsPerSecond: load.records / load.seconds,
    megabytesPerSecond: load.bytes / load.seconds / 1e6,
    isrSizeMin: Math.min(isrSizeMin, isrAfter),
    lagAtEndRecords,
    catchUpMs,
    cpuPercent,
    brokerCpuMs: 1000 * brokerCpuSeconds.reduce((a, b) => a + b, 0),
    latency: summarise(histogram),
  };
}

/** After the run: each RF3 partition holds the same bytes on all three nodes. */
async function replicaBytes(cluster: Cluster, topic: string): Promise<number[][]> {
  const read = () => Array.from({ length: PARTITIONS }, (_, p) => cluster.nodes.map((n) => logBytes(n, topic, p)));
  return until(`${topic}: identical segment sizes on the three replicas`, CATCH_UP_DEADLINE_MS, async () => {
    const sizes = read();
    return sizes.every((perNode) => perNode.every((size) => size > 0 && size === perNode[0])) ? sizes : null;
  });
}

const ROWS: Row[] = [
  { name: 'RF1 acks=1', topic: 'rf1', replicationFactor: 1, acks: 1 },
  { name: 'RF3 acks=all', topic: 'rf3', replicationFactor: 3, acks: -1 },
  { name: 'RF1 acks=all', topic: 'rf1', replicationFactor: 1, acks: -1 },
  { name: 'RF3 acks=1', topic: 'rf3', replicationFactor: 3, acks: 1 },
];

async function throughput(base: string): Promise<Record<string, unknown>> {
  const cluster = await startCluster(base, 'throughput', overrides);
  try {
    await createTopic(cluster.nodes[0], 'rf1', PARTITIONS, 1, {});
    await createTopic(cluster.nodes[0], 'rf3', PARTITIONS, 3, { 'min.insync.replicas': '2' });
    const placement = await waitSettled(cluster, [
      { name: 'rf1', replicationFactor: 1 },
      { name: 'rf3', replicationFactor: 3 },
    ]);
    const acked = new Map(['rf1', 'rf3'].map((t) => [t, new Array<number>(PARTITIONS).fill(0)]));
    // Warmup, not measured: every row briefly, so JIT, segments and follower fetchers are warm.
    for (const row of ROWS)
      await runLoad(cluster, row, placement.get(row.topic)!, WARMUP_DURATION_MS, acked.get(row.topic)!, newHistogram());
    const samples = new Map<string, RowSample[]>(ROWS.map((r) => [r.name, []]));
    const merged = new Map(ROWS.map((r) => [r.name, newHistogram()]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Odd rounds run the rows forwards, even rounds backwards: a drift in the machine's
      // speed over the run then weighs on every row alike.
      const order = round % 2 === 1 ? ROWS : [...ROWS].reverse();
      for (const row of order) {
        writeBackDirtyPages();
        const sample = await measureRow(
          cluster,
          row,
          round,
          placement.get(row.topic)!,
          acked.get(row.topic)!,
          merged.get(row.name)!,
        );
        samples.get(row.name)!.push(sample);
        const cpu = Object.entries(sample.cpuPercent)
          .map(([k, v]) => `${k} ${v}%`)
          .join(', ');
        process.stdout.write(
          `round ${round} ${row.name.padEnd(12)} ${sample.megabytesPerSecond.toFixed(1).padStart(6)} MB/s, p99 ${sample.latency.p99Ms.toFixed(1)} ms, ISR min ${sample.isrSizeMin}, lag at end ${sample.lagAtEndRecords} records (caught up in ${sample.catchUpMs.toFixed(0)} ms), CPU ${cpu}\n`,
        );
      }
    }
    const bytesPerReplica = await replicaBytes(cluster, 'rf3');

    const rows = ROWS.map((row) => {
      const rowSamples = samples.get(row.name)!;
      const records = rowSamples.reduce((sum, s) => sum + s.records, 0);
      const seconds = rowSamples.reduce((sum, s) => sum + s.seconds, 0);
      const errors: Record<string, number> = {};
      for (const s of rowSamples) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
      return {
        row: row.name,
        topic: row.topic,
        replicationFactor: row.replicationFactor,
        acks: row.acks === -1 ? 'all' : String(row.acks),
        records,
        seconds,
        recordsPerSecond: records / seconds,
        megabytesPerSecond: (records * RECORD_BYTES) / seconds / 1e6,
        megabytesPerSecondPerRound: rowSamples.map((s) => s.megabytesPerSecond),
        latency: summarise(merged.get(row.name)!),
        errors,
        isrSizeMin: Math.min(...rowSamples.map((s) => s.isrSizeMin)),
        catchUpMsMax: Math.max(...rowSamples.map((s) => s.catchUpMs)),
        // CPU the three brokers spent per MB acknowledged: less noisy than MB/s on a shared
        // machine, and it says what the machine's cores allow.
        brokerCpuMsPerMegabyte:
          rowSamples.reduce((sum, s) => sum + s.brokerCpuMs, 0) / ((records * RECORD_BYTES) / 1e6),
        rounds: rowSamples,
      };
    });
    const byName = new Map(rows.map((r) => [r.row, r]));
    const ratio = byName.get('RF3 acks=all')!.megabytesPerSecond / byName.get('RF1 acks=1')!.megabytesPerSecond;
    const ratioPerRound = byName
      .get('RF3 acks=all')!
      .rounds.map((s, i) => s.megabytesPerSecond / byName.get('RF1 acks=1')!.rounds[i].megabytesPerSecond);
    const meanCpu = (r: (typeof rows)[number]) =>
      ['node1', 'node2', 'node3', 'client', 'others']
        .map((k) => Math.round(r.rounds.reduce((sum, s) => sum + s.cpuPercent[k], 0) / r.rounds.length))
        .join('/');

    const lines = [
      '',
      `produce throughput: 3 nodes on 127.0.0.1, ${PARTITIONS} partitions per topic (${PARTITIONS / 3} led by each broker), ${RECORD_BYTES} B records, ${RECORDS_PER_BATCH}-record batches, ${ROUNDS} rounds x ${ROW_DURATION_MS / 1000} s per row, ${CONNECTIONS_PER_BROKER * INFLIGHT_PER_CONNECTION} requests in flight per leader`,
      '',
      '| row | records/s | MB/s | MB/s per round | p50 ms | p99 ms | p99.9 ms | max ms | errors | ISR min | catch-up ms (max) | CPU % n1/n2/n3/client/others | broker CPU ms/MB |',
      '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
      ...rows.map(
        (r) =>
          `| ${r.row} | ${Math.round(r.recordsPerSecond).toLocaleString('en')} | ${r.megabytesPerSecond.toFixed(1)} | ${r.megabytesPerSecondPerRound.map((v) => v.toFixed(1)).join(', ')} | ${r.latency.p50Ms.toFixed(2)} | ${r.latency.p99Ms.toFixed(2)} | ${r.latency.p999Ms.toFixed(2)} | ${r.latency.maxMs.toFixed(2)} | ${Object.values(r.errors).reduce((a, b) => a + b, 0)} | ${r.row.startsWith('RF3') ? r.isrSizeMin : '-'} | ${r.catchUpMsMax.toFixed(0)} | ${meanCpu(r)} | ${r.brokerCpuMsPerMegabyte.toFixed(1)} |`,
      ),
      '',
      `RF3 acks=all / RF1 acks=1: ${ratio.toFixed(2)} (per round: ${ratioPerRound.map((v) => v.toFixed(2)).join(', ')}); goal for RF3 acks=all: >= 100 MB/s`,
      `rf3 segment bytes per partition, identical on nodes 1, 2 and 3: ${bytesPerReplica.map((sizes) => sizes[0]).join(', ')}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    return {
      config: {
        brokerDefaults:
          'broker.session.timeout.ms 9000, replica.lag.time.max.ms 30000, replica.fetch.wait.max.ms 500, replica.fetch.max.bytes 1048576',
        overrides,
        rf3: 'min.insync.replicas 2',
      },
      partitions: PARTITIONS,
      placement: Object.fromEntries(
        [...placement].map(([topic, ps]) => [
          topic,
          ps.map((p) => ({ partition: p.partition, leader: p.leaderId, isr: p.isr })),
        ]),
      ),
      recordBytes: RECORD_BYTES,
      recordsPerBatch: RECORDS_PER_BATCH,
      connectionsPerBroker: CONNECTIONS_PER_BROKER,
      inflightPerConnection: INFLIGHT_PER_CONNECTION,
      rounds: ROUNDS,
      rowDurationMs: ROW_DURATION_MS,
      warmupDurationMsPerRow: WARMUP_DURATION_MS,
      megabyte: '1e6 bytes of record values',
      latency: 'per Produce request, send to response; one request holds one batch per partition the broker leads',
      ratioRf3AcksAllToRf1Acks1: ratio,
      ratioPerRound,
      rf3SegmentBytesPerPartition: bytesPerReplica,
      rows,
    };
  } finally {
    await Promise.all(cluster.nodes.map(stopNode));
  }
}

// ---- Part 2: partition-leader failover under a continuous acks=all producer. ----

interface Success {
  atMs: number;
  brokerId: number;
}

/**
 * Sends one acks=all Produce at a time to the partition leader named by Metadata; on any
 * error or lost connection it asks the nodes for the leader again after a short back-off.
 */
class FailoverProducer {
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private leaderId = -1;
  private readonly connections = new Map<number, KafkaConnection>();
  private readonly batch = encodeRecordBatchSync({ records: [{ value: Buffer.alloc(FAILOVER_RECORD_BYTES, 0x62) }] });
  private watcher: { accept: (s: Success) => boolean; resolve: (s: Success) => void } | null = null;
  private markedLeader = -1;
  /** Since the last mark: what the producer went through. */
  attempts = 0;
  errors: Record<string, number> = {};
  leaderSeenAtMs = -1;
  successes = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly topic: string,
  ) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    for (const connection of this.connections.values()) connection.close();
  }

  /** Starts counting afresh; `leaderId` is the leader about to be killed. */
  mark(leaderId: number): void {
    this.markedLeader = leaderId;
    this.attempts = 0;
    this.errors = {};
    this.leaderSeenAtMs = -1;
  }

  /** The first acknowledged produce that `accept` takes, within a deadline. */
  awaitSuccess(what: string, accept: (s: Success) => boolean, deadlineMs: number): Promise<Success> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watcher = null;
        reject(new Error(`no ${what} within ${deadlineMs} ms (errors: ${JSON.stringify(this.errors)})`));
      }, deadlineMs);
      this.watcher = {
        accept,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      };
    });
  }

  private async connection(brokerId: number): Promise<KafkaConnection> {
    const existing = this.connections.get(brokerId);
    if (existing) return existing;
    const node = this.cluster.nodes[brokerId - 1];
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: node.port,
      requestTimeoutMs: FAILOVER_PRODUCE_TIMEOUT_MS + 2000,
      connectTimeoutMs: 1000,
      clientId: 'bench-failover-producer',
    });
    await connection.connect();
    this.connections.set(brokerId, connection);
    return connection;
  }

  private drop(brokerId: number): void {
    this.connections.get(brokerId)?.close();
    this.connections.delete(brokerId);
  }

  private count(what: string): void {
    this.errors[what] = (this.errors[what] ?? 0) + 1;
  }

  /** The leader named by the first node that answers Metadata, or -1. */
  private async findLeader(): Promise<number> {
    for (const node of this.cluster.nodes) {
      if (!node.isAlive) continue;
      try {
        const answer = await (
          await this.connection(node.id)
        ).request(3, METADATA_VERSION, {
          topics: [{ name: this.topic }],
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: false,
        });
        const leaderId: number = answer.topics[0]?.partitions[0]?.leaderId ?? -1;
        if (leaderId <= 0) continue;
        if (leaderId !== this.markedLeader && this.markedLeader > 0 && this.leaderSeenAtMs < 0)
          this.leaderSeenAtMs = performance.now();
        return leaderId;
      } catch {
        this.drop(node.id);
      }
    }
    return -1;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.leaderId <= 0) this.leaderId = await this.findLeader();
      const brokerId = this.leaderId;
      if (brokerId > 0) {
        this.attempts++;
        try {
          const response = await (
            await this.connection(brokerId)
          ).request(0, PRODUCE_VERSION, {
            transactionalId: null,
            acks: -1,
            timeoutMs: FAILOVER_PRODUCE_TIMEOUT_MS,
            topicData: [{ name: this.topic, partitionData: [{ index: 0, records: this.batch }] }],
          });
          const errorCode: number = response.responses[0].partitionResponses[0].errorCode;
          if (errorCode === 0) {
            this.successes++;
            const success = { atMs: performance.now(), brokerId };
            if (this.watcher?.accept(success)) {
              const watcher = this.watcher;
              this.watcher = null;
              watcher.resolve(success);
            }
            continue;
          }
          this.count(errorName(errorCode));
        } catch (error) {
          const message = (error as Error).message;
          this.count(
            (error as NodeJS.ErrnoException).code ?? (/timed out/.test(message) ? 'request timed out' : message),
          );
          this.drop(brokerId);
        }
      }
      this.leaderId = -1;
      await sleep(RETRY_BACKOFF_MS);
    }
  }
}

interface FailoverSample {
  run: number;
  killedLeader: number;
  newLeader: number;
  leaderEpochBefore: number;
  leaderEpochAfter: number;
  /** The killed node also led the metadata quorum: a controller election comes first. */
  killedQuorumLeader: boolean;
  /** Kill to the first acks=all produce acknowledged by the new leader. */
  failoverMs: number;
  /** Kill to the first Metadata answer naming another leader, as the producer saw it. */
  leaderInMetadataMs: number;
  attempts: number;
  errors: Record<string, number>;
  /** Restart of the killed node until every node reports the ISR at 3 again. */
  rejoinMs: number;
}

async function failoverRun(run: number, cluster: Cluster, producer: FailoverProducer): Promise<FailoverSample> {
  const topic = [{ name: 'failover', replicationFactor: 3 }];
  // Steady state: every node agrees on the leader and a full ISR, and the producer has just
  // been acknowledged by that leader. (A preferred-leader election after the last restart
  // may still move the leadership; then look again.)
  const before = await until('a settled leader acknowledging the producer', SETTLE_DEADLINE_MS, async () => {
    const settled = (await waitSettled(cluster, topic)).get('failover')![0];
    const from = performance.now();
    const success = await producer.awaitSuccess(
      'acknowledged produce before the kill',
      (s) => s.atMs > from,
      FAILOVER_DEADLINE_MS,
    );
    return success.brokerId === settled.leaderId ? settled : null;
  });
  const victim = cluster.nodes[before.leaderId - 1];
  const controllerId = await until('the metadata quorum leader', SETTLE_DEADLINE_MS, async () => {
    const id = await quorumLeader(victim, cluster.secret);
    return id > 0 ? id : null;
  });
  dropAdmin(victim);
  producer.mark(victim.id);
  const killedAt = performance.now();
  victim.kill();
  const success = await producer.awaitSuccess(
    'acknowledged produce at a new leader',
    (s) => s.atMs > killedAt && s.brokerId !== victim.id,
    FAILOVER_DEADLINE_MS,
  );
  const sample = {
    failoverMs: success.atMs - killedAt,
    leaderInMetadataMs: producer.leaderSeenAtMs - killedAt,
    attempts: producer.attempts,
    errors: { ...producer.errors },
  };

  await victim.exited;
  const restartedAt = performance.now();
  victim.start();
  await victim.waitReady();
  const after = (await waitSettled(cluster, topic)).get('failover')![0];
  return {
    run,
    killedLeader: victim.id,
    newLeader: success.brokerId,
    leaderEpochBefore: before.leaderEpoch,
    leaderEpochAfter: after.leaderEpoch,
    killedQuorumLeader: controllerId === victim.id,
    ...sample,
    rejoinMs: performance.now() - restartedAt,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function failover(base: string): Promise<Record<string, unknown>> {
  const config = { 'broker.session.timeout.ms': String(BROKER_SESSION_TIMEOUT_MS), ...overrides };
  const cluster = await startCluster(base, 'failover', config);
  const producer = new FailoverProducer(cluster, 'failover');
  try {
    await createTopic(cluster.nodes[0], 'failover', 1, 3, { 'min.insync.replicas': '2' });
    await waitSettled(cluster, [{ name: 'failover', replicationFactor: 3 }]);
    producer.start();
    const runs: FailoverSample[] = [];
    for (let run = 1; run <= FAILOVER_RUNS; run++) {
      const r = await failoverRun(run, cluster, producer);
      runs.push(r);
      process.stdout.write(
        `failover run ${run}: killed ${r.killedLeader}${r.killedQuorumLeader ? ' (also the quorum leader)' : ''}, produce ok at ${r.newLeader} after ${r.failoverMs.toFixed(0)} ms (leader in metadata after ${r.leaderInMetadataMs.toFixed(0)} ms, epoch ${r.leaderEpochBefore} -> ${r.leaderEpochAfter}, ${r.attempts} attempts: ${JSON.stringify(r.errors)}), ISR 3 again ${r.rejoinMs.toFixed(0)} ms after the restart\n`,
      );
    }
    const failoverMs = runs.map((r) => r.failoverMs);
    const metadataMs = runs.map((r) => r.leaderInMetadataMs);
    const split = (controller: boolean) => {
      const values = runs.filter((r) => r.killedQuorumLeader === controller).map((r) => r.failoverMs);
      return values.length === 0 ? null : { runs: values.length, medianMs: median(values), maxMs: Math.max(...values) };
    };
    const splitCell = (controller: boolean) => {
      const part = split(controller);
      return part
        ? `${part.runs} runs: median ${part.medianMs.toFixed(0)} ms, max ${part.maxMs.toFixed(0)} ms`
        : 'no runs';
    };
    const lines = [
      '',
      `partition-leader failover: RF3, min.insync.replicas 2, acks=all producer (one request at a time, ${RETRY_BACKOFF_MS} ms back-off), kill -9 of the leader, ${FAILOVER_RUNS} runs, broker.session.timeout.ms=${config['broker.session.timeout.ms']}`,
      '',
      '| kill -9 to ... | median ms | p90 ms | max ms |',
      '|---|---:|---:|---:|',
      `| first acks=all produce acknowledged by the new leader | ${median(failoverMs).toFixed(0)} | ${percentile(failoverMs, 90).toFixed(0)} | ${Math.max(...failoverMs).toFixed(0)} |`,
      `| new leader named in Metadata (producer's view) | ${median(metadataMs).toFixed(0)} | ${percentile(metadataMs, 90).toFixed(0)} | ${Math.max(...metadataMs).toFixed(0)} |`,
      '',
      `all samples (ms): ${failoverMs.map((v) => v.toFixed(0)).join(', ')}`,
      `killed leader was also the metadata quorum leader: ${splitCell(true)}; was not: ${splitCell(false)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    return {
      config: { ...config, 'replica.lag.time.max.ms': '30000 (default)', 'min.insync.replicas': '2 (topic)' },
      runs: FAILOVER_RUNS,
      producer: `Produce v${PRODUCE_VERSION} acks=all, one ${FAILOVER_RECORD_BYTES} B record per request, one request at a time, timeout ${FAILOVER_PRODUCE_TIMEOUT_MS} ms, ${RETRY_BACKOFF_MS} ms back-off before asking Metadata again`,
      failoverMs: {
        medianMs: median(failoverMs),
        p90Ms: percentile(failoverMs, 90),
        maxMs: Math.max(...failoverMs),
        samplesMs: failoverMs,
      },
      failoverMsKilledQuorumLeader: split(true),
      failoverMsKilledOtherBroker: split(false),
      leaderInMetadataMs: {
        medianMs: median(metadataMs),
        p90Ms: percentile(metadataMs, 90),
        maxMs: Math.max(...metadataMs),
      },
      acknowledgedProduces: producer.successes,
      runsDetail: runs,
    };
  } finally {
    await producer.stop();
    await Promise.all(cluster.nodes.map(stopNode));
  }
}

// ---- Driver. ----

export async function main(): Promise<Record<string, unknown>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-replication-bench-'));
  // If the bench dies on an exception, the nodes it started die with it.
  const forgetKillOnExit = killAllOnExit();
  const results: Record<string, unknown> = {
    environment: environment(),
    uncommittedChanges: uncommittedChanges(),
    mode: quick ? 'quick' : 'full',
    nodes: 3,
    overrides,
  };
  try {
    if (!failoverOnly) results.throughput = await throughput(base);
    if (!throughputOnly) results.failover = await failover(base);
  } catch (error) {
    printLogTails();
    throw error;
  } finally {
    for (const node of [...admins.keys()]) dropAdmin(node);
    await stopAll();
    forgetKillOnExit();
    fs.rmSync(base, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  main().then(
    (results) => process.stdout.write(`written ${writeResult(quick ? 'replication-quick' : 'replication', results)}\n`),
    (error) => {
      process.stderr.write(`replication bench failed: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
