// End-to-end rows of the peer benchmark: one producer paced at a fixed offered rate (open
// loop) and one consumer reading the same log while it is written. Every record has a due
// time on the schedule (start + i / rate); its acknowledgement latency and its end-to-end
// latency (due time to the moment the consumer holds it) both count from that due time,
// so a producer that falls behind, or batches, pays for it in the figures (no coordinated
// omission). Acknowledgements and consumption are joined by the log position each system
// names: Brook's base offset of a batch, JetStream's stream sequence, Redis's entry ID.

import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { sleep } from '../lib/process';
import { countError, newHistogram } from './workload';

export interface EndToEndWorkload {
  recordBytes: number;
  ratePerSecond: number;
  durationMs: number;
}

export interface EndToEndOutcome {
  sent: number;
  acknowledged: number;
  consumed: number;
  /** From the first due time until the last record was consumed (or the drain gave up). */
  seconds: number;
  errors: Record<string, number>;
  /** Microseconds from due time to acknowledgement. */
  ackHistogram: hdr.Histogram;
  /** Microseconds from due time to consumption. */
  endToEndHistogram: hdr.Histogram;
}

/** Consumption waits this long after the last send for the last records. */
const DRAIN_TIMEOUT_MS = 30_000;
const PACE_TICK_MS = 1;

/**
 * Joins what the producer learns (a log position and the due times of the records there)
 * with what the consumer sees (the same position), in either order.
 */
export class LatencyJoin<K> {
  private readonly acknowledged = new Map<K, number[]>();
  /** Consumption time of positions the producer has not heard back about yet. */
  private readonly seen = new Map<K, number>();
  consumed = 0;

  constructor(private readonly histogram: hdr.Histogram) {}

  acknowledge(position: K, dueMs: number[]): void {
    const seen = this.seen.get(position);
    if (seen !== undefined) {
      this.seen.delete(position);
      this.record(dueMs, seen);
    } else this.acknowledged.set(position, dueMs);
  }

  consume(position: K): void {
    const now = performance.now();
    const dueMs = this.acknowledged.get(position);
    if (dueMs) {
      this.acknowledged.delete(position);
      this.record(dueMs, now);
    } else this.seen.set(position, now);
  }

  private record(dueMs: number[], atMs: number): void {
    for (const due of dueMs) this.histogram.recordValue(Math.max(1, Math.round((atMs - due) * 1000)));
    this.consumed += dueMs.length;
  }
}

/** What one system supplies for an end-to-end row. */
export interface EndToEndParty {
  /** Sends the records due now (`dueMs` holds their due times); acknowledgements come later. */
  send(dueMs: number[]): void;
  /** Starts the consumer; it runs until `stop` is called. */
  startConsumer(): void;
  stop(): Promise<void>;
}

export class EndToEndRun {
  readonly ackHistogram = newHistogram();
  readonly endToEndHistogram = newHistogram();
  readonly join: LatencyJoin<string | number>;
  readonly errors: Record<string, number> = {};
  acknowledged = 0;
  failed = 0;

  constructor() {
    this.join = new LatencyJoin(this.endToEndHistogram);
  }

  /** The producer's side of one acknowledged position. */
  acknowledge(position: string | number, dueMs: number[]): void {
    const now = performance.now();
    for (const due of dueMs) this.ackHistogram.recordValue(Math.max(1, Math.round((now - due) * 1000)));
    this.acknowledged += dueMs.length;
    this.join.acknowledge(position, dueMs);
  }

  /** A failure that loses no record by itself (the consumer stopping, say). */
  note(what: string): void {
    countError(this.errors, what);
  }

  fail(what: string, count: number): void {
    this.failed += count;
    countError(this.errors, what, count);
  }

  /** Paces the sends, then waits (bounded) until every acknowledged record was consumed. */
  async run(workload: EndToEndWorkload, party: EndToEndParty): Promise<EndToEndOutcome> {
    party.startConsumer();
    const total = Math.round((workload.ratePerSecond * workload.durationMs) / 1000);
    const intervalMs = 1000 / workload.ratePerSecond;
    const startMs = performance.now();
    let sent = 0;
    try {
      while (sent < total) {
        const due = Math.min(total, Math.floor((performance.now() - startMs) / intervalMs) + 1);
        if (due > sent) {
          party.send(Array.from({ length: due - sent }, (_, i) => startMs + (sent + i) * intervalMs));
          sent = due;
        }
        await sleep(PACE_TICK_MS);
      }
      const drainDeadline = performance.now() + DRAIN_TIMEOUT_MS;
      while (this.acknowledged + this.failed < sent || this.join.consumed < this.acknowledged) {
        if (performance.now() > drainDeadline) {
          const unacknowledged = sent - this.acknowledged - this.failed;
          const unconsumed = this.acknowledged - this.join.consumed;
          if (unacknowledged > 0)
            countError(this.errors, `not acknowledged within ${DRAIN_TIMEOUT_MS} ms`, unacknowledged);
          if (unconsumed > 0)
            countError(this.errors, `acknowledged but not consumed within ${DRAIN_TIMEOUT_MS} ms`, unconsumed);
          break;
        }
        await sleep(5);
      }
    } finally {
      await party.stop();
    }
    return {
      sent,
      acknowledged: this.acknowledged,
      consumed: this.join.consumed,
      seconds: (performance.now() - startMs) / 1000,
      errors: this.errors,
      ackHistogram: this.ackHistogram,
      endToEndHistogram: this.endToEndHistogram,
    };
  }
}
