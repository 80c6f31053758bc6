// @platformatic/kafka 1.x against a real Brook process: admin (create, list, delete
// topics), an idempotent producer with keys, headers and each codec it has on Node 20
// (gzip, snappy, lz4: its zstd needs Node 22's zlib), the stored batches checked for their
// codec and producer id, and a classic consumer group that reads everything back. Its
// consumer fetches by topic id (Fetch 12+, so 13 against Brook). A KIP-848 consumer is
// refused, since Brook does not serve that protocol yet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Admin, Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { CODECS, storedBatches } from '../helpers/stored-batches';
import { until } from '../helpers/wait';

let broker: BrokerProcess;
let bootstrap: string[];

test.before(async () => {
  broker = await startBroker({ config: { 'auto.create.topics.enable': 'false' } });
  bootstrap = [`127.0.0.1:${broker.port}`];
});

test.after(async () => {
  await broker.stop();
});

const clientOptions = () => ({ clientId: 'brook-test', bootstrapBrokers: bootstrap, retries: 3, retryDelay: 200 });

test('admin creates, lists and deletes topics', async () => {
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

test('a consumer group reads every record back, keys and headers included', async () => {
  const consumer = new Consumer({
    ...clientOptions(),
    groupId: 'plt-group',
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  });
  const seen = new Map<string, { value: string; codec: string }>();
  try {
    const stream = await consumer.consume({
      topics: [TOPIC],
      mode: 'earliest',
      autocommit: 100,
      sessionTimeout: 10000,
      heartbeatInterval: 500,
    });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${seen.size} of ${COUNT} records within 20 s:\n${broker.logs().slice(-3000)}`)),
        20000,
      );
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.on('data', (message) => {
        const headers = message.headers as Map<string, string>;
        seen.set(message.key as string, { value: message.value as string, codec: headers.get('codec') ?? '' });
        if (seen.size === COUNT) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await done;
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  for (const codec of PRODUCED_CODECS)
    for (let i = 0; i < COUNT / PRODUCED_CODECS.length; i++) {
      const record = seen.get(`${codec}-${i}`);
      assert.ok(record, `${codec}-${i} was read`);
      assert.is(record!.value, `${codec} value ${i} ${'x'.repeat(200)}`);
      assert.is(record!.codec, codec);
    }
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
