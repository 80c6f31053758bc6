// Broker throughput and latency, measured with the protocol-level load generator against
// a real broker process (acks=1, no fsync per write, replication factor 1):
//   produce 1 KiB and 100 B records flat out, fetch of stored data, and produce latency at
//   a fixed offered load. Usage: node dist/bench/produce-fetch.js [--quick]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaConnection } from '../src/net/kafka-connection';
import { environment, writeResult } from './lib/env';
import { runFetch, runProduce, ProduceLoad } from './lib/load';
import { startBroker } from './lib/broker';
import { freePort } from './lib/process';

const quick = process.argv.includes('--quick');
const DURATION_MS = quick ? 400 : 8000;
const PARTITIONS = 8;

async function createTopic(port: number, name: string) {
  const admin = new KafkaConnection({ host: '127.0.0.1', port });
  await admin.connect();
  await admin.request(19, 4, {
    topics: [{ name, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10000,
    validateOnly: false,
  });
  admin.close();
}

async function endOffsets(port: number, topic: string): Promise<number[]> {
  const admin = new KafkaConnection({ host: '127.0.0.1', port });
  await admin.connect();
  const response = await admin.request(2, 2, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      { name: topic, partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionIndex: i, timestamp: -1 })) },
    ],
  });
  admin.close();
  return response.topics[0].partitions
    .sort((a: any, b: any) => a.partitionIndex - b.partitionIndex)
    .map((p: any) => p.offset);
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-'));
  const port = await freePort();
  const broker = await startBroker(dataDir, port);
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    durationMs: DURATION_MS,
  };
  try {
    const base = {
      host: '127.0.0.1',
      port,
      partitions: PARTITIONS,
      acks: 1,
      connections: 2,
      inflightPerConnection: 8,
      durationMs: DURATION_MS,
      offeredBytesPerSecond: 0,
    };
    await createTopic(port, 'bench-1k');
    await createTopic(port, 'bench-100b');
    await createTopic(port, 'bench-latency');
    const scenarios: [string, ProduceLoad][] = [
      [
        'produce 1 KiB records (64 KiB batches, 4 partitions/request)',
        { ...base, topic: 'bench-1k', recordBytes: 1024, recordsPerBatch: 64, partitionsPerRequest: 4 },
      ],
      [
        'produce 100 B records (640-record batches, 4 partitions/request)',
        { ...base, topic: 'bench-100b', recordBytes: 100, recordsPerBatch: 640, partitionsPerRequest: 4 },
      ],
    ];
    for (const [name, load] of scenarios) {
      const result = await runProduce(load);
      results[name] = { ...load, ...result };
      report(name, result);
    }
    const fetchResult = await runFetch({
      host: '127.0.0.1',
      port,
      topic: 'bench-1k',
      partitions: PARTITIONS,
      endOffsets: await endOffsets(port, 'bench-1k'),
      maxBytes: 8 * 1024 * 1024,
      connections: 2,
    });
    results['fetch stored 1 KiB records (8 MiB per fetch)'] = fetchResult;
    process.stdout.write(
      `fetch stored data: ${fetchResult.megabytesPerSecond.toFixed(0)} MB/s over ${(fetchResult.bytes / 1e6).toFixed(0)} MB, p50 ${fetchResult.latency.p50Ms.toFixed(2)} ms, p99 ${fetchResult.latency.p99Ms.toFixed(2)} ms\n`,
    );
    const offered = quick ? 20e6 : 100e6;
    const latency = await runProduce({
      ...base,
      topic: 'bench-latency',
      recordBytes: 1024,
      recordsPerBatch: 16,
      partitionsPerRequest: 1,
      inflightPerConnection: 32,
      offeredBytesPerSecond: offered,
    });
    const latencyName = `produce latency at ${offered / 1e6} MB/s offered (1 KiB records, 16 KiB batches)`;
    results[latencyName] = latency;
    report(latencyName, latency);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}

function report(
  name: string,
  r: {
    recordsPerSecond: number;
    megabytesPerSecond: number;
    errors: number;
    latency: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number; samples: number };
  },
) {
  process.stdout.write(
    `${name}: ${Math.round(r.recordsPerSecond).toLocaleString('en')} records/s, ${r.megabytesPerSecond.toFixed(0)} MB/s, ` +
      `p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, p99.9 ${r.latency.p999Ms.toFixed(2)} ms, max ${r.latency.maxMs.toFixed(2)} ms ` +
      `(${r.latency.samples} requests, ${r.errors} errors)\n`,
  );
}

if (require.main === module) {
  main().then((results) => {
    const file = writeResult(quick ? 'produce-fetch-quick' : 'produce-fetch', results);
    process.stdout.write(`written ${file}\n`);
  });
}
