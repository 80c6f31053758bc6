// Connection creation rates (KIP-612), as Kafka's ConnectionQuotas keeps them: a broker-wide
// rate (max.connection.creation.rate) and a rate per listener
// (listener.name.<listener>.max.connection.creation.rate) that, when exceeded, delay
// accepting further connections until the rate is back within them, and a per-IP rate (the connection_creation_rate
// of the ip entity, else of the default ip entity) whose excess connections are held unread
// for the throttle time and then closed. Both throttle times are capped at one quota window.
// Pure: time comes in as arguments.

import { ConfigError } from '../config/config';
import { QuotaWindow, RateSensor } from './quotas';

/** Kafka's default max.connection.creation.rate: no limit. */
export const UNLIMITED_CONNECTION_RATE = 2_147_483_647;

/** Idle per-IP sensors are dropped after this long (Kafka's ConnectionQuotaEntity sensor expiration). */
export const IP_SENSOR_EXPIRATION_MS = 3_600_000;

export interface ConnectionQuotaSettings {
  window: QuotaWindow;
  /** max.connection.creation.rate: new connections per second across the broker's non-inter-broker listeners. */
  maxConnectionCreationRate: number;
  /** Per-IP rate sensors kept at most (the least recently used goes first). */
  ipSensorsMax: number;
}

export class ConnectionQuotas {
  private readonly brokerSensor: RateSensor;
  /** Per-IP sensors in least-recently-used order (a Map iterates in insertion order). */
  private readonly ipSensors = new Map<string, RateSensor>();
  private readonly maxThrottleMs: number;
  /** Listeners with their own max.connection.creation.rate: the rate and its sensor. */
  private readonly listeners = new Map<string, { rate: number; sensor: RateSensor }>();
  /** Throttles applied, for metrics. */
  brokerThrottles = 0;
  ipThrottles = 0;

  constructor(
    private readonly settings: ConnectionQuotaSettings,
    /** The connection_creation_rate that applies to an IP address, null for none. */
    private readonly rateForIp: (ip: string) => number | null,
    nowMs: number,
  ) {
    this.brokerSensor = new RateSensor(settings.window, nowMs);
    this.maxThrottleMs = settings.window.windowMs;
  }

  /** True when neither rate can ever apply, so the listener may skip this class entirely. */
  get brokerRateLimited(): boolean {
    return this.settings.maxConnectionCreationRate < UNLIMITED_CONNECTION_RATE;
  }

  /** Gives a listener its own rate (listener.name.<listener>.max.connection.creation.rate). */
  setListenerRate(listenerName: string, rate: number, nowMs: number): void {
    this.listeners.set(listenerName, { rate, sensor: new RateSensor(this.settings.window, nowMs) });
  }

  /**
   * Records a new connection against the broker-wide rate and its listener's, and returns
   * how long accepting must pause (0: go on), the longer of the two. Connections of a
   * protected listener (the inter-broker one, when the broker has others) count only
   * against their listener's rate.
   */
  recordBrokerConnection(nowMs: number, listenerName?: string, protectedListener = false): number {
    let throttleMs = 0;
    if (this.brokerRateLimited && !protectedListener)
      throttleMs = this.brokerSensor.recordAndThrottleMs(1, this.settings.maxConnectionCreationRate, nowMs);
    const listener = listenerName === undefined ? undefined : this.listeners.get(listenerName);
    if (listener) throttleMs = Math.max(throttleMs, listener.sensor.recordAndThrottleMs(1, listener.rate, nowMs));
    if (throttleMs > 0) this.brokerThrottles++;
    return Math.min(throttleMs, this.maxThrottleMs);
  }

  /**
   * Records a new connection from `ip` against its rate; when that is exceeded the
   * connection is taken back out of the counts (it will not be served) and the time to hold
   * it before closing is returned (0: accept it).
   */
  recordIpConnection(ip: string, nowMs: number, countedForBroker: boolean, listenerName?: string): number {
    const bound = this.rateForIp(ip);
    if (bound === null) return 0;
    let sensor = this.ipSensors.get(ip);
    if (sensor) this.ipSensors.delete(ip);
    else {
      this.expire(nowMs);
      if (this.ipSensors.size >= this.settings.ipSensorsMax) this.ipSensors.delete(this.ipSensors.keys().next().value!);
      sensor = new RateSensor(this.settings.window, nowMs);
    }
    this.ipSensors.set(ip, sensor);
    const throttleMs = sensor.recordAndThrottleMs(1, bound, nowMs);
    if (throttleMs === 0) return 0;
    sensor.record(-1, nowMs);
    if (countedForBroker && this.brokerRateLimited) this.brokerSensor.record(-1, nowMs);
    if (listenerName !== undefined) this.listeners.get(listenerName)?.sensor.record(-1, nowMs);
    this.ipThrottles++;
    return Math.min(throttleMs, this.maxThrottleMs);
  }

  /** The per-IP sensors idle for an hour go (oldest first, so the scan stops at the first live one). */
  private expire(nowMs: number): void {
    for (const [ip, sensor] of this.ipSensors) {
      if (nowMs - sensor.lastRecordMs < IP_SENSOR_EXPIRATION_MS) break;
      this.ipSensors.delete(ip);
    }
  }

  /** The current connection creation rate of an IP address (0 when it has no sensor). */
  ipRate(ip: string, nowMs: number): number {
    return this.ipSensors.get(ip)?.rate(nowMs) ?? 0;
  }

  get ipSensorCount(): number {
    return this.ipSensors.size;
  }
}

/**
 * listener.name.<listener>.max.connection.creation.rate of each listener that sets it (the
 * listener name in lower case, as Kafka's per-listener keys are written). A value that is not
 * an integer >= 0 stops the start with a ConfigError.
 */
export function listenerConnectionRates(keys: Record<string, string>, listenerNames: string[]): Map<string, number> {
  const rates = new Map<string, number>();
  for (const name of listenerNames) {
    const key = `listener.name.${name.toLowerCase()}.max.connection.creation.rate`;
    const value = keys[key];
    if (value === undefined) continue;
    const rate = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(rate) || rate > UNLIMITED_CONNECTION_RATE)
      throw new ConfigError(`${key}: must be an integer from 0 to ${UNLIMITED_CONNECTION_RATE}, got "${value}"`);
    rates.set(name, rate);
  }
  return rates;
}
