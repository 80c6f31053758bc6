// Per-API request counters, error counts by error code, latency histograms, and per-topic
// bytes and records in and out, kept cheap enough for the hot path: every counter lives in
// an object made once per API or topic, and latency goes into an HDR histogram
// (recordValue does not allocate). The HTTP /metrics endpoint and the live stats read
// these (src/http/metrics.ts); benchmarks read them too.

import * as hdr from 'hdr-histogram-js';
import { LENGTH_OFFSET, LOG_OVERHEAD, RECORDS_COUNT_OFFSET } from '../../protocol/record-batch';

/** Latencies are recorded in microseconds, up to this bound (longer ones are clamped). */
export const LATENCY_MICROSECONDS_MAX = 120_000_000;
/** How deep the error counter looks into a response for errorCode fields. */
const ERROR_SCAN_DEPTH_MAX = 3;
const FETCH_API_KEY = 1;

export function newLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_MICROSECONDS_MAX,
    numberOfSignificantValueDigits: 2,
  });
}

export class ApiCounters {
  requests = 0;
  /** Requests answered (a handler that threw counts as answered with an error). */
  finished = 0;
  latencySecondsSum = 0;
  readonly latencyMicroseconds = newLatencyHistogram();
  /** Error code -> responses (or partitions within responses) that carried it. */
  readonly errors = new Map<number, number>();
}

export class TopicCounters {
  bytesIn = 0;
  recordsIn = 0;
  bytesOut = 0;
  recordsOut = 0;
  /** Bytes that followers fetched from this broker (replication, not consumption). */
  replicationBytesOut = 0;
}

export class RequestMetrics {
  readonly apis = new Map<number, ApiCounters>();
  readonly topics = new Map<string, TopicCounters>();
  /** Totals across topics, read once a second for the live rates. */
  producedRecords = 0;
  producedBytes = 0;
  fetchedRecords = 0;
  fetchedBytes = 0;
  /**
   * Latency of every request except Fetch since the stats sampler last reset it: a
   * consumer's Fetch waits for data by design (long poll), so it would only show maxWaitMs.
   */
  readonly intervalLatencyMicroseconds = newLatencyHistogram();

  private api(apiKey: number): ApiCounters {
    let counters = this.apis.get(apiKey);
    if (!counters) this.apis.set(apiKey, (counters = new ApiCounters()));
    return counters;
  }

  topic(name: string): TopicCounters {
    let counters = this.topics.get(name);
    if (!counters) this.topics.set(name, (counters = new TopicCounters()));
    return counters;
  }

  requestStarted(apiKey: number): void {
    this.api(apiKey).requests++;
  }

  /** A request was answered; `response` is scanned for non-zero errorCode fields. */
  requestFinished(apiKey: number, startedNs: bigint, response?: unknown): void {
    const counters = this.api(apiKey);
    counters.finished++;
    const microseconds = Number(process.hrtime.bigint() - startedNs) / 1000;
    const clamped = Math.min(LATENCY_MICROSECONDS_MAX, Math.max(1, Math.round(microseconds)));
    counters.latencyMicroseconds.recordValue(clamped);
    counters.latencySecondsSum += microseconds / 1e6;
    if (apiKey !== FETCH_API_KEY) this.intervalLatencyMicroseconds.recordValue(clamped);
    if (response !== undefined && response !== null && typeof response === 'object')
      countErrors(counters.errors, response, 0);
  }

  /** A handler threw: answered with UNKNOWN_SERVER_ERROR (-1). */
  requestFailed(apiKey: number, errorCode: number): void {
    const counters = this.api(apiKey);
    counters.finished++;
    counters.errors.set(errorCode, (counters.errors.get(errorCode) ?? 0) + 1);
  }

  /** A leader appended `records` records in `bytes` bytes of batches to a topic. */
  produced(topic: string, records: number, bytes: number): void {
    const counters = this.topic(topic);
    counters.bytesIn += bytes;
    counters.recordsIn += records;
    this.producedRecords += records;
    this.producedBytes += bytes;
  }

  /** A fetch read these chunks of whole batches from a topic (follower: replication). */
  fetched(topic: string, chunks: Buffer[], bytes: number, follower: boolean): void {
    const counters = this.topic(topic);
    if (follower) {
      counters.replicationBytesOut += bytes;
      return;
    }
    const records = countRecords(chunks);
    counters.bytesOut += bytes;
    counters.recordsOut += records;
    this.fetchedRecords += records;
    this.fetchedBytes += bytes;
  }
}

/** Adds every non-zero errorCode found in the response (to a bounded depth) to `errors`. */
function countErrors(errors: Map<number, number>, node: object, depth: number): void {
  const code = (node as { errorCode?: unknown }).errorCode;
  if (typeof code === 'number' && code !== 0) errors.set(code, (errors.get(code) ?? 0) + 1);
  if (depth >= ERROR_SCAN_DEPTH_MAX) return;
  for (const key in node) {
    const value = (node as Record<string, unknown>)[key];
    if (!Array.isArray(value)) continue;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) countErrors(errors, item, depth + 1);
    }
  }
}

/** Sums the record counts of the v2 batch headers in these chunks (whole batches). */
export function countRecords(chunks: Buffer[]): number {
  let records = 0;
  for (const chunk of chunks) {
    let at = 0;
    while (at + RECORDS_COUNT_OFFSET + 4 <= chunk.length) {
      const batchLength = chunk.readInt32BE(at + LENGTH_OFFSET);
      if (batchLength <= 0) break;
      records += chunk.readInt32BE(at + RECORDS_COUNT_OFFSET);
      at += LOG_OVERHEAD + batchLength;
    }
  }
  return records;
}
