// The bundled consumer: the range and round-robin assignors as pure functions; against a
// real Brook process, standalone assignment from earliest with seek and pause, reading
// what kcat wrote, and two members of one group sharing a topic's partitions, committing
// on close, and a later member resuming from the committed offsets.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeAssignmentBytes, encodeAssignmentBytes } from '../../protocol/consumer-protocol';
import { assignPartitions, Consumer, ConsumerRecord } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

async function take(consumer: Consumer, count: number, timeoutMs = 15000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} records within ${timeoutMs} ms`);
    const record = await Promise.race([
      consumer.next(),
      new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now())),
    ]);
    if (record) out.push(record);
  }
  return out;
}

test('assignors: range gives runs per topic, round-robin deals partitions in turn', () => {
  const members = [
    { memberId: 'b', topics: ['t', 'u'] },
    { memberId: 'a', topics: ['t', 'u'] },
  ];
  const sizes: Record<string, number> = { t: 3, u: 2 };
  const range = assignPartitions('range', members, (t) => sizes[t]);
  assert.equal(Object.fromEntries(range.get('a')!), { t: [0, 1], u: [0] });
  assert.equal(Object.fromEntries(range.get('b')!), { t: [2], u: [1] });
  const rr = assignPartitions('roundrobin', members, (t) => sizes[t]);
  assert.equal(Object.fromEntries(rr.get('a')!), { t: [0, 2], u: [1] });
  assert.equal(Object.fromEntries(rr.get('b')!), { t: [1], u: [0] });
  const bytes = encodeAssignmentBytes(range.get('a')!);
  assert.equal(Object.fromEntries(decodeAssignmentBytes(bytes)), { t: [0, 1], u: [0] });
});

let broker: BrokerProcess;

test('standalone: every record once in offset order per partition; seek and pause; what kcat wrote', async () => {
  broker = await startBroker({ config: { 'num.partitions': '3', 'group.initial.rebalance.delay.ms': '0' } });
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const producer = new Producer({ bootstrap, lingerMs: 2 });
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => producer.send({ topic: 'c1', key: `k${i}`, value: `v${i}` })),
  );
  await producer.close();
  const consumer = new Consumer({ bootstrap, autoOffsetReset: 'earliest' });
  consumer.assign([0, 1, 2].map((partition) => ({ topic: 'c1', partition })));
  const records = await take(consumer, 300);
  assert.is(new Set(records.map((r) => r.value!.toString())).size, 300);
  for (const partition of [0, 1, 2]) {
    const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
    assert.equal(
      offsets,
      offsets.map((_, i) => i),
      `partition ${partition} in order from 0`,
    );
  }
  consumer.seek('c1', 0, 5);
  consumer.pause([
    { topic: 'c1', partition: 1 },
    { topic: 'c1', partition: 2 },
  ]);
  const again = await take(consumer, 3);
  assert.equal(
    again.map((r) => [r.partition, r.offset]),
    [
      [0, 5],
      [0, 6],
      [0, 7],
    ],
  );
  await consumer.close();

  const lines = Array.from({ length: 20 }, (_, i) => `line-${i}`).join('\n') + '\n';
  const wrote = await kcat(broker.port, ['-P', '-t', 'fromkcat', '-p', '0'], lines);
  assert.is(wrote.code, 0, wrote.stderr);
  const reader = new Consumer({ bootstrap });
  reader.assign([{ topic: 'fromkcat', partition: 0, offset: 'earliest' }]);
  const fromKcat = await take(reader, 20);
  assert.equal(
    fromKcat.map((r) => r.value!.toString()),
    Array.from({ length: 20 }, (_, i) => `line-${i}`),
  );
  await reader.close();
});

test('next() calls made while one waits are answered in call order, one record each', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const consumer = new Consumer({ bootstrap, maxWaitMs: 100 });
  consumer.assign([{ topic: 'waited', partition: 0, offset: 'earliest' }]);
  // Ten calls on an empty partition, before anything is produced.
  const calls = Array.from({ length: 10 }, () => consumer.next());
  await new Promise((r) => setTimeout(r, 300));
  const producer = new Producer({ bootstrap, lingerMs: 0 });
  for (let i = 0; i < 12; i++) await producer.send({ topic: 'waited', partition: 0, value: `w${i}` });
  await producer.close();
  const answered = await Promise.race([Promise.all(calls), new Promise<null>((r) => setTimeout(() => r(null), 15000))]);
  assert.ok(answered, 'every waiting call was answered');
  assert.equal(
    answered!.map((r) => r!.offset),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  // The records after them are still there for the next caller.
  const rest = await take(consumer, 2);
  assert.equal(
    rest.map((r) => r.value!.toString()),
    ['w10', 'w11'],
  );
  await consumer.close();
});

test('a group shares the partitions, commits on close, and a new member resumes there', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const producer = new Producer({ bootstrap, lingerMs: 2 });
  // The topic gets 3 partitions (num.partitions) when the producer creates it.
  await producer.send({ topic: 'grouped', partition: 0, value: 'g0' });
  await Promise.all(
    Array.from({ length: 199 }, (_, i) =>
      producer.send({ topic: 'grouped', partition: (i + 1) % 3, value: `g${i + 1}` }),
    ),
  );
  const a = new Consumer({
    bootstrap,
    groupId: 'shared',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 500,
    sessionTimeoutMs: 10000,
  });
  const b = new Consumer({
    bootstrap,
    groupId: 'shared',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 500,
    sessionTimeoutMs: 10000,
  });
  await Promise.all([a.subscribe(['grouped']), b.subscribe(['grouped'])]);
  // The first join may complete before the second member arrives: read until both have a share.
  // A next() still waiting when the poll gives up is kept for the next poll, not called
  // again: a second call would count the first one's record as processed unseen.
  const waiting = new Map<Consumer, Promise<ConsumerRecord | null>>();
  const poll = async (consumer: Consumer): Promise<ConsumerRecord | null> => {
    if (!waiting.has(consumer)) waiting.set(consumer, consumer.next());
    const record = await Promise.race([
      waiting.get(consumer)!,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 300)),
    ]);
    if (record === undefined) return null;
    waiting.delete(consumer);
    return record;
  };
  const seen: ConsumerRecord[] = [];
  const deadline = Date.now() + 30000;
  try {
    while (new Set(seen.map((r) => r.value!.toString())).size < 200 && Date.now() < deadline) {
      const [x, y] = await Promise.all([poll(a), poll(b)]);
      if (x) seen.push(x);
      if (y) seen.push(y);
    }
  } catch (error) {
    await Promise.all([a.close(), b.close()]);
    throw error;
  }
  const parts = [a.assignment(), b.assignment()].map((list) => list.map((p) => p.partition).sort());
  const closed = Promise.all([a.close(), b.close()]);
  const all = [...parts[0], ...parts[1]].sort();
  assert.equal(all, [0, 1, 2], `each partition to one member: ${JSON.stringify(parts)}`);
  assert.ok(parts[0].length > 0 && parts[1].length > 0, 'both members have partitions');
  assert.is(new Set(seen.map((r) => r.value!.toString())).size, 200, 'every record once across the two members');
  await closed;
  await Promise.all(
    Array.from({ length: 30 }, (_, i) => producer.send({ topic: 'grouped', partition: i % 3, value: `late${i}` })),
  );
  await producer.close();
  const c = new Consumer({ bootstrap, groupId: 'shared', autoOffsetReset: 'earliest' });
  await c.subscribe(['grouped']);
  const later = await take(c, 30);
  assert.equal(
    later.map((r) => r.value!.toString()).sort(),
    Array.from({ length: 30 }, (_, i) => `late${i}`).sort(),
    'only what came after the commits',
  );
  await c.close();
});

test.after(async () => {
  await broker?.stop();
});

test.run();
