// Dynamic listener key stores in a two-node cluster: each broker validates the change of
// its own listener and forwards it to the active controller (whichever node that is), the
// new certificate is served by that broker alone, and a change sent to another broker than
// the one named is refused as Kafka refuses it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { issueCertificate } from '../../src/security/certs';
import { freePort, tempDir } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { Cluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

const KEYSTORE_LOCATION = 'listener.name.ssl.ssl.keystore.location';
const { ca, server } = certFixture();
const dir = tempDir('brook-dyntls-cluster-');
const renewed = issueCertificate(ca, {
  subject: 'CN=localhost,O=Brook',
  kind: 'server',
  hosts: ['127.0.0.1', 'localhost'],
});
const firstKeystore = path.join(dir, 'first.pem');
const renewedKeystore = path.join(dir, 'renewed.pem');
fs.writeFileSync(firstKeystore, server.keyPem + server.certPem, { mode: 0o600 });
fs.writeFileSync(renewedKeystore, renewed.keyPem + renewed.certPem, { mode: 0o600 });
const fingerprintOf = (pem: string) => new crypto.X509Certificate(pem).fingerprint256;

let cluster: Cluster;
const sslPorts = new Map<number, number>();

test.before(async () => {
  cluster = await Cluster.create({ size: 2, start: false });
  for (const id of cluster.ids) sslPorts.set(id, await freePort());
  await Promise.all(
    cluster.ids.map((id) =>
      cluster.start(id, {
        config: {
          listeners: `PLAINTEXT://127.0.0.1:${cluster.kafkaPorts.get(id)},SSL://127.0.0.1:${sslPorts.get(id)}`,
          'inter.broker.listener.name': 'PLAINTEXT',
          'ssl.keystore.location': firstKeystore,
        },
      }),
    ),
  );
});

test.after(async () => {
  await cluster?.stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fingerprint(id: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port: sslPorts.get(id)!, ca: ca.certPem, servername: 'localhost' });
  socket.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('close', () => reject(new Error('closed before the handshake ended')));
    });
    return socket.getPeerX509Certificate()!.fingerprint256;
  } finally {
    socket.destroy();
  }
}

async function alter(via: number, resourceName: string, value: string) {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(via)!,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  try {
    await connection.connect();
    const answer = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 4, resourceName, configs: [{ name: KEYSTORE_LOCATION, configOperation: 0, value }] }],
      validateOnly: false,
    });
    return answer.responses[0];
  } finally {
    connection.close();
  }
}

test("each broker validates its own listener's change; the controller takes it forwarded", async () => {
  const wrong = await alter(2, '1', renewedKeystore);
  assert.is(wrong.errorCode, 42);
  assert.is(wrong.errorMessage, 'Unexpected broker id, expected 2, but received 1');
  const bad = await alter(2, '2', path.join(dir, 'missing.pem'));
  assert.is(bad.errorCode, 42);
  assert.match(String(bad.errorMessage), /SSLFactory failed/);
  // One of the two is not the active controller: its change goes through forwarding.
  for (const id of cluster.ids) {
    await until(async () => (await alter(id, String(id), renewedKeystore)).errorCode === 0, {
      what: `broker ${id}'s change accepted`,
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    await until(async () => (await fingerprint(id)) === fingerprintOf(renewed.certPem), {
      what: `broker ${id} serving the renewed certificate`,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  }
});

test('a change of one broker leaves the other broker alone', async () => {
  assert.is((await alter(1, '1', firstKeystore)).errorCode, 0);
  await until(async () => (await fingerprint(1)) === fingerprintOf(server.certPem), {
    what: 'broker 1 back on its first certificate',
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  assert.is(await fingerprint(2), fingerprintOf(renewed.certPem));
});

test.run();
