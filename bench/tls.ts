// Plaintext against TLS on the Kafka listener, in one run: two broker processes that
// differ only in their listener (PLAINTEXT, or SSL with an ECDSA P-256 certificate from
// src/security/certs.ts), loaded in turn by the same pipelined protocol-level generator
// over net or tls sockets. Rows: produce 1 KiB records with acks=1, then fetch of the
// stored data; each with throughput, latency and the broker's CPU seconds per MB moved,
// and the TLS/plaintext ratios. Setup (certificates, brokers, topics, frames) stays outside
// the timed regions.
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
import { environment, writeResult } from './lib/env';
import { LatencyLog, LatencySummary, summarise } from './lib/load';
import { cpuSeconds, freePort, sleep } from './lib/process';

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
    const frames = produceFrames(topic, 1, 1);
    const reader = new Reader(await pipe.send(frames[0]));
    decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
    const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
    const errors = response.responses[0].partitionResponses.filter((p: any) => p.errorCode !== 0);
    if (errors.length === 0) break;
    await sleep(50);
  }
  pipe.close();
}

function produceFrames(topic: string, count: number, recordsPerBatch = RECORDS_PER_BATCH): Buffer[] {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const batch = encodeRecordBatchSync({
    records: Array.from({ length: recordsPerBatch }, () => ({ value, timestamp: Date.now() })),
  });
  return Array.from({ length: count }, (_, i) => {
    const first = (i * PARTITIONS_PER_REQUEST) % PARTITIONS;
    return encodeRequestFrame(
      { apiKey: 0, apiVersion: PRODUCE_VERSION, correlationId: i, clientId: 'bench-tls' },
      requestCodec(0, PRODUCE_VERSION),
      {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30000,
        topicData: [
          {
            name: topic,
            partitionData: Array.from({ length: PARTITIONS_PER_REQUEST }, (_, j) => ({
              index: (first + j) % PARTITIONS,
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

async function produce(broker: Broker, topic: string): Promise<Row> {
  const pipes = await Promise.all(Array.from({ length: CONNECTIONS }, () => Pipe.open(broker.port, broker.transport)));
  const frames = produceFrames(topic, 64);
  const log = new LatencyLog();
  let requests = 0;
  let errors = 0;
  const cpuBefore = cpuSeconds(broker.child.pid);
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(DURATION_MS) * 1_000_000n;
  await Promise.all(
    pipes.map(async (pipe) => {
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
  const cpu = cpuSeconds(broker.child.pid) - cpuBefore;
  for (const pipe of pipes) pipe.close();
  const records = requests * RECORDS_PER_BATCH * PARTITIONS_PER_REQUEST;
  const bytes = records * RECORD_BYTES;
  return row(bytes, records, seconds, requests, errors, cpu, log);
}

/** Reads every partition from offset 0 to its end (what the produce row stored). */
async function fetchAll(broker: Broker, topic: string): Promise<Row> {
  const admin = await Pipe.open(broker.port, broker.transport);
  const offsets = await admin.request(2, 2, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      { name: topic, partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionIndex: i, timestamp: -1 })) },
    ],
  });
  admin.close();
  const endOffsets: number[] = [];
  for (const p of offsets.topics[0].partitions) endOffsets[p.partitionIndex] = Number(p.offset);
  const pipes = await Promise.all(Array.from({ length: CONNECTIONS }, () => Pipe.open(broker.port, broker.transport)));
  const log = new LatencyLog();
  let bytes = 0;
  let requests = 0;
  const cpuBefore = cpuSeconds(broker.child.pid);
  const started = process.hrtime.bigint();
  await Promise.all(
    pipes.map(async (pipe, c) => {
      const mine = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % CONNECTIONS === c);
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
  const cpu = cpuSeconds(broker.child.pid) - cpuBefore;
  for (const pipe of pipes) pipe.close();
  return row(bytes, Math.round(bytes / (RECORD_BYTES + 8)), seconds, requests, 0, cpu, log);
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
        rounds[name].produce.push(await produce(brokers[name], topic));
        rounds[name].fetch.push(await fetchAll(brokers[name], topic));
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
