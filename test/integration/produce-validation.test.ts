// Produced batches are checked record by record on a real broker, as Kafka's LogValidator
// checks them: a compressed batch whose records are out of order, or that decompresses
// past the bound (a "zip bomb"), is refused with CORRUPT_MESSAGE and nothing is stored; a
// record dated more than message.timestamp.after.max.ms ahead (Kafka 4's default: one
// hour) is refused with INVALID_TIMESTAMP, unless the topic allows it or stamps
// LogAppendTime. kafkajs producing gzip still round-trips.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { gzipBatch, gzipBomb, swapFirstOffsetDeltas } from '../helpers/batches';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

let broker: BrokerProcess;
let connection: KafkaConnection;
let admin: Admin;

test.before(async () => {
  broker = await startBroker({ config: { 'brook.message.decompressed.max.bytes': String(8 << 20) } });
  admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
  await admin.createTopics([
    { name: 'checked', partitions: 1, replicationFactor: 1 },
    {
      name: 'far-future',
      partitions: 1,
      replicationFactor: 1,
      configs: { 'message.timestamp.after.max.ms': '86400000' },
    },
    { name: 'stamped', partitions: 1, replicationFactor: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } },
  ]);
});

test.after(async () => {
  connection?.close();
  admin?.close();
  await broker?.stop();
});

async function produce(topic: string, records: Buffer) {
  const answer = await connection.request(ApiKey.Produce, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return answer.responses[0].partitionResponses[0];
}

async function logEnd(topic: string): Promise<number> {
  const answer = await connection.request(ApiKey.ListOffsets, 1, {
    replicaId: -1,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
  } as never);
  return Number((answer as { topics: { partitions: { offset: number }[] }[] }).topics[0].partitions[0].offset);
}

const now = () => Date.now();
const three = () => ['a', 'b', 'c'].map((value) => ({ value, timestamp: now() }));

test('a gzip batch with records out of order is CORRUPT_MESSAGE and stores nothing', async () => {
  const answer = await produce('checked', gzipBatch(three(), swapFirstOffsetDeltas));
  assert.is(answer.errorCode, ErrorCode.CORRUPT_MESSAGE, String(answer.errorMessage));
  assert.match(String(answer.errorMessage), /offset delta/);
  assert.is(await logEnd('checked'), 0);
  const good = await produce('checked', gzipBatch(three()));
  assert.is(good.errorCode, ErrorCode.NONE, String(good.errorMessage));
  assert.is(await logEnd('checked'), 3);
});

test('a zip bomb is refused within the decompression bound and the broker keeps serving', async () => {
  const answer = await produce('checked', gzipBomb(64 << 20));
  assert.is(answer.errorCode, ErrorCode.CORRUPT_MESSAGE);
  assert.match(String(answer.errorMessage), /decompress/);
  const good = await produce('checked', gzipBatch(three()));
  assert.is(good.errorCode, ErrorCode.NONE);
});

test('a record dated two hours ahead is INVALID_TIMESTAMP unless the topic allows it', async () => {
  const ahead = now() + 2 * 3600_000;
  const records = () =>
    encodeRecordBatchSync({
      records: [
        { value: 'now', timestamp: now() },
        { value: 'later', timestamp: ahead },
      ],
    });
  const refused = await produce('checked', records());
  assert.is(refused.errorCode, ErrorCode.INVALID_TIMESTAMP, String(refused.errorMessage));
  assert.equal(
    refused.recordErrors.map((e: { batchIndex: number }) => e.batchIndex),
    [1],
  );
  const before = await logEnd('checked');
  const zipped = await produce('checked', gzipBatch([{ value: 'later', timestamp: ahead }]));
  assert.is(zipped.errorCode, ErrorCode.INVALID_TIMESTAMP, 'compressed batches too');
  assert.is(await logEnd('checked'), before);
  assert.is((await produce('far-future', records())).errorCode, ErrorCode.NONE);
  assert.is((await produce('stamped', records())).errorCode, ErrorCode.NONE);
});

test('kafkajs produces and reads back gzip', async () => {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'checked',
    compression: CompressionTypes.GZIP,
    messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  });
  await producer.disconnect();
  const end = await logEnd('checked');
  assert.ok(end >= 50);
});

test.run();
