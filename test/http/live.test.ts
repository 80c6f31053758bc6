// The WebSocket endpoint (src/http/live.ts) with the `ws` client: stats arrive on connect and
// on every sample, a tail delivers a record produced to a real broker process, bad messages
// get error answers while the socket stays usable, a slow socket has messages dropped (and
// is told how many), and closing the socket releases its tail.

import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { Admin } from '../../src/client/admin';
import { Producer } from '../../src/client/producer';
import { silentLogger } from '../../src/logger';
import { LiveServer, LIVE_SOCKET_BUFFERED_BYTES_MAX } from '../../src/http/live';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';

const WAIT_MS = 15_000;

let broker: BrokerProcess;
let server: http.Server;
let live: LiveServer;
let port: number;
let sampleListeners = new Set<() => void>();
let sample: Record<string, unknown> = {};

/** Reads a socket's messages in order, waiting (bounded) for one that matches. */
class Reader {
  readonly messages: any[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async next(match: (message: any) => boolean, what: string): Promise<any> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const index = this.messages.findIndex(match);
      if (index >= 0) return this.messages.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${what} within ${WAIT_MS} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

async function open(): Promise<Reader> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`);
  const reader = new Reader(socket);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return reader;
}

function pushSample(stats: Record<string, unknown>): void {
  sample = stats;
  for (const listener of sampleListeners) listener();
}

test.before(async () => {
  broker = await startBroker();
  live = new LiveServer({
    stats: () => sample,
    onStats: (listener) => {
      sampleListeners.add(listener);
      return () => sampleListeners.delete(listener);
    },
    bootstrap: () => `127.0.0.1:${broker.port}`,
    logger: silentLogger,
    tailPushIntervalMs: 50,
    // Short enough for the silent-socket test, long enough that a slow socket draining its
    // backlog on a loaded machine still answers a ping in time.
    heartbeatIntervalMs: 1000,
  });
  server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => live.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

test.after(async () => {
  await live.close();
  await new Promise((resolve) => server.close(resolve));
  await broker.stop();
});

test('stats arrive at once on connect and after every sample', async () => {
  sample = {
    at: 1000,
    produce: { recordsPerSec: 5, bytesPerSec: 500 },
    fetch: { recordsPerSec: 0, bytesPerSec: 0 },
    requestLatencyMs: { p50: 1, p99: 2, p999: 3 },
    connections: 1,
  };
  const reader = await open();
  const hello = await reader.next((m) => m.type === 'hello', 'hello');
  assert.is(hello.limits.tailsPerSocket, 1);
  const first = await reader.next((m) => m.type === 'stats', 'first stats');
  assert.equal(first.produce, { recordsPerSec: 5, bytesPerSec: 500 });
  assert.is(first.at, 1000);
  pushSample({ at: 2000, produce: { recordsPerSec: 7, bytesPerSec: 700 } });
  const second = await reader.next((m) => m.type === 'stats', 'second stats');
  assert.is(second.at, 2000);
  assert.is(second.produce.recordsPerSec, 7);
  reader.socket.close();
});

test('a tail delivers records produced after it started, formatted for the page', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const admin = new Admin({ bootstrap });
  await admin.createTopics([{ name: 'tailed', partitions: 2, replicationFactor: 1 }]);
  admin.close();
  const producer = new Producer({ bootstrap });
  // A record from before the tail is not delivered: the tail starts at the end.
  await producer.send({ topic: 'tailed', partition: 0, key: 'old', value: 'before' });
  const reader = await open();
  reader.socket.send(JSON.stringify({ type: 'tail', topic: 'tailed' }));
  const tailing = await reader.next((m) => m.type === 'tailing', 'tailing');
  assert.equal(tailing, { type: 'tailing', topic: 'tailed', partitions: 2 });
  await producer.send({ topic: 'tailed', partition: 1, key: 'k1', value: '{"n":1}', headers: { source: 'test' } });
  await producer.send({ topic: 'tailed', partition: 0, key: 'k2', value: Buffer.from([0, 1, 2, 255]) });
  const seen: any[] = [];
  while (seen.length < 2) seen.push(...(await reader.next((m) => m.type === 'records', 'records')).records);
  assert.is(seen.length, 2);
  const json = seen.find((r) => r.key === 'k1');
  assert.is(json.partition, 1);
  assert.is(json.valueEncoding, 'json');
  assert.is(json.value, '{"n":1}');
  assert.equal(json.headers, [{ key: 'source', value: 'test', encoding: 'string' }]);
  const binary = seen.find((r) => r.key === 'k2');
  assert.is(binary.valueEncoding, 'hex');
  assert.is(binary.value, '000102ff');
  assert.ok(!seen.some((r) => r.key === 'old'));
  assert.is(live.counts().tails, 1);
  reader.socket.send(JSON.stringify({ type: 'untail' }));
  await reader.next((m) => m.type === 'untailed', 'untailed');
  assert.is(live.counts().tails, 0);
  await producer.close();
  reader.socket.close();
});

test('bad messages get error answers and the socket stays usable', async () => {
  const reader = await open();
  reader.socket.send('{not json');
  assert.is((await reader.next((m) => m.type === 'error', 'bad json error')).error.code, 'bad-json');
  reader.socket.send('[1,2]');
  assert.is((await reader.next((m) => m.type === 'error', 'not an object error')).error.code, 'bad-message');
  reader.socket.send(JSON.stringify({ type: 'explode' }));
  assert.is((await reader.next((m) => m.type === 'error', 'unknown type error')).error.code, 'unknown-type');
  reader.socket.send(JSON.stringify({ type: 'tail' }));
  assert.is((await reader.next((m) => m.type === 'error', 'tail without topic')).error.code, 'bad-message');
  reader.socket.send(JSON.stringify({ type: 'tail', topic: 'no-such-topic' }));
  const unknown = await reader.next((m) => m.type === 'error', 'unknown topic');
  assert.is(unknown.error.code, 'unknown-topic');
  assert.match(unknown.error.message, /no-such-topic/);
  reader.socket.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.is((await reader.next((m) => m.type === 'error', 'binary error')).error.code, 'bad-message');
  reader.socket.send(JSON.stringify({ type: 'ping' }));
  await reader.next((m) => m.type === 'pong', 'pong');
  assert.is(live.counts().tails, 0);
  reader.socket.close();
});

test("a WebSocket opened from another site's page is refused; the same origin is accepted", async () => {
  const foreign = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { origin: 'http://evil.example' });
  const status = await new Promise<number>((resolve) => {
    foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    foreign.once('open', () => resolve(101));
    foreign.once('error', () => undefined);
  });
  assert.is(status, 403);
  const local = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { origin: `http://127.0.0.1:${port}` });
  await new Promise((resolve, reject) => {
    local.once('open', resolve);
    local.once('error', reject);
  });
  local.close();
  const wrongPath = new WebSocket(`ws://127.0.0.1:${port}/api/v1/elsewhere`);
  const answer = await new Promise<number>((resolve) => {
    wrongPath.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    wrongPath.once('error', () => resolve(-1));
  });
  assert.is(answer, 404);
});

