// Broker CPU per Fetch with many partitions, with and without an incremental fetch session
// (KIP-227): one topic of 1,000 partitions with nothing new to read (a caught-up consumer
// or follower), fetched back to back with max wait 0 at Fetch 18 (topics by id). Without a
// session every request names all partitions and every answer carries all of them; in a
// session, after one full fetch, requests name none and answers carry none. The broker's
// user+system CPU over each run (from /proc), less its idle rate measured just before the
// run, divided by the fetches it answered is the figure.
// Usage: node dist/bench/fetch-sessions.js [--quick]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../protocol/api-keys';
import { ErrorCode } from '../protocol/errors';
import { ZERO_UUID } from '../protocol/primitives';
import { KafkaConnection } from '../src/net/kafka-connection';
import { environment, writeResult } from './lib/env';
import { startBroker } from './lib/broker';
import { cpuSeconds, freePort } from './lib/process';
import { median } from './lib/stats';

const quick = process.argv.includes('--quick');
const PARTITIONS = quick ? 100 : 1000;
const DURATION_MS = quick ? 300 : 5000;
/** Runs of each mode, alternating, so a noisy moment hits both. */
const ROUNDS = quick ? 1 : 3;
const FETCH_VERSION = 18;
const WARM_UP_FETCHES = quick ? 5 : 50;
const IDLE_MS = quick ? 200 : 2000;
const TOPIC = 'bench-fetch-sessions';

interface ModeResult {
  fetches: number;
  /** Broker CPU over the run, less what it spent idle at the rate measured just before, per fetch. */
  brokerCpuMicrosecondsPerFetch: number;
  /** The same without taking the idle rate off. */
  brokerCpuMicrosecondsPerFetchRaw: number;
  brokerIdleCpuPercent: number;
  clientMillisecondsPerFetchP50: number;
  partitionsPerAnswer: number;
}

function fetchBody(topicId: string, sessionId: number, sessionEpoch: number, named: boolean) {
  return {
    clusterId: null,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics: named
      ? [
          {
            topicId,
            partitions: Array.from({ length: PARTITIONS }, (_, i) => ({
              partition: i,
              currentLeaderEpoch: -1,
              fetchOffset: 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
            })),
          },
        ]
      : [],
    forgottenTopicsData: [],
    rackId: '',
  };
}

