// The bundled consumer. Partitions come either from assign() (standalone) or from group
// membership (subscribe() with a group id: JoinGroup, SyncGroup with the leader's
// assignment by the range or round-robin assignor, heartbeats, LeaveGroup on close).
// Records are fetched from each partition's leader with long-poll fetches, one in flight
// per leader, and handed out through an async iterator. Positions start from the group's
// committed offset, else auto.offset.reset (earliest or latest); offsets are committed
// automatically every auto.commit.interval.ms and on close (at least once: a record is
// committed only after the iterator has handed it out and been asked for the next one),
// or by hand with commit().

import { ErrorCode } from '../../protocol/errors';
import { Reader, Writer } from '../../protocol/primitives';
import { RecordBatchView, RecordHeader, splitBatches } from '../../protocol/record-batch';
import { BrokerConnection, ClientOptions, Cluster, KafkaError } from './cluster';

export interface ConsumerOptions extends ClientOptions {
  groupId?: string;
  /** Where to start without a committed offset (default 'latest', as in Kafka). */
  autoOffsetReset?: 'earliest' | 'latest';
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** 'range' (default) or 'roundrobin'. */
  assignor?: 'range' | 'roundrobin';
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

interface Position {
  topic: string;
  partition: number;
  /** Next offset to fetch; -1 while it is being looked up. */
  offset: number;
  paused: boolean;
  reset?: 'earliest' | 'latest' | { timestamp: number };
}

/** The consumer protocol's subscription and assignment (version 0) bytes. */
export function encodeSubscription(topics: string[]): Buffer {
  const writer = new Writer(64).int16(0).int32(topics.length);
  for (const topic of [...topics].sort()) writer.string(topic);
  return writer.nullableBytes(null).toBuffer();
}

export function decodeSubscription(bytes: Buffer): string[] {
  const reader = new Reader(bytes);
  reader.int16();
  const count = reader.arrayLength(2) ?? 0;
  return Array.from({ length: count }, () => reader.string());
}

export function encodeAssignment(partitions: Map<string, number[]>): Buffer {
  const writer = new Writer(64).int16(0).int32(partitions.size);
  for (const [topic, list] of [...partitions].sort(([a], [b]) => a.localeCompare(b))) {
    writer.string(topic).int32(list.length);
    for (const p of list) writer.int32(p);
  }
  return writer.nullableBytes(null).toBuffer();
}

export function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (bytes.length === 0) return out;
  const reader = new Reader(bytes);
  reader.int16();
  const count = reader.arrayLength(6) ?? 0;
  for (let i = 0; i < count; i++) {
    const topic = reader.string();
    const n = reader.arrayLength(4) ?? 0;
    out.set(topic, Array.from({ length: n }, () => reader.int32()));
  }
  return out;
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
  private readonly buffered: ConsumerRecord[] = [];
  private readonly consumed = new Map<string, number>();
  private readonly committedUpTo = new Map<string, number>();
  private subscription: string[] = [];
  private memberId = '';
  private generationId = -1;
  private coordinator: number | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private rejoinNeeded = false;
  private lastHanded: ConsumerRecord | null = null;
  private closed = false;

