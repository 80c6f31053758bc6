// Record batch v2 (magic 2): a zero-copy view over one batch's bytes, validation for
// the produce path, a records iterator, and an encoder for batches Brook writes itself.
//
// Layout (61-byte header, then records):
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 |
//   crc uint32 | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 |
//   maxTimestamp int64 | producerId int64 | producerEpoch int16 | baseSequence int32 |
//   recordsCount int32 | records...
// The CRC-32C covers attributes to the end, so the broker may patch baseOffset and
// partitionLeaderEpoch without recomputing it.

import { crc32c } from './crc32c';
import { compress, Compression, decompress } from './compression';
import { ProtocolError, Reader } from './primitives';

export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the bytes before what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Smallest legal batchLength: the header after the log overhead. */
export const BATCH_LENGTH_MIN = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface Record {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
}

export class RecordBatchView {
  constructor(
    readonly buf: Buffer,
    readonly start = 0,
  ) {}

  private int64(at: number): number {
    return this.buf.readInt32BE(this.start + at) * 0x100000000 + this.buf.readUInt32BE(this.start + at + 4);
  }

  get baseOffset(): number {
    return this.int64(BASE_OFFSET_OFFSET);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.start + LENGTH_OFFSET);
  }
  /** Whole batch size in bytes, including baseOffset and batchLength. */
  get totalSize(): number {
    return LOG_OVERHEAD + this.batchLength;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.start + PARTITION_LEADER_EPOCH_OFFSET);
  }
  get magic(): number {
    return this.buf.readInt8(this.start + MAGIC_OFFSET);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.start + CRC_OFFSET);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.start + ATTRIBUTES_OFFSET);
  }
  get compression(): Compression {
    return (this.attributes & COMPRESSION_MASK) as Compression;
  }
  /** 0 = CreateTime, 1 = LogAppendTime. */
  get timestampType(): number {
    return this.attributes & TIMESTAMP_TYPE_FLAG ? 1 : 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_FLAG) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_FLAG) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.start + LAST_OFFSET_DELTA_OFFSET);
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  get baseTimestamp(): number {
    return this.int64(BASE_TIMESTAMP_OFFSET);
  }
  get maxTimestamp(): number {
    return this.int64(MAX_TIMESTAMP_OFFSET);
  }
  get producerId(): number {
    return this.int64(PRODUCER_ID_OFFSET);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.start + PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.start + BASE_SEQUENCE_OFFSET);
  }
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base < 0) return -1;
    const last = base + this.lastOffsetDelta;
    return last > 0x7fffffff ? last - 0x80000000 : last;
  }
  get recordsCount(): number {
    return this.buf.readInt32BE(this.start + RECORDS_COUNT_OFFSET);
  }

  setBaseOffset(offset: number): void {
    this.buf.writeBigInt64BE(BigInt(offset), this.start + BASE_OFFSET_OFFSET);
  }

  setPartitionLeaderEpoch(epoch: number): void {
    this.buf.writeInt32BE(epoch, this.start + PARTITION_LEADER_EPOCH_OFFSET);
  }

  computeCrc(): number {
    return crc32c(this.buf, this.start + ATTRIBUTES_OFFSET, this.start + this.totalSize);
  }

  /**
   * Checks structure and checksum; returns a reason for the log line, or null when the
   * batch is good. Never throws, whatever the bytes.
   */
  validate(window?: TimestampWindow): string | null {
    const available = this.buf.length - this.start;
    if (available < RECORD_BATCH_OVERHEAD) return `batch shorter than the ${RECORD_BATCH_OVERHEAD}-byte header`;
    if (this.magic !== 2) return `unsupported magic ${this.magic}`;
    const length = this.batchLength;
    if (length < BATCH_LENGTH_MIN) return `batch length ${length} below the minimum ${BATCH_LENGTH_MIN}`;
    if (LOG_OVERHEAD + length > available) return `batch length ${length} overruns the ${available} bytes present`;
    if (this.computeCrc() !== this.crc) return 'CRC-32C mismatch';
    // Kafka's rules for batches from producers (LogValidator): at least one record, and
    // offset deltas 0..count-1, so that the count and the last offset delta agree.
    const count = this.recordsCount;
    if (count <= 0) return `record count ${count}; a produced batch holds at least one record`;
    if (this.lastOffsetDelta !== count - 1)
      return `last offset delta ${this.lastOffsetDelta} does not match ${count} records`;
    if (this.compression > Compression.Zstd) return `unknown compression codec ${this.compression}`;
    if (this.compression === Compression.None) {
      const from = this.start + RECORD_BATCH_OVERHEAD;
      const problem = walkRecords(this.buf, from, this.start + this.totalSize, count, this.baseTimestamp, window);
      if (problem) return problem;
    } else if (length === BATCH_LENGTH_MIN) {
      return 'compressed batch has records but no payload';
    }
    if (this.producerId >= 0 && this.baseSequence < 0 && !this.isControl)
      return 'idempotent batch without a base sequence';
    return null;
  }

  /**
   * The record-level checks of validate() for a compressed batch, as Kafka's LogValidator
   * makes them: the payload is decompressed (never past `decompressedBytesMax`) and every
   * record walked. Call after validate() passed. Returns a reason, or null when good;
   * `keep` receives the decompressed records section of a good batch (for a caller that
   * recompresses it next).
   */
  async validateCompressed(
    decompressedBytesMax: number,
    window?: TimestampWindow,
    keep?: (payload: Buffer) => void,
  ): Promise<string | null> {
    if (this.compression === Compression.None) return null;
    const from = this.start + RECORD_BATCH_OVERHEAD;
    let payload: Buffer;
    try {
      payload = await decompress(
        this.compression,
        this.buf.subarray(from, this.start + this.totalSize),
        decompressedBytesMax,
      );
    } catch (error) {
      return `compressed records do not decompress: ${error instanceof Error ? error.message : String(error)}`;
    }
    const problem = walkRecords(payload, 0, payload.length, this.recordsCount, this.baseTimestamp, window);
    if (problem === null) keep?.(payload);
    return problem;
  }

  /** Records in this batch (decompressed first if needed). */
  async records(decompressedBytesMax?: number): Promise<Record[]> {
    let payload = this.buf;
    let from = this.start + RECORD_BATCH_OVERHEAD;
    let to = this.start + this.totalSize;
    if (this.compression !== Compression.None) {
      payload = await decompress(this.compression, this.buf.subarray(from, to), decompressedBytesMax);
      from = 0;
      to = payload.length;
    }
    return decodeRecords(payload, from, to, this.recordsCount, this.baseOffset, this.baseTimestamp);
  }
}