async function setUp(port: number): Promise<string> {
  const admin = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 30000 });
  await admin.connect();
  try {
    await admin.request(ApiKey.CreateTopics, 4, {
      topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30000,
      validateOnly: false,
    });
    // Ready once every partition answers a sessionless fetch without an error.
    for (let attempt = 0; attempt < 400; attempt++) {
      const metadata = await admin.request(ApiKey.Metadata, 12, {
        topics: [{ topicId: ZERO_UUID, name: TOPIC }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const topicId = metadata.topics[0]?.topicId ?? ZERO_UUID;
      if (topicId !== ZERO_UUID) {
        const answer = await admin.request(ApiKey.Fetch, FETCH_VERSION, fetchBody(topicId, 0, -1, true));
        const partitions = answer.responses.flatMap((t) => t.partitions);
        if (partitions.length === PARTITIONS && partitions.every((p) => p.errorCode === ErrorCode.NONE)) return topicId;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${TOPIC} did not become ready`);
  } finally {
    admin.close();
  }
}

/**
 * Waits until the broker is idle (under 2% of a core over 500 ms, at most 120 s): creating a
 * thousand partitions goes on writing and syncing files for a while after they answer, and
 * that work must not be counted against the fetches.
 */
async function settle(pid: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 120_000) {
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuSeconds(pid) - before < 0.01) return;
  }
}

async function run(port: number, pid: number, topicId: string, sessions: boolean): Promise<ModeResult> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 30000 });
  await connection.connect();
  try {
    let sessionId = 0;
    let epoch = 0;
    if (sessions) {
      // The full fetch that opens the session is setup, outside the timed run.
      const opened = await connection.request(ApiKey.Fetch, FETCH_VERSION, fetchBody(topicId, 0, 0, true));
      if (opened.sessionId === 0) throw new Error('the broker opened no fetch session');
      sessionId = opened.sessionId;
      epoch = 1;
    }
    // Warm-up, untimed: the first fetches of a mode pay for compiling its code paths.
    for (let i = 0; i < WARM_UP_FETCHES; i++) {
      await connection.request(
        ApiKey.Fetch,
        FETCH_VERSION,
        sessions ? fetchBody(topicId, sessionId, epoch, false) : fetchBody(topicId, 0, -1, true),
      );
      if (sessions) epoch++;
    }
    // The broker's own background work (checkpoints of a thousand partitions) goes on during
    // the run: its rate, measured idle just before, is taken off.
    const idleBefore = cpuSeconds(pid);
    const idleStarted = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleRate = (cpuSeconds(pid) - idleBefore) / ((Date.now() - idleStarted) / 1000);
    const latencies: number[] = [];
    let partitionsAnswered = 0;
    const cpuBefore = cpuSeconds(pid);
    const started = Date.now();
    while (Date.now() - started < DURATION_MS) {
      const sent = process.hrtime.bigint();
      const answer = await connection.request(
        ApiKey.Fetch,
        FETCH_VERSION,
        sessions ? fetchBody(topicId, sessionId, epoch, false) : fetchBody(topicId, 0, -1, true),
      );
      latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      if (answer.errorCode !== ErrorCode.NONE) throw new Error(`fetch answered error ${answer.errorCode}`);
      partitionsAnswered += answer.responses.reduce((n, t) => n + t.partitions.length, 0);
      if (sessions) epoch++;
    }
    const cpu = cpuSeconds(pid) - cpuBefore;
    const elapsedSeconds = (Date.now() - started) / 1000;
    if (sessions) await connection.request(ApiKey.Fetch, FETCH_VERSION, fetchBody(topicId, sessionId, -1, false));
    return {
      fetches: latencies.length,
      brokerCpuMicrosecondsPerFetch: (Math.max(0, cpu - idleRate * elapsedSeconds) * 1e6) / latencies.length,
      brokerCpuMicrosecondsPerFetchRaw: (cpu * 1e6) / latencies.length,
      brokerIdleCpuPercent: idleRate * 100,
      clientMillisecondsPerFetchP50: median(latencies),
      partitionsPerAnswer: partitionsAnswered / latencies.length,
    };
  } finally {
    connection.close();
  }
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-'));
  const port = await freePort();
  const broker = await startBroker(dataDir, port);
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    partitions: PARTITIONS,
    durationMsPerRun: DURATION_MS,
    rounds: ROUNDS,
    fetchVersion: FETCH_VERSION,
  };
  try {
    const topicId = await setUp(port);
    await settle(broker.pid!);
    const runs: { sessionless: ModeResult[]; sessions: ModeResult[] } = { sessionless: [], sessions: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.sessionless.push(await run(port, broker.pid!, topicId, false));
      runs.sessions.push(await run(port, broker.pid!, topicId, true));
    }
    const summary = (list: ModeResult[]) => ({
      fetches: list.reduce((n, r) => n + r.fetches, 0),
      brokerCpuMicrosecondsPerFetch: median(list.map((r) => r.brokerCpuMicrosecondsPerFetch)),
      brokerCpuMicrosecondsPerFetchRaw: median(list.map((r) => r.brokerCpuMicrosecondsPerFetchRaw)),
      brokerIdleCpuPercent: median(list.map((r) => r.brokerIdleCpuPercent)),
      clientMillisecondsPerFetchP50: median(list.map((r) => r.clientMillisecondsPerFetchP50)),
      partitionsPerAnswer: median(list.map((r) => r.partitionsPerAnswer)),
    });
    const without = summary(runs.sessionless);
    const within = summary(runs.sessions);
    const ratio = without.brokerCpuMicrosecondsPerFetch / within.brokerCpuMicrosecondsPerFetch;
    results.runs = runs;
    results['without a session'] = without;
    results['in a session'] = within;
    results['broker CPU ratio, without/with'] = ratio;
    for (const [name, r] of [
      ['without a session', without],
      ['in a session', within],
    ] as const) {
      process.stdout.write(
        `fetch ${PARTITIONS} idle partitions ${name}: broker CPU ${r.brokerCpuMicrosecondsPerFetch.toFixed(0)} µs per fetch ` +
          `(${r.brokerCpuMicrosecondsPerFetchRaw.toFixed(0)} µs before taking off ${r.brokerIdleCpuPercent.toFixed(1)}% idle), ` +
          `p50 ${r.clientMillisecondsPerFetchP50.toFixed(2)} ms, ${r.partitionsPerAnswer.toFixed(0)} partitions per answer (${r.fetches} fetches)\n`,
      );
    }
    process.stdout.write(`fetch sessions: broker CPU per fetch without/with = ${ratio.toFixed(1)}x\n`);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  main().then((results) => {
    const file = writeResult(quick ? 'fetch-sessions-quick' : 'fetch-sessions', results);
    process.stdout.write(`written ${file}\n`);
  });
}
