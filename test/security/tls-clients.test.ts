// A Brook process whose Kafka listener serves TLS (listeners=SSL://..., client certificates
// required), judged by real clients: kcat (librdkafka) with security.protocol=SSL and
// kafkajs with ssl { ca, cert, key }. Clients without a certificate, with an untrusted one,
// or speaking plaintext are refused while the others carry on; a TLS client on a plaintext
// port fails cleanly; and a certificate replaced on disk serves new handshakes while
// established connections keep working.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { issueCertificate } from '../../src/security/certs';
import { API_VERSIONS_V0, BrokerProcess, freePort, rawRequest, startBroker, tempDir } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const HAVE_KCAT = spawnSync('kcat', ['-V']).status === 0;

let broker: BrokerProcess;
let plaintextBroker: BrokerProcess;
let keystore: string;

/** A TLS connection to the broker that sends ApiVersions and waits for the answer. */
interface TlsProbe {
  socket: tls.TLSSocket;
  peerSubject: string;
  apiVersions(): Promise<boolean>;
}

async function tlsProbe(port: number, withCertificate = true): Promise<TlsProbe> {
  const { ca, client } = certFixture();
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: ca.certPem,
    ...(withCertificate ? { cert: client.certPem, key: client.keyPem } : {}),
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => reject(new Error('closed before the handshake ended')));
  });
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  return {
    socket,
    peerSubject: socket.getPeerCertificate().subject.CN as string,
    async apiVersions() {
      received = Buffer.alloc(0);
      socket.write(API_VERSIONS_V0);
      try {
        await until(() => received.length >= 4 && received.length >= 4 + received.readInt32BE(0), {
          what: 'an ApiVersions answer over TLS',
          timeoutMs: 5000,
          intervalMs: 10,
        });
        return true;
      } catch {
        return false;
      }
    },
  };
}

function kcatSsl(files: { cert?: string; key?: string } = {}): string[] {
  const args = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certFixture().files.caCert}`];
  if (files.cert) args.push('-X', `ssl.certificate.location=${files.cert}`);
  if (files.key) args.push('-X', `ssl.key.location=${files.key}`);
  return args;
}

function alice(): { cert: string; key: string } {
  const { files } = certFixture();
  return { cert: files.clientCert, key: files.clientKey };
}

test.before(async () => {
  const { files, server } = certFixture();
  const dir = tempDir('brook-tls-');
  keystore = path.join(dir, 'broker-keystore.pem');
  fs.writeFileSync(keystore, server.keyPem + server.certPem, { mode: 0o600 });
  const port = await freePort();
  broker = await startBroker({
    port,
    awaitKafka: false,
    config: {
      listeners: `SSL://127.0.0.1:${port}`,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': keystore,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': files.caCert,
      'ssl.client.auth': 'required',
      'brook.security.tls.reload.interval.ms': '100',
    },
  });
  await until(
    async () => {
      if (!broker.alive()) throw new Error(`broker exited:\n${broker.logs()}`);
      try {
        const probe = await tlsProbe(broker.port);
        const ok = await probe.apiVersions();
        probe.socket.destroy();
        return ok;
      } catch {
        return false;
      }
    },
    { what: () => `the TLS listener to answer\n${broker.logs()}`, timeoutMs: 20000, intervalMs: 100 },
  );
  plaintextBroker = await startBroker();
});

test.after(async () => {
  await broker?.stop();
  await plaintextBroker?.stop();
});

test('kcat produces and consumes over TLS with a client certificate', async () => {
  if (!HAVE_KCAT) return console.log('skip: kcat is not installed');
  const produced = await kcat(broker.port, [...kcatSsl(alice()), '-P', '-t', 'tls-kcat'], 'one\ntwo\nthree\n');
  assert.is(produced.code, 0, produced.stderr);
  const consumed = await kcat(broker.port, [
    ...kcatSsl(alice()),
    '-C',
    '-t',
    'tls-kcat',
    '-o',
    'beginning',
    '-e',
    '-q',
  ]);
  assert.is(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stdout.trim().split('\n'), ['one', 'two', 'three']);
});

