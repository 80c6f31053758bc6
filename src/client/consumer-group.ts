// A consumer's membership of its group: the coordinator (found through the cluster layer,
// reached over a connection of its own), JoinGroup and SyncGroup until the member has an
// assignment (the leader computes the plan), heartbeats, LeaveGroup, and the answers that
// say the membership must be renewed. What a rebalance does to the partitions (commit,
// listeners, fetching) is the consumer's; this file only speaks the group protocol.

import { decodeAssignmentBytes, PartitionsByTopic } from '../../protocol/consumer-protocol';
import { ErrorCode } from '../../protocol/errors';
import { BrokerConnection, Cluster, Coordinator, KafkaError, openBroker } from './cluster';
import type { ConsumerOptions } from './consumer';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';

/** How long a heartbeat or a leave retries a coordinator that moved (the session decides the rest). */
export const SHORT_RETRY_MS = 2000;

/** Pause before asking again for a group coordinator that moved or is not ready. */
const COORDINATOR_RETRY_MS = 200;

/** JoinGroup attempts in one rejoin before giving up on a group that keeps rebalancing. */
const JOIN_ATTEMPTS_MAX = 20;

const COORDINATOR_ERRORS = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

/** The APIs a group member sends to its coordinator. */
type CoordinatorApi =
  | typeof ApiKey.JoinGroup
  | typeof ApiKey.SyncGroup
  | typeof ApiKey.Heartbeat
  | typeof ApiKey.LeaveGroup
  | typeof ApiKey.OffsetCommit
  | typeof ApiKey.OffsetFetch;

/** What `coordinatorError` reads of a coordinator's answer; each API has some of it. */
interface CoordinatorAnswer {
  errorCode?: number;
  groups?: readonly { errorCode: number }[];
  topics?: readonly { partitions?: readonly { errorCode: number }[] }[];
}

/** Whether a group answer says to find the coordinator again: at the top, or for a partition. */
function coordinatorError(answer: CoordinatorAnswer): boolean {
  if (answer.errorCode !== undefined && COORDINATOR_ERRORS.has(answer.errorCode)) return true;
  for (const g of answer.groups ?? []) if (COORDINATOR_ERRORS.has(g.errorCode)) return true;
  for (const t of answer.topics ?? [])
    for (const p of t.partitions ?? []) if (COORDINATOR_ERRORS.has(p.errorCode)) return true;
  return false;
}

/** The leader's part of a join: every member's assignment bytes. */
export type AssignmentPlanner = (
  protocolName: string,
  members: { memberId: string; metadata: Buffer }[],
) => Promise<{ memberId: string; assignment: Buffer }[]>;

