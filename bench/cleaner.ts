// What the log cleaner costs the ordinary partitions of its broker, in one run: three
// broker processes that differ only in where cleaning passes run. `none` has the cleaner
// off (the control); `pool` cleans on its worker thread (the default); `inline` cleans on
// the event loop (brook.log.cleaner.inline=true). Each round gives every broker a fresh
// compacted topic pre-filled with many overwrites of a bounded key set in small segments
// (min.cleanable.dirty.ratio=1, so nothing is cleaned yet), then turns its
// min.cleanable.dirty.ratio down to 0.01 and at once starts a pipelined produce load
// (1 KiB records, acks=1) on ordinary partitions. The load runs until the cleaner has
// finished a pass of every partition of the compacted topic (the control: a fixed window),
// so its p99, MB/s and broker CPU per MB (cleaning included) are those of a broker that is
// cleaning. Rounds go in ABBA order; each row is the median round; the ratios are against
// the control. Pre-fill and topic setup stay outside the timed regions.
// Usage: node dist/bench/cleaner.js [--quick]

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../protocol/api-keys';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { KafkaConnection } from '../src/net/kafka-connection';
import { environment, writeResult } from './lib/env';
import { LatencySummary, runProduce } from './lib/load';
import { cpuSeconds, freePort, sleep } from './lib/process';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 4;
/** The control's load window, and the least any window lasts. */
const CONTROL_MS = quick ? 400 : 3000;
/** Longest a window waits for the cleaner to finish. */
const WINDOW_MAX_MS = quick ? 20_000 : 120_000;
const COMPACTED_PARTITIONS = 4;
/** Bytes of records written to each compacted partition before a pass. */
const COMPACTED_BYTES_PER_PARTITION = quick ? 1024 * 1024 : 32 * 1024 * 1024;
const COMPACTED_SEGMENT_BYTES = quick ? 128 * 1024 : 1024 * 1024;
const KEYS_PER_PARTITION = quick ? 200 : 2000;
const COMPACTED_VALUE_BYTES = 1000;
const COMPACTED_RECORDS_PER_BATCH = 50;
const LOAD_PARTITIONS = 8;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 64;
const PARTITIONS_PER_REQUEST = 4;
const CONNECTIONS = 2;
const INFLIGHT_PER_CONNECTION = 4;
const READY_DEADLINE_MS = 30_000;
/** Offset maps of 16 MB (plenty for these keys) keep three brokers light on a shared machine. */
const DEDUPE_BUFFER_BYTES = 16 * 1024 * 1024;

type Mode = 'none' | 'pool' | 'inline';
const MODES: Mode[] = ['none', 'pool', 'inline'];

interface Broker {
  mode: Mode;
  child: ChildProcess;
  port: number;
  httpPort: number;
}

async function startBroker(mode: Mode): Promise<Broker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `brook-bench-cleaner-${mode}-`));
  const configFile = `${dataDir}.properties`;
  const config: Record<string, string> = {
    'log.cleaner.enable': String(mode !== 'none'),
    'log.cleaner.backoff.ms': '100',
    'log.cleaner.dedupe.buffer.size': String(DEDUPE_BUFFER_BYTES),
    'brook.log.cleaner.inline': String(mode === 'inline'),
  };
  fs.writeFileSync(
    configFile,
    Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const port = await freePort();
  const httpPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, '..', '..', 'scripts', 'brook.js'),
      'server',
      '--listen',
      `127.0.0.1:${port}`,
      '--controller-listen',
      `127.0.0.1:${await freePort()}`,
      '--http',
      `127.0.0.1:${httpPort}`,
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--config',
      configFile,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  child.once('exit', () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(configFile, { force: true });
  });
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the ${mode} broker exited with ${child.exitCode} before it was ready`);
    try {
      const probe = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 1000 });
      await probe.connect();
      await probe.request(ApiKey.ApiVersions, 0, {});
      probe.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the ${mode} broker was not ready within ${READY_DEADLINE_MS} ms`);
      }
      await sleep(50);
    }
  }
  return { mode, child, port, httpPort };
}