  constructor(private readonly options: ConsumerOptions) {
    this.cluster = new Cluster(options);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Standalone consumption of these partitions (no group membership). */
  assign(partitions: TopicPartitionOffset[]): void {
    this.positions.clear();
    this.buffered.length = 0;
    for (const p of partitions) {
      const known = typeof p.offset === 'number' ? p.offset : -1;
      this.positions.set(this.key(p.topic, p.partition), { topic: p.topic, partition: p.partition, offset: known, paused: false, reset: typeof p.offset === 'number' ? undefined : p.offset });
    }
  }

  assignment(): { topic: string; partition: number }[] {
    return [...this.positions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Group consumption of these topics (needs groupId). */
  async subscribe(topics: string[]): Promise<void> {
    if (!this.options.groupId) throw new Error('subscribe() needs a groupId; use assign() for standalone consumption');
    this.subscription = [...topics];
    await this.joinGroup();
  }

  seek(topic: string, partition: number, offset: number): void {
    const position = this.positions.get(this.key(topic, partition));
    if (!position) throw new Error(`${topic}-${partition} is not assigned to this consumer`);
    position.offset = offset;
    for (let i = this.buffered.length - 1; i >= 0; i--) if (this.buffered[i].topic === topic && this.buffered[i].partition === partition) this.buffered.splice(i, 1);
  }

  pause(partitions: { topic: string; partition: number }[]): void {
    for (const p of partitions) {
      const position = this.positions.get(this.key(p.topic, p.partition));
      if (position) position.paused = true;
    }
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    for (const p of partitions) {
      const position = this.positions.get(this.key(p.topic, p.partition));
      if (position) position.paused = false;
    }
  }

  // ---- group membership -------------------------------------------------------------

  private async coordinatorBroker(): Promise<BrokerConnection> {
    const groupId = this.options.groupId!;
    const deadline = Date.now() + (this.options.requestTimeoutMs ?? 30_000);
    for (;;) {
      if (this.coordinator !== null) {
        try {
          return await this.cluster.broker(this.coordinator);
        } catch {
          this.coordinator = null;
        }
      }
      const broker = await this.cluster.anyBroker();
      const answer = await broker.request(10, { key: groupId, keyType: 0, coordinatorKeys: [groupId] }, { cap: 3 });
      if (answer.errorCode === ErrorCode.NONE) {
        if (!this.cluster.brokers.has(answer.nodeId)) await this.cluster.refreshMetadata([]);
        this.coordinator = answer.nodeId;
        continue;
      }
      if (Date.now() > deadline) throw new KafkaError(answer.errorCode, `FindCoordinator for group ${groupId}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Calls the coordinator; NOT_COORDINATOR and the like find it again and retry. */
  private async groupRequest(apiKey: number, body: Record<string, unknown>): Promise<any> {
    for (let attempt = 0; ; attempt++) {
      const broker = await this.coordinatorBroker();
      let answer: any;
      try {
        answer = await broker.request(apiKey, body);
      } catch (error) {
        this.coordinator = null;
        if (attempt >= 5) throw error;
        continue;
      }
      const code = answer.errorCode ?? ErrorCode.NONE;
      if ((code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) && attempt < 10) {
        this.coordinator = null;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      return answer;
    }
  }

  private async joinGroup(): Promise<void> {
    const groupId = this.options.groupId!;
    const assignor = this.options.assignor ?? 'range';
    this.stopHeartbeats();
    await this.commitConsumed().catch(() => undefined);
    for (let attempt = 0; attempt < 20; attempt++) {
      const join = await this.groupRequest(11, {
        groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 60_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: assignor, metadata: encodeSubscription(this.subscription) }],
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
      this.generationId = join.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (join.leader === join.memberId) {
        const members = (join.members as { memberId: string; metadata: Buffer }[]).map((m) => ({ memberId: m.memberId, topics: decodeSubscription(m.metadata) }));
        const topics = [...new Set(members.flatMap((m) => m.topics))];
        await this.cluster.refreshMetadata(topics);
        const plan = assignPartitions(assignor, members, (t) => this.cluster.topics.get(t)?.partitions.length ?? 0);
        assignments = [...plan].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment(partitions) }));
      }
      const sync = await this.groupRequest(14, { groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: assignor, assignments });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== ErrorCode.NONE) throw new KafkaError(sync.errorCode, `SyncGroup ${groupId}`);
      await this.takeAssignment(decodeAssignment(sync.assignment));
      this.startHeartbeats();
      return;
    }
    throw new Error(`could not join group ${groupId}: the group kept rebalancing`);
  }

  /** New partitions start from the committed offsets (or auto.offset.reset). */
  private async takeAssignment(assigned: Map<string, number[]>): Promise<void> {
    const partitions: TopicPartitionOffset[] = [];
    for (const [topic, list] of assigned) for (const partition of list) partitions.push({ topic, partition });
    this.assign(partitions);
    this.consumed.clear();
    this.committedUpTo.clear();
    if (partitions.length === 0) return;
    const answer = await this.groupRequest(9, {
      groupId: this.options.groupId,
      topics: [...assigned].map(([name, list]) => ({ name, partitionIndexes: list })),
      groups: [{ groupId: this.options.groupId, topics: [...assigned].map(([name, list]) => ({ name, partitionIndexes: list })) }],
      requireStable: false,
    });
    const topics = answer.groups ? answer.groups[0].topics : answer.topics;
    for (const t of topics ?? []) {
      for (const p of t.partitions) {
        const position = this.positions.get(this.key(t.name, p.partitionIndex));
        if (position && p.errorCode === ErrorCode.NONE && Number(p.committedOffset) >= 0) position.offset = Number(p.committedOffset);
      }
    }
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

  private async heartbeat(): Promise<void> {
    try {
      const answer = await this.groupRequest(12, { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null });
      if (answer.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || answer.errorCode === ErrorCode.ILLEGAL_GENERATION || answer.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        if (answer.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        this.rejoinNeeded = true;
      }
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
    const standalone = this.generationId < 0;
    const answer = await this.groupRequest(8, {
      groupId: this.options.groupId,
      generationIdOrMemberEpoch: standalone ? -1 : this.generationId,
      memberId: standalone ? '' : this.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of answer.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || p.errorCode === ErrorCode.ILLEGAL_GENERATION || p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.rejoinNeeded = true;
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
    await this.cluster.refreshMetadata([...new Set(unknown.map((p) => p.topic))]);
    const byLeader = new Map<number, Position[]>();
    for (const p of unknown) {
      const leader = this.cluster.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) continue;
      if (!byLeader.has(leader)) byLeader.set(leader, []);
      byLeader.get(leader)!.push(p);
    }
    await Promise.all([...byLeader].map(async ([leader, positions]) => {
      const broker = await this.cluster.broker(leader);
      const byTopic = new Map<string, Position[]>();
      for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
      const answer = await broker.request(2, {
        replicaId: -1,
        isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
        topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: this.listOffsetsTimestamp(p.reset), maxNumOffsets: 1 })) })),
      }, { cap: 7 });
      for (const t of answer.topics) {
        for (const r of t.partitions) {
          const position = this.positions.get(this.key(t.name, r.partitionIndex));
          if (!position || r.errorCode !== ErrorCode.NONE || position.offset >= 0) continue;
          // No record at or after the timestamp: start at the end.
          if (Number(r.offset) >= 0) position.offset = Number(r.offset);
          else position.reset = 'latest';
        }
      }
    }));
  }

  private listOffsetsTimestamp(reset: Position['reset']): number {
    const how = reset ?? this.options.autoOffsetReset ?? 'latest';
    if (typeof how === 'object') return how.timestamp;
    return how === 'earliest' ? -2 : -1;
  }

  /** The log end offsets (high watermarks) of the assigned partitions, now. */
  async endOffsets(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const probe = new Consumer({ ...this.options, groupId: undefined });
    try {
      probe.assign(this.assignment().map((p) => ({ ...p, offset: 'latest' as const })));
      await probe.resolvePositions();
      for (const p of probe.positions.values()) out.set(`${p.topic}-${p.partition}`, p.offset);
    } finally {
      probe.cluster.close();
    }
    return out;
  }

  /** Records fetched and not handed out yet. */
  get bufferedCount(): number {
    return this.buffered.length;
  }

  /** The next offset to fetch of an assigned partition (-1 while not known yet). */
  position(topic: string, partition: number): number {
    return this.positions.get(this.key(topic, partition))?.offset ?? -1;
  }

  /** One round: a long-poll fetch to every leader of an assigned, unpaused partition. */
  private async fetchRound(): Promise<void> {
    if (this.rejoinNeeded && this.options.groupId && this.subscription.length > 0) {
      this.rejoinNeeded = false;
      await this.joinGroup();
    }
    await this.resolvePositions();
    const ready = [...this.positions.values()].filter((p) => p.offset >= 0 && !p.paused);
    if (ready.length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    const byLeader = new Map<number, Position[]>();
    let missingLeader = false;
    for (const p of ready) {
      const leader = this.cluster.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) {
        missingLeader = true;
        continue;
      }
      if (!byLeader.has(leader)) byLeader.set(leader, []);
      byLeader.get(leader)!.push(p);
    }
    if (missingLeader) await this.cluster.refreshMetadata([...new Set(ready.map((p) => p.topic))]).catch(() => undefined);
    await Promise.all([...byLeader].map(([leader, positions]) => this.fetchFrom(leader, positions)));
  }

  private async fetchFrom(leader: number, positions: Position[]): Promise<void> {
    let broker: BrokerConnection;
    try {
      broker = await this.cluster.broker(leader);
    } catch {
      await this.cluster.refreshMetadata(null).catch(() => undefined);
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
        isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.options.maxPartitionBytes ?? 1048576 })) })),
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
        if (!position) continue;
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
        const fetchedFrom = position.offset;
        for (const batch of splitBatches(bytes).batches) {
          const view = new RecordBatchView(batch);
          if (view.lastOffset < position.offset) continue;
          if (!view.isControl) {
            for (const r of await view.records()) {
              if (r.offset < position.offset) continue;
              this.buffered.push({ topic: t.topic, partition: p.partitionIndex, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
            }
          }
          // A seek during decoding wins over the fetched position.
          if (position.offset === fetchedFrom || position.offset <= view.lastOffset) position.offset = view.lastOffset + 1;
        }
      }
    }
    if (refresh) await this.cluster.refreshMetadata(null).catch(() => undefined);
  }

  /** The next record, waiting for one (null once closed). */
  async next(): Promise<ConsumerRecord | null> {
    // Asking for the next record means the previous one is done with: it may be committed.
    if (this.lastHanded) this.consumed.set(this.key(this.lastHanded.topic, this.lastHanded.partition), this.lastHanded.offset + 1);
    this.lastHanded = null;
    while (!this.closed) {
      const record = this.buffered.shift();
      if (record) {
        this.lastHanded = record;
        return record;
      }
      await this.fetchRound();
    }
    return null;
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
    // Closing after a record (a break out of the loop) counts it as processed.
    if (this.lastHanded) this.consumed.set(this.key(this.lastHanded.topic, this.lastHanded.partition), this.lastHanded.offset + 1);
    this.stopHeartbeats();
    if (this.commitTimer) clearInterval(this.commitTimer);
    try {
      if (this.options.groupId && this.options.autoCommit !== false) await this.commit();
      if (this.options.groupId && this.memberId) await this.groupRequest(13, { groupId: this.options.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'consumer closed' }] });
    } catch {
      // Leaving is best effort: the session timeout removes the member otherwise.
    } finally {
      this.cluster.close();
    }
  }
}
