// Cooperative-sticky rebalancing against a real Brook process: two bundled consumers share
// a six-partition topic while a producer keeps writing; a third joins. The partitions that
// stay with their member get no revoke callback and are read without a gap or a repeat
// across the rebalance; the moved ones go to the newcomer one rebalance later; every
// record is read at least once. A librdkafka (kcat) member with the same protocol name can
// join such a group too.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { Consumer, ConsumerRecord } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';

const PARTITIONS = 6;
const TOPIC = 'coop';

interface Member {
  name: string;
  consumer: Consumer;
  records: ConsumerRecord[];
  revoked: { topic: string; partition: number }[][];
  assigned: { topic: string; partition: number }[][];
  lost: { topic: string; partition: number }[][];
  loop: Promise<void>;
}

let broker: BrokerProcess;
let closing = false;

function startMember(name: string, bootstrap: string[]): Member {
  const member = { name, records: [], revoked: [], assigned: [], lost: [] } as unknown as Member;
  member.consumer = new Consumer({
    bootstrap,
    groupId: 'coop-group',
    assignor: 'cooperative-sticky',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 200,
    sessionTimeoutMs: 10000,
    autoCommitIntervalMs: 300,
    onPartitionsRevoked: (partitions) => {
      if (!closing) member.revoked.push(partitions);
    },
    onPartitionsAssigned: (partitions) => {
      member.assigned.push(partitions);
    },
    onPartitionsLost: (partitions) => {
      member.lost.push(partitions);
    },
  });
  member.loop = (async () => {
    await member.consumer.subscribe([TOPIC]);
    for (;;) {
      const record = await member.consumer.next();
      if (record === null) return;
      member.records.push(record);
    }
  })();
  return member;
}

const held = (m: Member) =>
  m.consumer
    .assignment()
    .map((p) => p.partition)
    .sort((a, b) => a - b);

