// The frame splitter: frames split across reads, several frames in one read, and sizes
// that must be refused before anything is buffered for them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameSplitter } from '../../protocol/frame';
import { ProtocolError } from '../../protocol/primitives';

function frame(body: string): Buffer {
  const payload = Buffer.from(body);
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

test('several frames in one chunk', () => {
  const splitter = new FrameSplitter(1024);
  const frames = splitter.push(Buffer.concat([frame('one'), frame('two'), frame('')]));
  assert.equal(frames.map((f) => f.toString()), ['one', 'two', '']);
});

test('a frame split byte by byte', () => {
  const splitter = new FrameSplitter(1024);
  const bytes = Buffer.concat([frame('hello'), frame('world')]);
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i++) for (const f of splitter.push(bytes.subarray(i, i + 1))) out.push(f.toString());
  assert.equal(out, ['hello', 'world']);
  assert.is(splitter.bufferedBytes, 0);
});

test('oversized and negative sizes are refused at once', () => {
  const splitter = new FrameSplitter(100);
  const big = Buffer.alloc(4);
  big.writeInt32BE(101, 0);
  assert.throws(() => splitter.push(big), (e: Error) => e instanceof ProtocolError);
  const negative = Buffer.from('ffffffff', 'hex');
  assert.throws(() => new FrameSplitter(100).push(negative), (e: Error) => e instanceof ProtocolError);
  // Refused even when only the size prefix has arrived, split over two reads.
  const split = new FrameSplitter(100);
  split.push(Buffer.from('7f', 'hex'));
  assert.throws(() => split.push(Buffer.from('ffffff', 'hex')), (e: Error) => e instanceof ProtocolError);
});

test.run();
