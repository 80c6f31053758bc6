// The bundled consumer's public face. Partitions come either from assign() (standalone) or
// from group membership (subscribe() with a group id; consumer-group.ts speaks the group
// protocol, assignors/ compute the leader's plan by range, round-robin or
// cooperative-sticky). Range and round-robin rebalance eagerly (every partition is revoked
// before rejoining); cooperative-sticky (KIP-429) keeps fetching the partitions a member
// retains while the group rebalances in the background, and revokes only those that move.
// Records come from the fetch engine (fetcher.ts) through next() and the async iterator;
// a paused partition's fetched records wait until it is resumed. Positions start from the
// group's committed offset, else auto.offset.reset (earliest or latest); offsets
// (offsets.ts) are committed automatically every auto.commit.interval.ms and on close (at
// least once: a record is committed only after the iterator has handed it out and been
// asked for the next one), or by hand with commit().

import { encodeSubscriptionBytes, PartitionsByTopic } from '../../protocol/consumer-protocol';
import type { RecordHeader } from '../../protocol/record-batch';
import { COOPERATIVE_STICKY } from './assignors/cooperative-sticky';
import { planAssignments } from './assignors/plan';
import { ClientOptions, Cluster } from './cluster';
import { GroupMember } from './consumer-group';
import { Fetcher, partitionKey } from './fetcher';
import { ConsumedOffsets, fetchCommittedOffsets, OffsetToCommit } from './offsets';

export { assignPartitions } from './assignors/plan';

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

/** Told which partitions a rebalance took away or gave (the consumer still holds revoked ones during the call). */
export type PartitionsListener = (partitions: { topic: string; partition: number }[]) => void | Promise<void>;

export interface ConsumerOptions extends ClientOptions {
  groupId?: string;
  /** Where to start without a committed offset (default 'latest', as in Kafka). */
  autoOffsetReset?: 'earliest' | 'latest';
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** 'range' (default), 'roundrobin' or 'cooperative-sticky'. */
  assignor?: AssignorName;
  /** Called after the group gave this member partitions (cooperative: only the new ones). */
  onPartitionsAssigned?: PartitionsListener;
  /** Called before partitions are taken away, after their offsets were auto-committed. */
  onPartitionsRevoked?: PartitionsListener;
  /**
   * Called when the member lost its membership (its generation or member id was refused):
   * the partitions may already belong to someone else, so nothing is committed. Without
   * it, onPartitionsRevoked is called.
   */
  onPartitionsLost?: PartitionsListener;
  maxWaitMs?: number;
  maxPartitionBytes?: number;
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** Incremental fetch sessions with each leader (KIP-227); default true. */
  fetchSessions?: boolean;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** An offset, the earliest or latest one, or the first at or after a timestamp (ms). */
  offset?: number | 'earliest' | 'latest' | { timestamp: number };
}

