// `brook groups ...` against a real broker: list, describe with lag, reset-offsets (dry run
// and --execute, refused while members are live), delete; exit codes and messages.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { BROOK, runBrook } from '../helpers/brook-cli';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
let broker: BrokerProcess;
let kafka: Kafka;

/** `brook` with `--bootstrap` at the test broker added to every groups verb. */
const brook = (args: string[]) =>
  runBrook([
    ...args,
    ...(args[0] === 'groups' && args[1] !== '--help' ? ['--bootstrap', `127.0.0.1:${broker.port}`] : []),
  ]);

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' },
  });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'cli', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
  await admin.setOffsets({
    groupId: 'billing',
    topic: 'orders',
    partitions: [
      { partition: 0, offset: '1' },
      { partition: 1, offset: '0' },
    ],
  });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'orders',
    messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `o${i}` })),
  });
  await producer.disconnect();
});

test.after(async () => {
  await broker.stop();
});

test('list and describe with lag', async () => {
  const list = await brook(['groups', 'list']);
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, /billing\s+Empty/);
  const describe = await brook(['groups', 'describe', 'billing', '--json']);
  const d = JSON.parse(describe.stdout);
  assert.equal(
    d.partitions.map((p: { partition: number; committed: number; end: number; lag: number }) => [
      p.partition,
      p.committed,
      p.end,
      p.lag,
    ]),
    [
      [0, 1, 3, 2],
      [1, 0, 2, 2],
    ],
  );
  assert.is(d.totalLag, 4);
  const missing = await brook(['groups', 'describe', 'nobody']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /group nobody does not exist/);
});

test('reset-offsets: dry run, execute, refused for a live group', async () => {
  const dry = await brook(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-latest']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run/);
  const unchanged = JSON.parse((await brook(['groups', 'describe', 'billing', '--json'])).stdout);
  assert.is(unchanged.totalLag, 4, 'dry run changed nothing');
  const done = await brook([
    'groups',
    'reset-offsets',
    'billing',
    '--topic',
    'orders',
    '--to-offset',
    '2',
    '--partitions',
    '0',
    '--execute',
  ]);
  assert.is(done.code, 0, done.stderr);
  const after = JSON.parse((await brook(['groups', 'describe', 'billing', '--json'])).stdout);
  assert.is(after.partitions[0].committed, 2);

  const consumer = kafka.consumer({ groupId: 'busy', sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({ eachMessage: async () => undefined });
  for (let i = 0; i < 200 && !joined; i++) await new Promise((r) => setTimeout(r, 50));
  const refused = await brook(['groups', 'reset-offsets', 'busy', '--topic', 'orders', '--to-earliest', '--execute']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /live member/);
  await consumer.disconnect();
});

test('usage errors exit 2; delete removes an empty group', async () => {
  for (const args of [
    ['groups', 'reset-offsets', 'billing', '--topic', 'orders'],
    ['groups', 'describe'],
    ['groups', 'explode', 'x'],
    ['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-offset', 'minus'],
  ]) {
    const result = await brook(args);
    assert.is(result.code, 2, args.join(' '));
    assert.is(result.stderr.trim().split('\n').length, 1);
  }
  const deleted = await brook(['groups', 'delete', 'billing']);
  assert.is(deleted.code, 0, deleted.stderr);
  assert.not.match((await brook(['groups', 'list'])).stdout, /billing/);
  const unreachable = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BROOK, 'groups', 'list', '--bootstrap', '127.0.0.1:1']);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.is(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach a broker at 127\.0\.0\.1:1/);
});

test.run();
