// Connection slots and per-connection memory on a Kafka listener: connections.max.idle.ms
// closes a connection that has sent nothing and awaits nothing, max.connections.per.ip
// (with its overrides) counts per peer address, reserved slots past the limits admit only
// a connection whose first request passes the gate, in time; a client that pipelines and
// never reads stops being read once its queued responses pass the byte bound, and a
// request frame stalled half-sent closes its connection.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { silentLogger } from '../../src/logger';
import { Dispatcher } from '../../src/net/connection';
import { KafkaListener, ListenerOptions } from '../../src/net/kafka-listener';
import { delay, until } from '../helpers/wait';

/** Answers every request with a frame holding just its correlation id. */
const echo: Dispatcher = {
  dispatch(header) {
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4, 0);
    frame.writeInt32BE(header.correlationId, 4);
    return [frame];
  },
};

/** A v1-header request frame (ApiVersions v0 unless told) with the given client id and body. */
function request(correlationId: number, clientId = 'test', apiKey = 18, body = Buffer.alloc(0)): Buffer {
  const id = Buffer.from(clientId);
  const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length + body.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(apiKey, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  frame.writeInt16BE(id.length, 12);
  id.copy(frame, 14);
  body.copy(frame, 14 + id.length);
  return frame;
}

interface Client {
  socket: net.Socket;
  closed: () => boolean;
  answers: () => number;
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  let closed = false;
  let received = 0;
  socket.on('data', (data) => (received += data.length));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, closed: () => closed, answers: () => Math.floor(received / 8) };
}

async function withListener(
  options: Partial<ListenerOptions> & Record<string, unknown>,
  body: (port: number, listener: KafkaListener) => Promise<void>,
): Promise<void> {
  const all = {
    host: '127.0.0.1',
    port: 0,
    maxConnections: 100,
    socketRequestMaxBytes: 1 << 20,
    maxInflightRequests: 10,
    ...options,
  } as ListenerOptions;
  const listener = new KafkaListener(all, echo, silentLogger);
  const port = await listener.listen();
  const clients: net.Socket[] = [];
  try {
    await body(port, listener);
  } finally {
    for (const socket of clients) socket.destroy();
    await listener.close(0);
  }
}

const closedSoon = (client: Client, what: string, timeoutMs = 3000) =>
  until(() => client.closed(), { what, timeoutMs, intervalMs: 20 });

test('connections.max.idle.ms closes a silent connection, not a busy one', async () => {
  await withListener({ idleMs: 300 }, async (port) => {
    const silent = await connect(port);
    const busy = await connect(port);
    silent.socket.write(request(1));
    await until(() => silent.answers() === 1, { what: 'the first answer', timeoutMs: 2000, intervalMs: 20 });
    const started = Date.now();
    let correlation = 2;
    const keepBusy = setInterval(() => busy.socket.write(request(correlation++)), 60);
    try {
      await closedSoon(silent, 'the idle connection to be closed');
      const after = Date.now() - started;
      assert.ok(after >= 250, `closed after ${after} ms, not before the idle time`);
      await delay(500);
      assert.not.ok(busy.closed(), 'a connection sending requests stays open');
      assert.ok(busy.answers() > 5);
    } finally {
      clearInterval(keepBusy);
      busy.socket.destroy();
    }
  });
});

test('max.connections.per.ip counts per address; an override raises it for one address', async () => {
  await withListener({ maxConnectionsPerIp: 2 }, async (port, listener) => {
    const a = await connect(port);
    const b = await connect(port);
    const c = await connect(port);
    await closedSoon(c, 'the third connection from one address to be refused');
    assert.not.ok(a.closed() || b.closed());
    a.socket.destroy();
    await until(() => listener.connectionCount === 1, { what: 'the slot to free', timeoutMs: 2000, intervalMs: 20 });
    const d = await connect(port);
    d.socket.write(request(7));
    await until(() => d.answers() === 1, { what: 'an answer on the freed slot', timeoutMs: 2000, intervalMs: 20 });
    b.socket.destroy();
    d.socket.destroy();
  });
  await withListener(
    { maxConnectionsPerIp: 1, maxConnectionsPerIpOverrides: new Map([['127.0.0.1', 3]]) },
    async (port) => {
      const clients = [await connect(port), await connect(port), await connect(port)];
      const fourth = await connect(port);
      await closedSoon(fourth, 'the fourth connection to be refused');
      for (const client of clients) {
        assert.not.ok(client.closed(), 'the override allows three');
        client.socket.destroy();
      }
    },
  );
});

