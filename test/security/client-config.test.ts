// Kafka client settings to ClientSecurity: Java's and librdkafka's names, sasl.jaas.config as
// Java clients write it, PEM files and inline PEM, and bad input that must fail with a
// message naming the key and never the secret. Also the broker's own client settings for
// its inter-broker and controller connections, derived from its listener keys.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/config';
import {
  controllerClientSecurity,
  describeClientSecurity,
  interBrokerClientSecurity,
  parseClientSecurity,
  parseJaasConfig,
  readClientSecurityFile,
} from '../../src/security/client-config';
import { certFixture } from '../helpers/certs';

const fixture = certFixture();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-client-config-'));
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n';
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  fs.writeFileSync(at, text);
  return at;
};
const caFile = file('ca.pem', CA);
const certFile = file('cert.pem', CERT);
const keyFile = file('key.pem', KEY);
const keystoreFile = file('keystore.pem', KEY + CERT);

/** The ConfigError `run` throws; fails when it does not throw one. */
function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  assert.unreachable('no ConfigError');
  return '';
}

test('PLAINTEXT by default; protocol names are case-insensitive', () => {
  assert.equal(parseClientSecurity({}), { protocol: 'PLAINTEXT' });
  assert.equal(parseClientSecurity({ 'security.protocol': 'ssl' }), { protocol: 'SSL', tls: {} });
});

test('librdkafka names: sasl.username/password, ssl.ca.location, client certificate files', () => {
  const security = parseClientSecurity({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanisms': 'SCRAM-SHA-512',
    'sasl.username': 'admin',
    'sasl.password': 'p=ss word',
    'ssl.ca.location': caFile,
    'ssl.certificate.location': certFile,
    'ssl.key.location': keyFile,
    'ssl.key.password': 'kp',
    'ssl.endpoint.identification.algorithm': 'none',
    'client.id': 'ignored',
  });
  assert.equal(security.sasl, { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'p=ss word' });
  assert.is(security.tls!.ca!.trim(), CA.trim());
  assert.is(security.tls!.cert!.trim(), CERT.trim());
  assert.is(security.tls!.key!.trim(), KEY.trim());
  assert.is(security.tls!.passphrase, 'kp');
  assert.is(security.tls!.checkHostname, false);
  assert.is(describeClientSecurity(security), 'SASL_SSL (SCRAM-SHA-512 as admin)');
});

test('Java names: sasl.jaas.config, PEM truststore and keystore, empty endpoint identification', () => {
  const security = parseClientSecurity({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config':
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="a \\"quoted\\" secret;";',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': caFile,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': keystoreFile,
    'ssl.endpoint.identification.algorithm': '',
  });
  assert.equal(security.sasl, { mechanism: 'PLAIN', username: 'alice', password: 'a "quoted" secret;' });
  assert.is(security.tls!.cert!.trim(), CERT.trim());
  assert.is(security.tls!.key!.trim(), KEY.trim());
  assert.is(security.tls!.checkHostname, false);
  // Inline PEM as Java properties files hold it, with literal \n.
  const inline = parseClientSecurity({
    'security.protocol': 'SSL',
    'ssl.truststore.certificates': CA.replace(/\n/g, '\\n'),
    'ssl.keystore.certificate.chain': CERT,
    'ssl.keystore.key': KEY,
  });
  assert.is(inline.tls!.ca!.trim(), CA.trim());
  assert.is(inline.tls!.checkHostname, undefined, 'the hostname check stays on by default');
});

test('ScramLoginModule with unquoted values; OAUTHBEARER from a value or a file read at each use', async () => {
  const scram = parseClientSecurity({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': 'SCRAM-SHA-256',
    'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username=bob password=b0b;',
  });
  assert.equal(scram.sasl, { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'b0b' });
  const token = parseClientSecurity({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.oauthbearer.token': 'abc.def.ghi',
  });
  assert.equal(token.sasl, { mechanism: 'OAUTHBEARER', token: 'abc.def.ghi' });
  const tokenFile = file('token', 'first\n');
  const fromFile = parseClientSecurity({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.oauthbearer.token.file': tokenFile,
  });
  const source = (fromFile.sasl as { token: () => string }).token;
  assert.is(source(), 'first');
  fs.writeFileSync(tokenFile, 'second');
  assert.is(source(), 'second');
});

