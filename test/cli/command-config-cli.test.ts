// `--command-config FILE` (and BROOK_COMMAND_CONFIG) on the brook CLI, as Kafka's tools take
// it: a client properties file with security.protocol, sasl.* and ssl.*, against a scripted
// SASL_SSL node. Refused credentials and a bad file are one line on stderr, without the
// password, and exit codes 1 and 2.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBrook } from '../helpers/brook-cli';
import { certFixture } from '../helpers/certs';
import { secureScriptedNode, SecureNode } from '../helpers/secure-scripted-node';

const fixture = certFixture();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-command-config-'));
let scripted: SecureNode | null = null;

function properties(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test.before(async () => {
  fs.writeFileSync(path.join(dir, 'ca.pem'), fixture.ca.certPem);
  scripted = await secureScriptedNode({
    tls: { cert: fixture.server.certPem, key: fixture.server.keyPem },
    users: { admin: 'admin-secret' },
  });
});

test('brook topics list --command-config: SASL_SSL with SCRAM-SHA-512 from sasl.jaas.config', async () => {
  assert.ok(scripted);
  const file = properties('client.properties', [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";',
    `ssl.ca.location=${path.join(dir, 'ca.pem')}`,
  ]);
  const run = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${scripted.port}`, '--command-config', file]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, 'secured');
  assert.equal(scripted.authentications.at(-1), {
    user: 'admin',
    mechanism: 'SCRAM-SHA-512',
    connection: scripted.connections,
  });
});

test('BROOK_COMMAND_CONFIG names the file when the flag is absent', async () => {
  assert.ok(scripted);
  const file = properties('env.properties', [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=PLAIN',
    'sasl.username=admin',
    'sasl.password=admin-secret',
    `ssl.truststore.location=${path.join(dir, 'ca.pem')}`,
    'ssl.truststore.type=PEM',
  ]);
  const run = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${scripted.port}`, '--json'], {
    env: { ...process.env, BROOK_COMMAND_CONFIG: file },
  });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, '"secured"');
});

test('a wrong password: exit 1, the broker message, no password, no retry storm', async () => {
  assert.ok(scripted);
  const failuresBefore = scripted.failures;
  const file = properties('wrong.properties', [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    'sasl.username=admin',
    'sasl.password=not-the-password',
    `ssl.ca.location=${path.join(dir, 'ca.pem')}`,
  ]);
  const run = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${scripted.port}`, '--command-config', file]);
  assert.is(run.code, 1);
  assert.match(
    run.stderr,
    /^brook: SASL SCRAM-SHA-512 authentication with 127\.0\.0\.1:\d+ failed: SASL_AUTHENTICATION_FAILED: Authentication failed/,
  );
  assert.not.match(run.stderr, 'not-the-password');
  assert.is(run.stderr.trim().split('\n').length, 1);
  assert.is(scripted.failures - failuresBefore, 1);
});

test('a bad or missing file: exit 2 naming the file and the key', async () => {
  const bad = properties('bad.properties', ['security.protocol=SASL_SSL', 'sasl.password=hunter2']);
  const run = await runBrook(['topics', 'list', '--bootstrap', '127.0.0.1:1', '--command-config', bad]);
  assert.is(run.code, 2);
  assert.match(run.stderr, `--command-config ${bad}: sasl.mechanism is required`);
  assert.not.match(run.stderr, 'hunter2');
  const missing = await runBrook(['produce', '--topic', 't', '--command-config', path.join(dir, 'nope')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--command-config: cannot read .*ENOENT/);
  const protocol = await runBrook(['groups', 'list', '--security-protocol', 'TLS']);
  assert.is(protocol.code, 2);
  assert.match(protocol.stderr, /security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL/);
});

test.after(() => {
  scripted?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
