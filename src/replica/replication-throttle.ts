// Replication throttles (Kafka's KIP-73, ReplicationQuotaManager): one byte rate for the
// replication traffic this broker sends as a leader, one for what it fetches as a follower.
// The replicas that count are named per topic by `leader.replication.throttled.replicas` and
// `follower.replication.throttled.replicas` ("partition:broker,..." or "*"): an entry counts
// on the broker it names, so the leader's list names the leaders and the follower's list the
// followers. Replicas in sync are never held back. Time comes in as arguments.

import { DEFAULT_QUOTA_WINDOW, RateSensor } from '../security/quotas';
import type { QuotaWindow } from '../security/quotas';

export const LEADER_THROTTLED_RATE = 'leader.replication.throttled.rate';
export const FOLLOWER_THROTTLED_RATE = 'follower.replication.throttled.rate';
export const LEADER_THROTTLED_REPLICAS = 'leader.replication.throttled.replicas';
export const FOLLOWER_THROTTLED_REPLICAS = 'follower.replication.throttled.replicas';

/** Kafka's default of both rates: Long.MAX_VALUE, no throttle. */
export const UNTHROTTLED_RATE = '9223372036854775807';

/**
 * The partitions of a topic the list throttles on broker `brokerId` (Kafka's
 * ConfigHandler.parseThrottledPartitions): 'all' for "*", else the partition ids.
 */
export function throttledPartitions(value: string | undefined, brokerId: number): 'all' | Set<number> {
  const text = (value ?? '').trim();
  if (text === '*') return 'all';
  const out = new Set<number>();
  if (text === '') return out;
  for (const item of text.split(',')) {
    const match = /^\s*(\d+):(\d+)\s*$/.exec(item);
    if (match && Number(match[2]) === brokerId) out.add(Number(match[1]));
  }
  return out;
}

/** One direction's quota: the bound (bytes/s), its sensor, and the bytes counted. */
export class ReplicationQuota {
  /** Bytes per second; Infinity when unthrottled. */
  bound = Infinity;
  /** Bytes of throttled replicas recorded (a metric). */
  recordedBytes = 0;
  /** Partition answers or fetches held back by the quota (a metric). */
  heldBack = 0;
  private sensor: RateSensor;

  constructor(
    private readonly window: QuotaWindow = DEFAULT_QUOTA_WINDOW,
    nowMs = 0,
  ) {
    this.sensor = new RateSensor(window, nowMs);
  }

  /** Sets the bound from a config value (Long.MAX_VALUE or anything unparsable: no bound). */
  setRate(value: string | undefined, nowMs: number): void {
    const n = value === undefined ? NaN : Number(value);
    const next = Number.isFinite(n) && n >= 0 && n < Number.MAX_SAFE_INTEGER ? n : Infinity;
    // Kafka's updateQuota replaces the sensor's quota; a new bound starts a fresh measure.
    if (next !== this.bound) this.sensor = new RateSensor(this.window, nowMs);
    this.bound = next;
  }

  get enabled(): boolean {
    return this.bound !== Infinity;
  }

  /** Kafka's isQuotaExceeded: the measured rate is over the bound. */
  isExceeded(nowMs: number): boolean {
    return this.enabled && this.sensor.rate(nowMs) > this.bound;
  }

  record(bytes: number, nowMs: number): void {
    if (bytes <= 0) return;
    this.recordedBytes += bytes;
    if (this.enabled) this.sensor.record(bytes, nowMs);
  }

  rate(nowMs: number): number {
    return this.enabled ? this.sensor.rate(nowMs) : 0;
  }
}

/** Whether partition `partition` of a topic with these configs is throttled on `brokerId`. */
export function isThrottled(
  topicConfigs: Record<string, string>,
  key: string,
  partition: number,
  brokerId: number,
): boolean {
  const parts = throttledPartitions(topicConfigs[key], brokerId);
  return parts === 'all' || parts.has(partition);
}