async function stopBroker(broker: Broker): Promise<void> {
  if (broker.child.exitCode !== null || broker.child.signalCode !== null) return;
  const exited = new Promise((resolve) => broker.child.once('exit', resolve));
  broker.child.kill('SIGTERM');
  await exited;
}

/** The broker's log cleaner counters from /metrics. */
function cleanerCounters(broker: Broker): Promise<{ runs: number; bytesRead: number; bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: broker.httpPort, path: '/metrics', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? 0);
        resolve({
          runs: value('brook_log_cleaner_runs_total'),
          bytesRead: value('brook_log_cleaner_read_bytes_total'),
          bytesWritten: value('brook_log_cleaner_written_bytes_total'),
        });
      });
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('/metrics timed out')));
  });
}

async function withConnection<T>(broker: Broker, work: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 30_000 });
  await connection.connect();
  try {
    return await work(connection);
  } finally {
    connection.close();
  }
}

async function createTopic(
  connection: KafkaConnection,
  topic: string,
  partitions: number,
  configs: Record<string, string>,
): Promise<void> {
  const created = await connection.request(ApiKey.CreateTopics, 4, {
    topics: [
      {
        name: topic,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  if (created.topics[0].errorCode !== 0) throw new Error(`CreateTopics ${topic}: ${created.topics[0].errorCode}`);
}

/** Produces batches until every partition took them (a new topic's leaders take a moment). */
async function produceAll(
  connection: KafkaConnection,
  topic: string,
  partitionData: { index: number; records: Buffer }[],
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const answer = await connection.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData }],
    });
    const failed = answer.responses[0].partitionResponses.filter((p) => p.errorCode !== 0);
    if (failed.length === 0) return;
    if (attempt >= 200) throw new Error(`${topic} does not take produce: error ${failed[0].errorCode}`);
    partitionData = partitionData.filter((d) => failed.some((f) => f.index === d.index));
    await sleep(50);
  }
}

/**
 * The round's compacted topic, written full of overwrites (every key about
 * COMPACTED_BYTES_PER_PARTITION / KEYS_PER_PARTITION / value size times), and the load topic.
 */
async function prepareRound(broker: Broker, round: number): Promise<void> {
  await withConnection(broker, async (connection) => {
    const compacted = `compacted-${round}`;
    await createTopic(connection, compacted, COMPACTED_PARTITIONS, {
      'cleanup.policy': 'compact',
      'segment.bytes': String(COMPACTED_SEGMENT_BYTES),
      'min.cleanable.dirty.ratio': '1',
    });
    const load = `load-${round}`;
    await createTopic(connection, load, LOAD_PARTITIONS, {});
    const probe = encodeRecordBatchSync({ records: [{ value: Buffer.from('probe'), timestamp: Date.now() }] });
    await produceAll(
      connection,
      load,
      Array.from({ length: LOAD_PARTITIONS }, (_, index) => ({ index, records: probe })),
    );
    const value = Buffer.alloc(COMPACTED_VALUE_BYTES, 0x62);
    const batchBytes = COMPACTED_RECORDS_PER_BATCH * COMPACTED_VALUE_BYTES;
    const batches = Math.ceil(COMPACTED_BYTES_PER_PARTITION / batchBytes);
    let sequence = 0;
    for (let b = 0; b < batches; b++) {
      const partitionData = Array.from({ length: COMPACTED_PARTITIONS }, (_, index) => ({
        index,
        records: encodeRecordBatchSync({
          records: Array.from({ length: COMPACTED_RECORDS_PER_BATCH }, () => ({
            key: `key-${sequence++ % KEYS_PER_PARTITION}`,
            value,
            timestamp: Date.now(),
          })),
        }),
      }));
      await produceAll(connection, compacted, partitionData);
    }
  });
}

