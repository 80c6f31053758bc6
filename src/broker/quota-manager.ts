// The broker's client quota enforcement (Kafka's ClientQuotaManager, ClientRequestQuotaManager
// and ControllerMutationQuotaManager): per quota type, a rate sensor for each set of sensor
// tags that quota resolution gives a (user, client-id) pair, bounded in number and expired
// after an hour idle. Produce bytes, consumer Fetch bytes, handler time (request_percentage)
// and partition mutations are recorded here; the answer is a throttle time that the
// dispatcher writes into the response's throttle_time_ms and that mutes the connection for
// that long after the response is sent (KIP-219). With no quota in the metadata image,
// nothing is recorded: the dispatcher's check costs a version compare.

import {
  CLIENT_QUOTA_TYPES,
  ClientQuotaType,
  CONSUMER_BYTE_RATE,
  CONTROLLER_MUTATION_RATE,
  PRODUCER_BYTE_RATE,
  QuotaResolver,
  QuotaSource,
  QuotaWindow,
  RateSensor,
  REQUEST_PERCENTAGE,
  TokenBucket,
} from '../security/quotas';
import type { RequestContext } from './api-handler';

/** Sensors idle this long are dropped (Kafka's InactiveSensorExpirationTimeSeconds). */
export const INACTIVE_SENSOR_EXPIRATION_MS = 3_600_000;

/** Kafka's quota type names, used in metric labels. */
export const QUOTA_TYPE_NAMES: Record<ClientQuotaType, string> = {
  producer_byte_rate: 'Produce',
  consumer_byte_rate: 'Fetch',
  request_percentage: 'Request',
  controller_mutation_rate: 'ControllerMutation',
};

/** request_percentage counts a second of handler time as 100 (percent of one thread). */
const NANOS_TO_PERCENTAGE_PER_SECOND = 100 / 1e9;

export interface QuotaManagerSettings {
  window: QuotaWindow;
  /** brook.quota.max.sensors: sensors kept per quota type (least recently used dropped first). */
  sensorsMax: number;
}

export const DEFAULT_QUOTA_SENSORS_MAX = 1000;

/** One sensor's state: the quota's rate (or token bucket) and the throttle times it caused. */
export class ClientSensor {
  readonly rate: RateSensor;
  readonly bucket: TokenBucket | null;
  /** Throttle time sums and counts over the quota window: Kafka's throttle-time (an average). */
  readonly throttleSum: RateSensor;
  readonly throttleCount: RateSensor;
  throttledTotal = 0;
  lastUsedMs: number;

  constructor(
    readonly user: string,
    readonly clientId: string,
    window: QuotaWindow,
    nowMs: number,
    mutations: boolean,
  ) {
    this.rate = new RateSensor(window, nowMs);
    this.bucket = mutations ? new TokenBucket(window, nowMs) : null;
    this.throttleSum = new RateSensor(window, nowMs);
    this.throttleCount = new RateSensor(window, nowMs);
    this.lastUsedMs = nowMs;
  }

  /** The average throttle time over the window (0 without throttles). */
  throttleTimeAvgMs(nowMs: number): number {
    const count = this.throttleCount.rate(nowMs);
    return count > 0 ? this.throttleSum.rate(nowMs) / count : 0;
  }
}

/** A controller mutation quota for the lifetime of one request (Kafka's ControllerMutationQuota). */
export interface MutationQuota {
  /**
   * Accounts for `partitions` partition mutations. False when a strict quota refuses them
   * (the topic is answered THROTTLING_QUOTA_EXCEEDED); a permissive quota always admits.
   */
  admit(partitions: number): boolean;
  /** The throttle time this request earned, less the time since it was earned. */
  throttleTimeMs(): number;
}

const UNBOUNDED: MutationQuota = { admit: () => true, throttleTimeMs: () => 0 };

export class ClientQuotaManager {
  readonly resolver: QuotaResolver;
  /** Sensors per quota type by tags, in least-recently-used order. */
  readonly sensors = new Map<ClientQuotaType, Map<string, ClientSensor>>();

