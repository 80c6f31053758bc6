// The SASL gate of a SASL_PLAINTEXT listener, driven frame by frame over a real socket
// (a listener with a stand-in dispatcher): ApiVersions then SaslHandshake v1 and
// SaslAuthenticate; SaslHandshake v0 with raw tokens (KIP-43); each failure (a request
// before the handshake, an unsupported mechanism, a wrong password, another request in
// place of SaslAuthenticate, garbage, an oversize frame, a second ApiVersions) answered as
// Kafka answers it, after the failure delay, then closed; the per-address limit; KIP-368
// re-authentication with pipelined requests kept in order, a refused change of principal,
// and the close of an expired session.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { silentLogger } from '../../src/logger';
import { Connection, Dispatcher } from '../../src/net/connection';
import { KafkaListener } from '../../src/net/kafka-listener';
import * as crypto from 'node:crypto';
import { JwtValidator } from '../../src/security/jwt';
import { SaslListener } from '../../src/security/sasl/listener';
import { parseSaslSettings } from '../../src/security/sasl/settings';
import { MemoryCredentialStore, oauthbearerToken, plainToken, ScramClient, signJwt } from '../helpers/sasl-client';
import { delay } from '../helpers/wait';

const DELAY_MS = 60;
const store = new MemoryCredentialStore().add('alice', 'alice-pw').add('bob', 'bob-pw');
/** Who each dispatched request came from, by correlation id. */
const seen = new Map<number, string>();

/** Answers with [correlation id][principal name]; Metadata (key 3) after 100 ms. */
const dispatcher: Dispatcher = {
  dispatch(header, _body, connection: Connection) {
    seen.set(header.correlationId, connection.security.principal.name);
    const name = Buffer.from(connection.security.principal.name);
    const frame = Buffer.alloc(8 + name.length);
    frame.writeInt32BE(frame.length - 4, 0);
    frame.writeInt32BE(header.correlationId, 4);
    name.copy(frame, 8);
    if (header.apiKey === ApiKey.Metadata) return delay(100).then(() => [frame]);
    return [frame];
  },
  errorResponse(header, _body, errorCode) {
    const frame = Buffer.alloc(10);
    frame.writeInt32BE(6, 0);
    frame.writeInt32BE(header.correlationId, 4);
    frame.writeInt16BE(errorCode, 8);
    return [frame];
  },
};

const hmacSecret = crypto.randomBytes(32);
const jwtValidator = new JwtValidator({
  keys: [],
  jwksEndpoint: null,
  hmacSecret,
  expectedIssuer: null,
  expectedAudience: [],
  clockSkewMs: 0,
  subClaimName: 'sub',
  scopeClaimName: 'scope',
  tokenBytesMax: 4096,
});

async function startListener(keys: Record<string, string> = {}): Promise<{ port: number; listener: KafkaListener }> {
  const settings = parseSaslSettings({
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'connection.failed.authentication.delay.ms': String(DELAY_MS),
    'sasl.server.max.receive.size': '4096',
    ...keys,
  });
  const sasl = new SaslListener(
    settings,
    { credentials: store, logger: silentLogger },
    settings.enabledMechanisms.includes('OAUTHBEARER') ? jwtValidator : null,
  );
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      socketRequestMaxBytes: 1024 * 1024,
      maxInflightRequests: 100,
      security: { listenerName: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT' },
      sasl,
    },
    dispatcher,
    silentLogger,
  );
  return { port: await listener.listen(), listener };
}

