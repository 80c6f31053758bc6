// Seeded value generators for the fuzzers: a PRNG, field values that are ordinary mostly
// and the edges of their types sometimes, request bodies for any schema and version, and
// byte mutations of a whole frame (flips, cuts, trailing garbage) that keep the size prefix
// honest.

import { Field, inRange, PrimitiveType } from '../../protocol/schema';
import { encodeRecordBatchSync } from '../../protocol/record-batch';

export interface Fuzzer {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  body: (fields: Field[], version: number) => Record<string, unknown>;
  mutate: (frame: Buffer) => Buffer;
}

export function fuzzer(seed: number): Fuzzer {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  /** Values for a field: ordinary ones mostly, the edges of its type sometimes. */
  function sample(type: PrimitiveType): unknown {
    const edge = random() < 0.25;
    switch (type) {
      case 'bool':
        return random() < 0.5;
      case 'string':
        return edge
          ? pick(['x'.repeat(32767), '\u0000', '..', 'ünïcödé', 'a.b_c', '-'.repeat(250)])
          : pick(['fuzz', '', 'topic-a', '__consumer_offsets', 'x'.repeat(40)]);
      case 'bytes':
        return edge ? Buffer.alloc(pick([0, 1, 65536]), 0xff) : Buffer.from([1, 2, 3]);
      case 'records':
        return edge
          ? pick([
              Buffer.alloc(0),
              Buffer.alloc(61, 0xff),
              encodeRecordBatchSync({ records: [{ value: 'x'.repeat(2000) }] }),
            ])
          : encodeRecordBatchSync({ records: [{ key: 'k', value: 'v' }] });
      case 'uuid':
        return pick(['AAAAAAAAAAAAAAAAAAAAAA', '_____________________w', 'AQIDBAUGBwgJCgsMDQ4PEA']);
      case 'int8':
        return edge ? pick([-128, 127]) : pick([-1, 0, 1, 3]);
      case 'int16':
        return edge ? pick([-32768, 32767]) : pick([-1, 0, 1, 3, 100]);
      case 'int32':
        return edge ? pick([-(2 ** 31), 2 ** 31 - 1, -2]) : pick([-1, 0, 1, 3, 100]);
      case 'int64':
        return edge ? pick([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -2]) : pick([-1, 0, 1, 1000]);
      default:
        return pick([-1, 0, 1, 3, 100]);
    }
  }

  function body(fields: Field[], version: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (!inRange(f.versions, version, true)) continue;
      if (f.kind === 'scalar') out[f.name] = sample(f.type);
      else if (f.kind === 'struct') out[f.name] = body(f.fields, version);
      else
        out[f.name] = Array.from({ length: random() < 0.05 ? 200 : Math.floor(random() * 3) }, () =>
          Array.isArray(f.items) ? body(f.items as Field[], version) : sample(f.items as PrimitiveType),
        );
    }
    return out;
  }

  function mutate(frame: Buffer): Buffer {
    const bytes = Buffer.from(frame);
    switch (Math.floor(random() * 4)) {
      case 0: // flip a few body bytes, keep the size honest
        for (let i = 0; i < 1 + random() * 4; i++)
          bytes[4 + Math.floor(random() * (bytes.length - 4))] ^= 1 << Math.floor(random() * 8);
        return bytes;
      case 1: // cut short, with the size saying so
        return (() => {
          const cut = bytes.subarray(0, 4 + Math.floor(random() * (bytes.length - 4)));
          cut.writeInt32BE(cut.length - 4, 0);
          return cut;
        })();
      case 2: // trailing garbage inside the frame
        return (() => {
          const longer = Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(random() * 16), 0xff)]);
          longer.writeInt32BE(longer.length - 4, 0);
          return longer;
        })();
      default: // unchanged: a valid request with odd values
        return bytes;
    }
  }
  return { random, pick, body, mutate };
}

export function prng(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
