// The Kafka listener serving TLS, in process with a scripted dispatcher: the client
// certificate becomes the connection's principal, clients without a certificate or with
// one from an untrusted CA are refused, plaintext on the TLS port and silent connections
// are closed (by the handshake timeout), and none of that disturbs the other connections.
// Large frames, bad frames, in-flight limits and the queued-response bound work on TLS
// sockets as on plaintext ones.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Logger } from '../../src/logger';
import { Connection, Dispatcher } from '../../src/net/connection';
import { KafkaListener, ListenerOptions } from '../../src/net/kafka-listener';
import { principalToString } from '../../src/security/principal';
import { parseTlsSettings, TlsMaterial } from '../../src/security/tls';
import { certFixture } from '../helpers/certs';
import { delay, until } from '../helpers/wait';

/** Answers with the correlation id and "<listener> <protocol> <principal> <request bytes>". */
const whoami: Dispatcher = {
  dispatch(header, body, connection: Connection) {
    const { listenerName, securityProtocol, principal } = connection.security;
    const text = Buffer.from(`${listenerName} ${securityProtocol} ${principalToString(principal)} ${body.remaining}`);
    const frame = Buffer.alloc(8 + text.length);
    frame.writeInt32BE(4 + text.length, 0);
    frame.writeInt32BE(header.correlationId, 4);
    text.copy(frame, 8);
    return [frame];
  },
};

/** A v1-header ApiVersions v0 request frame with an optional body of `bodyBytes`. */
function request(correlationId: number, bodyBytes = 0): Buffer {
  const id = Buffer.from('tls-test');
  const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length + bodyBytes, 7);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  frame.writeInt16BE(id.length, 12);
  id.copy(frame, 14);
  return frame;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger = {
    lines,
    debug: () => undefined,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    errorSync: record('error'),
    flushSync: () => undefined,
    child: () => logger,
  };
  return logger;
}

interface Client {
  socket: net.Socket;
  /** Response payloads after the correlation id, by correlation id. */
  answers: Map<number, string>;
  closed: () => boolean;
  error: () => string | undefined;
}

function track(socket: net.Socket): Client {
  const answers = new Map<number, string>();
  let buffered = Buffer.alloc(0);
  let closed = false;
  let error: string | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      answers.set(buffered.readInt32BE(4), buffered.subarray(8, 4 + size).toString());
      buffered = buffered.subarray(4 + size);
    }
  });
  socket.on('close', () => (closed = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  return { socket, answers, closed: () => closed, error: () => error };
}

async function connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<Client> {
  const { files } = certFixture();
  const socket = tls.connect({ host: '127.0.0.1', port, ca: files.caCert && certFixture().ca.certPem, ...options });
  const client = track(socket);
  await new Promise<void>((resolve) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => resolve());
  });
  return client;
}

function aliceOptions(): tls.ConnectionOptions {
  const { client } = certFixture();
  return { cert: client.certPem, key: client.keyPem };
}

async function answered(client: Client, correlationId: number, what: string): Promise<string> {
  return until(() => client.answers.get(correlationId), { what, timeoutMs: 5000, intervalMs: 10 });
}

async function closedSoon(client: Client, what: string): Promise<void> {
  await until(() => client.closed(), { what, timeoutMs: 5000, intervalMs: 10 });
}

async function withTlsListener(
  keys: Record<string, string>,
  options: Partial<ListenerOptions>,
  body: (port: number, listener: KafkaListener, logger: Logger & { lines: string[] }) => Promise<void>,
  dispatcher: Dispatcher = whoami,
): Promise<void> {
  const { files } = certFixture();
  const logger = recordingLogger();
  const material = new TlsMaterial(
    parseTlsSettings(
      { 'ssl.keystore.location': files.serverKeystore, 'ssl.truststore.location': files.caCert, ...keys },
      'listener SSL',
    ),
    logger,
  );
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      socketRequestMaxBytes: 4 << 20,
      maxInflightRequests: 10,
      security: { listenerName: 'SSL', securityProtocol: 'SSL' },
      tls: material,
      ...options,
    } as ListenerOptions,
    dispatcher,
    logger,
  );
  const port = await listener.listen();
  try {
    await body(port, listener, logger);
  } finally {
    await listener.close(0);
  }
}