export class GroupMember {
  memberId = '';
  generationId = -1;
  /** The membership must be renewed (a rebalance started, or the member was dropped). */
  rejoinNeeded = false;
  /** The heartbeat or a commit was told this member's generation or id is gone. */
  membershipLost = false;
  /** A rejoin under way (the consumer's); answers meanwhile say nothing new. */
  joining: Promise<void> | null = null;
  private coordinator: Coordinator | null = null;
  private coordinatorLink: Promise<BrokerConnection> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Set once the consumer has left the group: nothing may open a link after that. */
  private left = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ConsumerOptions & { groupId: string },
  ) {}

  get groupId(): string {
    return this.options.groupId;
  }

  /**
   * The group coordinator, over a connection of its own as Kafka's consumer keeps one: a
   * broker answers a connection's requests in order, so a JoinGroup waiting for the
   * rebalance would otherwise hold back the fetches of the partitions a cooperative member
   * keeps consuming meanwhile.
   */
  private async coordinatorBroker(): Promise<BrokerConnection> {
    const deadline = Date.now() + (this.options.requestTimeoutMs ?? 30_000);
    for (;;) {
      // close() still commits and leaves through here; after that nothing may open a link.
      if (this.left) throw new Error('consumer closed');
      if (this.coordinator !== null) {
        this.coordinatorLink ??= this.openCoordinatorLink(this.coordinator);
        const link = await this.coordinatorLink.catch(() => null);
        if (link && link.connection.isOpen) return link;
        this.forgetCoordinator();
        if (Date.now() > deadline) throw new Error(`group coordinator of ${this.groupId} unreachable`);
        await new Promise((r) => setTimeout(r, COORDINATOR_RETRY_MS));
      }
      this.coordinator = await this.cluster.findCoordinator(this.groupId, Math.max(0, deadline - Date.now()));
    }
  }

  private async openCoordinatorLink(coordinator: Coordinator): Promise<BrokerConnection> {
    // A JoinGroup may wait for the whole rebalance, so its answer is allowed that long and more.
    const rebalanceTimeoutMs = this.options.rebalanceTimeoutMs ?? 60_000;
    return openBroker(coordinator.nodeId, coordinator, {
      clientId: this.cluster.clientId,
      requestTimeoutMs: Math.max(this.options.requestTimeoutMs ?? 30_000, rebalanceTimeoutMs + 5000),
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      security: this.options.security,
    });
  }

  private forgetCoordinator(): void {
    const link = this.coordinatorLink;
    this.coordinatorLink = null;
    this.coordinator = null;
    // A link that failed to open has nothing to close; its failure went to whoever awaited it.
    void link?.then(
      (broker) => broker.connection.close(),
      () => undefined,
    );
  }

  /**
   * Calls the coordinator; NOT_COORDINATOR and the like (for the request or, as OffsetCommit
   * answers them, for a partition) find it again and retry, for up to the request timeout
   * (Kafka's consumer retries them until default.api.timeout.ms).
   */
  async request<K extends CoordinatorApi>(
    apiKey: K,
    body: RequestInput<K>,
    retryForMs = this.options.requestTimeoutMs ?? 30_000,
  ): Promise<Response<K>> {
    const deadline = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      const broker = await this.coordinatorBroker();
      let answer: Response<K>;
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

  /**
   * JoinGroup then SyncGroup until the member has an assignment; the leader computes the
   * plan with `plan`. `metadata` is asked for at every attempt (it says what the member
   * owns now). Returns the assignment; the member's generation is the new one.
   */
  async join(
    assignor: string,
    metadata: () => Buffer,
    plan: AssignmentPlanner,
    closed: () => boolean,
  ): Promise<PartitionsByTopic> {
    const groupId = this.groupId;
    this.stopHeartbeats();
    for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
      if (closed()) throw new Error('consumer closed');
      const join = await this.request(ApiKey.JoinGroup, {
        groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 60_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: assignor, metadata: metadata() }],
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
      const assignments = join.leader === join.memberId ? await plan(protocolName, join.members) : [];
      const sync = await this.request(ApiKey.SyncGroup, {
        groupId,
        generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName,
        assignments,
      });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION)
        continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== ErrorCode.NONE) throw new KafkaError(sync.errorCode, `SyncGroup ${groupId}`);
      this.generationId = generationId;
      return decodeAssignmentBytes(sync.assignment);
    }
    throw new Error(`could not join group ${groupId}: the group kept rebalancing`);
  }

  startHeartbeats(): void {
    const interval = this.options.heartbeatIntervalMs ?? 3000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), interval);
    this.heartbeatTimer.unref();
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /**
   * Marks the membership for a rejoin on the answers that say the group moved on. An answer
   * to a request sent under an earlier generation or member id says nothing about the
   * current one (a heartbeat or commit in flight across a rejoin), so it is ignored.
   */
  noteGroupError(code: number, sentGenerationId: number, sentMemberId: string): void {
    if (
      code !== ErrorCode.REBALANCE_IN_PROGRESS &&
      code !== ErrorCode.ILLEGAL_GENERATION &&
      code !== ErrorCode.UNKNOWN_MEMBER_ID &&
      // OffsetCommit v9+: the coordinator no longer knows the group at all.
      code !== ErrorCode.GROUP_ID_NOT_FOUND
    )
      return;
    if (sentGenerationId !== this.generationId || sentMemberId !== this.memberId) return;
    // A rejoin under way already answers these.
    if (this.joining) return;
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.GROUP_ID_NOT_FOUND) this.memberId = '';
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
      const answer = await this.request(
        ApiKey.Heartbeat,
        { groupId: this.groupId, generationId, memberId, groupInstanceId: null },
        SHORT_RETRY_MS,
      );
      this.noteGroupError(answer.errorCode, generationId, memberId);
    } catch (error) {
      // The next heartbeat tries again; the session timeout decides.
      this.cluster.report('heartbeat', error);
    }
  }

  /** LeaveGroup, briefly retried (the session timeout removes the member otherwise). */
  async leave(): Promise<void> {
    if (!this.memberId) return;
    await this.request(
      ApiKey.LeaveGroup,
      {
        groupId: this.groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'consumer closed' }],
      },
      SHORT_RETRY_MS,
    );
  }

  /** No more requests: the coordinator link is closed and none is opened again. */
  close(): void {
    this.stopHeartbeats();
    this.left = true;
    this.forgetCoordinator();
  }
}