/**
 * Marks a batch LogAppendTime with `timeMs` as its max timestamp and rewrites its CRC, as
 * Kafka's DefaultRecordBatch.setMaxTimestamp does on the leader; the records and their
 * deltas stay as produced (readers take the batch's max timestamp for every record).
 */
export function stampLogAppendTime(batch: Buffer, timeMs: number): void {
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  batch.writeInt16BE(attributes | TIMESTAMP_TYPE_FLAG, ATTRIBUTES_OFFSET);
  batch.writeBigInt64BE(BigInt(timeMs), MAX_TIMESTAMP_OFFSET);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET);
}

/**
 * A copy of `batch` whose records section is `payload`, already in `codec`: every header
 * field (offsets, producer fields, timestamps, record count) is kept; the length, the codec
 * bits of the attributes and the CRC are rewritten. A recompressed batch is built this way,
 * since the records' own encoding does not depend on the codec.
 */
export function withRecordsPayload(batch: Buffer, codec: Compression, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + payload.length);
  batch.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  payload.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  const attributes = out.readInt16BE(ATTRIBUTES_OFFSET);
  out.writeInt16BE((attributes & ~COMPRESSION_MASK) | codec, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET, out.length), CRC_OFFSET);
  return out;
}

/**
 * The window a produced record's create time must fall in (Kafka's
 * message.timestamp.before.max.ms and after.max.ms around the broker's clock). A record
 * without a timestamp (-1) is not checked, as in Kafka. The first record outside is noted.
 */
export interface TimestampWindow {
  low: number;
  high: number;
  outside?: { index: number; timestamp: number };
}

/**
 * Parses every record of an uncompressed payload: each field must stay inside its record,
 * the offset deltas must run 0, 1, 2 ..., and each record body must be used up exactly.
 * With a window, also notes the first record whose timestamp falls outside it. This runs
 * on every produced batch, so it reads varints straight off the buffer without allocating.
 */
