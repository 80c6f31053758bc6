// CRC-32C: published check values, and the native and JavaScript implementations agreeing
// on every alignment and tail length the slice-by-8 loop can meet, and (for Brook's own
// native version) on every length around its interleaved block boundaries.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32c, crc32cImplementation, crc32cJs, loadBrookNative, loadNodeRs } from '../../protocol/crc32c';

/** A small seeded generator (xorshift32) so any failure replays exactly. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

// RFC 3720 (iSCSI) appendix B.4 lists these CRC-32C results byte-reversed; the values
// below are those bytes read as little-endian integers. "123456789" is the usual check.
const VECTORS: [string, Buffer, number][] = [
  ['empty', Buffer.alloc(0), 0],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', Buffer.alloc(32), 0x8a9136aa],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 incrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 decrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
];

test('published check values, through both implementations', () => {
  for (const [name, input, expected] of VECTORS) {
    assert.is(crc32c(input), expected, `${name} (${crc32cImplementation})`);
    assert.is(crc32cJs(input), expected, `${name} (js)`);
  }
});

test('results are unsigned 32-bit numbers', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const value = crc32c(bytes(seed, 40));
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `seed ${seed}: ${value}`);
  }
});

test('start and end select the same bytes as a subarray', () => {
  const input = Buffer.concat([Buffer.from('xx'), Buffer.from('123456789'), Buffer.from('yyy')]);
  assert.is(crc32c(input, 2, 11), 0xe3069283);
  assert.is(crc32cJs(input, 2, 11), 0xe3069283);
  assert.is(crc32c(input, 5, 5), 0);
  assert.is(crc32c(input, 2), crc32c(input.subarray(2)));
});

test('native and JavaScript agree at every offset and tail length', () => {
  const input = bytes(0x5eed, 200);
  for (let start = 0; start < 9; start++) {
    for (let length = 0; length <= 70; length++) {
      const end = start + length;
      assert.is(crc32c(input, start, end), crc32cJs(input, start, end), `start ${start} length ${length}`);
    }
  }
});

test('native and JavaScript agree on large seeded buffers', () => {
  for (const [seed, length] of [
    [7, 1024],
    [8, 16 * 1024 + 3],
    [9, 1024 * 1024 + 5],
  ]) {
    const input = bytes(seed, length);
    assert.is(crc32c(input), crc32cJs(input), `seed ${seed} length ${length}`);
  }
});

test('a Buffer that is a view into a larger allocation is read from its own start', () => {
  const backing = Buffer.concat([Buffer.alloc(13, 0xaa), Buffer.from('123456789'), Buffer.alloc(7, 0xbb)]);
  const view = backing.subarray(13, 22);
  assert.is(crc32c(view), 0xe3069283);
  assert.is(crc32cJs(view), 0xe3069283);
});

const brookNative = loadBrookNative();

test('the implementation in use is the fastest that loads', () => {
  const expected = process.env.BROOK_CRC32C
    ? crc32cImplementation
    : brookNative
      ? 'brook-native'
      : loadNodeRs()
        ? 'node-rs'
        : 'js';
  assert.is(crc32cImplementation, expected);
  // CI builds the native version (npm install runs scripts/build-native.js): its absence there is a failure.
  if (process.env.BROOK_REQUIRE_NATIVE_CRC === '1')
    assert.ok(brookNative, 'protocol/native was not built or did not load');
});

test("Brook's native version agrees with JavaScript across its block boundaries", () => {
  if (!brookNative) return;
  // Three streams of 8192 bytes (24576) and of 256 bytes (768), then 8-byte words and bytes.
  const input = bytes(0xb00c, 3 * 24576 + 3 * 768 + 64);
  const lengths = new Set<number>();
  for (let n = 0; n <= 800; n++) lengths.add(n);
  for (const block of [768, 24576])
    for (let k = 1; k <= 3; k++) for (let d = -9; d <= 9; d++) lengths.add(block * k + d);
  lengths.add(24576 + 768 + 8 + 1);
  for (const length of lengths) {
    if (length < 0) continue;
    for (const start of [0, 1, 5]) {
      if (start + length > input.length) continue;
      assert.is(
        brookNative(input, start, start + length),
        crc32cJs(input, start, start + length),
        `start ${start} length ${length}`,
      );
    }
  }
});

test("Brook's native version refuses what is not a byte range", () => {
  if (!brookNative) return;
  const input = Buffer.from('123456789');
  assert.throws(() => brookNative(input, 2, 10), RangeError);
  assert.throws(() => brookNative(input, 5, 4), RangeError);
  assert.throws(() => brookNative(input, -1, 4), RangeError);
  assert.throws(() => brookNative('123456789' as unknown as Buffer, 0, 9), TypeError);
  assert.throws(() => brookNative(new Uint16Array(4) as unknown as Buffer, 0, 4), TypeError);
  // A view is read from its own start, not its backing allocation's.
  const backing = Buffer.concat([Buffer.alloc(13, 0xaa), input]);
  assert.is(brookNative(backing.subarray(13), 0, 9), 0xe3069283);
});

test.run();
