// Ports for test brokers that cannot collide between test files running at the same time,
// nor with test runs of other checkouts on the same machine. Each test process claims whole
// blocks of ports in BASE..32767 with a lock file named after the block and its pid
// (os.tmpdir()/brook-test-ports/<block>.<pid>); a block whose holder has died is taken
// over. Ports are handed out from the claimed block in order, never twice in one
// process, skipping any port another program listens on. The range lies below Linux's
// ephemeral range (32768-60999), so no outgoing connection is ever given one of them.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const BASE = Number(process.env.BROOK_TEST_PORT_BASE || 20000);
const BLOCK_SIZE = 64;
const BLOCKS = Math.floor((32768 - BASE) / BLOCK_SIZE);
const LOCK_DIR = path.join(os.tmpdir(), 'brook-test-ports');

const claimed: string[] = [];
let next = 0;
let end = 0;

process.on('exit', () => {
  for (const file of claimed) fs.rmSync(file, { force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a block: writes <block>.<pid>, then looks for other holders of that block. Any
 * other live holder means the block is not ours (two that raced both step back and try
 * other blocks, so two never both win); a dead holder's file is removed.
 */
function tryClaim(block: number): boolean {
  const mine = `${block}.${process.pid}`;
  const file = path.join(LOCK_DIR, mine);
  fs.writeFileSync(file, String(process.pid));
  for (const name of fs.readdirSync(LOCK_DIR)) {
    if (!name.startsWith(`${block}.`) || name === mine) continue;
    if (alive(Number(name.slice(name.indexOf('.') + 1)))) {
      fs.rmSync(file, { force: true });
      return false;
    }
    fs.rmSync(path.join(LOCK_DIR, name), { force: true });
  }
  claimed.push(file);
  next = BASE + block * BLOCK_SIZE;
  end = next + BLOCK_SIZE;
  return true;
}

function claimBlock(): void {
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  // Start at a place that differs between processes, so they seldom contend for one block.
  const start = process.pid % BLOCKS;
  for (let i = 0; i < BLOCKS; i++) if (tryClaim((start + i) % BLOCKS)) return;
  throw new Error(`no free block of test ports in ${BASE}-${BASE + BLOCKS * BLOCK_SIZE - 1} (locks in ${LOCK_DIR})`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that no other test process is handed and nothing listens on now. */
export async function freePort(): Promise<number> {
  for (;;) {
    if (next >= end) claimBlock();
    const port = next++;
    if (await bindable(port)) return port;
  }
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
