// Dynamic listener key stores (Kafka's KIP-226 keystore update) through real clients: a
// broker with a PLAINTEXT and an SSL listener gets a new certificate for the SSL listener
// by kafkajs alterConfigs (a file) and by IncrementalAlterConfigs (inline PEM); new TLS
// connections see the new certificate while a connection made before keeps working; a key
// store that does not load, or whose certificate has another subject, is refused with
// INVALID_REQUEST and the old certificate stays (a wrong ssl.key.password too, not echoed);
// the SSL keys are per-broker only, sensitive in DescribeConfigs and never in the log; the
// change survives a restart.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Kafka, logLevel, ConfigResourceTypes } from 'kafkajs';
import { Admin } from '../../src/client/admin';
import { issueCertificate } from '../../src/security/certs';
import { API_VERSIONS_V0, BrokerProcess, freePort, startBroker, tempDir } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { until } from '../helpers/wait';

const KEYSTORE_LOCATION = 'listener.name.ssl.ssl.keystore.location';

let broker: BrokerProcess;
let kafka: Kafka;
let sslPort: number;
const dataDir = tempDir();
const dir = tempDir('brook-dyntls-');
const { ca, server } = certFixture();
// A second certificate for the same name and subject, and one with another subject.
const renewed = issueCertificate(ca, {
  subject: 'CN=localhost,O=Brook',
  kind: 'server',
  hosts: ['127.0.0.1', 'localhost'],
});
const renamed = issueCertificate(ca, {
  subject: 'CN=elsewhere,O=Brook',
  kind: 'server',
  hosts: ['127.0.0.1', 'localhost'],
});
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
};
const firstKeystore = write('first.pem', server.keyPem + server.certPem);
const renewedKeystore = write('renewed.pem', renewed.keyPem + renewed.certPem);
const renamedKeystore = write('renamed.pem', renamed.keyPem + renamed.certPem);
const mismatchedKeystore = write('mismatched.pem', renewed.keyPem + server.certPem);
const garbageKeystore = write('garbage.pem', 'not a key store');

async function start(plainPort: number) {
  broker = await startBroker({
    dataDir,
    port: plainPort,
    config: {
      listeners: `PLAINTEXT://127.0.0.1:${plainPort},SSL://127.0.0.1:${sslPort}`,
      'inter.broker.listener.name': 'PLAINTEXT',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': firstKeystore,
    },
  });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'dyntls', logLevel: logLevel.NOTHING });
}

test.before(async () => {
  sslPort = await freePort();
  await start(await freePort());
});

test.after(async () => {
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A TLS connection to the SSL listener, its certificate's SHA-256 fingerprint, and an ApiVersions round trip. */
async function connectTls() {
  const socket = tls.connect({ host: '127.0.0.1', port: sslPort, ca: ca.certPem, servername: 'localhost' });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => reject(new Error('closed before the handshake ended')));
  });
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  return {
    socket,
    fingerprint: socket.getPeerX509Certificate()!.fingerprint256,
    async roundTrip(): Promise<boolean> {
      received = Buffer.alloc(0);
      socket.write(API_VERSIONS_V0);
      await until(() => received.length >= 4 && received.length >= 4 + received.readInt32BE(0), {
        what: 'an ApiVersions answer over TLS',
        timeoutMs: 5000,
        intervalMs: 10,
      });
      return true;
    },
  };
}

async function fingerprintNow(): Promise<string> {
  const c = await connectTls();
  c.socket.destroy();
  return c.fingerprint;
}

const fingerprintOf = (pem: string) => new crypto.X509Certificate(pem).fingerprint256;

/** IncrementalAlterConfigs on one broker resource: error code and message. */
async function incremental(
  name: string,
  configs: { name: string; configOperation: number; value: string | null }[],
): Promise<{ errorCode: number; errorMessage: string | null }> {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    const broker1 = await admin.cluster.broker(1);
    const answer = await broker1.request(44, {
      resources: [{ resourceType: 4, resourceName: name, configs }],
      validateOnly: false,
    });
    return answer.responses[0];
  } finally {
    admin.close();
  }
}