test('an oversized message closes that socket with 1009 and nothing else', async () => {
  const reader = await open();
  const closed = new Promise<number>((resolve) => reader.socket.once('close', (code) => resolve(code)));
  reader.socket.send(JSON.stringify({ type: 'tail', topic: 'x'.repeat(10_000) }));
  assert.is(await closed, 1009);
  const other = await open();
  other.socket.send(JSON.stringify({ type: 'ping' }));
  await other.next((m) => m.type === 'pong', 'pong on another socket');
  other.socket.close();
});

test('a slow socket has messages dropped beyond the buffer limit, then is told how many', async () => {
  const reader = await open();
  await reader.next((m) => m.type === 'stats', 'first stats');
  // The client stops reading; the server's writes back up behind the socket.
  const raw = (reader.socket as any)._socket as import('node:net').Socket;
  raw.pause();
  const padding = 'x'.repeat(256 * 1024);
  const pushes = Math.ceil((LIVE_SOCKET_BUFFERED_BYTES_MAX * 24) / padding.length);
  for (let i = 0; i < pushes; i++) pushSample({ at: i, padding });
  raw.resume();
  // Pushes keep coming until one finds the socket drained and reports the drops.
  await until(
    () => {
      if (reader.messages.some((m) => m.type === 'dropped')) return true;
      pushSample({ at: -1 });
      return false;
    },
    { what: 'a dropped report', timeoutMs: WAIT_MS, intervalMs: 50 },
  );
  const dropped = reader.messages.find((m) => m.type === 'dropped');
  const delivered = reader.messages.filter((m) => m.type === 'stats' && m.at >= 0).length;
  assert.ok(delivered < pushes, `${delivered} of ${pushes} pushes delivered`);
  // Pushes made while still backed up (the at:-1 probes) may be counted as dropped too.
  assert.ok(dropped.count >= pushes - delivered, `${dropped.count} dropped, ${delivered} of ${pushes} delivered`);
  reader.socket.close();
});

test('a socket that stops answering pings is cut and its tail released', async () => {
  const reader = await open();
  reader.socket.send(JSON.stringify({ type: 'tail', topic: 'tailed' }));
  await reader.next((m) => m.type === 'tailing', 'tailing');
  const closed = new Promise<void>((resolve) => reader.socket.once('close', () => resolve()));
  // The client stops reading, so the server's pings go unanswered.
  ((reader.socket as any)._socket as import('node:net').Socket).pause();
  await until(() => live.counts().sockets === 0 && live.counts().tails === 0, {
    what: 'the silent socket cut',
    timeoutMs: WAIT_MS,
    intervalMs: 10,
  });
  ((reader.socket as any)._socket as import('node:net').Socket).resume();
  await closed;
});

test('closing a socket ends its tail; the server closes sockets cleanly on shutdown', async () => {
  const reader = await open();
  reader.socket.send(JSON.stringify({ type: 'tail', topic: 'tailed' }));
  await reader.next((m) => m.type === 'tailing', 'tailing');
  assert.is(live.counts().tails, 1);
  const closed = new Promise<number>((resolve) => reader.socket.once('close', (code) => resolve(code)));
  reader.socket.close(1000);
  assert.is(await closed, 1000);
  await until(() => live.counts().sockets === 0 && live.counts().tails === 0, {
    what: 'socket and tail released',
    timeoutMs: WAIT_MS,
    intervalMs: 10,
  });
  assert.is(sampleListeners.size, 0);

  const second = await open();
  const shutdown = new Promise<number>((resolve) => second.socket.once('close', (code) => resolve(code)));
  await live.close();
  assert.is(await shutdown, 1001);
});

test.run();
