// Scanning stored batches: the pure core (`scanBuffer`, a function of bytes only, so it
// can also run in a worker thread) and the file walker used by recovery, producer-state
// rebuilds and timestamp lookups. A batch is accepted only if its length is sane, its
// magic is 2, its CRC-32C matches and its offsets follow the previous batch's.

import { crc32c } from '../../protocol/crc32c';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_MIN,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  BASE_SEQUENCE_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../../protocol/record-batch';
import { FileHandle } from './file-system';

export interface ScannedBatch {
  baseOffset: number;
  lastOffset: number;
  /** File position of the batch start. */
  position: number;
  size: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastSequence: number;
  /** The partition leader epoch the batch was written in. */
  leaderEpoch: number;
}

/** Largest batch recovery will believe (a length beyond this is corruption). */
export const SCAN_BATCH_BYTES_MAX = 128 * 1024 * 1024;
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
}

export interface BufferScan {
  batches: ScannedBatch[];
  /** Bytes of `buf` (from its start) made of whole valid batches. */
  validBytes: number;
  /** Why scanning stopped before the end, if it did: 'partial' means more bytes are needed. */
  stop: 'end' | 'partial' | 'corrupt';
  reason?: string;
  nextOffset: number;
}

/**
 * Validates whole batches from the start of `buf` (which begins at file position
 * `position`), expecting the first at offset >= `expectedOffset`. Pure: bytes in, verdict out.
 */
export function scanBuffer(buf: Buffer, position: number, expectedOffset: number, verifyCrc = true): BufferScan {
  const batches: ScannedBatch[] = [];
  let at = 0;
  let next = expectedOffset;
  while (at < buf.length) {
    if (buf.length - at < RECORD_BATCH_OVERHEAD) return { batches, validBytes: at, stop: 'partial', nextOffset: next };
    const length = buf.readInt32BE(at + LENGTH_OFFSET);
    if (length < BATCH_LENGTH_MIN || length > SCAN_BATCH_BYTES_MAX) {
      return { batches, validBytes: at, stop: 'corrupt', reason: `bad batch length ${length}`, nextOffset: next };
    }
    const size = LOG_OVERHEAD + length;
    if (buf.length - at < size) return { batches, validBytes: at, stop: 'partial', nextOffset: next };
    if (buf[at + MAGIC_OFFSET] !== 2)
      return { batches, validBytes: at, stop: 'corrupt', reason: `magic ${buf[at + MAGIC_OFFSET]}`, nextOffset: next };
    if (verifyCrc && crc32c(buf, at + ATTRIBUTES_OFFSET, at + size) !== buf.readUInt32BE(at + CRC_OFFSET)) {
      return { batches, validBytes: at, stop: 'corrupt', reason: 'CRC-32C mismatch', nextOffset: next };
    }
    const baseOffset = int64(buf, at);
    const lastOffsetDelta = buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    if (baseOffset < next || lastOffsetDelta < 0) {
      return {
        batches,
        validBytes: at,
        stop: 'corrupt',
        reason: `offset ${baseOffset} does not follow ${next}`,
        nextOffset: next,
      };
    }
    const baseSequence = buf.readInt32BE(at + BASE_SEQUENCE_OFFSET);
    batches.push({
      baseOffset,
      lastOffset: baseOffset + lastOffsetDelta,
      position: position + at,
      size,
      maxTimestamp: int64(buf, at + MAX_TIMESTAMP_OFFSET),
      producerId: int64(buf, at + PRODUCER_ID_OFFSET),
      producerEpoch: buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
      baseSequence,
      lastSequence: baseSequence < 0 ? -1 : (baseSequence + lastOffsetDelta) % 0x80000000,
      leaderEpoch: buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
    });
    next = baseOffset + lastOffsetDelta + 1;
    at += size;
  }
  return { batches, validBytes: at, stop: 'end', nextOffset: next };
}

export interface FileScan {
  /** File position just after the last valid batch. */
  validEnd: number;
  /** Offset after the last valid batch, or null if no batch was scanned. */
  nextOffset: number | null;
  reason?: string;
}

/** Walks [from, to) of a segment file in chunks, visiting each valid batch in order. */
export function scanBatches(
  file: FileHandle,
  from: number,
  to: number,
  expectedOffset: number,
  visit: (batch: ScannedBatch) => void,
  verifyCrc = true,
): FileScan {
  let position = from;
  let next: number | null = null;
  let expected = expectedOffset;
  let chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(0, to - from)));
  while (position < to) {
    const want = Math.min(to - position, Math.max(chunk.length, SCAN_CHUNK_BYTES));
    if (chunk.length < want) chunk = Buffer.allocUnsafe(want);
    const view = chunk.subarray(0, file.read(chunk, 0, want, position));
    const result = scanBuffer(view, position, expected, verifyCrc);
    for (const batch of result.batches) visit(batch);
    if (result.batches.length > 0) {
      next = result.nextOffset;
      expected = result.nextOffset;
    }
    position += result.validBytes;
    if (result.stop === 'corrupt') return { validEnd: position, nextOffset: next, reason: result.reason };
    if (result.stop === 'partial') {
      if (view.length < want || position + view.length - result.validBytes >= to) {
        // The tail is a batch cut short by the end of the file: a torn write.
        return { validEnd: position, nextOffset: next, reason: 'torn batch at the end' };
      }
      if (result.validBytes === 0) {
        // One batch bigger than the chunk: read exactly that batch next time.
        const header = Buffer.alloc(LOG_OVERHEAD);
        file.read(header, 0, LOG_OVERHEAD, position);
        chunk = Buffer.allocUnsafe(LOG_OVERHEAD + header.readInt32BE(LENGTH_OFFSET));
      }
    }
  }
  return { validEnd: position, nextOffset: next };
}
