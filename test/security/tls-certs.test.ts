// Certificates made by src/security/certs.ts: openssl reads and verifies them, node:tls
// completes mutual-TLS handshakes with them (EC and RSA), a loaded CA keeps issuing, and
// `brook certs` writes its files with the right modes and never overwrites without --force.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { AddressInfo, isIP } from 'node:net';
import {
  CertificateAuthority,
  createCertificateAuthority,
  IssuedCertificate,
  issueCertificate,
  loadCertificateAuthority,
  parseSubject,
} from '../../src/security/certs';
import { certFixture, CLIENT_SUBJECT } from '../helpers/certs';
import { runBrook } from '../helpers/brook-cli';

const OPENSSL = spawnSync('openssl', ['version']).status === 0;

function openssl(args: string[], input?: string): { code: number | null; out: string } {
  const result = spawnSync('openssl', args, { input, timeout: 10000 });
  return { code: result.status, out: result.stdout.toString() + result.stderr.toString() };
}

/** One mutual-TLS handshake; resolves with what each side saw. */
function handshake(
  ca: CertificateAuthority,
  server: IssuedCertificate,
  client: IssuedCertificate,
  host: string,
): Promise<{ serverSaw: string; clientAuthorized: boolean }> {
  return new Promise((resolve, reject) => {
    const listener = tls.createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        const subject = socket.getPeerCertificate().subject;
        socket.end(`${subject.CN}/${subject.OU}/${subject.O}`);
      },
    );
    listener.listen(0, '127.0.0.1', () => {
      const { port } = listener.address() as AddressInfo;
      const socket = tls.connect({
        host: '127.0.0.1',
        servername: isIP(host) ? undefined : host,
        port,
        ca: ca.certPem,
        cert: client.certPem,
        key: client.keyPem,
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('error', (error) => {
        listener.close();
        reject(error);
      });
      socket.on('end', () => {
        listener.close();
        resolve({ serverSaw: data, clientAuthorized: socket.authorized });
      });
      socket.setTimeout(10000, () => socket.destroy(new Error('handshake timed out')));
    });
  });
}

test('the fixture verifies with openssl, with the extensions a TLS peer checks', () => {
  if (!OPENSSL) return console.log('skip: openssl is not installed');
  const { files } = certFixture();
  const verified = openssl(['verify', '-x509_strict', '-CAfile', files.caCert, files.serverCert, files.clientCert]);
  assert.is(verified.code, 0, verified.out);
  const text = openssl(['x509', '-noout', '-text', '-in', files.serverCert]).out;
  assert.match(text, /Version: 3/);
  assert.match(text, /ecdsa-with-SHA256/);
  assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost/);
  assert.match(text, /TLS Web Server Authentication/);
  assert.match(text, /CA:FALSE/);
  const client = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', files.clientCert]).out;
  assert.match(client, new RegExp(`subject=${CLIENT_SUBJECT}`));
  const caText = openssl(['x509', '-noout', '-text', '-in', files.caCert]).out;
  assert.match(caText, /CA:TRUE/);
  assert.match(caText, /Certificate Sign/);
  const untrusted = openssl(['verify', '-CAfile', files.caCert, files.untrustedClientCert]);
  assert.is.not(untrusted.code, 0);
});

test('node:tls handshakes with EC and RSA certificates, by IP and by name', async () => {
  for (const keyType of ['ec', 'rsa'] as const) {
    const ca = createCertificateAuthority({ keyType });
    const server = issueCertificate(ca, {
      subject: 'CN=broker',
      kind: 'server',
      hosts: ['127.0.0.1', 'localhost', '::1'],
      keyType,
    });
    const client = issueCertificate(ca, { subject: CLIENT_SUBJECT, kind: 'client', keyType });
    for (const host of ['127.0.0.1', 'localhost']) {
      const result = await handshake(ca, server, client, host);
      assert.ok(result.clientAuthorized, `${keyType} ${host}`);
      assert.is(result.serverSaw, 'alice/eng/Brook');
    }
  }
});

test('a server certificate without the host in its SANs is refused by the client', async () => {
  const ca = createCertificateAuthority();
  const server = issueCertificate(ca, { subject: 'CN=broker', kind: 'server', hosts: ['broker.example'] });
  const client = issueCertificate(ca, { subject: CLIENT_SUBJECT, kind: 'client' });
  try {
    await handshake(ca, server, client, 'localhost');
    assert.unreachable('the handshake should fail');
  } catch (error) {
    assert.match((error as Error).message, /altnames|Hostname/i);
  }
});

