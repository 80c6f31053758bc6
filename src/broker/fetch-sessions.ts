// The broker's half of incremental fetch sessions (KIP-227), as Kafka's FetchSession,
// FetchSessionCache and FetchManager do it. A full fetch (epoch 0) may open a session: the
// broker remembers the partitions and what it last told the fetcher about each. Later
// fetches of that session (epoch 1, 2, ...) name only the partitions whose request changed
// (the others stay in the session) and list those to drop in forgottenTopicsData; the
// answer carries only partitions with something new: records, a moved high watermark, last
// stable offset or log start offset, an error, a diverging epoch. Epoch -1 closes a session
// (or asks for none). A session is found by its id alone (Kafka binds it to no connection);
// an id or epoch that does not match gets the error and no data.
//
// Pure: time comes in as `nowMs`, session ids from the random source given at construction.
// Kafka shards its cache eight ways for its request threads; one event loop needs no shards,
// so the whole `max.incremental.fetch.session.cache.slots` is one cache (eviction compares
// every session, where Kafka compares within a shard).

import { ErrorCode } from '../../protocol/errors';

/** The session id of a fetch that has no session. */
export const INVALID_SESSION_ID = 0;
/** The epoch of a full fetch that opens (or reopens) a session. */
export const INITIAL_EPOCH = 0;
/** The epoch of a full fetch that closes its session and opens none. */
export const FINAL_EPOCH = -1;
/** Kafka's minimum idle time before a session may be evicted (MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS). */
export const FETCH_SESSION_EVICTION_MS = 120_000;

/** The epoch after `epoch`, as Kafka's FetchMetadata.nextEpoch: wraps to 1, and -1 stays -1. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  if (epoch === 0x7fffffff) return 1;
  return epoch + 1;
}

/** What a fetch asks of one partition (the request's fields, the topic resolved). */
export interface PartitionRequest {
  /** The topic's name; null for an id (v13+) that names no topic now. */
  topic: string | null;
  /** The topic's id (v13+), ZERO_UUID before v13. */
  topicId: string;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** The fetcher's own log start offset (a follower's). */
  logStartOffset: number;
  partitionMaxBytes: number;
}

/** What an answer says about one partition, as far as a session has to compare it. */
export interface PartitionAnswer {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Record bytes carried. */
  bytes: number;
  /** A diverging epoch is carried (always sent: the follower must truncate). */
  diverging: boolean;
}

/**
 * A partition a session holds: the request fields it stands for and what was last answered.
 * A class, so that every one has the same shape: an incremental fetch compares thousands.
 */
export class CachedPartition implements PartitionRequest {
  topic: string | null;
  readonly topicId: string;
  readonly partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
  /** The high watermark last sent; -1 when never sent, or after an error (so it is sent again). */
  sentHighWatermark = -1;
  sentLastStableOffset = -1;
  sentLogStartOffset = -1;

  constructor(wanted: PartitionRequest) {
    this.topic = wanted.topic;
    this.topicId = wanted.topicId;
    this.partition = wanted.partition;
    this.fetchOffset = wanted.fetchOffset;
    this.currentLeaderEpoch = wanted.currentLeaderEpoch;
    this.lastFetchedEpoch = wanted.lastFetchedEpoch;
    this.logStartOffset = wanted.logStartOffset;
    this.partitionMaxBytes = wanted.partitionMaxBytes;
  }

  /** Takes a later request's fields for this partition. */
  update(wanted: PartitionRequest): void {
    this.fetchOffset = wanted.fetchOffset;
    this.currentLeaderEpoch = wanted.currentLeaderEpoch;
    this.lastFetchedEpoch = wanted.lastFetchedEpoch;
    this.logStartOffset = wanted.logStartOffset;
    this.partitionMaxBytes = wanted.partitionMaxBytes;
    if (this.topic === null) this.topic = wanted.topic;
  }

