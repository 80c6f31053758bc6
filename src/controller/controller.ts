// The active controller's decisions, as pure logic over the metadata image: broker
// registration and heartbeats, fencing of brokers whose session expired or whose
// heartbeat connection closed for longer than the disconnect grace (and leaving every
// ISR), unfencing once a broker has caught up, topic creation with replica
// placement, topic deletion, partition growth, partition leader election, and producer id
// blocks. Each call returns the records to append through Raft plus the answer to give
// once they commit; nothing here touches the image (records change it when replayed).
// Heartbeat times are soft state held only by the active controller, as in KRaft.

import { ErrorCode } from '../../protocol/errors';
import { MetadataRecordInput } from '../../protocol/metadata/records';
import { ZERO_TOPIC_ID, collidingTopic, validateTopicName } from '../../protocol/topic-names';
import { partitionDirNameFits } from '../log/on-disk-names';
import { BrokerEndpoint, MetadataImage, PartitionInfo } from './metadata-image';
import type { AclBinding, AclFilter } from '../security/acl';
import { AclCreateResult, AclDeleteResult, AclSettings, createAcls, DEFAULT_ACLS_MAX, deleteAcls } from './acls';
import {
  AlterScramResult,
  alterScramCredentials,
  bootstrapScramRecords,
  DEFAULT_SCRAM_USERS_MAX,
  ScramDeletion,
  ScramSettings,
  ScramUpsertion,
} from './scram-users';
import {
  AlterQuotaResult,
  alterClientQuotas,
  ClientQuotaSettings,
  DEFAULT_CLIENT_QUOTA_ENTITIES_MAX,
  QuotaAlteration,
} from './client-quotas';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
const NO_LEADER = -1;
const UNCHANGED = -2;

export interface ControllerSettings {
  brokerSessionTimeoutMs: number;
  defaultPartitions: number;
  defaultReplicationFactor: number;
  /** Automatic preferred-leader election (auto.leader.rebalance.enable); off when absent. */
  leaderRebalance?: { enabled: boolean; intervalMs: number; imbalancePercentage: number };
  /** Partitions in the whole cluster (brook.max.partitions); unbounded when absent. */
  maxPartitions?: number;
  /** Partition replicas one broker may host (brook.max.broker.partitions); unbounded when absent. */
  maxBrokerPartitions?: number;
  /**
   * brook.broker.disconnect.grace.ms: a broker whose heartbeat connection to the active
   * controller closed, and which has not heartbeated on a new one this long after, is fenced
   * without waiting for its session to expire. Off when absent or not positive.
   */
  brokerDisconnectGraceMs?: number;
  /** SCRAM user limits and bootstrap users; defaults and none when absent. */
  scram?: Partial<ScramSettings>;
  /** ACL limits (brook.max.acls, brook.max.acls.per.request); defaults when absent. */
  acls?: Partial<AclSettings>;
  /** Client quota limits; defaults when absent. */
  clientQuotas?: Partial<ClientQuotaSettings>;
}

/** What the cluster holds now, for the partition limits: partitions, and replicas per broker. */
interface PartitionCounts {
  total: number;
  perBroker: Map<number, number>;
}

/** One partition's answer to a reassignment request. */
export interface ReassignmentResult {
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
}