  constructor(
    source: () => QuotaSource,
    readonly settings: QuotaManagerSettings,
    readonly clock: () => number = Date.now,
  ) {
    this.resolver = new QuotaResolver(source);
    for (const type of CLIENT_QUOTA_TYPES) this.sensors.set(type, new Map());
  }

  /** True when some client quota of any type exists: only then is anything recorded. */
  get active(): boolean {
    return this.resolver.anyClientQuota;
  }

  private sensor(type: ClientQuotaType, user: string, clientId: string, nowMs: number): ClientSensor {
    const map = this.sensors.get(type)!;
    const key = `${user}\u0000${clientId}`;
    let sensor = map.get(key);
    if (sensor) map.delete(key);
    else {
      for (const [k, s] of map) {
        if (nowMs - s.lastUsedMs < INACTIVE_SENSOR_EXPIRATION_MS) break;
        map.delete(k);
      }
      if (map.size >= this.settings.sensorsMax) map.delete(map.keys().next().value!);
      sensor = new ClientSensor(user, clientId, this.settings.window, nowMs, type === CONTROLLER_MUTATION_RATE);
    }
    sensor.lastUsedMs = nowMs;
    map.set(key, sensor);
    return sensor;
  }

  /**
   * Records `value` for the pair and returns the throttle time in ms (0 within the quota, or
   * when no quota of the type exists). request_percentage throttles at most one window, as
   * Kafka bounds it; the byte rates are not bounded.
   */
  record(type: ClientQuotaType, user: string, clientId: string, value: number, nowMs = this.clock()): number {
    if (!this.resolver.enabled(type)) return 0;
    const resolution = this.resolver.resolve(type, user, clientId);
    const sensor = this.sensor(type, resolution.user, resolution.clientId, nowMs);
    if (resolution.bound === null) {
      sensor.rate.record(value, nowMs);
      return 0;
    }
    const throttleMs = sensor.rate.recordAndThrottleMs(value, resolution.bound, nowMs);
    return type === REQUEST_PERCENTAGE ? Math.min(throttleMs, this.settings.window.windowMs) : throttleMs;
  }

  /** Takes back a recorded value (a throttled Fetch sends no data, so its bytes do not count). */
  unrecord(type: ClientQuotaType, user: string, clientId: string, value: number, nowMs = this.clock()): void {
    if (!this.resolver.enabled(type)) return;
    const resolution = this.resolver.resolve(type, user, clientId);
    this.sensor(type, resolution.user, resolution.clientId, nowMs).rate.record(-value, nowMs);
  }

  /** Records handler time against request_percentage; returns the throttle time. */
  recordRequestTime(user: string, clientId: string, nanos: number, nowMs = this.clock()): number {
    return this.record(REQUEST_PERCENTAGE, user, clientId, nanos * NANOS_TO_PERCENTAGE_PER_SECOND, nowMs);
  }

  /** Notes a throttle applied to the pair for `type` (the throttle-time metric). */
  noteThrottle(type: ClientQuotaType, user: string, clientId: string, throttleMs: number, nowMs = this.clock()): void {
    if (throttleMs <= 0 || !this.resolver.enabled(type)) return;
    const resolution = this.resolver.resolve(type, user, clientId);
    const sensor = this.sensor(type, resolution.user, resolution.clientId, nowMs);
    sensor.throttleSum.record(throttleMs, nowMs);
    sensor.throttleCount.record(1, nowMs);
    sensor.throttledTotal++;
  }

