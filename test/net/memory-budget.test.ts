// Memory a listener holds for requests and unsent responses: a connection handles one
// Fetch at a time (later frames wait in order behind it), the listener's shared budget
// (queued.max.request.bytes) stops clients that owe the kernel bytes from starting more
// requests while it is spent, a client that reads its answers keeps being served, and the
// budget comes back whole when the slow client goes. Also: the tail cache keeps a copy of a
// batch sliced out of a large buffer rather than pinning the whole buffer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { silentLogger } from '../../src/logger';
import { TailCache, TailEntry } from '../../src/log/tail-cache';
import { Dispatcher } from '../../src/net/connection';
import { KafkaListener, ListenerOptions } from '../../src/net/kafka-listener';
import { MemoryBudget } from '../../src/net/memory-budget';
import { delay, until } from '../helpers/wait';

const FETCH = 1;
const API_VERSIONS = 18;

/** A v1-header request frame with an empty body. */
function request(correlationId: number, apiKey: number): Buffer {
  const frame = Buffer.alloc(4 + 10);
  frame.writeInt32BE(10, 0);
  frame.writeInt16BE(apiKey, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  frame.writeInt16BE(-1, 12);
  return frame;
}

/** A response frame of `size` bytes after its correlation id. */
function answer(correlationId: number, size: number): Buffer[] {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + size, 0);
  head.writeInt32BE(correlationId, 4);
  return [head, Buffer.alloc(size, 0x62)];
}

async function withListener(
  options: Partial<ListenerOptions>,
  dispatcher: Dispatcher,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      socketRequestMaxBytes: 1 << 20,
      maxInflightRequests: 100,
      ...options,
    } as ListenerOptions,
    dispatcher,
    silentLogger,
  );
  const port = await listener.listen();
  listener.serve?.();
  try {
    await body(port);
  } finally {
    await listener.close(0);
  }
}

interface Client {
  socket: net.Socket;
  /** Correlation ids answered, in the order the answers came. */
  answered: number[];
}

/** A client that reads (and parses) its answers unless `reading` is false. */
async function connect(port: number, reading = true): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const answered: number[] = [];
  let data = Buffer.alloc(0);
  if (reading) {
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        answered.push(data.readInt32BE(4));
        data = data.subarray(4 + data.readInt32BE(0));
      }
    });
  } else socket.pause();
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, answered };
}

