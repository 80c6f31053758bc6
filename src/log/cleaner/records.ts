// Batch surgery for the log cleaner, as Kafka's MemoryRecords.filterTo does it: a batch
// whose records all stay is copied as stored; one that loses records is rebuilt with the
// same base offset, last offset delta (so the producer's last sequence survives), producer
// id, epoch, base sequence, leader epoch and flags, its records compressed again with the
// batch's codec; one that loses every record is dropped, or kept as an empty header where
// Kafka keeps one. Tombstones set the batch's delete horizon (attribute bit 0x40, the base
// timestamp holding the horizon, KIP-534) the first time they are cleaned.

import { crc32c } from '../../../protocol/crc32c';
import { compress, Compression } from '../../../protocol/compression';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  CRC_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  Record,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RecordBatchView,
} from '../../../protocol/record-batch';

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
/** Kafka's DELETE_HORIZON_FLAG_MASK: the base timestamp is the delete horizon. */
export const DELETE_HORIZON_FLAG = 0x40;

/** The batch's delete horizon (ms), or null when none was set. */
export function deleteHorizonMs(view: RecordBatchView): number | null {
  return view.attributes & DELETE_HORIZON_FLAG ? view.baseTimestamp : null;
}

function uvarintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Zig-zag of a safe integer without 32-bit operators (timestamp deltas may be large). */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function putUvarint(out: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

function fieldBytes(field: Buffer | null): number {
  return field === null ? 1 : uvarintSize(zigzag(field.length)) + field.length;
}

function putField(out: Buffer, at: number, field: Buffer | null): number {
  if (field === null) return putUvarint(out, at, zigzag(-1));
  at = putUvarint(out, at, zigzag(field.length));
  field.copy(out, at);
  return at + field.length;
}

/** Encodes records of one batch, each keeping its own offset delta and timestamp. */
export function encodeRecords(records: Record[], baseOffset: number, baseTimestamp: number): Buffer {
  const parts = records.map((record) => {
    const headerKeys = record.headers.map((h) => Buffer.from(h.key, 'utf8'));
    const timestampDelta = zigzag(record.timestamp - baseTimestamp);
    const offsetDelta = zigzag(record.offset - baseOffset);
    let body =
      1 +
      uvarintSize(timestampDelta) +
      uvarintSize(offsetDelta) +
      fieldBytes(record.key) +
      fieldBytes(record.value) +
      uvarintSize(zigzag(record.headers.length));
    record.headers.forEach((h, i) => (body += fieldBytes(headerKeys[i]) + fieldBytes(h.value)));
    const out = Buffer.allocUnsafe(uvarintSize(zigzag(body)) + body);
    let at = putUvarint(out, 0, zigzag(body));
    out[at++] = record.attributes;
    at = putUvarint(out, at, timestampDelta);
    at = putUvarint(out, at, offsetDelta);
    at = putField(out, at, record.key);
    at = putField(out, at, record.value);
    at = putUvarint(out, at, zigzag(record.headers.length));
    record.headers.forEach((h, i) => {
      at = putField(out, at, headerKeys[i]);
      at = putField(out, at, h.value);
    });
    return out;
  });
  return Buffer.concat(parts);
}

interface HeaderFields {
  attributes: number;
  baseTimestamp: number;
  maxTimestamp: number;
  count: number;
}

/** The original batch's header with new attributes, timestamps and count, and its CRC. */
function writeHeader(batch: Buffer, original: RecordBatchView, fields: HeaderFields): void {
  const src = original.buf;
  const at = original.start;
  src.copy(batch, 0, at, at + RECORD_BATCH_OVERHEAD);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, LENGTH_OFFSET);
  batch.writeInt8(2, MAGIC_OFFSET);
  batch.writeInt16BE(fields.attributes, ATTRIBUTES_OFFSET);
  batch.writeBigInt64BE(BigInt(fields.baseTimestamp), BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(BigInt(fields.maxTimestamp), MAX_TIMESTAMP_OFFSET);
  batch.writeInt32BE(fields.count, RECORDS_COUNT_OFFSET);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET);
  // Base offset, leader epoch, last offset delta, producer id, epoch and base sequence
  // were copied from the original header unchanged.
}

/**
 * Rebuilds `original` with only `retained` (a non-empty subset of its records, in order).
 * `horizonMs` (>= 0) marks the batch with a delete horizon; -1 keeps the original timestamps.
 */
export async function rebuildBatch(original: RecordBatchView, retained: Record[], horizonMs: number): Promise<Buffer> {
  const codec = original.compression as Compression;
  const logAppendTime = original.timestampType === 1;
  let attributes = original.attributes & (COMPRESSION_MASK | TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG | CONTROL_FLAG);
  let baseTimestamp = retained[0].timestamp;
  if (horizonMs >= 0) {
    attributes |= DELETE_HORIZON_FLAG;
    baseTimestamp = horizonMs;
  }
  let maxTimestamp = -1;
  for (const record of retained) if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
  // With log-append time the records carry no time of their own: the batch's stays.
  if (logAppendTime) maxTimestamp = original.maxTimestamp;
  const plain = encodeRecords(retained, original.baseOffset, baseTimestamp);
  const payload = codec === Compression.None ? plain : await compress(codec, plain);
  const batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + payload.length);
  payload.copy(batch, RECORD_BATCH_OVERHEAD);
  writeHeader(batch, original, { attributes, baseTimestamp, maxTimestamp, count: retained.length });
  return batch;
}

/**
 * An empty batch kept for its header only (Kafka's writeEmptyHeader): offsets, producer
 * id, epoch, base sequence and last offset delta survive; no records, no codec, base
 * timestamp -1, max timestamp the original's.
 */
export function emptyBatch(original: RecordBatchView): Buffer {
  const batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
  const attributes = original.attributes & (TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG | CONTROL_FLAG);
  writeHeader(batch, original, { attributes, baseTimestamp: -1, maxTimestamp: original.maxTimestamp, count: 0 });
  return batch;
}
