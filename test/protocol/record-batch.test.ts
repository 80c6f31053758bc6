// Record batch v2: a hand-checked byte vector, round trips through every codec, what the
// CRC covers and what it does not, and hostile bytes that must be refused, not thrown on.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compression, compress, decompress, CompressionError } from '../../protocol/compression';
import { crc32c, crc32cJs } from '../../protocol/crc32c';
import {
  encodeRecordBatch,
  encodeRecordBatchSync,
  fieldLength,
  RecordBatchBuilder,
  RecordBatchView,
  setProducerFields,
  splitBatches,
} from '../../protocol/record-batch';

test('CRC-32C check vectors, native and JavaScript agree', () => {
  assert.is(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.is(crc32cJs(Buffer.from('123456789')), 0xe3069283);
  assert.is(crc32c(Buffer.alloc(0)), 0);
  assert.is(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  const random = Buffer.from(Array.from({ length: 10000 }, (_, i) => (i * 7919) & 0xff));
  assert.is(crc32c(random, 13, 9000), crc32cJs(random, 13, 9000));
});

test('one record (key "k", value "v") encodes to the documented bytes', () => {
  const bytes = encodeRecordBatchSync({
    records: [{ key: 'k', value: 'v', timestamp: 0x0102030405 }],
    baseTimestamp: 0x0102030405,
  });
  const expected =
    '0000000000000000' + // baseOffset 0
    '0000003a' + // batchLength 58 = 49 header bytes after it + 9 record bytes
    'ffffffff' + // partitionLeaderEpoch -1
    '02' + // magic
    bytes.subarray(17, 21).toString('hex') + // crc, checked below
    '0000' + // attributes: no compression, CreateTime
    '00000000' + // lastOffsetDelta
    '0000000102030405' + // baseTimestamp
    '0000000102030405' + // maxTimestamp
    'ffffffffffffffff' + // producerId -1
    'ffff' + // producerEpoch -1
    'ffffffff' + // baseSequence -1
    '00000001' + // one record
    '10' + // record length 8 (zig-zag)
    '00' + // attributes
    '00' + // timestampDelta 0
    '00' + // offsetDelta 0
    '02' +
    '6b' + // key length 1, "k"
    '02' +
    '76' + // value length 1, "v"
    '00'; // no headers
  assert.is(bytes.toString('hex'), expected);
  const view = new RecordBatchView(bytes);
  assert.is(view.crc, crc32c(bytes, 21, bytes.length));
  assert.is(view.validate(), null);
});

test('round trip through every codec with keys, nulls, headers, timestamps', async () => {
  const records = [
    {
      key: 'a',
      value: 'x'.repeat(3000),
      timestamp: 1000,
      headers: [
        { key: 'h', value: 'v' },
        { key: 'n', value: null },
      ],
    },
    { key: null, value: null, timestamp: 1005 },
    { key: Buffer.from([0, 1, 2]), value: '', timestamp: 999 },
  ];
  for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const bytes = await encodeRecordBatch({
      records,
      compression: codec,
      producerId: 4,
      producerEpoch: 1,
      baseSequence: 10,
    });
    const view = new RecordBatchView(bytes);
    assert.is(view.validate(), null, `codec ${codec} valid`);
    assert.is(view.compression, codec);
    assert.equal([view.producerId, view.producerEpoch, view.baseSequence, view.lastSequence], [4, 1, 10, 12]);
    assert.equal([view.recordsCount, view.lastOffsetDelta, view.maxTimestamp], [3, 2, 1005]);
    const decoded = await view.records();
    assert.is(decoded[0].value!.toString(), 'x'.repeat(3000));
    assert.equal(
      decoded[0].headers.map((h) => [h.key, h.value?.toString() ?? null]),
      [
        ['h', 'v'],
        ['n', null],
      ],
    );
    assert.equal([decoded[1].key, decoded[1].value], [null, null]);
    assert.equal(
      [decoded[2].key, decoded[2].value!.length, decoded[2].timestamp, decoded[2].offset],
      [Buffer.from([0, 1, 2]), 0, 999, 2],
    );
  }
});

test('a builder fed one record at a time writes the same bytes as the whole-batch encoder, and grows when a record does not fit', async () => {
  const records = [
    {
      key: 'clé',
      value: 'x'.repeat(300),
      timestamp: 5000,
      headers: [
        { key: 'h', value: Buffer.from('v') },
        { key: 'n', value: null },
      ],
    },
    { key: null, value: Buffer.from([9, 8, 7]), timestamp: 4990 },
    { key: Buffer.alloc(0), value: null, timestamp: 2 ** 40 },
  ];
  const whole = encodeRecordBatchSync({ records, producerId: 7, producerEpoch: 2, baseSequence: 40 });
  const builder = new RecordBatchBuilder(64); // smaller than the first record: it must grow
  for (const r of records)
    builder.append(r.timestamp, r.key, fieldLength(r.key), r.value, fieldLength(r.value), r.headers);
  assert.is(builder.count, 3);
  const built = builder.build({ producerId: 7, producerEpoch: 2, baseSequence: 40 });
  assert.is(built.toString('hex'), whole.toString('hex'));
  assert.is(builder.sizeInBytes, built.length);
  const view = new RecordBatchView(built);
  assert.is(view.validate(), null);
  const decoded = await view.records();
  assert.equal(
    decoded.map((r) => [r.key?.toString() ?? null, r.value?.length ?? null, r.timestamp, r.offset]),
    [
      ['clé', 300, 5000, 0],
      [null, 3, 4990, 1],
      ['', null, 2 ** 40, 2],
    ],
  );
  assert.is(view.maxTimestamp, 2 ** 40);
  // A reused buffer: old contents are overwritten, the batch is only what was appended.
  const reused = new RecordBatchBuilder(Buffer.alloc(4096, 0xee));
  reused.append(5000, 'k', 1, 'v', 1);
  const small = reused.build();
  assert.is(small.length, reused.sizeInBytes);
  assert.is(new RecordBatchView(small).validate(), null);
  // Compressed from the same builder.
  const gz = await builder.buildCompressed(Compression.Gzip, { producerId: 7, producerEpoch: 2, baseSequence: 40 });
  assert.is(new RecordBatchView(gz).validate(), null);
  assert.equal(
    (await new RecordBatchView(gz).records()).map((r) => r.value?.length ?? null),
    [300, 3, null],
  );
});

test('setProducerFields renumbers a finished batch and keeps its CRC right; a field of a wrong type is refused before any byte is written', () => {
  const batch = encodeRecordBatchSync({
    records: [{ value: 'a' }, { value: 'b' }],
    producerId: 3,
    producerEpoch: 0,
    baseSequence: 10,
  });
  const copy = Buffer.from(batch);
  setProducerFields(copy, { producerId: 3, producerEpoch: 0, baseSequence: 4 });
  const view = new RecordBatchView(copy);
  assert.is(view.validate(), null);
  assert.equal([view.baseSequence, view.lastSequence, view.producerId], [4, 5, 3]);
  assert.ok(copy.subarray(61).equals(batch.subarray(61)), 'records untouched');
  assert.throws(() => fieldLength(42 as any), /must be a Buffer, a string or null, got number/);
  assert.throws(() => encodeRecordBatchSync({ records: [{ value: { a: 1 } as any }] }), TypeError);
  const builder = new RecordBatchBuilder(128);
  assert.throws(() => builder.append(0, null, -1, 'v', 1, [{ key: 7 as any, value: null }]), TypeError);
  assert.is(builder.count, 0);
  assert.is(builder.sizeInBytes, 61);
});

test('the CRC covers attributes onwards but not base offset or leader epoch', () => {
  const bytes = encodeRecordBatchSync({ records: [{ value: 'payload' }] });
  const view = new RecordBatchView(bytes);
  view.setBaseOffset(123456789);
  view.setPartitionLeaderEpoch(42);
  assert.is(view.validate(), null);
  assert.equal([view.baseOffset, view.partitionLeaderEpoch], [123456789, 42]);
  for (const position of [21, 30, 60, bytes.length - 1]) {
    const copy = Buffer.from(bytes);
    copy[position] ^= 0x01;
    assert.match(new RecordBatchView(copy).validate() ?? '', /CRC/, `flip at ${position}`);
  }
});

test('hostile bytes are refused with a reason, never thrown', () => {
  const good = encodeRecordBatchSync({ records: [{ value: 'v' }, { value: 'w' }] });
  const cases: Buffer[] = [Buffer.alloc(0), Buffer.alloc(10), good.subarray(0, 40), good.subarray(0, good.length - 1)];
  const wrongMagic = Buffer.from(good);
  wrongMagic[16] = 1;
  cases.push(wrongMagic);
  const hugeLength = Buffer.from(good);
  hugeLength.writeInt32BE(0x7ffffff0, 8);
  cases.push(hugeLength);
  for (let seed = 1; seed < 200; seed++) {
    const noise = Buffer.from(good);
    noise[(seed * 31) % noise.length] = (seed * 97) & 0xff;
    cases.push(noise);
  }
  for (const bytes of cases) {
    const problem = new RecordBatchView(bytes).validate();
    if (bytes.equals(good)) continue;
    assert.type(problem === null ? 'ok' : problem, 'string');
  }
  assert.ok(new RecordBatchView(good.subarray(0, good.length - 1)).validate());
});

test('splitBatches cuts whole batches and refuses partial tails', () => {
  const a = encodeRecordBatchSync({ records: [{ value: 'a' }] });
  const b = encodeRecordBatchSync({ records: [{ value: 'b' }, { value: 'c' }] });
  const both = splitBatches(Buffer.concat([a, b]));
  assert.is(both.error, undefined);
  assert.equal(
    both.batches.map((x) => x.length),
    [a.length, b.length],
  );
  assert.ok(splitBatches(Buffer.concat([a, b.subarray(0, 30)])).error);
  assert.ok(splitBatches(Buffer.concat([a, b.subarray(0, 5)])).error);
});

test('decompression is bounded and garbage is a CompressionError', async () => {
  const zeros = Buffer.alloc(5 * 1024 * 1024);
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const packed = await compress(codec, zeros);
    assert.ok(packed.length < zeros.length / 10);
    try {
      await decompress(codec, packed, 1024 * 1024);
      assert.unreachable(`codec ${codec} should refuse to inflate past the limit`);
    } catch (error) {
      assert.instance(error, CompressionError);
    }
    try {
      await decompress(codec, Buffer.from('definitely not compressed data at all'));
      if (codec !== Compression.Snappy) assert.unreachable(`codec ${codec} accepted garbage`);
    } catch (error) {
      assert.instance(error, CompressionError);
    }
  }
});

