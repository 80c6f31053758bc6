// DeleteRecords (key 21) against one real broker process: kafkajs's deleteTopicRecords moves
// the log start; ListOffsets earliest, kcat from the beginning, a consumer below the start
// (auto.offset.reset) and the REST API all follow it, kafkajs and kcat skipping the deleted
// records of a batch the start falls inside; the segments wholly below it go at the retention
// check; the start survives a kill -9 and a restart; -1 means the high watermark; offsets past
// the high watermark, compacted topics, unknown partitions and oversized requests are refused
// with Kafka's error codes; and `brook topics delete-records` does the same from the CLI.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { Admin } from '../../src/client/admin';
import { Producer } from '../../src/client/producer';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';
import { runBrookInProcess } from '../helpers/brook-cli';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const TOPIC = 'trimmed';
const RECORDS = 100;
const CONFIG = {
  'log.retention.check.interval.ms': '200',
  'brook.max.partitions.per.request': '50',
};

function value(i: number): Buffer {
  return Buffer.from(`record-${String(i).padStart(4, '0')}-${'x'.repeat(80)}`);
}

async function request(
  port: number,
  body: { topics: { name: string; partitions: { partitionIndex: number; offset: number }[] }[]; timeoutMs: number },
  version = 2,
) {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 10_000 });
  await connection.connect();
  try {
    return await connection.request(ApiKey.DeleteRecords, version, body);
  } finally {
    connection.close();
  }
}

async function earliest(port: number, topic = TOPIC): Promise<number> {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${port}`] });
  try {
    return (await admin.listOffsets(topic, 'earliest')).get(0)!;
  } finally {
    admin.close();
  }
}

function segmentBases(dataDir: string, topic = TOPIC): number[] {
  return fs
    .readdirSync(path.join(dataDir, 'logs', `${topic}-0`))
    .filter((n) => n.endsWith('.log'))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({ config: CONFIG, http: true });
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const admin = new Admin({ bootstrap });
  const producer = new Producer({ bootstrap, lingerMs: 0 });
  try {
    await admin.createTopics([
      { name: TOPIC, partitions: 1, replicationFactor: 1, configs: { 'segment.bytes': '2048' } },
      { name: 'compacted', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    await producer.connect();
    // One record per batch: about 180 bytes each, 11 to a segment.
    for (let i = 0; i < RECORDS; i++) await producer.send({ topic: TOPIC, partition: 0, value: value(i) });
    await producer.send({ topic: 'compacted', partition: 0, key: Buffer.from('k'), value: value(0) });
  } finally {
    await producer.close();
    admin.close();
  }
});

test.after(async () => {
  await broker?.stop();
});

test('kafkajs deleteTopicRecords moves the log start; earliest, kcat and a reset consumer start there', async () => {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, clientId: 'dr' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // kafkajs looks the leaders up in metadata it already holds: fetch it first.
    await admin.fetchTopicMetadata({ topics: [TOPIC] });
    await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '40' }] });
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    assert.is(offsets[0].low, '40');
    assert.is(offsets[0].high, String(RECORDS));
  } finally {
    await admin.disconnect();
  }
  assert.is(await earliest(broker.port), 40);
  // The REST API (and the console's partition table built on it) shows the new start.
  const described = (await (await fetch(`http://127.0.0.1:${broker.httpPort}/api/v1/topics/${TOPIC}`)).json()) as {
    partitions: { logStartOffset: number }[];
  };
  assert.is(described.partitions[0].logStartOffset, 40);

  const fromStart = await kcat(broker.port, ['-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s\n']);
  assert.is(fromStart.code, 0, fromStart.stderr);
  const lines = fromStart.stdout.trim().split('\n');
  assert.is(lines.length, RECORDS - 40);
  assert.ok(lines[0].startsWith(`40 ${value(40).toString()}`), lines[0].slice(0, 40));

  // A consumer asking for a deleted offset is told OFFSET_OUT_OF_RANGE and resets to the start.
  const below = await kcat(broker.port, [
    '-C',
    '-t',
    TOPIC,
    '-p',
    '0',
    '-o',
    '10',
    '-X',
    'auto.offset.reset=earliest',
    '-e',
    '-f',
    '%o\n',
  ]);
  assert.is(below.code, 0, below.stderr);
  assert.is(below.stdout.trim().split('\n')[0], '40');

  // The segments wholly below the start go at the next retention check; the one holding it stays.
  const bases = await until(
    () => {
      const now = segmentBases(broker.dataDir);
      return now[0] > 0 ? now : null;
    },
    { what: 'the segments below the log start to be deleted' },
  );
  assert.ok(bases[0] <= 40 && (bases[1] ?? RECORDS) > 40, `segments ${bases.join(',')}`);
  const checkpoint = fs.readFileSync(path.join(broker.dataDir, 'logs', 'log-start-offset-checkpoint'), 'utf8');
  assert.match(checkpoint, new RegExp(`^${TOPIC} 0 40$`, 'm'));
});

