// Idempotent producer state for one partition: per producer id, its epoch and the
// metadata of its last five batches (Kafka's NUM_BATCHES_TO_RETAIN), so a retried batch is
// answered with its original offset instead of being written twice, and a batch out of
// sequence or from a fenced epoch is refused. Pure logic: no I/O, no clocks.

import { ErrorCode } from '../../protocol/errors';

export const BATCHES_RETAINED = 5;
const SEQUENCE_MAX = 0x7fffffff;

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

  toJSON(): ProducerEntry[] {
    return [...this.producers.values()];
  }

  static fromJSON(entries: ProducerEntry[]): ProducerStateTable {
    const table = new ProducerStateTable();
    for (const entry of entries) table.producers.set(entry.producerId, { ...entry, batches: [...entry.batches] });
    return table;
  }
}
