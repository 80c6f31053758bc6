// Compaction seen by real clients: kcat (librdkafka) produces keyed records and tombstones
// (-Z) to a cleanup.policy=compact topic with small segments; the broker's cleaner (on its
// worker pool) compacts the sealed segments; kcat and kafkajs then read from the beginning
// and see, per key, only the latest value (a tombstone as a null value), at the offset it
// was first written at. /metrics counts the pass and shows the log's dirty ratio. A record
// without a key is refused there.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { LOGS_DIR, partitionDirName, segmentLogNames } from '../../src/log/on-disk-names';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat');
const TOPIC = 'compacted';
const KEYS = 8;
const ROUNDS = 5;

let broker: BrokerProcess;

test.before(async () => {
  if (!HAVE_KCAT) return;
  broker = await startBroker({ http: true, config: { 'log.cleaner.backoff.ms': '200' } });
});

test.after(async () => {
  await broker?.stop();
});

/** Records stored in the partition's segment files (how far compaction got). */
async function storedRecords(): Promise<number> {
  const dir = path.join(broker.dataDir, LOGS_DIR, partitionDirName(TOPIC, 0));
  let count = 0;
  for (const name of segmentLogNames(fs.readdirSync(dir)))
    for (const batch of splitBatches(fs.readFileSync(path.join(dir, name))).batches)
      count += (await new RecordBatchView(batch).records()).length;
  return count;
}

test('kcat and kafkajs read the latest value per key, at its original offset, after compaction', async () => {
  if (!HAVE_KCAT) {
    console.log('skipped: kcat is not installed at /usr/bin/kcat');
    return;
  }
  const kafka = new Kafka({
    clientId: 'cleaner-test',
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: TOPIC,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: '200' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        ],
      },
    ],
  });
  await admin.disconnect();
  // One kcat run per round: each round is its own batches, so several segments roll.
  // Offsets: round r, key k -> r * KEYS + k. The last round deletes k0 (an empty value with -Z is null).
  const expected = new Map<string, { offset: number; value: string | null }>();
  for (let round = 0; round < ROUNDS; round++) {
    const lines: string[] = [];
    for (let k = 0; k < KEYS; k++) {
      const tombstone = round === ROUNDS - 1 && k === 0;
      const value = tombstone ? '' : `value-${round}-${k}`;
      lines.push(`key-${k}:${value}`);
      expected.set(`key-${k}`, { offset: round * KEYS + k, value: tombstone ? null : value });
    }
    const produced = await kcat(
      broker.port,
      ['-P', '-t', TOPIC, '-K:', '-Z', '-X', 'linger.ms=0'],
      `${lines.join('\n')}\n`,
    );
    assert.is(produced.code, 0, produced.stderr);
  }
  // A tail record seals the last round's segment.
  const tail = await kcat(broker.port, ['-P', '-t', TOPIC, '-K:'], 'tail:end\n');
  assert.is(tail.code, 0, tail.stderr);
  expected.set('tail', { offset: ROUNDS * KEYS, value: 'end' });
  const written = ROUNDS * KEYS + 1;
  await until(async () => (await storedRecords()) < written, {
    what: 'the cleaner to compact the topic',
    timeoutMs: 20000,
  });

  const consumed = await kcat(broker.port, [
    '-C',
    '-t',
    TOPIC,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-Z',
    '-f',
    '%o|%k|%S|%s\n',
  ]);
  assert.is(consumed.code, 0, consumed.stderr);
  const seen = new Map<string, { offset: number; value: string | null }>();
  const offsets: number[] = [];
  for (const line of consumed.stdout.trim().split('\n')) {
    const [offset, key, size, value] = line.split('|');
    offsets.push(Number(offset));
    // kcat prints a null value's size as -1.
    seen.set(key, { offset: Number(offset), value: size === '-1' ? null : value });
  }
  assert.ok(offsets.length < written, `kcat read ${offsets.length} of ${written} records`);
  assert.equal(
    offsets,
    [...offsets].sort((a, b) => a - b),
    'offsets increase',
  );
  assert.equal(seen, expected, 'kcat sees the latest value per key at its original offset');

  const consumer = kafka.consumer({ groupId: 'cleaner-readers' });
  await consumer.connect();
  const viaKafkajs = new Map<string, { offset: number; value: string | null }>();
  let last = -1;
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        viaKafkajs.set(message.key!.toString(), {
          offset: Number(message.offset),
          value: message.value === null ? null : message.value.toString(),
        });
        last = Math.max(last, Number(message.offset));
      },
    });
    await until(() => last === ROUNDS * KEYS, {
      what: () => `kafkajs to read up to the tail (read ${JSON.stringify([...viaKafkajs])})`,
      timeoutMs: 20000,
    });
  } finally {
    await consumer.disconnect();
  }
  assert.equal(viaKafkajs, expected, 'kafkajs sees the same');

  const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  const runs = /^brook_log_cleaner_runs_total (\d+)/m.exec(metrics);
  assert.ok(runs && Number(runs[1]) >= 1, 'passes are counted');
  assert.match(metrics, new RegExp(`brook_log_cleaner_dirty_ratio\\{topic="${TOPIC}",partition="0"\\}`));
});

test('a record without a key is refused on a compacted topic (INVALID_RECORD), as Kafka refuses it', async () => {
  if (!HAVE_KCAT) return;
  const kafka = new Kafka({
    clientId: 'cleaner-test',
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  try {
    let refused: { type?: string; message?: string } | null = null;
    try {
      await producer.send({ topic: TOPIC, messages: [{ key: 'has-key', value: 'x' }, { value: 'no key' }] });
    } catch (error) {
      refused = (error as { cause?: { type?: string } }).cause ?? (error as { type?: string });
    }
    assert.ok(refused, 'the batch is refused');
    assert.match(String(refused!.type), /INVALID_RECORD/);
    await producer.send({ topic: TOPIC, messages: [{ key: 'has-key', value: 'x' }] });
  } finally {
    await producer.disconnect();
  }
});

test.run();