test('kcat without a certificate, or with an untrusted one, is refused; the broker keeps serving', async () => {
  if (!HAVE_KCAT) return console.log('skip: kcat is not installed');
  const { files } = certFixture();
  const anonymous = await kcat(broker.port, [...kcatSsl(), '-L', '-m', '3'], undefined, 15000);
  assert.is.not(anonymous.code, 0);
  assert.match(anonymous.stderr, /SSL|handshake|certificate|Disconnected|timed out/i);
  const untrusted = await kcat(
    broker.port,
    [...kcatSsl({ cert: files.untrustedClientCert, key: files.untrustedClientKey }), '-L', '-m', '3'],
    undefined,
    15000,
  );
  assert.is.not(untrusted.code, 0);
  await until(() => /TLS client refused|TLS handshake failed/.test(broker.logs()), {
    what: 'the refusal line',
    timeoutMs: 5000,
  });
  const metadata = await kcat(broker.port, [...kcatSsl(alice()), '-L']);
  assert.is(metadata.code, 0, metadata.stderr);
  assert.match(metadata.stdout, /1 brokers:/);
});

test('kafkajs produces and consumes with ssl { ca, cert, key }', async () => {
  const { ca, client } = certFixture();
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'brook-tls-test',
    logLevel: logLevel.NOTHING,
    ssl: { ca: [ca.certPem], cert: client.certPem, key: client.keyPem },
    retry: { retries: 3 },
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'tls-kafkajs',
    acks: -1,
    messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'tls-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'tls-kafkajs', fromBeginning: true });
  const values: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  try {
    await until(() => values.length >= 5, { what: 'five records through kafkajs over TLS', timeoutMs: 20000 });
    assert.equal(values.sort(), ['v0', 'v1', 'v2', 'v3', 'v4']);
  } finally {
    await consumer.disconnect();
  }
});

test('plaintext on the TLS port and TLS on a plaintext port fail cleanly, others unharmed', async () => {
  const established = await tlsProbe(broker.port);
  const plaintext = await rawRequest(broker.port, API_VERSIONS_V0, 5000);
  assert.is(plaintext.frame, null);
  assert.ok(plaintext.closed, 'the plaintext client is disconnected');
  assert.ok(await established.apiVersions(), 'a TLS connection made before still works');
  established.socket.destroy();

  let failure: string | undefined;
  try {
    (await tlsProbe(plaintextBroker.port)).socket.destroy();
  } catch (error) {
    failure = (error as Error).message;
  }
  assert.ok(failure, 'TLS to a plaintext port does not connect');
  const answer = await rawRequest(plaintextBroker.port, API_VERSIONS_V0, 5000);
  assert.ok(answer.frame, 'the plaintext broker serves on');
  assert.ok(plaintextBroker.alive() && broker.alive());
});

test('a certificate replaced on disk serves new handshakes; old connections keep working', async () => {
  const old = await tlsProbe(broker.port);
  assert.is(old.peerSubject, 'localhost');
  const rotated = issueCertificate(certFixture().ca, {
    subject: 'CN=rotated,O=Brook',
    kind: 'server',
    hosts: ['127.0.0.1', 'localhost'],
  });
  fs.writeFileSync(`${keystore}.tmp`, rotated.keyPem + rotated.certPem, { mode: 0o600 });
  fs.renameSync(`${keystore}.tmp`, keystore);
  await until(
    async () => {
      const probe = await tlsProbe(broker.port);
      probe.socket.destroy();
      return probe.peerSubject === 'rotated';
    },
    { what: 'new handshakes to present the rotated certificate', timeoutMs: 10000, intervalMs: 100 },
  );
  // The log line is written asynchronously: it may follow the first new handshake.
  await until(() => /TLS material reloaded/.test(broker.logs()), { what: 'the reload line', timeoutMs: 5000 });
  assert.ok(await old.apiVersions(), 'the connection from before the rotation still works');
  old.socket.destroy();
  if (HAVE_KCAT) {
    const metadata = await kcat(broker.port, [...kcatSsl(alice()), '-L']);
    assert.is(metadata.code, 0, metadata.stderr);
  }

  // A broken file is not taken: the rotated certificate stays in use.
  fs.writeFileSync(keystore, 'not a key store');
  await until(() => /TLS material not reloaded/.test(broker.logs()), {
    what: 'the failed reload line',
    timeoutMs: 10000,
  });
  const after = await tlsProbe(broker.port);
  assert.is(after.peerSubject, 'rotated');
  assert.ok(await after.apiVersions());
  after.socket.destroy();
});

test.run();
