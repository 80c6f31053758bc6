// The bundled producer against the raw load generator, on one Brook broker, in one run:
// the load generator sends pre-encoded Produce frames (the broker's ceiling for this
// machine), the bundled producer builds, batches and encodes every record itself. Rows
// alternate so noise hits each alike. Reported: records/s, MB/s, latency per send (HDR:
// p50, p99, p99.9, max; the bundled rows time every 8th send) and the client's CPU per
// record; the goal is the bundled producer
// at >= 80% of the raw rate with acks=1. Dirty pages are written back before each row, so
// no row pays for the previous row's writes.
// Usage: node dist/bench/client.js [--quick]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32cImplementation } from '../protocol/crc32c';
import { KafkaConnection } from '../src/net/kafka-connection';
import { Producer } from '../src/client/producer';
import { environment, writeBackDirtyPages, writeResult } from './lib/env';
import { runProduce, LatencySummary } from './lib/load';
import { runBundledProducers } from './lib/bundled-produce';
import { median } from './lib/stats';
import { startBroker } from './lib/broker';
import { freePort } from './lib/process';

const quick = process.argv.includes('--quick');
const DURATION_MS = quick ? 1000 : 6000;
/** Even, so each row runs first as often as last: rows later in a run are slower here. */
const ROUNDS = quick ? 1 : 4;
/** An unmeasured row of each kind first, so no measured row pays for JIT warm-up. */
const WARMUP_MS = quick ? 0 : 1500;
const PARTITIONS = 8;
const RECORD_BYTES = 1024;
const OUTSTANDING = 8192;
/** batch.size of the bundled producer (the raw generator sends 64-record batches, 4 per request). */
const BATCH_BYTES = 256 * 1024;
/** The bundled rows time one send in this many (the raw generator times each request of 256 records). */
const LATENCY_SAMPLE_EVERY = 8;

interface Row {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  clientCpuMicrosPerRecord: number;
  latency: LatencySummary;
  errors: number;
}

async function raw(port: number, durationMs = DURATION_MS): Promise<Row> {
  const cpu = process.cpuUsage();
  const result = await runProduce({
    host: '127.0.0.1',
    port,
    topic: 'raw',
    partitions: PARTITIONS,
    recordBytes: RECORD_BYTES,
    recordsPerBatch: 64,
    partitionsPerRequest: 4,
    acks: 1,
    connections: 2,
    inflightPerConnection: 8,
    durationMs,
    offeredBytesPerSecond: 0,
  });
  const used = process.cpuUsage(cpu);
  return {
    records: result.records,
    seconds: result.seconds,
    recordsPerSecond: result.recordsPerSecond,
    megabytesPerSecond: result.megabytesPerSecond,
    clientCpuMicrosPerRecord: (used.user + used.system) / Math.max(1, result.records),
    latency: result.latency,
    errors: result.errors,
  };
}