/** Turns the round's compacted topic cleanable: the cleaner takes it within its backoff. */
async function triggerCleaning(broker: Broker, round: number): Promise<void> {
  await withConnection(broker, async (connection) => {
    const answer = await connection.request(ApiKey.IncrementalAlterConfigs, 0, {
      resources: [
        {
          resourceType: 2,
          resourceName: `compacted-${round}`,
          configs: [{ name: 'min.cleanable.dirty.ratio', configOperation: 0, value: '0.01' }],
        },
      ],
      validateOnly: false,
    });
    const code = answer.responses[0].errorCode;
    if (code !== 0) throw new Error(`IncrementalAlterConfigs: error ${code}`);
  });
}

async function deleteRoundTopics(broker: Broker, round: number): Promise<void> {
  await withConnection(broker, async (connection) => {
    await connection.request(ApiKey.DeleteTopics, 1, {
      topicNames: [`compacted-${round}`, `load-${round}`],
      timeoutMs: 10_000,
    });
  });
}

interface Row {
  megabytesPerSecond: number;
  recordsPerSecond: number;
  requests: number;
  errors: number;
  windowSeconds: number;
  brokerCpuSeconds: number;
  brokerCpuSecondsPerMegabyte: number;
  latency: LatencySummary;
  cleanerPasses: number;
  cleanerBytesRead: number;
  cleanerBytesWritten: number;
  /** Seconds from the trigger until the last pass of the round finished (0: the control). */
  cleaningSeconds: number;
  cleanerReadMegabytesPerSecond: number;
  rounds?: number[];
  p99Rounds?: number[];
}

async function measure(broker: Broker, round: number): Promise<Row> {
  const before = await cleanerCounters(broker);
  const cpuBefore = cpuSeconds(broker.child.pid);
  await triggerCleaning(broker, round);
  const triggered = Date.now();
  let latest = before;
  let cleanedAtMs = 0;
  let polling = broker.mode !== 'none';
  // Polled from this process while the load runs: the load stops once every partition of
  // the compacted topic has had its pass.
  const poller = (async () => {
    while (polling) {
      await sleep(50);
      latest = await cleanerCounters(broker);
      if (latest.runs - before.runs >= COMPACTED_PARTITIONS) {
        cleanedAtMs = Date.now();
        polling = false;
      }
    }
  })();
  const result = await runProduce({
    host: '127.0.0.1',
    port: broker.port,
    topic: `load-${round}`,
    partitions: LOAD_PARTITIONS,
    recordBytes: RECORD_BYTES,
    recordsPerBatch: RECORDS_PER_BATCH,
    partitionsPerRequest: PARTITIONS_PER_REQUEST,
    acks: 1,
    connections: CONNECTIONS,
    inflightPerConnection: INFLIGHT_PER_CONNECTION,
    durationMs: broker.mode === 'none' ? CONTROL_MS : WINDOW_MAX_MS,
    until: () => broker.mode !== 'none' && cleanedAtMs > 0,
    offeredBytesPerSecond: 0,
  });
  const cpu = cpuSeconds(broker.child.pid) - cpuBefore;
  polling = false;
  await poller;
  if (broker.mode !== 'none' && cleanedAtMs === 0)
    throw new Error(`the ${broker.mode} broker did not clean within ${WINDOW_MAX_MS} ms`);
  const after = broker.mode === 'none' ? before : latest;
  const cleaningSeconds = cleanedAtMs > 0 ? (cleanedAtMs - triggered) / 1000 : 0;
  return {
    megabytesPerSecond: result.megabytesPerSecond,
    recordsPerSecond: result.recordsPerSecond,
    requests: result.requests,
    errors: result.errors,
    windowSeconds: result.seconds,
    brokerCpuSeconds: cpu,
    brokerCpuSecondsPerMegabyte: cpu / (result.bytes / 1e6),
    latency: result.latency,
    cleanerPasses: after.runs - before.runs,
    cleanerBytesRead: after.bytesRead - before.bytesRead,
    cleanerBytesWritten: after.bytesWritten - before.bytesWritten,
    cleaningSeconds,
    cleanerReadMegabytesPerSecond:
      cleaningSeconds > 0 ? (after.bytesRead - before.bytesRead) / 1e6 / cleaningSeconds : 0,
  };
}

