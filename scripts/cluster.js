#!/usr/bin/env node
// A local three-node Brook cluster for development: distinct ports and data directories
// under one base directory, PIDs recorded so `stop` ends exactly the processes `start`
// began. Usage:
//   node scripts/cluster.js start [--base DIR] [--nodes 3] [--kafka-port 9192] [--controller-port 9193]
//   node scripts/cluster.js stop  [--base DIR]
//   node scripts/cluster.js status [--base DIR]
// Node i listens on kafka-port + 100*(i-1) and controller-port + 100*(i-1), on 127.0.0.1.
// The nodes share a random controller-port secret, made once in DIR/cluster.properties
// (mode 0600); `brook cluster ... --config DIR/cluster.properties` authenticates with it.
'use strict';
const { randomBytes } = require('node:crypto');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const args = process.argv.slice(2);
const verb = args[0];
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const base = path.resolve(option('base', './cluster-data'));
const count = Number(option('nodes', '3'));
const kafkaBase = Number(option('kafka-port', '9192'));
const controllerBase = Number(option('controller-port', '9193'));
const pidFile = path.join(base, 'pids.json');
const brook = path.join(__dirname, 'brook.js');

function probe(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on('connect', () => socket.write(Buffer.from('0000000a00120000000000010000', 'hex').subarray(0, 14)));
    socket.on('data', () => done(true));
    socket.on('error', () => done(false));
    setTimeout(() => done(false), 1000);
  });
}

async function start() {
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error('--nodes must be 1..9');
  fs.mkdirSync(base, { recursive: true });
  if (fs.existsSync(pidFile)) throw new Error(`${pidFile} exists: the cluster may be running (run stop first)`);
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const secretFile = path.join(base, 'cluster.properties');
  if (!fs.existsSync(secretFile))
    fs.writeFileSync(secretFile, `brook.controller.cluster.secret=${randomBytes(32).toString('hex')}\n`, {
      mode: 0o600,
    });
  const voters = ids.map((id) => `${id}@127.0.0.1:${controllerBase + 100 * (id - 1)}`).join(',');
  const pids = {};
  for (const id of ids) {
    const log = fs.openSync(path.join(base, `node-${id}.log`), 'a');
    const child = spawn(
      process.execPath,
      [
        brook,
        'server',
        '--node-id',
        String(id),
        '--listen',
        `127.0.0.1:${kafkaBase + 100 * (id - 1)}`,
        '--controller-listen',
        `127.0.0.1:${controllerBase + 100 * (id - 1)}`,
        '--voters',
        voters,
        '--http',
        'off',
        '--data-dir',
        path.join(base, `node-${id}`),
        '--config',
        secretFile,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.unref();
    pids[id] = child.pid;
  }
  fs.writeFileSync(pidFile, JSON.stringify(pids));
  const deadline = Date.now() + 60000;
  for (const id of ids) {
    while (!(await probe(kafkaBase + 100 * (id - 1)))) {
      if (Date.now() > deadline)
        throw new Error(`node ${id} not ready within 60 s; see ${path.join(base, `node-${id}.log`)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  console.log(
    `cluster of ${count} up: bootstrap ${ids.map((id) => `127.0.0.1:${kafkaBase + 100 * (id - 1)}`).join(',')}`,
  );
  console.log(
    `status: npx brook cluster status --bootstrap 127.0.0.1:${kafkaBase} --controller 127.0.0.1:${controllerBase} --config ${secretFile}`,
  );
}

async function stop() {
  if (!fs.existsSync(pidFile)) {
    console.log('no cluster recorded here');
    return;
  }
  const pids = JSON.parse(fs.readFileSync(pidFile, 'utf8'));
  for (const [id, pid] of Object.entries(pids)) {
    try {
      process.kill(pid, 'SIGTERM');
      console.log(`node ${id} (pid ${pid}): SIGTERM`);
    } catch {
      console.log(`node ${id} (pid ${pid}): not running`);
    }
  }
  const deadline = Date.now() + 20000;
  for (const pid of Object.values(pids)) {
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(pidFile);
}

async function status() {
  const pids = fs.existsSync(pidFile) ? JSON.parse(fs.readFileSync(pidFile, 'utf8')) : {};
  for (const [id, pid] of Object.entries(pids)) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    console.log(
      `node ${id}: pid ${pid} ${alive ? 'running' : 'not running'}, kafka 127.0.0.1:${kafkaBase + 100 * (id - 1)}`,
    );
  }
}

const verbs = { start, stop, status };
if (!verbs[verb]) {
  console.error(
    'usage: node scripts/cluster.js start|stop|status [--base DIR] [--nodes N] [--kafka-port P] [--controller-port P]',
  );
  process.exit(2);
}
verbs[verb]().catch((error) => {
  console.error(`cluster: ${error.message}`);
  process.exit(1);
});
