// `brook cluster status` against a real single-node broker: the one-voter quorum has a
// leader and a commit index that grows with metadata changes; the controller port answers
// RaftDescribeQuorum and drops what it does not know.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
let broker: BrokerProcess;

const status = () => {
  const result = spawnSync(
    process.execPath,
    [
      BROOK,
      'cluster',
      'status',
      '--bootstrap',
      `127.0.0.1:${broker.port}`,
      '--controller',
      `127.0.0.1:${broker.controllerPort}`,
      '--json',
    ],
    { timeout: 15000 },
  );
  assert.is(result.status, 0, result.stderr.toString());
  return JSON.parse(result.stdout.toString());
};

test.before(async () => {
  broker = await startBroker();
});

test.after(async () => {
  await broker.stop();
});

test('the one-voter quorum leads, and metadata changes advance its commit index', async () => {
  const before = status();
  assert.is(before.quorum.leaderId, 1);
  assert.ok(before.quorum.term >= 1);
  assert.equal(
    before.brokers.map((b: { nodeId: number }) => b.nodeId),
    [1],
  );
  await kcat(broker.port, ['-P', '-t', 'advance'], 'x\n');
  const after = status();
  assert.ok(after.quorum.commitIndex > before.quorum.commitIndex, 'topic creation committed a new entry');
  assert.equal(after.quorum.voters, [{ nodeId: 1, matchIndex: after.quorum.commitIndex, lag: 0 }]);
});

test('the controller port drops unknown APIs and garbage, and keeps serving', async () => {
  const kafkaApiVersions = Buffer.from('0000000a00120000000000010000', 'hex').subarray(0, 14);
  assert.ok(
    (await rawRequest(broker.controllerPort, kafkaApiVersions)).closed,
    'a Kafka API on the controller port closes',
  );
  assert.ok((await rawRequest(broker.controllerPort, Buffer.from('0000000bffffffffffffffffffffff', 'hex'))).closed);
  assert.is(status().quorum.leaderId, 1);
  const unreachable = spawnSync(
    process.execPath,
    [BROOK, 'cluster', 'status', '--bootstrap', `127.0.0.1:${broker.port}`, '--controller', '127.0.0.1:1'],
    { timeout: 15000 },
  );
  assert.is(unreachable.status, 1);
  assert.match(unreachable.stderr.toString(), /cannot reach the controller port/);
});

test.run();
