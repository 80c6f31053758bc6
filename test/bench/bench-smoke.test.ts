// The benchmarks' small settings run inside the test suite so they cannot rot: each must
// finish and report figures. No figure is asserted: this machine is shared and noisy.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

test('npm run bench --quick runs every benchmark to the end', () => {
  const result = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bench', 'run.js'), '--quick'], {
    env: { ...process.env, BROOK_BENCH_NO_WRITE: '1' },
    timeout: 200000,
  });
  const out = result.stdout.toString();
  assert.is(result.status, 0, result.stderr.toString());
  assert.match(out, /crc32c\s+1048576 B\s+native/);
  assert.match(out, /recovery scan .* pool\/inline/);
  assert.match(out, /produce 1 KiB records.*records\/s.*MB\/s.*p50.*p99.*\(\d+ requests, 0 errors\)/);
  assert.match(out, /produce 100 B records.*\(\d+ requests, 0 errors\)/);
  assert.match(out, /fetch stored data: \d+ MB\/s/);
  assert.match(out, /produce latency at .* 0 errors/);
  assert.match(out, /bundled\/raw \(acks=1\): [\d.]+/);
  assert.match(out, /POST records, 100 per request: \d+ req\/s, \d+ records\/s.*\(\d+ requests, 0 errors, 0 non-2xx\)/);
  assert.match(out, /GET \/metrics: \d+ req\/s.*0 errors, 0 non-2xx/);
});

test.run();
