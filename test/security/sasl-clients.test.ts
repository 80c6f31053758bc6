// Real clients against an in-process broker whose Kafka listener is SASL_PLAINTEXT:
// kafkajs produces with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 and kcat (librdkafka)
// reads back with each; a wrong password, an unknown user, a mechanism not enabled and a
// non-SASL first request fail cleanly while other clients keep being served; OAUTHBEARER
// through kafkajs's oauthBearerProvider with JWTs signed here (valid, expired, wrong
// audience); kafkajs re-authenticates (KIP-368) under connections.max.reauth.ms; ApiVersions
// lists SaslHandshake and SaslAuthenticate; on a PLAINTEXT listener both answer
// ILLEGAL_SASL_STATE.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Kafka, KafkaConfig, logLevel, SASLOptions } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { Logger, silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import type { CredentialStore } from '../../src/security/scram';
import { rawRequest } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { freePort } from '../helpers/ports';
import { jwks, MemoryCredentialStore, signJwt } from '../helpers/sasl-client';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const hasKcat = spawnSync('kcat', ['-V']).status === 0;
const dirs: string[] = [];
process.on('exit', () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-sasl-'));
  dirs.push(dir);
  return dir;
}

const store = new MemoryCredentialStore().add('alice', 'alice-secret').add('bob', 'bob-secret', ['SCRAM-SHA-256']);
const idp = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A logger that keeps the messages it is given. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (msg) => void lines.push(msg),
    info: (msg) => void lines.push(msg),
    warn: (msg) => void lines.push(msg),
    error: (msg) => void lines.push(msg),
    child: () => logger,
    flushSync: () => undefined,
    errorSync: (msg) => void lines.push(msg),
  };
  return logger;
}

async function start(
  keys: Record<string, string>,
  securityProtocol: 'PLAINTEXT' | 'SASL_PLAINTEXT',
  logger: Logger = silentLogger,
  /** null: the broker's own (the metadata image). */
  credentials: CredentialStore | null = store,
): Promise<RunningBroker> {
  const dir = tempDir();
  const file = path.join(dir, 'server.properties');
  fs.writeFileSync(
    file,
    Object.entries(keys)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': path.join(dir, 'data'),
    'log-level': 'error',
    config: file,
  });
  return startBroker(config, logger, {
    kafkaListenerSecurity: { securityProtocol, ...(credentials ? { credentials } : {}) },
  });
}

let broker: RunningBroker;
const jwksFile = path.join(tempDir(), 'jwks.json');
fs.writeFileSync(jwksFile, jwks({ idp: idp.publicKey }));
const SASL_KEYS = {
  'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
  'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwksFile).href,
  'sasl.oauthbearer.expected.audience': 'brook',
  'connection.failed.authentication.delay.ms': '50',
  // The tests fail on purpose from one address; the limit has its own test.
  'brook.sasl.failed.authentications.per.minute.per.ip': '0',
  'auto.create.topics.enable': 'true',
};

function client(sasl: SASLOptions | undefined, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    clientId: 'sasl-test',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
    ...(sasl ? { sasl } : {}),
    ...extra,
  });
}

const KCAT_PLAIN = [
  '-X',
  'security.protocol=SASL_PLAINTEXT',
  '-X',
  'sasl.mechanisms=PLAIN',
  '-X',
  'sasl.username=alice',
  '-X',
  'sasl.password=alice-secret',
];

function jwt(claims: Record<string, unknown>): string {
  return signJwt(claims, idp.privateKey, 'RS256', { kid: 'idp' });
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let started: unknown;
  try {
    started = await promise;
  } catch (error) {
    assert.match(String((error as Error).message), pattern);
    return;
  }
  // A broker started after all: stop it, so that the failure below does not leave it running.
  if (started && typeof (started as RunningBroker).close === 'function') await (started as RunningBroker).close();
  assert.unreachable('expected a rejection');
}

test.before(async () => {
  broker = await start(SASL_KEYS, 'SASL_PLAINTEXT');
});

test.after(async () => {
  await broker.close();
});

test('ApiVersions before authentication lists SaslHandshake 0-1 and SaslAuthenticate 0-2', async () => {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.kafkaPort, requestTimeoutMs: 5000 });
  await connection.connect();
  const versions = await connection.request(ApiKey.ApiVersions, 3, {
    clientSoftwareName: 'test',
    clientSoftwareVersion: '1',
  });
  connection.close();
  const key = (k: number) => versions.apiKeys.find((a: { apiKey: number }) => a.apiKey === k);
  assert.equal(key(ApiKey.SaslHandshake), { apiKey: 17, minVersion: 0, maxVersion: 1 });
  assert.equal(key(ApiKey.SaslAuthenticate), { apiKey: 36, minVersion: 0, maxVersion: 2 });
});