test('a third member joins a cooperative group: kept partitions read without a gap, nothing lost', async () => {
  broker = await startBroker({
    config: { 'num.partitions': String(PARTITIONS), 'group.initial.rebalance.delay.ms': '0' },
  });
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const producer = new Producer({ bootstrap, lingerMs: 2 });
  let produced = 0;
  const sent: Promise<unknown>[] = [];
  const produceSome = (count: number) => {
    for (let i = 0; i < count; i++, produced++)
      sent.push(producer.send({ topic: TOPIC, partition: produced % PARTITIONS, value: `r${produced}` }));
  };
  produceSome(PARTITIONS);
  await Promise.all(sent);

  const a = startMember('a', bootstrap);
  const b = startMember('b', bootstrap);
  const members = [a, b];
  let writing = true;
  let before = new Map<string, number[]>();
  let revokesBefore = new Map<string, number>();
  let total = 0;
  try {
    // Writing goes on through the rebalances.
    const writer = (async () => {
      while (writing) {
        produceSome(PARTITIONS * 2);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await until(
      () => held(a).length === 3 && held(b).length === 3 && !a.consumer.rebalancing && !b.consumer.rebalancing,
      { what: 'a and b to split the topic 3/3' },
    );
    before = new Map(members.map((m) => [m.name, held(m)]));
    revokesBefore = new Map(members.map((m) => [m.name, m.revoked.length]));

    members.push(startMember('c', bootstrap));
    await until(() => members.every((m) => held(m).length === 2 && !m.consumer.rebalancing), {
      what: 'a 2/2/2 split with c',
      timeoutMs: 45000,
    });
    writing = false;
    await writer;
    await Promise.all(sent);
    await producer.close();
    total = produced;
    await until(() => new Set(members.flatMap((m) => m.records.map((r) => r.value!.toString()))).size === total, {
      what: `all ${total} records read`,
    });
  } finally {
    writing = false;
    closing = true;
    await Promise.all(members.map((m) => m.consumer.close()));
    await Promise.all(members.map((m) => m.loop.catch(() => undefined)));
    await producer.close().catch(() => undefined);
  }

  const c = members[2];
  const after = new Map(members.map((m) => [m.name, held(m)]));
  assert.equal(
    [...after.values()].flat().sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5],
    `each partition to one member: ${JSON.stringify([...after])}`,
  );
  const history = (m: Member) =>
    JSON.stringify({
      assigned: m.assigned.map((list) => list.map((p) => p.partition)),
      revoked: m.revoked.map((list) => list.map((p) => p.partition)),
      lost: m.lost.map((list) => list.map((p) => p.partition)),
    });
  for (const m of members) assert.equal(m.lost, [], `${m.name} never lost its membership: ${history(m)}`);
  for (const m of [a, b]) {
    const kept = before.get(m.name)!.filter((p) => after.get(m.name)!.includes(p));
    const lost = before.get(m.name)!.filter((p) => !after.get(m.name)!.includes(p));
    assert.is(
      kept.length,
      2,
      `${m.name} keeps two of its partitions: before ${before.get(m.name)}, after ${after.get(m.name)}, ${history(m)}`,
    );
    assert.is(lost.length, 1, `${m.name} gives one up`);
    // Only the moved partition was revoked, in the rebalance c caused.
    const revokedSince = m.revoked
      .slice(revokesBefore.get(m.name)!)
      .flat()
      .map((p) => p.partition);
    assert.equal(revokedSince, lost, `${m.name} revoked only ${lost}`);
    // A kept partition was read straight through: consecutive offsets, no gap, no repeat.
    for (const partition of kept) {
      const offsets = m.records.filter((r) => r.partition === partition).map((r) => r.offset);
      assert.ok(offsets.length > 0);
      for (let i = 1; i < offsets.length; i++)
        assert.is(
          offsets[i],
          offsets[i - 1] + 1,
          `${m.name} partition ${partition}: offset ${offsets[i]} after ${offsets[i - 1]}`,
        );
    }
  }
  // c got exactly the two partitions a and b gave up, in one go (after they revoked them).
  const moved = [...before.values()]
    .flat()
    .filter((p) => !after.get('a')!.includes(p) && !after.get('b')!.includes(p))
    .sort();
  assert.equal(after.get('c'), moved);
  assert.equal(
    c.assigned
      .flat()
      .map((p) => p.partition)
      .sort(),
    moved,
  );
  assert.equal(c.revoked, []);
  const seen = new Set(members.flatMap((m) => m.records.map((r) => r.value!.toString())));
  for (let i = 0; i < total; i++) assert.ok(seen.has(`r${i}`), `record r${i} was read`);
});

test('a librdkafka (kcat) member joins the cooperative group: one incremental move each way, nothing lost', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const topic = 'coop-kcat';
  const producer = new Producer({ bootstrap, lingerMs: 2 });
  const write = (tag: string) =>
    Promise.all(
      Array.from({ length: PARTITIONS * 3 }, (_, i) =>
        producer.send({ topic, partition: i % PARTITIONS, value: `${tag}${i}` }),
      ),
    );
  await producer.send({ topic, partition: 0, value: 'first' });
  await write('early');
  const bundled = new Consumer({
    bootstrap,
    groupId: 'coop-kcat-group',
    assignor: 'cooperative-sticky',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 200,
    sessionTimeoutMs: 10000,
  });
  const read: ConsumerRecord[] = [];
  await bundled.subscribe([topic]);
  const loop = (async () => {
    for (;;) {
      const record = await bundled.next();
      if (record === null) return;
      read.push(record);
    }
  })();
  await until(() => read.length === PARTITIONS * 3 + 1, { what: 'the bundled member to read the early records' });
  const child = spawn(
    'kcat',
    [
      '-u',
      '-b',
      bootstrap[0],
      '-G',
      'coop-kcat-group',
      '-X',
      'partition.assignment.strategy=cooperative-sticky',
      '-X',
      'auto.offset.reset=earliest',
      '-f',
      '%p %s\\n',
      topic,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let kcatOut = '';
  let kcatErr = '';
  child.stdout.on('data', (chunk) => (kcatOut += chunk));
  child.stderr.on('data', (chunk) => (kcatErr += chunk));
  try {
    await until(
      () =>
        /incremental assignment of 3 partition/.test(kcatErr) &&
        held({ consumer: bundled } as Member).length === 3 &&
        !bundled.rebalancing,
      { what: 'kcat to be given three partitions incrementally' },
    );
    const kcatPartitions = Array.from({ length: PARTITIONS }, (_, p) => p).filter(
      (p) => !bundled.assignment().some((a) => a.partition === p),
    );
    await write('late');
    const kcatLines = () => kcatOut.split('\n').filter((line) => line.length > 0);
    await until(
      () => kcatLines().length === 9 && read.filter((r) => r.value!.toString().startsWith('late')).length === 9,
      { what: 'each side to read the late records of its partitions' },
    );
    // kcat started at the offsets the bundled member committed when it gave the partitions up.
    assert.equal(
      kcatLines()
        .map((line) => Number(line.split(' ')[0]))
        .sort((x, y) => x - y)
        .filter((p, i, all) => all.indexOf(p) === i),
      kcatPartitions,
    );
    assert.ok(
      kcatLines().every((line) => line.split(' ')[1].startsWith('late')),
      `kcat read only the late records: ${kcatLines()}`,
    );
    child.kill('SIGTERM');
    await until(() => held({ consumer: bundled } as Member).length === PARTITIONS && !bundled.rebalancing, {
      what: 'the bundled member to get every partition back once kcat left',
    });
  } finally {
    child.kill('SIGKILL');
    await bundled.close();
    await loop;
    await producer.close();
  }
});

test.after(async () => {
  await broker?.stop();
});

test.run();
