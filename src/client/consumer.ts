// The bundled consumer. Partitions come either from assign() (standalone) or from group
// membership (subscribe() with a group id: JoinGroup, SyncGroup with the leader's
// assignment by the range, round-robin or cooperative-sticky assignor, heartbeats,
// LeaveGroup on close). Range and round-robin rebalance eagerly (every partition is
// revoked before rejoining); cooperative-sticky (KIP-429) keeps fetching the partitions a
// member retains while the group rebalances in the background, and revokes only those
// that move.
// Records are fetched from each partition's leader with long-poll fetches, one in flight
// per leader and each leader on its own (as Kafka's consumer keeps one fetch per broker):
// records of one leader are handed out while another leader's long poll is still open. A
// partition is fetched again once what it fetched is handed out, so memory stays bounded
// by one fetch per partition. Records are handed out through an async iterator; a paused
// partition's fetched records wait until it is resumed. Positions start from the group's
// committed offset, else auto.offset.reset (earliest or latest); offsets are committed
// automatically every auto.commit.interval.ms and on close (at least once: a record is
// committed only after the iterator has handed it out and been asked for the next one),
// or by hand with commit().

import { RecordQueue } from './record-queue';
import { ErrorCode } from '../../protocol/errors';
import { RecordBatchView, RecordHeader, splitBatches } from '../../protocol/record-batch';
import { COOPERATIVE_STICKY, cooperativeStickyAssign } from './assignors/cooperative-sticky';
import { decodeAssignmentBytes, decodeSubscriptionBytes, encodeAssignmentBytes, encodeSubscriptionBytes } from '../../protocol/consumer-protocol';
import { BrokerConnection, ClientOptions, Cluster, Coordinator, KafkaError, openBroker } from './cluster';

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

/** How long a heartbeat or a leave retries a coordinator that moved (the session decides the rest). */
const SHORT_RETRY_MS = 2000;

/** Pause before fetching again from a leader that could not be reached. */
const FETCH_RETRY_MS = 100;

/** Pause before asking again for a group coordinator that moved or is not ready. */
const COORDINATOR_RETRY_MS = 200;

/** JoinGroup attempts in one rejoin before giving up on a group that keeps rebalancing. */
const JOIN_ATTEMPTS_MAX = 20;

/** A completed SyncGroup's assignment and the committed offsets of its new partitions. */
interface PendingAssignment {
  assigned: Map<string, number[]>;
  committed: Map<string, number>;
}

interface Position {
  topic: string;
  partition: number;
  /** Next offset to fetch; -1 while it is being looked up. */
  offset: number;
  paused: boolean;
  reset?: 'earliest' | 'latest' | { timestamp: number };
  /** A fetch that asks for this partition is out. */
  fetching: boolean;
  /** Fetched chunks of this partition not handed out yet. */
  chunks: number;
}

/** The records one fetch brought for one partition, handed out from `next`. */
interface Chunk {
  position: Position;
  records: ConsumerRecord[];
  next: number;
}