test('a start inside a batch: kafkajs and kcat consumers from the beginning skip the deleted records', async () => {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, clientId: 'dr-batch' });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: 'dr-batch', maxWaitTimeInMs: 200 });
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'batched', numPartitions: 1 }], waitForLeaders: true });
    await producer.connect();
    // One batch of ten records, offsets 0-9.
    await producer.send({
      topic: 'batched',
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `b${i}` })),
    });
    await admin.fetchTopicMetadata({ topics: ['batched'] });
    await admin.deleteTopicRecords({ topic: 'batched', partitions: [{ partition: 0, offset: '6' }] });
    assert.is(await earliest(broker.port, 'batched'), 6);

    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'batched', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(`${message.offset}:${message.value}`);
      },
    });
    await until(() => seen.length >= 4, { what: 'kafkajs to read the records kept' });
    assert.equal(seen, ['6:b6', '7:b7', '8:b8', '9:b9']);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
  const read = await kcat(broker.port, ['-C', '-t', 'batched', '-p', '0', '-o', 'beginning', '-e', '-f', '%o:%s\n']);
  assert.is(read.code, 0, read.stderr);
  assert.equal(read.stdout.trim().split('\n'), ['6:b6', '7:b7', '8:b8', '9:b9']);
});

test('refusals: past the high watermark, below -1, compacted topics, unknown partitions, too many partitions', async () => {
  const answer = await request(broker.port, {
    topics: [
      {
        name: TOPIC,
        partitions: [
          { partitionIndex: 0, offset: RECORDS + 1 },
          { partitionIndex: 3, offset: 1 },
        ],
      },
      { name: 'compacted', partitions: [{ partitionIndex: 0, offset: 1 }] },
      { name: 'no-such-topic', partitions: [{ partitionIndex: 0, offset: 1 }] },
    ],
    timeoutMs: 1000,
  });
  const codes = answer.topics.flatMap((t) =>
    t.partitions.map((p) => `${t.name}/${p.partitionIndex}:${p.errorCode}:${p.lowWatermark}`),
  );
  assert.equal(codes, [
    `${TOPIC}/0:${ErrorCode.OFFSET_OUT_OF_RANGE}:-1`,
    `${TOPIC}/3:${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}:-1`,
    `compacted/0:${ErrorCode.POLICY_VIOLATION}:-1`,
    `no-such-topic/0:${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}:-1`,
  ]);

  // Below -1 is out of range, and a refused offset leaves the start where it was.
  const negative = await request(
    broker.port,
    { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: -7 }] }], timeoutMs: 1000 },
    0,
  );
  assert.is(negative.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.is(await earliest(broker.port), 40);

  // More partitions than brook.max.partitions.per.request: INVALID_REQUEST for all, nothing deleted.
  const many = await request(broker.port, {
    topics: [{ name: TOPIC, partitions: Array.from({ length: 51 }, (_, i) => ({ partitionIndex: i, offset: 90 })) }],
    timeoutMs: 1000,
  });
  assert.ok(many.topics[0].partitions.every((p) => p.errorCode === ErrorCode.INVALID_REQUEST));
  assert.is(await earliest(broker.port), 40);

  // An offset below the start is no error and moves nothing; a partition named twice counts once.
  const twice = await request(broker.port, {
    topics: [
      {
        name: TOPIC,
        partitions: [
          { partitionIndex: 0, offset: 90 },
          { partitionIndex: 0, offset: 20 },
        ],
      },
    ],
    timeoutMs: 1000,
  });
  assert.equal(twice.topics[0].partitions, [{ partitionIndex: 0, lowWatermark: 40, errorCode: ErrorCode.NONE }]);
  assert.is(await earliest(broker.port), 40);
});

