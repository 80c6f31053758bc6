// The node's metrics as the HTTP listener serves them: the Prometheus text for /metrics
// (families in src/http/prometheus-metrics.ts) and the live stats for the console.
//
// Live stats, for the console's WebSocket push (src/http/live.ts):
//   const metrics = new NodeMetrics(broker, () => listener.connectionCount);
//   metrics.start();                       // samples once a second (timer unref'd)
//   metrics.stats();                       // the latest LiveStats (zeros before the first sample)
//   const off = metrics.onStats((s) => …); // called after every sample; off() unsubscribes
//   metrics.stop();
// A sample holds produce and fetch records/s and bytes/s over the last second (leader
// appends, and consumer fetches: followers' replication fetches are not counted), the
// request latency p50/p99/p99.9 in milliseconds over that same interval (every API but
// Fetch, whose long poll waits for data by design), and the open Kafka connections.

import { monitorEventLoopDelay, IntervalHistogram } from 'node:perf_hooks';
import type { Broker } from '../broker/broker';
import { renderPrometheus } from './prometheus-metrics';

/** How often the live stats are sampled. */
export const STATS_INTERVAL_MS = 1000;
/** Resolution of the event-loop delay monitor. */
const EVENT_LOOP_RESOLUTION_MS = 10;
/** Listeners of the live stats (the console's sockets share one). */
const STATS_LISTENERS_MAX = 64;

export interface Rate {
  recordsPerSec: number;
  bytesPerSec: number;
}

export interface LiveStats {
  /** When the sample was taken (ms since the epoch). */
  at: number;
  /** Length of the interval the rates cover, in ms. */
  intervalMs: number;
  produce: Rate;
  fetch: Rate;
  /** Latency of requests answered during the interval (0 when none). */
  requestLatencyMs: { p50: number; p99: number; p999: number };
  /** Requests answered during the interval (every API but Fetch). */
  requests: number;
  connections: number;
}

function emptyStats(connections: number): LiveStats {
  return {
    at: Date.now(),
    intervalMs: 0,
    produce: { recordsPerSec: 0, bytesPerSec: 0 },
    fetch: { recordsPerSec: 0, bytesPerSec: 0 },
    requestLatencyMs: { p50: 0, p99: 0, p999: 0 },
    requests: 0,
    connections,
  };
}

export class NodeMetrics {
  readonly eventLoopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  private timer: NodeJS.Timeout | null = null;
  private latest: LiveStats;
  private last = { at: Date.now(), producedRecords: 0, producedBytes: 0, fetchedRecords: 0, fetchedBytes: 0 };
  private readonly listeners = new Set<(stats: LiveStats) => void>();

  constructor(
    readonly broker: Broker,
    readonly connections: () => number,
  ) {
    this.latest = emptyStats(0);
  }

  start(): void {
    if (this.timer) return;
    this.eventLoopDelay.enable();
    const m = this.broker.metrics;
    this.last = {
      at: Date.now(),
      producedRecords: m.producedRecords,
      producedBytes: m.producedBytes,
      fetchedRecords: m.fetchedRecords,
      fetchedBytes: m.fetchedBytes,
    };
    m.intervalLatencyMicroseconds.reset();
    this.timer = setInterval(() => this.sample(), STATS_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.eventLoopDelay.disable();
    this.listeners.clear();
  }

  /** The latest sample (zeros until the first second has passed). */
  stats(): LiveStats {
    return this.latest;
  }

  /** Calls `listener` after every sample; returns the unsubscribe function. */
  onStats(listener: (stats: LiveStats) => void): () => void {
    if (this.listeners.size >= STATS_LISTENERS_MAX)
      throw new Error(`at most ${STATS_LISTENERS_MAX} live stats listeners`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes one sample now (the timer calls this every second; tests may call it). */
  sample(): LiveStats {
    const m = this.broker.metrics;
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.last.at) / 1000);
    const latency = m.intervalLatencyMicroseconds;
    const requests = latency.totalCount;
    const percentile = (p: number) => (requests === 0 ? 0 : Math.round(latency.getValueAtPercentile(p)) / 1000);
    this.latest = {
      at: now,
      intervalMs: now - this.last.at,
      produce: {
        recordsPerSec: Math.round((m.producedRecords - this.last.producedRecords) / seconds),
        bytesPerSec: Math.round((m.producedBytes - this.last.producedBytes) / seconds),
      },
      fetch: {
        recordsPerSec: Math.round((m.fetchedRecords - this.last.fetchedRecords) / seconds),
        bytesPerSec: Math.round((m.fetchedBytes - this.last.fetchedBytes) / seconds),
      },
      requestLatencyMs: { p50: percentile(50), p99: percentile(99), p999: percentile(99.9) },
      requests,
      connections: this.connections(),
    };
    latency.reset();
    this.last = {
      at: now,
      producedRecords: m.producedRecords,
      producedBytes: m.producedBytes,
      fetchedRecords: m.fetchedRecords,
      fetchedBytes: m.fetchedBytes,
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(this.latest);
      } catch (error) {
        this.broker.logger.warn('live stats listener failed', { error: String(error) });
      }
    }
    return this.latest;
  }

  /** The /metrics body (Prometheus text format 0.0.4). */
  render(): string {
    return renderPrometheus(this);
  }
}