/** A completed SyncGroup's assignment and the committed offsets of its new partitions. */
interface PendingAssignment {
  assigned: PartitionsByTopic;
  committed: Map<string, number>;
}

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly cluster: Cluster;
  private readonly fetcher: Fetcher;
  /** The group membership (with a groupId), else null. */
  private readonly group: GroupMember | null;
  private readonly offsets = new ConsumedOffsets();
  private subscription: string[] = [];
  private commitTimer: NodeJS.Timeout | null = null;
  /** A cooperative rejoin's result, or its failure. */
  private pendingAssignment: PendingAssignment | null = null;
  private joinFailure: unknown = null;
  private closed = false;

  constructor(private readonly options: ConsumerOptions) {
    this.cluster = new Cluster(options);
    this.fetcher = new Fetcher(this.cluster, options);
    this.group = options.groupId ? new GroupMember(this.cluster, { ...options, groupId: options.groupId }) : null;
  }

  /** Standalone consumption of these partitions (no group membership). */
  assign(partitions: TopicPartitionOffset[]): void {
    this.fetcher.clear();
    for (const p of partitions) {
      const known = typeof p.offset === 'number' ? p.offset : -1;
      this.fetcher.add(p.topic, p.partition, known, typeof p.offset === 'number' ? undefined : p.offset);
    }
    this.fetcher.wakeUp();
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.fetcher.positions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Group consumption of these topics (needs groupId). */
  async subscribe(topics: string[]): Promise<void> {
    if (!this.group) throw new Error('subscribe() needs a groupId; use assign() for standalone consumption');
    this.subscription = [...topics];
    await this.applyAssignment(await this.joinGroup(this.group));
  }

  seek(topic: string, partition: number, offset: number): void {
    this.fetcher.seek(topic, partition, offset);
  }

  /** No more records of these partitions from next() until resume(); fetched ones wait. */
  pause(partitions: { topic: string; partition: number }[]): void {
    this.fetcher.pause(partitions);
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    this.fetcher.resume(partitions);
  }

  /** The log end offsets (high watermarks) of the assigned partitions, now. */
  async endOffsets(): Promise<Map<string, number>> {
    const listed = await this.cluster.listOffsets(
      this.assignment().map((p) => ({ ...p, timestamp: -1 })),
      { isolationLevel: this.fetcher.isolationLevel },
    );
    const unreachable = listed.find((r) => r.cause !== undefined);
    if (unreachable) throw unreachable.cause;
    return new Map(listed.map((r) => [`${r.topic}-${r.partition}`, r.errorCode === 0 ? r.offset : -1]));
  }

  /** Records fetched and not handed out yet (paused partitions' included). */
  get bufferedCount(): number {
    return this.fetcher.bufferedCount;
  }

  /** The next offset to fetch of an assigned partition (-1 while not known yet). */
  position(topic: string, partition: number): number {
    return this.fetcher.positions.get(partitionKey(topic, partition))?.offset ?? -1;
  }

  /** Commits the offsets after the records handed out so far (or the given ones). */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (!this.group) throw new Error('commit() needs a groupId');
    await this.offsets.commit(this.group, offsets ?? this.offsets.uncommitted());
  }

  private commitConsumed(): Promise<void> {
    if (!this.group || this.options.autoCommit === false) return Promise.resolve();
    return this.commit();
  }

  // ---- rebalancing ------------------------------------------------------------------

  private get assignorName(): AssignorName {
    return this.options.assignor ?? 'range';
  }

  private get cooperative(): boolean {
    return this.assignorName === COOPERATIVE_STICKY;
  }

  /** The JoinGroup metadata: cooperative members also say what they own and since when. */
  private subscriptionMetadata(group: GroupMember): Buffer {
    if (!this.cooperative) return encodeSubscriptionBytes({ version: 0, topics: this.subscription });
    const owned = new Map<string, number[]>();
    for (const p of this.fetcher.positions.values()) owned.set(p.topic, [...(owned.get(p.topic) ?? []), p.partition]);
    return encodeSubscriptionBytes({
      version: 2,
      topics: this.subscription,
      ownedPartitions: owned,
      generationId: group.generationId,
    });
  }

  /**
   * Joins (JoinGroup and SyncGroup, the leader planning), then looks up the committed
   * offsets of the partitions that are new to this member, for applyAssignment.
   */
  private async joinGroup(group: GroupMember): Promise<PendingAssignment> {
    const assigned = await group.join(
      this.assignorName,
      () => this.subscriptionMetadata(group),
      (protocolName, members) =>
        planAssignments(
          protocolName,
          members,
          async (topics) => void (await this.cluster.refreshMetadata(topics)),
          (topic) => this.cluster.topics.get(topic)?.partitions.length ?? 0,
        ),
      () => this.closed,
    );
    const fresh = new Map<string, number[]>();
    for (const [topic, list] of assigned) {
      const mine = list.filter((partition) => !this.fetcher.positions.has(partitionKey(topic, partition)));
      if (mine.length > 0) fresh.set(topic, mine);
    }
    const committed = await fetchCommittedOffsets(group, fresh);
    if (this.closed) throw new Error('consumer closed');
    this.startHeartbeats(group);
    return { assigned, committed };
  }

  /**
   * Eager protocols give everything up before rejoining: offsets are committed (auto
   * commit), the revoke listener runs, and the partitions are dropped. A member that lost
   * its membership drops its partitions without committing, whatever the protocol.
   */
  private async prepareJoin(group: GroupMember): Promise<void> {
    const held = this.assignment();
    if (group.membershipLost) {
      group.membershipLost = false;
      this.dropPartitions(held);
      if (held.length > 0) await (this.options.onPartitionsLost ?? this.options.onPartitionsRevoked)?.(held);
      return;
    }
    // Kafka's consumer commits before every rejoin (onJoinPrepare), cooperative or not.
    // A commit that fails here leaves those records to be consumed again (at least once).
    await this.commitConsumed().catch((error) => this.cluster.report('commit before rejoining', error));
    if (this.cooperative) return;
    try {
      if (held.length > 0) await this.options.onPartitionsRevoked?.(held);
    } finally {
      this.dropPartitions(held);
    }
  }

  private dropPartitions(partitions: { topic: string; partition: number }[]): void {
    const keys = partitions.map((p) => partitionKey(p.topic, p.partition));
    for (const key of keys) this.offsets.forget(key);
    this.fetcher.remove(keys);
  }

  /**
   * Takes a new assignment. Partitions kept keep their positions and buffered records;
   * removed ones have their offsets committed (auto commit), the revoke listener runs, and
   * they are dropped, after which a cooperative member rejoins at once so the withheld
   * partitions can go to their new owners; new ones start at the committed offsets (else
   * auto.offset.reset) and the assign listener runs.
   */
  private async applyAssignment({ assigned, committed }: PendingAssignment): Promise<void> {
    const wanted = new Set<string>();
    for (const [topic, list] of assigned) for (const partition of list) wanted.add(partitionKey(topic, partition));
    const revoked = this.assignment().filter((p) => !wanted.has(partitionKey(p.topic, p.partition)));
    if (revoked.length > 0) {
      // Nothing more of these is handed out while their offsets are committed.
      const revokedKeys = new Set(revoked.map((p) => partitionKey(p.topic, p.partition)));
      this.fetcher.withhold(revokedKeys);
      if (this.options.autoCommit ?? true)
        await this.commit(this.offsets.uncommitted(revokedKeys)).catch((error) =>
          this.cluster.report('commit of revoked partitions', error),
        );
      try {
        await this.options.onPartitionsRevoked?.(revoked);
      } finally {
        this.dropPartitions(revoked);
        if (this.cooperative && this.group) this.group.rejoinNeeded = true;
      }
    }
    const added: { topic: string; partition: number }[] = [];
    for (const [topic, list] of assigned) {
      for (const partition of list) {
        const key = partitionKey(topic, partition);
        if (this.fetcher.positions.has(key)) continue;
        this.fetcher.add(topic, partition, committed.get(key) ?? -1);
        added.push({ topic, partition });
      }
    }
    // Eager members are told everything they hold; cooperative ones only what is new, as in Kafka.
    await this.options.onPartitionsAssigned?.(this.cooperative ? added : this.assignment());
  }

  /**
   * Called from next() between records: takes a completed background join's assignment,
   * rethrows its failure, and starts a rejoin when one is needed (awaited for eager
   * protocols, in the background for cooperative-sticky, so fetching goes on).
   */
  private async maybeRebalance(): Promise<void> {
    const group = this.group;
    if (this.pendingAssignment) {
      const pending = this.pendingAssignment;
      this.pendingAssignment = null;
      await this.applyAssignment(pending);
    }
    if (this.joinFailure && group) {
      const failure = this.joinFailure;
      this.joinFailure = null;
      // The caller hears the failure; its next call to next() tries to join again.
      group.rejoinNeeded = true;
      throw failure;
    }
    if (!group || !group.rejoinNeeded || group.joining || this.subscription.length === 0 || this.closed) return;
    // Claimed before the first await, so a concurrent next() does not start a second join.
    group.rejoinNeeded = false;
    const run = (async () => {
      group.stopHeartbeats();
      await this.prepareJoin(group);
      // The commit before the join may itself hear REBALANCE_IN_PROGRESS: this join answers it.
      group.rejoinNeeded = false;
      return this.joinGroup(group);
    })();
    if (!this.cooperative) {
      // Only a marker that a join is under way: its failure is thrown to the caller just below.
      group.joining = run.then(
        () => undefined,
        () => undefined,
      );
      let pending: PendingAssignment;
      try {
        pending = await run;
      } catch (error) {
        // As for a cooperative member: the caller hears it, and the next call tries again.
        group.rejoinNeeded = true;
        throw error;
      } finally {
        group.joining = null;
      }
      await this.applyAssignment(pending);
      return;
    }
    group.joining = run
      .then(
        (pending) => {
          this.pendingAssignment = pending;
        },
        (error: unknown) => {
          if (!this.closed) this.joinFailure = error;
        },
      )
      .finally(() => {
        group.joining = null;
        this.fetcher.wakeUp();
      });
  }

  /** Whether a cooperative rejoin is under way in the background. */
  get rebalancing(): boolean {
    return (this.group?.joining ?? null) !== null || this.pendingAssignment !== null;
  }

  private startHeartbeats(group: GroupMember): void {
    group.startHeartbeats();
    if ((this.options.autoCommit ?? true) && !this.commitTimer) {
      this.commitTimer = setInterval(
        () => void this.commitConsumed().catch((error) => this.cluster.report('automatic commit', error)),
        this.options.autoCommitIntervalMs ?? 5000,
      );
      this.commitTimer.unref();
    }
  }

  // ---- handing records out ----------------------------------------------------------

  /** The last record handed out counts as processed, if its partition is still this member's. */
  private markHandled(): void {
    this.offsets.markHandled((key) => this.fetcher.positions.has(key));
  }

  /** next() calls not finished yet (running or waiting their turn). */
  private nextCalls = 0;
  private lastNextCall: Promise<ConsumerRecord | null> | null = null;

  /**
   * The next record, waiting for one (null once closed). Calls made while another is still
   * waiting take their turn after it, so each gets its own record, in order, and none is
   * taken by a call nobody awaits any more before the earlier ones are answered.
   */
  next(): Promise<ConsumerRecord | null> {
    const after = this.nextCalls > 0 ? this.lastNextCall : null;
    this.nextCalls++;
    const call = after
      ? after.then(
          () => this.nextInTurn(),
          () => this.nextInTurn(),
        )
      : this.nextInTurn();
    this.lastNextCall = call;
    return call;
  }

  private async nextInTurn(): Promise<ConsumerRecord | null> {
    try {
      // Asking for the next record means the previous one is done with: it may be committed.
      this.markHandled();
      while (!this.closed) {
        await this.maybeRebalance();
        const record = this.fetcher.take();
        if (record) {
          this.offsets.handedOut(record);
          return record;
        }
        // Bounded, so a rebalance or a paused partition is looked at again.
        await this.fetcher.waitForRecords(this.options.maxWaitMs ?? 500);
      }
      return null;
    } finally {
      this.nextCalls--;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    for (;;) {
      const record = await this.next();
      if (record === null) return;
      yield record;
    }
  }

  /** Commits what was processed (auto commit), leaves the group, closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fetcher.close();
    // Closing after a record (a break out of the loop) counts it as processed.
    this.markHandled();
    this.group?.stopHeartbeats();
    if (this.commitTimer) clearInterval(this.commitTimer);
    try {
      if (this.group && this.options.autoCommit !== false) await this.commit();
      // Leaving gives every partition up, as a rebalance would.
      const held = this.subscription.length > 0 ? this.assignment() : [];
      if (held.length > 0)
        await Promise.resolve(this.options.onPartitionsRevoked?.(held)).catch((error) =>
          this.cluster.report('onPartitionsRevoked listener on close', error),
        );
      await this.group?.leave();
    } catch (error) {
      // Leaving is best effort: the session timeout removes the member otherwise.
      this.cluster.report('commit and leave on close', error);
    } finally {
      this.group?.close();
      this.cluster.close();
    }
  }
}
