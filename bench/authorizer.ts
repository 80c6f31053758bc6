// The authorizer's cost on the produce path, in one run: two broker processes that differ
// only in authorizer.class.name. One has no authorizer; the other has Kafka's
// StandardAuthorizer with 1,000 ACLs, one of which lets the producer's principal
// (User:ANONYMOUS on the PLAINTEXT listener) Write the bench topics while the rest name
// other topics and principals. Both are loaded in turn by the same pipelined protocol-level
// generator (produce 1 KiB records, acks=1, four partitions per request), rounds in ABBA
// order; each row reports throughput, p50/p99 and the broker's CPU seconds per MB, then the
// authorizer/none ratios. Setup (brokers, ACLs, topics, frames) stays outside the timed regions.
// First, in this process, the cost of one decision with those ACLs, cached and computed.
// Usage: node dist/bench/authorizer.js [--quick] [--control]  (--control: an A/A run, both
// brokers without an authorizer, to see how far two equal brokers differ on this machine)

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../protocol/api-keys';
import { ErrorCode } from '../protocol/errors';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { KafkaConnection } from '../src/net/kafka-connection';
import { MetadataImage } from '../src/controller/metadata-image';
import { AclOperation, Authorizer, ResourceType } from '../src/security/acl';
import { ANONYMOUS } from '../src/security/principal';
import { BENCH_TOPIC_PREFIX, benchAcls } from './lib/acl-broker';
import { environment, writeResult } from './lib/env';
import { LatencySummary, runProduce } from './lib/load';
import { cpuSeconds, freePort, sleep } from './lib/process';

const quick = process.argv.includes('--quick');
/** --control: the second broker without an authorizer too (an A/A run: how far two equal brokers differ). */
const control = process.argv.includes('--control');
const ROUNDS = quick ? 2 : 4;
const DURATION_MS = quick ? 300 : 3000;
const ACL_COUNT = 1000;
const PARTITIONS = 8;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 64;
const PARTITIONS_PER_REQUEST = 4;
const CONNECTIONS = 2;
const INFLIGHT_PER_CONNECTION = 8;
const READY_DEADLINE_MS = 30_000;
const AUTHORIZER_CLASS = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

interface Broker {
  name: string;
  child: ChildProcess;
  port: number;
}

/** Starts bench/lib/acl-broker.js; resolves once it has its ACLs and says ready. */
async function startBroker(name: string, config: Record<string, string>, aclSet: string): Promise<Broker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `brook-bench-authz-${name}-`));
  const configFile = `${dataDir}.properties`;
  fs.writeFileSync(
    configFile,
    Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'lib', 'acl-broker.js'), String(port), String(await freePort()), dataDir, configFile, aclSet],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.once('exit', () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(configFile, { force: true });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${name} broker was not ready within ${READY_DEADLINE_MS} ms`));
    }, READY_DEADLINE_MS);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} broker exited with ${code} before it was ready`));
    });
  });
  return { name, child, port };
}

async function stopBroker(broker: Broker): Promise<void> {
  if (broker.child.exitCode !== null || broker.child.signalCode !== null) return;
  const exited = new Promise((resolve) => broker.child.once('exit', resolve));
  broker.child.kill('SIGTERM');
  await exited;
}

/** Creates the topic and waits until every partition takes a produce. */
async function createTopic(broker: Broker, topic: string): Promise<void> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10_000 });
  await connection.connect();
  try {
    const created = await connection.request(ApiKey.CreateTopics, 4, {
      topics: [{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    if (created.topics[0].errorCode !== 0) throw new Error(`CreateTopics ${topic}: ${created.topics[0].errorCode}`);
    const records = encodeRecordBatchSync({ records: [{ value: Buffer.from('probe'), timestamp: Date.now() }] });
    for (let attempt = 0; ; attempt++) {
      const answer = await connection.request(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 10_000,
        topicData: [
          { name: topic, partitionData: Array.from({ length: PARTITIONS }, (_, index) => ({ index, records })) },
        ],
      });
      const failed = answer.responses[0].partitionResponses.filter((p) => p.errorCode !== 0);
      if (failed.length === 0) return;
      if (attempt >= 200) throw new Error(`${topic} does not take produce: error ${failed[0].errorCode}`);
      await sleep(50);
    }
  } finally {
    connection.close();
  }
}

/** The authorizer is on: a topic the producer's ACL does not cover is refused. */
async function checkEnforced(broker: Broker): Promise<void> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10_000 });
  await connection.connect();
  try {
    const records = encodeRecordBatchSync({ records: [{ value: Buffer.from('probe'), timestamp: Date.now() }] });
    const answer = await connection.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 10_000,
      topicData: [{ name: 'other-1', partitionData: [{ index: 0, records }] }],
    });
    const code = answer.responses[0].partitionResponses[0].errorCode;
    if (code !== ErrorCode.TOPIC_AUTHORIZATION_FAILED)
      throw new Error(`the authorizer broker answered ${code} for a topic outside the producer's ACL`);
  } finally {
    connection.close();
  }
}

