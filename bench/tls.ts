// Plaintext against TLS on the Kafka listener, in one run: two broker processes that
// differ only in their listener (PLAINTEXT, or SSL with an ECDSA P-256 certificate from
// src/security/certs.ts), loaded in turn by the same pipelined protocol-level generator
// over net or tls sockets. Rows: produce 1 KiB records with acks=1, then fetch of the
// stored data; each with throughput, latency and the broker's CPU seconds per MB moved,
// and the TLS/plaintext ratios. A second pair of rows does the same with replication: two
// three-process clusters, one all PLAINTEXT and one whose single broker listener (clients
// and inter-broker replication alike) is SSL, an RF3 topic (min.insync.replicas 2, leaders
// spread over the three nodes), produce with acks=all and fetch from the leaders; broker
// CPU is the sum of the three processes. Setup (certificates, brokers, topics, frames)
// stays outside the timed regions.
// Usage: node dist/bench/tls.js [--quick] [--cpu-prof DIR]  (profiles of both brokers in DIR/plaintext, DIR/tls)

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { spawn, ChildProcess } from 'node:child_process';
import { requestCodec, responseCodec } from '../protocol/codec';
import { encodeRequestFrame, FrameAssembler } from '../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../protocol/header';
import { Reader } from '../protocol/primitives';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { createCertificateAuthority, issueCertificate } from '../src/security/certs';
import type { ClientSecurity } from '../src/security/client-config';
import { BrokerCluster } from './lib/cluster';
import { environment, writeResult } from './lib/env';
import { LatencyLog, LatencySummary, summarise } from './lib/load';
import { cpuSeconds, freePort, killAllOnExit, printLogTails, sleep, stopAll, until } from './lib/process';

const quick = process.argv.includes('--quick');
const profileDir = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : null;
const ROUNDS = quick ? 2 : 4;
const DURATION_MS = quick ? 300 : 3000;
const PARTITIONS = 8;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 64;
const PARTITIONS_PER_REQUEST = 4;
const CONNECTIONS = 2;
const INFLIGHT_PER_CONNECTION = 8;
const FETCH_MAX_BYTES = 8 * 1024 * 1024;
const PRODUCE_VERSION = 7;
const FETCH_VERSION = 11;
const METADATA_VERSION = 9;
const CLUSTER_NODES = 3;
/** RF3 topic: four partitions led by each node, so a request holds PARTITIONS_PER_REQUEST batches as above. */
const CLUSTER_PARTITIONS = CLUSTER_NODES * PARTITIONS_PER_REQUEST;
const CLUSTER_READY_DEADLINE_MS = 40_000;
const CLUSTER_SETTLE_DEADLINE_MS = 60_000;

type Transport = { kind: 'plaintext' } | { kind: 'tls'; ca: string };