const COORDINATOR_ERRORS = new Set([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

/** Whether a group answer says to find the coordinator again: at the top, or for a partition. */
function coordinatorError(answer: any): boolean {
  if (COORDINATOR_ERRORS.has(answer.errorCode)) return true;
  for (const g of answer.groups ?? []) if (COORDINATOR_ERRORS.has(g.errorCode)) return true;
  for (const t of answer.topics ?? []) for (const p of t.partitions ?? []) if (COORDINATOR_ERRORS.has(p.errorCode)) return true;
  return false;
}

function newPosition(topic: string, partition: number, offset: number, reset?: Position['reset']): Position {
  return { topic, partition, offset, paused: false, reset, fetching: false, chunks: 0 };
}

/**
 * Assigns partitions to members: range (per topic, consecutive runs of partitions, the
 * first members taking one extra) or round-robin (all partitions in turn), as Kafka's
 * RangeAssignor and RoundRobinAssignor do. Members are taken in member id order.
 */
export function assignPartitions(kind: 'range' | 'roundrobin', members: { memberId: string; topics: string[] }[], partitionsOf: (topic: string) => number): Map<string, Map<string, number[]>> {
  const out = new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
  const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  const give = (memberId: string, topic: string, partition: number) => {
    const mine = out.get(memberId)!;
    if (!mine.has(topic)) mine.set(topic, []);
    mine.get(topic)!.push(partition);
  };
  if (kind === 'range') {
    for (const topic of topics) {
      const consumers = sorted.filter((m) => m.topics.includes(topic));
      const count = partitionsOf(topic);
      const per = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      let next = 0;
      consumers.forEach((m, i) => {
        const take = per + (i < extra ? 1 : 0);
        for (let p = next; p < next + take; p++) give(m.memberId, topic, p);
        next += take;
      });
    }
  } else {
    let turn = 0;
    for (const topic of topics) {
      for (let p = 0; p < partitionsOf(topic); p++) {
        // The next member (in order) that subscribes to this topic.
        for (let tries = 0; tries < sorted.length; tries++) {
          const m = sorted[turn++ % sorted.length];
          if (m.topics.includes(topic)) {
            give(m.memberId, topic, p);
            break;
          }
        }
      }
    }
  }
  return out;
}

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly cluster: Cluster;
  private readonly positions = new Map<string, Position>();
  /** Fetched records not handed out yet, in the order their fetches completed. */
  private readonly buffered = new RecordQueue<Chunk>();
  /** Chunks of paused partitions, set aside until they are resumed. */
  private parked: Chunk[] = [];
  /** Fetches out, by leader: at most one per broker. */
  private readonly fetches = new Map<number, Promise<void>>();
  private metadataRefresh: Promise<unknown> | null = null;
  /** Wake next() calls that wait for records (a fetch completed, a join ended, close). */
  private waiters: (() => void)[] = [];
  private readonly consumed = new Map<string, number>();
  private readonly committedUpTo = new Map<string, number>();
  private subscription: string[] = [];
  private memberId = '';
  private generationId = -1;
  private coordinator: Coordinator | null = null;
  private coordinatorLink: Promise<BrokerConnection> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private rejoinNeeded = false;
  /** The heartbeat or a commit was told this member's generation or id is gone. */
  private membershipLost = false;
  /** A cooperative rejoin running in the background, its result, or its failure. */
  private joining: Promise<void> | null = null;
  private pendingAssignment: PendingAssignment | null = null;
  private joinFailure: unknown = null;
  private lastHanded: ConsumerRecord | null = null;
  private closed = false;
  /** Set once close() has left the group. */
  private left = false;

  constructor(private readonly options: ConsumerOptions) {
    this.cluster = new Cluster(options);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Standalone consumption of these partitions (no group membership). */
  assign(partitions: TopicPartitionOffset[]): void {
    this.positions.clear();
    this.buffered.clear();
    this.parked = [];
    for (const p of partitions) {
      const known = typeof p.offset === 'number' ? p.offset : -1;
      this.positions.set(this.key(p.topic, p.partition), newPosition(p.topic, p.partition, known, typeof p.offset === 'number' ? undefined : p.offset));
    }
    this.wakeUp();
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.positions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Group consumption of these topics (needs groupId). */
  async subscribe(topics: string[]): Promise<void> {
    if (!this.options.groupId) throw new Error('subscribe() needs a groupId; use assign() for standalone consumption');
    this.subscription = [...topics];
    await this.applyAssignment(await this.joinGroup());
  }

  seek(topic: string, partition: number, offset: number): void {
    const position = this.positions.get(this.key(topic, partition));
    if (!position) throw new Error(`${topic}-${partition} is not assigned to this consumer`);
    position.offset = offset;
    // What was fetched from the old position is not handed out; a fetch still out is ignored.
    this.discard(new Set([position]));
    this.wakeUp();
  }

  /** No more records of these partitions from next() until resume(); fetched ones wait. */
  pause(partitions: { topic: string; partition: number }[]): void {
    for (const p of partitions) {
      const position = this.positions.get(this.key(p.topic, p.partition));
      if (position) position.paused = true;
    }
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    const resumed = new Set<Position>();
    for (const p of partitions) {
      const position = this.positions.get(this.key(p.topic, p.partition));
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

  /** Drops the fetched, not handed out records of these partitions. */
  private discard(positions: Set<Position>): void {
    this.buffered.removeWhere((chunk) => positions.has(chunk.position));
    this.parked = this.parked.filter((chunk) => !positions.has(chunk.position));
    for (const position of positions) position.chunks = 0;
  }

  // ---- group membership -------------------------------------------------------------

  /**
   * The group coordinator, over a connection of its own as Kafka's consumer keeps one: a
   * broker answers a connection's requests in order, so a JoinGroup waiting for the
   * rebalance would otherwise hold back the fetches of the partitions a cooperative member
   * keeps consuming meanwhile.
   */
  private async coordinatorBroker(): Promise<BrokerConnection> {
    const groupId = this.options.groupId!;
    const deadline = Date.now() + (this.options.requestTimeoutMs ?? 30_000);
    for (;;) {
      // close() still commits and leaves through here; after that nothing may open a link.
      if (this.left) throw new Error('consumer closed');
      if (this.coordinator !== null) {
        this.coordinatorLink ??= this.openCoordinatorLink(this.coordinator);
        const link = await this.coordinatorLink.catch(() => null);
        if (link && link.connection.isOpen) return link;
        this.forgetCoordinator();
        if (Date.now() > deadline) throw new Error(`group coordinator of ${groupId} unreachable`);
        await new Promise((r) => setTimeout(r, COORDINATOR_RETRY_MS));
      }
      this.coordinator = await this.cluster.findCoordinator(groupId, Math.max(0, deadline - Date.now()));
    }
  }

  private async openCoordinatorLink(coordinator: Coordinator): Promise<BrokerConnection> {
    // A JoinGroup may wait for the whole rebalance, so its answer is allowed that long and more.
    const rebalanceTimeoutMs = this.options.rebalanceTimeoutMs ?? 60_000;
    return openBroker(coordinator.nodeId, coordinator, {
      clientId: this.cluster.clientId,
      requestTimeoutMs: Math.max(this.options.requestTimeoutMs ?? 30_000, rebalanceTimeoutMs + 5000),
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
    });
  }

  private forgetCoordinator(): void {
    const link = this.coordinatorLink;
    this.coordinatorLink = null;
    this.coordinator = null;
    void link?.then((broker) => broker.connection.close(), () => undefined);
  }

  /**
   * Calls the coordinator; NOT_COORDINATOR and the like (for the request or, as OffsetCommit
   * answers them, for a partition) find it again and retry, for up to the request timeout
   * (Kafka's consumer retries them until default.api.timeout.ms).
   */
  private async groupRequest(apiKey: number, body: Record<string, unknown>, retryForMs = this.options.requestTimeoutMs ?? 30_000): Promise<any> {
    const deadline = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      const broker = await this.coordinatorBroker();
      let answer: any;
      try {
        answer = await broker.request(apiKey, body);
      } catch (error) {
        this.forgetCoordinator();
        if (attempt >= 5) throw error;
        continue;
      }
      if (coordinatorError(answer) && Date.now() < deadline) {
        this.forgetCoordinator();
        await new Promise((r) => setTimeout(r, COORDINATOR_RETRY_MS));
        continue;
      }
      return answer;
    }
  }

  private get assignorName(): AssignorName {
    return this.options.assignor ?? 'range';
  }

  private get cooperative(): boolean {
    return this.assignorName === COOPERATIVE_STICKY;
  }

  /** The JoinGroup metadata: cooperative members also say what they own and since when. */
  private subscriptionMetadata(): Buffer {
    if (!this.cooperative) return encodeSubscriptionBytes({ version: 0, topics: this.subscription });
    const owned = new Map<string, number[]>();
    for (const p of this.positions.values()) owned.set(p.topic, [...(owned.get(p.topic) ?? []), p.partition]);
    return encodeSubscriptionBytes({ version: 2, topics: this.subscription, ownedPartitions: owned, generationId: this.generationId });
  }

  /** The leader's plan for every member, by the protocol the coordinator chose. */
  private async planAssignments(protocolName: string, members: { memberId: string; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subscriptions = members.map((m) => {
      try {
        return { memberId: m.memberId, subscription: decodeSubscriptionBytes(m.metadata) };
      } catch {
        // A member whose metadata cannot be read gets nothing rather than failing the group.
        return { memberId: m.memberId, subscription: decodeSubscriptionBytes(encodeSubscriptionBytes({ version: 0, topics: [] })) };
      }
    });
    const topics = [...new Set(subscriptions.flatMap((m) => m.subscription.topics))];
    if (topics.length > 0) await this.cluster.refreshMetadata(topics);
    const partitionsOf = (topic: string) => this.cluster.topics.get(topic)?.partitions.length ?? 0;
    let plan: Map<string, Map<string, number[]>>;
    if (protocolName === COOPERATIVE_STICKY) {
      plan = cooperativeStickyAssign(subscriptions.map((m) => ({ memberId: m.memberId, topics: m.subscription.topics, owned: m.subscription.ownedPartitions, generationId: m.subscription.generationId })), partitionsOf).assignment;
    } else {
      const kind = protocolName === 'roundrobin' ? 'roundrobin' : 'range';
      plan = assignPartitions(kind, subscriptions.map((m) => ({ memberId: m.memberId, topics: m.subscription.topics })), partitionsOf);
    }
    return [...plan].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignmentBytes(partitions, protocolName === COOPERATIVE_STICKY ? 1 : 0) }));
  }

  /**
   * Eager protocols give everything up before rejoining: offsets are committed (auto
   * commit), the revoke listener runs, and the partitions are dropped. A member that lost
   * its membership drops its partitions without committing, whatever the protocol.
   */
  private async prepareJoin(): Promise<void> {
    const held = this.assignment();
    if (this.membershipLost) {
      this.membershipLost = false;
      this.dropPartitions(held);
      if (held.length > 0) await (this.options.onPartitionsLost ?? this.options.onPartitionsRevoked)?.(held);
      return;
    }
    // Kafka's consumer commits before every rejoin (onJoinPrepare), cooperative or not.
    await this.commitConsumed().catch(() => undefined);
    if (this.cooperative) return;
    try {
      if (held.length > 0) await this.options.onPartitionsRevoked?.(held);
    } finally {
      this.dropPartitions(held);
    }
  }

  private dropPartitions(partitions: { topic: string; partition: number }[]): void {
    const gone = new Set(partitions.map((p) => this.key(p.topic, p.partition)));
    const dropped = new Set<Position>();
    for (const key of gone) {
      const position = this.positions.get(key);
      if (position) dropped.add(position);
      this.positions.delete(key);
      this.consumed.delete(key);
      this.committedUpTo.delete(key);
    }
    this.discard(dropped);
  }

  /**
   * JoinGroup then SyncGroup until the member has an assignment; the leader computes the
   * plan. Returns the assignment with the committed offsets of the partitions that are
   * new to this member, for applyAssignment.
   */
  private async joinGroup(): Promise<PendingAssignment> {
    const groupId = this.options.groupId!;
    const assignor = this.assignorName;
    this.stopHeartbeats();
    for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
      if (this.closed) throw new Error('consumer closed');
      const join = await this.groupRequest(11, {
        groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 60_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: assignor, metadata: this.subscriptionMetadata() }],
        reason: null,
      });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (join.errorCode !== ErrorCode.NONE) throw new KafkaError(join.errorCode, `JoinGroup ${groupId}`);
      this.memberId = join.memberId;
      const generationId = join.generationId;
      const protocolName: string = join.protocolName ?? assignor;
      const assignments = join.leader === join.memberId ? await this.planAssignments(protocolName, join.members) : [];
      const sync = await this.groupRequest(14, { groupId, generationId, memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName, assignments });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== ErrorCode.NONE) throw new KafkaError(sync.errorCode, `SyncGroup ${groupId}`);
      this.generationId = generationId;
      const assigned = decodeAssignmentBytes(sync.assignment);
      const committed = await this.committedOffsets(assigned);
      if (this.closed) throw new Error('consumer closed');
      this.startHeartbeats();
      return { assigned, committed };
    }
    throw new Error(`could not join group ${groupId}: the group kept rebalancing`);
  }

  /** The group's committed offsets of the partitions this member does not hold yet. */
  private async committedOffsets(assigned: Map<string, number[]>): Promise<Map<string, number>> {
    const wanted = new Map<string, number[]>();
    for (const [topic, list] of assigned) {
      const fresh = list.filter((partition) => !this.positions.has(this.key(topic, partition)));
      if (fresh.length > 0) wanted.set(topic, fresh);
    }
    const out = new Map<string, number>();
    if (wanted.size === 0) return out;
    const topics = [...wanted].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const answer = await this.groupRequest(9, { groupId: this.options.groupId, topics, groups: [{ groupId: this.options.groupId, topics }], requireStable: false });
    // Below v8 the decoder fills the absent groups array with an empty one: the answer is in topics.
    for (const t of (answer.groups?.length ? answer.groups[0].topics : answer.topics) ?? []) {
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.NONE && Number(p.committedOffset) >= 0) out.set(this.key(t.name, p.partitionIndex), Number(p.committedOffset));
      }
    }
    return out;
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
    for (const [topic, list] of assigned) for (const partition of list) wanted.add(this.key(topic, partition));
    const revoked = this.assignment().filter((p) => !wanted.has(this.key(p.topic, p.partition)));
    if (revoked.length > 0) {
      // Nothing more of these is handed out while their offsets are committed.
      for (const p of revoked) this.positions.get(this.key(p.topic, p.partition))!.paused = true;
      const revokedKeys = new Set(revoked.map((p) => this.key(p.topic, p.partition)));
      this.discard(new Set([...revokedKeys].map((key) => this.positions.get(key)!)));
      if (this.options.autoCommit ?? true) {
        const offsets = [...this.consumed].filter(([key, offset]) => revokedKeys.has(key) && this.committedUpTo.get(key) !== offset).map(([key, offset]) => {
          const [topic, partition] = key.split('\u0000');
          return { topic, partition: Number(partition), offset };
        });
        await this.commit(offsets).catch(() => undefined);
      }
      try {
        await this.options.onPartitionsRevoked?.(revoked);
      } finally {
        this.dropPartitions(revoked);
        if (this.cooperative) this.rejoinNeeded = true;
      }
    }
    const added: { topic: string; partition: number }[] = [];
    for (const [topic, list] of assigned) {
      for (const partition of list) {
        const key = this.key(topic, partition);
        if (this.positions.has(key)) continue;
        this.positions.set(key, newPosition(topic, partition, committed.get(key) ?? -1));
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
    if (this.pendingAssignment) {
      const pending = this.pendingAssignment;
      this.pendingAssignment = null;
      await this.applyAssignment(pending);
    }
    if (this.joinFailure) {
      const failure = this.joinFailure;
      this.joinFailure = null;
      // The caller hears the failure; its next call to next() tries to join again.
      this.rejoinNeeded = true;
      throw failure;
    }
    if (!this.rejoinNeeded || this.joining || !this.options.groupId || this.subscription.length === 0 || this.closed) return;
    // Claimed before the first await, so a concurrent next() does not start a second join.
    this.rejoinNeeded = false;
    const run = (async () => {
      this.stopHeartbeats();
      await this.prepareJoin();
      // The commit before the join may itself hear REBALANCE_IN_PROGRESS: this join answers it.
      this.rejoinNeeded = false;
      return this.joinGroup();
    })();
    if (!this.cooperative) {
      this.joining = run.then(() => undefined, () => undefined);
      let pending: PendingAssignment;
      try {
        pending = await run;
      } catch (error) {
        // As for a cooperative member: the caller hears it, and the next call tries again.
        this.rejoinNeeded = true;
        throw error;
      } finally {
        this.joining = null;
      }
      await this.applyAssignment(pending);
      return;
    }
    this.joining = run.then(
      (pending) => {
        this.pendingAssignment = pending;
      },
      (error: unknown) => {
        if (!this.closed) this.joinFailure = error;
      },
    ).finally(() => {
      this.joining = null;
      this.wakeUp();
    });
  }

  /** Whether a cooperative rejoin is under way in the background. */
  get rebalancing(): boolean {
    return this.joining !== null || this.pendingAssignment !== null;
  }

  private startHeartbeats(): void {
    const interval = this.options.heartbeatIntervalMs ?? 3000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), interval);
    this.heartbeatTimer.unref();
    if ((this.options.autoCommit ?? true) && !this.commitTimer) {
      this.commitTimer = setInterval(() => void this.commitConsumed().catch(() => undefined), this.options.autoCommitIntervalMs ?? 5000);
      this.commitTimer.unref();
    }
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /**
   * Marks the membership for a rejoin on the answers that say the group moved on. An answer
   * to a request sent under an earlier generation or member id says nothing about the
   * current one (a heartbeat or commit in flight across a rejoin), so it is ignored.
   */
  private noteGroupError(code: number, sentGenerationId: number, sentMemberId: string): void {
    if (code !== ErrorCode.REBALANCE_IN_PROGRESS && code !== ErrorCode.ILLEGAL_GENERATION && code !== ErrorCode.UNKNOWN_MEMBER_ID) return;
    if (sentGenerationId !== this.generationId || sentMemberId !== this.memberId) return;
    // A rejoin under way already answers these.
    if (this.joining) return;
    if (code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
    if (code !== ErrorCode.REBALANCE_IN_PROGRESS) {
      this.membershipLost = true;
      this.generationId = -1;
    }
    this.rejoinNeeded = true;
  }

  private async heartbeat(): Promise<void> {
    const generationId = this.generationId;
    const memberId = this.memberId;
    try {
      // Briefly: the next heartbeat tries again.
      const answer = await this.groupRequest(12, { groupId: this.options.groupId, generationId, memberId, groupInstanceId: null }, SHORT_RETRY_MS);
      this.noteGroupError(answer.errorCode, generationId, memberId);
    } catch {
      // The next heartbeat tries again; the session timeout decides.
    }
  }

  /** Commits the offsets after the records handed out so far (or the given ones). */
  async commit(offsets?: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (!this.options.groupId) throw new Error('commit() needs a groupId');
    const wanted = offsets ?? [...this.consumed].map(([key, offset]) => {
      const [topic, partition] = key.split('\u0000');
      return { topic, partition: Number(partition), offset };
    }).filter((o) => this.committedUpTo.get(this.key(o.topic, o.partition)) !== o.offset);
    if (wanted.length === 0) return;
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
    for (const o of wanted) {
      if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
      byTopic.get(o.topic)!.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null });
    }
    const generationId = this.generationId;
    const memberId = this.memberId;
    const standalone = generationId < 0;
    const answer = await this.groupRequest(8, {
      groupId: this.options.groupId,
      generationIdOrMemberEpoch: standalone ? -1 : generationId,
      memberId: standalone ? '' : memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of answer.topics) {
      for (const p of t.partitions) {
        this.noteGroupError(p.errorCode, generationId, memberId);
        if (p.errorCode !== ErrorCode.NONE) throw new KafkaError(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex}`);
        const done = wanted.find((o) => o.topic === t.name && o.partition === p.partitionIndex);
        if (done) this.committedUpTo.set(this.key(done.topic, done.partition), done.offset);
      }
    }
  }

  private commitConsumed(): Promise<void> {
    if (!this.options.groupId || (this.options.autoCommit === false)) return Promise.resolve();
    return this.commit();
  }

  // ---- fetching -----------------------------------------------------------------------

  /** Looks up positions that are unknown (-1): ListOffsets earliest (-2) or latest (-1). */
  private async resolvePositions(): Promise<void> {
    const unknown = [...this.positions.values()].filter((p) => p.offset < 0);
    if (unknown.length === 0) return;
    const listed = await this.cluster.listOffsets(unknown.map((p) => ({ topic: p.topic, partition: p.partition, timestamp: this.listOffsetsTimestamp(p.reset) })), { isolationLevel: this.isolationLevel });
    for (const r of listed) {
      const position = this.positions.get(this.key(r.topic, r.partition));
      if (!position || r.errorCode !== ErrorCode.NONE || position.offset >= 0) continue;
      // No record at or after the timestamp: start at the end.
      if (r.offset >= 0) position.offset = r.offset;
      else position.reset = 'latest';
    }
    // A leader that could not be asked fails the call, as any request does; Kafka errors are asked again later.
    const unreachable = listed.find((r) => r.cause !== undefined);
    if (unreachable) throw unreachable.cause;
  }

  private get isolationLevel(): 0 | 1 {
    return this.options.isolationLevel === 'read_committed' ? 1 : 0;
  }

  private listOffsetsTimestamp(reset: Position['reset']): number {
    const how = reset ?? this.options.autoOffsetReset ?? 'latest';
    if (typeof how === 'object') return how.timestamp;
    return how === 'earliest' ? -2 : -1;
  }

  /** The log end offsets (high watermarks) of the assigned partitions, now. */
  async endOffsets(): Promise<Map<string, number>> {
    const listed = await this.cluster.listOffsets(this.assignment().map((p) => ({ ...p, timestamp: -1 })), { isolationLevel: this.isolationLevel });
    const unreachable = listed.find((r) => r.cause !== undefined);
    if (unreachable) throw unreachable.cause;
    return new Map(listed.map((r) => [`${r.topic}-${r.partition}`, r.errorCode === ErrorCode.NONE ? r.offset : -1]));
  }

  /** Records fetched and not handed out yet (paused partitions' included). */
  get bufferedCount(): number {
    let n = 0;
    this.buffered.forEach((chunk) => (n += chunk.records.length - chunk.next));
    for (const chunk of this.parked) n += chunk.records.length - chunk.next;
    return n;
  }

  /** The next offset to fetch of an assigned partition (-1 while not known yet). */
  position(topic: string, partition: number): number {
    return this.positions.get(this.key(topic, partition))?.offset ?? -1;
  }

  private wakeUp(): void {
    for (const wake of this.waiters.splice(0)) wake();
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
        .catch(() => undefined)
        .then(() => {
          for (const p of positions) p.fetching = false;
          this.fetches.delete(leader);
          this.pump();
          this.wakeUp();
        });
      this.fetches.set(leader, fetch);
    }
  }

  private refreshInBackground(topics: string[] | null): void {
    if (this.metadataRefresh || this.closed) return;
    this.metadataRefresh = this.cluster.refreshMetadata(topics).catch(() => undefined).then(() => {
      this.metadataRefresh = null;
      this.pump();
    });
  }

  /** Waits until records may be there: positions looked up, fetches started, one answered (or `ms`). */
  private async waitForRecords(ms: number): Promise<void> {
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
  private take(): ConsumerRecord | undefined {
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
    // Taken before the first await: the offsets the fetch asks from.
    const asked = new Map<Position, number>(positions.map((p) => [p, p.offset]));
    let broker: BrokerConnection;
    try {
      broker = await this.cluster.broker(leader);
    } catch {
      this.refreshInBackground(null);
      // A leader that cannot be reached is not asked again at once.
      await new Promise((r) => setTimeout(r, FETCH_RETRY_MS));
      return;
    }
    const byTopic = new Map<string, Position[]>();
    for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    let answer: any;
    try {
      answer = await broker.request(1, {
        clusterId: null,
        replicaId: -1,
        maxWaitMs: this.options.maxWaitMs ?? 500,
        minBytes: 1,
        maxBytes: 52428800,
        isolationLevel: this.isolationLevel,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: asked.get(p)!, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.options.maxPartitionBytes ?? 1048576 })) })),
        forgottenTopicsData: [],
        rackId: '',
      });
    } catch {
      this.cluster.drop(leader);
      return;
    }
    let refresh = false;
    for (const t of answer.responses) {
      for (const p of t.partitions) {
        const position = this.positions.get(this.key(t.topic, p.partitionIndex));
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
              out.push({ topic: t.topic, partition: p.partitionIndex, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
            }
          }
          next = view.lastOffset + 1;
        }
        // Decoding awaited: a seek, reset or revocation meanwhile wins over what was fetched.
        if (this.positions.get(this.key(t.topic, p.partitionIndex)) !== position || position.offset !== fetchedFrom) continue;
        position.offset = next;
        if (out.length > 0) {
          position.chunks++;
          this.buffered.push({ position, records: out, next: 0 });
        }
      }
    }
    if (refresh) this.refreshInBackground(null);
  }

  /** The last record handed out counts as processed, if its partition is still this member's. */
  private markHandled(): void {
    const record = this.lastHanded;
    this.lastHanded = null;
    if (!record) return;
    const key = this.key(record.topic, record.partition);
    if (this.positions.has(key)) this.consumed.set(key, record.offset + 1);
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
    const call = after ? after.then(() => this.nextInTurn(), () => this.nextInTurn()) : this.nextInTurn();
    this.lastNextCall = call;
    return call;
  }

  private async nextInTurn(): Promise<ConsumerRecord | null> {
    try {
      // Asking for the next record means the previous one is done with: it may be committed.
      this.markHandled();
      while (!this.closed) {
        await this.maybeRebalance();
        const record = this.take();
        if (record) {
          this.lastHanded = record;
          return record;
        }
        // Bounded, so a rebalance or a paused partition is looked at again.
        await this.waitForRecords(this.options.maxWaitMs ?? 500);
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
    this.wakeUp();
    // Closing after a record (a break out of the loop) counts it as processed.
    this.markHandled();
    this.stopHeartbeats();
    if (this.commitTimer) clearInterval(this.commitTimer);
    try {
      if (this.options.groupId && this.options.autoCommit !== false) await this.commit();
      // Leaving gives every partition up, as a rebalance would.
      const held = this.subscription.length > 0 ? this.assignment() : [];
      if (held.length > 0) await Promise.resolve(this.options.onPartitionsRevoked?.(held)).catch(() => undefined);
      if (this.options.groupId && this.memberId) await this.groupRequest(13, { groupId: this.options.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'consumer closed' }] }, SHORT_RETRY_MS);
    } catch {
      // Leaving is best effort: the session timeout removes the member otherwise.
    } finally {
      this.left = true;
      this.forgetCoordinator();
      this.cluster.close();
    }
  }
}
