// Kafka's client quotas as pure functions and small state machines: which quota applies to a
// (user, client-id) pair (KIP-55's eight levels, read from the metadata image's ClientQuota
// values), the windowed rate Kafka's metrics keep (Rate over a WindowedSum of
// quota.window.num samples of quota.window.size.seconds), the token bucket of controller
// mutations (KIP-599), the throttle time that brings a rate back to its quota (QuotaUtils),
// and the connection creation rates of KIP-612. Time comes in as arguments: nothing here
// reads the clock.

/** The quota keys of the ClientQuota records (Kafka's QuotaConfig names). */
export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';

/** The quotas kept per (user, client-id). */
export type ClientQuotaType =
  typeof PRODUCER_BYTE_RATE | typeof CONSUMER_BYTE_RATE | typeof REQUEST_PERCENTAGE | typeof CONTROLLER_MUTATION_RATE;

export const CLIENT_QUOTA_TYPES: readonly ClientQuotaType[] = [
  PRODUCER_BYTE_RATE,
  CONSUMER_BYTE_RATE,
  REQUEST_PERCENTAGE,
  CONTROLLER_MUTATION_RATE,
];

/** The quota values of the metadata image (MetadataImage.clientQuotas and quotaVersion). */
export interface QuotaSource {
  readonly clientQuotas: ReadonlyMap<string, { values: ReadonlyMap<string, number> }>;
  readonly quotaVersion: number;
}

/**
 * The image's key of a quota entity: (type, name) pairs sorted by type, a null name for the
 * default entity (the same text as the metadata image's quotaEntityKey, which a test checks).
 */
