// Compression interop: Brook's codecs decode what independent implementations wrote (the
// gzip, zstd and lz4 tools, snappy streams assembled by hand, record batches from kafkajs),
// and Brook writes the framings that Kafka's clients read. Fixtures are committed under
// test/fixtures/compression/ (generate.sh rebuilds them), so no tool is needed here.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compression, CompressionError, compress, decompress } from '../../protocol/compression';
import { crc32c } from '../../protocol/crc32c';
import {
  lz4DecompressedBytesBound,
  snappyDecompressedBytesBound,
  zstdDecompressedBytesBound,
} from '../../protocol/compression/size-bound';
import { RecordBatchView } from '../../protocol/record-batch';

// Compiled to dist/test/protocol/, so the project root is three levels up.
const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'compression');

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

/** The payload generate.sh compressed: `seq 1 12000 | sed 's/^/record-/'`. */
const PAYLOAD = Buffer.from(Array.from({ length: 12000 }, (_, i) => `record-${i + 1}\n`).join(''));

const CLI_FIXTURES: [string, Compression][] = [
  ['payload.gz', Compression.Gzip],
  ['payload-two-members.gz', Compression.Gzip],
  ['payload.zst', Compression.Zstd],
  ['payload-no-content-size.zst', Compression.Zstd],
  ['payload-two-frames.zst', Compression.Zstd],
  ['payload-64k.lz4', Compression.Lz4],
  ['payload-checksums.lz4', Compression.Lz4],
];

/** Fixtures whose exact size is known before inflating: gzip streams, sized frames. */
const EXACT_SIZE_FIXTURES: [string, Compression][] = [
  ['payload.gz', Compression.Gzip],
  ['payload-two-members.gz', Compression.Gzip],
  ['payload.zst', Compression.Zstd],
  ['payload-checksums.lz4', Compression.Lz4],
];

async function expectCompressionError(promise: Promise<unknown>, label: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, CompressionError, label);
    return;
  }
  assert.unreachable(`${label}: no error`);
}

test('the payload matches what generate.sh compressed', () => {
  assert.is(PAYLOAD.length, 144894);
});

test('decodes what the gzip, zstd and lz4 command-line tools wrote', async () => {
  for (const [name, codec] of CLI_FIXTURES) {
    const out = await decompress(codec, fixture(name));
    assert.ok(out.equals(PAYLOAD), name);
  }
});

test('the size limit applies to every fixture, with a CompressionError', async () => {
  for (const [name, codec] of CLI_FIXTURES) {
    await expectCompressionError(decompress(codec, fixture(name), 64 * 1024), name);
    // Frames that do not declare their size may be refused up to one block maximum early
    // (the bound is read from headers before inflating), so leave that much headroom.
    const roomy = await decompress(codec, fixture(name), PAYLOAD.length + 256 * 1024);
    assert.is(roomy.length, PAYLOAD.length, `${name} under a roomy limit`);
  }
  for (const [name, codec] of EXACT_SIZE_FIXTURES) {
    const exact = await decompress(codec, fixture(name), PAYLOAD.length);
    assert.is(exact.length, PAYLOAD.length, `${name} at exactly the limit`);
  }
});

test('truncated and bit-flipped streams are CompressionErrors, never other throws', async () => {
  for (const [name, codec] of CLI_FIXTURES) {
    const whole = fixture(name);
    await expectCompressionError(decompress(codec, whole.subarray(0, whole.length >> 1)), `${name} cut in half`);
    await expectCompressionError(decompress(codec, whole.subarray(0, 3)), `${name} cut to 3 bytes`);
  }
  // Flipping a byte inside the checksummed zstd and lz4 frames must not yield wrong data.
  for (const name of ['payload.zst', 'payload-checksums.lz4']) {
    const codec = name.endsWith('.zst') ? Compression.Zstd : Compression.Lz4;
    const damaged = Buffer.from(fixture(name));
    damaged[damaged.length >> 1] ^= 0x40;
    await expectCompressionError(decompress(codec, damaged), `${name} with a flipped byte`);
  }
});

test('snappy: a hand-assembled raw stream (librdkafka writes raw snappy)', async () => {
  const out = await decompress(Compression.Snappy, fixture('hello.snappy-raw'));
  assert.is(out.toString(), 'hello hello hello hello!');
});

