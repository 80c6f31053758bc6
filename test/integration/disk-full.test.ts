// A real full disk: a broker whose data directory is a small tmpfs is produced to until
// the file system is full. Clients get a clean error (the broker keeps answering), no
// acknowledged record is lost or changed and no offset is reused; after space is freed and
// the node restarted, everything acknowledged is readable and new writes go on after it.
// Mounting needs root (CAP_SYS_ADMIN); where it is not allowed the test says so and skips.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';

const TOPIC = 'filling';
const VALUE_BYTES = 16 * 1024;

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function produceOne(connection: KafkaConnection, value: string) {
  const records = encodeRecordBatchSync({ records: [{ value: value.padEnd(VALUE_BYTES, '.') }] });
  const answer = await connection.request(ApiKey.Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }],
  });
  const p = answer.responses[0].partitionResponses[0];
  return { errorCode: p.errorCode as number, offset: Number(p.baseOffset), message: p.errorMessage as string | null };
}

/** Every record of partition 0 from offset 0: offset -> value prefix. */
async function readAll(connection: KafkaConnection): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let offset = 0;
  for (let round = 0; round < 1000; round++) {
    const answer = await connection.request(ApiKey.Fetch, 4, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 4 << 20,
      isolationLevel: 0,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] }],
    } as never);
    const p = (answer as { responses: { partitions: { errorCode: number; records: Buffer | null }[] }[] }).responses[0]
      .partitions[0];
    assert.is(p.errorCode, ErrorCode.NONE, `fetch at ${offset}`);
    const before = offset;
    for (const batch of splitBatches(p.records ?? Buffer.alloc(0)).batches) {
      for (const record of await new RecordBatchView(batch).records()) {
        if (record.offset < offset) continue;
        out.set(record.offset, record.value!.toString().replace(/\.+$/, ''));
        offset = record.offset + 1;
      }
    }
    if (offset === before) break;
  }
  return out;
}

test('a full disk refuses cleanly, loses nothing acknowledged, reuses no offset, recovers', async () => {
  const mountPoint = tempDir('brook-diskfull-');
  if (!tryMount(mountPoint, '16m')) {
    console.log('skipped: mounting a tmpfs is not allowed here (needs root)');
    return;
  }
  let broker: BrokerProcess | null = null;
  try {
    const dataDir = path.join(mountPoint, 'data');
    fs.mkdirSync(dataDir);
    broker = await startBroker({ dataDir });
    const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
    await admin.createTopics([
      { name: TOPIC, partitions: 1, replicationFactor: 1, configs: { 'segment.bytes': String(1 << 20) } },
    ]);
    admin.close();
    let connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
    await connection.connect();

    const acked = new Map<number, string>();
    const refusals = new Map<number, number>();
    let consecutiveRefusals = 0;
    for (let i = 0; i < 4000 && consecutiveRefusals < 30; i++) {
      const value = `record-${i}`;
      const result = await produceOne(connection, value);
      if (result.errorCode === ErrorCode.NONE) {
        assert.not.ok(acked.has(result.offset), `offset ${result.offset} given twice`);
        acked.set(result.offset, value);
        consecutiveRefusals = 0;
      } else {
        refusals.set(result.errorCode, (refusals.get(result.errorCode) ?? 0) + 1);
        consecutiveRefusals++;
      }
    }
    console.log(`acknowledged ${acked.size}; refused ${JSON.stringify(Object.fromEntries(refusals))}`);
    assert.ok(acked.size > 100, 'some records fit');
    assert.ok(consecutiveRefusals >= 30, 'the disk filled up and produce was refused');
    assert.ok(
      [...refusals.keys()].every((code) => code === ErrorCode.KAFKA_STORAGE_ERROR),
      `refusals are KAFKA_STORAGE_ERROR: ${[...refusals.keys()]}`,
    );
    // The broker still answers: what was acknowledged is readable now.
    const during = await readAll(connection);
    for (const [offset, value] of acked) assert.is(during.get(offset), value, `offset ${offset} while full`);
    connection.close();

    // Free space and restart: everything acknowledged is there, and writes continue after it.
    assert.is(await broker.stop(), 0, 'a clean stop even with the disk full');
    execFileSync('mount', ['-o', 'remount,size=96m', mountPoint]);
    broker = await startBroker({ dataDir });
    connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
    await connection.connect();
    const after = await readAll(connection);
    for (const [offset, value] of acked) assert.is(after.get(offset), value, `offset ${offset} after restart`);
    const lastAcked = Math.max(...acked.keys());
    const next = await produceOne(connection, 'after-restart');
    assert.is(next.errorCode, ErrorCode.NONE, String(next.message));
    assert.ok(next.offset > lastAcked, `new offset ${next.offset} after ${lastAcked}`);
    connection.close();
  } finally {
    await broker?.stop();
    try {
      execFileSync('umount', ['-l', mountPoint]);
    } catch {
      // already unmounted
    }
  }
});

test.run();
