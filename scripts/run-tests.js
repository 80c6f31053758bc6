#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own node process, one at
// a time, with a per-file timeout; prints each file's output and a final line
// "N passed, M failed". A file that crashes, times out or prints no uvu summary counts as
// one failure. Exits non-zero on any failure or when no test ran at all.
// Usage: node scripts/run-tests.js [path-substring ...]   (matched against test/...: e.g. test/client/)
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseSummary } = require('./test-summary');

const root = path.join(__dirname, '..', 'dist', 'test');
const timeoutMs = Number(process.env.BROOK_TEST_TIMEOUT_MS || 240000);
const filters = process.argv.slice(2);

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

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    const collect = (stream, sink) => stream.on('data', (chunk) => {
      output += chunk.toString();
      sink.write(chunk);
    });
    collect(child.stdout, process.stdout);
    collect(child.stderr, process.stderr);
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
  // Filters match the path from the project root (test/client/producer.test.js), not the
  // absolute path, so a checkout's own directory name never selects or hides a file.
  const relative = (file) => path.join('test', path.relative(root, file));
  const files = findTests(root).filter((file) => filters.length === 0 || filters.some((f) => relative(file).includes(f)));
  let passed = 0;
  let failed = 0;
  const problems = [];
  for (const file of files) {
    const name = path.relative(root, file);
    process.stdout.write(`\n# ${name}\n`);
    const result = await runFile(file);
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
    process.stdout.write(`# ${name}: ${(result.ms / 1000).toFixed(1)} s\n`);
  }
  if (problems.length) process.stdout.write(`\nFailures:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
})();
