// What the Node clients' compressed batches look like once Brook has stored them: the
// bundled producer (idempotent by default) in each codec, and kafkajs 2.2.4 with gzip, the
// one codec it has without a plugin. A client that quietly sent a batch uncompressed, or an
// idempotent one without its producer id, would still read back: only the segment files tell.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { Producer } from '../../src/client/producer';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { CODECS, Compression, storedBatches } from '../helpers/stored-batches';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const COUNT = 50;
let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker();
});

test.after(async () => {
  await broker.stop();
});

for (const codec of Object.keys(CODECS) as ('gzip' | 'snappy' | 'lz4' | 'zstd')[]) {
  test(`Brook's producer: ${codec} batches are stored ${codec}-compressed with the producer id`, async () => {
    const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], compression: codec, lingerMs: 5 });
    try {
      await Promise.all(
        Array.from({ length: COUNT }, (_, i) =>
          producer.send({ topic: `bundled-${codec}`, partition: 0, value: `${codec}-${i} ${'abc'.repeat(40)}` }),
        ),
      );
    } finally {
      await producer.close();
    }
    const batches = storedBatches(broker.dataDir, `bundled-${codec}`);
    assert.is(
      batches.reduce((sum, batch) => sum + batch.recordCount, 0),
      COUNT,
    );
    for (const batch of batches) {
      assert.is(batch.compression, CODECS[codec], `a bundled-${codec} batch's codec bits`);
      assert.ok(batch.producerId >= 0 && batch.baseSequence >= 0, 'idempotent by default: producer id and sequence');
    }
  });
}

test('kafkajs: gzip batches are stored gzip-compressed', async () => {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'codecs', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: 'kafkajs-gzip',
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: COUNT }, (_, i) => ({ key: `k${i}`, value: `gzip-${i} ${'abc'.repeat(40)}` })),
    });
  } finally {
    await producer.disconnect();
  }
  const batches = storedBatches(broker.dataDir, 'kafkajs-gzip');
  assert.is(
    batches.reduce((sum, batch) => sum + batch.recordCount, 0),
    COUNT,
  );
  for (const batch of batches) {
    assert.is(batch.compression, Compression.Gzip, "a kafkajs-gzip batch's codec bits");
    assert.ok(batch.producerId >= 0, 'the idempotent producer id');
  }
});

test.run();
