// Idempotent producer state for one partition: per producer id, its epoch and the
// metadata of its last five batches (Kafka's NUM_BATCHES_TO_RETAIN), so a retried batch is
// answered with its original offset instead of being written twice, and a batch out of
// sequence or from a fenced epoch is refused. Pure logic: no I/O, no clocks (times are
// passed in).
//
// The table is bounded: a producer whose last batch's timestamp is producer.id.expiration.ms
// old is forgotten (expire(), as Kafka's ProducerStateManager.removeExpiredProducers), and
// past `maxProducers` the least recently written producer is forgotten first. A forgotten
// producer that writes again must start at sequence 0 (OUT_OF_ORDER_SEQUENCE_NUMBER
// otherwise), which clients answer by taking a new producer id or epoch.
//
// Snapshot format (big-endian), like Kafka's producer snapshot: version int16 (2),
// crc32c uint32 of everything after it, producer count int32, then per producer:
// producer id int64, epoch int16, last timestamp int64, batch count int8 (at most five),
// and per batch: first sequence int32, last sequence int32, first offset int64, last
// offset int64. Version 1 (no last timestamp) is still read.

import { crc32c } from '../../protocol/crc32c';
import { ErrorCode } from '../../protocol/errors';

export const BATCHES_RETAINED = 5;
const SEQUENCE_MAX = 0x7fffffff;
const SNAPSHOT_VERSION = 2;
/** version int16, crc32c uint32, producer count int32. */
const SNAPSHOT_HEADER_BYTES = 10;
/** producer id int64, epoch int16, last timestamp int64 (version 2), batch count int8. */
const PRODUCER_BYTES_V1 = 11;
const PRODUCER_BYTES = 19;
/** first and last sequence int32, first and last offset int64. */
const BATCH_BYTES = 24;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** The max timestamp of its last batch (Kafka's lastTimestamp); -1 when unknown. */
  lastTimestamp: number;
  batches: BatchMetadata[];
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number }
  | { kind: 'error'; errorCode: number; message: string };

function nextSequence(sequence: number): number {
  return sequence === SEQUENCE_MAX ? 0 : sequence + 1;
}

export class ProducerStateTable {
  /** In order of last write: the first entry is the least recently written producer. */
  private readonly producers = new Map<number, ProducerEntry>();

  /** `maxProducers`: past it the least recently written producer is forgotten. */
  constructor(private readonly maxProducers = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.producers.size;
  }

