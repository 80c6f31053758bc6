// Bootstrap SCRAM users on a single node started in this process: the user of
// brook.security.bootstrap.scram.users exists as soon as the node is started (no window
// in which the cluster has no user), its credential verifies the configured password; a
// password changed later survives a restart with the same config (bootstrap never
// overwrites); a bad bootstrap entry stops the start with one ConfigError naming no secret.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Admin } from '../../src/client/admin';
import { ConfigError, loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { startBroker } from '../../src/server/broker-server';
import { verifyScramPassword } from '../../src/security/scram';
import { freePort } from '../helpers/ports';

const dirs: string[] = [];

test.after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function configWith(dataDir: string, bootstrapUsers: string) {
  const file = path.join(dataDir, '..', `${path.basename(dataDir)}.properties`);
  fs.writeFileSync(file, `brook.security.bootstrap.scram.users=${bootstrapUsers}\n`);
  dirs.push(file);
  return loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': dataDir,
    'log-level': 'error',
    config: file,
  });
}

test('the bootstrap user exists once started, and a changed password survives a restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-scram-bootstrap-'));
  dirs.push(dataDir);
  const bootstrapUsers =
    'SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=admin,password=admin-secret]';
  let running = await startBroker(await configWith(dataDir, bootstrapUsers), silentLogger);
  try {
    const image = running.broker.quorum.image;
    for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const) {
      const credential = image.scramCredential('admin', mechanism);
      assert.ok(credential, `admin has a ${mechanism} credential when start resolves`);
      assert.ok(verifyScramPassword(credential!, 'admin-secret'));
    }
    const admin = new Admin({ bootstrap: [`127.0.0.1:${running.kafkaPort}`] });
    try {
      const [result] = await admin.alterUserScramCredentials([
        { kind: 'upsert', user: 'admin', mechanism: 'SCRAM-SHA-512', password: 'rotated', iterations: 4096 },
      ]);
      assert.is(result.errorCode, 0);
      const [deleted] = await admin.alterUserScramCredentials([
        { kind: 'delete', user: 'admin', mechanism: 'SCRAM-SHA-256' },
      ]);
      assert.is(deleted.errorCode, 0);
    } finally {
      admin.close();
    }
  } finally {
    await running.close();
  }
  running = await startBroker(await configWith(dataDir, bootstrapUsers), silentLogger);
  try {
    const image = running.broker.quorum.image;
    const kept = image.scramCredential('admin', 'SCRAM-SHA-512')!;
    assert.ok(verifyScramPassword(kept, 'rotated'), 'the changed password is kept');
    assert.not.ok(verifyScramPassword(kept, 'admin-secret'));
    // A credential deleted since is missing again, so the bootstrap writes it anew, as
    // Kafka's --add-scram would on a freshly formatted cluster.
    assert.ok(verifyScramPassword(image.scramCredential('admin', 'SCRAM-SHA-256')!, 'admin-secret'));
  } finally {
    await running.close();
  }
});

test('a bad bootstrap entry stops the start with a ConfigError naming no secret', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-scram-bootstrap-bad-'));
  dirs.push(dataDir);
  const config = await configWith(dataDir, 'SCRAM-SHA-512=[name=admin,password=hunter2,iterations=12]');
  try {
    await startBroker(config, silentLogger);
    assert.unreachable('the start is refused');
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as Error).message, /brook\.security\.bootstrap\.scram\.users: iterations of admin/);
    assert.not.ok((error as Error).message.includes('hunter2'));
  }
});

test.run();
