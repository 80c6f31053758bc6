// The HTTP API under load (autocannon) on one Brook broker: POST records with one record
// per request and with batches of 100, and GET /metrics. Reported per row: requests/s,
// records/s, p50/p99/p99.9 latency and MB/s (record values sent for the produce rows,
// response bytes for /metrics), with errors and non-2xx answers, which must be 0.
// Usage: node dist/bench/http.js [--quick]

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { environment, writeResult } from './lib/env';
import { startBroker } from './lib/broker';
import { freePort } from './lib/process';

// autocannon ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon: (options: Record<string, unknown>) => Promise<any> = require('autocannon');

const quick = process.argv.includes('--quick');
const DURATION_SECONDS = quick ? 2 : 10;
const CONNECTIONS = quick ? 8 : 32;
const PARTITIONS = 8;
const VALUE_BYTES = 100;
const BATCH_RECORDS = 100;

interface Row {
  requestsPerSecond: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

function body(records: number): string {
  const value = 'v'.repeat(VALUE_BYTES);
  return JSON.stringify({ acks: 1, records: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value })) });
}

async function call(port: number, method: string, pathname: string, payload?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: pathname,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await call(port, 'GET', '/ready').catch(() => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the HTTP listener did not become ready');
}

async function run(
  name: string,
  options: Record<string, unknown>,
  recordsPerRequest: number,
  payloadBytesPerRequest: number,
): Promise<Row> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION_SECONDS, ...options });
  const requestsPerSecond = result.requests.average;
  const megabytesPerSecond =
    payloadBytesPerRequest > 0 ? (requestsPerSecond * payloadBytesPerRequest) / 1e6 : result.throughput.average / 1e6;
  const row: Row = {
    requestsPerSecond,
    recordsPerSecond: requestsPerSecond * recordsPerRequest,
    megabytesPerSecond,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9 ?? result.latency.max,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  process.stdout.write(
    `${name}: ${Math.round(row.requestsPerSecond)} req/s, ${Math.round(row.recordsPerSecond)} records/s, ${row.megabytesPerSecond.toFixed(2)} MB/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, p99.9 ${row.p999Ms} ms (${row.requests} requests, ${row.errors} errors, ${row.non2xx} non-2xx)\n`,
  );
  return row;
}

export async function main(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-bench-http-'));
  const port = await freePort();
  const httpPort = await freePort();
  const broker = await startBroker(dataDir, port, httpPort);
  const rows: Record<string, Row> = {};
  try {
    await waitReady(httpPort);
    const created = await call(
      httpPort,
      'POST',
      '/api/v1/topics',
      JSON.stringify({ name: 'bench', partitions: PARTITIONS }),
    );
    if (created !== 201) throw new Error(`creating the bench topic answered ${created}`);
    const base = `http://127.0.0.1:${httpPort}`;
    const single = body(1);
    const batch = body(BATCH_RECORDS);
    // Warm the REST producer (connection, metadata) outside the timed rows.
    await call(httpPort, 'POST', '/api/v1/topics/bench/records', batch);
    rows['POST records, 1 per request'] = await run(
      'POST records, 1 per request',
      {
        url: `${base}/api/v1/topics/bench/records`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: single,
      },
      1,
      VALUE_BYTES,
    );
    rows[`POST records, ${BATCH_RECORDS} per request`] = await run(
      `POST records, ${BATCH_RECORDS} per request`,
      {
        url: `${base}/api/v1/topics/bench/records`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: batch,
      },
      BATCH_RECORDS,
      VALUE_BYTES * BATCH_RECORDS,
    );
    rows['GET /metrics'] = await run('GET /metrics', { url: `${base}/metrics` }, 0, 0);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\n| row | req/s | records/s | MB/s | p50 | p99 | p99.9 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n`,
  );
  for (const [name, r] of Object.entries(rows))
    process.stdout.write(
      `| ${name} | ${Math.round(r.requestsPerSecond).toLocaleString('en-US')} | ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} | ${r.megabytesPerSecond.toFixed(2)} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.p999Ms} ms |\n`,
    );
  return {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    durationSeconds: DURATION_SECONDS,
    connections: CONNECTIONS,
    partitions: PARTITIONS,
    valueBytes: VALUE_BYTES,
    batchRecords: BATCH_RECORDS,
    acks: 1,
    rows,
  };
}

if (require.main === module) {
  main().then(
    (result) => process.stdout.write(`written ${writeResult(quick ? 'http-quick' : 'http', result)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
