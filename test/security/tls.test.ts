// TLS settings from Kafka's ssl.* keys and the material built from them: PEM key and trust
// stores inline or in files, refusals with one clear line (JKS, PKCS12, wrong password,
// mismatched key), client and server options that complete a mutual-TLS handshake, the
// principal of a client certificate, and reload keeping the old material on failure.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ConfigError } from '../../src/config/config';
import { Logger } from '../../src/logger';
import { createCertificateAuthority, issueCertificate } from '../../src/security/certs';
import { KafkaPrincipal, principalToString } from '../../src/security/principal';
import { parseTlsSettings, TlsMaterial } from '../../src/security/tls';
import { certFixture } from '../helpers/certs';
import { until } from '../helpers/wait';

function configError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ConfigError matching ${pattern}`);
}

function serverKeys(extra: Record<string, string> = {}): Record<string, string> {
  const { files } = certFixture();
  return { 'ssl.keystore.location': files.serverKeystore, 'ssl.truststore.location': files.caCert, ...extra };
}

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger = {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    errorSync: record('error'),
    flushSync: () => undefined,
    child: () => logger,
  };
  return logger;
}

/**
 * A server-side TLSSocket made the way the Kafka listener makes it; resolves with the
 * principal (or the refusal) once the client has connected with `clientOptions`.
 */
async function principalOver(
  server: TlsMaterial,
  clientOptions: tls.ConnectionOptions,
): Promise<{ principal?: KafkaPrincipal; refused?: string; clientError?: string }> {
  let resolveResult!: (value: { principal?: KafkaPrincipal; refused?: string }) => void;
  const serverResult = new Promise<{ principal?: KafkaPrincipal; refused?: string }>((r) => (resolveResult = r));
  const listener = net.createServer((raw) => {
    const socket = new tls.TLSSocket(raw, { isServer: true, ...server.serverOptions() });
    socket.on('secure', () => {
      try {
        resolveResult({ principal: server.principalOf(socket) });
      } catch (error) {
        resolveResult({ refused: (error as Error).message });
      }
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolveResult({ refused: error.code ?? error.message }));
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { port } = listener.address() as net.AddressInfo;
  const client = tls.connect({ host: '127.0.0.1', port, ...clientOptions });
  let clientError: string | undefined;
  client.on('error', (error: NodeJS.ErrnoException) => (clientError = error.code));
  client.on('data', () => undefined);
  // A client that gives up on the server's certificate may close before the server has
  // seen the handshake end; then the server reports nothing.
  const clientGone = new Promise<{ refused: string }>((r) =>
    client.once('close', () => setTimeout(() => r({ refused: 'client closed' }), 200)),
  );
  const result = await Promise.race([
    serverResult,
    clientGone,
    new Promise<{ refused: string }>((r) => setTimeout(() => r({ refused: 'timeout' }), 10000)),
  ]);
  if (!client.closed) await new Promise<void>((r) => client.once('close', r).destroy());
  listener.close();
  return { ...result, clientError };
}

test('defaults, and the keys Kafka clients and brokers set', () => {
  const settings = parseTlsSettings({}, 'client');
  assert.is(settings.keystore, null);
  assert.is(settings.truststore, null);
  assert.is(settings.clientAuth, 'none');
  assert.is(settings.minVersion, 'TLSv1.2');
  assert.is(settings.maxVersion, 'TLSv1.3');
  assert.is(settings.principalMappingRules, 'DEFAULT');
  assert.ok(settings.endpointIdentification);
  const tuned = parseTlsSettings(
    {
      'ssl.keystore.type': 'pem',
      'ssl.keystore.location': '/etc/brook/broker.pem',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': '/etc/brook/ca.pem',
      'ssl.client.auth': 'REQUIRED',
      'ssl.enabled.protocols': 'TLSv1.3',
      'ssl.cipher.suites': 'TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      'ssl.endpoint.identification.algorithm': '',
      'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),.*$/$1/L,DEFAULT',
      'brook.security.tls.reload.interval.ms': '250',
    },
    'listener SSL',
  );
  assert.equal(tuned.keystore, {
    key: { location: '/etc/brook/broker.pem' },
    certificateChain: { location: '/etc/brook/broker.pem' },
  });
  assert.is(tuned.clientAuth, 'required');
  assert.is(tuned.minVersion, 'TLSv1.3');
  assert.is(tuned.ciphers, 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.not.ok(tuned.endpointIdentification);
  assert.is(tuned.reloadIntervalMs, 250);
});

test('refusals name the listener and the key, and never a secret', () => {
  const what = 'listener SSL';
  configError(
    () => parseTlsSettings({ 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': '/x.jks' }, what),
    /listener SSL: ssl\.keystore\.type=JKS is not supported \(only PEM\)\. Brook reads PEM only: convert/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': '/x.p12' }, what),
    /ssl\.truststore\.type=PKCS12 is not supported/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.keystore.location': '/x', 'ssl.keystore.password': 'hunter2' }, what),
    /ssl\.keystore\.password cannot be used with PEM/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.truststore.location': '/x', 'ssl.truststore.password': 'hunter2' }, what),
    /ssl\.truststore\.password cannot be used/,
  );
  configError(() => parseTlsSettings({ 'ssl.keystore.key': 'k' }, what), /needs ssl\.keystore\.certificate\.chain/);
  configError(() => parseTlsSettings({ 'ssl.keystore.certificate.chain': 'c' }, what), /needs ssl\.keystore\.key/);
  configError(
    () =>
      parseTlsSettings(
        { 'ssl.keystore.key': 'k', 'ssl.keystore.certificate.chain': 'c', 'ssl.keystore.location': '/x' },
        what,
      ),
    /either ssl\.keystore\.location or ssl\.keystore\.key/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.client.auth': 'maybe' }, what),
    /ssl\.client\.auth must be none, requested or required/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.enabled.protocols': 'TLSv1.1,TLSv1.2' }, what),
    /"TLSv1\.1" is not supported/,
  );
  configError(() => parseTlsSettings({ 'ssl.enabled.protocols': ' , ' }, what), /ssl\.enabled\.protocols is empty/);
  configError(
    () => parseTlsSettings({ 'ssl.cipher.suites': 'TLS_NULL_WITH_NULL_NULL' }, what),
    /unknown or unavailable cipher suite "TLS_NULL_WITH_NULL_NULL"/,
  );
  configError(
    () => parseTlsSettings({ 'ssl.principal.mapping.rules': 'RULE:^CN=(.*$/$1/' }, what),
    /ssl\.principal\.mapping\.rules: invalid pattern/,
  );
  configError(() => parseTlsSettings({ 'ssl.principal.mapping.rules': 'default' }, what), /invalid rule/);
  configError(() => parseTlsSettings({ 'ssl.endpoint.identification.algorithm': 'ldaps' }, what), /https or empty/);
  configError(() => parseTlsSettings({ 'ssl.engine.factory.class': 'x.Y' }, what), /not supported by Brook/);
  configError(
    () => parseTlsSettings({ 'brook.security.tls.handshake.timeout.ms': '0' }, what),
    /handshake\.timeout\.ms must be an integer 100-600000/,
  );
});

test('material from files and inline PEM; broken material is a ConfigError without the password', () => {
  const { files, server, ca } = certFixture();
  const fromFile = new TlsMaterial(parseTlsSettings(serverKeys(), 'listener SSL'));
  assert.is(fromFile.certificateInfo?.subject, 'CN=localhost,O=Brook');
  assert.ok(fromFile.serverContext);
  // Inline values as a properties file delivers them: line breaks turned into spaces.
  const inline = new TlsMaterial(
    parseTlsSettings(
      {
        'ssl.keystore.key': server.keyPem.replace(/\n/g, ' '),
        'ssl.keystore.certificate.chain': server.certPem.replace(/\n/g, ' '),
        'ssl.truststore.certificates': ca.certPem.replace(/\n/g, '\\n'),
      },
      'listener SSL',
    ),
  );
  assert.is(inline.certificateInfo?.subject, 'CN=localhost,O=Brook');

  const dir = fs.mkdtempSync(path.join(certFixture().dir, 'broken-'));
  const encrypted = issueCertificate(ca, {
    subject: 'CN=enc',
    kind: 'server',
    hosts: ['127.0.0.1'],
    passphrase: 'hunter2',
  });
  const encryptedFile = path.join(dir, 'encrypted.pem');
  fs.writeFileSync(encryptedFile, encrypted.keyPem + encrypted.certPem);
  const withPassword = new TlsMaterial(
    parseTlsSettings({ 'ssl.keystore.location': encryptedFile, 'ssl.key.password': 'hunter2' }, 'l'),
  );
  assert.is(withPassword.certificateInfo?.subject, 'CN=enc');
  for (const password of ['sesame', undefined]) {
    const keys: Record<string, string> = { 'ssl.keystore.location': encryptedFile };
    if (password) keys['ssl.key.password'] = password;
    try {
      new TlsMaterial(parseTlsSettings(keys, 'listener SSL'));
      assert.unreachable('an encrypted key without its password');
    } catch (error) {
      assert.instance(error, ConfigError);
      assert.match(
        (error as Error).message,
        /the private key cannot be read \(wrong or missing ssl\.key\.password\?\)/,
      );
      assert.not.match((error as Error).message, /hunter2|sesame/);
    }
  }
  const mismatched = path.join(dir, 'mismatched.pem');
  fs.writeFileSync(mismatched, certFixture().client.keyPem + server.certPem);
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.keystore.location': mismatched }, 'l')),
    /does not match the key store's first certificate/,
  );
  const jks = path.join(dir, 'store.jks');
  fs.writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.keystore.location': jks }, 'l')),
    /holds no PEM block \(JKS and PKCS12/,
  );
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.keystore.location': path.join(dir, 'missing.pem') }, 'l')),
    /ENOENT/,
  );
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.keystore.location': files.serverCert }, 'l')),
    /expected one private key in the key store, found 0/,
  );
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.serverKey }, 'l')),
    /the trust store holds no certificate/,
  );
  configError(
    () => new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.caCert }, 'l')).serverContext,
    /a TLS listener needs a key store/,
  );
});

test('mutual TLS: the client certificate becomes the principal, mapped by the rules', async () => {
  const { files } = certFixture();
  const client = new TlsMaterial(
    parseTlsSettings(
      {
        'ssl.keystore.key': fs.readFileSync(files.clientKey, 'utf8'),
        'ssl.keystore.certificate.chain': fs.readFileSync(files.clientCert, 'utf8'),
        'ssl.truststore.location': files.caCert,
      },
      'client',
    ),
  );
  const required = new TlsMaterial(parseTlsSettings(serverKeys({ 'ssl.client.auth': 'required' }), 'listener SSL'));
  const withCert = await principalOver(required, client.clientOptions('127.0.0.1'));
  assert.is(principalToString(withCert.principal!), 'User:CN=alice,OU=eng,O=Brook');

  const mapped = new TlsMaterial(
    parseTlsSettings(
      serverKeys({
        'ssl.client.auth': 'required',
        'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U,DEFAULT',
      }),
      'l',
    ),
  );
  assert.is(
    principalToString((await principalOver(mapped, client.clientOptions('localhost'))).principal!),
    'User:ALICE@ENG',
  );

  // Without a certificate: refused when required, ANONYMOUS when requested or none.
  const anonymousClient = new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.caCert }, 'client'));
  const refused = await principalOver(required, anonymousClient.clientOptions());
  assert.ok(refused.refused, 'a client without a certificate is refused');
  const requested = new TlsMaterial(parseTlsSettings(serverKeys({ 'ssl.client.auth': 'requested' }), 'l'));
  assert.is(
    principalToString((await principalOver(requested, anonymousClient.clientOptions())).principal!),
    'User:ANONYMOUS',
  );
  assert.is(
    principalToString((await principalOver(requested, client.clientOptions())).principal!),
    'User:CN=alice,OU=eng,O=Brook',
  );

  // A certificate from a CA the listener does not trust: refused, also when only requested.
  const untrusted = {
    ...anonymousClient.clientOptions(),
    secureContext: undefined,
    cert: fs.readFileSync(files.untrustedClientCert),
    key: fs.readFileSync(files.untrustedClientKey),
    ca: fs.readFileSync(files.caCert),
  };
  for (const material of [required, requested]) {
    const result = await principalOver(material, untrusted);
    assert.is(result.principal, undefined);
    assert.match(result.refused!, /client certificate refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  }

  // No rule matching the DN refuses the connection, as Kafka fails the authentication.
  const strict = new TlsMaterial(
    parseTlsSettings(
      serverKeys({ 'ssl.client.auth': 'required', 'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=ops,.*$/$1/' }),
      'l',
    ),
  );
  assert.match(
    (await principalOver(strict, client.clientOptions())).refused!,
    /no ssl\.principal\.mapping\.rules rule applies to CN=alice,OU=eng,O=Brook/,
  );
});

test('clients check the server name unless endpoint identification is off', async () => {
  const { files } = certFixture();
  const server = new TlsMaterial(parseTlsSettings(serverKeys(), 'l'));
  const verifying = new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.caCert }, 'client'));
  const wrongName = await principalOver(server, { ...verifying.clientOptions('broker.example') });
  assert.is(wrongName.clientError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const lax = new TlsMaterial(
    parseTlsSettings(
      { 'ssl.truststore.location': files.caCert, 'ssl.endpoint.identification.algorithm': '' },
      'client',
    ),
  );
  const ok = await principalOver(server, lax.clientOptions('broker.example'));
  assert.is(principalToString(ok.principal!), 'User:ANONYMOUS');
  assert.is(ok.clientError, undefined);
  // The server's certificate must chain to the client's trust store.
  const stranger = new TlsMaterial(parseTlsSettings({ 'ssl.truststore.location': files.untrustedCaCert }, 'client'));
  assert.match(
    (await principalOver(server, stranger.clientOptions())).clientError!,
    /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY/,
  );
});

test('reload: a changed file is picked up by watch(); a broken one keeps the old material', async () => {
  const { ca } = certFixture();
  const dir = fs.mkdtempSync(path.join(certFixture().dir, 'reload-'));
  const keystore = path.join(dir, 'broker.pem');
  const first = issueCertificate(ca, { subject: 'CN=first', kind: 'server', hosts: ['127.0.0.1'] });
  fs.writeFileSync(keystore, first.keyPem + first.certPem);
  const logger = recordingLogger();
  const material = new TlsMaterial(
    parseTlsSettings(
      { 'ssl.keystore.location': keystore, 'brook.security.tls.reload.interval.ms': '50' },
      'listener SSL',
    ),
    logger,
  );
  material.watch();
  try {
    const second = issueCertificate(ca, { subject: 'CN=second', kind: 'server', hosts: ['127.0.0.1'] });
    fs.writeFileSync(`${keystore}.tmp`, second.keyPem + second.certPem);
    fs.renameSync(`${keystore}.tmp`, keystore);
    await until(
      () =>
        material.certificateInfo?.subject === 'CN=second,O=Brook' || material.certificateInfo?.subject === 'CN=second',
      { what: 'the new certificate', timeoutMs: 5000, intervalMs: 20 },
    );
    assert.ok(logger.lines.some((l) => l.startsWith('info TLS material reloaded')));

    // A half-written rotation (a key without its certificate): the old material stays.
    fs.writeFileSync(keystore, createCertificateAuthority().keyPem);
    await until(() => logger.lines.some((l) => l.startsWith('warn TLS material not reloaded')), {
      what: 'the failed reload line',
      timeoutMs: 5000,
      intervalMs: 20,
    });
    assert.match(material.certificateInfo!.subject, /^CN=second/);
    const failures = logger.lines.filter((l) => l.startsWith('warn TLS material not reloaded'));
    assert.is(failures.length, 1, 'one line per failed reload');
    assert.match(failures[0], /the key store holds no certificate/);
    assert.ok(material.serverContext);
  } finally {
    material.close();
  }
});

test.run();
