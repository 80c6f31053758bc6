// The bundled client against a real Brook node whose Kafka listener is SASL_PLAINTEXT
// (started in this process, SCRAM users from brook.security.bootstrap.scram.users): Admin,
// Producer and a group Consumer authenticate with SCRAM-SHA-512 and round-trip records;
// a session with connections.max.reauth.ms is re-authenticated in band while requests
// flow; a wrong password is the broker's SASL_AUTHENTICATION_FAILED message, once; and
// `brook topics list --command-config` connects with a properties file.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { Admin } from '../../src/client/admin';
import { isRetriableError } from '../../src/client/cluster';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { AuthenticationFailedError, KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { runBrook } from '../helpers/brook-cli';
import { freePort } from '../helpers/ports';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-client-broker-'));
let running: RunningBroker;
let bootstrap: string[];
// OAUTHBEARER: an ES256 key whose public half the broker reads from a JWKS file.
const signingKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'ES256', typ: 'JWT', kid: 'test-key' })}.${encode(claims)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), {
    key: signingKey.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}
const nowSeconds = () => Math.floor(Date.now() / 1000);

const scram = (password = 'admin-secret'): ClientSecurity => ({
  protocol: 'SASL_PLAINTEXT',
  sasl: { mechanism: 'SCRAM-SHA-512', username: 'admin', password },
});

test.before(async () => {
  const jwks = path.join(dir, 'jwks.json');
  const publicJwk = signingKey.publicKey.export({ format: 'jwk' });
  fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...publicJwk, kid: 'test-key', alg: 'ES256', use: 'sig' }] }));
  const file = path.join(dir, 'node.properties');
  fs.writeFileSync(
    file,
    [
      'brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=admin,password=admin-secret]',
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
      `sasl.oauthbearer.jwks.endpoint.url=file://${jwks}`,
      'connections.max.reauth.ms=1500',
      'group.initial.rebalance.delay.ms=0',
      'offsets.topic.num.partitions=1',
      '',
    ].join('\n'),
  );
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': path.join(dir, 'data'),
    'log-level': 'error',
    config: file,
  });
  running = await startBroker(config, silentLogger, { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } });
  bootstrap = [`127.0.0.1:${running.kafkaPort}`];
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Admin, Producer and a group Consumer over SCRAM-SHA-512', async () => {
  const admin = new Admin({ bootstrap, security: scram() });
  try {
    await admin.createTopics([{ name: 'secured', partitions: 2 }]);
    const producer = new Producer({ bootstrap, security: scram() });
    const sent = await Promise.all(
      ['a', 'b', 'c'].map((key) => producer.send({ topic: 'secured', key, value: `v-${key}` })),
    );
    assert.is(sent.length, 3);
    await producer.close();
    const consumer = new Consumer({
      bootstrap,
      security: {
        protocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' },
      },
      groupId: 'secured-readers',
      autoOffsetReset: 'earliest',
    });
    await consumer.subscribe(['secured']);
    const seen: string[] = [];
    for await (const record of consumer) {
      seen.push(String(record.value));
      if (seen.length === 3) break;
    }
    await consumer.close();
    assert.equal(seen.sort(), ['v-a', 'v-b', 'v-c']);
  } finally {
    admin.close();
  }
});

test('re-authenticated in band before connections.max.reauth.ms, requests flowing all the while', async () => {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: running.kafkaPort, security: scram() });
  await connection.connect();
  try {
    const deadline = Date.now() + 3500;
    let answered = 0;
    while (Date.now() < deadline) {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          connection.request(ApiKey.Metadata, 12, {
            topics: null,
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: false,
          }),
        ),
      );
      answered += answers.length;
    }
    assert.ok(connection.reauthentications >= 2, `re-authenticated ${connection.reauthentications} times`);
    assert.ok(connection.isOpen, 'the broker kept the connection');
    assert.ok(answered > 0);
  } finally {
    connection.close();
  }
});

test('a wrong password: the broker message, not retriable, the password nowhere', async () => {
  const admin = new Admin({ bootstrap, security: scram('wrong-password'), requestTimeoutMs: 5000 });
  try {
    await admin.listTopics();
    assert.unreachable('authenticated with a wrong password');
  } catch (error) {
    assert.instance(error, AuthenticationFailedError);
    assert.match(
      (error as Error).message,
      `SASL SCRAM-SHA-512 authentication with 127.0.0.1:${running.kafkaPort} failed: SASL_AUTHENTICATION_FAILED: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512`,
    );
    assert.not.match((error as Error).message, 'wrong-password');
    assert.is(isRetriableError(error), false);
  } finally {
    admin.close();
  }
});

test('a consumer with a wrong password: next() rejects with the authentication error instead of retrying', async () => {
  const consumer = new Consumer({ bootstrap, security: scram('wrong-password'), maxWaitMs: 100 });
  const started = Date.now();
  try {
    consumer.assign([{ topic: 'secured', partition: 0, offset: 0 }]);
    await consumer.next();
    assert.unreachable('a record with a wrong password');
  } catch (error) {
    assert.instance(error, AuthenticationFailedError);
    assert.ok(Date.now() - started < 5000, 'surfaced at once');
  } finally {
    await consumer.close();
  }
});

test('OAUTHBEARER: a token from a callback is accepted, an expired one refused with the broker message', async () => {
  let asked = 0;
  const good = new Admin({
    bootstrap,
    security: {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'OAUTHBEARER', token: () => (asked++, jwt({ sub: 'alice', exp: nowSeconds() + 600 })) },
    },
  });
  try {
    assert.ok((await good.listTopics()).includes('secured'));
    assert.ok(asked >= 1);
  } finally {
    good.close();
  }
  const expired = new Admin({
    bootstrap,
    security: {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'OAUTHBEARER', token: jwt({ sub: 'alice', exp: nowSeconds() - 3600 }) },
    },
  });
  try {
    await expired.listTopics();
    assert.unreachable('an expired token was accepted');
  } catch (error) {
    assert.instance(error, AuthenticationFailedError);
    assert.match(
      (error as Error).message,
      /SASL OAUTHBEARER authentication with .* failed: SASL_AUTHENTICATION_FAILED/,
    );
  } finally {
    expired.close();
  }
});

test('brook topics list --command-config against the SASL listener; a PLAINTEXT client is refused', async () => {
  const file = path.join(dir, 'client.properties');
  fs.writeFileSync(
    file,
    'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=admin\nsasl.password=admin-secret\n',
  );
  const run = await runBrook(['topics', 'list', '--bootstrap', bootstrap[0], '--command-config', file]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, 'secured');
  const plain = await runBrook(['topics', 'list', '--bootstrap', bootstrap[0]]);
  assert.is(plain.code, 1);
  assert.is(plain.stderr.trim().split('\n').length, 1, plain.stderr);
  assert.match(plain.stderr, /closed by 127\.0\.0\.1:\d+ at its first requests .*check security.protocol/);
});

test.run();
