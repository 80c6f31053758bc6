// Idempotent producer state for one partition: per producer id, its epoch and the
// metadata of its last five batches (Kafka's NUM_BATCHES_TO_RETAIN), so a retried batch is
// answered with its original offset instead of being written twice, and a batch out of
// sequence or from a fenced epoch is refused. Pure logic: no I/O, no clocks.
//
// Snapshot format (big-endian), like Kafka's producer snapshot: version int16 (1),
// crc32c uint32 of everything after it, producer count int32, then per producer:
// producer id int64, epoch int16, batch count int8 (at most five), and per batch: first
// sequence int32, last sequence int32, first offset int64, last offset int64.

import { crc32c } from '../../protocol/crc32c';
import { ErrorCode } from '../../protocol/errors';

export const BATCHES_RETAINED = 5;
const SEQUENCE_MAX = 0x7fffffff;
const SNAPSHOT_VERSION = 1;
/** version int16, crc32c uint32, producer count int32. */
const SNAPSHOT_HEADER_BYTES = 10;
/** producer id int64, epoch int16, batch count int8. */
const PRODUCER_BYTES = 11;
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
  private readonly producers = new Map<number, ProducerEntry>();

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

  /** Records an appended batch (also used when replaying the log at recovery). */
  record(producerId: number, epoch: number, batch: BatchMetadata): void {
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) {
      entry = { producerId, epoch, batches: [] };
      this.producers.set(producerId, entry);
    }
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
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
      out.writeInt8(entry.batches.length, at + 10);
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
    if (raw.length < SNAPSHOT_HEADER_BYTES || raw.readInt16BE(0) !== SNAPSHOT_VERSION) return null;
    if (raw.readUInt32BE(2) !== crc32c(raw, 6)) return null;
    const count = raw.readInt32BE(6);
    if (count < 0 || count > (raw.length - SNAPSHOT_HEADER_BYTES) / PRODUCER_BYTES) return null;
    const table = new ProducerStateTable();
    let at = SNAPSHOT_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      if (at + PRODUCER_BYTES > raw.length) return null;
      const producerId = Number(raw.readBigInt64BE(at));
      const epoch = raw.readInt16BE(at + 8);
      const batchCount = raw.readInt8(at + 10);
      at += PRODUCER_BYTES;
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
      table.producers.set(producerId, { producerId, epoch, batches });
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
