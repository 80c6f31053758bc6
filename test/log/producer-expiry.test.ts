// Idempotent producer state is bounded per partition: a producer silent for
// producer.id.expiration.ms is forgotten (as Kafka's ProducerStateManager forgets it), past
// brook.max.producer.ids.per.partition the least recently written producer goes first, a
// forgotten producer must start again at sequence 0, and the last timestamps survive the
// binary snapshot (the older snapshot version is still read).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { ProducerStateTable } from '../../src/log/producer-state';

const DAY = 86_400_000;
const batch = (seq: number) => ({ firstSeq: seq, lastSeq: seq, firstOffset: seq, lastOffset: seq });

test('a producer silent for the expiration time is forgotten; one that wrote recently is kept', () => {
  const table = new ProducerStateTable();
  table.record(1, 0, batch(0), 1_000);
  table.record(2, 0, batch(0), 1_000 + DAY / 2);
  assert.is(table.expire(1_000 + DAY, DAY), 1);
  assert.is(table.entry(1), undefined);
  assert.ok(table.entry(2));
  // Forgotten: its next batch must start at sequence 0.
  assert.is((table.check(1, 0, 1, 1) as { errorCode: number }).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(table.check(1, 0, 0, 0), { kind: 'append' });
});

test('past the bound the least recently written producer goes first', () => {
  const table = new ProducerStateTable(3);
  table.record(1, 0, batch(0), 10);
  table.record(2, 0, batch(0), 20);
  table.record(3, 0, batch(0), 30);
  table.record(1, 0, batch(1), 40); // 1 wrote again: now 2 is the least recent
  table.record(4, 0, batch(0), 50);
  assert.is(table.size, 3);
  assert.is(table.entry(2), undefined);
  assert.ok(table.entry(1) && table.entry(3) && table.entry(4));
});

test('last timestamps survive the snapshot; a version-1 snapshot still loads', () => {
  const table = new ProducerStateTable();
  table.record(7, 2, batch(0), 123_456);
  const copy = ProducerStateTable.decodeSnapshot(table.encodeSnapshot())!;
  assert.is(copy.entry(7)!.lastTimestamp, 123_456);
  // A version-1 snapshot: the same without the timestamp field.
  const v2 = table.encodeSnapshot();
  const v1 = Buffer.concat([v2.subarray(0, 10), v2.subarray(10, 20), v2.subarray(28)]);
  v1.writeInt16BE(1, 0);
  const { crc32c } = require('../../protocol/crc32c') as typeof import('../../protocol/crc32c');
  v1.writeUInt32BE(crc32c(v1, 6), 2);
  const old = ProducerStateTable.decodeSnapshot(v1)!;
  assert.is(old.entry(7)!.epoch, 2);
  assert.is(old.entry(7)!.lastTimestamp, -1);
  // Unknown age: dated at the first check, so it is kept a full period.
  assert.is(old.expire(5_000, DAY), 0);
  assert.is(old.expire(5_000 + DAY, DAY), 1);
});

test('the log manager expires producers in every partition, and bounds each', async () => {
  let now = 1_700_000_000_000;
  const fs = new MemoryFileSystem();
  const logs = new LogManager({
    dataDir: '/data',
    fs,
    clock: () => now,
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 1 << 30,
    maxProducerIdsPerPartition: 5,
    producerIdExpirationMs: DAY,
  });
  await logs.open();
  const log = logs.getOrCreate('t', 0, {});
  for (let producerId = 1; producerId <= 8; producerId++) {
    const records = encodeRecordBatchSync({
      records: [{ value: 'v', timestamp: now }],
      producerId,
      producerEpoch: 0,
      baseSequence: 0,
      baseTimestamp: now,
    });
    assert.is(log.append([records], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
  }
  assert.is(log.producerCount, 5, 'bounded at brook.max.producer.ids.per.partition');
  now += DAY;
  assert.is(logs.expireProducers(), 5);
  assert.is(log.producerCount, 0);
  logs.close();
});

test.run();