/** A raw socket: writes frames, reads whole frames, notices the close. */
class Raw {
  private frames: Buffer[] = [];
  private data = Buffer.alloc(0);
  closed = false;
  closedAtMs = 0;
  private waiters: (() => void)[] = [];
  private correlationId = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.data = Buffer.concat([this.data, chunk]);
      while (this.data.length >= 4 && this.data.length >= 4 + this.data.readInt32BE(0)) {
        const size = this.data.readInt32BE(0);
        this.frames.push(this.data.subarray(4, 4 + size));
        this.data = this.data.subarray(4 + size);
      }
      this.wake();
    });
    const closed = () => {
      if (!this.closed) this.closedAtMs = Date.now();
      this.closed = true;
      this.wake();
    };
    socket.on('close', closed);
    socket.on('error', closed);
  }

  static connect(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The next frame, or null once the connection closed without one. */
  async next(timeoutMs = 3000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0 && !this.closed) {
      if (Date.now() > deadline) throw new Error('no frame and no close in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames.shift() ?? null;
  }

  async closes(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await delay(10);
    }
  }

  send(apiKey: number, version: number, body: unknown, correlationId = this.correlationId++): number {
    this.socket.write(
      encodeRequestFrame(
        { apiKey, apiVersion: version, correlationId, clientId: 't' },
        requestCodec(apiKey, version),
        body,
      ),
    );
    return correlationId;
  }

  sendRaw(bytes: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(bytes.length, 0);
    this.socket.write(Buffer.concat([size, bytes]));
  }

  async response<K extends ApiKey>(apiKey: K, version: number): Promise<{ correlationId: number; body: any }> {
    const frame = await this.next();
    if (!frame) throw new Error('closed instead of a response');
    const reader = new Reader(frame);
    const { correlationId } = decodeResponseHeader(reader, responseHeaderVersion(apiKey, version));
    return { correlationId, body: responseCodec(apiKey, version).decode(reader) };
  }

  /** A stand-in dispatcher's answer: [correlation id][principal]. */
  async echo(): Promise<{ correlationId: number; principal: string }> {
    const frame = await this.next();
    if (!frame) throw new Error('closed instead of an answer');
    return { correlationId: frame.readInt32BE(0), principal: frame.subarray(4).toString() };
  }

  close(): void {
    this.socket.destroy();
  }
}

async function authenticate(raw: Raw, token: Buffer, version = 2) {
  raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  const handshake = await raw.response(ApiKey.SaslHandshake, 1);
  assert.is(handshake.body.errorCode, ErrorCode.NONE);
  raw.send(ApiKey.SaslAuthenticate, version, { authBytes: token });
  return (await raw.response(ApiKey.SaslAuthenticate, version)).body;
}

let port: number;
let listener: KafkaListener;

test.before(async () => {
  ({ port, listener } = await startListener());
});

test.after(async () => {
  await listener.close(0);
});

