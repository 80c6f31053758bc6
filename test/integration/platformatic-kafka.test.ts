// @platformatic/kafka 1.x against a real Brook process: admin (create, grow, list,
// configure and delete topics; list and describe groups; group offsets), an idempotent
// producer with keys, headers and each codec it has on Node 20 (gzip, snappy, lz4: its zstd
// needs Node 22's zlib) whose stored batches are checked for their codec and producer id, a
// classic consumer group that reads everything back and commits, and a second member that
// resumes at those commits. Its consumer fetches by topic id (Fetch 12+, so 13 against
// Brook). Two idempotent producers in turn both get their records stored. A KIP-848
// consumer is refused, since Brook does not serve that protocol yet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Admin,
  ConfigResourceTypes,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  Message,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { CODECS, storedBatches } from '../helpers/stored-batches';
import { until } from '../helpers/wait';

let broker: BrokerProcess;
let bootstrap: string[];

test.before(async () => {
  broker = await startBroker({
    config: {
      'auto.create.topics.enable': 'false',
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '3',
    },
  });
  bootstrap = [`127.0.0.1:${broker.port}`];
});

test.after(async () => {
  await broker.stop();
});

const clientOptions = () => ({ clientId: 'brook-test', bootstrapBrokers: bootstrap, retries: 3, retryDelay: 200 });

test('admin creates, grows, lists, configures and deletes topics', async () => {
  const admin = new Admin(clientOptions());
  try {
    const created = await admin.createTopics({ topics: ['plt-admin-a', 'plt-admin-b'], partitions: 2, replicas: 1 });
    assert.equal(created.map((topic) => [topic.name, topic.partitions]).sort(), [
      ['plt-admin-a', 2],
      ['plt-admin-b', 2],
    ]);
    for (const topic of created) assert.match(topic.id, /^[0-9a-f-]{36}$/, `${topic.name} has a topic id`);
    const listed = await admin.listTopics();
    assert.ok(listed.includes('plt-admin-a') && listed.includes('plt-admin-b'), `listed: ${listed}`);

    await admin.createPartitions({ topics: [{ name: 'plt-admin-b', count: 3 }] });
    const grown = await until(
      async () => {
        const metadata = await admin.metadata({ topics: ['plt-admin-b'], forceUpdate: true });
        return metadata.topics.get('plt-admin-b')!.partitionsCount === 3 && metadata;
      },
      { what: 'plt-admin-b to have 3 partitions', timeoutMs: 10000 },
    );
    assert.equal([...grown.brokers.keys()], [1]);
    assert.is(grown.controllerId, 1);

    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'plt-admin-b',
          configs: [
            { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '3600000' },
          ],
        },
      ],
    });
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-admin-b' }],
    });
    assert.is(described.configs.find((config) => config.name === 'retention.ms')?.value, '3600000');

    await admin.deleteTopics({ topics: ['plt-admin-a'] });
    await until(async () => !(await admin.listTopics()).includes('plt-admin-a'), {
      what: 'plt-admin-a to leave the topic list',
      timeoutMs: 10000,
    });
    assert.ok((await admin.listTopics()).includes('plt-admin-b'), 'the other topic stays');
  } finally {
    await admin.close();
  }
});

const COUNT = 60;
const TOPIC = 'plt-orders';
const PARTITIONS = 3;
/** Codecs @platformatic/kafka 1.x compresses with on Node 20. */
const PRODUCED_CODECS = ['gzip', 'snappy', 'lz4'] as const;

test('an idempotent producer writes keyed records with headers in each codec, stored compressed', async () => {
  const admin = new Admin(clientOptions());
  try {
    await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: 1 });
  } finally {
    await admin.close();
  }
  const producer = new Producer({
    ...clientOptions(),
    idempotent: true,
    acks: ProduceAcks.ALL,
    serializers: stringSerializers,
  });
  try {
    for (const codec of PRODUCED_CODECS) {
      const messages = Array.from({ length: COUNT / PRODUCED_CODECS.length }, (_, i) => ({
        topic: TOPIC,
        key: `${codec}-${i}`,
        value: `${codec} value ${i} ${'x'.repeat(200)}`,
        headers: { codec, n: String(i) },
      }));
      const result = await producer.send({ messages, compression: codec });
      assert.ok(result.offsets && result.offsets.length > 0, `${codec}: offsets returned`);
    }
  } finally {
    await producer.close();
  }
  const batches = Array.from({ length: PARTITIONS }, (_, p) => storedBatches(broker.dataDir, TOPIC, p)).flat();
  assert.is(
    batches.reduce((sum, batch) => sum + batch.recordCount, 0),
    COUNT,
    'every record is stored once',
  );
  const compressed = new Set(batches.map((batch) => batch.compression));
  assert.equal(
    [...compressed].sort(),
    PRODUCED_CODECS.map((codec) => CODECS[codec]).sort(),
    'each codec is in the stored batches, and only those',
  );
  for (const batch of batches) assert.ok(batch.producerId >= 0, 'every batch carries the idempotent producer id');
});