/** A reassignment in progress, as ListPartitionReassignments reports it. */
export interface OngoingReassignment {
  topic: string;
  partitionIndex: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** ElectLeaders election types (Kafka's ElectionType). */
export const ELECTION_PREFERRED = 0;
export const ELECTION_UNCLEAN = 1;

/** One partition's answer to ElectLeaders. */
export interface ElectionResult {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

/** ElectLeaders' answer, by topic. */
export type ElectionResults = { topic: string; partitionResult: ElectionResult[] }[];

export interface Decision<T> {
  records: MetadataRecordInput[];
  result: T;
}

export interface TopicRequest {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
  /** Manual assignment: replicas per partition. */
  assignments?: number[][];
}

export interface TopicResult {
  name: string;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

/** Deterministic PRNG (mulberry32) for placement start points. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Controller {
  /** brokerId -> last heartbeat time (soft state of the active controller). */
  private readonly lastHeartbeatMs = new Map<number, number>();
  private nextBrokerEpoch = 1;
  private lastRebalanceMs = -1;
  /**
   * brokerId -> when it is fenced unless it heartbeats on a live connection first: its
   * heartbeat connection to this controller closed (soft state of the active controller,
   * like the heartbeat times).
   */
  private readonly reconnectDeadlineMs = new Map<number, number>();

  constructor(
    private readonly image: MetadataImage,
    private readonly settings: ControllerSettings,
    private readonly random: () => number,
    private readonly newTopicId: () => string,
  ) {}

  /** Called when this node becomes the active controller: every broker gets a fresh session. */
  activate(nowMs: number): void {
    this.lastHeartbeatMs.clear();
    // Connections closed while another controller was active say nothing about the brokers.
    this.reconnectDeadlineMs.clear();
    for (const broker of this.image.brokers.values()) this.lastHeartbeatMs.set(broker.brokerId, nowMs);
    for (const broker of this.image.brokers.values())
      this.nextBrokerEpoch = Math.max(this.nextBrokerEpoch, broker.brokerEpoch + 1);
  }

  registerBroker(
    request: { brokerId: number; incarnationId: string; endPoints: BrokerEndpoint[]; rack: string | null },
    nowMs: number,
  ): Decision<{ errorCode: number; brokerEpoch: number }> {
    const existing = this.image.brokers.get(request.brokerId);
    const last = this.lastHeartbeatMs.get(request.brokerId);
    if (
      existing &&
      existing.incarnationId !== request.incarnationId &&
      !existing.fenced &&
      last !== undefined &&
      nowMs - last < this.settings.brokerSessionTimeoutMs
    ) {
      // Another live process holds this broker id.
      return { records: [], result: { errorCode: ErrorCode.DUPLICATE_BROKER_REGISTRATION, brokerEpoch: -1 } };
    }
    const brokerEpoch = this.nextBrokerEpoch++;
    this.lastHeartbeatMs.set(request.brokerId, nowMs);
    return {
      records: [{ type: 'RegisterBroker', data: { ...request, brokerEpoch, fenced: true } }],
      result: { errorCode: ErrorCode.NONE, brokerEpoch },
    };
  }

  /**
   * The heartbeat connection of `brokerId` to this (active) controller closed. Unless the
   * broker heartbeats on a new connection within the grace (brokerConnected), tick() fences
   * it then, as if its session had expired. Ignored when the grace is off, for a broker that
   * is not registered or already fenced (a controlled shutdown fenced it before it closed).
   */
  brokerDisconnected(brokerId: number, nowMs: number): void {
    this.awaitReconnect(brokerId, nowMs + this.disconnectGraceMs);
  }

  /**
   * Called on activation for the previous active controller's broker: its heartbeats were
   * answered in process, so no closed connection will tell of its death. Alive, it finds
   * this controller and heartbeats here within one heartbeat interval (`intervalMs`); if it
   * has not done so by then plus the grace, it is fenced as a disconnected broker is.
   */
  expectReconnect(brokerId: number, nowMs: number, intervalMs: number): void {
    this.awaitReconnect(brokerId, nowMs + intervalMs + this.disconnectGraceMs);
  }

  private awaitReconnect(brokerId: number, deadlineMs: number): void {
    if (!this.disconnectGraceMs) return;
    if (this.image.brokers.get(brokerId)?.fenced !== false) return;
    if (!this.reconnectDeadlineMs.has(brokerId)) this.reconnectDeadlineMs.set(brokerId, deadlineMs);
  }

  /** `brokerId` spoke on a live heartbeat connection: it is connected (again). */
  brokerConnected(brokerId: number): void {
    this.reconnectDeadlineMs.delete(brokerId);
  }

  /** When the disconnected broker `brokerId` is due to be fenced; undefined when it is not disconnected. */
  disconnectDeadline(brokerId: number): number | undefined {
    return this.disconnectGraceMs ? this.reconnectDeadlineMs.get(brokerId) : undefined;
  }

  private get disconnectGraceMs(): number {
    return Math.max(0, this.settings.brokerDisconnectGraceMs ?? 0);
  }

  /**
   * A broker heartbeat. A fenced broker is unfenced once its metadata offset has reached
   * the record that registered it (it has caught up to its own registration).
   */
  heartbeat(
    request: {
      brokerId: number;
      brokerEpoch: number;
      currentMetadataOffset: number;
      wantFence: boolean;
      wantShutDown: boolean;
    },
    nowMs: number,
  ): Decision<{ errorCode: number; isCaughtUp: boolean; isFenced: boolean; shouldShutDown: boolean }> {
    const broker = this.image.brokers.get(request.brokerId);
    if (!broker)
      return {
        records: [],
        result: {
          errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
          isCaughtUp: false,
          isFenced: true,
          shouldShutDown: false,
        },
      };
    if (broker.brokerEpoch !== request.brokerEpoch)
      return {
        records: [],
        result: { errorCode: ErrorCode.STALE_BROKER_EPOCH, isCaughtUp: false, isFenced: true, shouldShutDown: false },
      };
    this.lastHeartbeatMs.set(request.brokerId, nowMs);
    const caughtUp = request.currentMetadataOffset >= broker.registeredAtOffset;
    const records: MetadataRecordInput[] = [];
    let fenced = broker.fenced;
    if (request.wantShutDown || request.wantFence) {
      if (!broker.fenced) records.push(...this.fenceRecords(request.brokerId, broker.brokerEpoch));
      fenced = true;
    } else if (broker.fenced && caughtUp) {
      records.push({ type: 'UnfenceBroker', data: { id: broker.brokerId, epoch: broker.brokerEpoch } });
      // Leaderless partitions whose ISR still names this broker get it back as leader.
      for (const topic of this.image.topicsById.values()) {
        for (const partition of topic.partitions.values()) {
          if (partition.leader === NO_LEADER && partition.isr.includes(broker.brokerId)) {
            records.push({
              type: 'PartitionChange',
              data: { topicId: topic.topicId, partitionId: partition.partitionId, isr: null, leader: broker.brokerId },
            });
          }
        }
      }
      fenced = false;
    }
    return {
      records,
      result: {
        errorCode: ErrorCode.NONE,
        isCaughtUp: caughtUp,
        isFenced: fenced,
        shouldShutDown: request.wantShutDown,
      },
    };
  }

  /**
   * Fences a broker whose session expired, or whose heartbeat connection closed and stayed
   * away longer than the disconnect grace; returns the records (fence + ISR shrinks). One
   * broker per call: each fencing's partition changes are computed from the image, which
   * must already hold the previous fencing's (the next tick handles the next broker).
   */
  tick(nowMs: number): MetadataRecordInput[] {
    for (const id of this.reconnectDeadlineMs.keys())
      if (this.image.brokers.get(id)?.fenced !== false) this.reconnectDeadlineMs.delete(id);
    for (const broker of this.image.brokers.values()) {
      if (broker.fenced) continue;
      const last = this.lastHeartbeatMs.get(broker.brokerId) ?? nowMs;
      if (!this.lastHeartbeatMs.has(broker.brokerId)) this.lastHeartbeatMs.set(broker.brokerId, nowMs);
      const deadline = this.disconnectDeadline(broker.brokerId);
      if (nowMs - last > this.settings.brokerSessionTimeoutMs || (deadline !== undefined && nowMs >= deadline)) {
        // The broker is gone for good here: fenced now, it is unfenced again only by the
        // normal path (it registers or heartbeats, catches up, and is unfenced).
        this.reconnectDeadlineMs.delete(broker.brokerId);
        return this.fenceRecords(broker.brokerId, broker.brokerEpoch);
      }
    }
    const finished = this.completeReassignments();
    if (finished.length > 0) return finished;
    return this.rebalanceLeaders(nowMs);
  }

  /**
   * Preferred-leader election, as auto.leader.rebalance.enable does in Kafka: every check
   * interval, for each broker whose share of partitions that prefer it (it is their first
   * replica) but are led elsewhere exceeds leader.imbalance.per.broker.percentage, those
   * partitions move their leadership back to it when it is unfenced and in their ISR.
   */
  rebalanceLeaders(nowMs: number, force = false): MetadataRecordInput[] {
    const settings = this.settings.leaderRebalance;
    if (
      !force &&
      (!settings?.enabled || (this.lastRebalanceMs >= 0 && nowMs - this.lastRebalanceMs < settings.intervalMs))
    )
      return [];
    if (this.lastRebalanceMs < 0 && !force) {
      // The first check comes one interval after this controller took over.
      this.lastRebalanceMs = nowMs;
      return [];
    }
    this.lastRebalanceMs = nowMs;
    const preferred = new Map<number, { total: number; misplaced: PartitionInfo[] }>();
    for (const topic of this.image.topicsById.values()) {
      for (const partition of topic.partitions.values()) {
        const first = partition.replicas[0];
        if (first === undefined || partition.addingReplicas.length > 0 || partition.removingReplicas.length > 0)
          continue;
        const entry = preferred.get(first) ?? { total: 0, misplaced: [] };
        entry.total++;
        if (partition.leader !== first) entry.misplaced.push(partition);
        preferred.set(first, entry);
      }
    }
    const records: MetadataRecordInput[] = [];
    const threshold = force ? 0 : (settings?.imbalancePercentage ?? 10);
    for (const [brokerId, { total, misplaced }] of preferred) {
      if (misplaced.length === 0 || (misplaced.length * 100) / total <= threshold) continue;
      if (this.image.brokers.get(brokerId)?.fenced !== false) continue;
      for (const partition of misplaced) {
        if (!partition.isr.includes(brokerId)) continue;
        records.push({
          type: 'PartitionChange',
          data: { topicId: partition.topicId, partitionId: partition.partitionId, isr: null, leader: brokerId },
        });
      }
    }
    return records;
  }

  /**
   * AlterPartitionReassignments: each partition's replicas become `replicas` (null cancels
   * the reassignment in progress). As in Kafka (KIP-455), the partition first holds the
   * union of old and new replicas, with the new ones as adding and the dropped ones as
   * removing; once every target replica is in the ISR the change completes: the replicas
   * become the target, the ISR loses the removed ones and a removed leader hands over to
   * a target replica in the ISR.
   */
  alterPartitionReassignments(
    topics: { name: string; partitions: { partitionIndex: number; replicas: number[] | null }[] }[],
  ): Decision<{ name: string; partitions: ReassignmentResult[] }[]> {
    const records: MetadataRecordInput[] = [];
    const results = topics.map((request) => {
      const topic = this.image.topicsByName.get(request.name);
      const partitions = request.partitions.map((p): ReassignmentResult => {
        const answer = (errorCode: number, errorMessage: string | null = null) => ({
          partitionIndex: p.partitionIndex,
          errorCode,
          errorMessage,
        });
        const partition = topic?.partitions.get(p.partitionIndex);
        if (!topic || !partition)
          return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${request.name}-${p.partitionIndex}`);
        const original = partition.replicas.filter((id) => !partition.addingReplicas.includes(id));
        if (p.replicas === null) {
          if (partition.addingReplicas.length === 0 && partition.removingReplicas.length === 0)
            return answer(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, 'no reassignment in progress for this partition');
          records.push(this.finishRecord(partition, original));
          return answer(ErrorCode.NONE);
        }
        const target = p.replicas;
        if (target.length === 0) return answer(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'the replica list is empty');
        if (new Set(target).size !== target.length)
          return answer(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'a broker appears twice in the replica list');
        const unknown = target.filter((id) => this.image.brokers.get(id)?.fenced !== false);
        if (unknown.length > 0)
          return answer(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `broker(s) ${unknown.join(', ')} not registered or fenced`,
          );
        const adding = target.filter((id) => !original.includes(id));
        const removing = original.filter((id) => !target.includes(id));
        if (adding.length === 0 && target.every((id) => partition.isr.includes(id))) {
          // Only removals or a new order: nothing to copy, done at once.
          records.push(this.finishRecord(partition, target));
          return answer(ErrorCode.NONE);
        }
        records.push({
          type: 'PartitionChange',
          data: {
            topicId: partition.topicId,
            partitionId: partition.partitionId,
            isr: null,
            leader: UNCHANGED,
            replicas: [...target, ...removing],
            addingReplicas: adding,
            removingReplicas: removing,
          },
        });
        return answer(ErrorCode.NONE);
      });
      return { name: request.name, partitions };
    });
    return { records, result: results };
  }

  /**
   * ElectLeaders, as Kafka's ReplicationControlManager.electLeaders with its
   * PartitionChangeBuilder. Preferred (type 0): the first replica becomes the leader when it
   * is an unfenced ISR member; ELECTION_NOT_NEEDED when it leads already;
   * PREFERRED_LEADER_NOT_AVAILABLE when it cannot lead and the current leader stays (a
   * partition whose leader cannot lead moves to another live ISR member instead, as Kafka's
   * builder does). Unclean (type 1): only for a partition without a leader
   * (ELECTION_NOT_NEEDED otherwise): a live ISR member if there is one, else the first live
   * replica outside the ISR, which becomes the whole ISR (committed records it lacks are
   * lost, which is what an operator asks for here); ELIGIBLE_LEADERS_NOT_AVAILABLE when no
   * replica is live. `topicPartitions` null means every partition; then partitions that need
   * no election are left out of the answer, as Kafka leaves them out.
   */
  electLeaders(
    electionType: number,
    topicPartitions: { topic: string; partitions: number[] }[] | null,
  ): Decision<ElectionResults> {
    const records: MetadataRecordInput[] = [];
    if (topicPartitions === null) {
      const results: ElectionResults = [];
      const names = [...this.image.topicsByName.keys()].sort();
      for (const name of names) {
        const topic = this.image.topicsByName.get(name)!;
        const partitionResult: ElectionResult[] = [];
        for (const partitionId of [...topic.partitions.keys()].sort((a, b) => a - b)) {
          const result = this.electLeader(name, partitionId, electionType, records);
          if (result.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) partitionResult.push(result);
        }
        results.push({ topic: name, partitionResult });
      }
      return { records, result: results };
    }
    const results = topicPartitions.map(({ topic, partitions }) => ({
      topic,
      partitionResult: partitions.map((partitionId) => this.electLeader(topic, partitionId, electionType, records)),
    }));
    return { records, result: results };
  }

  private electLeader(
    name: string,
    partitionId: number,
    electionType: number,
    records: MetadataRecordInput[],
  ): ElectionResult {
    const answer = (errorCode: number, errorMessage: string | null = null) => ({
      partitionId,
      errorCode,
      errorMessage,
    });
    const topic = this.image.topicsByName.get(name);
    if (!topic) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${name}`);
    const partition = topic.partitions.get(partitionId);
    if (!partition) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such partition as ${name}-${partitionId}`);
    const preferred = partition.replicas[0];
    if (electionType === ELECTION_PREFERRED ? partition.leader === preferred : partition.leader !== NO_LEADER)
      return answer(ErrorCode.ELECTION_NOT_NEEDED);
    const live = (id: number) => this.image.brokers.get(id)?.fenced === false;
    const valid = (id: number) => partition.isr.includes(id) && live(id);
    let leader: number;
    let isr: number[] | null = null;
    if (electionType === ELECTION_PREFERRED) {
      if (valid(preferred)) leader = preferred;
      else if (valid(partition.leader)) leader = partition.leader;
      else leader = partition.replicas.slice(1).find(valid) ?? NO_LEADER;
    } else {
      leader = partition.replicas.find(valid) ?? NO_LEADER;
      if (leader === NO_LEADER) {
        leader = partition.replicas.find(live) ?? NO_LEADER;
        if (leader !== NO_LEADER) isr = [leader];
      }
    }
    if (leader === partition.leader)
      return electionType === ELECTION_PREFERRED
        ? answer(
            ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
            `Failed to elect leader for partition ${name}-${partitionId}`,
          )
        : answer(
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
            `Failed to elect leader for partition ${name}-${partitionId}`,
          );
    records.push({
      type: 'PartitionChange',
      data: { topicId: partition.topicId, partitionId, isr, leader },
    });
    return answer(ErrorCode.NONE);
  }

  /**
   * Topic config changes (IncrementalAlterConfigs), already validated by name and value:
   * each becomes a Config record (null value: back to the default). APPEND and SUBTRACT
   * edit a list value from what the image holds now.
   */
  alterTopicConfigs(
    changes: { topic: string; configs: { name: string; op: number; value: string | null }[] }[],
  ): Decision<{ topic: string; errorCode: number; errorMessage: string | null }[]> {
    const records: MetadataRecordInput[] = [];
    const results = changes.map(({ topic, configs }) => {
      if (!this.image.topicsByName.has(topic))
        return {
          topic,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic ${topic} does not exist`,
        };
      const current = this.image.topicConfigs(topic);
      for (const { name, op, value } of configs) {
        const items = (current[name] ?? '')
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        let next: string | null;
        if (op === 0) next = value;
        else if (op === 1) next = null;
        else if (op === 2)
          next = [
            ...items,
            ...(value ?? '')
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v && !items.includes(v)),
          ].join(',');
        else
          next =
            items
              .filter(
                (v) =>
                  !(value ?? '')
                    .split(',')
                    .map((x) => x.trim())
                    .includes(v),
              )
              .join(',') || null;
        current[name] = next ?? '';
        if (next === null) delete current[name];
        records.push({ type: 'Config', data: { resourceType: 2, resourceName: topic, name, value: next } });
      }
      return { topic, errorCode: ErrorCode.NONE, errorMessage: null };
    });
    return { records, result: results };
  }

  /**
   * Dynamic broker configs (resource type 4: a broker id, or '' for the cluster default),
   * already checked by the handler: Config records, one per key. APPEND and SUBTRACT work on
   * the stored list. A broker id must be a registered broker or a voter (Kafka's
   * ConfigResourceExistenceChecker).
   */
  alterBrokerConfigs(
    changes: { resourceName: string; configs: { name: string; op: number; value: string | null }[] }[],
  ): Decision<{ resourceName: string; errorCode: number; errorMessage: string | null }[]> {
    const records: MetadataRecordInput[] = [];
    const results = changes.map(({ resourceName, configs }) => {
      if (resourceName !== '') {
        const id = Number(resourceName);
        if (!this.image.brokers.has(id))
          return {
            resourceName,
            errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
            errorMessage: `No node with id ${id} found.`,
          };
      }
      const current = Object.fromEntries(this.image.configs.get(4)?.get(resourceName) ?? []);
      for (const { name, op, value } of configs) {
        const items = (current[name] ?? '')
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        const given = (value ?? '')
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        let next: string | null;
        if (op === 0) next = value === null ? null : value.trim();
        else if (op === 1) next = null;
        else if (op === 2) next = [...items, ...given.filter((v) => !items.includes(v))].join(',');
        else next = items.filter((v) => !given.includes(v)).join(',') || null;
        if (next === null) delete current[name];
        else current[name] = next;
        records.push({ type: 'Config', data: { resourceType: 4, resourceName, name, value: next } });
      }
      return { resourceName, errorCode: ErrorCode.NONE, errorMessage: null };
    });
    return { records, result: results };
  }

  /** Reassignments in progress (ListPartitionReassignments); `wanted` null means all. */
  listPartitionReassignments(wanted: { name: string; partitionIndexes: number[] }[] | null): OngoingReassignment[] {
    const out: OngoingReassignment[] = [];
    for (const topic of this.image.topicsByName.values()) {
      const asked = wanted?.find((w) => w.name === topic.name);
      if (wanted && !asked) continue;
      for (const p of topic.partitions.values()) {
        if (asked && !asked.partitionIndexes.includes(p.partitionId)) continue;
        if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) continue;
        out.push({
          topic: topic.name,
          partitionIndex: p.partitionId,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
        });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partitionIndex - b.partitionIndex);
  }

  /** Reassignments whose target replicas have all joined the ISR complete. */
  private completeReassignments(): MetadataRecordInput[] {
    const records: MetadataRecordInput[] = [];
    for (const topic of this.image.topicsById.values()) {
      for (const partition of topic.partitions.values()) {
        if (partition.addingReplicas.length === 0 && partition.removingReplicas.length === 0) continue;
        const target = partition.replicas.filter((id) => !partition.removingReplicas.includes(id));
        if (target.every((id) => partition.isr.includes(id))) records.push(this.finishRecord(partition, target));
      }
    }
    return records;
  }

  /**
   * The record that sets a partition's replicas to `replicas` with no reassignment left:
   * the ISR keeps only those replicas (or, if none of them is in it, stays as it is until
   * they catch up), and a leader outside them hands over to one inside the ISR.
   */
  private finishRecord(partition: PartitionInfo, replicas: number[]): MetadataRecordInput {
    const kept = partition.isr.filter((id) => replicas.includes(id));
    const isr = kept.length > 0 ? kept : partition.isr;
    let leader = partition.leader;
    if (!replicas.includes(leader)) {
      leader = replicas.find((id) => isr.includes(id) && this.image.brokers.get(id)?.fenced === false) ?? NO_LEADER;
    }
    return {
      type: 'PartitionChange',
      data: {
        topicId: partition.topicId,
        partitionId: partition.partitionId,
        isr: isr.join() === partition.isr.join() ? null : isr,
        leader: leader === partition.leader ? UNCHANGED : leader,
        replicas,
        addingReplicas: [],
        removingReplicas: [],
      },
    };
  }

  /**
   * UnregisterBroker, as Kafka's ReplicationControlManager.unregisterBroker: the broker
   * leaves every ISR, its leaderships move to another live ISR member (or to none), and its
   * registration is removed. Kafka does not refuse a live broker (one that heartbeats again
   * registers anew), so neither does this; an id not registered is BROKER_ID_NOT_REGISTERED.
   */
  unregisterBroker(brokerId: number): Decision<{ errorCode: number; errorMessage: string | null }> {
    const registration = this.image.brokers.get(brokerId);
    if (!registration)
      return {
        records: [],
        result: {
          errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
          errorMessage: `Broker ID ${brokerId} is not currently registered`,
        },
      };
    const records: MetadataRecordInput[] = [];
    for (const topic of this.image.topicsById.values()) {
      for (const partition of topic.partitions.values()) {
        if (!partition.isr.includes(brokerId) && partition.leader !== brokerId) continue;
        const change = this.leaderChange(partition, brokerId, false);
        if (change.isr === null && change.leader === UNCHANGED) continue;
        records.push({
          type: 'PartitionChange',
          data: { topicId: topic.topicId, partitionId: partition.partitionId, ...change },
        });
      }
    }
    records.push({ type: 'UnregisterBroker', data: { brokerId, brokerEpoch: registration.brokerEpoch } });
    this.lastHeartbeatMs.delete(brokerId);
    this.reconnectDeadlineMs.delete(brokerId);
    return { records, result: { errorCode: ErrorCode.NONE, errorMessage: null } };
  }

  /** Fencing removes the broker from every ISR and moves its leaderships away. */
  private fenceRecords(brokerId: number, epoch: number): MetadataRecordInput[] {
    const records: MetadataRecordInput[] = [{ type: 'FenceBroker', data: { id: brokerId, epoch } }];
    for (const topic of this.image.topicsById.values()) {
      for (const partition of topic.partitions.values()) {
        if (!partition.isr.includes(brokerId) && partition.leader !== brokerId) continue;
        const change = this.leaderChange(
          partition,
          brokerId,
          this.image.topicConfigs(topic.name)['unclean.leader.election.enable'] === 'true',
        );
        records.push({
          type: 'PartitionChange',
          data: { topicId: topic.topicId, partitionId: partition.partitionId, ...change },
        });
      }
    }
    return records;
  }

  /**
   * The ISR without `leaving`, and a leader from it: the current leader if it stays, else
   * the first ISR member that is unfenced; with none, no leader (or, with unclean election,
   * any unfenced replica). The last ISR member keeps its place in the ISR so that the
   * partition remembers who holds everything committed, as Kafka does.
   */
  private leaderChange(
    partition: PartitionInfo,
    leaving: number,
    unclean: boolean,
  ): { isr: number[] | null; leader: number } {
    const alive = (id: number) => id !== leaving && this.image.brokers.get(id)?.fenced === false;
    let isr = partition.isr.filter((id) => id !== leaving);
    if (isr.length === 0) isr = partition.isr.slice();
    let leader = partition.leader;
    if (leader === leaving || leader === NO_LEADER || !alive(leader)) {
      leader = partition.replicas.find((id) => isr.includes(id) && alive(id)) ?? NO_LEADER;
      if (leader === NO_LEADER && unclean) {
        leader = partition.replicas.find(alive) ?? NO_LEADER;
        if (leader !== NO_LEADER) isr = [leader];
      }
    }
    return {
      isr: isr.join() === partition.isr.join() ? null : isr,
      leader: leader === partition.leader ? UNCHANGED : leader,
    };
  }

  /**
   * Places replicas: partition p gets brokers start+p, start+p+1 ... in broker order (rack-
   * alternating order when racks are given), so replicas and leaders spread evenly.
   */
  private place(partitions: number, replicationFactor: number, firstPartition = 0): number[][] | null {
    const brokers = this.image.unfencedBrokers();
    if (replicationFactor > brokers.length) return null;
    let order = brokers.map((b) => b.brokerId);
    if (brokers.some((b) => b.rack !== null)) {
      // Interleave racks: r1b1, r2b1, r3b1, r1b2 ... so consecutive replicas differ in rack.
      const byRack = new Map<string, number[]>();
      for (const b of brokers) {
        const rack = b.rack ?? '';
        if (!byRack.has(rack)) byRack.set(rack, []);
        byRack.get(rack)!.push(b.brokerId);
      }
      const racks = [...byRack.values()];
      order = [];
      for (let i = 0; order.length < brokers.length; i++)
        for (const rack of racks) if (i < rack.length) order.push(rack[i]);
    }
    const start = Math.floor(this.random() * order.length);
    const out: number[][] = [];
    for (let p = firstPartition; p < firstPartition + partitions; p++) {
      const replicas: number[] = [];
      for (let r = 0; r < replicationFactor; r++) replicas.push(order[(start + p + r) % order.length]);
      out.push(replicas);
    }
    return out;
  }

  /** Counts the cluster's partitions and each broker's replicas (once per decision). */
  private partitionCounts(): PartitionCounts {
    const counts: PartitionCounts = { total: 0, perBroker: new Map() };
    for (const topic of this.image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) {
        counts.total++;
        for (const id of partition.replicas) counts.perBroker.set(id, (counts.perBroker.get(id) ?? 0) + 1);
      }
    }
    return counts;
  }

  /**
   * Null when `assignment` fits brook.max.partitions and brook.max.broker.partitions (and
   * then counts it in), else the refusal's message (POLICY_VIOLATION: a policy of this
   * cluster, as Kafka's create-topic policies answer).
   */
  private withinPartitionLimits(counts: PartitionCounts, assignment: number[][]): string | null {
    const { maxPartitions, maxBrokerPartitions } = this.settings;
    if (maxPartitions !== undefined && counts.total + assignment.length > maxPartitions)
      return `The cluster would have ${counts.total + assignment.length} partitions, above brook.max.partitions (${maxPartitions}).`;
    const added = new Map<number, number>();
    for (const replicas of assignment) for (const id of replicas) added.set(id, (added.get(id) ?? 0) + 1);
    if (maxBrokerPartitions !== undefined) {
      for (const [id, count] of added) {
        const after = (counts.perBroker.get(id) ?? 0) + count;
        if (after > maxBrokerPartitions)
          return `Broker ${id} would host ${after} partition replicas, above brook.max.broker.partitions (${maxBrokerPartitions}).`;
      }
    }
    counts.total += assignment.length;
    for (const [id, count] of added) counts.perBroker.set(id, (counts.perBroker.get(id) ?? 0) + count);
    return null;
  }

  createTopics(requests: TopicRequest[], validateOnly: boolean): Decision<TopicResult[]> {
    const records: MetadataRecordInput[] = [];
    const results: TopicResult[] = [];
    const creating = new Set<string>();
    const counts = this.partitionCounts();
    for (const request of requests) {
      const fail = (errorCode: number, errorMessage: string) =>
        results.push({ name: request.name, topicId: ZERO_TOPIC_ID, errorCode, errorMessage });
      if (this.image.topicsByName.has(request.name) || creating.has(request.name)) {
        fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${request.name}' already exists.`);
        continue;
      }
      // Every path that creates topics (CreateTopics, auto-creation, HTTP) ends here, so the
      // naming rules are enforced once where the decision is made.
      const nameError = validateTopicName(request.name);
      if (nameError) {
        fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
        continue;
      }
      // Kafka's controller refuses a name equal to an existing one once '.' and '_' are
      // treated alike (their metric names would be the same).
      const collision = collidingTopic(request.name, this.image.topicsByName.keys());
      if (collision !== null) {
        fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${request.name}' collides with existing topic: ${collision}`);
        continue;
      }
      const partitions = request.partitions === -1 ? this.settings.defaultPartitions : request.partitions;
      const replicationFactor =
        request.replicationFactor === -1 ? this.settings.defaultReplicationFactor : request.replicationFactor;
      let assignment: number[][] | null;
      if (request.assignments && request.assignments.length > 0) {
        const known = (id: number) => this.image.brokers.has(id);
        if (
          !request.assignments.every(
            (replicas) => replicas.length > 0 && new Set(replicas).size === replicas.length && replicas.every(known),
          )
        ) {
          fail(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'assignments must name registered brokers, each once per partition',
          );
          continue;
        }
        assignment = request.assignments;
      } else {
        if (partitions <= 0) {
          fail(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
          continue;
        }
        if (replicationFactor <= 0) {
          fail(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
          continue;
        }
        assignment = this.place(partitions, replicationFactor);
        if (!assignment) {
          fail(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            `Replication factor: ${replicationFactor} larger than available brokers: ${this.image.unfencedBrokers().length}.`,
          );
          continue;
        }
      }
      if (!partitionDirNameFits(request.name, assignment.length - 1)) {
        fail(
          ErrorCode.INVALID_PARTITIONS,
          `Topic '${request.name}' with ${assignment.length} partitions would need a partition directory name longer than a file name can be.`,
        );
        continue;
      }
      const overLimit = this.withinPartitionLimits(counts, assignment);
      if (overLimit !== null) {
        fail(ErrorCode.POLICY_VIOLATION, overLimit);
        continue;
      }
      const topicId = this.newTopicId();
      creating.add(request.name);
      results.push({ name: request.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      if (validateOnly) continue;
      records.push({ type: 'Topic', data: { name: request.name, topicId } });
      for (const [name, value] of Object.entries(request.configs))
        records.push({ type: 'Config', data: { resourceType: 2, resourceName: request.name, name, value } });
      assignment.forEach((replicas, partitionId) => {
        const leader = replicas.find((id) => this.image.brokers.get(id)?.fenced === false) ?? NO_LEADER;
        records.push({
          type: 'Partition',
          data: {
            partitionId,
            topicId,
            replicas,
            isr: replicas,
            removingReplicas: [],
            addingReplicas: [],
            leader,
            leaderEpoch: 0,
            partitionEpoch: 0,
          },
        });
      });
    }
    return { records, result: results };
  }

  deleteTopics(names: string[]): Decision<{ name: string; topicId: string; errorCode: number }[]> {
    const records: MetadataRecordInput[] = [];
    const result = names.map((name) => {
      const topic = this.image.topicsByName.get(name);
      if (!topic) return { name, topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      records.push({ type: 'RemoveTopic', data: { topicId: topic.topicId } });
      return { name, topicId: topic.topicId, errorCode: ErrorCode.NONE };
    });
    return { records, result };
  }

  createPartitions(name: string, count: number): Decision<{ errorCode: number; errorMessage: string | null }> {
    const topic = this.image.topicsByName.get(name);
    if (!topic) return { records: [], result: { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null } };
    const current = topic.partitions.size;
    if (count <= current)
      return {
        records: [],
        result: {
          errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `Topic currently has ${current} partitions, which is higher than or equal to the requested ${count}.`,
        },
      };
    if (!partitionDirNameFits(name, count - 1)) {
      return {
        records: [],
        result: {
          errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `Partition ${count - 1} of '${name}' would need a directory name longer than a file name can be.`,
        },
      };
    }
    const replicationFactor = topic.partitions.get(0)?.replicas.length ?? 1;
    const assignment = this.place(count - current, replicationFactor, current);
    if (!assignment)
      return {
        records: [],
        result: { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'not enough unfenced brokers' },
      };
    const overLimit = this.withinPartitionLimits(this.partitionCounts(), assignment);
    if (overLimit !== null)
      return { records: [], result: { errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: overLimit } };
    const records: MetadataRecordInput[] = assignment.map((replicas, i) => ({
      type: 'Partition',
      data: {
        partitionId: current + i,
        topicId: topic.topicId,
        replicas,
        isr: replicas,
        removingReplicas: [],
        addingReplicas: [],
        leader: replicas[0],
        leaderEpoch: 0,
        partitionEpoch: 0,
      },
    }));
    return { records, result: { errorCode: ErrorCode.NONE, errorMessage: null } };
  }

  /** AlterUserScramCredentials (see scram-users.ts). */
  alterScramCredentials(deletions: ScramDeletion[], upsertions: ScramUpsertion[]): Decision<AlterScramResult[]> {
    const usersMax = this.settings.scram?.usersMax ?? DEFAULT_SCRAM_USERS_MAX;
    return alterScramCredentials(this.image, { usersMax }, deletions, upsertions);
  }

  /** CreateAcls (see acls.ts): new ids drawn like topic ids. */
  createAcls(bindings: AclBinding[]): Decision<AclCreateResult[]> {
    const aclsMax = this.settings.acls?.aclsMax ?? DEFAULT_ACLS_MAX;
    return createAcls(this.image, { aclsMax }, bindings, this.newTopicId);
  }

  /** DeleteAcls (see acls.ts). */
  deleteAcls(filters: AclFilter[]): Decision<AclDeleteResult[]> {
    return deleteAcls(this.image, filters);
  }

  /** AlterClientQuotas (see client-quotas.ts). */
  alterClientQuotas(alterations: QuotaAlteration[], validateOnly: boolean): Decision<AlterQuotaResult[]> {
    const entitiesMax = this.settings.clientQuotas?.entitiesMax ?? DEFAULT_CLIENT_QUOTA_ENTITIES_MAX;
    return alterClientQuotas(this.image, { entitiesMax }, alterations, validateOnly);
  }

  /** The configured bootstrap SCRAM users this cluster does not have yet. */
  bootstrapScramUsers(): MetadataRecordInput[] {
    return bootstrapScramRecords(this.image, this.settings.scram?.bootstrapUsers ?? []);
  }

  allocateProducerIds(
    brokerId: number,
    brokerEpoch: number,
  ): Decision<{ errorCode: number; firstProducerId: number; count: number }> {
    const broker = this.image.brokers.get(brokerId);
    if (!broker)
      return { records: [], result: { errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, firstProducerId: -1, count: 0 } };
    if (broker.brokerEpoch !== brokerEpoch)
      return { records: [], result: { errorCode: ErrorCode.STALE_BROKER_EPOCH, firstProducerId: -1, count: 0 } };
    const first = this.image.nextProducerId;
    return {
      records: [
        { type: 'ProducerIds', data: { brokerId, brokerEpoch, nextProducerId: first + PRODUCER_ID_BLOCK_SIZE } },
      ],
      result: { errorCode: ErrorCode.NONE, firstProducerId: first, count: PRODUCER_ID_BLOCK_SIZE },
    };
  }

  /**
   * A partition leader's ISR change. Refused when the sender is not the leader, its leader
   * epoch or the partition epoch is stale (another change got there first), or the new ISR
   * names a replica that is not assigned or not an unfenced broker (for additions).
   */
  alterPartitionIsr(request: {
    brokerId: number;
    brokerEpoch: number;
    topicId: string;
    partition: number;
    leaderEpoch: number;
    partitionEpoch: number;
    newIsr: number[];
  }): Decision<{ errorCode: number; leaderId: number; leaderEpoch: number; partitionEpoch: number; isr: number[] }> {
    const partition = this.image.topicsById.get(request.topicId)?.partitions.get(request.partition);
    const refuse = (errorCode: number) => ({
      records: [],
      result: {
        errorCode,
        leaderId: partition?.leader ?? -1,
        leaderEpoch: partition?.leaderEpoch ?? -1,
        partitionEpoch: partition?.partitionEpoch ?? -1,
        isr: partition?.isr ?? [],
      },
    });
    if (!partition) return refuse(ErrorCode.UNKNOWN_TOPIC_ID);
    const broker = this.image.brokers.get(request.brokerId);
    if (!broker || broker.brokerEpoch !== request.brokerEpoch) return refuse(ErrorCode.STALE_BROKER_EPOCH);
    if (partition.leader !== request.brokerId) return refuse(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (request.leaderEpoch !== partition.leaderEpoch)
      return refuse(
        request.leaderEpoch < partition.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
      );
    if (request.partitionEpoch !== partition.partitionEpoch) return refuse(ErrorCode.INVALID_UPDATE_VERSION);
    const isr = [...new Set(request.newIsr)];
    if (!isr.includes(request.brokerId) || isr.some((id) => !partition.replicas.includes(id)))
      return refuse(ErrorCode.INVALID_REQUEST);
    const added = isr.filter((id) => !partition.isr.includes(id));
    if (added.some((id) => this.image.brokers.get(id)?.fenced !== false)) return refuse(ErrorCode.INELIGIBLE_REPLICA);
    return {
      records: [
        {
          type: 'PartitionChange',
          data: { topicId: request.topicId, partitionId: request.partition, isr, leader: UNCHANGED },
        },
      ],
      result: {
        errorCode: ErrorCode.NONE,
        leaderId: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: partition.partitionEpoch + 1,
        isr,
      },
    };
  }
}