test('bad settings fail naming the key, never echoing a secret', () => {
  const secret = 'TOPSECRET-42';
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'security.protocol': 'TLS' }, /security.protocol must be/],
    [{ 'security.protocol': 'SASL_SSL' }, /sasl.mechanism is required/],
    [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'GSSAPI' }, /GSSAPI is not supported/],
    [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.password': secret }, /needs sasl.username/],
    [
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="a" password="${secret}";`,
      },
      /needs org.apache.kafka.common.security.plain.PlainLoginModule/,
    ],
    [
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="${secret}`,
      },
      /unterminated quoted value/,
    ],
    [
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required password="${secret}";`,
      },
      /username and password options are required/,
    ],
    [
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': 'x required username="a" password="b";',
        'sasl.username': 'a',
        'sasl.password': secret,
      },
      /not both/,
    ],
    [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'OAUTHBEARER' }, /sasl.oauthbearer.token/],
    [
      { 'security.protocol': 'SSL', 'ssl.ca.location': path.join(dir, 'missing.pem') },
      /ssl.ca.location: cannot read .*ENOENT/,
    ],
    [{ 'security.protocol': 'SSL', 'ssl.ca.location': file('not-pem', 'junk') }, /not PEM/],
    [{ 'security.protocol': 'SSL', 'ssl.ca.location': keyFile }, /holds no certificate/],
    [
      { 'security.protocol': 'SSL', 'ssl.truststore.type': 'JKS', 'ssl.truststore.location': caFile },
      /ssl.truststore.type JKS/,
    ],
    [{ 'security.protocol': 'SSL', 'ssl.ca.location': caFile, 'ssl.truststore.location': caFile }, /set one/],
    [{ 'security.protocol': 'SSL', 'ssl.certificate.location': certFile }, /needs both a certificate and its key/],
    [
      { 'security.protocol': 'SSL', 'ssl.certificate.location': certFile, 'ssl.key.location': certFile },
      /holds no private key/,
    ],
    [{ 'security.protocol': 'SSL', 'ssl.key.password': secret }, /ssl.key.password is set but no key/],
    [{ 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': 'http' }, /must be https or empty/],
    [
      {
        'security.protocol': 'SSL',
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': caFile,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': keystoreFile,
        'ssl.key.location': keyFile,
      },
      /already holds the key/,
    ],
  ];
  for (const [keys, expected] of cases) {
    const message = configError(() => parseClientSecurity(keys, 'client.properties'));
    assert.match(message, expected, JSON.stringify(keys).slice(0, 200));
    assert.not.match(message, secret, 'the secret stays out of the message');
  }
});

test('sasl.jaas.config grammar: flags, escapes, one entry only', () => {
  const entry = parseJaasConfig('a.b.C optional k1=v1 k2 = "x y"  ;', 'jaas');
  assert.is(entry.loginModule, 'a.b.C');
  assert.is(entry.flag, 'optional');
  assert.equal(
    [...entry.options],
    [
      ['k1', 'v1'],
      ['k2', 'x y'],
    ],
  );
  for (const bad of [
    '',
    'a.b.C',
    'a.b.C sometimes;',
    'a.b.C required k1;',
    'a.b.C required k=v; b.C required;',
    'a.b.C required k=v',
    'x'.repeat(70000),
  ])
    configError(() => parseJaasConfig(bad, 'jaas'));
});

test('--command-config files: properties read with the config reader, errors name the flag', () => {
  const props = file(
    'client.properties',
    '# a client\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=admin\nsasl.password=s3cret\n',
  );
  assert.equal(readClientSecurityFile(props).sasl, {
    mechanism: 'SCRAM-SHA-512',
    username: 'admin',
    password: 's3cret',
  });
  assert.match(
    configError(() => readClientSecurityFile(path.join(dir, 'nope.properties'))),
    /^--command-config: cannot read/,
  );
  assert.match(
    configError(() => readClientSecurityFile(file('bad.properties', 'no equals sign here\n'))),
    /expected key=value/,
  );
});

test('inter-broker: the inter-broker listener protocol, sasl.mechanism.inter.broker.protocol and the listener JAAS entry', () => {
  const security = interBrokerClientSecurity({
    securityKeys: {
      listeners: 'CLIENT://127.0.0.1:9092,BROKER://127.0.0.1:9094',
      'listener.security.protocol.map': 'CLIENT:SASL_SSL,BROKER:SASL_SSL',
      'inter.broker.listener.name': 'BROKER',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.broker.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
      'listener.name.client.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="wrong" password="wrong";',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': fixture.files.caCert,
      'listener.name.broker.ssl.keystore.type': 'PEM',
      'listener.name.broker.ssl.keystore.location': fixture.files.serverKeystore,
      'ssl.keystore.location': path.join(dir, 'not-this-one.pem'),
      'ssl.keystore.type': 'PEM',
    },
  });
  assert.is(security.protocol, 'SASL_SSL');
  assert.equal(security.sasl, { mechanism: 'SCRAM-SHA-512', username: 'broker', password: 'broker-secret' });
  // Read as the listener reads its ssl.* keys: its trust store, its key store as the client certificate.
  const options = security.tls!.material!.clientOptions('127.0.0.1');
  assert.ok(String(options.ca).includes(fixture.ca.certPem.trim().split('\n')[1]), 'the CA is trusted');
  assert.ok(String(options.cert).includes(fixture.server.certPem.trim().split('\n')[1]), "the listener's certificate");
  assert.is(options.rejectUnauthorized, true);
  assert.is(options.checkServerIdentity, undefined, 'the hostname check stays on');

  assert.equal(interBrokerClientSecurity({ securityKeys: {} }), { protocol: 'PLAINTEXT' });
  // security.inter.broker.protocol names the listener of that protocol's own name.
  const plain = interBrokerClientSecurity({
    securityKeys: {
      'security.inter.broker.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="b" password="p" user_b="p";',
    },
  });
  assert.equal(plain, { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'b', password: 'p' } });
  // A single listener is the inter-broker one when nothing names it.
  assert.is(interBrokerClientSecurity({ securityKeys: { listeners: 'SSL://127.0.0.1:9093' } }).protocol, 'SSL');
});

test('inter-broker: the parsed listener configuration decides the listener and its protocol when given', () => {
  const security = interBrokerClientSecurity({
    securityKeys: {
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.replication.plain.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="b" password="p";',
    },
    listeners: {
      broker: [
        { name: 'CLIENT', securityProtocol: 'SSL' },
        { name: 'REPLICATION', securityProtocol: 'SASL_PLAINTEXT' },
      ],
      interBrokerListenerName: 'REPLICATION',
      controller: { name: 'CONTROLLER', securityProtocol: 'PLAINTEXT' },
    },
  });
  assert.equal(security, { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'b', password: 'p' } });
});

test('inter-broker: missing pieces fail with the key to set', () => {
  const base = { listeners: 'SASL_SSL://127.0.0.1:9092', 'inter.broker.listener.name': 'SASL_SSL' };
  assert.match(
    configError(() => interBrokerClientSecurity({ securityKeys: base })),
    /sasl.mechanism.inter.broker.protocol/,
  );
  assert.match(
    configError(() =>
      interBrokerClientSecurity({ securityKeys: { ...base, 'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512' } }),
    ),
    /listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config/,
  );
  assert.match(
    configError(() =>
      interBrokerClientSecurity({
        securityKeys: { 'inter.broker.listener.name': 'INTERNAL', 'listener.security.protocol.map': 'EXTERNAL:SSL' },
      }),
    ),
    /INTERNAL has no entry/,
  );
  assert.match(
    configError(() => interBrokerClientSecurity({ securityKeys: { 'listener.security.protocol.map': 'A=SSL' } })),
    /is not NAME:PROTOCOL/,
  );
  assert.match(
    configError(() =>
      interBrokerClientSecurity({
        securityKeys: { 'inter.broker.listener.name': 'SSL', 'security.inter.broker.protocol': 'SSL' },
      }),
    ),
    /set one, not both/,
  );
});

test('controller connections: TLS of the controller listener, never SASL', () => {
  assert.equal(controllerClientSecurity({ securityKeys: {} }), { protocol: 'PLAINTEXT' });
  const tls = controllerClientSecurity({
    securityKeys: {
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'CONTROLLER:SASL_SSL,CLIENT:SASL_SSL',
      'listener.name.controller.ssl.truststore.type': 'PEM',
      'listener.name.controller.ssl.truststore.location': fixture.files.caCert,
      'listener.name.controller.ssl.endpoint.identification.algorithm': '',
    },
  });
  assert.is(tls.protocol, 'SSL');
  const options = tls.tls!.material!.clientOptions('127.0.0.1');
  assert.ok(String(options.ca).includes(fixture.ca.certPem.trim().split('\n')[1]));
  assert.is(typeof options.checkServerIdentity, 'function', 'the hostname check is off as asked');
  assert.is(tls.sasl, undefined);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