test('snappy: a hand-assembled xerial stream of two chunks (the Java client framing)', async () => {
  const out = await decompress(Compression.Snappy, fixture('hello.snappy-xerial'));
  assert.is(out.toString(), 'hello hello hello hello!');
  await expectCompressionError(
    decompress(Compression.Snappy, fixture('hello.snappy-xerial'), 20),
    'xerial over the limit',
  );
  const truncated = fixture('hello.snappy-xerial').subarray(0, 30);
  await expectCompressionError(decompress(Compression.Snappy, truncated), 'xerial chunk cut short');
});

test('snappy: Brook writes xerial framing, version 1, compatible 1, chunks of at most 32 KiB', async () => {
  const framed = await compress(Compression.Snappy, PAYLOAD);
  assert.is(framed.subarray(0, 8).toString('hex'), '82534e4150505900');
  assert.equal([framed.readInt32BE(8), framed.readInt32BE(12)], [1, 1]);
  let offset = 16;
  let chunks = 0;
  while (offset < framed.length) {
    const length = framed.readInt32BE(offset);
    const chunk = framed.subarray(offset + 4, offset + 4 + length);
    // The raw block's preamble is its uncompressed length as a uvarint.
    let uncompressed = 0;
    for (let i = 0, shift = 0; i < 5; i++, shift += 7) {
      uncompressed += (chunk[i] & 0x7f) * 2 ** shift;
      if (chunk[i] < 0x80) break;
    }
    assert.ok(uncompressed <= 32 * 1024, `chunk ${chunks} holds ${uncompressed} bytes`);
    offset += 4 + length;
    chunks++;
  }
  assert.is(offset, framed.length);
  assert.is(chunks, Math.ceil(PAYLOAD.length / (32 * 1024)));
  assert.ok((await decompress(Compression.Snappy, framed)).equals(PAYLOAD));
});

test("lz4: Brook writes LZ4 frames with independent blocks, as Kafka's Java reader needs", async () => {
  // The Java client's Lz4BlockInputStream decompresses each block on its own, without the
  // previous block as a dictionary, so linked blocks would not decode there.
  const frame = await compress(Compression.Lz4, PAYLOAD);
  assert.is(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
  const flags = frame[4];
  assert.is(flags >> 6, 1, 'frame version 01');
  assert.ok(flags & 0x20, 'block independence flag set');
  const blockSizeCode = (frame[5] >> 4) & 0x07;
  assert.ok(blockSizeCode >= 4 && blockSizeCode <= 7, `block size code ${blockSizeCode}`);
  assert.ok((await decompress(Compression.Lz4, frame)).equals(PAYLOAD));
});

test("gzip and zstd: Brook's output carries the standard magic numbers", async () => {
  const gz = await compress(Compression.Gzip, PAYLOAD);
  assert.is(gz.subarray(0, 2).toString('hex'), '1f8b');
  const zst = await compress(Compression.Zstd, PAYLOAD);
  assert.is(zst.readUInt32LE(0), 0xfd2fb528);
});

test('every codec round-trips empty input and one byte', async () => {
  for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    for (const input of [Buffer.alloc(0), Buffer.from([0x42])]) {
      const out = await decompress(codec, await compress(codec, input));
      assert.ok(out.equals(input), `codec ${codec}, ${input.length} bytes`);
    }
  }
});

test('unknown codecs are refused both ways', async () => {
  await expectCompressionError(decompress(5 as Compression, Buffer.from('x')), 'decompress codec 5');
  try {
    await compress(7 as Compression, Buffer.from('x'));
    assert.unreachable('compress codec 7');
  } catch (error) {
    assert.instance(error, CompressionError);
  }
});

test('record batches encoded by kafkajs validate and decode (uncompressed and gzip)', async () => {
  for (const [name, codec] of [
    ['none', Compression.None],
    ['gzip', Compression.Gzip],
  ] as const) {
    const bytes = fixture(`kafkajs-batch-${name}.bin`);
    const view = new RecordBatchView(bytes);
    assert.is(view.validate(), null, name);
    assert.is(view.compression, codec);
    assert.is(view.totalSize, bytes.length);
    assert.is(view.crc, crc32c(bytes, 21, bytes.length));
    assert.equal(
      [view.baseOffset, view.recordsCount, view.lastOffsetDelta, view.baseTimestamp, view.maxTimestamp],
      [0, 3, 2, 1700000000000, 1700000000007],
    );
    assert.equal([view.producerId, view.producerEpoch, view.baseSequence], [7, 1, 3]);
    const records = await view.records();
    assert.equal(
      records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
      [
        [0, 1700000000000, 'k', 'v'],
        [1, 1700000000005, null, 'second'],
        [2, 1700000000007, 'k3', null],
      ],
    );
    assert.equal(
      records[0].headers.map((h) => [h.key, h.value?.toString()]),
      [['h', '1']],
    );
  }
});

