#!/usr/bin/env node
// Runs the seeded fuzzers (the Kafka listener's, every API and version; the controller
// port's, with and without the cluster secret; the HTTP API's)
// over many seeds, one process per seed, and prints each failing seed so it can be
// replayed with BROOK_FUZZ_SEED. Usage: npm run soak:fuzz -- [seeds] [rounds]
// (defaults: 20 seeds of 3,000 rounds each; the first seed is BROOK_FUZZ_FIRST_SEED or 1).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const seeds = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 3000);
const first = Number(process.env.BROOK_FUZZ_FIRST_SEED ?? 1);
const files = ['integration/fuzz.test.js', 'integration/controller-fuzz.test.js', 'http/http-fuzz.test.js'].map((f) =>
  path.join(__dirname, '..', 'dist', 'test', f),
);
const failed = [];
let runs = 0;
for (let seed = first; seed < first + seeds; seed++) {
  for (const file of files) {
    runs++;
    const result = spawnSync(process.execPath, [file], {
      env: { ...process.env, BROOK_FUZZ_SEED: String(seed), BROOK_FUZZ_ROUNDS: String(rounds) },
      encoding: 'utf8',
      timeout: 30 * 60 * 1000,
    });
    const ok = result.status === 0;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} seed ${seed} ${path.basename(file)}\n`);
    if (!ok) {
      failed.push(`${path.basename(file)} seed ${seed}`);
      process.stdout.write((result.stdout ?? '') + (result.stderr ?? ''));
    }
  }
}
process.stdout.write(
  `${runs} runs of ${rounds} rounds, ${failed.length} failed${failed.length ? ': ' + failed.join(', ') : ''}\n`,
);
process.exit(failed.length ? 1 : 0);