test('the client certificate is the principal; without one the connection is ANONYMOUS', async () => {
  await withTlsListener({ 'ssl.client.auth': 'requested' }, {}, async (port) => {
    const alice = await connectTls(port, aliceOptions());
    alice.socket.write(Buffer.concat([request(1), request(2, 100)]));
    assert.is(await answered(alice, 1, 'an answer to alice'), 'SSL SSL User:CN=alice,OU=eng,O=Brook 0');
    assert.is(await answered(alice, 2, 'the second answer'), 'SSL SSL User:CN=alice,OU=eng,O=Brook 100');
    const anonymous = await connectTls(port);
    anonymous.socket.write(request(3));
    assert.is(await answered(anonymous, 3, 'an anonymous answer'), 'SSL SSL User:ANONYMOUS 0');
    alice.socket.destroy();
    anonymous.socket.destroy();
  });
});

test('ssl.client.auth=required: no certificate or an untrusted one is refused; others carry on', async () => {
  await withTlsListener(
    { 'ssl.client.auth': 'required', 'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),.*$/$1/,DEFAULT' },
    {},
    async (port, listener, logger) => {
      const alice = await connectTls(port, aliceOptions());
      alice.socket.write(request(1));
      assert.is(await answered(alice, 1, 'an answer to alice'), 'SSL SSL User:alice 0');

      const anonymous = await connectTls(port);
      anonymous.socket.write(request(2));
      await closedSoon(anonymous, 'a client without a certificate to be refused');
      assert.is(anonymous.answers.size, 0);

      const { untrustedClient } = certFixture();
      const mallory = await connectTls(port, { cert: untrustedClient.certPem, key: untrustedClient.keyPem });
      mallory.socket.write(request(3));
      await closedSoon(mallory, 'a certificate from an untrusted CA to be refused');
      assert.is(mallory.answers.size, 0);
      assert.ok(logger.lines.some((l) => /TLS client refused.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(l)));

      alice.socket.write(request(4));
      assert.is(await answered(alice, 4, 'alice to be served still'), 'SSL SSL User:alice 0');
      await until(() => listener.connectionCount === 1, { what: 'refused connections to be gone', timeoutMs: 3000 });
      alice.socket.destroy();
    },
  );
});

test('plaintext on the TLS port and silent connections are closed; TLS clients are served meanwhile', async () => {
  await withTlsListener({ 'brook.security.tls.handshake.timeout.ms': '300' }, {}, async (port, listener, logger) => {
    const good = await connectTls(port);
    const plaintext = track(net.connect(port, '127.0.0.1'));
    plaintext.socket.write(request(1));
    await closedSoon(plaintext, 'a plaintext client on the TLS port to be closed');
    assert.is(plaintext.answers.size, 0);
    assert.ok(logger.lines.some((l) => l.includes('TLS handshake failed')));

    const silent = track(net.connect(port, '127.0.0.1'));
    await until(() => logger.lines.some((l) => l.includes('TLS handshake timed out')), {
      what: 'the handshake timeout',
      timeoutMs: 3000,
    });
    await closedSoon(silent, 'a silent connection to be closed');

    // Garbage that starts like a TLS record but is not one.
    const garbage = track(net.connect(port, '127.0.0.1'));
    garbage.socket.write(Buffer.from('160301ffff' + 'ab'.repeat(64), 'hex'));
    await closedSoon(garbage, 'a broken ClientHello to be refused');

    good.socket.write(request(2));
    assert.is(await answered(good, 2, 'the TLS client to be served'), 'SSL SSL User:ANONYMOUS 0');
    await until(() => listener.connectionCount === 1, { what: 'only the TLS client to remain', timeoutMs: 3000 });
    good.socket.destroy();
  });
});

