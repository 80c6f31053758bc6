// Record-level checks of produced batches: a compressed batch is decompressed (within a
// bound) and every record walked, as Kafka's LogValidator does; record timestamps are
// checked against a create-time window, records without a timestamp (-1) excepted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync, RecordBatchView, TimestampWindow } from '../../protocol/record-batch';
import { gzipBatch, gzipBomb, swapFirstOffsetDeltas } from '../helpers/batches';

const NOW = 1_700_000_000_000;
const records = [{ value: 'a' }, { value: 'b' }, { value: 'c' }].map((r) => ({ ...r, timestamp: NOW }));

test('a good gzip batch passes the record walk', async () => {
  const view = new RecordBatchView(gzipBatch(records));
  assert.is(view.validate(), null);
  assert.is(await view.validateCompressed(1 << 20), null);
});

test('a gzip batch whose records are out of order is caught only by the record walk', async () => {
  const view = new RecordBatchView(gzipBatch(records, swapFirstOffsetDeltas));
  assert.is(view.validate(), null, 'the header alone looks fine');
  assert.match((await view.validateCompressed(1 << 20)) ?? '', /offset delta out of sequence/);
});

test('a gzip batch claiming more records than it holds is refused', async () => {
  const batch = gzipBatch(records);
  const fewer = gzipBatch(records.slice(0, 2));
  // Three records claimed in the header, two inside.
  const lying = Buffer.concat([batch.subarray(0, 61), fewer.subarray(61)]);
  lying.writeInt32BE(lying.length - 12, 8);
  const { crc32c } = await import('../../protocol/crc32c');
  lying.writeUInt32BE(crc32c(lying, 21, lying.length), 17);
  const view = new RecordBatchView(lying);
  assert.is(view.validate(), null);
  assert.match((await view.validateCompressed(1 << 20)) ?? '', /overruns|record 2/);
});

test('a decompression bomb stops at the bound, not in memory', async () => {
  const view = new RecordBatchView(gzipBomb(32 << 20));
  assert.ok(view.totalSize < 1 << 20, `the bomb is small on the wire (${view.totalSize} bytes)`);
  assert.match((await view.validateCompressed(1 << 20)) ?? '', /do not decompress/);
});

test('garbage where the gzip payload should be is refused with a reason', async () => {
  const batch = gzipBatch(records);
  batch.fill(0x41, 61);
  const { crc32c } = await import('../../protocol/crc32c');
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  assert.match((await new RecordBatchView(batch).validateCompressed(1 << 20)) ?? '', /do not decompress/);
});

test('timestamps outside the window are noted, uncompressed and compressed; -1 is not checked', async () => {
  const window = (): TimestampWindow => ({ low: NOW - 1000, high: NOW + 1000 });
  const inside = window();
  assert.is(new RecordBatchView(encodeRecordBatchSync({ records })).validate(inside), null);
  assert.is(inside.outside, undefined);

  const future = [
    { value: 'a', timestamp: NOW },
    { value: 'b', timestamp: NOW + 5000 },
  ];
  const plain = window();
  assert.is(new RecordBatchView(encodeRecordBatchSync({ records: future })).validate(plain), null);
  assert.equal(plain.outside, { index: 1, timestamp: NOW + 5000 });

  const zipped = window();
  assert.is(await new RecordBatchView(gzipBatch(future)).validateCompressed(1 << 20, zipped), null);
  assert.equal(zipped.outside, { index: 1, timestamp: NOW + 5000 });

  const none = window();
  const untimed = encodeRecordBatchSync({ records: [{ value: 'a', timestamp: -1 }], baseTimestamp: -1 });
  assert.is(new RecordBatchView(untimed).validate(none), null);
  assert.is(none.outside, undefined);
});

test.run();