/** One client connection: pipelined requests, responses matched in order. */
class Pipe {
  private readonly waiting: { resolve: (body: Buffer) => void; reject: (error: Error) => void }[] = [];
  private readonly assembler = new FrameAssembler(256 * 1024 * 1024);
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.assembler.push(chunk)) this.waiting.shift()?.resolve(frame);
    });
    socket.on('error', () => undefined);
    // A broker still starting closes connections at once: every request waiting fails.
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('connection closed'));
    });
  }

  static open(port: number, transport: Transport): Promise<Pipe> {
    return new Promise((resolve, reject) => {
      const socket =
        transport.kind === 'tls'
          ? tls.connect({ host: '127.0.0.1', port, ca: transport.ca })
          : net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.setNoDelay(true);
      socket.once(transport.kind === 'tls' ? 'secureConnect' : 'connect', () => resolve(new Pipe(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a whole frame; resolves with the response frame after its size prefix. */
  send(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.waiting.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  async request(apiKey: number, version: number, body: unknown, correlationId = 1): Promise<any> {
    const frame = encodeRequestFrame(
      { apiKey, apiVersion: version, correlationId, clientId: 'bench-tls' },
      requestCodec(apiKey, version),
      body,
    );
    const reader = new Reader(await this.send(frame));
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, version));
    return responseCodec(apiKey, version).decode(reader);
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Broker {
  child: ChildProcess;
  port: number;
  transport: Transport;
}

/** What a row loads: per node, its Kafka port and the partitions it leads; the broker PIDs whose CPU counts. */
interface Target {
  transport: Transport;
  legs: { port: number; partitions: number[] }[];
  pids(): (number | undefined)[];
}

function brokerTarget(broker: Broker): Target {
  return {
    transport: broker.transport,
    legs: [{ port: broker.port, partitions: Array.from({ length: PARTITIONS }, (_, p) => p) }],
    pids: () => [broker.child.pid],
  };
}

/** Partition p of a cluster topic is led by node (p mod 3) + 1, followed by the next ones. */
function clusterTarget(cluster: BrokerCluster, transport: Transport): Target {
  return {
    transport,
    legs: cluster.nodes.map((node, i) => ({
      port: node.port,
      partitions: Array.from({ length: CLUSTER_PARTITIONS }, (_, p) => p).filter((p) => p % CLUSTER_NODES === i),
    })),
    pids: () => cluster.pids,
  };
}

function brokerCpuSeconds(target: Target): number {
  return target.pids().reduce((sum: number, pid) => sum + cpuSeconds(pid), 0);
}

async function startBroker(name: string, transport: Transport, config: Record<string, string>): Promise<Broker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `brook-bench-${name}-`));
  const port = await freePort();
  const configFile = path.join(dataDir, '..', `${path.basename(dataDir)}.properties`);
  const settings = transport.kind === 'tls' ? { listeners: `SSL://127.0.0.1:${port}`, ...config } : config;
  fs.writeFileSync(
    configFile,
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir, name)] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      path.join(__dirname, '..', '..', 'scripts', 'brook.js'),
      'server',
      // listeners= names the TLS listener; --listen is the plaintext one's shorthand.
      ...(transport.kind === 'tls' ? [] : ['--listen', `127.0.0.1:${port}`]),
      '--controller-listen',
      `127.0.0.1:${await freePort()}`,
      '--http',
      'off',
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
  for (let i = 0; i < 300; i++) {
    try {
      const probe = await Pipe.open(port, transport);
      await probe.request(18, 0, {});
      probe.close();
      return { child, port, transport };
    } catch {
      await sleep(50);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the ${name} broker did not start`);
}

async function stopBroker(broker: Broker): Promise<void> {
  if (broker.child.exitCode !== null) return;
  broker.child.kill('SIGTERM');
  await new Promise((resolve) => broker.child.once('exit', resolve));
}

async function createTopic(broker: Broker, topic: string): Promise<void> {
  const pipe = await Pipe.open(broker.port, broker.transport);
  await pipe.request(19, 4, {
    topics: [{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10000,
    validateOnly: false,
  });
  // Leaders are elected just after the topic is created: wait until a produce is accepted.
  for (let attempt = 0; attempt < 100; attempt++) {
    const frames = produceFrames(topic, brokerTarget(broker).legs[0].partitions, 1, 1, 1);
    const reader = new Reader(await pipe.send(frames[0]));
    decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
    const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
    const errors = response.responses[0].partitionResponses.filter((p: any) => p.errorCode !== 0);
    if (errors.length === 0) break;
    await sleep(50);
  }
  pipe.close();
}

/** Produce frames for `partitions`, PARTITIONS_PER_REQUEST of them per request in turn. */
function produceFrames(
  topic: string,
  partitions: number[],
  count: number,
  acks: number,
  recordsPerBatch = RECORDS_PER_BATCH,
): Buffer[] {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const batch = encodeRecordBatchSync({
    records: Array.from({ length: recordsPerBatch }, () => ({ value, timestamp: Date.now() })),
  });
  const perRequest = Math.min(PARTITIONS_PER_REQUEST, partitions.length);
  return Array.from({ length: count }, (_, i) => {
    const first = (i * perRequest) % partitions.length;
    return encodeRequestFrame(
      { apiKey: 0, apiVersion: PRODUCE_VERSION, correlationId: i, clientId: 'bench-tls' },
      requestCodec(0, PRODUCE_VERSION),
      {
        transactionalId: null,
        acks,
        timeoutMs: 30000,
        topicData: [
          {
            name: topic,
            partitionData: Array.from({ length: perRequest }, (_, j) => ({
              index: partitions[(first + j) % partitions.length],
              records: batch,
            })),
          },
        ],
      },
    );
  });
}

interface Row {
  megabytesPerSecond: number;
  recordsPerSecond: number;
  bytes: number;
  seconds: number;
  requests: number;
  errors: number;
  brokerCpuSeconds: number;
  brokerCpuSecondsPerMegabyte: number;
  latency: LatencySummary;
}

/** Closed loop: CONNECTIONS connections to each leader, INFLIGHT_PER_CONNECTION requests out on each. */
async function produce(target: Target, topic: string, acks: number): Promise<Row> {
  const legs = await Promise.all(
    target.legs.map(async (leg) => ({
      frames: produceFrames(topic, leg.partitions, 64, acks),
      pipes: await Promise.all(Array.from({ length: CONNECTIONS }, () => Pipe.open(leg.port, target.transport))),
    })),
  );
  const pipes = legs.flatMap((leg) => leg.pipes.map((pipe) => ({ pipe, frames: leg.frames })));
  const log = new LatencyLog();
  let requests = 0;
  let errors = 0;
  const cpuBefore = brokerCpuSeconds(target);
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(DURATION_MS) * 1_000_000n;
  await Promise.all(
    pipes.map(async ({ pipe, frames }) => {
      let sequence = 0;
      const worker = async () => {
        while (process.hrtime.bigint() < deadline) {
          const sent = process.hrtime.bigint();
          const reader = new Reader(await pipe.send(frames[sequence++ % frames.length]));
          log.record(Number(process.hrtime.bigint() - sent) / 1000);
          decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
          const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
          for (const p of response.responses[0].partitionResponses) if (p.errorCode !== 0) errors++;
          requests++;
        }
      };
      await Promise.all(Array.from({ length: INFLIGHT_PER_CONNECTION }, worker));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = brokerCpuSeconds(target) - cpuBefore;
  for (const { pipe } of pipes) pipe.close();
  const records = requests * RECORDS_PER_BATCH * PARTITIONS_PER_REQUEST;
  const bytes = records * RECORD_BYTES;
  return row(bytes, records, seconds, requests, errors, cpu, log);
}

/** Reads every partition from offset 0 to its high watermark at its leader (what the produce row stored). */
async function fetchAll(target: Target, topic: string): Promise<Row> {
  const endOffsets: number[] = [];
  for (const leg of target.legs) {
    const admin = await Pipe.open(leg.port, target.transport);
    const offsets = await admin.request(2, 2, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: leg.partitions.map((i) => ({ partitionIndex: i, timestamp: -1 })) }],
    });
    admin.close();
    for (const p of offsets.topics[0].partitions) endOffsets[p.partitionIndex] = Number(p.offset);
  }
  const pipes = (
    await Promise.all(
      target.legs.map((leg) =>
        Promise.all(
          Array.from({ length: CONNECTIONS }, async (_, c) => ({
            pipe: await Pipe.open(leg.port, target.transport),
            mine: leg.partitions.filter((_p, i) => i % CONNECTIONS === c),
          })),
        ),
      ),
    )
  ).flat();
  const log = new LatencyLog();
  let bytes = 0;
  let requests = 0;
  const cpuBefore = brokerCpuSeconds(target);
  const started = process.hrtime.bigint();
  await Promise.all(
    pipes.map(async ({ pipe, mine }) => {
      await Promise.all(
        mine.map(async (partition) => {
          let offset = 0;
          while (offset < endOffsets[partition]) {
            const sent = process.hrtime.bigint();
            const response = await pipe.request(
              1,
              FETCH_VERSION,
              {
                replicaId: -1,
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: FETCH_MAX_BYTES,
                isolationLevel: 0,
                sessionId: 0,
                sessionEpoch: -1,
                topics: [
                  {
                    topic,
                    partitions: [
                      {
                        partition,
                        fetchOffset: offset,
                        partitionMaxBytes: FETCH_MAX_BYTES,
                        currentLeaderEpoch: -1,
                        logStartOffset: -1,
                      },
                    ],
                  },
                ],
                forgottenTopicsData: [],
                rackId: '',
              },
              partition,
            );
            log.record(Number(process.hrtime.bigint() - sent) / 1000);
            requests++;
            const records: Buffer | null = response.responses[0].partitions[0].records;
            if (!records || records.length === 0) throw new Error(`no progress at ${partition}:${offset}`);
            bytes += records.length;
            // Walk batch headers to find the next offset (no record decoding).
            for (let at = 0; at + 61 <= records.length;) {
              const size = 12 + records.readInt32BE(at + 8);
              if (at + size > records.length) break;
              offset = Number(records.readBigInt64BE(at)) + records.readInt32BE(at + 23) + 1;
              at += size;
            }
          }
        }),
      );
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = brokerCpuSeconds(target) - cpuBefore;
  for (const { pipe } of pipes) pipe.close();
  return row(bytes, Math.round(bytes / (RECORD_BYTES + 8)), seconds, requests, 0, cpu, log);
}

function clientSecurity(transport: Transport): ClientSecurity {
  return transport.kind === 'tls' ? { protocol: 'SSL', tls: { ca: transport.ca } } : { protocol: 'PLAINTEXT' };
}

/**
 * Three nodes on 127.0.0.1. TLS: each node's one broker listener is SSL, so clients and
 * follower fetches (the inter-broker listener) both use it, with the listener's key store
 * and the CA as trust store; the controller port stays on --controller-listen as in the
 * plaintext cluster.
 */
async function startBenchCluster(
  dir: string,
  transport: Transport,
  tlsFiles: { keystore: string; truststore: string },
): Promise<BrokerCluster> {
  const cluster = await BrokerCluster.start({
    dir,
    nodes: CLUSTER_NODES,
    logLevel: 'warn',
    readyDeadlineMs: CLUSTER_READY_DEADLINE_MS,
    clientSecurity: clientSecurity(transport),
    ...(transport.kind === 'tls'
      ? {
          config: {
            'ssl.keystore.location': tlsFiles.keystore,
            'ssl.truststore.location': tlsFiles.truststore,
          },
          listenerConfig: (ports: { kafka: number }) => ({
            listeners: `SSL://127.0.0.1:${ports.kafka}`,
            'inter.broker.listener.name': 'SSL',
          }),
        }
      : {}),
  });
  await cluster.waitRegistered(CLUSTER_SETTLE_DEADLINE_MS);
  return cluster;
}