const BOUNDS = {
  [Compression.Zstd]: (buf: Buffer) => zstdDecompressedBytesBound(buf),
  [Compression.Lz4]: (buf: Buffer) => lz4DecompressedBytesBound(buf),
} as const;

test('size bounds from headers cover every zstd and lz4 fixture, and stay close', () => {
  for (const [name, codec] of CLI_FIXTURES) {
    if (codec !== Compression.Zstd && codec !== Compression.Lz4) continue;
    const bound = BOUNDS[codec](fixture(name));
    assert.is(bound.error, undefined, name);
    assert.ok(bound.bytesMax! >= PAYLOAD.length, `${name}: ${bound.bytesMax} covers the payload`);
    // At most one block maximum (128 KiB zstd, 64 KiB lz4 here) above the truth per frame.
    assert.ok(bound.bytesMax! <= PAYLOAD.length + 2 * 128 * 1024, `${name}: ${bound.bytesMax} is tight`);
  }
  // Frames that declare their content size are bounded exactly.
  assert.is(zstdDecompressedBytesBound(fixture('payload.zst')).bytesMax, PAYLOAD.length);
  assert.is(lz4DecompressedBytesBound(fixture('payload-checksums.lz4')).bytesMax, PAYLOAD.length);
});

test('size bounds: a small zstd or lz4 bomb is seen as large before inflating it', async () => {
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  for (const codec of [Compression.Zstd, Compression.Lz4] as const) {
    const packed = await compress(codec, zeros);
    assert.ok(packed.length < zeros.length / 100, `codec ${codec} packs zeros ${packed.length}`);
    const bound = BOUNDS[codec](packed);
    assert.ok(bound.bytesMax! >= zeros.length, `codec ${codec}: bound ${bound.bytesMax}`);
  }
  // Without a declared content size (as zstd-jni streams it), the block walk still counts.
  const streamed = Buffer.from(fixture('payload-no-content-size.zst'));
  assert.ok(zstdDecompressedBytesBound(streamed).bytesMax! >= PAYLOAD.length);
});

test('size bounds: a declared content size larger than the blocks can hold is refused', () => {
  const frame = Buffer.from(fixture('payload.zst'));
  // payload.zst is a single-segment frame (no window byte) declaring its size in a 4-byte
  // field (flag 2) right after the descriptor.
  assert.is(frame[4] >> 6, 2);
  assert.ok(frame[4] & 0x20);
  assert.is(frame.readUInt32LE(5), PAYLOAD.length);
  frame.writeUInt32LE(0xfffffff0, 5);
  assert.match(zstdDecompressedBytesBound(frame).error ?? '', /declares/);
});

test('size bounds: snappy preambles give exact sizes, raw and xerial', async () => {
  assert.equal(snappyDecompressedBytesBound(fixture('hello.snappy-raw'), false), { bytesMax: 24 });
  assert.equal(snappyDecompressedBytesBound(fixture('hello.snappy-xerial'), true), { bytesMax: 24 });
  const framed = await compress(Compression.Snappy, PAYLOAD);
  assert.equal(snappyDecompressedBytesBound(framed, true), { bytesMax: PAYLOAD.length });
  assert.ok(snappyDecompressedBytesBound(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), false).error);
  assert.ok(snappyDecompressedBytesBound(fixture('hello.snappy-xerial').subarray(0, 30), true).error);
});

test('size bounds never throw on garbage, truncation or stray magic', () => {
  let state = 0x2545f491;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const inputs: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40]),
  ];
  for (const name of ['payload.zst', 'payload-two-frames.zst', 'payload-64k.lz4', 'payload-checksums.lz4']) {
    const whole = fixture(name);
    for (let cut = 0; cut < 40; cut++) inputs.push(whole.subarray(0, cut));
    for (let i = 0; i < 200; i++) {
      const damaged = Buffer.from(whole.subarray(0, 256));
      damaged[4 + (next() % 60)] = next() & 0xff;
      inputs.push(damaged);
    }
  }
  for (const input of inputs) {
    for (const bound of [
      zstdDecompressedBytesBound(input),
      lz4DecompressedBytesBound(input),
      snappyDecompressedBytesBound(input, true),
      snappyDecompressedBytesBound(input, false),
    ]) {
      assert.ok(bound.error !== undefined || (Number.isFinite(bound.bytesMax) && bound.bytesMax! >= 0));
    }
  }
});

test.run();