/** kafkajs alterConfigs (AlterConfigs, key 33) of broker 1: the error code, 0 when accepted. */
async function alterConfigs(configEntries: { name: string; value: string }[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries }],
    });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  } finally {
    await admin.disconnect();
  }
}

async function describeBroker() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }],
      includeSynonyms: false,
    });
    return new Map(result.resources[0].configEntries.map((e: any) => [e.configName, e]));
  } finally {
    await admin.disconnect();
  }
}

test('kafkajs alterConfigs swaps the key store: new connections see the new certificate, old ones go on', async () => {
  assert.is(await fingerprintNow(), fingerprintOf(server.certPem));
  const before = await connectTls();
  assert.is(await alterConfigs([{ name: KEYSTORE_LOCATION, value: renewedKeystore }]), 0);
  await until(async () => (await fingerprintNow()) === fingerprintOf(renewed.certPem), {
    what: 'the renewed certificate on new connections',
    timeoutMs: 5000,
    intervalMs: 50,
  });
  assert.ok(await before.roundTrip(), 'the connection made before the change still works');
  before.socket.destroy();
  const entry = (await describeBroker()).get(KEYSTORE_LOCATION)!;
  assert.is(entry.configValue, renewedKeystore);
  assert.is(entry.readOnly, false);
});

test('a key store that does not load, or has another subject, is refused and the old one stays', async () => {
  for (const [file, reason] of [
    [garbageKeystore, /holds no PEM block/],
    [mismatchedKeystore, /private key does not match/],
    [renamedKeystore, /Keystore DistinguishedName does not match/],
    [path.join(dir, 'missing.pem'), /ENOENT/],
    [dir, /EISDIR/],
  ] as const) {
    const answer = await incremental('1', [{ name: KEYSTORE_LOCATION, configOperation: 0, value: file }]);
    assert.is(answer.errorCode, 42, `INVALID_REQUEST for ${file}`);
    assert.match(String(answer.errorMessage), /^Validation of dynamic config update of SSLFactory failed: /);
    assert.match(String(answer.errorMessage), reason);
  }
  assert.is(await fingerprintNow(), fingerprintOf(renewed.certPem), 'the certificate in use stays');
  // kafkajs sees the same refusal.
  assert.is(await alterConfigs([{ name: KEYSTORE_LOCATION, value: garbageKeystore }]), 42);
  assert.is(await fingerprintNow(), fingerprintOf(renewed.certPem));
});

test('an encrypted key with ssl.key.password: a wrong password is refused and never echoed nor logged', async () => {
  const password = 'key-secret-5e1c';
  const encrypted = crypto
    .createPrivateKey(server.keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }) as string;
  const change = (keyPassword: string) =>
    incremental('1', [
      { name: KEYSTORE_LOCATION, configOperation: 0, value: '' },
      { name: 'listener.name.ssl.ssl.keystore.key', configOperation: 0, value: encrypted },
      { name: 'listener.name.ssl.ssl.keystore.certificate.chain', configOperation: 0, value: server.certPem },
      { name: 'listener.name.ssl.ssl.key.password', configOperation: 0, value: keyPassword },
    ]);
  const wrong = await change('not-the-password-91');
  assert.is(wrong.errorCode, 42);
  assert.match(String(wrong.errorMessage), /wrong or missing ssl.key.password/);
  assert.not.match(String(wrong.errorMessage), /not-the-password-91/);
  assert.is(await fingerprintNow(), fingerprintOf(renewed.certPem), 'refused: the certificate in use stays');
  assert.is((await change(password)).errorCode, 0);
  await until(async () => (await fingerprintNow()) === fingerprintOf(server.certPem), {
    what: 'the certificate of the encrypted key',
    timeoutMs: 5000,
    intervalMs: 50,
  });
  const entry = (await describeBroker()).get('listener.name.ssl.ssl.key.password')!;
  assert.is(entry.isSensitive, true);
  assert.is(entry.configValue, null);
  assert.not.ok(broker.logs().includes(password), 'the password is not in the log');
  assert.not.ok(broker.logs().includes('not-the-password-91'));
  // Back to the renewed key store file.
  const back = await incremental('1', [
    { name: KEYSTORE_LOCATION, configOperation: 0, value: renewedKeystore },
    { name: 'listener.name.ssl.ssl.keystore.key', configOperation: 1, value: null },
    { name: 'listener.name.ssl.ssl.keystore.certificate.chain', configOperation: 1, value: null },
    { name: 'listener.name.ssl.ssl.key.password', configOperation: 1, value: null },
  ]);
  assert.is(back.errorCode, 0, String(back.errorMessage));
  await until(async () => (await fingerprintNow()) === fingerprintOf(renewed.certPem), {
    what: 'the renewed certificate again',
    timeoutMs: 5000,
    intervalMs: 50,
  });
});

