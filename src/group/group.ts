// One consumer group's membership state machine, as pure logic: requests and clock ticks
// in, replies and persistence effects out. No timers, no I/O, no randomness (member ids
// are handed in by the caller). The states and their rules follow Kafka's classic group
// protocol:
//
//   Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
//   CompletingRebalance --leader's SyncGroup--> Stable --join / leave / expiry--> Preparing...
//   any state with no members left --> Empty;  DeleteGroups on Empty --> Dead
//
// A rebalance completes when every known member has sent JoinGroup again, or when the
// rebalance timeout (the largest of the members') runs out; members that did not rejoin
// are dropped. The leader (the first member to join, kept across rebalances while it stays)
// gets every member's metadata and sends the assignment in SyncGroup.

import { ErrorCode } from '../../protocol/errors';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  lastHeartbeatMs: number;
  /** Request id of a JoinGroup waiting for the rebalance to complete. */
  joinRequest: number | null;
  /** Request id of a SyncGroup waiting for the leader's assignment. */
  syncRequest: number | null;
}

export interface JoinReply {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncReply {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export type Effect =
  | { kind: 'join-reply'; requestId: number; reply: JoinReply }
  | { kind: 'sync-reply'; requestId: number; reply: SyncReply }
  /** Membership or assignment changed in a way worth persisting. */
  | { kind: 'persist' };

export interface GroupLimits {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  maxSize: number;
  /** Bytes of one member's protocol metadata or assignment. */
  memberMetadataBytesMax: number;
  /**
   * Bytes of every member's protocol metadata and assignment together: what the group's
   * record in __consumer_offsets holds, which in Kafka must fit that topic's message size.
   */
  groupMetadataBytesMax: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 3000,
  maxSize: 1000,
  memberMetadataBytesMax: 1024 * 1024,
  groupMetadataBytesMax: 1048588,
};

/** What a JoinGroup carries: a member's identity and protocols, as the member will hold them. */
export type JoinRequest = Pick<
  Member,
  | 'memberId'
  | 'groupInstanceId'
  | 'clientId'
  | 'clientHost'
  | 'sessionTimeoutMs'
  | 'rebalanceTimeoutMs'
  | 'protocolType'
  | 'protocols'
> & {
  /** v4+: a new member must first ask for an id (MEMBER_ID_REQUIRED). */
  requireKnownMemberId: boolean;
};

function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata));
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, waiting for the second join. */
  private readonly pendingMembers = new Map<string, number>();
  /** group.instance.id -> current member id (static membership). */
  readonly staticMembers = new Map<string, string>();
  private rebalanceDeadlineMs = 0;
  private initialDelayUntilMs = 0;
  private syncDeadlineMs = 0;
  /** When the group last became empty (offset retention counts from here). */
  emptySinceMs: number;

  constructor(
    readonly groupId: string,
    nowMs: number,
    private readonly limits: GroupLimits = DEFAULT_GROUP_LIMITS,
  ) {
    this.emptySinceMs = nowMs;
  }

  private error(requestId: number, memberId: string, errorCode: number): Effect {
    return {
      kind: 'join-reply',
      requestId,
      reply: { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] },
    };
  }

  /** JoinGroup. `newMemberId` is used if the member needs an id. */
  join(request: JoinRequest, requestId: number, nowMs: number, newMemberId: string): Effect[] {
    if (this.state === 'Dead') return [this.error(requestId, request.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE)];
    if (
      request.sessionTimeoutMs < this.limits.minSessionTimeoutMs ||
      request.sessionTimeoutMs > this.limits.maxSessionTimeoutMs
    ) {
      return [this.error(requestId, request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT)];
    }
    if (request.protocolType === '' || request.protocols.length === 0) {
      return [this.error(requestId, request.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)];
    }
    if (request.protocols.some((p) => p.metadata.length > this.limits.memberMetadataBytesMax)) {
      return [this.error(requestId, request.memberId, ErrorCode.INVALID_REQUEST)];
    }
    // The group's record must keep fitting: Kafka answers UNKNOWN_SERVER_ERROR when it no
    // longer fits __consumer_offsets; refusing the one join that would cross keeps the
    // rest of the group working.
    const joining = request.protocols.reduce((sum, p) => sum + p.metadata.length, 0);
    // A member joining again (or a static member restarting) replaces its own protocols.
    const instanceMember =
      request.groupInstanceId !== null ? this.staticMembers.get(request.groupInstanceId) : undefined;
    const current =
      this.members.get(request.memberId) ?? (instanceMember ? this.members.get(instanceMember) : undefined);
    const others = this.metadataBytes() - this.protocolBytes(current);
    if (others + joining > this.limits.groupMetadataBytesMax) {
      return [this.error(requestId, request.memberId, ErrorCode.UNKNOWN_SERVER_ERROR)];
    }
    if (this.members.size > 0 && !this.supports(request.protocolType, request.protocols)) {
      return [this.error(requestId, request.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)];
    }

    let memberId = request.memberId;
    if (memberId === '') {
      const instance = request.groupInstanceId;
      const known = instance !== null ? this.staticMembers.get(instance) : undefined;
      if (known !== undefined && this.members.has(known)) {
        // A static member restarting: it takes over its old identity under a new member
        // id, and the old id is fenced from now on.
        const old = this.members.get(known)!;
        this.members.delete(known);
        old.memberId = newMemberId;
        this.members.set(newMemberId, old);
        this.staticMembers.set(instance!, newMemberId);
        if (this.leaderId === known) this.leaderId = newMemberId;
        memberId = newMemberId;
      } else if (request.requireKnownMemberId && instance === null) {
        if (this.members.size + this.pendingMembers.size >= this.limits.maxSize) {
          return [this.error(requestId, '', ErrorCode.GROUP_MAX_SIZE_REACHED)];
        }
        this.pendingMembers.set(newMemberId, nowMs + request.sessionTimeoutMs);
        return [this.error(requestId, newMemberId, ErrorCode.MEMBER_ID_REQUIRED)];
      } else {
        memberId = newMemberId;
      }
    } else {
      const instance = request.groupInstanceId;
      if (instance !== null) {
        const current = this.staticMembers.get(instance);
        if (current !== undefined && current !== memberId)
          return [this.error(requestId, memberId, ErrorCode.FENCED_INSTANCE_ID)];
      }
      if (!this.members.has(memberId) && !this.pendingMembers.has(memberId)) {
        return [this.error(requestId, memberId, ErrorCode.UNKNOWN_MEMBER_ID)];
      }
    }

    this.pendingMembers.delete(memberId);
    let member = this.members.get(memberId);
    const effects: Effect[] = [];
    if (!member) {
      if (this.members.size >= this.limits.maxSize)
        return [this.error(requestId, memberId, ErrorCode.GROUP_MAX_SIZE_REACHED)];
      member = {
        memberId,
        groupInstanceId: request.groupInstanceId,
        clientId: request.clientId,
        clientHost: request.clientHost,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols,
        assignment: Buffer.alloc(0),
        lastHeartbeatMs: nowMs,
        joinRequest: null,
        syncRequest: null,
      };
      this.members.set(memberId, member);
      if (request.groupInstanceId !== null) this.staticMembers.set(request.groupInstanceId, memberId);
      if (this.leaderId === null) this.leaderId = memberId;
    } else {
      const unchanged = sameProtocols(member.protocols, request.protocols);
      member.protocols = request.protocols;
      member.sessionTimeoutMs = request.sessionTimeoutMs;
      member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
      member.lastHeartbeatMs = nowMs;
      // Kafka: a follower rejoining a stable group with unchanged metadata just gets the
      // current generation back; nothing needs rebalancing.
      if (this.state === 'Stable' && unchanged && memberId !== this.leaderId) {
        return [{ kind: 'join-reply', requestId, reply: this.joinReplyFor(member, false) }];
      }
      if (member.joinRequest !== null) {
        // A duplicate join while one is parked: the older one is superseded.
        effects.push(this.error(member.joinRequest, memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    member.joinRequest = requestId;
    member.lastHeartbeatMs = nowMs;
    if (this.state !== 'PreparingRebalance') effects.push(...this.prepareRebalance(nowMs));
    effects.push(...this.maybeCompleteJoin(nowMs));
    return effects;
  }

  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used. */
  hasPendingMembers(): boolean {
    return this.pendingMembers.size > 0;
  }

  /** Nothing for the clock to do: no members, none pending (tick would return no effects). */
  get idle(): boolean {
    return this.state === 'Empty' && this.members.size === 0 && this.pendingMembers.size === 0;
  }

  private protocolBytes(member: Member | undefined): number {
    return member ? member.protocols.reduce((sum, p) => sum + p.metadata.length, 0) : 0;
  }

  /** Bytes of every member's protocol metadata and assignment (bounded by groupMetadataBytesMax). */
  metadataBytes(): number {
    let total = 0;
    for (const member of this.members.values()) total += this.protocolBytes(member) + member.assignment.length;
    return total;
  }

  /** Whether a joining member can share a protocol with every current member. */
  private supports(protocolType: string, protocols: Protocol[]): boolean {
    if (this.protocolType !== null && this.protocolType !== protocolType) return false;
    for (const member of this.members.values()) if (member.protocolType !== protocolType) return false;
    return protocols.some((p) => [...this.members.values()].every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private prepareRebalance(nowMs: number): Effect[] {
    const effects: Effect[] = [];
    if (this.state === 'CompletingRebalance') {
      for (const member of this.members.values()) {
        if (member.syncRequest !== null) {
          effects.push({
            kind: 'sync-reply',
            requestId: member.syncRequest,
            reply: this.syncError(ErrorCode.REBALANCE_IN_PROGRESS),
          });
          member.syncRequest = null;
        }
      }
    }
    const wasEmpty = this.state === 'Empty';
    this.state = 'PreparingRebalance';
    let timeout = 0;
    for (const member of this.members.values())
      timeout = Math.max(timeout, member.rebalanceTimeoutMs > 0 ? member.rebalanceTimeoutMs : member.sessionTimeoutMs);
    this.rebalanceDeadlineMs = nowMs + timeout;
    this.initialDelayUntilMs = wasEmpty ? nowMs + Math.min(this.limits.initialRebalanceDelayMs, timeout) : 0;
    return effects;
  }

  private syncError(errorCode: number): SyncReply {
    return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  }

  private maybeCompleteJoin(nowMs: number): Effect[] {
    if (this.state !== 'PreparingRebalance') return [];
    const everyoneJoined = [...this.members.values()].every((m) => m.joinRequest !== null);
    const delayOver = nowMs >= this.initialDelayUntilMs;
    if (!(everyoneJoined && delayOver) && nowMs < this.rebalanceDeadlineMs) return [];
    // Members that did not rejoin in time leave the group.
    for (const member of [...this.members.values()])
      if (member.joinRequest === null) this.removeMember(member.memberId);
    this.generationId++;
    if (this.members.size === 0) {
      this.toEmpty(nowMs);
      return [{ kind: 'persist' }];
    }
    this.protocolType = [...this.members.values()][0].protocolType;
    this.protocolName = this.selectProtocol();
    if (this.leaderId === null || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value!;
    this.state = 'CompletingRebalance';
    let timeout = 0;
    for (const member of this.members.values())
      timeout = Math.max(timeout, member.rebalanceTimeoutMs > 0 ? member.rebalanceTimeoutMs : member.sessionTimeoutMs);
    this.syncDeadlineMs = nowMs + timeout;
    const effects: Effect[] = [];
    for (const member of this.members.values()) {
      effects.push({
        kind: 'join-reply',
        requestId: member.joinRequest!,
        reply: this.joinReplyFor(member, member.memberId === this.leaderId),
      });
      member.joinRequest = null;
      member.lastHeartbeatMs = nowMs;
    }
    return effects;
  }

  private joinReplyFor(member: Member, withMembers: boolean): JoinReply {
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: member.memberId,
      members: withMembers
        ? [...this.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? Buffer.alloc(0),
          }))
        : [],
    };
  }

  /** Kafka's vote: each member votes for its most preferred protocol that all support. */
  private selectProtocol(): string {
    const members = [...this.members.values()];
    const candidates = members[0].protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const member of members) {
      const choice = member.protocols.find((p) => candidates.includes(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = candidates[0];
    for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  private removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (!member) return;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId)
      this.staticMembers.delete(member.groupInstanceId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private toEmpty(nowMs: number): void {
    this.state = 'Empty';
    this.protocolName = null;
    this.leaderId = null;
    this.emptySinceMs = nowMs;
  }

  /** Checks a member's identity for SyncGroup, Heartbeat and OffsetCommit. */
  private checkMember(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current !== undefined && current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (!this.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  sync(
    request: {
      memberId: string;
      groupInstanceId: string | null;
      generationId: number;
      protocolType: string | null;
      protocolName: string | null;
      assignments: { memberId: string; assignment: Buffer }[];
    },
    requestId: number,
    nowMs: number,
  ): Effect[] {
    const reply = (errorCode: number): Effect[] => [
      { kind: 'sync-reply', requestId, reply: this.syncError(errorCode) },
    ];
    if (this.state === 'Dead' || this.state === 'Empty') return reply(ErrorCode.UNKNOWN_MEMBER_ID);
    const check = this.checkMember(request.memberId, request.groupInstanceId, request.generationId);
    if (check !== ErrorCode.NONE) return reply(check);
    if (
      (request.protocolType !== null && request.protocolType !== this.protocolType) ||
      (request.protocolName !== null && request.protocolName !== this.protocolName)
    ) {
      return reply(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (request.assignments.some((a) => a.assignment.length > this.limits.memberMetadataBytesMax))
      return reply(ErrorCode.INVALID_REQUEST);
    const member = this.members.get(request.memberId)!;
    member.lastHeartbeatMs = nowMs;
    if (this.state === 'PreparingRebalance') return reply(ErrorCode.REBALANCE_IN_PROGRESS);
    if (this.state === 'Stable') return [{ kind: 'sync-reply', requestId, reply: this.syncOk(member) }];
    // CompletingRebalance: park until the leader brings the assignment.
    if (member.syncRequest !== null) {
      const superseded: Effect = {
        kind: 'sync-reply',
        requestId: member.syncRequest,
        reply: this.syncError(ErrorCode.REBALANCE_IN_PROGRESS),
      };
      member.syncRequest = requestId;
      if (request.memberId !== this.leaderId) return [superseded];
    }
    member.syncRequest = requestId;
    if (request.memberId !== this.leaderId) return [];
    let assigned = 0;
    for (const m of this.members.values()) assigned += this.protocolBytes(m);
    for (const { memberId, assignment } of request.assignments)
      if (this.members.has(memberId)) assigned += assignment.length;
    if (assigned > this.limits.groupMetadataBytesMax) {
      // Kafka: the group record with these assignments does not fit, so every member
      // waiting in SyncGroup gets UNKNOWN_SERVER_ERROR and the group rebalances.
      const effects: Effect[] = [];
      for (const m of this.members.values()) {
        if (m.syncRequest === null) continue;
        effects.push({
          kind: 'sync-reply',
          requestId: m.syncRequest,
          reply: this.syncError(ErrorCode.UNKNOWN_SERVER_ERROR),
        });
        m.syncRequest = null;
      }
      return [...effects, ...this.prepareRebalance(nowMs)];
    }
    for (const m of this.members.values()) m.assignment = Buffer.alloc(0);
    for (const { memberId, assignment } of request.assignments) {
      const target = this.members.get(memberId);
      if (target) target.assignment = assignment;
    }
    this.state = 'Stable';
    const effects: Effect[] = [{ kind: 'persist' }];
    for (const m of this.members.values()) {
      if (m.syncRequest !== null) {
        effects.push({ kind: 'sync-reply', requestId: m.syncRequest, reply: this.syncOk(m) });
        m.syncRequest = null;
      }
    }
    return effects;
  }

  private syncOk(member: Member): SyncReply {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    };
  }

  heartbeat(
    request: { memberId: string; groupInstanceId: string | null; generationId: number },
    nowMs: number,
  ): number {
    if (this.state === 'Dead' || this.state === 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID;
    const check = this.checkMember(request.memberId, request.groupInstanceId, request.generationId);
    if (check !== ErrorCode.NONE) return check;
    this.members.get(request.memberId)!.lastHeartbeatMs = nowMs;
    if (this.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** LeaveGroup for one member; returns its error code and the effects. */
  leave(memberId: string, groupInstanceId: string | null, nowMs: number): { errorCode: number; effects: Effect[] } {
    let id = memberId;
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, effects: [] };
      if (memberId !== '' && current !== memberId) return { errorCode: ErrorCode.FENCED_INSTANCE_ID, effects: [] };
      id = current;
    }
    const member = this.members.get(id);
    if (!member) {
      if (this.pendingMembers.delete(id)) return { errorCode: ErrorCode.NONE, effects: [] };
      return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, effects: [] };
    }
    const effects: Effect[] = [];
    if (member.joinRequest !== null) effects.push(this.error(member.joinRequest, id, ErrorCode.UNKNOWN_MEMBER_ID));
    if (member.syncRequest !== null)
      effects.push({
        kind: 'sync-reply',
        requestId: member.syncRequest,
        reply: this.syncError(ErrorCode.UNKNOWN_MEMBER_ID),
      });
    this.removeMember(id);
    effects.push(...this.afterMembershipLoss(nowMs));
    return { errorCode: ErrorCode.NONE, effects };
  }

  private afterMembershipLoss(nowMs: number): Effect[] {
    if (this.members.size === 0 && this.state !== 'PreparingRebalance') {
      this.generationId++;
      this.toEmpty(nowMs);
      return [{ kind: 'persist' }];
    }
    if (this.state === 'Stable' || this.state === 'CompletingRebalance')
      return this.prepareRebalance(nowMs).concat(this.maybeCompleteJoin(nowMs));
    return this.maybeCompleteJoin(nowMs);
  }

  /** Clock tick: session expiry, rebalance and sync deadlines, pending-id expiry. */
  tick(nowMs: number): Effect[] {
    const effects: Effect[] = [];
    for (const [id, deadline] of this.pendingMembers) if (nowMs >= deadline) this.pendingMembers.delete(id);
    let lost = false;
    for (const member of [...this.members.values()]) {
      const parkedInJoin = this.state === 'PreparingRebalance' && member.joinRequest !== null;
      if (!parkedInJoin && nowMs - member.lastHeartbeatMs > member.sessionTimeoutMs) {
        if (member.syncRequest !== null)
          effects.push({
            kind: 'sync-reply',
            requestId: member.syncRequest,
            reply: this.syncError(ErrorCode.UNKNOWN_MEMBER_ID),
          });
        if (member.joinRequest !== null)
          effects.push(this.error(member.joinRequest, member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        this.removeMember(member.memberId);
        lost = true;
      }
    }
    if (lost) effects.push(...this.afterMembershipLoss(nowMs));
    if (this.state === 'PreparingRebalance') effects.push(...this.maybeCompleteJoin(nowMs));
    if (this.state === 'CompletingRebalance' && nowMs >= this.syncDeadlineMs) {
      // The leader never sent the assignment: everyone must join again.
      effects.push(...this.prepareRebalance(nowMs));
    }
    return effects;
  }

  /** Restores a group loaded from the offsets topic: members get a fresh session. */
  restore(snapshot: GroupSnapshot, nowMs: number): void {
    this.generationId = snapshot.generationId;
    this.protocolType = snapshot.protocolType;
    this.protocolName = snapshot.protocolName;
    this.leaderId = snapshot.leaderId;
    this.members.clear();
    this.staticMembers.clear();
    for (const m of snapshot.members) {
      this.members.set(m.memberId, {
        ...m,
        protocols: m.protocols,
        lastHeartbeatMs: nowMs,
        joinRequest: null,
        syncRequest: null,
      });
      if (m.groupInstanceId !== null) this.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    this.state = this.members.size > 0 ? 'Stable' : 'Empty';
    this.emptySinceMs = snapshot.emptySinceMs ?? nowMs;
  }

  snapshot(): GroupSnapshot {
    return {
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      emptySinceMs: this.state === 'Empty' ? this.emptySinceMs : null,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocolType: m.protocolType,
        protocols: m.protocols,
        assignment: m.assignment,
      })),
    };
  }

  /** Whether a commit from this member at this generation may be stored. */
  canCommit(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Kafka's classic group: a commit with no generation (admin tools, assign() consumers)
    // is accepted while the group is empty, whatever member id it names.
    if (generationId < 0 && this.state === 'Empty') return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const check = this.checkMember(memberId, groupInstanceId, generationId);
      if (check !== ErrorCode.NONE) return check;
    } else {
      // No member id and no generation (v0, or a standalone consumer): only into an empty group.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }
}

export interface GroupSnapshot {
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  emptySinceMs: number | null;
  members: Omit<Member, 'lastHeartbeatMs' | 'joinRequest' | 'syncRequest'>[];
}