  /**
   * The controller mutation quota of one request: strict (refusing mutations once the bucket
   * is empty) or permissive (admitting them and throttling), unbounded without a quota.
   */
  mutationQuota(user: string, clientId: string, strict: boolean): MutationQuota {
    if (!this.resolver.enabled(CONTROLLER_MUTATION_RATE)) return UNBOUNDED;
    const resolution = this.resolver.resolve(CONTROLLER_MUTATION_RATE, user, clientId);
    const bound = resolution.bound;
    if (bound === null) return UNBOUNDED;
    const clock = this.clock;
    const sensor = this.sensor(CONTROLLER_MUTATION_RATE, resolution.user, resolution.clientId, clock());
    const bucket = sensor.bucket!;
    let lastThrottleMs = 0;
    let lastRecordedMs = 0;
    return {
      admit(partitions) {
        const nowMs = clock();
        sensor.lastUsedMs = nowMs;
        if (strict) {
          const throttleMs = bucket.throttleMs(bound, nowMs);
          if (throttleMs > 0) {
            lastThrottleMs = throttleMs;
            lastRecordedMs = nowMs;
            return false;
          }
          bucket.record(partitions, bound, nowMs);
          sensor.rate.record(partitions, nowMs);
          return true;
        }
        bucket.record(partitions, bound, nowMs);
        sensor.rate.record(partitions, nowMs);
        const throttleMs = bucket.throttleMs(bound, nowMs);
        if (throttleMs > 0) {
          lastThrottleMs = throttleMs;
          lastRecordedMs = nowMs;
        }
        return true;
      },
      throttleTimeMs() {
        return Math.max(0, lastThrottleMs - (clock() - lastRecordedMs));
      },
    };
  }
}

/** The mutation quotas handed out to requests in flight, read back by the dispatcher. */
const requestMutationQuotas = new WeakMap<RequestContext, MutationQuota>();

/**
 * The controller mutation quota of a CreateTopics, CreatePartitions or DeleteTopics request:
 * strict from `strictSinceVersion` on (CreateTopics v6, CreatePartitions v3, DeleteTopics v5,
 * as KIP-599), permissive below. The dispatcher adds its throttle time to the response.
 */
export function controllerMutationQuota(ctx: RequestContext, strictSinceVersion: number): MutationQuota {
  const quota = ctx.broker.quotas.mutationQuota(
    ctx.connection.security.principal.name,
    ctx.header.clientId ?? '',
    ctx.header.apiVersion >= strictSinceVersion,
  );
  if (quota !== UNBOUNDED) requestMutationQuotas.set(ctx, quota);
  return quota;
}

/** The mutation throttle time a request earned (0 when it took no mutation quota). */
export function mutationThrottleTimeMs(ctx: RequestContext): number {
  return requestMutationQuotas.get(ctx)?.throttleTimeMs() ?? 0;
}

interface FetchResponseShape {
  responses: { partitions: { records: Buffer[] | null }[] }[];
}

/** Record bytes in a Fetch response (the stored batches it carries). */
function fetchResponseBytes(response: FetchResponseShape): number {
  let bytes = 0;
  for (const topic of response.responses)
    for (const partition of topic.partitions)
      if (partition.records) for (const chunk of partition.records) bytes += chunk.length;
  return bytes;
}

/**
 * Records a finished request against the quotas that apply to it and returns the throttle
 * time: the largest of the byte rate (Produce: the request's size; a consumer's Fetch: the
 * record bytes of its response), request_percentage (`handlerNanos`, except for a follower's
 * Fetch and an acks=0 Produce, which Kafka exempts) and the controller mutation quota the
 * request took. A throttled consumer Fetch is answered without data, and its bytes are not
 * counted (Kafka's unrecord). `response` is the handler's answer (null: none is sent); its
 * throttleTimeMs, when it has one, becomes the larger of its own value and the throttle time.
 */
