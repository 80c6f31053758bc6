// What every system's load generator in the peer benchmark is given and hands back, so
// the driver treats Brook, JetStream and Redis rows alike.

import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { newHistogram } from '../lib/load';

export interface ProduceWorkload {
  recordBytes: number;
  /** Producers, each its own connection with its own window of records in flight. */
  producers: number;
  durationMs: number;
}

export interface ProduceOutcome {
  /** Records acknowledged by the server (errors not counted). */
  records: number;
  /** Seconds from the first send until the last acknowledgement of the row. */
  seconds: number;
  errors: Record<string, number>;
  /** Microseconds from sending a record (or the request that holds it) to its acknowledgement. */
  histogram: hdr.Histogram;
}

/** What reading back a sample's stream from its start gave: one consumer, as fast as it goes. */
export interface ConsumeOutcome {
  /** Records the consumer held by the end (the sample's acknowledged records, unless it gave up). */
  records: number;
  /** Records the sample stored, which the consumer was to read. */
  expected: number;
  /** From the consumer's first request until it held the last record (or gave up). */
  seconds: number;
}

/** A read-back that has not got every record by then stops with what it has. */
export const READ_BACK_DEADLINE_MS = 60_000;

/** Bytes a consumer asks for per request or pull. */
export const READ_BACK_REQUEST_BYTES = 4 * 1024 * 1024;

/** Messages per pull (JetStream) or XREAD (Redis): READ_BACK_REQUEST_BYTES worth, within bounds. */
export function readBackCount(recordBytes: number): number {
  return Math.max(64, Math.min(4096, Math.floor(READ_BACK_REQUEST_BYTES / recordBytes)));
}

export function countError(errors: Record<string, number>, what: string, count = 1): void {
  errors[what] = (errors[what] ?? 0) + count;
}

export { newHistogram };

/**
 * Runs `producers` closed-loop producers side by side and merges what they report. Each
 * producer resolves once its deadline passed and its last record in flight is answered.
 */
export async function runProducers(
  workload: ProduceWorkload,
  produce: (
    index: number,
    deadlineMs: number,
    histogram: hdr.Histogram,
    errors: Record<string, number>,
  ) => Promise<number>,
): Promise<ProduceOutcome> {
  const histogram = newHistogram();
  const errors: Record<string, number> = {};
  const startedMs = performance.now();
  const deadlineMs = startedMs + workload.durationMs;
  const counts = await Promise.all(
    Array.from({ length: workload.producers }, (_, index) => produce(index, deadlineMs, histogram, errors)),
  );
  const seconds = (performance.now() - startedMs) / 1000;
  return { records: counts.reduce((a, b) => a + b, 0), seconds, errors, histogram };
}