test('a loaded CA keeps issuing certificates that chain to it; encrypted keys need their passphrase', async () => {
  const original = createCertificateAuthority();
  const loaded = loadCertificateAuthority(original.certPem, original.keyPem);
  assert.is(loaded.subject, 'CN=Brook Development CA,O=Brook');
  assert.ok(loaded.subjectKeyId?.equals(original.subjectKeyId!));
  const server = issueCertificate(loaded, { subject: 'CN=broker', kind: 'server', hosts: ['127.0.0.1'] });
  const client = issueCertificate(loaded, { subject: 'CN=bob', kind: 'client', passphrase: 'secret' });
  assert.match(client.keyPem, /ENCRYPTED PRIVATE KEY/);
  const decrypted = {
    ...client,
    keyPem: crypto
      .createPrivateKey({ key: client.keyPem, passphrase: 'secret' })
      .export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  const result = await handshake(original, server, decrypted, '127.0.0.1');
  assert.ok(result.clientAuthorized);
  assert.throws(() => loadCertificateAuthority(server.certPem, original.keyPem), /not a CA/);
  assert.throws(
    () => loadCertificateAuthority(original.certPem, createCertificateAuthority().keyPem),
    /does not match/,
  );
});

test('bad subjects and hosts are refused before anything is signed', () => {
  assert.equal(parseSubject('CN=a\\,b,O=Brook'), [
    ['CN', 'a,b'],
    ['O', 'Brook'],
  ]);
  assert.throws(() => parseSubject(''), /1-1024/);
  assert.throws(() => parseSubject('X=1'), /bad subject attribute/);
  assert.throws(() => parseSubject('CN='), /bad subject attribute/);
  assert.throws(() => parseSubject('CN=x'.repeat(1000)), /1-1024/);
  const ca = createCertificateAuthority();
  assert.throws(() => issueCertificate(ca, { subject: 'CN=x', kind: 'server', hosts: ['bad host'] }), /bad host name/);
  assert.throws(() => issueCertificate(ca, { subject: 'CN=x', kind: 'server', validityDays: 0 }), /validity/);
});

test('brook certs writes the files, keys 0600, and never overwrites without --force', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-certs-cli-'));
  try {
    const out = path.join(dir, 'tls');
    const first = await runBrook(['certs', '--out', out, '--client', 'CN=alice,OU=eng,O=Brook', '--client', 'bob']);
    assert.is(first.code, 0, first.stderr);
    const names = fs.readdirSync(out).sort();
    assert.equal(names, [
      'alice-key.pem',
      'alice.pem',
      'bob-key.pem',
      'bob.pem',
      'broker-key.pem',
      'broker-keystore.pem',
      'broker.pem',
      'ca-key.pem',
      'ca.pem',
    ]);
    for (const name of names) {
      const mode = fs.statSync(path.join(out, name)).mode & 0o777;
      assert.is(mode, name.includes('key') ? 0o600 : 0o644, name);
    }
    if (OPENSSL) {
      const verified = openssl([
        'verify',
        '-CAfile',
        path.join(out, 'ca.pem'),
        ...['broker', 'alice', 'bob'].map((n) => path.join(out, `${n}.pem`)),
      ]);
      assert.is(verified.code, 0, verified.out);
      assert.match(
        openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', path.join(out, 'alice.pem')]).out,
        /CN=alice,OU=eng,O=Brook/,
      );
    }
    const caBefore = fs.readFileSync(path.join(out, 'ca.pem'), 'utf8');
    const brokerBefore = fs.readFileSync(path.join(out, 'broker.pem'), 'utf8');

    // A second run reuses the CA and the broker files and adds a client.
    const second = await runBrook(['certs', '--out', out, '--client', 'carol']);
    assert.is(second.code, 0, second.stderr);
    assert.match(second.stdout, /reused\s+ca\.pem/);
    assert.is(fs.readFileSync(path.join(out, 'ca.pem'), 'utf8'), caBefore);
    assert.is(fs.readFileSync(path.join(out, 'broker.pem'), 'utf8'), brokerBefore);
    if (OPENSSL)
      assert.is(openssl(['verify', '-CAfile', path.join(out, 'ca.pem'), path.join(out, 'carol.pem')]).code, 0);

    // Existing client or broker files are not replaced without --force.
    const again = await runBrook(['certs', '--out', out, '--client', 'bob']);
    assert.is(again.code, 1);
    assert.match(again.stderr, /already has bob\.pem; use --force/);
    const hosts = await runBrook(['certs', '--out', out, '--hosts', 'broker.example']);
    assert.is(hosts.code, 1);
    assert.match(hosts.stderr, /already has broker files/);
    assert.is(fs.readFileSync(path.join(out, 'broker.pem'), 'utf8'), brokerBefore);
    assert.ok(!fs.readdirSync(out).some((n) => n.endsWith('.tmp')), 'no temporary files left');

    const forced = await runBrook(['certs', '--out', out, '--hosts', 'broker.example', '--force']);
    assert.is(forced.code, 0, forced.stderr);
    assert.is.not(fs.readFileSync(path.join(out, 'ca.pem'), 'utf8'), caBefore);

    for (const [args, pattern] of [
      [['certs'], /--out DIR is required/],
      [['certs', '--out', out, '--key-type', 'dsa'], /--key-type/],
      [['certs', '--out', out, '--days', '0'], /--days/],
      [['certs', '--out', out, '--client', '../evil'], /cannot be a file name/],
      [['certs', '--out', out, '--client', 'ca'], /cannot be a file name/],
      [['certs', '--out', out, '--client', 'OU=x'], /no CN/],
    ] as [string[], RegExp][]) {
      const result = await runBrook(args);
      assert.is(result.code, 2, args.join(' '));
      assert.match(result.stderr, pattern);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
