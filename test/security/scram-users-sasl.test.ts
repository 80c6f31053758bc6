// The credential store end to end: a SASL_PLAINTEXT broker in this process authenticates
// kafkajs (its own SCRAM client, which derives everything from the password) against
// credentials from the metadata image: the bootstrap user of the config file, and users
// set later through the controller's AlterUserScramCredentials decision, with each
// mechanism; a wrong password, a deleted credential and an unknown user are refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { saltedPassword, ScramMechanism } from '../../src/security/scram';
import { freePort } from '../helpers/ports';

let running: RunningBroker;
let dataDir: string;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-scram-sasl-'));
  const file = `${dataDir}.properties`;
  fs.writeFileSync(
    file,
    [
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      'brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=admin-secret]',
    ].join('\n'),
  );
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
      config: file,
    }),
    silentLogger,
    { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } },
  );
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(`${dataDir}.properties`, { force: true });
});

/** Whether kafkajs can authenticate as `username` and list topics. */
async function authenticates(mechanism: 'scram-sha-256' | 'scram-sha-512', username: string, password: string) {
  const kafka = new Kafka({
    clientId: 'scram-users-sasl',
    brokers: [`127.0.0.1:${running.kafkaPort}`],
    sasl: mechanism === 'scram-sha-256' ? { mechanism, username, password } : { mechanism, username, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** AlterUserScramCredentials as the active controller decides and commits it. */
async function upsert(user: string, mechanism: ScramMechanism, password: string, iterations = 4096) {
  const salt = randomBytes(32);
  const [result] = await running.broker.quorum.alterScramCredentials(
    [],
    [
      {
        name: user,
        mechanism: mechanism === 'SCRAM-SHA-256' ? 1 : 2,
        iterations,
        salt,
        saltedPassword: saltedPassword(mechanism, password, salt, iterations),
      },
    ],
  );
  assert.is(result.errorCode, 0);
}

test('the bootstrap user authenticates with SCRAM-SHA-512, and only with its password', async () => {
  assert.ok(await authenticates('scram-sha-512', 'admin', 'admin-secret'));
  assert.not.ok(await authenticates('scram-sha-512', 'admin', 'wrong'));
  assert.not.ok(await authenticates('scram-sha-256', 'admin', 'admin-secret'), 'no SCRAM-SHA-256 credential');
  assert.not.ok(await authenticates('scram-sha-512', 'nobody', 'admin-secret'));
});

test('users set later authenticate at once, with the iterations they were given; a deleted one no longer', async () => {
  await upsert('alice', 'SCRAM-SHA-256', 'alice-secret', 8192);
  await upsert('bob', 'SCRAM-SHA-512', 'bob-secret');
  assert.ok(await authenticates('scram-sha-256', 'alice', 'alice-secret'));
  assert.ok(await authenticates('scram-sha-512', 'bob', 'bob-secret'));
  await upsert('bob', 'SCRAM-SHA-512', 'bob-rotated');
  assert.not.ok(await authenticates('scram-sha-512', 'bob', 'bob-secret'), 'the old password is gone');
  assert.ok(await authenticates('scram-sha-512', 'bob', 'bob-rotated'));
  const [deleted] = await running.broker.quorum.alterScramCredentials([{ name: 'alice', mechanism: 1 }], []);
  assert.is(deleted.errorCode, 0);
  assert.not.ok(await authenticates('scram-sha-256', 'alice', 'alice-secret'));
});

test.run();
