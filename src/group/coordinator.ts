// The group coordinator's shell: owns the pure Group state machines, turns their effects
// into replies to parked requests, drives their clocks, and stores committed offsets and
// group metadata durably in the internal topic __consumer_offsets (partition chosen by
// the group id's Java hash, as Kafka does). The coordinator of a group is the leader of
// that partition; on a single node that is this broker. On start it loads every offsets
// partition it leads before answering (COORDINATOR_LOAD_IN_PROGRESS meanwhile); in a
// cluster, when it becomes the leader of another offsets partition (the old leader failed
// or handed over) it loads that partition's groups the same way, and when it stops leading
// one it forgets its groups and answers their parked requests with NOT_COORDINATOR.

import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors';
import { decodeSubscriptionTopics } from '../../protocol/consumer-protocol';
import { Logger } from '../logger';
import { Effect, Group, GroupLimits, JoinReply, JoinRequest, SyncReply, DEFAULT_GROUP_LIMITS } from './group';
import type { PartitionLog } from '../log/partition-log';
import { OffsetStore, CommittedOffset, OffsetsLog } from './offset-store';

/**
 * The topics a stable "consumer" group's members subscribe to, or null when any member's
 * subscription cannot be read (Kafka then expires none of the group's offsets).
 */
function strictSubscribedTopics(group: Group): Set<string> | null {
  const topics = new Set<string>();
  for (const member of group.members.values()) {
    const metadata = member.protocols.find((p) => p.name === group.protocolName)?.metadata;
    if (!metadata) return null;
    try {
      for (const topic of decodeSubscriptionTopics(metadata)) topics.add(topic);
    } catch {
      return null;
    }
  }
  return topics;
}

/** Java's String.hashCode, so groups land on the partition Kafka would choose. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const hash = javaStringHash(groupId);
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0.
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}

export interface CoordinatorOptions {
  limits?: Partial<GroupLimits>;
  offsetsRetentionMs: number;
  /** How often expired offsets and empty groups without offsets are cleaned up. */
  offsetsRetentionCheckIntervalMs?: number;
  offsetMetadataMaxBytes: number;
  /** Groups this coordinator holds at once; a new group past it is refused. */
  groupsMax?: number;
  /** Partitions with a committed offset in one group; commits for new ones past it are refused. */
  committedOffsetsPerGroupMax?: number;
  tickIntervalMs?: number;
  clock?: () => number;
}

type Waiter = (reply: JoinReply | SyncReply) => void;

/** Defaults of brook.group.coordinator.max.groups and brook.group.max.committed.offsets. */
export const DEFAULT_GROUPS_MAX = 100_000;
export const DEFAULT_COMMITTED_OFFSETS_PER_GROUP_MAX = 100_000;
/** Groups one tick's share of the clean-up pass looks at. */
const CLEANUP_GROUPS_PER_TICK = 100;
/** Default of brook.max.groups.per.request (groups or coordinator keys in one request). */
export const DEFAULT_GROUPS_PER_REQUEST_MAX = 10_000;