/**
 * The decision itself, in this process: authorize() of the producer's Write on a bench
 * topic with the 1,000 ACLs, answered from the cache (the steady state of a producer) and
 * computed afresh (a new topic or principal, or right after an ACL change).
 */
function decisionCost(): { cachedNanoseconds: number; uncachedMicroseconds: number } {
  const image = new MetadataImage();
  benchAcls(ACL_COUNT).forEach((binding, i) => {
    const id = Buffer.alloc(16);
    id.writeUInt32BE(i + 1, 12);
    image.apply({ type: 'AccessControlEntry', data: { id: id.toString('base64url'), ...binding } }, i);
  });
  const authorizer = new Authorizer(image, { superUsers: new Set(), allowEveryoneIfNoAclFound: false });
  const topic = `${BENCH_TOPIC_PREFIX}0`;
  const cachedCalls = quick ? 100_000 : 2_000_000;
  let allowed = 0;
  let started = process.hrtime.bigint();
  for (let i = 0; i < cachedCalls; i++)
    if (authorizer.authorize(ANONYMOUS, '127.0.0.1', AclOperation.WRITE, ResourceType.TOPIC, topic)) allowed++;
  const cachedNanoseconds = Number(process.hrtime.bigint() - started) / cachedCalls;
  const names = Array.from({ length: quick ? 1000 : 20_000 }, (_, i) => `${BENCH_TOPIC_PREFIX}fresh-${i}`);
  started = process.hrtime.bigint();
  for (const name of names)
    if (authorizer.authorize(ANONYMOUS, '127.0.0.1', AclOperation.WRITE, ResourceType.TOPIC, name)) allowed++;
  const uncachedMicroseconds = Number(process.hrtime.bigint() - started) / 1000 / names.length;
  if (allowed !== cachedCalls + names.length) throw new Error('the producer was refused by its own ACL');
  return { cachedNanoseconds, uncachedMicroseconds };
}

interface Row {
  megabytesPerSecond: number;
  recordsPerSecond: number;
  requests: number;
  errors: number;
  brokerCpuSeconds: number;
  brokerCpuSecondsPerMegabyte: number;
  latency: LatencySummary;
  rounds?: number[];
}

async function produce(broker: Broker, topic: string): Promise<Row> {
  const cpuBefore = cpuSeconds(broker.child.pid);
  const result = await runProduce({
    host: '127.0.0.1',
    port: broker.port,
    topic,
    partitions: PARTITIONS,
    recordBytes: RECORD_BYTES,
    recordsPerBatch: RECORDS_PER_BATCH,
    partitionsPerRequest: PARTITIONS_PER_REQUEST,
    acks: 1,
    connections: CONNECTIONS,
    inflightPerConnection: INFLIGHT_PER_CONNECTION,
    durationMs: DURATION_MS,
    offeredBytesPerSecond: 0,
  });
  const cpu = cpuSeconds(broker.child.pid) - cpuBefore;
  return {
    megabytesPerSecond: result.megabytesPerSecond,
    recordsPerSecond: result.recordsPerSecond,
    requests: result.requests,
    errors: result.errors,
    brokerCpuSeconds: cpu,
    brokerCpuSecondsPerMegabyte: cpu / (result.bytes / 1e6),
    latency: result.latency,
  };
}

/** The round with the median throughput (the lower middle one for an even count). */
function median(rows: Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.megabytesPerSecond - b.megabytesPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: rows.map((r) => r.megabytesPerSecond) };
}