test('ApiVersions, SaslHandshake v1 and SaslAuthenticate, then requests run as the user', async () => {
  const raw = await Raw.connect(port);
  raw.send(ApiKey.ApiVersions, 0, {});
  assert.is((await raw.echo()).principal, 'ANONYMOUS', 'ApiVersions is dispatched before authentication');
  raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  const handshake = await raw.response(ApiKey.SaslHandshake, 1);
  assert.is(handshake.body.errorCode, ErrorCode.NONE);
  assert.equal(handshake.body.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  raw.close();
  for (const version of [0, 1, 2]) {
    const v = await Raw.connect(port);
    const auth = await authenticate(v, plainToken('alice', 'alice-pw'), version);
    assert.is(auth.errorCode, ErrorCode.NONE);
    if (version > 0)
      assert.is(Number(auth.sessionLifetimeMs), 0, 'no session expiry without connections.max.reauth.ms');
    const id = v.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
    const answer = await v.echo();
    assert.is(answer.correlationId, id);
    assert.is(answer.principal, 'alice');
    v.close();
  }
});

test('SCRAM-SHA-512 over SaslAuthenticate v2, and SCRAM-SHA-256 over raw v0 tokens', async () => {
  const raw = await Raw.connect(port);
  raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-512' });
  assert.is((await raw.response(ApiKey.SaslHandshake, 1)).body.errorCode, 0);
  const client = new ScramClient('SCRAM-SHA-512', 'bob', 'bob-pw');
  raw.send(ApiKey.SaslAuthenticate, 2, { authBytes: client.first() });
  const first = await raw.response(ApiKey.SaslAuthenticate, 2);
  raw.send(ApiKey.SaslAuthenticate, 2, { authBytes: client.final(first.body.authBytes) });
  const final = await raw.response(ApiKey.SaslAuthenticate, 2);
  assert.is(final.body.errorCode, 0);
  assert.ok(client.verifyServerFinal(final.body.authBytes));
  raw.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
  assert.is((await raw.echo()).principal, 'bob');
  raw.close();

  const v0 = await Raw.connect(port);
  v0.send(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' });
  assert.is((await v0.response(ApiKey.SaslHandshake, 0)).body.errorCode, 0);
  const c256 = new ScramClient('SCRAM-SHA-256', 'alice', 'alice-pw');
  v0.sendRaw(c256.first());
  const serverFirst = await v0.next();
  v0.sendRaw(c256.final(serverFirst!));
  assert.ok(c256.verifyServerFinal((await v0.next())!));
  v0.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
  assert.is((await v0.echo()).principal, 'alice');
  v0.close();
});

test('a wrong password: SASL_AUTHENTICATION_FAILED with Kafka message, after the delay, then closed', async () => {
  const raw = await Raw.connect(port);
  const started = Date.now();
  const auth = await authenticate(raw, plainToken('alice', 'wrong'));
  assert.ok(Date.now() - started >= DELAY_MS - 5, 'answered after connection.failed.authentication.delay.ms');
  assert.is(auth.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.is(
    auth.errorMessage,
    'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN',
  );
  await raw.closes();
  const unknown = await Raw.connect(port);
  assert.is((await authenticate(unknown, plainToken('nobody', 'x'))).errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  await unknown.closes();
});

test('a request other than ApiVersions or SaslHandshake first: closed without an answer', async () => {
  const raw = await Raw.connect(port);
  const started = Date.now();
  raw.send(ApiKey.Metadata, 1, { topics: null });
  assert.is(await raw.next(), null);
  assert.ok(raw.closedAtMs - started >= DELAY_MS - 5);
});

test('an unsupported mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed', async () => {
  const raw = await Raw.connect(port);
  raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
  const answer = await raw.response(ApiKey.SaslHandshake, 1);
  assert.is(answer.body.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.equal(answer.body.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  await raw.closes();
});

test('another request in place of SaslAuthenticate: its error response with ILLEGAL_SASL_STATE, then closed', async () => {
  const raw = await Raw.connect(port);
  raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  await raw.response(ApiKey.SaslHandshake, 1);
  const id = raw.send(ApiKey.Metadata, 1, { topics: null });
  const frame = await raw.next();
  assert.ok(frame);
  assert.is(frame!.readInt32BE(0), id);
  assert.is(frame!.readInt16BE(4), ErrorCode.ILLEGAL_SASL_STATE);
  await raw.closes();
});

test('an ApiVersions answered with an error may be asked again, as Kafka allows', async () => {
  const raw = await Raw.connect(port);
  // Version 9 is unknown: answered (here by the stand-in dispatcher), and the client retries lower.
  raw.socket.write(Buffer.from('0000000a' + '0012' + '0009' + '00000001' + 'ffff', 'hex'));
  await raw.echo();
  raw.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'bad name!', clientSoftwareVersion: '1' });
  await raw.echo();
  raw.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'good', clientSoftwareVersion: '1.0' });
  await raw.echo();
  assert.is((await authenticate(raw, plainToken('alice', 'alice-pw'))).errorCode, 0);
  raw.close();
});

test('garbage, an oversize frame, a second ApiVersions: closed; other clients are still served', async () => {
  const garbage = await Raw.connect(port);
  garbage.sendRaw(Buffer.from([1, 2, 3]));
  await garbage.closes();
  const big = await Raw.connect(port);
  big.sendRaw(Buffer.alloc(5000));
  await big.closes();
  const twice = await Raw.connect(port);
  twice.send(ApiKey.ApiVersions, 0, {});
  await twice.echo();
  twice.send(ApiKey.ApiVersions, 0, {});
  await twice.closes();
  const tokens = await Raw.connect(port);
  tokens.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
  await tokens.response(ApiKey.SaslHandshake, 1);
  tokens.send(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('\xff\xfe garbage') });
  assert.is((await tokens.response(ApiKey.SaslAuthenticate, 2)).body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  await tokens.closes();
  const fine = await Raw.connect(port);
  assert.is((await authenticate(fine, plainToken('bob', 'bob-pw'))).errorCode, 0);
  fine.close();
});

test('past brook.sasl.failed.authentications.per.minute.per.ip, even the right password fails', async () => {
  const limited = await startListener({ 'brook.sasl.failed.authentications.per.minute.per.ip': '2' });
  try {
    // A connection that shook hands before the failures is held to the limit too.
    const early = await Raw.connect(limited.port);
    early.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    assert.is((await early.response(ApiKey.SaslHandshake, 1)).body.errorCode, 0);
    for (let i = 0; i < 2; i++) {
      const raw = await Raw.connect(limited.port);
      assert.is(
        (await authenticate(raw, plainToken('alice', 'guess'))).errorCode,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      await raw.closes();
    }
    const raw = await Raw.connect(limited.port);
    assert.is(
      (await authenticate(raw, plainToken('alice', 'alice-pw'))).errorCode,
      ErrorCode.SASL_AUTHENTICATION_FAILED,
    );
    await raw.closes();
    early.send(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken('alice', 'alice-pw') });
    assert.is((await early.response(ApiKey.SaslAuthenticate, 2)).body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    await early.closes();
  } finally {
    await limited.listener.close(0);
  }
});

test('KIP-368: session lifetime, re-authentication in order behind a pipelined request, expiry closes', async () => {
  const reauth = await startListener({ 'connections.max.reauth.ms': '1500' });
  try {
    const raw = await Raw.connect(reauth.port);
    const auth = await authenticate(raw, plainToken('alice', 'alice-pw'), 1);
    assert.is(Number(auth.sessionLifetimeMs), 1500);
    await delay(1000);
    // A slow request, then the re-authentication pipelined behind it: answers stay in order.
    const slow = raw.send(ApiKey.Metadata, 1, { topics: null });
    const handshakeId = raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    const first = await raw.echo();
    assert.is(first.correlationId, slow);
    assert.is(first.principal, 'alice');
    const handshake = await raw.response(ApiKey.SaslHandshake, 1);
    assert.is(handshake.correlationId, handshakeId);
    assert.is(handshake.body.errorCode, 0);
    raw.send(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken('alice', 'alice-pw') });
    const again = await raw.response(ApiKey.SaslAuthenticate, 1);
    assert.is(again.body.errorCode, 0);
    assert.is(Number(again.body.sessionLifetimeMs), 1500);
    raw.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
    assert.is((await raw.echo()).principal, 'alice');
    // Past the new session's end, the next request closes the connection.
    await delay(1600);
    raw.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
    assert.is(await raw.next(), null);

    const other = await Raw.connect(reauth.port);
    await authenticate(other, plainToken('alice', 'alice-pw'), 1);
    await delay(1000);
    other.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    await other.response(ApiKey.SaslHandshake, 1);
    other.send(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken('bob', 'bob-pw') });
    const changed = await other.response(ApiKey.SaslAuthenticate, 1);
    assert.is(changed.body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(
      changed.body.errorMessage,
      /Cannot change principals during re-authentication from User:alice: User:bob/,
    );
    await other.closes();
  } finally {
    await reauth.listener.close(0);
  }
});

test('without connections.max.reauth.ms a handshake on an authenticated connection is dispatched (ILLEGAL_SASL_STATE there)', async () => {
  const raw = await Raw.connect(port);
  await authenticate(raw, plainToken('alice', 'alice-pw'));
  const id = raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  const answer = await raw.echo();
  assert.is(answer.correlationId, id, 'handed to the dispatcher, whose handler answers ILLEGAL_SASL_STATE');
  raw.close();
});

test('OAUTHBEARER: the session lasts until the token expires, or connections.max.reauth.ms if sooner; a bad token gets the error challenge, then fails', async () => {
  for (const [reauthMs, expected, mechanismReauthMs] of [
    ['0', 5000, undefined],
    ['60000', 5000, undefined],
    ['2000', 2000, undefined],
    ['2000', 3000, '3000'],
  ] as const) {
    const bearer = await startListener({
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'connections.max.reauth.ms': reauthMs,
      // Kafka's per-mechanism form overrides the listener-wide one.
      ...(mechanismReauthMs ? { 'oauthbearer.connections.max.reauth.ms': mechanismReauthMs } : {}),
    });
    try {
      const raw = await Raw.connect(bearer.port);
      raw.send(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
      assert.is((await raw.response(ApiKey.SaslHandshake, 1)).body.errorCode, 0);
      const token = signJwt({ sub: 'svc', exp: Date.now() / 1000 + 5 }, hmacSecret, 'HS256');
      raw.send(ApiKey.SaslAuthenticate, 1, { authBytes: oauthbearerToken(token) });
      const auth = await raw.response(ApiKey.SaslAuthenticate, 1);
      assert.is(auth.body.errorCode, 0);
      const lifetime = Number(auth.body.sessionLifetimeMs);
      assert.ok(lifetime <= expected && lifetime > expected - 1000, `reauth ${reauthMs}: lifetime ${lifetime}`);
      raw.send(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 1, memberId: 'm' });
      assert.is((await raw.echo()).principal, 'svc');
      raw.close();

      const bad = await Raw.connect(bearer.port);
      bad.send(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
      await bad.response(ApiKey.SaslHandshake, 1);
      const expired = signJwt({ sub: 'svc', exp: Date.now() / 1000 - 5 }, hmacSecret, 'HS256');
      bad.send(ApiKey.SaslAuthenticate, 1, { authBytes: oauthbearerToken(expired) });
      const challenge = await bad.response(ApiKey.SaslAuthenticate, 1);
      assert.is(challenge.body.errorCode, 0);
      assert.is(challenge.body.authBytes.toString(), '{"status":"invalid_token"}');
      bad.send(ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from([1]) });
      const failed = await bad.response(ApiKey.SaslAuthenticate, 1);
      assert.is(failed.body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
      assert.match(failed.body.errorMessage, /SASL mechanism OAUTHBEARER/);
      await bad.closes();
    } finally {
      await bearer.listener.close(0);
    }
  }
});

test.run();
