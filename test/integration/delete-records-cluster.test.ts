// DeleteRecords on three nodes, one partition replicated three ways: kafkajs's
// deleteTopicRecords returns once every replica's log start reached the offset (the
// followers learn the leader's from Fetch, make it durable and report theirs), so each
// node's log-start-offset-checkpoint holds it when the call returns. With a follower frozen
// the request waits for it: a short timeout ends in REQUEST_TIMED_OUT with the low watermark
// of the start, a longer one completes once the follower runs again. Every replica's retention
// check deletes its segments below the start. After the leader stops,
// the new leader starts the log where the old one did (ListOffsets earliest, kcat).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { delay, until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const TOPIC = 'spread';
const RECORDS = 60;

function checkpointedStart(dataDir: string): number | null {
  const file = path.join(dataDir, 'logs', 'log-start-offset-checkpoint');
  if (!fs.existsSync(file)) return null;
  const line = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${TOPIC} 0 `));
  return line ? Number(line.split(' ')[2]) : null;
}

function firstSegmentBase(dataDir: string): number {
  return Math.min(
    ...fs
      .readdirSync(path.join(dataDir, 'logs', `${TOPIC}-0`))
      .filter((n) => n.endsWith('.log'))
      .map((n) => Number(n.slice(0, 20))),
  );
}

async function deleteRecords(port: number, offset: number, timeoutMs: number) {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: timeoutMs + 10_000 });
  await connection.connect();
  try {
    const answer = await connection.request(ApiKey.DeleteRecords, 1, {
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset }] }],
      timeoutMs,
    });
    return answer.topics[0].partitions[0];
  } finally {
    connection.close();
  }
}

async function earliest(port: number): Promise<number> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 5000 });
  await connection.connect();
  try {
    const answer = await connection.request(ApiKey.ListOffsets, 1, {
      replicaId: -1,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, timestamp: -2 }] }],
    });
    const p = answer.topics[0].partitions[0];
    return p.errorCode === ErrorCode.NONE ? Number(p.offset) : -p.errorCode;
  } finally {
    connection.close();
  }
}

test('followers take the log start, DeleteRecords waits for them, and a new leader starts there', async () => {
  const cluster = await Cluster.create({ size: 3, config: { 'log.retention.check.interval.ms': '200' } });
  try {
    const state = await cluster.createTopicInSync(TOPIC, 3, { 'segment.bytes': '2048' });
    const kafka = new Kafka({ brokers: cluster.bootstrap(), clientId: 'dr-cluster', logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let i = 0; i < RECORDS; i++)
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: `record-${i}` }] });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [TOPIC] });
      await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '25' }] });
    } finally {
      await admin.disconnect();
    }
    // Answered only once every live replica's start reached 25, each made durable first.
    for (const id of cluster.ids) assert.is(checkpointedStart(cluster.dirs.get(id)!), 25, `node ${id}`);

    const leaderPort = cluster.kafkaPorts.get(state.leader)!;
    const follower = cluster.ids.find((id) => id !== state.leader)!;
    cluster.pause(follower);
    try {
      const expired = await deleteRecords(leaderPort, 35, 300);
      assert.equal(
        { errorCode: expired.errorCode, lowWatermark: Number(expired.lowWatermark) },
        { errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: 25 },
      );
      // The leader's own start moved all the same.
      assert.is(await earliest(leaderPort), 35);
      const waiting = deleteRecords(leaderPort, 40, 20_000);
      await delay(300);
      cluster.resume(follower);
      const done = await waiting;
      assert.equal(
        { errorCode: done.errorCode, lowWatermark: Number(done.lowWatermark) },
        { errorCode: ErrorCode.NONE, lowWatermark: 40 },
      );
    } finally {
      cluster.resume(follower);
    }
    for (const id of cluster.ids) assert.is(checkpointedStart(cluster.dirs.get(id)!), 40, `node ${id}`);
    // Every replica's retention check deletes its segments wholly below the start.
    await until(() => cluster.ids.every((id) => firstSegmentBase(cluster.dirs.get(id)!) > 0), {
      what: 'the segments below the start to go on every node',
    });
    for (const id of cluster.ids) assert.ok(firstSegmentBase(cluster.dirs.get(id)!) <= 40, `node ${id}`);

    // The log start is the partition's, not the leader's: a new leader keeps it.
    await cluster.stop(state.leader);
    const next = await until(
      async () => {
        const s = await cluster.metadata(TOPIC);
        return s && s.leader > 0 && s.leader !== state.leader ? s : null;
      },
      { what: 'a new leader' },
    );
    const nextPort = cluster.kafkaPorts.get(next.leader)!;
    assert.is(
      await until(async () => ((await earliest(nextPort)) >= 0 ? earliest(nextPort) : null), {
        what: 'earliest from the new leader',
      }),
      40,
    );
    const read = await kcat(nextPort, ['-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s\n']);
    assert.is(read.code, 0, read.stderr);
    const lines = read.stdout.trim().split('\n');
    assert.is(lines[0], '40 record-40');
    assert.is(lines.length, RECORDS - 40);
  } finally {
    await cluster.stopAll();
  }
});

test.run();