const mechanisms = [
  ['plain', 'PLAIN'],
  ['scram-sha-256', 'SCRAM-SHA-256'],
  ['scram-sha-512', 'SCRAM-SHA-512'],
] as const;

test('kafkajs produces with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; kcat reads back with each', async () => {
  for (const [mechanism] of mechanisms) {
    const producer = client({ mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    await producer.send({ topic: 'sasl-topic', messages: [{ value: `via ${mechanism}` }] });
    await producer.disconnect();
  }
  if (!hasKcat) {
    console.log('kcat not installed: skipping the kcat half of this test');
    return;
  }
  for (const [, name] of mechanisms) {
    const result = await kcat(broker.kafkaPort, [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      `sasl.mechanisms=${name}`,
      '-X',
      'sasl.username=alice',
      '-X',
      'sasl.password=alice-secret',
      '-C',
      '-t',
      'sasl-topic',
      '-o',
      'beginning',
      '-e',
      '-q',
    ]);
    assert.is(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n'), ['via plain', 'via scram-sha-256', 'via scram-sha-512'], name);
  }
});

test('wrong password, unknown user, a mechanism not enabled: clean failures; others still served', async () => {
  await rejects(
    client({ mechanism: 'scram-sha-512', username: 'alice', password: 'guess' }).admin().connect(),
    /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
  );
  await rejects(
    client({ mechanism: 'plain', username: 'nobody', password: 'guess' }).admin().connect(),
    /Authentication failed/,
  );
  // bob has only a SCRAM-SHA-256 credential.
  await rejects(
    client({ mechanism: 'scram-sha-512', username: 'bob', password: 'bob-secret' }).admin().connect(),
    /Authentication failed/,
  );
  const bob = client({ mechanism: 'scram-sha-256', username: 'bob', password: 'bob-secret' }).admin();
  await bob.connect();
  assert.ok((await bob.listTopics()).includes('sasl-topic'));
  await bob.disconnect();
  await rejects(
    client({ mechanism: 'aws', authorizationIdentity: 'x', accessKeyId: 'a', secretAccessKey: 'b' } as SASLOptions)
      .admin()
      .connect(),
    /not supported|UNSUPPORTED_SASL_MECHANISM|mechanism/i,
  );
  // No SASL at all: the first non-ApiVersions request closes the connection.
  const plain = client(undefined).admin();
  let failed = false;
  try {
    await plain.connect();
    await plain.listTopics();
  } catch {
    failed = true;
  } finally {
    await plain.disconnect();
  }
  assert.ok(failed, 'a client without SASL gets nothing');
  if (hasKcat) {
    const result = await kcat(broker.kafkaPort, [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-256',
      '-X',
      'sasl.username=alice',
      '-X',
      'sasl.password=wrong',
      '-m',
      '3',
      '-L',
    ]);
    assert.is.not(result.code, 0);
    assert.match(result.stderr, /Authentication failed/);
  }
  const alice = client({ mechanism: 'plain', username: 'alice', password: 'alice-secret' }).admin();
  await alice.connect();
  assert.ok((await alice.listTopics()).includes('sasl-topic'), 'still served');
  await alice.disconnect();
});

test('OAUTHBEARER through kafkajs: a valid JWT produces; expired or for another audience fails', async () => {
  const now = Math.floor(Date.now() / 1000);
  const bearer = (token: string) =>
    client({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) });
  const producer = bearer(jwt({ sub: 'svc-orders', aud: 'brook', exp: now + 300 })).producer();
  await producer.connect();
  await producer.send({ topic: 'sasl-topic', messages: [{ value: 'via oauthbearer' }] });
  await producer.disconnect();
  // kafkajs takes the server's error challenge ({"status":"invalid_token"}) for success and
  // sends its next request, which the broker answers with ILLEGAL_SASL_STATE and a close
  // (as Kafka does): what the application sees is that nothing works.
  const refused = async (token: string) => {
    const producer = bearer(token).producer();
    try {
      await producer.connect();
      await producer.send({ topic: 'sasl-topic', messages: [{ value: 'must not land' }] });
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  };
  await rejects(refused(jwt({ sub: 'svc', aud: 'brook', exp: now - 600 })), /./);
  await rejects(refused(jwt({ sub: 'svc', aud: 'elsewhere', exp: now + 300 })), /./);
  await rejects(refused('not-a-jwt'), /./);
  if (hasKcat) {
    // librdkafka's built-in unsecured JWT is signed with alg "none": refused.
    const unsecured = await kcat(broker.kafkaPort, [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=OAUTHBEARER',
      '-X',
      'enable.sasl.oauthbearer.unsecure.jwt=true',
      '-X',
      'sasl.oauthbearer.config=principal=admin',
      '-m',
      '3',
      '-L',
    ]);
    assert.is.not(unsecured.code, 0);
    assert.match(unsecured.stderr, /Authentication failed|invalid_token/);
    const result = await kcat(broker.kafkaPort, [
      '-C',
      '-t',
      'sasl-topic',
      '-o',
      'beginning',
      '-e',
      '-q',
      ...KCAT_PLAIN,
    ]);
    assert.is(result.code, 0, result.stderr);
    assert.ok(result.stdout.includes('via oauthbearer'));
    assert.not.ok(result.stdout.includes('must not land'));
  }
});

test('kafkajs re-authenticates within connections.max.reauth.ms and keeps working', async () => {
  const lines: string[] = [];
  const reauth = await start(
    { ...SASL_KEYS, 'connections.max.reauth.ms': '2500' },
    'SASL_PLAINTEXT',
    recordingLogger(lines),
  );
  try {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${reauth.kafkaPort}`],
      clientId: 'reauth-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
      reauthenticationThreshold: 1000,
    } as KafkaConfig);
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const deadline = Date.now() + 5000;
    let sent = 0;
    while (Date.now() < deadline) {
      await producer.send({ topic: 'reauth-topic', messages: [{ value: `m${sent}` }] });
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await producer.disconnect();
    assert.ok(sent >= 10, `sent ${sent} across several session lifetimes`);
    const reauthentications = lines.filter((l) => l === 'SASL re-authentication succeeded').length;
    assert.ok(reauthentications >= 1, `re-authenticated ${reauthentications} times`);
    assert.not.ok(lines.includes('closing connection: SASL session expired'));
  } finally {
    await reauth.close();
  }
});

test('on a PLAINTEXT listener SaslHandshake and SaslAuthenticate answer ILLEGAL_SASL_STATE', async () => {
  const plaintext = await start({}, 'PLAINTEXT');
  try {
    const connection = new KafkaConnection({ host: '127.0.0.1', port: plaintext.kafkaPort, requestTimeoutMs: 5000 });
    await connection.connect();
    const handshake = await connection.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    assert.is(handshake.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    const auth = await connection.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('x') });
    assert.is(auth.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    connection.close();
  } finally {
    await plaintext.close();
  }
});

test("by default the credentials are the metadata image's SCRAM users (bootstrap users here)", async () => {
  const imageBroker = await start(
    {
      ...SASL_KEYS,
      'brook.security.bootstrap.scram.users':
        'SCRAM-SHA-512=[name=carol,password=carol-secret];SCRAM-SHA-256=[name=dan,password=dan-secret]',
    },
    'SASL_PLAINTEXT',
    silentLogger,
    null,
  );
  try {
    const viaImage = (sasl: SASLOptions) =>
      new Kafka({
        brokers: [`127.0.0.1:${imageBroker.kafkaPort}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        sasl,
      }).admin();
    for (const sasl of [
      { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' },
      { mechanism: 'plain', username: 'carol', password: 'carol-secret' },
      { mechanism: 'scram-sha-256', username: 'dan', password: 'dan-secret' },
      { mechanism: 'plain', username: 'dan', password: 'dan-secret' },
    ] as SASLOptions[]) {
      const admin = viaImage(sasl);
      await admin.connect();
      await admin.listTopics();
      await admin.disconnect();
    }
    await rejects(
      viaImage({ mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' }).connect(),
      /Authentication failed/,
    );
  } finally {
    await imageBroker.close();
  }
});

test('bad SASL settings stop the start, naming the key', async () => {
  await rejects(
    start({ 'sasl.enabled.mechanisms': 'PLAIN,GSSAPI' }, 'SASL_PLAINTEXT'),
    /sasl.enabled.mechanisms \(listener SASL_PLAINTEXT\): GSSAPI \(Kerberos\) is not supported/,
  );
  await rejects(
    start({ 'sasl.enabled.mechanisms': ' , ' }, 'SASL_PLAINTEXT'),
    /sasl.enabled.mechanisms \(listener SASL_PLAINTEXT\): a SASL listener needs at least one mechanism/,
  );
  await rejects(
    start(
      { 'sasl.enabled.mechanisms': 'OAUTHBEARER', 'sasl.oauthbearer.jwks.endpoint.url': 'http://idp.test/keys' },
      'SASL_PLAINTEXT',
    ),
    /plain http JWKS endpoints are refused/,
  );
  await rejects(
    start(
      { 'sasl.enabled.mechanisms': 'PLAIN', 'brook.sasl.plain.users.file': '/nonexistent/users' },
      'SASL_PLAINTEXT',
    ),
    /brook.sasl.plain.users.file: cannot read/,
  );
});

test('a raw Metadata request first on the SASL listener is closed without an answer', async () => {
  const metadataV0 = Buffer.from('0000000f' + '0003' + '0000' + '00000007' + '0001' + '78' + '00000000', 'hex');
  const answer = await rawRequest(broker.kafkaPort, metadataV0);
  assert.is(answer.frame, null);
  assert.ok(answer.closed);
});

test.run();