test('the start survives kill -9 and a restart; -1 deletes up to the high watermark', async () => {
  await broker.kill9();
  broker = await startBroker({ config: CONFIG, dataDir: broker.dataDir, port: broker.port });
  assert.is(await earliest(broker.port), 40);

  const all = await request(broker.port, {
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: -1 }] }],
    timeoutMs: 1000,
  });
  assert.equal(all.topics[0].partitions, [{ partitionIndex: 0, lowWatermark: RECORDS, errorCode: ErrorCode.NONE }]);
  await broker.stop();
  broker = await startBroker({ config: CONFIG, dataDir: broker.dataDir, port: broker.port });
  assert.is(await earliest(broker.port), RECORDS);
  const empty = await kcat(broker.port, ['-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%o\n']);
  assert.is(empty.code, 0, empty.stderr);
  assert.is(empty.stdout.trim(), '');
});

test('brook topics delete-records: flags and a kafka-delete-records JSON file', async () => {
  const bootstrap = `127.0.0.1:${broker.port}`;
  const producer = new Producer({ bootstrap: [bootstrap], lingerMs: 0 });
  await producer.connect();
  for (let i = 0; i < 10; i++) await producer.send({ topic: TOPIC, partition: 0, value: value(RECORDS + i) });
  await producer.close();

  const run = await runBrookInProcess([
    'topics',
    'delete-records',
    '--topic',
    TOPIC,
    '--partition',
    '0',
    '--offset',
    String(RECORDS + 4),
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /LOW WATERMARK/);
  assert.match(run.stdout, new RegExp(`${TOPIC}\\s+0\\s+${RECORDS + 4}`));
  assert.is(await earliest(broker.port), RECORDS + 4);

  const file = path.join(tempDir('brook-delete-records-'), 'offsets.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0, offset: RECORDS + 6 }], version: 1 }),
  );
  const fromFile = await runBrookInProcess([
    'topics',
    'delete-records',
    '--offset-json-file',
    file,
    '--json',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(fromFile.code, 0, fromFile.stderr);
  const results = JSON.parse(fromFile.stdout) as { lowWatermark: number; error: string | null }[];
  assert.equal(
    results.map((r) => [r.lowWatermark, r.error]),
    [[RECORDS + 6, null]],
  );

  // Kafka's error for an offset past the high watermark; exit 1.
  const past = await runBrookInProcess([
    'topics',
    'delete-records',
    '--topic',
    TOPIC,
    '--partition',
    '0',
    '--offset',
    '100000',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(past.code, 1);
  assert.match(past.stdout, /OFFSET_OUT_OF_RANGE/);

  // Bad usage: exit 2 before anything is sent.
  for (const args of [
    ['--topic', TOPIC, '--partition', '0'],
    ['--topic', TOPIC, '--partition', '-1', '--offset', '3'],
    ['--topic', TOPIC, '--partition', '0', '--offset', '-2'],
    ['--offset-json-file', file, '--topic', TOPIC],
  ]) {
    const bad = await runBrookInProcess(['topics', 'delete-records', ...args, '--bootstrap', bootstrap]);
    assert.is(bad.code, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
  }
  fs.writeFileSync(file, '{"partitions": [{"topic": "t", "partition": "zero", "offset": 1}]}');
  const badFile = await runBrookInProcess([
    'topics',
    'delete-records',
    '--offset-json-file',
    file,
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(badFile.code, 2);
  assert.match(badFile.stderr, /partitions\[0\]/);
  assert.is(await earliest(broker.port), RECORDS + 6);
});

test.run();
