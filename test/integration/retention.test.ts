// Retention against a real broker process: a topic with small segments and a small
// retention.bytes loses its oldest segments at the retention check; ListOffsets earliest
// and the consumers (kcat, reading from the beginning) start at the new log start, and
// everything after it is still there, in order. Then alter-config retention.ms lets the
// age rule delete more.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Producer } from '../../src/client/producer';
import { startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const RECORDS = 300;

async function offsets(port: number, topic: string): Promise<{ earliest: number; latest: number }> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 5000 });
  await connection.connect();
  try {
    const ask = async (timestamp: number) => {
      const response = await connection.request(ApiKey.ListOffsets, 1, {
        replicaId: -1,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
      });
      return Number(response.topics[0].partitions[0].offset);
    };
    return { earliest: await ask(-2), latest: await ask(-1) };
  } finally {
    connection.close();
  }
}

test('retention.bytes and retention.ms delete old segments; consumers start at the new log start', async () => {
  const broker = await startBroker({ config: { 'log.retention.check.interval.ms': '200' } });
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const admin = new Admin({ bootstrap });
  const producer = new Producer({ bootstrap, lingerMs: 0 });
  try {
    await admin.createTopics([
      {
        name: 'aged',
        partitions: 1,
        replicationFactor: 1,
        configs: { 'segment.bytes': '2048', 'retention.bytes': '8192' },
      },
    ]);
    await producer.connect();
    // One record per batch (each send awaited): about 180 bytes a batch, 11 to a segment.
    for (let i = 0; i < RECORDS; i++)
      await producer.send({
        topic: 'aged',
        partition: 0,
        value: Buffer.from(`record-${String(i).padStart(4, '0')}-${'x'.repeat(80)}`),
      });

    // What is left is about retention.bytes (8 KiB: some 45 records) plus the active
    // segment once a check runs after the last send.
    const trimmed = await until(
      async () => {
        const o = await offsets(broker.port, 'aged');
        return o.latest === RECORDS && RECORDS - o.earliest <= 60 ? o : null;
      },
      { what: 'retention.bytes to keep only the newest records' },
    );
    assert.match(broker.logs(), /retention deleted old segments/);

    const consumed = await kcat(broker.port, ['-C', '-t', 'aged', '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s\n']);
    assert.is(consumed.code, 0, consumed.stderr);
    const lines = consumed.stdout.trim().split('\n');
    assert.is(lines.length, RECORDS - trimmed.earliest);
    lines.forEach((line, i) => {
      const offset = trimmed.earliest + i;
      assert.ok(
        line.startsWith(`${offset} record-${String(offset).padStart(4, '0')}-`),
        `line ${i}: ${line.slice(0, 40)}`,
      );
    });

    // The age rule: every record is older than 1 ms, so all sealed segments go.
    await admin.alterTopicConfigs('aged', { set: { 'retention.ms': '1', 'retention.bytes': '-1' } });
    const aged = await until(
      async () => {
        const o = await offsets(broker.port, 'aged');
        // Only the active segment is left: 2048 bytes hold about a dozen of these batches.
        return o.earliest > trimmed.earliest && RECORDS - o.earliest < 20 ? o : null;
      },
      { what: 'retention.ms to delete every sealed segment' },
    );
    assert.is(aged.latest, RECORDS);
  } finally {
    await producer.close();
    admin.close();
    await broker.stop();
  }
});

test.run();
