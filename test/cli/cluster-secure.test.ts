// `npm run cluster:start -- --secure` with one node: the script makes a CA and the node's
// certificate, SASL_SSL client and inter-broker listeners and the SCRAM users, and writes
// client.properties; `brook topics list --command-config` and `kcat -F` connect with it, a
// client that does not use TLS is refused, and `stop` ends exactly the process it started.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBrook } from '../helpers/brook-cli';
import { tempDir } from '../helpers/broker-process';
import { freePort } from '../helpers/ports';
import { kcat } from '../helpers/kcat';

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'cluster.js');
const HAVE_KCAT = fs.existsSync('/usr/bin/kcat') || fs.existsSync('/usr/local/bin/kcat');

/** Three consecutive free ports: the script puts the inter-broker listener two above the kafka port. */
async function consecutivePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await freePort();
    if ((await freePort()) === first + 1 && (await freePort()) === first + 2) return first;
  }
  throw new Error('no three consecutive free ports');
}

function script(args: string[]): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 90_000 });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

test('cluster:start --secure: SASL_SSL listeners, client.properties for brook and kcat', async () => {
  const base = tempDir('brook-secure-cluster-');
  const kafkaPort = await consecutivePorts();
  const common = [
    '--base',
    base,
    '--nodes',
    '1',
    '--kafka-port',
    String(kafkaPort),
    '--controller-port',
    String(kafkaPort + 1),
  ];
  const started = script(['start', ...common, '--secure']);
  try {
    assert.is(started.code, 0, started.out);
    assert.match(started.out, `--command-config ${path.join(base, 'client.properties')}`);
    const clientConfig = path.join(base, 'client.properties');
    assert.is(fs.statSync(clientConfig).mode & 0o077, 0, 'client.properties is private');
    assert.not.match(
      started.out,
      fs.readFileSync(path.join(base, 'users.properties'), 'utf8').split('\n')[0].split('=')[1],
    );

    const created = await runBrook([
      'topics',
      'create',
      'secure-topic',
      '--bootstrap',
      `127.0.0.1:${kafkaPort}`,
      '--command-config',
      clientConfig,
    ]);
    assert.is(created.code, 0, created.stderr);
    const listed = await runBrook([
      'topics',
      'list',
      '--bootstrap',
      `127.0.0.1:${kafkaPort}`,
      '--command-config',
      clientConfig,
    ]);
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, 'secure-topic');
    const plain = await runBrook(['topics', 'list', '--bootstrap', `127.0.0.1:${kafkaPort}`]);
    assert.is(plain.code, 1);
    assert.match(plain.stderr, /check security.protocol/);
    if (HAVE_KCAT) {
      const meta = await kcat(kafkaPort, ['-F', clientConfig, '-L', '-t', 'secure-topic']);
      assert.is(meta.code, 0, meta.stderr);
      assert.match(meta.stdout, 'topic "secure-topic"');
    } else console.log('kcat not installed: skipping kcat -F');
    // The controller listener is mutual TLS: the status command printed at start reaches it
    // with node 1's certificate (a cluster principal) and the secret.
    const status = await runBrook([
      'cluster',
      'status',
      '--bootstrap',
      `127.0.0.1:${kafkaPort}`,
      '--controller',
      `127.0.0.1:${kafkaPort + 1}`,
      '--config',
      path.join(base, 'node-1.properties'),
      '--command-config',
      clientConfig,
    ]);
    assert.is(status.code, 0, status.stderr);
    assert.match(fs.readFileSync(path.join(base, 'node-1.properties'), 'utf8'), 'CONTROLLER:SSL');
  } finally {
    const stopped = script(['stop', '--base', base]);
    assert.is(stopped.code, 0, stopped.out);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test.run();
