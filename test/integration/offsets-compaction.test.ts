// A real broker compacts its own __consumer_offsets: a group's offsets committed record by
// record (kafkajs commitOffsets, each an OffsetCommit) and a group deleted
// (DeleteGroups) fill small segments (offsets.topic.segment.bytes); the log cleaner running
// in the broker shrinks the partition to about one record per key. After a kill -9 and a
// restart the coordinator loads the compacted log: a kafkajs consumer of the group resumes
// exactly from the committed offsets, and the deleted group has none.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, BrokerProcess } from '../helpers/broker-process';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const CONFIG = {
  'offsets.topic.num.partitions': '1',
  'offsets.topic.segment.bytes': '4096',
  'log.cleaner.backoff.ms': '200',
  'group.initial.rebalance.delay.ms': '0',
};

/** Bytes of the offsets partition's segment files on disk. */
function offsetsBytes(dataDir: string): number {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.log') && dir.includes('__consumer_offsets-0')) found.push(full);
    }
  };
  walk(dataDir);
  return found.reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

/** Reads the topic's 150 records, committing each offset below `upTo[partition]` on its own. */
async function consumeAndCommit(kafka: Kafka, groupId: string, upTo: number[]): Promise<void> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000 });
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: 'oc', fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const next = Number(message.offset) + 1;
      if (next <= upTo[partition]) await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
      seen++;
    },
  });
  await until(() => seen >= 150, { what: () => `group ${groupId} to read 150 records (${seen} so far)` });
  await consumer.disconnect();
}

test('the cleaner compacts __consumer_offsets; after a restart consumers resume from the committed offsets', async () => {
  let broker: BrokerProcess | null = await startBroker({ config: CONFIG });
  const dataDir = broker.dataDir;
  try {
    let kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'oc', logLevel: logLevel.NOTHING });
    let admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'oc', numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    for (let p = 0; p < 3; p++)
      await producer.send({
        topic: 'oc',
        acks: -1,
        messages: Array.from({ length: 50 }, (_, i) => ({ partition: p, value: `p${p}-${i}` })),
      });
    await producer.disconnect();
    const final = [40, 30, 20];
    // Every record's offset is committed on its own while below the partition's final one:
    // 90 commits of the group, then 150 of another group that is deleted after.
    await consumeAndCommit(kafka, 'resume', final);
    await consumeAndCommit(kafka, 'gone', [50, 50, 50]);
    await admin.deleteGroups(['gone']);
    // 240 commits of at least 100 bytes each were written (a record batch each); the
    // cleaner runs by itself (log.cleaner.backoff.ms) and keeps only the latest of each
    // key: at most the active segment and about a segment of cleaned records are left.
    const written = 240 * 100;
    const compacted = await until(
      () => {
        const now = offsetsBytes(dataDir);
        return now > 0 && now < written / 2 ? now : null;
      },
      { what: () => `the offsets partition (${offsetsBytes(dataDir)} bytes now) compacted` },
    );
    await admin.disconnect();
    await broker.kill9();
    broker = await startBroker({ dataDir, config: CONFIG });
    kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'oc', logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    const restored = await until(
      async () => {
        try {
          return await admin.fetchOffsets({ groupId: 'resume', topics: ['oc'] });
        } catch {
          return null;
        }
      },
      { what: 'the restarted coordinator to answer OffsetFetch' },
    );
    assert.equal(
      restored[0].partitions.map((p) => Number(p.offset)).sort((a, b) => b - a),
      final,
      `offsets after compaction (${written} -> ${compacted} bytes) and a restart`,
    );
    const gone = await admin.fetchOffsets({ groupId: 'gone', topics: ['oc'] });
    assert.equal(
      gone[0].partitions.map((p) => Number(p.offset)),
      [-1, -1, -1],
      'the deleted group has no offsets',
    );
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: 'resume', sessionTimeout: 6000 });
    const firstSeen = new Map<number, number>();
    let seen = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'oc', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!firstSeen.has(partition)) firstSeen.set(partition, Number(message.offset));
        seen++;
      },
    });
    const expected = final.reduce((sum, last) => sum + 50 - last, 0);
    await until(() => seen >= expected, { what: () => `${expected} records (${seen} so far)` });
    await consumer.disconnect();
    assert.equal(
      [0, 1, 2].map((p) => firstSeen.get(p)),
      final,
      'the consumer resumed at the committed offsets',
    );
    assert.is(seen, expected);
  } finally {
    if (broker?.alive()) await broker.stop();
  }
});

test.run();
