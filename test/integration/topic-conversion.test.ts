// Topic configs that change what the leader stores, seen from real clients and the segment
// files: message.timestamp.type=LogAppendTime (kcat and kafkajs read the broker's append
// time, the stored batches carry the LogAppendTime bit, Produce answers log_append_time_ms)
// and compression.type=zstd on a topic kcat writes uncompressed (stored zstd, read back
// the same), plus the deprecated timestamp difference key refusing an old record.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { Admin } from '../../src/client/admin';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { Compression, storedBatches } from '../helpers/stored-batches';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync, stampLogAppendTime } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

let broker: BrokerProcess;
let kafka: Kafka;

test.before(async () => {
  broker = await startBroker();
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'conversion', logLevel: logLevel.NOTHING });
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    await admin.createTopics([
      { name: 'append-time', partitions: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } },
      { name: 'zstd-topic', partitions: 1, configs: { 'compression.type': 'zstd', 'compression.zstd.level': '9' } },
      { name: 'plain-topic', partitions: 1, configs: { 'compression.type': 'uncompressed' } },
      { name: 'difference', partitions: 1, configs: { 'message.timestamp.difference.max.ms': '60000' } },
    ]);
  } finally {
    admin.close();
  }
});

test.after(async () => {
  await broker?.stop();
});

test('LogAppendTime: kcat reads the times the broker stamped, not the producer create times', async () => {
  const before = Date.now();
  const produced = await kcat(broker.port, ['-P', '-t', 'append-time', '-p', '0'], 'a\nb\nc\n');
  assert.is(produced.code, 0, produced.stderr);
  // kafkajs with create times an hour old: the stamp replaces them, and the response says when.
  const producer = kafka.producer();
  await producer.connect();
  let metadata;
  try {
    metadata = await producer.send({
      topic: 'append-time',
      acks: -1,
      messages: ['d', 'e'].map((value) => ({ value, partition: 0, timestamp: String(before - 3_600_000) })),
    });
  } finally {
    await producer.disconnect();
  }
  const after = Date.now();
  const appendTime = Number(metadata[0].logAppendTime);
  assert.ok(appendTime >= before && appendTime <= after, `log_append_time_ms ${appendTime} in [${before}, ${after}]`);

  const consumed = await kcat(broker.port, ['-C', '-t', 'append-time', '-o', 'beginning', '-e', '-q', '-f', '%T %s\n']);
  assert.is(consumed.code, 0, consumed.stderr);
  const rows = consumed.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  assert.equal(
    rows.map((row) => row[1]),
    ['a', 'b', 'c', 'd', 'e'],
  );
  for (const [time] of rows) assert.ok(Number(time) >= before && Number(time) <= after, `timestamp ${time}`);
  assert.equal(
    rows.slice(3).map((row) => Number(row[0])),
    [appendTime, appendTime],
  );
  const batches = storedBatches(broker.dataDir, 'append-time');
  assert.ok(batches.length >= 2);
  for (const batch of batches) assert.is(batch.timestampType, 1, 'the stored batch has the LogAppendTime bit');
  assert.is(batches[batches.length - 1].maxTimestamp, appendTime);
});

test('compression.type=zstd: kcat writes uncompressed, the broker stores zstd, kcat reads the same records', async () => {
  const lines = Array.from({ length: 200 }, (_, i) => `k${i}:value-${i}-${'abc'.repeat(20)}`);
  const produced = await kcat(
    broker.port,
    ['-P', '-t', 'zstd-topic', '-p', '0', '-K:', '-X', 'compression.codec=none', '-X', 'enable.idempotence=true'],
    `${lines.join('\n')}\n`,
  );
  assert.is(produced.code, 0, produced.stderr);
  const batches = storedBatches(broker.dataDir, 'zstd-topic');
  assert.is(
    batches.reduce((sum, batch) => sum + batch.recordCount, 0),
    lines.length,
  );
  for (const batch of batches) {
    assert.is(batch.compression, Compression.Zstd, 'stored in the topic codec');
    assert.ok(batch.producerId >= 0, "kcat's idempotent producer id is kept");
  }
  const consumed = await kcat(broker.port, ['-C', '-t', 'zstd-topic', '-o', 'beginning', '-e', '-q', '-f', '%k:%s\n']);
  assert.is(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stdout.trim().split('\n'), lines);
});

test('compression.type=uncompressed: a gzip batch from kcat is stored decompressed', async () => {
  const produced = await kcat(broker.port, ['-P', '-t', 'plain-topic', '-p', '0', '-z', 'gzip'], 'x\ny\nz\n');
  assert.is(produced.code, 0, produced.stderr);
  for (const batch of storedBatches(broker.dataDir, 'plain-topic')) assert.is(batch.compression, Compression.None);
  const consumed = await kcat(broker.port, ['-C', '-t', 'plain-topic', '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
  assert.is(consumed.stdout, 'x\ny\nz\n');
});

test('the deprecated message.timestamp.difference.max.ms refuses a record older than it (INVALID_TIMESTAMP)', async () => {
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  try {
    const error = await producer
      .send({
        topic: 'difference',
        messages: [{ value: 'old', partition: 0, timestamp: String(Date.now() - 600_000) }],
      })
      .then(
        () => null,
        (e: any) => e,
      );
    assert.ok(error, 'refused');
    assert.match(JSON.stringify(error.type ?? error.cause?.type ?? error.message), /INVALID_TIMESTAMP/);
    await producer.send({ topic: 'difference', messages: [{ value: 'new', partition: 0 }] });
  } finally {
    await producer.disconnect();
  }
});

test("Kafka's INVALID_TIMESTAMP messages: a record out of the window, a producer's LogAppendTime batch", async () => {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
  try {
    const produce = async (topic: string, records: Buffer) =>
      (
        await connection.request(ApiKey.Produce, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        })
      ).responses[0].partitionResponses[0];
    const old = Date.now() - 600_000;
    const refused = await produce(
      'difference',
      encodeRecordBatchSync({
        records: [
          { value: 'fresh', timestamp: Date.now() },
          { value: 'old', timestamp: old },
        ],
      }),
    );
    assert.is(refused.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.is(refused.errorMessage, 'One or more records have been rejected due to invalid timestamp');
    assert.is(refused.recordErrors[0].batchIndex, 1);
    assert.match(
      String(refused.recordErrors[0].batchIndexErrorMessage),
      new RegExp(
        `^Timestamp ${old} of message with offset 1 is out of range\\. The timestamp should be within \\[\\d+, \\d+\\]$`,
      ),
    );
    const marked = encodeRecordBatchSync({ records: [{ key: 'k', value: 'abc', timestamp: Date.now() }] });
    stampLogAppendTime(marked, Date.now());
    const wrongType = await produce('difference', marked);
    assert.is(wrongType.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.match(
      String(wrongType.recordErrors[0].batchIndexErrorMessage),
      /^Invalid timestamp type in message DefaultRecord\(offset=0, timestamp=\d+, key=1 bytes, value=3 bytes\)\. Producer should not set timestamp type to LogAppendTime\.$/,
    );
  } finally {
    connection.close();
  }
});

test.run();