test('large frames span TLS records; an oversized frame closes only its connection', async () => {
  await withTlsListener({}, { socketRequestMaxBytes: 2 << 20 }, async (port) => {
    const client = await connectTls(port);
    const big = request(1, (1 << 20) + 12345);
    // Written in uneven pieces, so that frame boundaries fall anywhere in the TLS records.
    for (let offset = 0; offset < big.length; offset += 70001)
      client.socket.write(big.subarray(offset, offset + 70001));
    client.socket.write(Buffer.concat([request(2), request(3, 3)]));
    assert.is(await answered(client, 1, 'the large request'), `SSL SSL User:ANONYMOUS ${(1 << 20) + 12345}`);
    assert.is(await answered(client, 3, 'the requests after it'), 'SSL SSL User:ANONYMOUS 3');

    const other = await connectTls(port);
    const oversized = Buffer.alloc(8);
    oversized.writeInt32BE((2 << 20) + 1, 0);
    other.socket.write(oversized);
    await closedSoon(other, 'an oversized frame to close its connection');
    client.socket.write(request(4));
    assert.ok(await answered(client, 4, 'the first client to be served still'));
    client.socket.destroy();
  });
});

test('back-pressure on TLS: in-flight limit and queued-response bound stop the reading', async () => {
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
  await withTlsListener(
    {},
    { maxInflightRequests: 100, maxQueuedResponseBytes: 1 << 20 },
    async (port) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: certFixture().ca.certPem });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      socket.pause();
      const frames = [];
      for (let i = 0; i < REQUESTS; i++) frames.push(request(i));
      socket.write(Buffer.concat(frames));
      await delay(1000);
      assert.ok(dispatched < 100, `${dispatched} of ${REQUESTS} requests were handled while the client read nothing`);
      let received = 0;
      socket.on('data', (data: Buffer) => (received += data.length));
      socket.resume();
      await until(() => received === REQUESTS * (4 + RESPONSE_BYTES), {
        what: () => `every response once the client reads (${received} bytes, ${dispatched} handled)`,
        timeoutMs: 20000,
        intervalMs: 20,
      });
      assert.is(dispatched, REQUESTS);
      socket.destroy();
    },
    big,
  );

  // Requests never answered: no more than maxInflightRequests are dispatched.
  let started = 0;
  const waiting: (() => void)[] = [];
  const slow: Dispatcher = {
    dispatch(header) {
      started++;
      return new Promise((resolve) => {
        waiting.push(() => {
          const frame = Buffer.alloc(8);
          frame.writeInt32BE(4, 0);
          frame.writeInt32BE(header.correlationId, 4);
          resolve([frame]);
        });
      });
    },
  };
  await withTlsListener(
    {},
    { maxInflightRequests: 3 },
    async (port) => {
      const client = await connectTls(port);
      // One request per read: the limit is checked after each read's frames, as on plaintext.
      for (let i = 0; i < 50; i++) {
        client.socket.write(request(i));
        if (i < 6) await delay(20);
      }
      await until(() => started >= 3, { what: 'three requests in flight', timeoutMs: 3000 });
      await delay(200);
      assert.is(started, 3, 'no more than the in-flight limit');
      while (client.answers.size < 50) {
        waiting.splice(0).forEach((answer) => answer());
        await delay(5);
      }
      assert.is(started, 50);
      client.socket.destroy();
    },
    slow,
  );
});

test('a listener whose settings have no key store fails at construction', () => {
  const { files } = certFixture();
  const material = new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.caCert }, 'listener SSL'));
  assert.throws(
    () =>
      new KafkaListener(
        {
          host: '127.0.0.1',
          port: 0,
          maxConnections: 1,
          socketRequestMaxBytes: 1024,
          maxInflightRequests: 1,
          tls: material,
        } as ListenerOptions,
        whoami,
        recordingLogger(),
      ),
    /listener SSL: a TLS listener needs a key store/,
  );
});

test.run();