/** An RF3 topic (min.insync.replicas 2) placed as clusterTarget says; returns once every leader accepts acks=all. */
async function createClusterTopic(cluster: BrokerCluster, target: Target, topic: string): Promise<void> {
  const pipe = await Pipe.open(cluster.nodes[0].port, target.transport);
  try {
    const created = await pipe.request(19, 4, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: Array.from({ length: CLUSTER_PARTITIONS }, (_, p) => ({
            partitionIndex: p,
            brokerIds: Array.from({ length: CLUSTER_NODES }, (_, r) => ((p + r) % CLUSTER_NODES) + 1),
          })),
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      timeoutMs: 10000,
      validateOnly: false,
    });
    if (created.topics[0].errorCode !== 0)
      throw new Error(`CreateTopics ${topic}: error ${created.topics[0].errorCode}`);
    await until(`${topic}: leaders as placed and a full ISR`, CLUSTER_SETTLE_DEADLINE_MS, async () => {
      const answer = await pipe.request(3, METADATA_VERSION, {
        topics: [{ name: topic }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const partitions = answer.topics[0]?.partitions ?? [];
      const ready =
        partitions.length === CLUSTER_PARTITIONS &&
        partitions.every(
          (p: any) =>
            p.errorCode === 0 &&
            p.leaderId === (p.partitionIndex % CLUSTER_NODES) + 1 &&
            p.isrNodes.length === CLUSTER_NODES,
        );
      return ready ? true : null;
    });
  } finally {
    pipe.close();
  }
  // Each leader learns of its partitions from the metadata log: probe until acks=all is accepted.
  for (const leg of target.legs) {
    const probe = await Pipe.open(leg.port, target.transport);
    try {
      await until(`${topic}: acks=all accepted at port ${leg.port}`, CLUSTER_SETTLE_DEADLINE_MS, async () => {
        const reader = new Reader(await probe.send(produceFrames(topic, leg.partitions, 1, -1, 1)[0]));
        decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
        const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
        return response.responses[0].partitionResponses.every((p: any) => p.errorCode === 0) ? true : null;
      });
    } finally {
      probe.close();
    }
  }
}

/** The RF3 acks=all rows: a plaintext cluster against an all-SSL one, rounds in ABBA order. */
async function replicated(ca: string, tlsFiles: { keystore: string; truststore: string }) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-tls-clusters-'));
  const forgetKillOnExit = killAllOnExit();
  const transports = { plaintext: { kind: 'plaintext' } as Transport, tls: { kind: 'tls', ca } as Transport };
  try {
    const clusters = {
      plaintext: await startBenchCluster(path.join(base, 'plaintext'), transports.plaintext, tlsFiles),
      tls: await startBenchCluster(path.join(base, 'tls'), transports.tls, tlsFiles),
    };
    const targets = {
      plaintext: clusterTarget(clusters.plaintext, transports.plaintext),
      tls: clusterTarget(clusters.tls, transports.tls),
    };
    for (const name of ['plaintext', 'tls'] as const)
      for (let round = 0; round < ROUNDS; round++)
        await createClusterTopic(clusters[name], targets[name], `bench-rf3-${round}`);
    const rounds: Record<string, { produce: Row[]; fetch: Row[] }> = {
      plaintext: { produce: [], fetch: [] },
      tls: { produce: [], fetch: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plaintext', 'tls'] as const) : (['tls', 'plaintext'] as const);
      for (const name of order) {
        const topic = `bench-rf3-${round}`;
        rounds[name].produce.push(await produce(targets[name], topic, -1));
        rounds[name].fetch.push(await fetchAll(targets[name], topic));
      }
    }
    const produced = { plaintext: median(rounds.plaintext.produce), tls: median(rounds.tls.produce) };
    const fetched = { plaintext: median(rounds.plaintext.fetch), tls: median(rounds.tls.fetch) };
    for (const name of ['plaintext', 'tls'] as const)
      process.stdout.write(line(`produce 1 KiB records acks=all RF3 3 nodes ${name}`, produced[name]));
    for (const name of ['plaintext', 'tls'] as const)
      process.stdout.write(line(`fetch stored 1 KiB records RF3 3 nodes ${name}`, fetched[name]));
    const ratios = {
      produceThroughput: produced.tls.megabytesPerSecond / produced.plaintext.megabytesPerSecond,
      produceCpuPerMegabyte: produced.tls.brokerCpuSecondsPerMegabyte / produced.plaintext.brokerCpuSecondsPerMegabyte,
      produceP99: produced.tls.latency.p99Ms / produced.plaintext.latency.p99Ms,
      fetchThroughput: fetched.tls.megabytesPerSecond / fetched.plaintext.megabytesPerSecond,
      fetchCpuPerMegabyte: fetched.tls.brokerCpuSecondsPerMegabyte / fetched.plaintext.brokerCpuSecondsPerMegabyte,
      fetchP99: fetched.tls.latency.p99Ms / fetched.plaintext.latency.p99Ms,
    };
    process.stdout.write(
      `tls/plaintext RF3 acks=all, 3 nodes: produce throughput ${ratios.produceThroughput.toFixed(2)}x, broker CPU/MB ${ratios.produceCpuPerMegabyte.toFixed(2)}x, p99 ${ratios.produceP99.toFixed(2)}x; ` +
        `fetch throughput ${ratios.fetchThroughput.toFixed(2)}x, broker CPU/MB ${ratios.fetchCpuPerMegabyte.toFixed(2)}x, p99 ${ratios.fetchP99.toFixed(2)}x\n`,
    );
    return {
      parameters: {
        nodes: CLUSTER_NODES,
        partitions: CLUSTER_PARTITIONS,
        partitionsLedPerNode: CLUSTER_PARTITIONS / CLUSTER_NODES,
        replicationFactor: CLUSTER_NODES,
        minInsyncReplicas: 2,
        acks: 'all',
        recordBytes: RECORD_BYTES,
        recordsPerBatch: RECORDS_PER_BATCH,
        partitionsPerRequest: PARTITIONS_PER_REQUEST,
        connectionsPerLeader: CONNECTIONS,
        inflightPerConnection: INFLIGHT_PER_CONNECTION,
        tlsListeners: 'one SSL listener per node for clients and inter-broker replication; controller port plaintext',
        brokerCpu: 'sum of the three broker processes',
      },
      produce: produced,
      fetch: fetched,
      ratios,
    };
  } catch (error) {
    printLogTails();
    throw error;
  } finally {
    await stopAll();
    forgetKillOnExit();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function row(
  bytes: number,
  records: number,
  seconds: number,
  requests: number,
  errors: number,
  cpu: number,
  log: LatencyLog,
): Row {
  const megabytes = bytes / 1e6;
  return {
    megabytesPerSecond: megabytes / seconds,
    recordsPerSecond: records / seconds,
    bytes,
    seconds,
    requests,
    errors,
    brokerCpuSeconds: cpu,
    brokerCpuSecondsPerMegabyte: cpu / megabytes,
    latency: summarise(log.histogram()),
  };
}

/** The round with the median throughput (the lower middle one for an even count). */
function median(rows: Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.megabytesPerSecond - b.megabytesPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: rows.map((r) => r.megabytesPerSecond) } as Row;
}

function line(name: string, r: Row): string {
  return (
    `${name}: ${r.megabytesPerSecond.toFixed(0)} MB/s, ${Math.round(r.recordsPerSecond).toLocaleString('en')} records/s, ` +
    `p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, p99.9 ${r.latency.p999Ms.toFixed(2)} ms, ` +
    `broker CPU ${(r.brokerCpuSecondsPerMegabyte * 1000).toFixed(2)} ms/MB (${r.requests} requests, ${r.errors} errors)\n`
  );
}

export async function main(): Promise<Record<string, unknown>> {
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-certs-'));
  const ca = createCertificateAuthority();
  const server = issueCertificate(ca, { subject: 'CN=localhost,O=Brook', kind: 'server', hosts: ['127.0.0.1'] });
  const keystore = path.join(certDir, 'broker-keystore.pem');
  fs.writeFileSync(keystore, server.keyPem + server.certPem, { mode: 0o600 });
  const truststore = path.join(certDir, 'ca.pem');
  fs.writeFileSync(truststore, ca.certPem);
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    durationMs: DURATION_MS,
    rounds: ROUNDS,
    parameters: {
      recordBytes: RECORD_BYTES,
      recordsPerBatch: RECORDS_PER_BATCH,
      partitionsPerRequest: PARTITIONS_PER_REQUEST,
      partitions: PARTITIONS,
      acks: 1,
      replicationFactor: 1,
      connections: CONNECTIONS,
      inflightPerConnection: INFLIGHT_PER_CONNECTION,
      fetchMaxBytes: FETCH_MAX_BYTES,
      certificate: 'ECDSA P-256',
      tlsVersion: 'TLSv1.3 (Node default)',
    },
  };
  const plaintext = await startBroker('plaintext', { kind: 'plaintext' }, {});
  const secure = await startBroker('tls', { kind: 'tls', ca: ca.certPem }, { 'ssl.keystore.location': keystore });
  try {
    for (const broker of [plaintext, secure]) {
      for (let round = 0; round < ROUNDS; round++) await createTopic(broker, `bench-1k-${round}`);
    }
    // Rounds in ABBA order (plaintext, TLS, then TLS, plaintext, ...), each broker loaded
    // alone while the other idles, so that disk writeback and other load on the machine
    // fall on both alike; each row is the median of its rounds.
    const produced: Record<string, Row> = {};
    const fetched: Record<string, Row> = {};
    const brokers = { plaintext, tls: secure };
    const rounds: Record<string, { produce: Row[]; fetch: Row[] }> = {
      plaintext: { produce: [], fetch: [] },
      tls: { produce: [], fetch: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plaintext', 'tls'] as const) : (['tls', 'plaintext'] as const);
      for (const name of order) {
        const topic = `bench-1k-${round}`;
        rounds[name].produce.push(await produce(brokerTarget(brokers[name]), topic, 1));
        rounds[name].fetch.push(await fetchAll(brokerTarget(brokers[name]), topic));
      }
    }
    for (const name of ['plaintext', 'tls'] as const) {
      produced[name] = median(rounds[name].produce);
      process.stdout.write(line(`produce 1 KiB records acks=1 ${name}`, produced[name]));
    }
    for (const name of ['plaintext', 'tls'] as const) {
      fetched[name] = median(rounds[name].fetch);
      process.stdout.write(line(`fetch stored 1 KiB records ${name}`, fetched[name]));
    }
    const ratios = {
      produceThroughput: produced.tls.megabytesPerSecond / produced.plaintext.megabytesPerSecond,
      produceCpuPerMegabyte: produced.tls.brokerCpuSecondsPerMegabyte / produced.plaintext.brokerCpuSecondsPerMegabyte,
      fetchThroughput: fetched.tls.megabytesPerSecond / fetched.plaintext.megabytesPerSecond,
      fetchCpuPerMegabyte: fetched.tls.brokerCpuSecondsPerMegabyte / fetched.plaintext.brokerCpuSecondsPerMegabyte,
    };
    process.stdout.write(
      `tls/plaintext: produce throughput ${ratios.produceThroughput.toFixed(2)}x, broker CPU/MB ${ratios.produceCpuPerMegabyte.toFixed(2)}x; ` +
        `fetch throughput ${ratios.fetchThroughput.toFixed(2)}x, broker CPU/MB ${ratios.fetchCpuPerMegabyte.toFixed(2)}x\n`,
    );
    Object.assign(results, { produce: produced, fetch: fetched, ratios });
  } finally {
    await stopBroker(plaintext);
    await stopBroker(secure);
  }
  try {
    results.replicatedRf3AcksAll = await replicated(ca.certPem, { keystore, truststore });
  } finally {
    fs.rmSync(certDir, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  main().then(
    (results) => {
      const file = writeResult(quick ? 'tls-quick' : 'tls', results);
      process.stdout.write(`written ${file}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
