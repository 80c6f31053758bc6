// The consumer's fetch engine. Records are fetched from each partition's leader with
// long-poll fetches, one in flight per leader and each leader on its own (as Kafka's
// consumer keeps one fetch per broker): records of one leader are handed out while another
// leader's long poll is still open. A partition is fetched again once what it fetched is
// handed out, so memory stays bounded by one fetch per partition. A paused partition's
// fetched records are set aside until it is resumed. Positions that are not known yet are
// looked up with ListOffsets (the client's cluster layer owns that flow). Fetches go at the
// newest Fetch version the leader serves (by topic id from 13 when every topic's id is
// known), in one incremental fetch session per leader (KIP-227): after a full fetch only
// partitions that are new or moved are named, the others left in the session or forgotten;
// a session error (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH...) makes the
// next fetch to that leader full again.

import { ErrorCode } from '../../protocol/errors';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { BrokerConnection, Cluster } from './cluster';
import type { ConsumerRecord } from './consumer';
import { RecordQueue } from './record-queue';
import { ApiKey } from '../../protocol/api-keys';
import type { Response } from '../../protocol/apis';
import { ZERO_UUID } from '../../protocol/primitives';
import { FetchSessionHandler, WantedPartition } from '../net/fetch-session-handler';
import { AuthenticationFailedError } from '../net/kafka-connection';

/** Pause before fetching again from a leader that could not be reached. */
const FETCH_RETRY_MS = 100;

export interface FetcherOptions {
  /** Where to start without a known offset. */
  autoOffsetReset?: 'earliest' | 'latest';
  maxWaitMs?: number;
  maxPartitionBytes?: number;
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** Incremental fetch sessions (KIP-227); on unless false. */
  fetchSessions?: boolean;
}

export type OffsetReset = 'earliest' | 'latest' | { timestamp: number };

export interface Position {
  topic: string;
  partition: number;
  /** Next offset to fetch; -1 while it is being looked up. */
  offset: number;
  paused: boolean;
  reset?: OffsetReset;
  /** A fetch that asks for this partition is out. */
  fetching: boolean;
  /** Fetched chunks of this partition not handed out yet. */
  chunks: number;
}

/** The records one fetch brought for one partition, handed out from `take`. */
interface Chunk {
  position: Position;
  records: ConsumerRecord[];
  next: number;
}

