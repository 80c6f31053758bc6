// The fetcher's half of incremental fetch sessions (KIP-227), as Kafka's client
// FetchSessionHandler does it, shared by the bundled consumer and the follower fetcher.
// The first fetch to a broker is full (epoch 0) and may open a session; after that each
// fetch names only the partitions that are new or whose fetch position changed, and lists
// in forgottenTopicsData those no longer wanted. A session error, a broker that closed the
// session, or a request that failed on the wire make the next fetch full again (naming the
// old session with epoch 0, which closes it on the broker). Pure: no sockets, no timers.

import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';

const INVALID_SESSION_ID = 0;
const INITIAL_EPOCH = 0;

/** What a fetcher wants of one partition in the next fetch. */
export interface WantedPartition {
  topic: string;
  /** The topic's id (needed from Fetch 13, which names topics by id); ZERO_UUID if unknown. */
  topicId: string;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
}

/** The session fields and partition lists of one Fetch request. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  /** Full: every wanted partition; incremental: the new and changed ones. */
  topics: {
    topic: string;
    topicId: string;
    partitions: {
      partition: number;
      currentLeaderEpoch: number;
      fetchOffset: number;
      lastFetchedEpoch: number;
      logStartOffset: number;
      partitionMaxBytes: number;
    }[];
  }[];
  forgottenTopicsData: { topic: string; topicId: string; partitions: number[] }[];
  /** A full fetch (the answer carries every partition asked). */
  full: boolean;
}

function keyOf(p: { topic: string; partition: number }): string {
  return `${p.topic}\u0000${p.partition}`;
}

function sameRequest(a: WantedPartition, b: WantedPartition): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.logStartOffset === b.logStartOffset &&
    a.partitionMaxBytes === b.partitionMaxBytes &&
    a.topicId === b.topicId
  );
}

/** Groups partitions by topic, in first-seen order. */
function byTopic<T extends { topic: string; topicId: string }>(
  items: T[],
): Map<string, { topicId: string; items: T[] }> {
  const out = new Map<string, { topicId: string; items: T[] }>();
  for (const item of items) {
    const group = out.get(item.topic);
    if (group) group.items.push(item);
    else out.set(item.topic, { topicId: item.topicId, items: [item] });
  }
  return out;
}

export class FetchSessionHandler {
  private sessionId = INVALID_SESSION_ID;
  private nextEpoch = INITIAL_EPOCH;
  /** Whether the open session names topics by id (it was opened at Fetch 13+). */
  private usesTopicIds = false;
  /** What the broker's session holds, as last sent, by topic and partition. */
  private session = new Map<string, WantedPartition>();
  /** Full fetches and incremental ones sent (for tests and the bench). */
  readonly sent = { full: 0, incremental: 0 };

  /** @param enabled false: every fetch is full and sessionless (epoch -1). */
  constructor(private readonly enabled = true) {}

  /** The session id the broker gave, 0 while there is none. */
  get id(): number {
    return this.sessionId;
  }

  /** The epoch the next fetch carries. */
  get epoch(): number {
    return this.nextEpoch;
  }

  /**
   * The session part of the next fetch for `wanted`, at `version` (13+ names topics by id).
   * The handler assumes the request is sent; call `handleResponse` or `handleError` after.
   */
  build(wanted: WantedPartition[], version: number): SessionRequest {
    const usesTopicIds = version >= 13;
    if (!this.enabled || version < 7) {
      return { sessionId: 0, sessionEpoch: -1, ...this.fullLists(wanted), full: true };
    }
    // A session opened by name cannot go on by id, nor the reverse: start over.
    if (this.nextEpoch !== INITIAL_EPOCH && usesTopicIds !== this.usesTopicIds) this.nextEpoch = INITIAL_EPOCH;
    if (this.nextEpoch === INITIAL_EPOCH) {
      this.usesTopicIds = usesTopicIds;
      this.session = new Map(wanted.map((p) => [keyOf(p), p]));
      this.sent.full++;
      return { sessionId: this.sessionId, sessionEpoch: INITIAL_EPOCH, ...this.fullLists(wanted), full: true };
    }
    const changed: WantedPartition[] = [];
    const next = new Map<string, WantedPartition>();
    for (const p of wanted) {
      const key = keyOf(p);
      const before = this.session.get(key);
      if (!before || !sameRequest(before, p)) changed.push(p);
      next.set(key, p);
    }
    const forgotten: WantedPartition[] = [];
    for (const [key, p] of this.session) if (!next.has(key)) forgotten.push(p);
    this.session = next;
    this.sent.incremental++;
    return {
      sessionId: this.sessionId,
      sessionEpoch: this.nextEpoch,
      topics: this.topicList(changed),
      forgottenTopicsData: [...byTopic(forgotten)].map(([topic, group]) => ({
        topic,
        topicId: group.topicId,
        partitions: group.items.map((p) => p.partition),
      })),
      full: false,
    };
  }

  /**
   * The answer to the last built request came back. Returns false when it is a session
   * error (nothing in it is usable; the next fetch is full).
   */
  handleResponse(request: SessionRequest, response: { errorCode: number; sessionId: number }): boolean {
    if (!this.enabled || request.sessionEpoch < 0) return response.errorCode === ErrorCode.NONE;
    if (response.errorCode !== ErrorCode.NONE) {
      if (response.errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) this.sessionId = INVALID_SESSION_ID;
      // Any other error: the next full fetch names the old session, which closes it.
      this.nextEpoch = INITIAL_EPOCH;
      return false;
    }
    if (response.sessionId === INVALID_SESSION_ID) {
      // No session opened, or the broker closed it: the next fetch is full again.
      this.sessionId = INVALID_SESSION_ID;
      this.nextEpoch = INITIAL_EPOCH;
      return true;
    }
    if (request.full || response.sessionId !== this.sessionId) {
      this.sessionId = response.sessionId;
      this.nextEpoch = 1;
      return true;
    }
    this.nextEpoch = this.nextEpoch === 0x7fffffff ? 1 : this.nextEpoch + 1;
    return true;
  }

  /** The request failed on the wire (or its answer was lost): it may or may not have counted. */
  handleError(): void {
    this.nextEpoch = INITIAL_EPOCH;
  }

  /** Forgets the session entirely (a new connection to another broker). */
  reset(): void {
    this.sessionId = INVALID_SESSION_ID;
    this.nextEpoch = INITIAL_EPOCH;
    this.session.clear();
  }

  private fullLists(wanted: WantedPartition[]) {
    return { topics: this.topicList(wanted), forgottenTopicsData: [] };
  }

  private topicList(partitions: WantedPartition[]): SessionRequest['topics'] {
    return [...byTopic(partitions)].map(([topic, group]) => ({
      topic,
      topicId: group.topicId ?? ZERO_UUID,
      partitions: group.items.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch: p.lastFetchedEpoch,
        logStartOffset: p.logStartOffset,
        partitionMaxBytes: p.partitionMaxBytes,
      })),
    }));
  }
}
