// The bundled client and the CLI against a real Brook node whose Kafka listener is SASL_SSL
// (started in this process; its certificate from the shared fixture, SCRAM users from
// brook.security.bootstrap.scram.users): Admin, Producer and Consumer over TLS with
// SCRAM-SHA-512, `brook topics list --command-config` with librdkafka's and Java's names, a
// wrong password as one line, the broker's name checked, and the wrong protocol for a port
// (TLS to a plaintext port, plaintext to the TLS port) failing at once with a clear message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Admin } from '../../src/client/admin';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { runBrook } from '../helpers/brook-cli';
import { certFixture } from '../helpers/certs';
import { freePort } from '../helpers/ports';

const fixture = certFixture();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-client-sasl-ssl-'));
let running: RunningBroker;
let controllerPort: number;
let bootstrap: string[];
const secure = (
  password = 'admin-secret',
  tls: ClientSecurity['tls'] = { ca: fixture.ca.certPem },
): ClientSecurity => ({
  protocol: 'SASL_SSL',
  sasl: { mechanism: 'SCRAM-SHA-512', username: 'admin', password },
  tls,
});

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  assert.unreachable('no failure');
  return new Error();
}

test.before(async () => {
  const file = path.join(dir, 'node.properties');
  fs.writeFileSync(
    file,
    [
      'brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=admin-secret]',
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      `ssl.keystore.location=${fixture.files.serverKeystore}`,
      'group.initial.rebalance.delay.ms=0',
      'offsets.topic.num.partitions=1',
      '',
    ].join('\n'),
  );
  controllerPort = await freePort();
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${controllerPort}`,
    http: 'off',
    'data-dir': path.join(dir, 'data'),
    'log-level': 'error',
    config: file,
  });
  running = await startBroker(config, silentLogger, { kafkaListenerSecurity: { securityProtocol: 'SASL_SSL' } });
  bootstrap = [`127.0.0.1:${running.kafkaPort}`];
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Admin, Producer and Consumer over SASL_SSL with SCRAM-SHA-512', async () => {
  const admin = new Admin({ bootstrap, security: secure() });
  try {
    await admin.createTopics([{ name: 'over-tls', partitions: 1 }]);
    const producer = new Producer({ bootstrap, security: secure() });
    // A record large enough to span several TLS records and socket reads.
    const big = 'x'.repeat(200_000);
    await producer.send({ topic: 'over-tls', key: 'k', value: big });
    await producer.send({ topic: 'over-tls', key: 'small', value: 'small' });
    await producer.close();
    const consumer = new Consumer({ bootstrap, security: secure(), maxWaitMs: 200 });
    consumer.assign([{ topic: 'over-tls', partition: 0, offset: 0 }]);
    const first = await consumer.next();
    const second = await consumer.next();
    await consumer.close();
    assert.is(String(first?.value).length, 200_000);
    assert.is(String(second?.value), 'small');
  } finally {
    admin.close();
  }
});

test('the broker name is checked: localhost matches the certificate, another name does not', async () => {
  const byName = new Admin({ bootstrap: [`localhost:${running.kafkaPort}`], security: secure() });
  try {
    assert.ok((await byName.listTopics()).includes('over-tls'));
  } finally {
    byName.close();
  }
  const wrongName = await failure(() => {
    const admin = new Admin({
      bootstrap,
      security: secure(undefined, { ca: fixture.ca.certPem, servername: 'elsewhere.example' }),
    });
    return admin.listTopics().finally(() => admin.close());
  });
  assert.match(wrongName.message, /TLS connect to 127\.0\.0\.1:\d+ failed: .*elsewhere\.example/);
  const untrusted = await failure(() => {
    const admin = new Admin({ bootstrap, security: secure(undefined, { ca: fixture.untrustedCa.certPem }) });
    return admin.listTopics().finally(() => admin.close());
  });
  assert.match(untrusted.message, /TLS connect to 127\.0\.0\.1:\d+ failed: .*check ssl.ca.location/);
});

test('the wrong protocol for a port fails at once, saying so', async () => {
  // TLS to a port that does not speak it (the node's plaintext controller port).
  const tlsToPlain = new KafkaConnection({
    host: '127.0.0.1',
    port: controllerPort,
    connectTimeoutMs: 5000,
    security: { protocol: 'SSL', tls: { ca: fixture.ca.certPem } },
  });
  const started = Date.now();
  const error = await failure(() => tlsToPlain.connect());
  assert.match(error.message, /TLS connect to 127\.0\.0\.1:\d+ failed: .*is it a TLS listener\?/);
  assert.ok(Date.now() - started < 4000, 'failed without waiting for the connect timeout');
  // Plaintext to the TLS port.
  const plain = await runBrook(['topics', 'list', '--bootstrap', bootstrap[0]]);
  assert.is(plain.code, 1);
  assert.match(plain.stderr, /closed by 127\.0\.0\.1:\d+ before any answer .*check security.protocol/);
});

test('brook topics list --command-config over SASL_SSL (librdkafka and Java names); a wrong password', async () => {
  const librdkafka = path.join(dir, 'client.properties');
  fs.writeFileSync(
    librdkafka,
    `security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\nsasl.username=admin\nsasl.password=admin-secret\nssl.ca.location=${fixture.files.caCert}\n`,
  );
  const java = path.join(dir, 'client-java.properties');
  fs.writeFileSync(
    java,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${fixture.files.caCert}`,
      '',
    ].join('\n'),
  );
  for (const file of [librdkafka, java]) {
    const run = await runBrook(['topics', 'list', '--bootstrap', bootstrap[0], '--command-config', file]);
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, 'over-tls');
  }
  const wrong = path.join(dir, 'wrong.properties');
  fs.writeFileSync(wrong, fs.readFileSync(librdkafka, 'utf8').replace('admin-secret', 'not-it'));
  const run = await runBrook(['topics', 'list', '--bootstrap', bootstrap[0], '--command-config', wrong]);
  assert.is(run.code, 1);
  assert.is(
    run.stderr.trim(),
    `brook: SASL SCRAM-SHA-512 authentication with ${bootstrap[0]} failed: SASL_AUTHENTICATION_FAILED: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512`,
  );
});

test.run();
