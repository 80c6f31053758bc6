// SASL over TLS: an in-process broker whose Kafka listener is SASL_SSL, judged by kcat
// (security.protocol=SASL_SSL, SCRAM-SHA-256) and kafkajs (ssl plus sasl). The principal
// comes from SASL; a wrong password and a plaintext client are refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { API_VERSIONS_V0, rawRequest } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { kcat } from '../helpers/kcat';
import { freePort } from '../helpers/ports';
import { MemoryCredentialStore } from '../helpers/sasl-client';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const HAVE_KCAT = spawnSync('kcat', ['-V']).status === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-sasl-ssl-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let broker: RunningBroker;

function kcatSaslSsl(password: string): string[] {
  return [
    '-X',
    'security.protocol=SASL_SSL',
    '-X',
    `ssl.ca.location=${certFixture().files.caCert}`,
    '-X',
    'sasl.mechanisms=SCRAM-SHA-256',
    '-X',
    'sasl.username=alice',
    '-X',
    `sasl.password=${password}`,
  ];
}

test.before(async () => {
  const { files } = certFixture();
  const file = path.join(dir, 'server.properties');
  const keys = {
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
    'listener.name.sasl_ssl.ssl.keystore.location': files.serverKeystore,
    'ssl.keystore.location': '/nonexistent/the-listener-key-wins.pem',
    'connection.failed.authentication.delay.ms': '50',
    'sasl.server.max.receive.size': '4096',
    'auto.create.topics.enable': 'true',
  };
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
  broker = await startBroker(config, silentLogger, {
    kafkaListenerSecurity: {
      securityProtocol: 'SASL_SSL',
      credentials: new MemoryCredentialStore().add('alice', 'alice-secret'),
    },
  });
});

test.after(async () => {
  await broker?.close();
});

test('kcat with SASL_SSL and SCRAM-SHA-256 produces and consumes; a wrong password fails', async () => {
  if (!HAVE_KCAT) return console.log('skip: kcat is not installed');
  const produced = await kcat(broker.kafkaPort, [...kcatSaslSsl('alice-secret'), '-P', '-t', 'sasl-ssl'], 'a\nb\n');
  assert.is(produced.code, 0, produced.stderr);
  const consumed = await kcat(broker.kafkaPort, [
    ...kcatSaslSsl('alice-secret'),
    '-C',
    '-t',
    'sasl-ssl',
    '-o',
    'beginning',
    '-e',
    '-q',
  ]);
  assert.is(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stdout.trim().split('\n'), ['a', 'b']);
  const wrong = await kcat(broker.kafkaPort, [...kcatSaslSsl('wrong'), '-L', '-m', '3'], undefined, 15000);
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /Authentication failed|SASL|authentication/i);
});

test('kafkajs with ssl and sasl; plaintext on the SASL_SSL port is closed', async () => {
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    clientId: 'sasl-ssl-test',
    logLevel: logLevel.NOTHING,
    ssl: { ca: [certFixture().ca.certPem] },
    sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
    retry: { retries: 3 },
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'sasl-ssl-kafkajs', messages: [{ value: 'one' }, { value: 'two' }] });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await until(
    async () => {
      const partitions = await admin.fetchTopicOffsets('sasl-ssl-kafkajs');
      return partitions[0]?.high === '2' ? partitions : null;
    },
    { what: 'two records stored', timeoutMs: 10000 },
  );
  assert.is(offsets[0].high, '2');
  await admin.disconnect();
  const plaintext = await rawRequest(broker.kafkaPort, API_VERSIONS_V0, 5000);
  assert.is(plaintext.frame, null);
});

test('sasl.server.max.receive.size bounds frames over TLS before authentication', async () => {
  // A frame header announcing 1 MiB, far past the 4 KiB SASL bound, sent before any SASL:
  // the connection is closed at the header, the body never read.
  const closed = await new Promise<boolean>((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: broker.kafkaPort, ca: [certFixture().ca.certPem] }, () => {
      const header = Buffer.alloc(4);
      header.writeInt32BE(1024 * 1024, 0);
      socket.write(header);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 5000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  assert.ok(closed, 'the oversize frame closed the connection');
});

test.run();
