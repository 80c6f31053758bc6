#!/usr/bin/env node
// npm install runs this: builds Brook's native CRC-32C (protocol/native) with node-gyp.
// A failed build is not an install failure: Brook then uses @node-rs/crc32 (or its
// JavaScript CRC), and this prints one line saying so. BROOK_SKIP_NATIVE=1 skips it.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', 'protocol', 'native');
const built = path.join(dir, 'build', 'Release', 'brook_crc32c.node');

function nodeGyp() {
  // npm tells its lifecycle scripts where its own node-gyp is.
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  const beside = path.join(
    path.dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return fs.existsSync(beside) ? beside : null;
}

function main() {
  if (process.env.BROOK_SKIP_NATIVE === '1') return console.log('brook: native CRC-32C skipped (BROOK_SKIP_NATIVE=1)');
  const gyp = nodeGyp();
  if (!gyp) return console.log('brook: native CRC-32C not built (node-gyp not found); using @node-rs/crc32');
  const args = [gyp, 'rebuild', '--directory', dir];
  // Build against the headers of the Node that runs this, when they are installed beside it.
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')))
    args.push(`--nodedir=${prefix}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
  if (run.status === 0 && fs.existsSync(built)) {
    return console.log(
      `brook: native CRC-32C built in ${((Date.now() - started) / 1000).toFixed(1)} s (${path.relative(process.cwd(), built)})`,
    );
  }
  const why = run.error
    ? run.error.message
    : `${
        (run.stderr || '')
          .trim()
          .split('\n')
          .filter((l) => /ERR!|error/.test(l))
          .slice(0, 1)
          .join('') || `node-gyp exited with ${run.status}`
      }`;
  console.log(`brook: native CRC-32C not built (${why}); using @node-rs/crc32`);
}

main();