function walkRecords(
  buf: Buffer,
  from: number,
  to: number,
  count: number,
  baseTimestamp = 0,
  window?: TimestampWindow,
): string | null {
  const cursor = { pos: from };
  for (let i = 0; i < count; i++) {
    const length = zigzag(buf, cursor, to, 5);
    if (length === null || length < 0 || cursor.pos + length > to) return `record ${i} length overruns the batch`;
    const end = cursor.pos + length;
    cursor.pos += 1; // attributes
    const delta = cursor.pos > end ? null : zigzag(buf, cursor, end, 10);
    if (delta === null) return `record ${i} has a bad timestamp delta`;
    if (window && !window.outside) {
      const timestamp = baseTimestamp + delta;
      if (timestamp !== -1 && (timestamp < window.low || timestamp > window.high))
        window.outside = { index: i, timestamp };
    }
    if (zigzag(buf, cursor, end, 5) !== i) return `record ${i} has offset delta out of sequence`;
    if (!skipBytes(buf, cursor, end) || !skipBytes(buf, cursor, end))
      return `record ${i} has a key or value past its end`;
    const headers = zigzag(buf, cursor, end, 5);
    if (headers === null || headers < 0 || headers > end - cursor.pos) return `record ${i} has a bad header count`;
    for (let h = 0; h < headers; h++) {
      const keyLength = zigzag(buf, cursor, end, 5);
      if (keyLength === null || keyLength < 0 || cursor.pos + keyLength > end)
        return `record ${i} has a bad header key`;
      cursor.pos += keyLength;
      if (!skipBytes(buf, cursor, end)) return `record ${i} has a header value past its end`;
    }
    if (cursor.pos !== end) return `record ${i} has ${end - cursor.pos} stray bytes`;
  }
  if (cursor.pos !== to) return `${to - cursor.pos} stray bytes after ${count} records`;
  return null;
}

/** A zig-zag varint at cursor.pos (at most `maxBytes` bytes, before `end`), or null. */
function zigzag(buf: Buffer, cursor: { pos: number }, end: number, maxBytes: number): number | null {
  let raw = 0;
  let scale = 1;
  for (let n = 0; n < maxBytes; n++) {
    if (cursor.pos >= end) return null;
    const byte = buf[cursor.pos++];
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    scale *= 128;
  }
  return null;
}

/** Skips a varint-length-prefixed byte field (-1 = null); false when it overruns. */
function skipBytes(buf: Buffer, cursor: { pos: number }, end: number): boolean {
  const length = zigzag(buf, cursor, end, 5);
  if (length === null || length < -1) return false;
  if (length > 0) cursor.pos += length;
  return cursor.pos <= end;
}

