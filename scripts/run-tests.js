#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own node process, several at
// a time, with a per-file timeout. Each file's output is printed as one block when it ends
// (never interleaved with another's); then every file's time, slowest first, and the final
// line "N passed, M failed". A file that crashes, times out or prints no uvu summary counts
// as one failure. Exits non-zero on any failure or when no test ran at all.
//
// Workers: the number of cores + 1 (BROOK_TEST_WORKERS overrides; 1 runs the files one at a
// time). The slowest files start first, by the times of earlier runs kept in
// dist/.test-timings.json (a file never timed is ordered by its folder's usual weight).
// Test brokers take their ports from per-process blocks (test/helpers/ports.ts), so files
// running side by side never share a port.
// The benchmarks' smoke run (test/bench/) is left out unless a filter naming "bench" selects
// it: `npm run test:bench` runs it on its own (CI runs both).
// Usage: node scripts/run-tests.js [path-substring ...]   (matched against test/...: e.g. test/client/)
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseSummary } = require('./test-summary');

const root = path.join(__dirname, '..', 'dist', 'test');
const timingsFile = path.join(__dirname, '..', 'dist', '.test-timings.json');
const timeoutMs = Number(process.env.BROOK_TEST_TIMEOUT_MS || 240000);
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const workers = Math.max(1, Number(process.env.BROOK_TEST_WORKERS) || cores + 1);
const filters = process.argv.slice(2);

/** Seconds a file usually takes, by folder, when no earlier run timed it. */
const FOLDER_WEIGHT_S = {
  bench: 100,
  soak: 30,
  integration: 30,
  security: 25,
  cli: 20,
  http: 15,
  client: 10,
  raft: 5,
  server: 5,
};

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(full));
    else if (entry.name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

function readTimings() {
  try {
    const parsed = JSON.parse(fs.readFileSync(timingsFile, 'utf8'));
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['-r', path.join(__dirname, 'uvu-hook-errors.js'), file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk.toString()));
    child.stderr.on('data', (chunk) => (output += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ output, code, signal, timedOut, ms: Date.now() - started });
    });
  });
}

(async () => {
  const started = Date.now();
  // Filters match the path from the project root (test/client/producer.test.js), not the
  // absolute path, so a checkout's own directory name never selects or hides a file.
  const relative = (file) => path.join('test', path.relative(root, file));
  const selected = (file) => {
    const name = relative(file);
    const bench = name.startsWith(path.join('test', 'bench') + path.sep);
    return bench
      ? filters.some((f) => f.includes('bench') && name.includes(f))
      : filters.length === 0 || filters.some((f) => name.includes(f));
  };
  // A compiled test whose source was moved or deleted stays in dist/ (incremental compile
  // never removes outputs): only files with a test/**/*.test.ts source run.
  const hasSource = (file) => fs.existsSync(path.join(__dirname, '..', relative(file).replace(/\.js$/, '.ts')));
  const files = findTests(root).filter((file) => hasSource(file) && selected(file));
  const timings = readTimings();
  const expectedMs = (name) => timings[name] ?? (FOLDER_WEIGHT_S[name.split(path.sep)[0]] ?? 2) * 1000;
  const queue = files.map((file) => ({ file, name: path.relative(root, file) }));
  queue.sort((a, b) => expectedMs(b.name) - expectedMs(a.name) || a.name.localeCompare(b.name));
  const poolSize = Math.min(workers, queue.length);
  process.stdout.write(`# ${queue.length} test files, ${poolSize} at a time\n`);

  let passed = 0;
  let failed = 0;
  const problems = [];
  const times = [];
  const record = (name, result) => {
    const summary = parseSummary(result.output);
    if (summary) {
      passed += summary.passed;
      failed += summary.failed;
      if (summary.failed > 0) problems.push(`${name}: ${summary.failed} failed`);
    }
    if (result.timedOut) {
      failed += 1;
      problems.push(`${name}: timed out after ${timeoutMs} ms`);
    } else if (!summary) {
      failed += 1;
      problems.push(`${name}: no test summary (exit ${result.code}${result.signal ? `, ${result.signal}` : ''})`);
    } else if (result.code !== 0 && summary.failed === 0) {
      failed += 1;
      problems.push(`${name}: exited ${result.code} after its tests`);
    }
    times.push({ name, ms: result.ms });
    timings[name] = result.ms;
    const tail = result.output === '' || result.output.endsWith('\n') ? '' : '\n';
    process.stdout.write(`\n# ${name}\n${result.output}${tail}# ${name}: ${(result.ms / 1000).toFixed(1)} s\n`);
  };
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) record(item.name, await runFile(item.file));
  };
  await Promise.all(Array.from({ length: poolSize }, worker));

  try {
    fs.writeFileSync(timingsFile, `${JSON.stringify(timings, Object.keys(timings).sort(), 1)}\n`);
  } catch {
    // No dist/ to keep timings in: the next run falls back to the folder weights.
  }
  times.sort((a, b) => b.ms - a.ms);
  process.stdout.write(`\nTimes (${poolSize} at a time, ${((Date.now() - started) / 1000).toFixed(1)} s in all):\n`);
  for (const t of times) process.stdout.write(`  ${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.name}\n`);
  if (problems.length) process.stdout.write(`\nFailures:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
})();
