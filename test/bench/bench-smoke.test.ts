// The benchmarks' small settings run as a smoke test so they cannot rot: each must finish
// and report figures. No figure is asserted: machines are shared and noisy. It runs on its
// own (`npm run test:bench`, which CI runs after `npm test`), not inside the parallel suite.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

test('npm run bench --quick runs every benchmark to the end', () => {
  const result = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bench', 'run.js'), '--quick'], {
    env: { ...process.env, BROOK_BENCH_NO_WRITE: '1' },
    timeout: 300000,
  });
  const out = result.stdout.toString();
  assert.is(result.status, 0, result.stderr.toString());
  assert.match(
    out,
    /crc32c\s+1048576 B\s+brook-native\s+(\d+|missing) MB\/s\s+node-rs\s+(\d+|missing) MB\/s\s+js\s+\d+ MB\/s/,
  );
  assert.match(out, /recovery scan .* pool\/inline/);
  assert.match(out, /produce 1 KiB records.*records\/s.*MB\/s.*p50.*p99.*\(\d+ requests, 0 errors\)/);
  assert.match(out, /produce 100 B records.*\(\d+ requests, 0 errors\)/);
  assert.match(out, /fetch stored data: \d+ MB\/s/);
  assert.match(out, /fetch sessions: broker CPU per fetch without\/with = [\d.]+x/);
  assert.match(out, /produce latency at .* 0 errors/);
  assert.match(out, /bundled\/raw \(acks=1\): [\d.]+/);
  assert.match(out, /tls\/plaintext: produce throughput [\d.]+x, broker CPU\/MB [\d.]+x; fetch throughput [\d.]+x/);
  // The replicated rows: a plaintext 3-node cluster against one whose client and inter-broker listener is SSL.
  assert.match(
    out,
    /produce 1 KiB records acks=all RF3 3 nodes plaintext: \d+ MB\/s.*p99 [\d.]+ ms.*broker CPU [\d.]+ ms\/MB \(\d+ requests, 0 errors\)/,
  );
  assert.match(
    out,
    /produce 1 KiB records acks=all RF3 3 nodes tls: \d+ MB\/s.*p99 [\d.]+ ms.*broker CPU [\d.]+ ms\/MB \(\d+ requests, 0 errors\)/,
  );
  assert.match(out, /fetch stored 1 KiB records RF3 3 nodes tls: \d+ MB\/s/);
  assert.match(
    out,
    /tls\/plaintext RF3 acks=all, 3 nodes: produce throughput [\d.]+x, broker CPU\/MB [\d.]+x, p99 [\d.]+x; fetch throughput [\d.]+x/,
  );
  assert.match(
    out,
    /produce 1 KiB records acks=1 authorizer with 1000 ACLs: \d+ MB\/s.*p99 [\d.]+ ms.*broker CPU [\d.]+ ms\/MB \(\d+ requests, 0 errors\)/,
  );
  assert.match(out, /authorizer\/none \(1000 ACLs\): produce throughput [\d.]+x, broker CPU\/MB [\d.]+x, p99 [\d.]+x/);
  // The cleaner rows: every configuration loaded while (but for the control) its cleaner compacts.
  for (const mode of ['none', 'pool', 'inline'])
    assert.match(
      out,
      new RegExp(
        `produce 1 KiB records acks=1 while cleaning, ${mode}: \\d+ MB/s.*p99 [\\d.]+ ms.*broker CPU [\\d.]+ ms/MB; .*\\(\\d+ requests, 0 errors\\)`,
      ),
    );
  assert.match(out, /cleaner 4 passes, read [\d.]+ MB in [\d.]+ s \(\d+ MB\/s\)/);
  assert.match(out, /cleaner inline\/none: produce throughput [\d.]+x, broker CPU\/MB [\d.]+x, p99 [\d.]+x/);
  assert.match(out, /POST records, 100 per request: \d+ req\/s, \d+ records\/s.*\(\d+ requests, 0 errors, 0 non-2xx\)/);
  assert.match(out, /GET \/metrics: \d+ req\/s.*0 errors, 0 non-2xx/);
  // The bundled client matrix: every producer and consumer row of the quick setting, each
  // with send percentiles and a consumer that read back every record the row stored.
  assert.match(
    out,
    /round 1 1 KiB x4 acks=all RF1: produce [\d,]+ records\/s [\d.]+ MB\/s p50 [\d.]+ ms p99 [\d.]+ ms p99\.9 [\d.]+ ms max [\d.]+ ms, 0 errors; consume [\d,]+ records\/s [\d.]+ MB\/s, (\d+) of \1 records/,
  );
  assert.match(
    out,
    /end-to-end 1 KiB at 10,000\/s, acks=all, RF1: end-to-end p50 [\d.]+ ms p99 [\d.]+ ms p99\.9 [\d.]+ ms max [\d.]+ ms; .*sent (\d+), acknowledged \1, consumed \1, 0 errors/,
  );
  assert.match(
    out,
    /client matrix: 4 throughput rows and 2 end-to-end rows x 1 round\(s\) in \d+ s, 0 send errors, consumer complete in 4 of 4 samples, end-to-end delivered every acknowledged record, 0 failed samples/,
  );
});

test.run();
