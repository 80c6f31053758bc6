// `brook configs describe|alter` against a real broker: describe a broker (non-default keys,
// --all, sensitive values hidden, --json), alter the cluster-wide default and one broker with
// --add/--delete, refusal of a key Kafka cannot change at runtime (exit 1 with Kafka's
// message), and usage errors (exit 2).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { runBrookInProcess } from '../helpers/brook-cli';

const SECRET = 'cli-keystore-secret-5c2e';
let broker: BrokerProcess;
let bootstrap: string;

test.before(async () => {
  broker = await startBroker({ config: { 'log.retention.hours': '48', 'ssl.keystore.password': SECRET } });
  bootstrap = `127.0.0.1:${broker.port}`;
});

test.after(async () => {
  await broker?.stop();
});

const brook = (...args: string[]) => runBrookInProcess(['configs', ...args, '--bootstrap', bootstrap]);

test('describe a broker: non-default keys, --all, sensitive hidden, --json', async () => {
  const plain = await brook('describe', '--broker', '1');
  assert.is(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /log\.retention\.hours\s+48\s+static-broker\s+yes/);
  assert.match(plain.stdout, /ssl\.keystore\.password\s+\(sensitive\)\s+static-broker/);
  assert.not.ok(plain.stdout.includes(SECRET));
  assert.not.match(plain.stdout, /fetch\.max\.bytes/);
  const all = await brook('describe', '--broker', '1', '--all');
  assert.match(all.stdout, /fetch\.max\.bytes\s+57671680\s+default\s+no/);
  const json = JSON.parse((await brook('describe', '--broker', '1', '--json')).stdout);
  const password = json.configs.find((c: { name: string }) => c.name === 'ssl.keystore.password');
  assert.equal([password.value, password.sensitive], [null, true]);
});

test('alter the cluster default and one broker; describe shows them', async () => {
  const set = await brook('alter', '--broker-defaults', '--add', 'log.cleanup.policy=compact,delete');
  assert.is(set.code, 0, set.stderr);
  assert.match(set.stdout, /altered the cluster-wide broker default: log.cleanup.policy set/);
  const own = await brook(
    'alter',
    '--broker',
    '1',
    '--add',
    'log.retention.ms=600000',
    '--add',
    'message.max.bytes=2000000',
  );
  assert.is(own.code, 0, own.stderr);
  const defaults = await brook('describe', '--broker-defaults');
  assert.match(defaults.stdout, /log\.cleanup\.policy\s+compact,delete\s+dynamic-default-broker/);
  const described = await brook('describe', '--broker', '1');
  assert.match(described.stdout, /log\.retention\.ms\s+600000\s+dynamic-broker/);
  assert.match(described.stdout, /message\.max\.bytes\s+2000000\s+dynamic-broker/);
  assert.match(described.stdout, /log\.cleanup\.policy\s+compact,delete\s+dynamic-default-broker/);
  const removed = await brook('alter', '--broker', '1', '--delete', 'log.retention.ms');
  assert.is(removed.code, 0, removed.stderr);
  assert.not.match((await brook('describe', '--broker', '1')).stdout, /log\.retention\.ms\s+600000/);
});

test("a key Kafka cannot change at runtime: exit 1 with Kafka's message; usage errors exit 2", async () => {
  const fixed = await brook('alter', '--broker', '1', '--add', 'num.partitions=4');
  assert.is(fixed.code, 1);
  assert.match(fixed.stderr, /INVALID_REQUEST \(42\): Cannot update these configs dynamically: Set\(num\.partitions\)/);
  assert.is((await brook('alter', '--broker', '1')).code, 2, 'nothing to change');
  assert.is((await brook('describe')).code, 2, 'no resource');
  assert.is((await brook('describe', '--broker', '1', '--broker-defaults')).code, 2, 'both');
  assert.is((await brook('describe', '--broker', 'x')).code, 2, 'not an id');
  assert.is((await brook('alter', '--broker', '1', '--add', 'novalue')).code, 2, 'not k=v');
});

test.run();