function decodeRecords(
  buf: Buffer,
  from: number,
  to: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
): Record[] {
  const reader = new Reader(buf, from, to);
  const out: Record[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.varint();
    if (length < 0) throw new ProtocolError(`negative record length ${length}`);
    reader.need(length);
    const record = new Reader(buf, reader.pos, reader.pos + length);
    reader.pos += length;
    const attributes = record.int8();
    const timestampDelta = record.varlong();
    const offsetDelta = record.varint();
    const key = varBytes(record);
    const value = varBytes(record);
    const headerCount = record.varint();
    if (headerCount < 0 || headerCount > record.remaining) throw new ProtocolError(`bad header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = varBytes(record);
      if (headerKey === null) throw new ProtocolError('null header key');
      headers.push({ key: headerKey.toString('utf8'), value: varBytes(record) });
    }
    out.push({
      offset: baseOffset + offsetDelta,
      timestamp: baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      attributes,
    });
  }
  return out;
}

function varBytes(reader: Reader): Buffer | null {
  const length = reader.varint();
  if (length === -1) return null;
  if (length < -1) throw new ProtocolError(`bad length ${length}`);
  return reader.raw(length);
}

/**
 * Cuts a produce record set into whole batches (views, no copy). A trailing partial batch
 * or a length that overruns the set is an error: Kafka rejects such sets as corrupt.
 */
export function splitBatches(records: Buffer): { batches: Buffer[]; error?: string } {
  const batches: Buffer[] = [];
  let offset = 0;
  while (offset < records.length) {
    if (records.length - offset < LOG_OVERHEAD)
      return { batches, error: 'truncated batch header at the end of the record set' };
    const length = records.readInt32BE(offset + LENGTH_OFFSET);
    if (length < BATCH_LENGTH_MIN) return { batches, error: `batch length ${length} below the minimum` };
    const size = LOG_OVERHEAD + length;
    if (offset + size > records.length) return { batches, error: `batch of ${size} bytes overruns the record set` };
    batches.push(records.subarray(offset, offset + size));
    offset += size;
  }
  return { batches };
}

export interface RecordInput {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  timestamp?: number;
}

export interface BatchInput {
  records: RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: Compression;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /** Defaults to the first record's timestamp, or now. */
  baseTimestamp?: number;
}

/** A key, value or header value as given: bytes, text (written as UTF-8), or null. */
export type RecordField = Buffer | string | null;

/** The producer-side fields of a batch header, filled in when the batch is finished. */
export interface BatchHeaderFields {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

/**
 * Byte length of a record field, -1 for null. Anything else is refused here, before a
 * byte is written, so a wrong type is a clear error and never a corrupt batch.
 */
export function fieldLength(field: RecordField | undefined, what = 'value'): number {
  if (field === null || field === undefined) return -1;
  if (typeof field === 'string') return Buffer.byteLength(field);
  if (field instanceof Uint8Array) return field.length;
  throw new TypeError(`a record ${what} must be a Buffer, a string or null, got ${typeof field}`);
}

/** Byte length of a header key, which must be text. */
export function headerKeyLength(key: unknown): number {
  if (typeof key !== 'string') throw new TypeError('a record header key must be a string');
  return Buffer.byteLength(key);
}

/** Zigzag of a safe integer (Kafka's varint/varlong sign folding), without 32-bit overflow. */
function foldSign(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  let size = 3;
  v = Math.floor(v / 0x200000);
  while (v > 0) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function putUVarint(buf: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

/** Bytes of a length-prefixed field whose byte length is `length` (-1 = null). */
function fieldSize(length: number): number {
  return length < 0 ? 1 : uvarintSize(length * 2) + length;
}

function putField(out: Buffer, at: number, field: RecordField | undefined, length: number): number {
  if (length < 0) {
    out[at] = 1; // zig-zag -1
    return at + 1;
  }
  at = putUVarint(out, at, length * 2);
  if (typeof field === 'string') out.write(field, at, length, 'utf8');
  else out.set(field as Buffer, at); // TypedArray set: less call overhead than Buffer copy for small fields
  return at + length;
}

/**
 * Writes records of one v2 batch straight into one buffer as they come (the producer's
 * batching buffer, Kafka's MemoryRecordsBuilder idea): a record is copied once, when it
 * is appended, and the finished batch is that buffer with its header filled in. The
 * buffer grows (doubling) only when a record does not fit.
 */
export class RecordBatchBuilder {
  private buf: Buffer;
  private used = RECORD_BATCH_OVERHEAD;
  private records = 0;
  private base: number;
  private maxTimestamp = -1;

  /** `buffer` may be a reused one (its old contents are overwritten). */
  constructor(capacityOrBuffer: number | Buffer, baseTimestamp?: number) {
    this.buf =
      typeof capacityOrBuffer === 'number'
        ? Buffer.allocUnsafe(Math.max(RECORD_BATCH_OVERHEAD, capacityOrBuffer))
        : capacityOrBuffer;
    this.base = baseTimestamp ?? NaN;
  }

  get count(): number {
    return this.records;
  }

  /** Bytes of the batch so far, header included. */
  get sizeInBytes(): number {
    return this.used;
  }

  /** The buffer written into (its length is the capacity, not the batch size). */
  get buffer(): Buffer {
    return this.buf;
  }

  /**
   * Appends one record, with offset delta = its index. `keyLength` and `valueLength` are
   * fieldLength() of key and value, passed in because the caller has them already.
   */
  append(
    timestamp: number,
    key: RecordField | undefined,
    keyLength: number,
    value: RecordField | undefined,
    valueLength: number,
    headers?: { key: string; value: RecordField }[] | null,
  ): void {
    if (Number.isNaN(this.base)) this.base = timestamp;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const timestampDelta = foldSign(timestamp - this.base);
    const headerCount = headers ? headers.length : 0;
    let body =
      1 +
      uvarintSize(timestampDelta) +
      uvarintSize(this.records * 2) +
      fieldSize(keyLength) +
      fieldSize(valueLength) +
      uvarintSize(headerCount * 2);
    let headerLengths: number[] | null = null;
    if (headerCount > 0) {
      headerLengths = [];
      for (const h of headers!) {
        const k = headerKeyLength(h.key);
        const v = fieldLength(h.value, 'header value');
        headerLengths.push(k, v);
        body += fieldSize(k) + fieldSize(v);
      }
    }
    const total = uvarintSize(body * 2) + body;
    if (this.used + total > this.buf.length) this.grow(this.used + total);
    const out = this.buf;
    let at = putUVarint(out, this.used, body * 2);
    out[at++] = 0; // attributes
    at = putUVarint(out, at, timestampDelta);
    at = putUVarint(out, at, this.records * 2);
    at = putField(out, at, key, keyLength);
    at = putField(out, at, value, valueLength);
    at = putUVarint(out, at, headerCount * 2);
    for (let h = 0; h < headerCount; h++) {
      at = putField(out, at, headers![h].key, headerLengths![2 * h]);
      at = putField(out, at, headers![h].value, headerLengths![2 * h + 1]);
    }
    this.used = at;
    this.records++;
  }

  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }

  /** The finished, uncompressed batch: a view of the builder's buffer, header and CRC filled in. */
  build(fields: BatchHeaderFields = {}): Buffer {
    const batch = this.buf.subarray(0, this.used);
    writeBatchHeader(batch, Compression.None, this.records, this.baseTimestamp, this.maxTimestamp, fields);
    return batch;
  }

  /** The finished batch with its records compressed by `codec` (a new buffer). */
  async buildCompressed(codec: Compression, fields: BatchHeaderFields = {}): Promise<Buffer> {
    if (codec === Compression.None) return this.build(fields);
    const payload = await compress(codec, this.buf.subarray(RECORD_BATCH_OVERHEAD, this.used));
    const batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + payload.length);
    payload.copy(batch, RECORD_BATCH_OVERHEAD);
    writeBatchHeader(batch, codec, this.records, this.baseTimestamp, this.maxTimestamp, fields);
    return batch;
  }

  private get baseTimestamp(): number {
    return Number.isNaN(this.base) ? Date.now() : this.base;
  }
}

/** Fills in a batch header in `batch` (whose records already follow it) and its CRC. */
export function writeBatchHeader(
  batch: Buffer,
  codec: Compression,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  fields: BatchHeaderFields,
): void {
  batch.writeBigInt64BE(BigInt(fields.baseOffset ?? 0), BASE_OFFSET_OFFSET);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, LENGTH_OFFSET);
  batch.writeInt32BE(fields.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  batch.writeInt8(2, MAGIC_OFFSET);
  batch.writeInt16BE(codec | (fields.isTransactional ? TRANSACTIONAL_FLAG : 0), ATTRIBUTES_OFFSET);
  batch.writeInt32BE(Math.max(0, count - 1), LAST_OFFSET_DELTA_OFFSET);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(BigInt(count > 0 ? maxTimestamp : baseTimestamp), MAX_TIMESTAMP_OFFSET);
  batch.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  setProducerFields(batch, fields);
}

/** Rewrites producer id, epoch and base sequence of a finished batch, and its CRC. */
export function setProducerFields(batch: Buffer, fields: BatchHeaderFields): void {
  batch.writeBigInt64BE(BigInt(fields.producerId ?? -1), PRODUCER_ID_OFFSET);
  batch.writeInt16BE(fields.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(fields.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET);
}

function builderFor(input: BatchInput): RecordBatchBuilder {
  const records = input.records;
  const baseTimestamp = input.baseTimestamp ?? records[0]?.timestamp ?? Date.now();
  const lengths = records.map((r) => [fieldLength(r.key, 'key'), fieldLength(r.value)]);
  let capacity = RECORD_BATCH_OVERHEAD;
  records.forEach((r, i) => {
    capacity += 40 + Math.max(0, lengths[i][0]) + Math.max(0, lengths[i][1]);
    for (const h of r.headers ?? [])
      capacity += 10 + headerKeyLength(h.key) + Math.max(0, fieldLength(h.value, 'header value'));
  });
  const builder = new RecordBatchBuilder(capacity, baseTimestamp);
  records.forEach((r, i) =>
    builder.append(r.timestamp ?? baseTimestamp, r.key, lengths[i][0], r.value, lengths[i][1], r.headers),
  );
  return builder;
}

/** Builds a complete v2 batch with a correct CRC. */
export async function encodeRecordBatch(input: BatchInput): Promise<Buffer> {
  return builderFor(input).buildCompressed(input.compression ?? Compression.None, input);
}

/** Synchronous variant for uncompressed batches (benchmarks and tests). */
export function encodeRecordBatchSync(input: BatchInput): Buffer {
  if ((input.compression ?? Compression.None) !== Compression.None)
    throw new Error('use encodeRecordBatch for compressed batches');
  return builderFor(input).build(input);
}