  /** Forgets every producer (before a rebuild from the log). */
  clear(): void {
    this.producers.clear();
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Decides what to do with a batch from an idempotent producer. The rules follow Kafka's
   * ProducerAppendInfo: an older epoch is fenced; a newer epoch must start at sequence 0;
   * a batch matching one of the retained five is a duplicate; otherwise the first sequence
   * must follow the last one appended. A producer id with no state here (new, or its state
   * expired) must start at sequence 0.
   */
  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    if (!entry) {
      if (firstSeq !== 0) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `producer ${producerId} is unknown here and sent sequence ${firstSeq}, not 0`,
        };
      }
      return { kind: 'append' };
    }
    if (epoch < entry.epoch) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `producer epoch ${epoch} is older than the current ${entry.epoch}`,
      };
    }
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `new epoch ${epoch} must start at sequence 0, not ${firstSeq}`,
        };
      }
      return { kind: 'append' };
    }
    for (const batch of entry.batches) {
      if (batch.firstSeq === firstSeq && batch.lastSeq === lastSeq) {
        return { kind: 'duplicate', firstOffset: batch.firstOffset, lastOffset: batch.lastOffset };
      }
    }
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? nextSequence(last.lastSeq) : 0;
    if (firstSeq !== expected) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `expected sequence ${expected}, got ${firstSeq}`,
      };
    }
    return { kind: 'append' };
  }

  /**
   * Records an appended batch (also used when replaying the log at recovery); `timestamp`
   * is the batch's max timestamp.
   */
  record(producerId: number, epoch: number, batch: BatchMetadata, timestamp = -1): void {
    let entry = this.producers.get(producerId);
    if (entry) this.producers.delete(producerId); // re-inserted below: now the most recent
    if (!entry || epoch > entry.epoch) entry = { producerId, epoch, lastTimestamp: -1, batches: [] };
    this.producers.set(producerId, entry);
    entry.lastTimestamp = timestamp;
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
    while (this.producers.size > this.maxProducers) {
      const oldest = this.producers.keys().next().value as number;
      this.producers.delete(oldest);
    }
  }

  /**
   * Forgets producers whose last batch is `expirationMs` old at `nowMs` (a producer with no
   * known timestamp is dated `nowMs` now, so it expires a full period later). Returns how
   * many were forgotten.
   */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (entry.lastTimestamp < 0) entry.lastTimestamp = nowMs;
      else if (nowMs - entry.lastTimestamp >= expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Drops state of batches at or after `offset` (log truncation); keeps the rest. */
  truncateFrom(offset: number): void {
    for (const [id, entry] of this.producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.producers.delete(id);
    }
  }

  /** The table as a snapshot file's bytes (format above). */
  encodeSnapshot(): Buffer {
    let size = SNAPSHOT_HEADER_BYTES;
    for (const entry of this.producers.values()) size += PRODUCER_BYTES + entry.batches.length * BATCH_BYTES;
    const out = Buffer.alloc(size);
    out.writeInt16BE(SNAPSHOT_VERSION, 0);
    out.writeInt32BE(this.producers.size, 6);
    let at = SNAPSHOT_HEADER_BYTES;
    for (const entry of this.producers.values()) {
      out.writeBigInt64BE(BigInt(entry.producerId), at);
      out.writeInt16BE(entry.epoch, at + 8);
      out.writeBigInt64BE(BigInt(entry.lastTimestamp), at + 10);
      out.writeInt8(entry.batches.length, at + 18);
      at += PRODUCER_BYTES;
      for (const batch of entry.batches) {
        out.writeInt32BE(batch.firstSeq, at);
        out.writeInt32BE(batch.lastSeq, at + 4);
        out.writeBigInt64BE(BigInt(batch.firstOffset), at + 8);
        out.writeBigInt64BE(BigInt(batch.lastOffset), at + 16);
        at += BATCH_BYTES;
      }
    }
    out.writeUInt32BE(crc32c(out, 6), 2);
    return out;
  }

  /**
   * A table from snapshot bytes, or null when they are not a whole, valid snapshot (torn,
   * corrupt, another version): the caller rebuilds the state from the log instead.
   */
  static decodeSnapshot(raw: Buffer): ProducerStateTable | null {
    if (raw.length < SNAPSHOT_HEADER_BYTES) return null;
    const version = raw.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION && version !== 1) return null;
    const producerBytes = version === 1 ? PRODUCER_BYTES_V1 : PRODUCER_BYTES;
    if (raw.readUInt32BE(2) !== crc32c(raw, 6)) return null;
    const count = raw.readInt32BE(6);
    if (count < 0 || count > (raw.length - SNAPSHOT_HEADER_BYTES) / producerBytes) return null;
    const table = new ProducerStateTable();
    let at = SNAPSHOT_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      if (at + producerBytes > raw.length) return null;
      const producerId = Number(raw.readBigInt64BE(at));
      const epoch = raw.readInt16BE(at + 8);
      const lastTimestamp = version === 1 ? -1 : Number(raw.readBigInt64BE(at + 10));
      const batchCount = raw.readInt8(at + producerBytes - 1);
      at += producerBytes;
      if (batchCount < 0 || batchCount > BATCHES_RETAINED || at + batchCount * BATCH_BYTES > raw.length) return null;
      const batches: BatchMetadata[] = [];
      for (let b = 0; b < batchCount; b++, at += BATCH_BYTES) {
        batches.push({
          firstSeq: raw.readInt32BE(at),
          lastSeq: raw.readInt32BE(at + 4),
          firstOffset: Number(raw.readBigInt64BE(at + 8)),
          lastOffset: Number(raw.readBigInt64BE(at + 16)),
        });
      }
      table.producers.set(producerId, { producerId, epoch, lastTimestamp, batches });
    }
    return at === raw.length ? table : null;
  }

  toJSON(): ProducerEntry[] {
    return [...this.producers.values()];
  }

  static fromJSON(entries: ProducerEntry[]): ProducerStateTable {
    const table = new ProducerStateTable();
    for (const entry of entries) table.producers.set(entry.producerId, { ...entry, batches: [...entry.batches] });
    return table;
  }
}