/** A partition as one map key; topic names cannot contain NUL. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Fetcher {
  /** The partitions fetched, by partitionKey. */
  readonly positions = new Map<string, Position>();
  /** Fetched records not handed out yet, in the order their fetches completed. */
  private readonly buffered = new RecordQueue<Chunk>();
  /** Chunks of paused partitions, set aside until they are resumed. */
  private parked: Chunk[] = [];
  /** Fetches out, by leader: at most one per broker. */
  private readonly fetches = new Map<number, Promise<void>>();
  private metadataRefresh: Promise<unknown> | null = null;
  /** Wake waitForRecords() calls (a fetch completed, a join ended, close). */
  private waiters: (() => void)[] = [];
  private closed = false;
  /** Refused credentials: retrying cannot help, so the consumer's next() throws this. */
  private failure: Error | null = null;
  /** The fetch session with each leader, by broker id. */
  readonly sessions = new Map<number, FetchSessionHandler>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: FetcherOptions,
  ) {}

  get isolationLevel(): 0 | 1 {
    return this.options.isolationLevel === 'read_committed' ? 1 : 0;
  }

  /** Starts fetching a partition from `offset` (-1: look it up by `reset`, else auto.offset.reset). */
  add(topic: string, partition: number, offset: number, reset?: OffsetReset): void {
    this.positions.set(partitionKey(topic, partition), {
      topic,
      partition,
      offset,
      paused: false,
      reset,
      fetching: false,
      chunks: 0,
    });
  }

  /** Stops fetching everything and drops what was fetched. */
  clear(): void {
    this.positions.clear();
    this.buffered.clear();
    this.parked = [];
  }

  /** Stops fetching these partitions and drops what was fetched of them. */
  remove(keys: Iterable<string>): void {
    const dropped = new Set<Position>();
    for (const key of keys) {
      const position = this.positions.get(key);
      if (position) dropped.add(position);
      this.positions.delete(key);
    }
    this.discard(dropped);
  }

  seek(topic: string, partition: number, offset: number): void {
    const position = this.positions.get(partitionKey(topic, partition));
    if (!position) throw new Error(`${topic}-${partition} is not assigned to this consumer`);
    position.offset = offset;
    // What was fetched from the old position is not handed out; a fetch still out is ignored.
    this.discard(new Set([position]));
    this.wakeUp();
  }

  pause(partitions: { topic: string; partition: number }[]): void {
    for (const p of partitions) {
      const position = this.positions.get(partitionKey(p.topic, p.partition));
      if (position) position.paused = true;
    }
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    const resumed = new Set<Position>();
    for (const p of partitions) {
      const position = this.positions.get(partitionKey(p.topic, p.partition));
      if (position?.paused) {
        position.paused = false;
        resumed.add(position);
      }
    }
    if (resumed.size === 0) return;
    const back = this.parked.filter((chunk) => resumed.has(chunk.position));
    this.parked = this.parked.filter((chunk) => !resumed.has(chunk.position));
    for (const chunk of back) this.buffered.push(chunk);
    this.wakeUp();
  }

  /** Nothing more of these partitions is handed out, and what was fetched of them is dropped. */
  withhold(keys: Set<string>): void {
    const positions = new Set<Position>();
    for (const key of keys) {
      const position = this.positions.get(key);
      if (!position) continue;
      position.paused = true;
      positions.add(position);
    }
    this.discard(positions);
  }

  /** Drops the fetched, not handed out records of these partitions. */
  private discard(positions: Set<Position>): void {
    this.buffered.removeWhere((chunk) => positions.has(chunk.position));
    this.parked = this.parked.filter((chunk) => !positions.has(chunk.position));
    for (const position of positions) position.chunks = 0;
  }

  /** Looks up positions that are unknown (-1): ListOffsets earliest (-2), latest (-1) or by timestamp. */
  async resolvePositions(): Promise<void> {
    const unknown = [...this.positions.values()].filter((p) => p.offset < 0);
    if (unknown.length === 0) return;
    const listed = await this.cluster.listOffsets(
      unknown.map((p) => ({ topic: p.topic, partition: p.partition, timestamp: this.listOffsetsTimestamp(p.reset) })),
      { isolationLevel: this.isolationLevel },
    );
    for (const r of listed) {
      const position = this.positions.get(partitionKey(r.topic, r.partition));
      if (!position || r.errorCode !== ErrorCode.NONE || position.offset >= 0) continue;
      // No record at or after the timestamp: start at the end.
      if (r.offset >= 0) position.offset = r.offset;
      else position.reset = 'latest';
    }
    // A leader that could not be asked fails the call, as any request does; Kafka errors are asked again later.
    const unreachable = listed.find((r) => r.cause !== undefined);
    if (unreachable) throw unreachable.cause;
  }

  private listOffsetsTimestamp(reset: OffsetReset | undefined): number {
    const how = reset ?? this.options.autoOffsetReset ?? 'latest';
    if (typeof how === 'object') return how.timestamp;
    return how === 'earliest' ? -2 : -1;
  }

  /** Records fetched and not handed out yet (paused partitions' included). */
  get bufferedCount(): number {
    let n = 0;
    this.buffered.forEach((chunk) => (n += chunk.records.length - chunk.next));
    for (const chunk of this.parked) n += chunk.records.length - chunk.next;
    return n;
  }

  wakeUp(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  close(): void {
    this.closed = true;
    this.wakeUp();
  }

  /**
   * Starts a fetch to every leader that has none out, for its partitions that are known,
   * not paused, not being fetched and with nothing fetched still waiting to be handed out.
   * Called when something may have become fetchable: a chunk handed out, a fetch done.
   */
  private pump(): void {
    if (this.closed) return;
    let byLeader: Map<number, Position[]> | null = null;
    let missingLeader = false;
    for (const p of this.positions.values()) {
      if (p.offset < 0 || p.paused || p.fetching || p.chunks > 0) continue;
      const leader = this.cluster.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) {
        missingLeader = true;
        continue;
      }
      if (this.fetches.has(leader)) continue;
      byLeader ??= new Map();
      const list = byLeader.get(leader);
      if (list) list.push(p);
      else byLeader.set(leader, [p]);
    }
    if (missingLeader) this.refreshInBackground([...new Set([...this.positions.values()].map((p) => p.topic))]);
    if (!byLeader) return;
    for (const [leader, positions] of byLeader) {
      for (const p of positions) p.fetching = true;
      const fetch = this.fetchFrom(leader, positions)
        .catch((error) => this.cluster.report(`fetch from broker ${leader}`, error))
        .then(() => {
          for (const p of positions) p.fetching = false;
          this.fetches.delete(leader);
          this.pump();
          this.wakeUp();
        });
      this.fetches.set(leader, fetch);
    }
  }

  /** Keeps an authentication failure for next() (true), waking whoever waits for records. */
  private noteFailure(error: unknown): boolean {
    if (!(error instanceof AuthenticationFailedError)) return false;
    this.failure ??= error;
    this.wakeUp();
    return true;
  }

  private refreshInBackground(topics: string[] | null): void {
    if (this.metadataRefresh || this.closed) return;
    // A failed refresh is tried again the next time a leader is missing or refuses.
    this.metadataRefresh = this.cluster
      .refreshMetadata(topics)
      .catch((error) => {
        this.noteFailure(error);
        this.cluster.report('background metadata refresh', error);
      })
      .then(() => {
        this.metadataRefresh = null;
        this.pump();
      });
  }

  /** Waits until records may be there: positions looked up, fetches started, one answered (or `ms`). */
  async waitForRecords(ms: number): Promise<void> {
    if (this.failure) throw this.failure;
    await this.resolvePositions();
    this.pump();
    if (this.buffered.length > 0 || this.closed) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(wake);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve();
      }, ms);
      this.waiters.push(wake);
    });
  }

  /** The next buffered record of a partition that is not paused, if any. */
  take(): ConsumerRecord | undefined {
    for (;;) {
      const chunk = this.buffered.peek();
      if (chunk === undefined) return undefined;
      if (chunk.position.paused) {
        this.buffered.shift();
        this.parked.push(chunk);
        continue;
      }
      const record = chunk.records[chunk.next++];
      if (chunk.next >= chunk.records.length) {
        this.buffered.shift();
        chunk.position.chunks--;
        // This partition may be fetched again.
        this.pump();
      }
      return record;
    }
  }

  /**
   * One fetch to one leader, from each partition's offset now: a partition that is sought,
   * reset or reassigned while the fetch is out is left out of the answer's use.
   */
  private async fetchFrom(leader: number, positions: Position[]): Promise<void> {
    if (this.failure) return;
    // Taken before the first await: the offsets the fetch asks from.
    const asked = new Map<Position, number>(positions.map((p) => [p, p.offset]));
    let broker: BrokerConnection;
    try {
      broker = await this.cluster.broker(leader);
    } catch (error) {
      if (this.noteFailure(error)) return;
      this.cluster.report(`connect to broker ${leader} for a fetch`, error);
      this.refreshInBackground(null);
      // A leader that cannot be reached is not asked again at once.
      await new Promise((r) => setTimeout(r, FETCH_RETRY_MS));
      return;
    }
    let session = this.sessions.get(leader);
    if (!session) this.sessions.set(leader, (session = new FetchSessionHandler(this.options.fetchSessions !== false)));
    // Fetch 13+ names topics by id: with a topic whose id is not known, topics go by name (12).
    const topicIds = new Map<string, string>();
    for (const p of positions) topicIds.set(p.topic, this.cluster.topics.get(p.topic)?.topicId ?? ZERO_UUID);
    const newest = broker.version(ApiKey.Fetch);
    const version = [...topicIds.values()].every((id) => id !== ZERO_UUID) ? newest : Math.min(newest, 12);
    const names = new Map<string, string>();
    for (const [name, id] of topicIds) names.set(id, name);
    const wanted: WantedPartition[] = positions.map((p) => ({
      topic: p.topic,
      topicId: topicIds.get(p.topic)!,
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: asked.get(p)!,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: this.options.maxPartitionBytes ?? 1048576,
    }));
    const built = session.build(wanted, version);
    let answer: Response<typeof ApiKey.Fetch>;
    try {
      answer = await broker.request(
        ApiKey.Fetch,
        {
          clusterId: null,
          replicaId: -1,
          maxWaitMs: this.options.maxWaitMs ?? 500,
          minBytes: 1,
          maxBytes: 52428800,
          isolationLevel: this.isolationLevel,
          sessionId: built.sessionId,
          sessionEpoch: built.sessionEpoch,
          topics: built.topics,
          forgottenTopicsData: built.forgottenTopicsData,
          rackId: '',
        },
        { cap: version },
      );
    } catch (error) {
      session.handleError();
      this.cluster.report(`fetch from broker ${leader}`, error);
      this.cluster.drop(leader);
      return;
    }
    // A session error carries no partitions; the next fetch to this leader is full.
    if (!session.handleResponse(built, answer)) return;
    let refresh = false;
    for (const t of answer.responses) {
      const topic = version >= 13 ? names.get(t.topicId) : t.topic;
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const position = this.positions.get(partitionKey(topic, p.partitionIndex));
        const fetchedFrom = position === undefined ? undefined : asked.get(position);
        // Reassigned (a new position object) or sought since the fetch went out.
        if (position === undefined || fetchedFrom === undefined || position.offset !== fetchedFrom) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          position.offset = -1;
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE) {
          refresh = true;
          continue;
        }
        const records = p.records as Buffer | Buffer[] | null;
        const bytes = records === null ? null : Array.isArray(records) ? Buffer.concat(records) : records;
        if (!bytes || bytes.length === 0) continue;
        const out: ConsumerRecord[] = [];
        let next = fetchedFrom;
        for (const batch of splitBatches(bytes).batches) {
          const view = new RecordBatchView(batch);
          if (view.lastOffset < next) continue;
          if (!view.isControl) {
            for (const r of await view.records()) {
              if (r.offset < next) continue;
              out.push({
                topic,
                partition: p.partitionIndex,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
              });
            }
          }
          next = view.lastOffset + 1;
        }
        // Decoding awaited: a seek, reset or revocation meanwhile wins over what was fetched.
        if (this.positions.get(partitionKey(topic, p.partitionIndex)) !== position || position.offset !== fetchedFrom)
          continue;
        position.offset = next;
        if (out.length > 0) {
          position.chunks++;
          this.buffered.push({ position, records: out, next: 0 });
        }
      }
    }
    if (refresh) this.refreshInBackground(null);
  }
}