/** Which offsets partition a group lives in, given the topic's partition count now. */
export type PartitionOf = (groupId: string) => number;

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly waiters = new Map<number, Waiter>();
  /** requestId -> group, so a partition that moves away answers its groups' parked requests. */
  private readonly waiterGroups = new Map<number, string>();
  /** Offsets partitions being loaded after this broker became their leader. */
  private readonly loading = new Set<number>();
  /** Leadership changes seen before start() (start loads whatever is led by then). */
  private partitionOf: PartitionOf | null = null;
  private readonly early = new Map<number, { leading: boolean; log?: PartitionLog }>();
  private nextRequestId = 1;
  private timer: NodeJS.Timeout | null = null;
  private loaded = false;
  private lastCleanupMs: number;
  /** Groups whose clock may have something to do: members, pending members, a rebalance. */
  private readonly activeGroups = new Set<string>();
  /** Groups the running clean-up pass has still to look at. */
  private cleanupQueue: string[] = [];
  readonly store: OffsetStore;
  private readonly limits: GroupLimits;
  private readonly clock: () => number;

  constructor(
    private readonly log: OffsetsLog,
    private readonly logger: Logger,
    private readonly options: CoordinatorOptions,
  ) {
    this.limits = { ...DEFAULT_GROUP_LIMITS };
    for (const [key, value] of Object.entries(options.limits ?? {}))
      if (value !== undefined) (this.limits as unknown as Record<string, number>)[key] = value;
    this.clock = options.clock ?? Date.now;
    this.store = new OffsetStore(log);
    this.lastCleanupMs = this.clock();
  }

  get groupsMax(): number {
    return this.options.groupsMax ?? DEFAULT_GROUPS_MAX;
  }

  get committedOffsetsPerGroupMax(): number {
    return this.options.committedOffsetsPerGroupMax ?? DEFAULT_COMMITTED_OFFSETS_PER_GROUP_MAX;
  }

  /** Whether a request naming this group may create it (brook.group.coordinator.max.groups). */
  canCreate(groupId: string): boolean {
    const group = this.groups.get(groupId);
    if (group && group.state !== 'Dead') return true;
    return this.groups.size < this.groupsMax;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * This broker became (or stopped being) the leader of an offsets partition. Becoming
   * leader loads the partition's groups; losing it forgets them.
   */
  async onOffsetsLeadership(
    partition: number,
    leading: boolean,
    partitionOf: PartitionOf,
    log?: PartitionLog,
  ): Promise<void> {
    this.partitionOf = partitionOf;
    if (!this.loaded) {
      // start() is still loading: it handles this once it is done.
      this.early.set(partition, { leading, log });
      return;
    }
    const belongs = (groupId: string) => partitionOf(groupId) === partition;
    this.unloadGroups(belongs);
    if (!leading || !log) {
      this.logger.info('offsets partition moved away: its groups unloaded', { partition });
      return;
    }
    this.loading.add(partition);
    try {
      const snapshots = await this.store.load([log]);
      const now = this.clock();
      let count = 0;
      for (const [groupId, snapshot] of snapshots) {
        if (!belongs(groupId)) continue;
        const group = new Group(groupId, now, this.limits);
        group.restore(snapshot, now);
        this.groups.set(groupId, group);
        this.activeGroups.add(groupId);
        count++;
      }
      for (const groupId of this.store.groupIds())
        if (belongs(groupId) && !this.groups.has(groupId))
          this.groups.set(groupId, new Group(groupId, now, this.limits));
      this.logger.info('offsets partition loaded as its new leader', { partition, groups: count });
    } finally {
      this.loading.delete(partition);
    }
  }

  private unloadGroups(belongs: (groupId: string) => boolean): void {
    for (const groupId of [...this.groups.keys()]) if (belongs(groupId)) this.groups.delete(groupId);
    this.store.unload(belongs);
    for (const [requestId, groupId] of [...this.waiterGroups]) {
      if (!belongs(groupId)) continue;
      const waiter = this.waiters.get(requestId);
      this.waiters.delete(requestId);
      this.waiterGroups.delete(requestId);
      waiter?.({
        errorCode: ErrorCode.NOT_COORDINATOR,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: '',
        members: [],
        assignment: Buffer.alloc(0),
      } as JoinReply & SyncReply);
    }
  }

  /** Loads offsets and group metadata from the offsets topic, then starts the clock. */
  async start(): Promise<void> {
    const now = this.clock();
    const initial = this.log.all();
    const snapshots = await this.store.load(initial);
    for (const [groupId, snapshot] of snapshots) {
      const group = new Group(groupId, now, this.limits);
      group.restore(snapshot, now);
      this.groups.set(groupId, group);
      this.activeGroups.add(groupId);
    }
    for (const groupId of this.store.groupIds())
      if (!this.groups.has(groupId)) this.groups.set(groupId, new Group(groupId, now, this.limits));
    this.loaded = true;
    // Leadership that changed while loading: partitions gained are loaded, lost ones dropped.
    const loadedPartitions = new Set(initial.map((l) => l.partition));
    for (const [partition, change] of this.early) {
      if (change.leading && loadedPartitions.has(partition)) continue;
      if (this.partitionOf) await this.onOffsetsLeadership(partition, change.leading, this.partitionOf, change.log);
    }
    this.early.clear();
    for (const problem of this.store.skipped.slice(0, 10))
      this.logger.warn('skipped unreadable offsets record', { problem });
    this.logger.info('group coordinator loaded', { groups: this.groups.size, skipped: this.store.skipped.length });
    const interval = this.options.tickIntervalMs ?? 250;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Shutdown: every parked JoinGroup/SyncGroup is answered so clients look elsewhere. */
  releaseParked(errorCode: number): void {
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    this.waiterGroups.clear();
    for (const waiter of waiters) {
      waiter({
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: '',
        members: [],
        assignment: Buffer.alloc(0),
      } as JoinReply & SyncReply);
    }
  }

  private group(groupId: string, create: boolean): Group | undefined {
    let group = this.groups.get(groupId);
    if ((!group || group.state === 'Dead') && create) {
      group = new Group(groupId, this.clock(), this.limits);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private apply(group: Group, effects: Effect[]): void {
    for (const effect of effects) {
      if (effect.kind === 'persist') {
        this.store.writeGroup(group.groupId, group.snapshot());
        continue;
      }
      const waiter = this.waiters.get(effect.requestId);
      if (!waiter) continue;
      this.waiters.delete(effect.requestId);
      this.waiterGroups.delete(effect.requestId);
      waiter(effect.reply);
    }
  }

  private park<T extends JoinReply | SyncReply>(groupId: string, run: (requestId: number) => void): Promise<T> {
    // Only JoinGroup and SyncGroup give an idle group something for its clock to do.
    this.activeGroups.add(groupId);
    const requestId = this.nextRequestId++;
    return new Promise<T>((resolve) => {
      this.waiters.set(requestId, resolve as Waiter);
      this.waiterGroups.set(requestId, groupId);
      run(requestId);
    });
  }

  /**
   * A group-level error code for requests that cannot be served at all right now. The
   * empty group id is INVALID_GROUP_ID for the membership APIs and OffsetDelete; Kafka
   * serves it, for compatibility, in OffsetCommit, OffsetFetch, DescribeGroups and
   * DeleteGroups (`emptyIdServed`).
   */
  precheck(groupId: string, emptyIdServed = false): number {
    if (!this.loaded) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (groupId === '' && !emptyIdServed) return ErrorCode.INVALID_GROUP_ID;
    if (!this.store.hosts(groupId)) return ErrorCode.NOT_COORDINATOR;
    if (this.partitionOf && this.loading.has(this.partitionOf(groupId))) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  join(groupId: string, request: JoinRequest): Promise<JoinReply> {
    if (!this.canCreate(groupId))
      return Promise.resolve({
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: request.memberId,
        members: [],
      });
    const group = this.group(groupId, true)!;
    const newMemberId = `${request.clientId || 'member'}-${randomUUID()}`;
    return this.park<JoinReply>(groupId, (requestId) =>
      this.apply(group, group.join(request, requestId, this.clock(), newMemberId)),
    );
  }

  sync(groupId: string, request: Parameters<Group['sync']>[0]): Promise<SyncReply> {
    const group = this.group(groupId, false);
    if (!group)
      return Promise.resolve({
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        protocolType: null,
        protocolName: null,
        assignment: Buffer.alloc(0),
      });
    return this.park<SyncReply>(groupId, (requestId) =>
      this.apply(group, group.sync(request, requestId, this.clock())),
    );
  }

  heartbeat(groupId: string, request: Parameters<Group['heartbeat']>[0]): number {
    const group = this.group(groupId, false);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    return group.heartbeat(request, this.clock());
  }

  leave(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    const group = this.group(groupId, false);
    if (!group)
      return {
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    const out = members.map((m) => {
      const { errorCode, effects } = group.leave(m.memberId, m.groupInstanceId, this.clock());
      this.apply(group, effects);
      return { ...m, errorCode };
    });
    return { errorCode: ErrorCode.NONE, members: out };
  }

  /**
   * Validates a commit's membership; the offsets are then stored one by one. As Kafka's
   * coordinator: a commit with no generation creates the (simple) group; one with a
   * generation into an unknown group is GROUP_ID_NOT_FOUND from OffsetCommit v9 and
   * ILLEGAL_GENERATION before.
   */
  commitCheck(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    apiVersion = 0,
  ): number {
    const known = this.groups.get(groupId);
    if (!known || known.state === 'Dead') {
      if (generationId >= 0) return apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      if (!this.canCreate(groupId)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const group = this.group(groupId, true)!;
    return group.canCommit(memberId, groupInstanceId, generationId);
  }

  /** Whether the group has a committed offset for this partition. */
  hasCommittedOffset(groupId: string, topic: string, partition: number): boolean {
    return this.store.offsetsOf(groupId).get(topic)?.has(partition) ?? false;
  }

  /** Partitions with a committed offset in the group. */
  committedOffsetCount(groupId: string): number {
    let count = 0;
    for (const partitions of this.store.offsetsOf(groupId).values()) count += partitions.size;
    return count;
  }

  /** Stores the offsets; returns the offsets log's end offset after the write. */
  commit(groupId: string, offsets: { topic: string; partition: number; offset: CommittedOffset }[]): number {
    return this.store.commit(groupId, offsets);
  }

  fetchOffsets(groupId: string): Map<string, Map<number, CommittedOffset>> {
    return this.store.offsetsOf(groupId);
  }

  listGroups(): { groupId: string; protocolType: string; state: string }[] {
    return [...this.groups.values()]
      .filter((g) => g.state !== 'Dead')
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  describe(groupId: string): Group | undefined {
    const group = this.groups.get(groupId);
    return group && group.state !== 'Dead' ? group : undefined;
  }

  /** DeleteGroups: only empty groups; their offsets and metadata are tombstoned. */
  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId);
    if (!group || group.state === 'Dead')
      return this.store.groupIds().includes(groupId) ? this.dropOffsetsOnly(groupId) : ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    group.state = 'Dead';
    this.store.deleteGroup(groupId);
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  private dropOffsetsOnly(groupId: string): number {
    this.store.deleteGroup(groupId);
    return ErrorCode.NONE;
  }

  /** OffsetDelete: refused for partitions the group still consumes while it has members. */
  deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
    subscribedTopics: Set<string>,
  ): { groupError: number; results: number[] } {
    const group = this.groups.get(groupId);
    if (!group && !this.store.groupIds().includes(groupId))
      return { groupError: ErrorCode.GROUP_ID_NOT_FOUND, results: [] };
    // Kafka: a group with members that does not use the consumer protocol cannot say which
    // topics it consumes, so none of its offsets may be deleted.
    if (group && group.state !== 'Empty' && group.protocolType !== 'consumer')
      return { groupError: ErrorCode.NON_EMPTY_GROUP, results: [] };
    const deletable: { topic: string; partition: number }[] = [];
    const results = partitions.map(({ topic, partition }) => {
      if (group && group.state !== 'Empty' && subscribedTopics.has(topic)) return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
      deletable.push({ topic, partition });
      return ErrorCode.NONE;
    });
    // One batch of tombstones for the offsets that exist, as Kafka writes them.
    this.store.deleteOffsets(groupId, deletable);
    return { groupError: ErrorCode.NONE, results };
  }

  tick(): void {
    const now = this.clock();
    for (const groupId of this.activeGroups) {
      const group = this.groups.get(groupId);
      if (!group || group.idle) {
        this.activeGroups.delete(groupId);
        continue;
      }
      // Runs from a timer and may write to the offsets log: a failure is this group's, logged,
      // and the next tick tries again.
      try {
        this.apply(group, group.tick(now));
      } catch (error) {
        this.logger.error('group timer step failed', { group: group.groupId, error: String(error) });
      }
    }
    // The clean-up pass walks every group, a slice per tick, so that many groups do not
    // stall the event loop at once.
    if (this.cleanupQueue.length === 0) {
      if (now - this.lastCleanupMs < (this.options.offsetsRetentionCheckIntervalMs ?? 600_000)) return;
      this.lastCleanupMs = now;
      this.cleanupQueue = [...this.groups.keys()];
    }
    for (const groupId of this.cleanupQueue.splice(0, CLEANUP_GROUPS_PER_TICK)) {
      const group = this.groups.get(groupId);
      if (!group) continue;
      try {
        this.cleanup(group, now);
      } catch (error) {
        this.logger.error('offsets clean-up failed', { group: groupId, error: String(error) });
      }
    }
  }

  /**
   * offsets.retention.minutes, as Kafka's classic groups apply it: the offsets of a group
   * that never had members (a simple group: admin tools, assign() consumers) expire one by
   * one, that long after their own commit; those of an empty group with a protocol all
   * expire that long after it emptied; a stable "consumer" group's offsets for topics none
   * of its members subscribes to expire that long after their commit (KIP-496); any other
   * group keeps them. An empty group left with no offsets is removed (its record
   * tombstoned), as Kafka's clean-up does.
   */
  private cleanup(group: Group, now: number): void {
    let since: ((topic: string, committed: CommittedOffset) => number | null) | null = null;
    if (group.state === 'Empty')
      since = (_topic, committed) => (group.protocolType === null ? committed.commitTimestampMs : group.emptySinceMs);
    else if (group.state === 'Stable' && group.protocolType === 'consumer') {
      const subscribed = strictSubscribedTopics(group);
      if (subscribed) since = (topic, committed) => (subscribed.has(topic) ? null : committed.commitTimestampMs);
    }
    if (!since) return;
    const retentionMs = this.options.offsetsRetentionMs;
    const expired: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of this.store.offsetsOf(group.groupId))
      for (const [partition, committed] of partitions) {
        const from = since(topic, committed);
        if (from === null) continue;
        // A retention time sent with the commit (OffsetCommit v2-4) replaces the broker's, as in Kafka.
        const expireAt = committed.expireTimestampMs ?? from + retentionMs;
        if (now >= expireAt) expired.push({ topic, partition });
      }
    if (expired.length > 0)
      this.logger.info('committed offsets expired', { group: group.groupId, partitions: expired.length });
    if (
      group.state === 'Empty' &&
      this.committedOffsetCount(group.groupId) === expired.length &&
      !group.hasPendingMembers()
    ) {
      // The group dies: its expired offsets' tombstones and its metadata tombstone go in
      // one batch, as Kafka's cleanupGroupMetadata writes them.
      group.state = 'Dead';
      this.store.deleteGroup(group.groupId);
      this.groups.delete(group.groupId);
    } else if (expired.length > 0) this.store.deleteOffsets(group.groupId, expired);
  }
}