export function entityKey(pairs: [string, string | null][]): string {
  return JSON.stringify([...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Kafka's quota.window.num and quota.window.size.seconds. */
export interface QuotaWindow {
  samples: number;
  windowMs: number;
}

export const DEFAULT_QUOTA_WINDOW: QuotaWindow = { samples: 11, windowMs: 1000 };

/**
 * The quota that applies to a user and client id, and the tags of the sensor that counts
 * towards it: every connection resolving to the same tags shares one sensor (a client-id
 * quota is shared by all users of that client id, a user quota by all of the user's
 * clients). `bound` is null when no quota applies.
 */
export interface QuotaResolution {
  bound: number | null;
  user: string;
  clientId: string;
}

/**
 * Kafka's DefaultQuotaCallback: the most specific entity holding a value for `key` wins, in
 * the order /users/<u>/clients/<c>, /users/<u>/clients/<default>, /users/<u>,
 * /users/<default>/clients/<c>, /users/<default>/clients/<default>, /users/<default>,
 * /clients/<c>, /clients/<default>. The sensor tags are chosen first (quotaMetricTags), the
 * bound is then read for those tags (quotaLimit), as Kafka does, so that an empty client id
 * matches no client-id entity.
 */
export function resolveClientQuota(source: QuotaSource, key: string, user: string, clientId: string): QuotaResolution {
  const value = (pairs: [string, string | null][]) => source.clientQuotas.get(entityKey(pairs))?.values.get(key);
  const has = (pairs: [string, string | null][]) => value(pairs) !== undefined;
  let tags: [string, string];
  if (
    has([
      ['user', user],
      ['client-id', clientId],
    ]) ||
    has([
      ['user', user],
      ['client-id', null],
    ])
  )
    tags = [user, clientId];
  else if (has([['user', user]])) tags = [user, ''];
  else if (
    has([
      ['user', null],
      ['client-id', clientId],
    ]) ||
    has([
      ['user', null],
      ['client-id', null],
    ])
  )
    tags = [user, clientId];
  else if (has([['user', null]])) tags = [user, ''];
  else tags = ['', clientId];
  const [u, c] = tags;
  let bound: number | undefined;
  if (u !== '' && c !== '') {
    bound =
      value([
        ['user', u],
        ['client-id', c],
      ]) ??
      value([
        ['user', u],
        ['client-id', null],
      ]) ??
      value([
        ['user', null],
        ['client-id', c],
      ]) ??
      value([
        ['user', null],
        ['client-id', null],
      ]);
  } else if (u !== '') {
    bound = value([['user', u]]) ?? value([['user', null]]);
  } else if (c !== '') {
    bound = value([['client-id', c]]) ?? value([['client-id', null]]);
  }
  return { bound: usableBound(bound), user: u, clientId: c };
}

/**
 * A quota value as a bound: the quota APIs accept only positive numbers, but a value that is
 * not a finite number >= 0 (however it got into the log) means no quota rather than a
 * throttle time that is not a number.
 */
function usableBound(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : null;
}

/** The connection_creation_rate of an IP address: its own entity, else the default IP entity, else none. */
export function connectionRateForIp(source: QuotaSource, ip: string): number | null {
  const own = source.clientQuotas.get(entityKey([['ip', ip]]))?.values.get(CONNECTION_CREATION_RATE);
  if (own !== undefined) return usableBound(own);
  return usableBound(source.clientQuotas.get(entityKey([['ip', null]]))?.values.get(CONNECTION_CREATION_RATE));
}

/** Most resolutions cached per quota version; past it the cache starts over. */
export const DEFAULT_RESOLUTION_CACHE_ENTRIES = 10_000;

/**
 * Resolutions cached until the image's quota version moves, so that a request pays a map
 * lookup, not eight. `enabled(key)` is false while no entity holds a value for the key: the
 * hot path then records nothing at all.
 */
export class QuotaResolver {
  private version = -1;
  private readonly cache = new Map<string, QuotaResolution>();
  private readonly keysInUse = new Set<string>();
  private anyClient = false;

  constructor(
    private readonly source: () => QuotaSource,
    private readonly cacheEntriesMax = DEFAULT_RESOLUTION_CACHE_ENTRIES,
  ) {}

  private refresh(): QuotaSource {
    const source = this.source();
    if (source.quotaVersion !== this.version) {
      this.version = source.quotaVersion;
      this.cache.clear();
      this.keysInUse.clear();
      for (const { values } of source.clientQuotas.values()) for (const key of values.keys()) this.keysInUse.add(key);
      this.anyClient = CLIENT_QUOTA_TYPES.some((type) => this.keysInUse.has(type));
    }
    return source;
  }

  /** True when some entity holds a value for `key`. */
  enabled(key: string): boolean {
    this.refresh();
    return this.keysInUse.has(key);
  }

  /** True when some entity holds a client quota (any key but connection_creation_rate). */
  get anyClientQuota(): boolean {
    this.refresh();
    return this.anyClient;
  }

  resolve(key: ClientQuotaType, user: string, clientId: string): QuotaResolution {
    const source = this.refresh();
    const cacheKey = `${key}\u0000${user}\u0000${clientId}`;
    let resolution = this.cache.get(cacheKey);
    if (!resolution) {
      if (this.cache.size >= this.cacheEntriesMax) this.cache.clear();
      resolution = resolveClientQuota(source, key, user, clientId);
      this.cache.set(cacheKey, resolution);
    }
    return resolution;
  }

  connectionRate(ip: string): number | null {
    return this.enabled(CONNECTION_CREATION_RATE) ? connectionRateForIp(this.refresh(), ip) : null;
  }
}

/**
 * Kafka's Rate over a WindowedSum: values are summed into `samples` windows of `windowMs`
 * (plus one overlapping the oldest edge); the rate is the sum over the retained windows
 * divided by the time they span, counted as at least samples - 1 full windows so that a
 * young sensor does not show a huge rate.
 */
export class RateSensor {
  private readonly values: number[] = [];
  private readonly starts: number[] = [];
  private readonly lastEvents: number[] = [];
  private readonly counts: number[] = [];
  private current = 0;
  /** When something was last recorded (for expiring idle sensors). */
  lastRecordMs: number;

  constructor(
    private readonly window: QuotaWindow,
    nowMs: number,
  ) {
    this.lastRecordMs = nowMs;
  }

  private add(nowMs: number): void {
    this.values.push(0);
    this.starts.push(nowMs);
    this.lastEvents.push(nowMs);
    this.counts.push(0);
  }

  private reset(i: number, nowMs: number): void {
    this.values[i] = 0;
    this.starts[i] = nowMs;
    this.lastEvents[i] = nowMs;
    this.counts[i] = 0;
  }

  record(value: number, nowMs: number): void {
    if (this.values.length === 0) this.add(nowMs);
    if (nowMs - this.starts[this.current] >= this.window.windowMs) {
      // The current window is complete: move to the next slot (one extra for the overlap).
      this.current = (this.current + 1) % (this.window.samples + 1);
      if (this.current >= this.values.length) this.add(nowMs);
      else this.reset(this.current, nowMs);
    }
    this.values[this.current] += value;
    this.counts[this.current]++;
    this.lastEvents[this.current] = nowMs;
    this.lastRecordMs = nowMs;
  }

  /** Windows with no event within samples * windowMs are cleared. */
  private purge(nowMs: number): void {
    const expireAge = this.window.samples * this.window.windowMs;
    for (let i = 0; i < this.values.length; i++) if (nowMs - this.lastEvents[i] >= expireAge) this.reset(i, nowMs);
  }

  /** The span the rate is measured over, in ms (Rate.windowSize). */
  windowSizeMs(nowMs: number): number {
    this.purge(nowMs);
    if (this.values.length === 0) this.add(nowMs);
    let oldest = this.starts[0];
    for (let i = 1; i < this.starts.length; i++) if (this.starts[i] < oldest) oldest = this.starts[i];
    let elapsedMs = nowMs - oldest;
    const fullWindows = Math.floor(elapsedMs / this.window.windowMs);
    const minFullWindows = this.window.samples - 1;
    if (fullWindows < minFullWindows) elapsedMs += (minFullWindows - fullWindows) * this.window.windowMs;
    return Math.max(elapsedMs, 1);
  }

  /** The rate per second now. */
  rate(nowMs: number): number {
    this.purge(nowMs);
    let total = 0;
    for (const v of this.values) total += v;
    return total / (this.windowSizeMs(nowMs) / 1000);
  }

  /**
   * Records `value` and returns how long (ms) the client must wait for the rate to fall back
   * to `bound`: 0 within the quota (Sensor.record with its quota check, then QuotaUtils.throttleTime).
   */
  recordAndThrottleMs(value: number, bound: number, nowMs: number): number {
    this.record(value, nowMs);
    return this.throttleMs(bound, nowMs);
  }

  /** The throttle time for `bound` as things stand (0 within it). */
  throttleMs(bound: number, nowMs: number): number {
    const rate = this.rate(nowMs);
    if (rate <= bound) return 0;
    return throttleTimeMs(rate, bound, this.windowSizeMs(nowMs));
  }
}

/**
 * QuotaUtils.throttleTime: with O the observed rate and T the quota over a window W, the
 * delay X with O * W / (W + X) = T, so X = (O - T) / T * W. Kafka's formula has no answer
 * for a zero quota; here it throttles for the whole window W, after which the rate is zero.
 * The result never exceeds what the protocol's int32 throttle_time_ms holds.
 */
export function throttleTimeMs(observed: number, bound: number, windowMs: number): number {
  if (bound <= 0) return Math.min(THROTTLE_TIME_MS_MAX, Math.round(windowMs));
  return Math.min(THROTTLE_TIME_MS_MAX, Math.round(((observed - bound) / bound) * windowMs));
}

/** throttle_time_ms is an int32. */
export const THROTTLE_TIME_MS_MAX = 2_147_483_647;

/**
 * Kafka's TokenBucket for controller mutations: it holds up to samples * window seconds *
 * quota tokens, refills at the quota per second, and goes negative when a mutation takes
 * more than is left. It starts full.
 */
export class TokenBucket {
  private tokens: number | null = null;
  private lastUpdateMs = 0;
  lastRecordMs: number;

  constructor(
    private readonly window: QuotaWindow,
    nowMs: number,
  ) {
    this.lastRecordMs = nowMs;
  }

  private refill(bound: number, nowMs: number): number {
    const burst = this.window.samples * (this.window.windowMs / 1000) * bound;
    const tokens =
      this.tokens === null
        ? burst
        : Math.min(burst, this.tokens + (bound * Math.max(0, nowMs - this.lastUpdateMs)) / 1000);
    this.lastUpdateMs = nowMs;
    this.tokens = tokens;
    return tokens;
  }

  /** The tokens left now (negative: the quota is exceeded). */
  measure(bound: number, nowMs: number): number {
    return this.refill(bound, nowMs);
  }

  record(permits: number, bound: number, nowMs: number): void {
    this.refill(bound, nowMs);
    const burst = this.window.samples * (this.window.windowMs / 1000) * bound;
    this.tokens = Math.min(burst, this.tokens! - permits);
    this.lastRecordMs = nowMs;
  }

  /** ControllerMutationQuotaManager.throttleTimeMs: the time to refill to zero, 0 when not negative. */
  throttleMs(bound: number, nowMs: number): number {
    const tokens = this.measure(bound, nowMs);
    if (tokens >= 0) return 0;
    if (bound <= 0) return this.window.samples * this.window.windowMs;
    return Math.min(THROTTLE_TIME_MS_MAX, Math.round((-tokens / bound) * 1000));
  }
}