// The client always names producer id 0 and epoch 0 in InitProducerId. Kafka answers each
// such request with a new id; a broker that answered with the same id at the next epoch
// gave two producers one id and epoch, and stored none of the second one's records (its
// batches looked like duplicates of the first one's and were acknowledged at their offsets).
test('two idempotent producers one after the other both have their records stored', async () => {
  const admin = new Admin(clientOptions());
  try {
    await admin.createTopics({ topics: ['plt-two-producers'], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
  const acked: string[] = [];
  for (const name of ['first', 'second']) {
    const producer = new Producer({ ...clientOptions(), idempotent: true, serializers: stringSerializers });
    try {
      for (let i = 0; i < 3; i++) {
        const result = await producer.send({ messages: [{ topic: 'plt-two-producers', value: `${name}-${i}` }] });
        acked.push(String(result.offsets![0].offset));
      }
    } finally {
      await producer.close();
    }
  }
  assert.equal(acked, ['0', '1', '2', '3', '4', '5'], 'each record acknowledged at an offset of its own');
  const batches = storedBatches(broker.dataDir, 'plt-two-producers');
  assert.is(
    batches.reduce((sum, batch) => sum + batch.recordCount, 0),
    6,
    'all six records stored',
  );
  assert.is(new Set(batches.map((batch) => batch.producerId)).size, 2, 'two producer ids');
});

type StringMessage = Message<string, string, string, string>;

/**
 * Joins GROUP with `mode`, reads until `count` records came, commits after the last one read
 * from each partition (autocommit off), runs `whileJoined`, and leaves.
 */
async function readInGroup(
  mode: 'earliest' | 'committed',
  count: number,
  whileJoined?: () => Promise<void>,
): Promise<StringMessage[]> {
  const consumer = new Consumer({
    ...clientOptions(),
    groupId: GROUP,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  });
  const read: StringMessage[] = [];
  try {
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode,
      autocommit: false,
      sessionTimeout: 10000,
      heartbeatInterval: 500,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${read.length} of ${count} records within 20 s:\n${broker.logs().slice(-3000)}`)),
        20000,
      );
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on('data', (message) => {
        read.push(message);
        if (read.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Commit the last record read from each partition (the offset after it), as a manual
    // committer does once it has processed them.
    const last = new Map<number, StringMessage>();
    for (const message of read) last.set(message.partition, message);
    for (const message of last.values()) await message.commit();
    if (whileJoined) await whileJoined();
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return read;
}

const GROUP = 'plt-group';

test('a consumer group reads every record back, keys and headers included, and commits', async () => {
  const admin = new Admin(clientOptions());
  try {
    const read = await readInGroup('earliest', COUNT, async () => {
      const groups = await admin.listGroups();
      assert.is(groups.get(GROUP)?.state, 'STABLE', 'listGroups');
      const group = (await admin.describeGroups({ groups: [GROUP] })).get(GROUP)!;
      assert.is(group.state, 'STABLE');
      assert.is(group.protocolType, 'consumer');
      assert.is(group.members.size, 1);
    });
    const seen = new Map(read.map((message) => [message.key, message]));
    for (const codec of PRODUCED_CODECS)
      for (let i = 0; i < COUNT / PRODUCED_CODECS.length; i++) {
        const record = seen.get(`${codec}-${i}`);
        assert.ok(record, `${codec}-${i} was read`);
        assert.is(record!.value, `${codec} value ${i} ${'x'.repeat(200)}`);
        assert.is(record!.headers.get('codec'), codec);
        assert.is(record!.headers.get('n'), String(i));
      }
    const [offsets] = await admin.listConsumerGroupOffsets({ groups: [GROUP] });
    const committed = offsets.topics.find((topic) => topic.name === TOPIC)!.partitions;
    for (const partition of committed) {
      const ends = read.filter((message) => message.partition === partition.partitionIndex).length;
      assert.is(partition.committedOffset, BigInt(ends), `partition ${partition.partitionIndex} committed to its end`);
    }
    assert.is(committed.length, PARTITIONS);
  } finally {
    await admin.close();
  }
});

test('a second member of the group resumes at the commits: only newer records', async () => {
  const producer = new Producer({ ...clientOptions(), serializers: stringSerializers });
  try {
    await producer.send({
      messages: Array.from({ length: 6 }, (_, i) => ({ topic: TOPIC, key: `later-${i}`, value: `later ${i}` })),
    });
  } finally {
    await producer.close();
  }
  const read = await readInGroup('committed', 6);
  assert.equal(
    read.map((message) => message.key).sort(),
    Array.from({ length: 6 }, (_, i) => `later-${i}`),
  );
});

// Brook does not serve the KIP-848 consumer protocol (ConsumerGroupHeartbeat, key 68) yet.
// The client reads that from ApiVersions and refuses at once instead of hanging.
test('a KIP-848 consumer (groupProtocol "consumer") is refused by the client: Brook lists no ConsumerGroupHeartbeat', async () => {
  const consumer = new Consumer({ ...clientOptions(), groupId: 'plt-848', groupProtocol: 'consumer' });
  try {
    await consumer.consume({ topics: [TOPIC] }).then(
      () => assert.unreachable('a consumer-protocol group joined'),
      (error: Error & { code?: string }) => {
        assert.is(error.code, 'PLT_KFK_UNSUPPORTED_API');
        assert.match(error.message, /ConsumerGroupHeartbeat/);
      },
    );
  } finally {
    await consumer.close(true);
  }
});

test.run();