  /**
   * Nothing to send: no error last time, the offsets are those last sent, and the fetch
   * position is at the readable end. The handler skips reading such a partition.
   */
  quiet(highWatermark: number, lastStableOffset: number, logStartOffset: number, readableEnd: number): boolean {
    return (
      this.sentHighWatermark === highWatermark &&
      this.sentLastStableOffset === lastStableOffset &&
      this.sentLogStartOffset === logStartOffset &&
      this.fetchOffset >= readableEnd
    );
  }
}

export interface FetchSession {
  readonly id: number;
  /** Opened by a follower: evicted only by another follower's, or once idle. */
  readonly privileged: boolean;
  /** Opened at v13+: partitions are keyed by topic id, else by name. */
  readonly usesTopicIds: boolean;
  readonly createdMs: number;
  lastUsedMs: number;
  /** The epoch the next fetch in this fetch session must carry. */
  epoch: number;
  /** In fetch order; a partition that returned records moves to the end (fair under max bytes). */
  readonly partitions: Map<string, CachedPartition>;
}

/** How one fetch is served: what it reads and how its answer is trimmed and numbered. */
export type FetchContext =
  /** The session part of the request is wrong: this error at the top level, no partitions. */
  | { kind: 'error'; errorCode: number }
  /** No session: the request's partitions, answered in full with session id 0. */
  | { kind: 'sessionless'; partitions: PartitionRequest[] }
  /** A full fetch that may open a session once answered (see `completeFull`). */
  | { kind: 'full'; partitions: PartitionRequest[]; privileged: boolean; usesTopicIds: boolean }
  /**
   * An incremental fetch: every partition of the session is looked at, and read unless it is
   * quiet (see CachedPartition.quiet and `completeIncremental`).
   */
  | { kind: 'incremental'; session: FetchSession; partitions: CachedPartition[]; expectedEpoch: number };

export interface FetchRequestMetadata {
  sessionId: number;
  sessionEpoch: number;
  /** The request's version: 13+ names topics by id. */
  version: number;
  /** From a follower (a replica id >= 0): its sessions are privileged. */
  fromFollower: boolean;
  partitions: PartitionRequest[];
  /** Partitions to drop from the session, as (topic or topic id, partition). */
  forgotten: { topic: string | null; topicId: string; partition: number }[];
}

export interface FetchSessionCacheOptions {
  /** max.incremental.fetch.session.cache.slots: sessions kept at once (0: never open one). */
  maxSlots: number;
  /** brook.fetch.session.partitions.max: partitions one session may hold. */
  maxPartitionsPerSession: number;
  /** brook.fetch.session.cache.partitions.max: partitions all sessions together may hold. */
  maxPartitionsTotal?: number;
  /** Idle time after which any session may be evicted, and before which a follower's is kept. */
  evictionMs?: number;
  /** A uniform random integer in [1, 2^31 - 1) for new session ids (crypto in production). */
  randomId: () => number;
}

/** The key of a partition in a session: by topic id when the session uses ids, else by name. */
function keyOf(usesTopicIds: boolean, topic: string | null, topicId: string, partition: number): string {
  return `${usesTopicIds ? topicId : topic}\u0000${partition}`;
}

/**
 * Whether an answer for a cached partition must be sent (Kafka's maybeUpdateResponseData),
 * updating it if `update`. A null answer is a partition the handler found quiet (not read).
 */
