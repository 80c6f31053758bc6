// Hand-made record batches for validation tests: a well-formed batch re-wrapped with a
// codec, its record bytes optionally damaged first, and its CRC made right again, so that
// only the records inside are wrong.

import * as zlib from 'node:zlib';
import { crc32c } from '../../protocol/crc32c';
import {
  ATTRIBUTES_OFFSET,
  encodeRecordBatchSync,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  RecordInput,
  RECORD_BATCH_OVERHEAD,
  CRC_OFFSET,
} from '../../protocol/record-batch';

/** An uncompressed batch of `records`, with its records' bytes passed through `damage`. */
export function gzipBatch(records: RecordInput[], damage: (payload: Buffer) => Buffer = (p) => p): Buffer {
  const plain = encodeRecordBatchSync({ records });
  return wrap(plain, zlib.gzipSync(damage(Buffer.from(plain.subarray(RECORD_BATCH_OVERHEAD)))), 1);
}

/** A gzip batch claiming one record whose payload inflates to `bytes` zeros. */
export function gzipBomb(bytes: number): Buffer {
  const plain = encodeRecordBatchSync({ records: [{ value: 'x' }] });
  return wrap(plain, zlib.gzipSync(Buffer.alloc(bytes), { level: 9 }), 1);
}

/** `plain`'s header (count, timestamps, producer fields) around `payload`, with codec bits set. */
function wrap(plain: Buffer, payload: Buffer, codec: number): Buffer {
  const out = Buffer.concat([plain.subarray(0, RECORD_BATCH_OVERHEAD), payload]);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt16BE((out.readInt16BE(ATTRIBUTES_OFFSET) & ~0x07) | codec, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET, out.length), CRC_OFFSET);
  return out;
}

/**
 * Swaps the offset deltas of the first two records of an uncompressed payload. The records
 * must be small and share one timestamp, so that each record's length, timestamp delta and
 * offset delta are one-byte varints: [length][attributes][timestamp delta][offset delta]...
 */
export function swapFirstOffsetDeltas(payload: Buffer): Buffer {
  const out = Buffer.from(payload);
  const second = 1 + (out[0] >> 1);
  const deltaAt = (start: number) => start + 3;
  const first = out[deltaAt(0)];
  out[deltaAt(0)] = out[deltaAt(second)];
  out[deltaAt(second)] = first;
  return out;
}
