// The frame assembler: frames split across reads, several frames in one read, large
// frames read straight into their own buffer, and sizes that must be refused before
// anything is buffered for them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameAssembler } from '../../protocol/frame';
import { ProtocolError } from '../../protocol/primitives';
import { seededRandom } from '../../src/controller/controller';

function frame(body: string): Buffer {
  const payload = Buffer.from(body);
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

test('several frames in one chunk', () => {
  const assembler = new FrameAssembler(1024);
  const frames = assembler.push(Buffer.concat([frame('one'), frame('two'), frame('')]));
  assert.equal(
    frames.map((f) => f.toString()),
    ['one', 'two', ''],
  );
});

test('a frame split byte by byte', () => {
  const assembler = new FrameAssembler(1024);
  const bytes = Buffer.concat([frame('hello'), frame('world')]);
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i++)
    for (const f of assembler.push(bytes.subarray(i, i + 1))) out.push(f.toString());
  assert.equal(out, ['hello', 'world']);
  assert.is(assembler.bufferedBytes, 0);
});

test('oversized and negative sizes are refused at once', () => {
  const assembler = new FrameAssembler(100);
  const big = Buffer.alloc(4);
  big.writeInt32BE(101, 0);
  assert.throws(
    () => assembler.push(big),
    (e: Error) => e instanceof ProtocolError,
  );
  const negative = Buffer.from('ffffffff', 'hex');
  assert.throws(
    () => new FrameAssembler(100).push(negative),
    (e: Error) => e instanceof ProtocolError,
  );
  // Refused even when only the size prefix has arrived, split over two reads.
  const split = new FrameAssembler(100);
  split.push(Buffer.from('7f', 'hex'));
  assert.throws(
    () => split.push(Buffer.from('ffffff', 'hex')),
    (e: Error) => e instanceof ProtocolError,
  );
});

function patterned(size: number, seed: number): Buffer {
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + seed) & 0xff;
  return body;
}

function framed(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

test('reads of random sizes into the buffers it hands out give every frame intact, small and large', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const sizes = Array.from({ length: 40 }, () => {
      const kind = random();
      if (kind < 0.5) return Math.floor(random() * 200);
      if (kind < 0.8) return Math.floor(random() * 40_000);
      return 32 * 1024 + Math.floor(random() * 300_000);
    });
    const bodies = sizes.map((size, i) => patterned(size, seed * 100 + i));
    const stream = Buffer.concat(bodies.map(framed));
    const assembler = new FrameAssembler(1024 * 1024);
    const received: Buffer[] = [];
    let offset = 0;
    while (offset < stream.length) {
      // A "kernel read": fills at most the buffer offered, often less.
      const target = assembler.nextReadBuffer();
      assert.ok(target.length > 0, 'the assembler always offers room to read into');
      const count = Math.min(target.length, stream.length - offset, 1 + Math.floor(random() * 70_000));
      stream.copy(target, 0, offset, offset + count);
      offset += count;
      received.push(...assembler.commit(count));
    }
    assert.is(received.length, bodies.length, `seed ${seed}`);
    // Compared only at the end: a frame handed out must not be overwritten by later reads.
    for (let i = 0; i < bodies.length; i++)
      assert.ok(received[i].equals(bodies[i]), `seed ${seed}, frame ${i} of ${bodies[i].length} bytes`);
    assert.is(assembler.bufferedBytes, 0);
  }
});

test('a large frame is read into its own buffer: the reads after its first bytes go straight into it', () => {
  const assembler = new FrameAssembler(1024 * 1024);
  const body = patterned(200_000, 7);
  const stream = framed(body);
  const first = assembler.nextReadBuffer();
  stream.copy(first, 0, 0, first.length);
  assert.equal(assembler.commit(first.length), []);
  const direct = assembler.nextReadBuffer();
  assert.is(direct.length, body.length - (first.length - 4), 'the next read is offered exactly the rest of the frame');
  stream.copy(direct, 0, first.length);
  const [frame] = assembler.commit(direct.length);
  assert.ok(frame.equals(body));
  assert.is(frame.buffer, direct.buffer, 'the frame is the buffer the kernel read into, not a copy');
});

test('a frame above the eager size is read in bounded pieces and joined', () => {
  const assembler = new FrameAssembler(64 * 1024 * 1024);
  const body = patterned(20 * 1024 * 1024 + 123, 3);
  const stream = framed(body);
  let offset = 0;
  let largestOffer = 0;
  const frames: Buffer[] = [];
  while (offset < stream.length) {
    const target = assembler.nextReadBuffer();
    largestOffer = Math.max(largestOffer, target.length);
    const count = Math.min(target.length, stream.length - offset, 1 << 20);
    stream.copy(target, 0, offset, offset + count);
    offset += count;
    frames.push(...assembler.commit(count));
  }
  assert.is(frames.length, 1);
  assert.ok(frames[0].equals(body));
  assert.ok(largestOffer <= 8 * 1024 * 1024, `no read buffer above 8 MiB (largest ${largestOffer})`);
});

test.run();
