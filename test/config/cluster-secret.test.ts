// The controller-port cluster secret in the config: required unless the node is the only
// voter (one clear ConfigError naming the key), given inline or as a file, at least 16
// bytes, never both forms, and never repeated in an error message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-secret-'));
const VOTERS = '1@127.0.0.1:9193,2@127.0.0.1:9293,3@127.0.0.1:9393';
const SECRET = 'a-cluster-secret-of-some-length';

function configFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  assert.unreachable('the config was accepted');
  return '';
}

test('a node that is not the only voter needs the secret; a sole voter does not', () => {
  const message = refusal(() => loadConfig({ 'node-id': '1', voters: VOTERS }));
  assert.match(message, 'brook.controller.cluster.secret');
  assert.match(message, 'not the only voter');
  // An observer of a one-voter quorum is not the only voter either.
  refusal(() => loadConfig({ 'node-id': '2', voters: '1@127.0.0.1:9193' }));
  assert.is(loadConfig({}).controllerClusterSecret, null, 'npm start: a single node runs without one');
});

test('inline and file forms; the key is known, not reported as unknown', () => {
  const inline = loadConfig({
    'node-id': '1',
    voters: VOTERS,
    config: configFile('inline.properties', [`brook.controller.cluster.secret=${SECRET}`]),
  });
  assert.equal(inline.controllerClusterSecret, Buffer.from(SECRET));
  assert.equal(inline.unknownKeys, []);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const fromFile = loadConfig({
    'node-id': '1',
    voters: VOTERS,
    config: configFile('file.properties', [`brook.controller.cluster.secret.file=${secretFile}`]),
  });
  assert.equal(fromFile.controllerClusterSecret, Buffer.from(SECRET), 'the trailing newline is dropped');
});

test('a short secret, both forms, or an unreadable file is refused without echoing the secret', () => {
  const short = refusal(() =>
    loadConfig({ config: configFile('short.properties', ['brook.controller.cluster.secret=tooshort']) }),
  );
  assert.match(short, 'at least 16 bytes');
  assert.not.match(short, 'tooshort');
  const both = refusal(() =>
    loadConfig({
      config: configFile('both.properties', [
        `brook.controller.cluster.secret=${SECRET}`,
        `brook.controller.cluster.secret.file=${path.join(dir, 'secret')}`,
      ]),
    }),
  );
  assert.match(both, 'not both');
  assert.not.match(both, SECRET);
  const missing = refusal(() =>
    loadConfig({
      config: configFile('missing.properties', [`brook.controller.cluster.secret.file=${path.join(dir, 'absent')}`]),
    }),
  );
  assert.match(missing, 'ENOENT');
});

test.run();
