// The leader's conversion of produced batches: recompression to the topic's codec keeps
// every record, offset delta, timestamp and producer field and writes a valid CRC;
// LogAppendTime stamps the max timestamp and the timestamp-type bit, CRC rewritten; levels
// reach the codecs; large lz4 and snappy batches go through the worker pool.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compression } from '../../protocol/compression';
import { encodeRecordBatch, RecordBatchView } from '../../protocol/record-batch';
import {
  batchConversion,
  convertBatches,
  LazyWorkerPool,
  RECOMPRESS_POOL_MIN_BYTES,
} from '../../src/broker/batch-conversion';

const T0 = 1_700_000_000_000;

/** Text that compresses, but more at higher levels (words picked by a fixed LCG). */
function text(seed: number, bytes: number): string {
  const words = ['broker', 'topic', 'offset', 'leader', 'replica', 'segment', 'batch', 'record', 'epoch', 'quorum'];
  let state = seed;
  let out = '';
  while (out.length < bytes) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += words[state % words.length] + (state % 7 === 0 ? '.' : ' ');
  }
  return out.slice(0, bytes);
}

function batch(compression: Compression, count = 20, valueBytes = 100): Promise<Buffer> {
  return encodeRecordBatch({
    compression,
    producerId: 4242,
    producerEpoch: 3,
    baseSequence: 17,
    records: Array.from({ length: count }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}-${text(i + 1, valueBytes)}`,
      timestamp: T0 + i * 10,
      headers: [{ key: 'h', value: `${i}` }],
    })),
  });
}

async function summary(bytes: Buffer) {
  const view = new RecordBatchView(bytes);
  assert.is(view.validate(), null, 'structure and CRC');
  const records = await view.records();
  return {
    producer: [view.producerId, view.producerEpoch, view.baseSequence, view.lastOffsetDelta, view.baseTimestamp],
    records: records.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers.length]),
  };
}

const config = (entries: Record<string, string>) => ({
  'compression.type': 'producer',
  'message.timestamp.type': 'CreateTime',
  'compression.gzip.level': '-1',
  'compression.zstd.level': '3',
  ...entries,
});

test('producer and CreateTime: the batches are returned untouched', async () => {
  const input = [await batch(Compression.Lz4)];
  const out = await convertBatches(input, batchConversion(config({}), T0, 1 << 24));
  assert.is(out[0], input[0]);
});

for (const [from, to] of [
  [Compression.None, 'zstd'],
  [Compression.Gzip, 'lz4'],
  [Compression.Snappy, 'gzip'],
  [Compression.Zstd, 'snappy'],
  [Compression.Lz4, 'uncompressed'],
] as const) {
  test(`recompression from codec ${from} to ${to} keeps every record and producer field`, async () => {
    const original = await batch(from);
    const before = await summary(original);
    const [converted] = await convertBatches(
      [original],
      batchConversion(config({ 'compression.type': to }), T0, 1 << 24),
    );
    const view = new RecordBatchView(converted);
    assert.is(view.compression, to === 'uncompressed' ? Compression.None : { zstd: 4, lz4: 3, gzip: 1, snappy: 2 }[to]);
    assert.is(view.timestampType, 0);
    assert.equal(await summary(converted), before);
  });
}

test('a records section validation already decompressed is compressed again, not decompressed twice', async () => {
  const original = await batch(Compression.Gzip);
  const before = await summary(original);
  let plain: Buffer | null = null;
  assert.is(await new RecordBatchView(original).validateCompressed(1 << 24, undefined, (p) => (plain = p)), null);
  assert.ok(plain);
  const [converted] = await convertBatches(
    [original],
    batchConversion(config({ 'compression.type': 'zstd' }), T0, 1 << 24),
    null,
    new Map([[original, plain!]]),
  );
  assert.is(new RecordBatchView(converted).compression, Compression.Zstd);
  assert.equal(await summary(converted), before);
});

test('zstd and gzip levels reach the codec', async () => {
  const original = await batch(Compression.None, 200, 2000);
  const sizes = async (entries: Record<string, string>) =>
    (await convertBatches([original], batchConversion(config(entries), T0, 1 << 24)))[0].length;
  assert.ok(
    (await sizes({ 'compression.type': 'zstd', 'compression.zstd.level': '19' })) <
      (await sizes({ 'compression.type': 'zstd', 'compression.zstd.level': '-50' })),
    'zstd 19 is smaller than zstd -50',
  );
  assert.ok(
    (await sizes({ 'compression.type': 'gzip', 'compression.gzip.level': '9' })) <=
      (await sizes({ 'compression.type': 'gzip', 'compression.gzip.level': '1' })),
  );
});

test('LogAppendTime: max timestamp and type bit set, CRC rewritten, records kept', async () => {
  for (const codec of [Compression.None, Compression.Zstd]) {
    const original = await batch(codec);
    const before = await summary(original);
    const [stamped] = await convertBatches(
      [original],
      batchConversion(config({ 'message.timestamp.type': 'LogAppendTime' }), T0 + 99_999, 1 << 24),
    );
    const view = new RecordBatchView(stamped);
    assert.is(view.timestampType, 1);
    assert.is(view.maxTimestamp, T0 + 99_999);
    assert.is(view.baseTimestamp, T0);
    assert.is(view.compression, codec);
    assert.equal((await summary(stamped)).producer, before.producer);
  }
});

test('a large batch to snappy is recompressed on the worker pool, with the same result', async () => {
  const original = await batch(Compression.None, 600, 2000);
  assert.ok(original.length >= RECOMPRESS_POOL_MIN_BYTES);
  const before = await summary(original);
  const pool = new LazyWorkerPool();
  try {
    const [converted] = await convertBatches(
      [original],
      batchConversion(config({ 'compression.type': 'snappy', 'message.timestamp.type': 'LogAppendTime' }), T0, 1 << 24),
      pool,
    );
    const view = new RecordBatchView(converted);
    assert.is(view.compression, Compression.Snappy);
    assert.is(view.timestampType, 1);
    assert.equal((await summary(converted)).records, before.records);
  } finally {
    await pool.close();
  }
});

test.run();
