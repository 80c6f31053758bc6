// Consumer groups with real clients: kafkajs consumers split a 6-partition topic, a third
// member gets partitions on rebalance, a killed member's partitions move after its session
// timeout, a new member resumes exactly after the committed offsets, kcat -G consumes in a
// group, and committed offsets survive a broker restart.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Consumer, Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

let broker: BrokerProcess;
let kafka: Kafka;
const children = new Set<ChildProcess>();

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '10' },
  });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'groups-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'shared', numPartitions: 6 },
      { topic: 'restart', numPartitions: 2 },
      { topic: 'kcatgroup', numPartitions: 2 },
    ],
  });
  await admin.disconnect();
});

test.after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await broker.stop();
});

async function produce(topic: string, count: number, prefix: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: `${prefix}-${i}` })),
  });
  await producer.disconnect();
}

interface Tracked {
  consumer: Consumer;
  assigned: number[];
  seen: string[];
}

async function member(groupId: string, topic: string, seenAll: string[]): Promise<Tracked> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000 });
  const tracked: Tracked = { consumer, assigned: [], seen: [] };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    tracked.assigned = (event.payload.memberAssignment[topic] ?? []).slice().sort();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      tracked.seen.push(message.value!.toString());
      seenAll.push(message.value!.toString());
    },
  });
  return tracked;
}

test('members split partitions, rebalance on join and on a crash, and resume after commits', async () => {
  await produce('shared', 60, 'a');
  const seen: string[] = [];
  const one = await member('split', 'shared', seen);
  const two = await member('split', 'shared', seen);
  await until(() => one.assigned.length === 3 && two.assigned.length === 3, {
    what: 'two members with 3 partitions each',
  });
  assert.equal([...one.assigned, ...two.assigned].sort(), [0, 1, 2, 3, 4, 5], 'every partition owned exactly once');
  await until(() => seen.length >= 60, { what: 'all 60 records' });
  assert.is(new Set(seen).size, seen.length, 'no record consumed twice');

  // A third member, in its own process so it can crash later.
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'helpers', 'consumer-child.js'), String(broker.port), 'split', 'shared', '6000'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  let childAssigned: number[] = [];
  const childSeen: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line);
      if (event.assigned) childAssigned = event.assigned;
      else childSeen.push(event.value);
    }
  });
  await until(() => childAssigned.length === 2 && one.assigned.length === 2 && two.assigned.length === 2, {
    what: 'the third member to get partitions',
  });
  assert.equal([...one.assigned, ...two.assigned, ...childAssigned].sort(), [0, 1, 2, 3, 4, 5]);

  // Crash it: its partitions move back after the session timeout.
  child.kill('SIGKILL');
  children.delete(child);
  const killedAt = Date.now();
  await until(() => one.assigned.length === 3 && two.assigned.length === 3, {
    what: 'partitions to move after the session timeout',
    timeoutMs: 30000,
  });
  assert.ok(Date.now() - killedAt >= 4000, 'not before the session timeout');
  await produce('shared', 30, 'b');
  await until(() => seen.filter((v) => v.startsWith('b-')).length >= 30, { what: 'the new records' });

  // Everyone stops (committing); a new member resumes exactly after the commits.
  await one.consumer.disconnect();
  await two.consumer.disconnect();
  await produce('shared', 12, 'c');
  const resumed: string[] = [];
  const fresh = await member('split', 'shared', resumed);
  await until(() => resumed.length >= 12, { what: 'the records produced while no one consumed' });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(
    resumed.slice().sort(),
    Array.from({ length: 12 }, (_, i) => `c-${i}`).sort(),
    'only what came after the commits',
  );
  await fresh.consumer.disconnect();

  const admin = kafka.admin();
  await admin.connect();
  const described = await admin.describeGroups(['split']);
  assert.is(described.groups[0].state, 'Empty');
  const offsets = await admin.fetchOffsets({ groupId: 'split', topics: ['shared'] });
  const total = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  assert.is(total, 60 + 30 + 12, 'committed offsets cover everything consumed');
  await admin.disconnect();
});

test('kcat -G consumes in a group and commits', async () => {
  await produce('kcatgroup', 10, 'k');
  const result = await kcat(
    broker.port,
    ['-G', 'kcat-group', '-o', 'beginning', '-e', '-q', '-f', '%s\n', '-X', 'session.timeout.ms=6000', 'kcatgroup'],
    undefined,
    40000,
  );
  assert.equal(
    result.stdout.trim().split('\n').sort(),
    Array.from({ length: 10 }, (_, i) => `k-${i}`).sort(),
    result.stderr,
  );
  const admin = kafka.admin();
  await admin.connect();
  const groups = await admin.listGroups();
  assert.ok(groups.groups.some((g) => g.groupId === 'kcat-group'));
  await admin.disconnect();
});

test('committed offsets survive a broker restart', async () => {
  await produce('restart', 8, 'r');
  const seen: string[] = [];
  const first = await member('durable-group', 'restart', seen);
  await until(() => seen.length >= 8, { what: '8 records' });
  await first.consumer.disconnect();

  await broker.stop();
  broker = await startBroker({
    dataDir: broker.dataDir,
    port: broker.port,
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '10' },
  });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'groups-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: 'durable-group', topics: ['restart'] });
  assert.is(
    offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0),
    8,
  );
  await admin.disconnect();
  await produce('restart', 3, 's');
  const after: string[] = [];
  const second = await member('durable-group', 'restart', after);
  await until(() => after.length >= 3, { what: '3 new records' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(after.sort(), ['s-0', 's-1', 's-2']);
  await second.consumer.disconnect();
});

test.run();