/** The round with the median p99 (the lower middle one for an even count). */
function median(rows: Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.latency.p99Ms - b.latency.p99Ms);
  return {
    ...sorted[Math.floor((sorted.length - 1) / 2)],
    rounds: rows.map((r) => r.megabytesPerSecond),
    p99Rounds: rows.map((r) => r.latency.p99Ms),
  };
}

function line(mode: Mode, r: Row): string {
  const cleaning =
    mode === 'none'
      ? 'cleaner off'
      : `cleaner ${r.cleanerPasses} passes, read ${(r.cleanerBytesRead / 1e6).toFixed(1)} MB in ${r.cleaningSeconds.toFixed(2)} s ` +
        `(${r.cleanerReadMegabytesPerSecond.toFixed(0)} MB/s), wrote ${(r.cleanerBytesWritten / 1e6).toFixed(1)} MB`;
  return (
    `produce 1 KiB records acks=1 while cleaning, ${mode}: ${r.megabytesPerSecond.toFixed(0)} MB/s, ` +
    `p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, max ${r.latency.maxMs.toFixed(2)} ms, ` +
    `broker CPU ${(r.brokerCpuSecondsPerMegabyte * 1000).toFixed(2)} ms/MB; ${cleaning} ` +
    `(${r.requests} requests, ${r.errors} errors)\n`
  );
}

export async function main(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    rounds: ROUNDS,
    parameters: {
      controlWindowMs: CONTROL_MS,
      compactedPartitions: COMPACTED_PARTITIONS,
      compactedBytesPerPartition: COMPACTED_BYTES_PER_PARTITION,
      compactedSegmentBytes: COMPACTED_SEGMENT_BYTES,
      keysPerPartition: KEYS_PER_PARTITION,
      compactedValueBytes: COMPACTED_VALUE_BYTES,
      dedupeBufferBytes: DEDUPE_BUFFER_BYTES,
      cleanerThreads: 1,
      recordBytes: RECORD_BYTES,
      recordsPerBatch: RECORDS_PER_BATCH,
      partitionsPerRequest: PARTITIONS_PER_REQUEST,
      loadPartitions: LOAD_PARTITIONS,
      acks: 1,
      connections: CONNECTIONS,
      inflightPerConnection: INFLIGHT_PER_CONNECTION,
    },
  };
  const brokers: Partial<Record<Mode, Broker>> = {};
  try {
    for (const mode of MODES) brokers[mode] = await startBroker(mode);
    const rounds: Record<Mode, Row[]> = { none: [], pool: [], inline: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA over three: none, pool, inline, then inline, pool, none.
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const broker = brokers[mode]!;
        await prepareRound(broker, round);
        rounds[mode].push(await measure(broker, round));
        await deleteRoundTopics(broker, round);
      }
    }
    const rows = { none: median(rounds.none), pool: median(rounds.pool), inline: median(rounds.inline) };
    for (const mode of MODES) process.stdout.write(line(mode, rows[mode]));
    const ratio = (mode: Mode) => ({
      produceThroughput: rows[mode].megabytesPerSecond / rows.none.megabytesPerSecond,
      produceCpuPerMegabyte: rows[mode].brokerCpuSecondsPerMegabyte / rows.none.brokerCpuSecondsPerMegabyte,
      produceP99: rows[mode].latency.p99Ms / rows.none.latency.p99Ms,
    });
    const ratios = { pool: ratio('pool'), inline: ratio('inline') };
    for (const mode of ['pool', 'inline'] as const)
      process.stdout.write(
        `cleaner ${mode}/none: produce throughput ${ratios[mode].produceThroughput.toFixed(2)}x, ` +
          `broker CPU/MB ${ratios[mode].produceCpuPerMegabyte.toFixed(2)}x, p99 ${ratios[mode].produceP99.toFixed(2)}x\n`,
      );
    Object.assign(results, { produce: rows, ratios });
  } finally {
    for (const broker of Object.values(brokers)) await stopBroker(broker);
  }
  return results;
}

if (require.main === module) {
  main().then(
    (results) => {
      const file = writeResult(`cleaner${quick ? '-quick' : ''}`, results);
      process.stdout.write(`written ${file}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