function line(name: string, r: Row): string {
  return (
    `${name}: ${r.megabytesPerSecond.toFixed(0)} MB/s, ${Math.round(r.recordsPerSecond).toLocaleString('en')} records/s, ` +
    `p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, p99.9 ${r.latency.p999Ms.toFixed(2)} ms, ` +
    `broker CPU ${(r.brokerCpuSecondsPerMegabyte * 1000).toFixed(2)} ms/MB (${r.requests} requests, ${r.errors} errors)\n`
  );
}

export async function main(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    control,
    durationMs: DURATION_MS,
    rounds: ROUNDS,
    parameters: {
      acls: ACL_COUNT,
      producerAcl: `ALLOW User:ANONYMOUS WRITE on TOPIC ${BENCH_TOPIC_PREFIX} (PREFIXED)`,
      authorizer: AUTHORIZER_CLASS,
      recordBytes: RECORD_BYTES,
      recordsPerBatch: RECORDS_PER_BATCH,
      partitionsPerRequest: PARTITIONS_PER_REQUEST,
      partitions: PARTITIONS,
      acks: 1,
      replicationFactor: 1,
      connections: CONNECTIONS,
      inflightPerConnection: INFLIGHT_PER_CONNECTION,
    },
  };
  const decision = decisionCost();
  process.stdout.write(
    `authorize() with ${ACL_COUNT} ACLs: ${decision.cachedNanoseconds.toFixed(0)} ns cached, ` +
      `${decision.uncachedMicroseconds.toFixed(1)} us computed\n`,
  );
  results.decision = decision;
  const brokers = {
    none: await startBroker('none', {}, 'none'),
    authorizer: control
      ? await startBroker('authorizer', {}, 'none')
      : await startBroker('authorizer', { 'authorizer.class.name': AUTHORIZER_CLASS }, `bench:${ACL_COUNT}`),
  };
  try {
    for (const broker of Object.values(brokers))
      for (let round = 0; round < ROUNDS; round++) await createTopic(broker, `${BENCH_TOPIC_PREFIX}${round}`);
    if (!control) await checkEnforced(brokers.authorizer);
    // ABBA: each broker loaded alone while the other idles, so load elsewhere on the
    // machine falls on both alike; each row is the median of its rounds.
    const rounds: Record<'none' | 'authorizer', Row[]> = { none: [], authorizer: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['none', 'authorizer'] as const) : (['authorizer', 'none'] as const);
      for (const name of order) rounds[name].push(await produce(brokers[name], `${BENCH_TOPIC_PREFIX}${round}`));
    }
    const produced = { none: median(rounds.none), authorizer: median(rounds.authorizer) };
    process.stdout.write(line('produce 1 KiB records acks=1 no authorizer', produced.none));
    const second = control ? 'second broker without an authorizer (control)' : `authorizer with ${ACL_COUNT} ACLs`;
    process.stdout.write(line(`produce 1 KiB records acks=1 ${second}`, produced.authorizer));
    const ratios = {
      produceThroughput: produced.authorizer.megabytesPerSecond / produced.none.megabytesPerSecond,
      produceCpuPerMegabyte:
        produced.authorizer.brokerCpuSecondsPerMegabyte / produced.none.brokerCpuSecondsPerMegabyte,
      produceP99: produced.authorizer.latency.p99Ms / produced.none.latency.p99Ms,
    };
    process.stdout.write(
      `${control ? 'control/none (A/A)' : `authorizer/none (${ACL_COUNT} ACLs)`}: produce throughput ${ratios.produceThroughput.toFixed(2)}x, ` +
        `broker CPU/MB ${ratios.produceCpuPerMegabyte.toFixed(2)}x, p99 ${ratios.produceP99.toFixed(2)}x\n`,
    );
    Object.assign(results, { produce: produced, ratios });
  } finally {
    await stopBroker(brokers.none);
    await stopBroker(brokers.authorizer);
  }
  return results;
}

if (require.main === module) {
  main().then(
    (results) => {
      const file = writeResult(`authorizer${control ? '-control' : ''}${quick ? '-quick' : ''}`, results);
      process.stdout.write(`written ${file}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