test('a connection handles one Fetch at a time; answers stay in request order', async () => {
  let fetching = 0;
  let mostFetching = 0;
  let others = 0;
  const dispatcher: Dispatcher = {
    async dispatch(header) {
      if (header.apiKey === FETCH) {
        fetching++;
        mostFetching = Math.max(mostFetching, fetching);
        await delay(15);
        fetching--;
      } else others++;
      return answer(header.correlationId, 16);
    },
  };
  await withListener({ maxInflightFetches: 1 }, dispatcher, async (port) => {
    const client = await connect(port);
    const frames: Buffer[] = [];
    for (let i = 1; i <= 20; i++) frames.push(request(i, i % 2 === 0 ? FETCH : API_VERSIONS));
    client.socket.write(Buffer.concat(frames));
    await until(() => client.answered.length === 20, { what: '20 answers', timeoutMs: 5000, intervalMs: 10 });
    assert.equal(
      client.answered,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.is(mostFetching, 1, 'never two Fetches of one connection at once');
    assert.is(others, 10);
  });
});

test('without the bound, pipelined Fetches run together (what the bound changes)', async () => {
  let fetching = 0;
  let mostFetching = 0;
  const dispatcher: Dispatcher = {
    async dispatch(header) {
      fetching++;
      mostFetching = Math.max(mostFetching, fetching);
      await delay(15);
      fetching--;
      return answer(header.correlationId, 16);
    },
  };
  await withListener({}, dispatcher, async (port) => {
    const client = await connect(port);
    client.socket.write(Buffer.concat([1, 2, 3, 4, 5].map((i) => request(i, FETCH))));
    await until(() => client.answered.length === 5, { what: '5 answers', timeoutMs: 5000, intervalMs: 10 });
    assert.ok(mostFetching > 1);
  });
});

test('a spent budget holds clients that owe bytes; a reading client is still served; all comes back', async () => {
  const MIB = 1 << 20;
  const budget = new MemoryBudget(4 * MIB);
  let started = 0;
  const dispatcher: Dispatcher = {
    dispatch(header) {
      started++;
      return answer(header.correlationId, 512 * 1024);
    },
  };
  await withListener({ budget, maxQueuedResponseBytes: 64 * MIB }, dispatcher, async (port) => {
    // Two slow clients ask for 200 answers of 512 KiB each and never read.
    const slow = [await connect(port, false), await connect(port, false)];
    for (const client of slow)
      client.socket.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => request(i + 1, API_VERSIONS))));
    await delay(400);
    const startedBySlow = started;
    // Far fewer than 400 started: the budget (4 MiB) stopped them (the per-connection bound
    // here is 64 MiB, so only the budget can have).
    assert.ok(startedBySlow < 40, `slow clients started ${startedBySlow} requests`);
    assert.ok(budget.exhausted, `budget used ${budget.usedBytes}`);
    assert.ok(budget.usedBytes < 4 * MIB + 40 * 512 * 1024, `budget used ${budget.usedBytes}`);

    // A client that reads its answers is served, one request at a time.
    const good = await connect(port);
    good.socket.write(Buffer.concat([1, 2, 3, 4, 5].map((i) => request(i, API_VERSIONS))));
    await until(() => good.answered.length === 5, { what: 'the reading client served', timeoutMs: 5000 });
    good.socket.destroy();

    for (const client of slow) client.socket.destroy();
    await until(() => budget.usedBytes === 0, {
      what: `the budget back whole (used ${budget.usedBytes})`,
      timeoutMs: 5000,
      intervalMs: 20,
    });
  });
});

test('a slow client that starts reading gets every answer, in order', async () => {
  const budget = new MemoryBudget(1 << 20);
  const dispatcher: Dispatcher = { dispatch: (header) => answer(header.correlationId, 64 * 1024) };
  await withListener({ budget }, dispatcher, async (port) => {
    const client = await connect(port, false);
    client.socket.write(Buffer.concat(Array.from({ length: 300 }, (_, i) => request(i + 1, API_VERSIONS))));
    await delay(200);
    let data = Buffer.alloc(0);
    client.socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        client.answered.push(data.readInt32BE(4));
        data = data.subarray(4 + data.readInt32BE(0));
      }
    });
    client.socket.resume();
    await until(() => client.answered.length === 300, { what: '300 answers', timeoutMs: 10000, intervalMs: 20 });
    assert.equal(
      client.answered,
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    client.socket.destroy();
    await until(() => budget.usedBytes === 0, { what: 'the budget back whole', timeoutMs: 5000 });
  });
});

test('the tail cache copies a batch sliced from a large buffer instead of pinning it', () => {
  const cache = new TailCache(64 << 20);
  const frame = Buffer.alloc(10 << 20);
  const owner: TailEntry[] = [];
  const sliced: TailEntry = { baseOffset: 0, lastOffset: 0, bytes: frame.subarray(4096, 4096 + 16384), owner };
  owner.push(sliced);
  cache.add(sliced);
  assert.ok(sliced.bytes.buffer.byteLength < 64 * 1024, `pins ${sliced.bytes.buffer.byteLength} bytes`);
  assert.ok(sliced.bytes.equals(frame.subarray(4096, 4096 + 16384)));
  const whole = Buffer.alloc(32768);
  const own: TailEntry = { baseOffset: 1, lastOffset: 1, bytes: whole, owner };
  owner.push(own);
  cache.add(own);
  assert.ok(own.bytes === whole, 'a buffer of its own is kept as it is');
});

test.run();