test('reserved slots: past max.connections only a connection whose first request passes the gate stays', async () => {
  const gate = (header: { clientId: string | null }) => header.clientId === 'broker-2';
  await withListener(
    { maxConnections: 2, reservedConnections: 1, reservedGate: gate, reservedProofMs: 400 },
    async (port) => {
      const clients = [await connect(port), await connect(port)];
      // An idle extra connection is dropped once the proof time is over.
      const idle = await connect(port);
      await closedSoon(idle, 'the idle extra connection to be dropped');
      // A wrong first request is refused without an answer.
      const stranger = await connect(port);
      stranger.socket.write(request(1, 'someone'));
      await closedSoon(stranger, 'the extra client connection to be refused');
      assert.is(stranger.answers(), 0);
      // An unproven connection on the reserved slot gives way to a newer one.
      const squatter = await connect(port);
      const broker = await connect(port);
      await closedSoon(squatter, 'the unproven connection to give way');
      broker.socket.write(Buffer.concat([request(1, 'broker-2'), request(2, 'broker-2')]));
      await until(() => broker.answers() === 2, {
        what: 'the broker connection to be served',
        timeoutMs: 2000,
        intervalMs: 20,
      });
      await delay(600);
      assert.not.ok(broker.closed(), 'a proven connection keeps its slot');
      // The reserved slot is taken by a proven connection: the next extra one is refused.
      const late = await connect(port);
      await closedSoon(late, 'a connection past every slot to be refused');
      for (const client of [...clients, broker]) client.socket.destroy();
    },
  );
});

test('queued responses past the byte bound stop the reading until the client drains them', async () => {
  const RESPONSE_BYTES = 256 * 1024;
  const REQUESTS = 400;
  let dispatched = 0;
  const big: Dispatcher = {
    dispatch(header) {
      dispatched++;
      const frame = Buffer.alloc(4 + RESPONSE_BYTES);
      frame.writeInt32BE(RESPONSE_BYTES, 0);
      frame.writeInt32BE(header.correlationId, 4);
      return [frame];
    },
  };
  const options = {
    host: '127.0.0.1',
    port: 0,
    maxConnections: 10,
    socketRequestMaxBytes: 1 << 20,
    maxInflightRequests: 100,
    maxQueuedResponseBytes: 1 << 20,
  };
  const listener = new KafkaListener(options as ListenerOptions, big, silentLogger);
  const port = await listener.listen();
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    const frames = [];
    for (let i = 0; i < REQUESTS; i++) frames.push(request(i));
    socket.write(Buffer.concat(frames));
    await delay(1000);
    // What the kernel's socket buffers hold plus the bound: far fewer than all of them.
    assert.ok(dispatched < 100, `${dispatched} of ${REQUESTS} requests were handled while the client read nothing`);
    let received = 0;
    socket.on('data', (data) => (received += data.length));
    socket.resume();
    await until(() => received === REQUESTS * (4 + RESPONSE_BYTES), {
      what: () => `every response once the client reads (${received} bytes, ${dispatched} handled)`,
      timeoutMs: 10000,
      intervalMs: 20,
    });
    assert.is(dispatched, REQUESTS);
  } finally {
    socket.destroy();
    await listener.close(0);
  }
});

test('a request frame stalled half-sent closes the connection; a slow but moving one is served', async () => {
  await withListener({ partialRequestTimeoutMs: 300 }, async (port) => {
    const quiet = await connect(port);
    const stalled = await connect(port);
    const slow = await connect(port);
    const frame = request(5);
    stalled.socket.write(frame.subarray(0, 6));
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < frame.length) slow.socket.write(frame.subarray(sent, ++sent));
    }, 60);
    try {
      const started = Date.now();
      await closedSoon(stalled, 'the stalled connection to be closed');
      assert.ok(Date.now() - started >= 250, 'not before the timeout');
      await until(() => slow.answers() === 1, {
        what: 'the slowly sent request to be answered',
        timeoutMs: 5000,
        intervalMs: 20,
      });
      assert.not.ok(slow.closed(), 'a frame that keeps moving is not cut');
      assert.not.ok(quiet.closed(), 'a connection between frames is not stalled');
    } finally {
      clearInterval(trickle);
      quiet.socket.destroy();
      slow.socket.destroy();
    }
  });
});

test.run();
