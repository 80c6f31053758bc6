// Unit tests of the wire primitives: fixed encodings from the Kafka protocol guide
// (varints, compact strings, nulls) and the bounds checks that protect the broker.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError, Reader, Writer, ZERO_UUID } from '../../protocol/primitives';

const hex = (w: Writer) => w.toBuffer().toString('hex');

test('unsigned varints', () => {
  assert.is(hex(new Writer().uvarint(0)), '00');
  assert.is(hex(new Writer().uvarint(1)), '01');
  assert.is(hex(new Writer().uvarint(127)), '7f');
  assert.is(hex(new Writer().uvarint(128)), '8001');
  assert.is(hex(new Writer().uvarint(300)), 'ac02');
  assert.is(hex(new Writer().uvarint(0xffffffff)), 'ffffffff0f');
  for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 0xffffffff]) {
    assert.is(new Reader(new Writer().uvarint(n).toBuffer()).uvarint(), n);
  }
});

test('zig-zag varints and varlongs', () => {
  assert.is(hex(new Writer().varint(0)), '00');
  assert.is(hex(new Writer().varint(-1)), '01');
  assert.is(hex(new Writer().varint(1)), '02');
  assert.is(hex(new Writer().varint(-64)), '7f');
  assert.is(hex(new Writer().varint(64)), '8001');
  for (const n of [0, -1, 1, 63, -64, 2 ** 31 - 1, -(2 ** 31)]) {
    assert.is(new Reader(new Writer().varint(n).toBuffer()).varint(), n);
  }
  for (const n of [0, -1, 1, 1_700_000_000_000, -1_700_000_000_000, 2 ** 52, -(2 ** 52)]) {
    assert.is(new Reader(new Writer().varlong(n).toBuffer()).varlong(), n);
  }
});

test('strings: classic, compact, nullable', () => {
  assert.is(hex(new Writer().string('ab')), '00026162');
  assert.is(hex(new Writer().nullableString(null)), 'ffff');
  assert.is(hex(new Writer().compactString('ab')), '036162');
  assert.is(hex(new Writer().compactNullableString(null)), '00');
  assert.is(new Reader(Buffer.from('00026162', 'hex')).string(), 'ab');
  assert.is(new Reader(Buffer.from('ffff', 'hex')).nullableString(), null);
  assert.is(new Reader(Buffer.from('036162', 'hex')).compactString(), 'ab');
  assert.is(new Reader(Buffer.from('00', 'hex')).compactNullableString(), null);
});

test('int64 round trips as numbers, uuids as base64url', () => {
  for (const n of [0, -1, 1, 2 ** 40 + 3, -(2 ** 40) - 3, Number.MAX_SAFE_INTEGER]) {
    assert.is(new Reader(new Writer().int64(n).toBuffer()).int64(), n);
  }
  assert.is(hex(new Writer().uuid(ZERO_UUID)), '00'.repeat(16));
  const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
  assert.is(new Reader(new Writer().uuid(id).toBuffer()).uuid(), id);
});

test('truncation and absurd sizes throw ProtocolError', () => {
  const isProtocolError = (e: Error) => e instanceof ProtocolError;
  assert.throws(() => new Reader(Buffer.from('00', 'hex')).int16(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('0005616263', 'hex')).string(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('7fffffff', 'hex')).nullableBytes(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('fffffffff0', 'hex')).uvarint(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('ffffffffffff', 'hex')).uvarint(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('7fffffff00', 'hex')).arrayLength(), isProtocolError);
  assert.throws(() => new Reader(Buffer.from('fffffffe', 'hex')).arrayLength(), isProtocolError);
  assert.is(new Reader(Buffer.from('ffffffff', 'hex')).arrayLength(), null);
});

test('writer patches the size prefix across referenced chunks', () => {
  const big = Buffer.alloc(1000, 1);
  const w = new Writer();
  w.int32(0).int8(5).reference(big).int8(6);
  w.patchInt32(0, w.length - 4);
  const out = w.toBuffer();
  assert.is(out.readInt32BE(0), 1002);
  assert.is(out[4], 5);
  assert.is(out[out.length - 1], 6);
});

test.run();