/** Sends 1 KiB records as fast as the producer takes them, with a bounded number outstanding. */
async function bundled(port: number, acks: 1 | 'all', durationMs = DURATION_MS): Promise<Row> {
  const producer = new Producer({
    bootstrap: [`127.0.0.1:${port}`],
    acks,
    idempotent: acks === 'all',
    lingerMs: 5,
    batchSize: BATCH_BYTES,
    bufferMemory: 64 * 1024 * 1024,
  });
  await producer.connect();
  try {
    const result = await runBundledProducers({
      producers: [producer],
      topic: 'bundled',
      recordBytes: RECORD_BYTES,
      durationMs,
      outstandingPerProducer: OUTSTANDING,
      partitions: PARTITIONS,
      latencySampleEvery: LATENCY_SAMPLE_EVERY,
    });
    return {
      records: result.records,
      seconds: result.seconds,
      recordsPerSecond: result.recordsPerSecond,
      megabytesPerSecond: result.megabytesPerSecond,
      clientCpuMicrosPerRecord: result.clientCpuMicrosPerRecord,
      latency: result.latency,
      errors: result.errors,
    };
  } finally {
    await producer.close();
  }
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-client-'));
  const port = await freePort();
  const broker = await startBroker(dataDir, port);
  const rows: Record<string, Row[]> = {
    'raw load generator, acks=1': [],
    'bundled producer, acks=1': [],
    'bundled producer, acks=all idempotent': [],
  };
  try {
    const admin = new KafkaConnection({ host: '127.0.0.1', port });
    await admin.connect();
    await admin.request(19, 4, {
      topics: ['raw', 'bundled'].map((name) => ({
        name,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 10000,
      validateOnly: false,
    });
    admin.close();
    if (WARMUP_MS > 0) {
      await raw(port, WARMUP_MS);
      await bundled(port, 1, WARMUP_MS);
      await bundled(port, 'all', WARMUP_MS);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order: [string, () => Promise<Row>][] = [
        ['raw load generator, acks=1', () => raw(port)],
        ['bundled producer, acks=1', () => bundled(port, 1)],
        ['bundled producer, acks=all idempotent', () => bundled(port, 'all')],
      ];
      if (round % 2 === 1) order.reverse();
      for (const [name, run] of order) {
        writeBackDirtyPages();
        const row = await run();
        rows[name].push(row);
        process.stdout.write(
          `round ${round + 1} ${name}: ${row.megabytesPerSecond.toFixed(1)} MB/s, ${Math.round(row.recordsPerSecond)} records/s, p99 ${row.latency.p99Ms.toFixed(1)} ms, client CPU ${row.clientCpuMicrosPerRecord.toFixed(2)} us/record, errors ${row.errors}\n`,
        );
      }
    }
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    Object.entries(rows).map(([name, list]) => [
      name,
      {
        megabytesPerSecond: median(list.map((r) => r.megabytesPerSecond)),
        recordsPerSecond: median(list.map((r) => r.recordsPerSecond)),
        clientCpuMicrosPerRecord: median(list.map((r) => r.clientCpuMicrosPerRecord)),
        p50Ms: median(list.map((r) => r.latency.p50Ms)),
        p99Ms: median(list.map((r) => r.latency.p99Ms)),
        p999Ms: median(list.map((r) => r.latency.p999Ms)),
        maxMs: Math.max(...list.map((r) => r.latency.maxMs)),
        perRound: list.map((r) => r.megabytesPerSecond),
      },
    ]),
  );
  const rawRate = summary['raw load generator, acks=1'].recordsPerSecond;
  const ratio = summary['bundled producer, acks=1'].recordsPerSecond / rawRate;
  // Each round's rows ran side by side: their ratio is the least touched by drift in the run.
  const perRoundRatios = rows['bundled producer, acks=1'].map(
    (r, i) => r.recordsPerSecond / rows['raw load generator, acks=1'][i].recordsPerSecond,
  );
  process.stdout.write(
    `\n| row | records/s | MB/s | p50 | p99 | p99.9 | max | client CPU per record |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`,
  );
  for (const [name, s] of Object.entries(summary))
    process.stdout.write(
      `| ${name} | ${Math.round(s.recordsPerSecond).toLocaleString('en-US')} | ${s.megabytesPerSecond.toFixed(1)} | ${s.p50Ms.toFixed(1)} ms | ${s.p99Ms.toFixed(1)} ms | ${s.p999Ms.toFixed(1)} ms | ${s.maxMs.toFixed(0)} ms | ${s.clientCpuMicrosPerRecord.toFixed(2)} us |\n`,
    );
  process.stdout.write(
    `\nbundled/raw (acks=1): ${ratio.toFixed(2)} (goal >= 0.80); per round ${perRoundRatios.map((r) => r.toFixed(2)).join(', ')}, median ${median(perRoundRatios).toFixed(2)}\n`,
  );
  return {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    durationMs: DURATION_MS,
    rounds: ROUNDS,
    partitions: PARTITIONS,
    recordBytes: RECORD_BYTES,
    outstanding: OUTSTANDING,
    producer: { lingerMs: 5, batchSize: BATCH_BYTES, maxInFlight: 5 },
    latencySampleEvery: LATENCY_SAMPLE_EVERY,
    crc32c: crc32cImplementation,
    warmupMs: WARMUP_MS,
    rows,
    summary,
    bundledToRawAcks1: ratio,
    bundledToRawAcks1PerRound: perRoundRatios,
  };
}

if (require.main === module) {
  main().then(
    (result) => process.stdout.write(`written ${writeResult(quick ? 'client-quick' : 'client', result)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