test("Kafka's scope rules: listener prefix required, per-broker only, this broker only", async () => {
  const unprefixed = await incremental('1', [
    { name: 'ssl.keystore.location', configOperation: 0, value: firstKeystore },
  ]);
  assert.is(unprefixed.errorCode, 42);
  assert.is(
    unprefixed.errorMessage,
    'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
  );
  const clusterWide = await incremental('', [{ name: KEYSTORE_LOCATION, configOperation: 0, value: firstKeystore }]);
  assert.is(clusterWide.errorCode, 42);
  assert.is(
    clusterWide.errorMessage,
    `Cannot update these configs at default cluster level, broker id must be specified: Set(${KEYSTORE_LOCATION})`,
  );
  const other = await incremental('7', [{ name: KEYSTORE_LOCATION, configOperation: 0, value: firstKeystore }]);
  assert.is(other.errorCode, 42);
  assert.is(other.errorMessage, 'Unexpected broker id, expected 1, but received 7');
  const clientAuth = await incremental('1', [
    { name: 'listener.name.ssl.ssl.client.auth', configOperation: 0, value: 'required' },
  ]);
  assert.is(clientAuth.errorCode, 42);
  assert.match(String(clientAuth.errorMessage), /^Cannot update these configs dynamically/);
});

test('inline PEM through IncrementalAlterConfigs: applied, sensitive, never logged; survives a restart', async () => {
  const answer = await incremental('1', [
    { name: KEYSTORE_LOCATION, configOperation: 0, value: '' },
    { name: 'listener.name.ssl.ssl.keystore.key', configOperation: 0, value: server.keyPem },
    { name: 'listener.name.ssl.ssl.keystore.certificate.chain', configOperation: 0, value: server.certPem },
  ]);
  assert.is(answer.errorCode, 0, String(answer.errorMessage));
  await until(async () => (await fingerprintNow()) === fingerprintOf(server.certPem), {
    what: 'the inline certificate on new connections',
    timeoutMs: 5000,
    intervalMs: 50,
  });
  const entries = await describeBroker();
  for (const name of ['listener.name.ssl.ssl.keystore.key', 'listener.name.ssl.ssl.keystore.certificate.chain']) {
    assert.is(entries.get(name)!.isSensitive, true, name);
    assert.is(entries.get(name)!.configValue, null, name);
  }
  // A change of several keys is applied whole, never halfway (no key without its chain).
  assert.not.match(broker.logs(), /dynamic TLS material not applied/);
  const keyBody = server.keyPem.split('\n')[1];
  assert.not.ok(broker.logs().includes(keyBody), 'no key material in the log');

  // Back to a file, then a restart: the dynamic key store is the one served.
  assert.is(
    (
      await incremental('1', [
        { name: KEYSTORE_LOCATION, configOperation: 0, value: renewedKeystore },
        { name: 'listener.name.ssl.ssl.keystore.key', configOperation: 1, value: null },
        { name: 'listener.name.ssl.ssl.keystore.certificate.chain', configOperation: 1, value: null },
      ])
    ).errorCode,
    0,
  );
  await until(async () => (await fingerprintNow()) === fingerprintOf(renewed.certPem), {
    what: 'the renewed certificate again',
    timeoutMs: 5000,
    intervalMs: 50,
  });
  const plainPort = broker.port;
  await broker.stop();
  await start(plainPort);
  await until(
    async () => {
      try {
        return (await fingerprintNow()) === fingerprintOf(renewed.certPem);
      } catch {
        return false;
      }
    },
    { what: () => `the dynamic certificate after a restart\n${broker.logs()}`, timeoutMs: 10000, intervalMs: 50 },
  );
  assert.not.ok(broker.logs().includes(keyBody));
});

test.run();
