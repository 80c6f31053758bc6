// kafkajs 2.2.4 against a real Brook process: admin (create, describe, configs,
// partitions, delete), producers with acks -1 and 1 and an idempotent producer, offsets by
// timestamp, a consumer reading from the beginning and then waiting in Fetch long-poll for
// new records, and a raw Fetch long-poll woken by a produce.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { KafkaConnection } from '../../src/net/kafka-connection';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

async function rejects(promise: Promise<unknown>, pattern?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (pattern) assert.match(String((error as Error).message), pattern);
    return;
  }
  assert.unreachable('expected a rejection');
}

let broker: BrokerProcess;
let kafka: Kafka;

test.before(async () => {
  broker = await startBroker();
  kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'brook-test',
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
});

test.after(async () => {
  await broker.stop();
});

test('admin creates a 3-partition topic and reads its metadata', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.is(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] }), true);
    assert.is(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] }), false, 'exists already');
    const metadata = await admin.fetchTopicMetadata({ topics: ['orders'] });
    assert.is(metadata.topics[0].partitions.length, 3);
    for (const partition of metadata.topics[0].partitions) {
      assert.is(partition.leader, 1);
      assert.equal(partition.isr, [1]);
    }
    assert.ok((await admin.listTopics()).includes('orders'));
    const cluster = await admin.describeCluster();
    assert.is(cluster.controller, 1);
    assert.is(cluster.brokers[0].port, broker.port);
  } finally {
    await admin.disconnect();
  }
});

test('bad admin requests get Kafka errors', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await rejects(admin.createTopics({ topics: [{ topic: 'bad name!', numPartitions: 1 }] }));
    await rejects(admin.createTopics({ topics: [{ topic: 'rf3', numPartitions: 1, replicationFactor: 3 }] }));
    await rejects(
      admin.createTopics({
        topics: [{ topic: 'badcfg', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: 'lots' }] }],
      }),
    );
  } finally {
    await admin.disconnect();
  }
});

test('producers with acks -1 and 1, and an idempotent producer; kcat reads it all back', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'writes', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const all = await producer.send({
    topic: 'writes',
    acks: -1,
    messages: [
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two' },
    ],
  });
  assert.is(all[0].errorCode, 0);
  assert.is(all[0].baseOffset, '0');
  const one = await producer.send({
    topic: 'writes',
    acks: 1,
    messages: [{ key: 'c', value: 'three', headers: { h: 'v' } }],
  });
  assert.is(one[0].baseOffset, '2');
  await producer.disconnect();

  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  for (let i = 0; i < 5; i++)
    await idempotent.send({ topic: 'writes', acks: -1, messages: [{ key: `i${i}`, value: `idem-${i}` }] });
  await idempotent.disconnect();

  const consumed = await kcat(broker.port, ['-C', '-t', 'writes', '-o', 'beginning', '-e', '-q', '-f', '%o %k=%s\n']);
  assert.equal(consumed.stdout.trim().split('\n'), [
    '0 a=one',
    '1 b=two',
    '2 c=three',
    '3 i0=idem-0',
    '4 i1=idem-1',
    '5 i2=idem-2',
    '6 i3=idem-3',
    '7 i4=idem-4',
  ]);
});

test('offsets: earliest, latest, by timestamp; configs; partitions; delete', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: 'lifecycle', numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '1048576' }] }],
    });
    const producer = kafka.producer();
    await producer.connect();
    const start = Date.now();
    await producer.send({
      topic: 'lifecycle',
      messages: [
        { value: 'x', partition: 0 },
        { value: 'y', partition: 0 },
      ],
    });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets('lifecycle');
    const p0 = offsets.find((o) => o.partition === 0)!;
    assert.is(p0.low, '0');
    assert.is(p0.high, '2');
    const byTime = await admin.fetchTopicOffsetsByTimestamp('lifecycle', start - 1000);
    assert.is(byTime.find((o) => o.partition === 0)!.offset, '0');
    const configs = await admin.describeConfigs({
      resources: [{ type: 2, name: 'lifecycle' }],
      includeSynonyms: false,
    });
    const segmentBytes = configs.resources[0].configEntries.find((e) => e.configName === 'segment.bytes')!;
    assert.is(segmentBytes.configValue, '1048576');
    await admin.createPartitions({ topicPartitions: [{ topic: 'lifecycle', count: 4 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: ['lifecycle'] });
    assert.is(metadata.topics[0].partitions.length, 4);
    await admin.deleteTopics({ topics: ['lifecycle'] });
    assert.not.ok((await admin.listTopics()).includes('lifecycle'));
  } finally {
    await admin.disconnect();
  }
});

test('kafkajs consumer reads from the beginning, then long-polls for new records', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'tail', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'tail', acks: -1, messages: [{ value: 'early-1' }, { value: 'early-2' }] });
  const consumer = kafka.consumer({ groupId: 'tail-readers', maxWaitTimeInMs: 5000 });
  const seen: { value: string; at: number }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: 'tail', fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void seen.push({ value: message.value!.toString(), at: Date.now() }),
  });
  for (let i = 0; i < 300 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    seen.map((s) => s.value),
    ['early-1', 'early-2'],
  );
  // The consumer is now parked in a 5 s long-poll; a produce must wake it well before that.
  await new Promise((r) => setTimeout(r, 500));
  const sentAt = Date.now();
  await producer.send({ topic: 'tail', acks: 1, messages: [{ value: 'late' }] });
  for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  assert.is(seen[2]?.value, 'late');
  assert.ok(seen[2].at - sentAt < 2500, `delivered by the woken long-poll (${seen[2].at - sentAt} ms)`);
  await consumer.disconnect();
  await producer.disconnect();
});

test('Fetch long-poll parks on an empty partition and is woken by a produce', async () => {
  await kcat(broker.port, ['-P', '-t', 'longpoll'], 'seed\n');
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
  try {
    const started = Date.now();
    const fetching = connection.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 5000,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 0,
      topics: [
        {
          topic: 'longpoll',
          partitions: [
            { partition: 0, fetchOffset: 1, partitionMaxBytes: 1048576, currentLeaderEpoch: -1, logStartOffset: -1 },
          ],
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 400));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'longpoll', messages: [{ value: 'wake' }] });
    await producer.disconnect();
    const response = await fetching;
    const elapsed = Date.now() - started;
    const partition = response.responses[0].partitions[0];
    assert.is(partition.errorCode, 0);
    assert.ok(partition.records !== null && partition.records.length > 0, 'records arrived');
    assert.ok(elapsed >= 350, `returned only after the produce (${elapsed} ms)`);
    assert.ok(elapsed < 4500, `woken by the append, not the 5 s timeout (${elapsed} ms)`);

    const idle = Date.now();
    const empty = await connection.request(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 300,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 0,
      topics: [
        {
          topic: 'longpoll',
          partitions: [
            { partition: 0, fetchOffset: 2, partitionMaxBytes: 1048576, currentLeaderEpoch: -1, logStartOffset: -1 },
          ],
        },
      ],
    });
    assert.ok(Date.now() - idle >= 250, 'waited max_wait_ms when no data came');
    assert.is(empty.responses[0].partitions[0].highWatermark, 2);
  } finally {
    connection.close();
  }
});

test.run();