export function mustRespond(cached: CachedPartition, answer: PartitionAnswer | null, update: boolean): boolean {
  if (answer === null) return false;
  let respond = answer.bytes > 0 || answer.diverging;
  if (cached.sentHighWatermark !== answer.highWatermark) {
    respond = true;
    if (update) cached.sentHighWatermark = answer.highWatermark;
  }
  if (cached.sentLastStableOffset !== answer.lastStableOffset) {
    respond = true;
    if (update) cached.sentLastStableOffset = answer.lastStableOffset;
  }
  if (cached.sentLogStartOffset !== answer.logStartOffset) {
    respond = true;
    if (update) cached.sentLogStartOffset = answer.logStartOffset;
  }
  if (answer.errorCode !== ErrorCode.NONE) {
    // Sent every time; and once the error is gone the partition is sent again.
    respond = true;
    if (update) cached.sentHighWatermark = -1;
  }
  return respond;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private readonly evictionMs: number;
  private readonly maxPartitionsTotal: number;
  private partitionsCached = 0;
  /** Sessions evicted to make room since the cache was made (a metric). */
  evictions = 0;

  constructor(private readonly options: FetchSessionCacheOptions) {
    this.evictionMs = options.evictionMs ?? FETCH_SESSION_EVICTION_MS;
    this.maxPartitionsTotal = options.maxPartitionsTotal ?? Infinity;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held by all sessions. */
  get totalPartitions(): number {
    return this.partitionsCached;
  }

  get(sessionId: number): FetchSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Decides how a fetch is served (Kafka's FetchManager.newContext). */
  newContext(request: FetchRequestMetadata, nowMs: number): FetchContext {
    const { sessionId, sessionEpoch, version } = request;
    if (sessionEpoch === INITIAL_EPOCH || sessionEpoch === FINAL_EPOCH) {
      // A full fetch closes the session it names (any session: ids are not bound to a peer).
      if (sessionId !== INVALID_SESSION_ID) this.remove(sessionId);
      if (sessionEpoch === FINAL_EPOCH) return { kind: 'sessionless', partitions: request.partitions };
      return {
        kind: 'full',
        partitions: request.partitions,
        privileged: request.fromFollower,
        usesTopicIds: version >= 13,
      };
    }
    const session = this.sessions.get(sessionId);
    if (!session) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== sessionEpoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== version >= 13)
      return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    // Apply the request to the session: named partitions are added or updated, forgotten ones dropped.
    const before = session.partitions.size;
    for (const wanted of request.partitions) {
      const key = keyOf(session.usesTopicIds, wanted.topic, wanted.topicId, wanted.partition);
      const cached = session.partitions.get(key);
      if (cached) cached.update(wanted);
      else session.partitions.set(key, new CachedPartition(wanted));
    }
    for (const gone of request.forgotten) {
      session.partitions.delete(keyOf(session.usesTopicIds, gone.topic, gone.topicId, gone.partition));
    }
    const size = session.partitions.size;
    if (
      size === 0 ||
      size > this.options.maxPartitionsPerSession ||
      this.partitionsCached - before + size > this.maxPartitionsTotal
    ) {
      // Empty: Kafka closes the session and answers sessionless. Over the per-session or
      // cache-wide bound: the same, so the bounds always hold (the fetcher starts over with a
      // full fetch, which opens no session while it would not fit).
      this.remove(session.id, before);
      return { kind: 'sessionless', partitions: request.partitions };
    }
    session.epoch = nextEpoch(session.epoch);
    this.touch(session, nowMs, before);
    return { kind: 'incremental', session, partitions: [...session.partitions.values()], expectedEpoch: session.epoch };
  }

  /**
   * A full fetch was answered: opens its session if a slot is free or can be freed, holding
   * every partition answered (errors included). Returns the session id, or 0 when none.
   */
  completeFull(context: Extract<FetchContext, { kind: 'full' }>, answers: PartitionAnswer[], nowMs: number): number {
    const count = context.partitions.length;
    if (count === 0 || count > this.options.maxPartitionsPerSession || this.options.maxSlots <= 0)
      return INVALID_SESSION_ID;
    if (this.sessions.size >= this.options.maxSlots && !this.tryEvict(context.privileged, count, nowMs))
      return INVALID_SESSION_ID;
    // Room for its partitions too, evicting by the same rule while that frees some.
    while (this.partitionsCached + count > this.maxPartitionsTotal)
      if (!this.tryEvict(context.privileged, count, nowMs)) return INVALID_SESSION_ID;
    const partitions = new Map<string, CachedPartition>();
    context.partitions.forEach((wanted, i) => {
      const answer = answers[i];
      const cached = new CachedPartition(wanted);
      cached.sentHighWatermark = answer.errorCode === ErrorCode.NONE ? answer.highWatermark : -1;
      cached.sentLastStableOffset = answer.lastStableOffset;
      cached.sentLogStartOffset = answer.logStartOffset;
      partitions.set(keyOf(context.usesTopicIds, wanted.topic, wanted.topicId, wanted.partition), cached);
    });
    const session: FetchSession = {
      id: this.newSessionId(),
      privileged: context.privileged,
      usesTopicIds: context.usesTopicIds,
      createdMs: nowMs,
      lastUsedMs: nowMs,
      epoch: nextEpoch(INITIAL_EPOCH),
      partitions,
    };
    this.sessions.set(session.id, session);
    this.partitionsCached += partitions.size;
    return session.id;
  }

  /**
   * An incremental fetch was read: which of its answers go out (the others are left out),
   * with the cached state updated; null when another fetch of the session came in between
   * (INVALID_FETCH_SESSION_EPOCH, no data), as Kafka checks before answering.
   */
  completeIncremental(
    context: Extract<FetchContext, { kind: 'incremental' }>,
    answers: (PartitionAnswer | null)[],
  ): boolean[] | null {
    const { session } = context;
    if (session.epoch !== context.expectedEpoch) return null;
    const sent = context.partitions.map((cached, i) => mustRespond(cached, answers[i], true));
    // Partitions that returned records go to the back, so the next fetches start with the others.
    context.partitions.forEach((cached, i) => {
      const answer = answers[i];
      if (answer === null || answer.bytes <= 0) return;
      const key = keyOf(session.usesTopicIds, cached.topic, cached.topicId, cached.partition);
      if (session.partitions.get(key) !== cached) return;
      session.partitions.delete(key);
      session.partitions.set(key, cached);
    });
    return sent;
  }

  /** Drops a session; `size` is how many partitions it was counted with (its size now if not given). */
  remove(sessionId: number, size?: number): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    this.sessions.delete(sessionId);
    this.partitionsCached -= size ?? session.partitions.size;
    return true;
  }

  /** Drops every session (the broker stops). */
  clear(): void {
    this.sessions.clear();
    this.partitionsCached = 0;
  }

  private touch(session: FetchSession, nowMs: number, sizeBefore: number): void {
    session.lastUsedMs = nowMs;
    this.partitionsCached += session.partitions.size - sizeBefore;
  }

  /**
   * Kafka's eviction rule for a new session that finds the cache full: the least recently
   * used session goes if it has been idle past the eviction time; otherwise the least
   * valuable evictable one goes if the new one is worth more. Evictable: a consumer's session
   * (for a follower's), or any session older than the eviction time; worth: a follower's over
   * a consumer's, then more partitions, then (Kafka's tie-break) the higher id.
   */
  private tryEvict(privileged: boolean, size: number, nowMs: number): boolean {
    let leastRecent: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (
        !leastRecent ||
        s.lastUsedMs < leastRecent.lastUsedMs ||
        (s.lastUsedMs === leastRecent.lastUsedMs && s.id < leastRecent.id)
      )
        leastRecent = s;
    }
    if (!leastRecent) return false;
    if (nowMs - leastRecent.lastUsedMs > this.evictionMs) {
      this.remove(leastRecent.id);
      this.evictions++;
      return true;
    }
    let candidate: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      const old = nowMs - s.createdMs > this.evictionMs;
      const evictable = privileged ? !s.privileged || old : old;
      if (!evictable) continue;
      if (!candidate || compareWorth(worthOf(s), worthOf(candidate)) < 0) candidate = s;
    }
    // The new session's key has id 0, so it never wins a tie on privilege and size.
    if (!candidate || compareWorth({ privileged, size, id: 0 }, worthOf(candidate)) < 0) return false;
    this.remove(candidate.id);
    this.evictions++;
    return true;
  }

  private newSessionId(): number {
    for (;;) {
      const id = this.options.randomId();
      if (id !== INVALID_SESSION_ID && id > 0 && !this.sessions.has(id)) return id;
    }
  }
}

interface Worth {
  privileged: boolean;
  size: number;
  id: number;
}

const worthOf = (s: FetchSession): Worth => ({ privileged: s.privileged, size: s.partitions.size, id: s.id });

/** Kafka's EvictableKey order: (privileged, size, id), false before true. */
function compareWorth(a: Worth, b: Worth): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.size !== b.size) return a.size - b.size;
  return a.id - b.id;
}
