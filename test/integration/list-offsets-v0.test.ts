// ListOffsets v0 against a real broker, as Kafka 3.x serves it to old clients and tools:
// up to max_num_offsets "old-style" offsets per partition, newest first. Latest gives the
// high watermark followed by the segments' base offsets; earliest the log start offset;
// a timestamp the base offsets of the segments last written at or before it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Producer } from '../../src/client/producer';
import { Admin } from '../../src/client/admin';
import { BrokerProcess, startBroker } from '../helpers/broker-process';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker();
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const admin = new Admin({ bootstrap });
  const producer = new Producer({ bootstrap, lingerMs: 0 });
  try {
    await admin.createTopics([
      { name: 'old-style', partitions: 1, replicationFactor: 1, configs: { 'segment.bytes': '1024' } },
    ]);
    await producer.connect();
    // One batch per send, about 120 bytes each: several segments of 1 KiB.
    for (let i = 0; i < 40; i++)
      await producer.send({ topic: 'old-style', partition: 0, value: Buffer.from(`record-${i}-${'x'.repeat(40)}`) });
  } finally {
    await producer.close();
    await admin.close();
  }
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 5000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  await broker.stop();
});

async function v0(topic: string, timestamp: number, maxNumOffsets: number) {
  const answer = await connection.request(ApiKey.ListOffsets, 0, {
    replicaId: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets }] }],
  });
  const p = answer.topics[0].partitions[0];
  return { errorCode: p.errorCode as number, offsets: (p.oldStyleOffsets as (number | bigint)[]).map(Number) };
}

test('ApiVersions lists ListOffsets from version 0', async () => {
  const answer = await connection.request(ApiKey.ApiVersions, 0, {});
  const range = answer.apiKeys.find((k: { apiKey: number }) => k.apiKey === ApiKey.ListOffsets);
  assert.is(range!.minVersion, 0);
});

test('latest: the high watermark, then segment base offsets, newest first, at most max_num_offsets', async () => {
  const all = await v0('old-style', -1, 100);
  assert.is(all.errorCode, ErrorCode.NONE);
  assert.ok(all.offsets.length >= 3, `several segments: ${all.offsets}`);
  assert.is(all.offsets[0], 40, 'the high watermark first');
  assert.is(all.offsets[all.offsets.length - 1], 0, 'the first segment last');
  assert.equal(
    all.offsets,
    [...all.offsets].sort((a, b) => b - a),
    'descending',
  );
  assert.equal((await v0('old-style', -1, 1)).offsets, [40]);
  assert.equal((await v0('old-style', -1, 2)).offsets, all.offsets.slice(0, 2));
});

test('earliest: the log start offset', async () => {
  assert.equal(await v0('old-style', -2, 10), { errorCode: ErrorCode.NONE, offsets: [0] });
});

test('a timestamp before every record: nothing; one after the last write: everything up to the high watermark', async () => {
  assert.equal((await v0('old-style', 1, 10)).offsets, []);
  const latest = await v0('old-style', -1, 100);
  assert.equal((await v0('old-style', Date.now() + 60_000, 100)).offsets, latest.offsets);
});

test('an unknown topic: UNKNOWN_TOPIC_OR_PARTITION and no offsets', async () => {
  assert.equal(await v0('no-such-topic', -1, 1), { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, offsets: [] });
});

test.run();