test('snappy: xerial framing is written, raw snappy is read too', async () => {
  const input = Buffer.from('hello hello hello hello snappy');
  const framed = await compress(Compression.Snappy, input);
  assert.is(framed.subarray(0, 8).toString('hex'), '82534e4150505900');
  assert.equal(await decompress(Compression.Snappy, framed), input);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const raw: Buffer = require('snappy').compressSync(input);
  assert.equal(await decompress(Compression.Snappy, raw), input);
});

test('producer-batch rules: record count, offset deltas, record bodies used up exactly', () => {
  const good = encodeRecordBatchSync({
    records: [{ key: 'k', value: 'v', headers: [{ key: 'h', value: 'x' }] }, { value: 'w' }],
  });
  assert.is(new RecordBatchView(good).validate(), null);
  const reseal = (bytes: Buffer) => {
    bytes.writeUInt32BE(crc32c(bytes, 21, bytes.length), 17);
    return new RecordBatchView(bytes).validate();
  };
  const countMismatch = Buffer.from(good);
  countMismatch.writeInt32BE(5, 23); // lastOffsetDelta 5 for 2 records
  assert.match(reseal(countMismatch) ?? '', /does not match/);
  const zero = encodeRecordBatchSync({ records: [{ value: 'v' }] });
  zero.writeInt32BE(0, 57);
  assert.match(reseal(zero) ?? '', /record count 0/);
  // A header count that claims one more header than the record holds.
  const single = encodeRecordBatchSync({ records: [{ value: 'v' }] });
  single[single.length - 1] = 0x02;
  assert.ok(reseal(single), 'header that is not there is refused');
  // One stray byte inside a record body (record length bumped, batch length bumped).
  const stray = Buffer.concat([
    single.subarray(0, 61),
    Buffer.from([single[61] + 2]),
    single.subarray(62, single.length - 1),
    Buffer.from([0, 0]),
  ]);
  stray.writeInt32BE(stray.length - 12, 8);
  assert.match(reseal(stray) ?? '', /stray bytes/);
});
test.run();
