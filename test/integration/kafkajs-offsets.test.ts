// Committed offsets as kafkajs 2.2.4 uses them, against a real broker:
// - `admin.resetOffsets({ earliest: true })` commits offset -2 ("earliest"); Kafka stores
//   any offset a client commits, so Brook stores it too, OffsetFetch returns it, and a
//   group consumer then reads from the beginning;
// - a `fromBeginning` consumer whose committed offset fell below the log start meets
//   OFFSET_OUT_OF_RANGE, commits -2 (kafkajs's recovery) and reads from the new log start;
// - OffsetFetch answers metadata "" where Kafka does: a commit with null metadata, and a
//   partition with no committed offset (Kafka stores a null commit metadata as "",
//   OffsetAndMetadata.NO_METADATA, and answers a missing offset with
//   OffsetFetchResponse.NO_METADATA, also "").

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';

let broker: BrokerProcess;
let kafka: Kafka;

test.before(async () => {
  broker = await startBroker({
    config: { 'log.retention.check.interval.ms': '200', 'group.initial.rebalance.delay.ms': '0' },
  });
  kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'kafkajs-offsets-test',
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
});

test.after(async () => {
  await broker.stop();
});

/** `promise`, or a failure naming `what` after `ms` (kafkajs retries some refusals for long). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function withConnection<T>(run: (connection: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
  try {
    return await run(connection);
  } finally {
    connection.close();
  }
}

/** OffsetFetch v5 for one partition: offset, metadata, error. */
function committed(groupId: string, topic: string, partition = 0) {
  return withConnection(async (connection) => {
    const answer = await connection.request(9, 5, {
      groupId,
      topics: [{ name: topic, partitionIndexes: [partition] }],
    });
    return answer.topics[0].partitions[0] as { committedOffset: number; metadata: string | null; errorCode: number };
  });
}

async function produce(topic: string, count: number, size = 10): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    // One batch per send, so that small segments roll often.
    for (let i = 0; i < count; i++)
      await producer.send({ topic, messages: [{ value: `m${String(i).padStart(4, '0')}-${'x'.repeat(size)}` }] });
  } finally {
    await producer.disconnect();
  }
}

/** Runs a group consumer until `done` says so; returns the offsets it saw, in order. */
async function consume(groupId: string, topic: string, done: (offsets: number[]) => boolean): Promise<number[]> {
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const seen: number[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(Number(message.offset)) });
    await until(() => done(seen), {
      what: () => `${groupId} to read enough of ${topic} (has ${seen.length})`,
      timeoutMs: 30000,
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

test('admin.resetOffsets earliest commits -2; it is stored and fetched back, and the group reads from the beginning', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'reset-earliest', numPartitions: 1 }] });
    await produce('reset-earliest', 5);
    await admin.setOffsets({
      groupId: 'reset-group',
      topic: 'reset-earliest',
      partitions: [{ partition: 0, offset: '4' }],
    });
    await within(
      15000,
      'admin.resetOffsets earliest',
      admin.resetOffsets({ groupId: 'reset-group', topic: 'reset-earliest', earliest: true }),
    );
    const [offsets] = await admin.fetchOffsets({ groupId: 'reset-group', topics: ['reset-earliest'] });
    assert.equal(
      offsets.partitions.map(({ partition, offset }) => ({ partition, offset })),
      [{ partition: 0, offset: '-2' }],
    );
  } finally {
    await admin.disconnect();
  }
  const stored = await committed('reset-group', 'reset-earliest');
  assert.is(stored.errorCode, ErrorCode.NONE);
  assert.is(Number(stored.committedOffset), -2);
  const seen = await consume('reset-group', 'reset-earliest', (offsets) => offsets.length >= 5);
  assert.equal(seen.slice(0, 5), [0, 1, 2, 3, 4]);
});

test('a fromBeginning consumer whose committed offset fell below the log start recovers at the new log start', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: 'trimmed',
          numPartitions: 1,
          configEntries: [
            { name: 'segment.bytes', value: '1024' },
            { name: 'retention.bytes', value: '2048' },
          ],
        },
      ],
    });
    await produce('trimmed', 2);
    await admin.setOffsets({ groupId: 'behind-group', topic: 'trimmed', partitions: [{ partition: 0, offset: '1' }] });
    await produce('trimmed', 120, 60);
    const earliest = await until(
      async () => {
        const [low] = await admin.fetchTopicOffsets('trimmed');
        return Number(low.low) > 1 ? Number(low.low) : null;
      },
      { what: 'retention to move the log start past the committed offset' },
    );
    const seen = await consume('behind-group', 'trimmed', (offsets) => offsets.includes(121));
    assert.ok(seen[0] >= earliest, `the consumer started at the log start or after (${seen[0]} >= ${earliest})`);
    assert.equal(
      seen,
      Array.from({ length: seen.length }, (_, i) => seen[0] + i),
      'in order, without gaps',
    );
  } finally {
    await admin.disconnect();
  }
});

test('OffsetFetch answers metadata "" for a commit with null metadata and for a partition with no commit, as Kafka does', async () => {
  await withConnection(async (connection) => {
    await connection.request(3, 4, { topics: [{ name: 'metadata-topic' }], allowAutoTopicCreation: true });
    await until(
      async () => {
        const answer = await connection.request(3, 4, {
          topics: [{ name: 'metadata-topic' }],
          allowAutoTopicCreation: false,
        });
        return answer.topics[0].errorCode === ErrorCode.NONE && answer.topics[0].partitions.length > 0;
      },
      { what: 'metadata-topic to exist' },
    );
    // A standalone commit (generation -1, no member) with null metadata, at v2 and at v8.
    for (const version of [2, 8]) {
      const answer = await connection.request(8, version, {
        groupId: `null-metadata-v${version}`,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [
          { name: 'metadata-topic', partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }] },
        ],
      });
      assert.is(answer.topics[0].partitions[0].errorCode, ErrorCode.NONE, `OffsetCommit v${version}`);
    }
  });
  for (const version of [2, 8]) {
    const stored = await committed(`null-metadata-v${version}`, 'metadata-topic');
    assert.equal(
      [Number(stored.committedOffset), stored.metadata],
      [0, ''],
      `commit v${version} with null metadata reads back ""`,
    );
  }
  const none = await committed('never-committed', 'metadata-topic');
  assert.equal([Number(none.committedOffset), none.metadata], [-1, ''], 'no commit: offset -1, metadata ""');
  // (kafkajs's admin.fetchOffsets turns "" into null itself, so it cannot tell the two
  // apart; the raw answers above are what other clients see.)
});

test.run();