export function applyClientQuotas(
  ctx: RequestContext,
  requestBytes: number,
  handlerNanos: number,
  request: unknown,
  response: unknown,
): number {
  const quotas = ctx.broker.quotas;
  const user = ctx.connection.security.principal.name;
  const clientId = ctx.header.clientId ?? '';
  const nowMs = quotas.clock();
  const apiKey = ctx.header.apiKey;
  let type: ClientQuotaType = REQUEST_PERCENTAGE;
  let throttleMs = 0;
  let requestThrottleMs = 0;
  if (apiKey === PRODUCE_KEY) {
    throttleMs = quotas.record(PRODUCER_BYTE_RATE, user, clientId, requestBytes, nowMs);
    type = PRODUCER_BYTE_RATE;
    if ((request as { acks: number }).acks !== 0)
      requestThrottleMs = quotas.recordRequestTime(user, clientId, handlerNanos, nowMs);
  } else if (apiKey === FETCH_KEY) {
    if (fetchReplicaId(ctx.header.apiVersion, request) >= 0) return 0;
    requestThrottleMs = quotas.recordRequestTime(user, clientId, handlerNanos, nowMs);
    const fetched = response as FetchResponseShape | null;
    const bytes = fetched && Array.isArray(fetched.responses) ? fetchResponseBytes(fetched) : 0;
    throttleMs = quotas.record(CONSUMER_BYTE_RATE, user, clientId, bytes, nowMs);
    type = CONSUMER_BYTE_RATE;
    if (fetched && Math.max(throttleMs, requestThrottleMs) > 0) {
      quotas.unrecord(CONSUMER_BYTE_RATE, user, clientId, bytes, nowMs);
      fetched.responses = [];
    }
  } else {
    requestThrottleMs = quotas.recordRequestTime(user, clientId, handlerNanos, nowMs);
    const mutationMs = mutationThrottleTimeMs(ctx);
    if (mutationMs > 0) {
      throttleMs = mutationMs;
      type = CONTROLLER_MUTATION_RATE;
    }
  }
  if (requestThrottleMs >= throttleMs) {
    throttleMs = requestThrottleMs;
    type = REQUEST_PERCENTAGE;
  }
  quotas.noteThrottle(type, user, clientId, throttleMs, nowMs);
  if (response !== null && typeof response === 'object') {
    const withThrottle = response as { throttleTimeMs?: unknown };
    if (typeof withThrottle.throttleTimeMs === 'number') {
      throttleMs = Math.max(throttleMs, withThrottle.throttleTimeMs);
      withThrottle.throttleTimeMs = throttleMs;
    }
  }
  return throttleMs;
}

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

/** A Fetch's replica id: in ReplicaState from v15, in the request before (-1: a consumer). */
function fetchReplicaId(version: number, request: unknown): number {
  const fetch = request as { replicaId?: number; replicaState?: { replicaId: number } };
  return version >= 15 ? (fetch.replicaState?.replicaId ?? -1) : (fetch.replicaId ?? -1);
}

/**
 * Caps a consumer Fetch's max bytes at what its consumer_byte_rate allows over the quota
 * window with nothing else recorded (Kafka's getMaxValueInQuotaWindow: quota x (samples - 1)
 * x window): a larger answer would be throttled and withheld every time.
 */
export function capFetchBytes(ctx: RequestContext, request: unknown): void {
  if (ctx.header.apiKey !== FETCH_KEY || fetchReplicaId(ctx.header.apiVersion, request) >= 0) return;
  const quotas = ctx.broker.quotas;
  if (!quotas.resolver.enabled(CONSUMER_BYTE_RATE)) return;
  const { bound } = quotas.resolver.resolve(
    CONSUMER_BYTE_RATE,
    ctx.connection.security.principal.name,
    ctx.header.clientId ?? '',
  );
  if (bound === null) return;
  const { samples, windowMs } = quotas.settings.window;
  const windowBytes = Math.max(1, Math.floor((bound * (samples - 1) * windowMs) / 1000));
  const fetch = request as { maxBytes?: number };
  const asked = fetch.maxBytes !== undefined && fetch.maxBytes > 0 ? fetch.maxBytes : 0x7fffffff;
  fetch.maxBytes = Math.min(asked, windowBytes);
}

/** The message of THROTTLING_QUOTA_EXCEEDED on a refused topic (Kafka's). */
export const THROTTLING_QUOTA_EXCEEDED_MESSAGE = 'The throttling quota has been exceeded.';
