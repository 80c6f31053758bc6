// The Raft core of the metadata quorum: a pure, synchronous state machine. Inputs are
// tick() (logical time), step(message) and propose(data); outputs are collected in a
// Ready: hard state and entries to persist, messages to send, committed entries to apply.
// The driver must handle a Ready in that order: persist (fsync) first, then send, then
// apply; that is what makes a vote or an append acknowledgement safe across crashes. The
// core treats a Ready's term, vote and entries as unpersisted until advance(ready) (etcd's
// Ready/Advance): a driver whose storage failed never calls it and stops.
// No clocks, timers, sockets, files or Math.random here: randomness comes in as a seeded
// function.
//
// Implemented: leader election with randomized timeouts and pre-vote (a node that cannot
// win does not disturb the cluster by raising terms); check-quorum (a leader that has not
// heard from a majority within an election timeout steps down, and followers that heard
// from a leader recently refuse votes, the leader lease); log replication with the
// consistency check and fast backtracking by conflicting term, each append bounded in
// entries and in bytes (so that it fits the follower's frame limit); commit only by majority
// match of an entry of the leader's own term (a no-op is appended on election);
// leadership transfer with TimeoutNow; non-voting observers that receive the log but
// neither vote nor count towards commit; snapshots (the driver hands in the state
// machine's image at an applied index and the log before it is dropped; a follower behind
// the leader's log start gets the snapshot instead of entries); and membership changes one
// voter at a time (Raft dissertation §4.1): a membership entry takes effect on every node
// as soon as it is in its log, a leader starts a change only once an entry of its own term
// has committed and no earlier change is pending, and a leader removed from the voters
// steps down when the change commits. Who may move the term: only voters (a non-voter only
// when its log is ahead of ours and no leader is alive, see handleVote), a transfer flag
// only in the term right after the leader's, TimeoutNow only from the leader.

import { decodeMembership, encodeMembership, ENTRY_MEMBERSHIP, VoterEndpoint } from './membership';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface Entry {
  index: number;
  term: number;
  /** Empty for the leader's no-op; an encoded voter set for a membership entry. */
  data: Buffer;
  /** ENTRY_NORMAL (default), ENTRY_MEMBERSHIP, or a kind of the application's (passed through). */
  kind?: number;
}

/** The state machine at `index`, with the voter set in effect there. */
export interface Snapshot {
  index: number;
  term: number;
  voters: VoterEndpoint[];
  data: Buffer;
}

export type Message =
  | {
      type: 'vote';
      from: number;
      to: number;
      term: number;
      lastLogIndex: number;
      lastLogTerm: number;
      preVote: boolean;
      transfer: boolean;
    }
  | { type: 'vote-response'; from: number; to: number; term: number; granted: boolean; preVote: boolean }
  | {
      type: 'append';
      from: number;
      to: number;
      term: number;
      prevLogIndex: number;
      prevLogTerm: number;
      entries: Entry[];
      leaderCommit: number;
    }
  | {
      type: 'append-response';
      from: number;
      to: number;
      term: number;
      success: boolean;
      matchIndex: number;
      conflictTerm: number;
      conflictIndex: number;
    }
  | { type: 'timeout-now'; from: number; to: number; term: number }
  | { type: 'snapshot'; from: number; to: number; term: number; snapshot: Snapshot };

export interface HardState {
  term: number;
  votedFor: number;
}

export interface Ready {
  /** Set when term or vote changed: persist before sending anything. */
  hardState: HardState | null;
  /** Persist these, replacing the stored log from `entries[0].index` on (a truncation). */
  entries: Entry[];
  messages: Message[];
  /** Newly committed entries, in order: apply after persisting. */
  committed: Entry[];
  /**
   * A snapshot from the leader to install: persist it (keeping the log after its index
   * when the entry at its index has its term, else dropping the whole log) before the
   * entries above, and restore the state machine from it before applying `committed`.
   */
  snapshot: Snapshot | null;
}

export interface RaftConfig {
  id: number;
  /** The initial voters, used until a snapshot or a membership entry says otherwise. */
  voters: number[];
  /** Their endpoints, when the driver knows them (carried into membership entries). */
  voterEndpoints?: VoterEndpoint[];
  observers?: number[];
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  /** A seeded source of randomness in [0, 1). */
  random: () => number;
  /** Entries per append message. */
  maxEntriesPerMessage?: number;
  /**
   * Bytes of entries per append message (each entry counted as its data plus
   * ENTRY_OVERHEAD_BYTES); a message always carries at least one entry, however large.
   */
  maxBytesPerMessage?: number;
}

/** Default bytes of entries in one append message. */
export const DEFAULT_MAX_APPEND_BYTES = 4 * 1024 * 1024;
/** What one entry costs in an append message besides its data: term, kind, length, tags. */
export const ENTRY_OVERHEAD_BYTES = 32;

export interface PersistedState {
  hardState: HardState;
  /** The entries after the snapshot (or from index 1 without one). */
  entries: Entry[];
  snapshot?: Snapshot | null;
}

const NONE = -1;

export class RaftNode {
  readonly id: number;
  role: Role = 'follower';
  term = 0;
  votedFor = NONE;
  leaderId = NONE;
  commitIndex = 0;
  private appliedIndex = 0;
  /** The newest snapshot; the log holds the entries after it. */
  private snapshot: Snapshot | null = null;
  /** A snapshot received from the leader, for the next Ready to install. */
  private pendingInstall: Snapshot | null = null;
  /** The entries after the snapshot: index i lives at log[i - snapshotIndex - 1]. */
  private log: Entry[] = [];
  private voters = new Set<number>();
  private voterEndpoints: VoterEndpoint[] = [];
  /** Index of the membership entry in effect (0 when it comes from config or snapshot). */
  private membershipIndex = 0;
  private readonly observers: Set<number>;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<number, boolean>();
  private readonly nextIndex = new Map<number, number>();
  private readonly matchIndex = new Map<number, number>();
  /** Peers sent a snapshot that has not been answered yet: ticks since sending. */
  private readonly snapshotInFlight = new Map<number, number>();
  /** Peers heard from since the last check-quorum round. */
  private readonly recentActive = new Set<number>();
  private transferTarget = NONE;
  private transferElapsed = 0;

  // What the next Ready will carry.
  private hardStateDirty = false;
  private unstableFrom = Infinity;
  private outbox: Message[] = [];

  constructor(
    private readonly config: RaftConfig,
    persisted: PersistedState = { hardState: { term: 0, votedFor: NONE }, entries: [] },
  ) {
    this.id = config.id;
    this.observers = new Set(config.observers ?? []);
    this.term = persisted.hardState.term;
    this.votedFor = persisted.hardState.votedFor;
    this.snapshot = persisted.snapshot ?? null;
    const from = this.snapshotIndex;
    this.log = persisted.entries.filter((e) => e.index > from);
    this.commitIndex = from;
    this.appliedIndex = from;
    this.recomputeMembership();
    this.resetElectionTimeout();
  }

  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.log.length;
  }

  get isVoter(): boolean {
    return this.voters.has(this.id);
  }

  /** The term of the entry at `index`; -1 when unknown (beyond the log, or compacted away). */
  termAt(index: number): number {
    if (index === 0) return 0;
    const base = this.snapshotIndex;
    if (index === base) return this.snapshot!.term;
    if (index < base) return NONE;
    return this.log[index - base - 1]?.term ?? NONE;
  }

  entryAt(index: number): Entry | undefined {
    return index > this.snapshotIndex ? this.log[index - this.snapshotIndex - 1] : undefined;
  }

  /** The entries after the snapshot. */
  entries(): readonly Entry[] {
    return this.log;
  }

  /** The voter set in effect (the newest in the log, committed or not). */
  membership(): readonly VoterEndpoint[] {
    return this.voterEndpoints;
  }

  /** Whether a membership change is in the log but not yet committed. */
  get membershipPending(): boolean {
    return this.membershipIndex > this.commitIndex;
  }

  private quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  private peers(): number[] {
    return [...new Set([...this.voters, ...this.observers])].filter((id) => id !== this.id);
  }

  /** The voter set in effect at `index`: the newest membership entry at or before it. */
  private membershipAt(index: number): { voters: VoterEndpoint[]; index: number } {
    for (let i = Math.min(index, this.lastIndex); i > this.snapshotIndex; i--) {
      const entry = this.log[i - this.snapshotIndex - 1];
      if (entry.kind === ENTRY_MEMBERSHIP) return { voters: decodeMembership(entry.data), index: i };
    }
    if (this.snapshot) return { voters: this.snapshot.voters, index: 0 };
    const endpoints = this.config.voterEndpoints ?? this.config.voters.map((id) => ({ id, host: '', port: 0 }));
    return { voters: endpoints, index: 0 };
  }

  private recomputeMembership(): void {
    const { voters, index } = this.membershipAt(this.lastIndex);
    this.voterEndpoints = voters;
    this.voters = new Set(voters.map((v) => v.id));
    this.membershipIndex = index;
  }

  private resetElectionTimeout(): void {
    this.electionElapsed = 0;
    const t = this.config.electionTimeoutTicks;
    this.randomizedElectionTimeout = t + Math.floor(this.config.random() * t);
  }

  private send(message: Message): void {
    this.outbox.push(message);
  }

  private setTerm(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.votedFor = NONE;
      this.hardStateDirty = true;
    }
  }

  private becomeFollower(term: number, leaderId: number): void {
    this.setTerm(term);
    this.role = 'follower';
    this.leaderId = leaderId;
    this.transferTarget = NONE;
    this.resetElectionTimeout();
  }

  private appendToLog(entries: Entry[]): void {
    let membershipChanged = false;
    for (const entry of entries) {
      this.log[entry.index - this.snapshotIndex - 1] = entry;
      this.unstableFrom = Math.min(this.unstableFrom, entry.index);
      if (entry.kind === ENTRY_MEMBERSHIP) membershipChanged = true;
    }
    if (membershipChanged) this.recomputeMembership();
  }

  /** Cuts the log after `index` (a follower dropping a divergent suffix). */
  private truncateAfter(index: number): void {
    const hadMembership = this.membershipIndex > index;
    this.log.length = Math.max(0, index - this.snapshotIndex);
    if (hadMembership) this.recomputeMembership();
  }

  // ---- time ----

  tick(): void {
    if (this.role === 'leader') {
      this.heartbeatElapsed++;
      this.electionElapsed++;
      for (const [peer, elapsed] of this.snapshotInFlight) {
        // An unanswered snapshot is sent again after a while (the transfer may have failed).
        if (elapsed + 1 >= 2 * this.config.electionTimeoutTicks) this.snapshotInFlight.delete(peer);
        else this.snapshotInFlight.set(peer, elapsed + 1);
      }
      if (this.transferTarget !== NONE && ++this.transferElapsed >= this.config.electionTimeoutTicks)
        this.transferTarget = NONE;
      if (this.electionElapsed >= this.config.electionTimeoutTicks) {
        this.electionElapsed = 0;
        // Check-quorum: step down unless a majority of voters (counting us) was heard from.
        let active = this.voters.has(this.id) ? 1 : 0;
        for (const id of this.recentActive) if (this.voters.has(id) && id !== this.id) active++;
        this.recentActive.clear();
        if (active < this.quorum()) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
        this.heartbeatElapsed = 0;
        for (const peer of this.peers()) this.sendAppend(peer, true);
      }
      return;
    }
    this.electionElapsed++;
    if (this.isVoter && this.electionElapsed >= this.randomizedElectionTimeout) this.campaign(true, false);
  }

  // ---- elections ----

  private lastLogTerm(): number {
    return this.termAt(this.lastIndex);
  }

  private campaign(preVote: boolean, transfer: boolean): void {
    this.resetElectionTimeout();
    this.votes.clear();
    this.leaderId = NONE;
    if (preVote) {
      this.role = 'pre-candidate';
    } else {
      this.role = 'candidate';
      this.setTerm(this.term + 1);
      this.votedFor = this.id;
      this.hardStateDirty = true;
    }
    this.votes.set(this.id, true);
    if (this.tallyVotes(preVote)) return;
    const term = preVote ? this.term + 1 : this.term;
    for (const voter of this.voters) {
      if (voter === this.id) continue;
      this.send({
        type: 'vote',
        from: this.id,
        to: voter,
        term,
        lastLogIndex: this.lastIndex,
        lastLogTerm: this.lastLogTerm(),
        preVote,
        transfer,
      });
    }
  }

  /** Counts votes; acts on a decided election. Returns true when decided. */
  private tallyVotes(preVote: boolean): boolean {
    let granted = 0;
    let rejected = 0;
    for (const [voter, vote] of this.votes) {
      if (!this.voters.has(voter)) continue;
      if (vote) granted++;
      else rejected++;
    }
    if (granted >= this.quorum()) {
      if (preVote) this.campaign(false, false);
      else this.becomeLeader();
      return true;
    }
    if (rejected >= this.quorum()) {
      this.becomeFollower(this.term, NONE);
      return true;
    }
    return false;
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.id;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    this.recentActive.clear();
    this.transferTarget = NONE;
    this.snapshotInFlight.clear();
    this.nextIndex.clear();
    this.matchIndex.clear();
    for (const peer of this.peers()) {
      this.nextIndex.set(peer, this.lastIndex + 1);
      this.matchIndex.set(peer, 0);
    }
    // A no-op of the new term: entries of earlier terms commit only through it.
    this.appendToLog([{ index: this.lastIndex + 1, term: this.term, data: Buffer.alloc(0) }]);
    this.maybeCommit();
    for (const peer of this.peers()) this.sendAppend(peer, false);
  }

  /** Whether a log ending at (lastLogIndex, lastLogTerm) is strictly more up to date than ours. */
  private logAhead(lastLogIndex: number, lastLogTerm: number): boolean {
    const ourTerm = this.lastLogTerm();
    return lastLogTerm > ourTerm || (lastLogTerm === ourTerm && lastLogIndex > this.lastIndex);
  }

  private logUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    const ourTerm = this.lastLogTerm();
    return lastLogTerm > ourTerm || (lastLogTerm === ourTerm && lastLogIndex >= this.lastIndex);
  }

  /** Whether we heard from a leader within the election timeout (the leader lease). */
  private get inLeaderLease(): boolean {
    return this.leaderId !== NONE && this.electionElapsed < this.config.electionTimeoutTicks;
  }

  private handleVote(m: Extract<Message, { type: 'vote' }>): void {
    // No bound on how far one message may move the term: Raft has none, and a voter back
    // from a long partition (or one that campaigned alone many times without pre-vote)
    // legitimately carries a much larger term; refusing it would leave the cluster unable to
    // elect. Terms are 64-bit, so a large jump cannot wedge the quorum, and only
    // authenticated voters (handshake.ts, and the rules here) can cause one.
    //
    // A node outside our voter set (an observer, a removed voter) does not move our term
    // or get our vote, with one exception that liveness needs: a candidate whose log is
    // strictly ahead of ours may be a voter added by a membership entry we have not
    // received yet, and the new voter set may need our vote to elect anyone (a node with a
    // log no newer than ours cannot know a voter set we do not). Even then, not while we
    // hear from a live leader.
    if (!this.voters.has(m.from) && (this.inLeaderLease || !this.logAhead(m.lastLogIndex, m.lastLogTerm))) {
      this.send({
        type: 'vote-response',
        from: this.id,
        to: m.from,
        term: this.term,
        granted: false,
        preVote: m.preVote,
      });
      return;
    }
    // Leader lease: while we believe in a live leader, refuse to help unseat it, unless the
    // leader itself asked for the election (transfer). A transfer candidate was told to run
    // by the leader of our term, so it campaigns in the very next term; a transfer flag on
    // any other term is not what the leader asked for and gets no exemption from the lease.
    const transfer = m.transfer && m.term === this.term + 1;
    const inLease = this.inLeaderLease && !transfer;
    if (m.preVote) {
      const granted = m.term > this.term && !inLease && this.logUpToDate(m.lastLogIndex, m.lastLogTerm);
      this.send({
        type: 'vote-response',
        from: this.id,
        to: m.from,
        term: granted ? m.term : this.term,
        granted,
        preVote: true,
      });
      return;
    }
    if (m.term < this.term || (m.term > this.term && inLease)) {
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: this.term, granted: false, preVote: false });
      return;
    }
    if (m.term > this.term) this.becomeFollower(m.term, NONE);
    const canVote = this.votedFor === NONE || this.votedFor === m.from;
    const granted = canVote && this.logUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (granted) {
      this.votedFor = m.from;
      this.hardStateDirty = true;
      this.resetElectionTimeout();
    }
    this.send({ type: 'vote-response', from: this.id, to: m.from, term: this.term, granted, preVote: false });
  }

  private handleVoteResponse(m: Extract<Message, { type: 'vote-response' }>): void {
    if (!this.voters.has(m.from)) return;
    if (m.preVote) {
      if (this.role !== 'pre-candidate') return;
      if (!m.granted && m.term > this.term) {
        this.becomeFollower(m.term, NONE);
        return;
      }
      if (m.term !== this.term + 1 && m.granted) return;
      this.votes.set(m.from, m.granted);
      this.tallyVotes(true);
      return;
    }
    if (m.term > this.term) {
      this.becomeFollower(m.term, NONE);
      return;
    }
    if (this.role !== 'candidate' || m.term !== this.term) return;
    this.votes.set(m.from, m.granted);
    this.tallyVotes(false);
  }

  // ---- replication ----

  private sendAppend(peer: number, heartbeat: boolean): void {
    const next = this.nextIndex.get(peer) ?? this.lastIndex + 1;
    if (next <= this.snapshotIndex) {
      // The entries this peer needs are compacted away: it gets the snapshot, once at a time.
      if (!this.snapshotInFlight.has(peer)) {
        this.snapshotInFlight.set(peer, 0);
        this.send({ type: 'snapshot', from: this.id, to: peer, term: this.term, snapshot: this.snapshot! });
      }
      return;
    }
    const prevLogIndex = next - 1;
    const start = next - this.snapshotIndex - 1;
    const entries = heartbeat && next > this.lastIndex ? [] : this.log.slice(start, this.batchEnd(start));
    this.send({
      type: 'append',
      from: this.id,
      to: peer,
      term: this.term,
      prevLogIndex,
      prevLogTerm: this.termAt(prevLogIndex),
      entries,
      leaderCommit: this.commitIndex,
    });
  }

  /**
   * Where an append starting at log position `start` ends: at most maxEntriesPerMessage
   * entries and maxBytesPerMessage bytes, but always one entry when there is one (a single
   * entry larger than the byte bound travels alone; metadata entries are bounded smaller
   * than the controller port's frame limit by the proposer).
   */
  private batchEnd(start: number): number {
    const maxEntries = this.config.maxEntriesPerMessage ?? 64;
    const maxBytes = this.config.maxBytesPerMessage ?? DEFAULT_MAX_APPEND_BYTES;
    let end = start;
    let bytes = 0;
    while (end < this.log.length && end - start < maxEntries) {
      const size = this.log[end].data.length + ENTRY_OVERHEAD_BYTES;
      if (end > start && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    return end;
  }

  private firstIndexOfTerm(index: number): number {
    const term = this.termAt(index);
    let i = index;
    while (i > this.snapshotIndex + 1 && this.termAt(i - 1) === term) i--;
    return i;
  }

  /**
   * A leader's message (append, snapshot) from a node outside our voter set with a newer
   * term, while a leader we know is alive: ignored, so a non-voter cannot disrupt a healthy
   * quorum. Without a live leader it is followed: a voter added by a membership entry this
   * node has not received yet can lead, and this node must follow it to learn the entry.
   */
  private refusesNonVoterLeader(m: { from: number; term: number }): boolean {
    return m.term > this.term && !this.voters.has(m.from) && this.inLeaderLease;
  }

  private handleAppend(m: Extract<Message, { type: 'append' }>): void {
    if (m.term < this.term || this.refusesNonVoterLeader(m)) {
      // A stale leader learns the newer term from this answer and steps down.
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        matchIndex: 0,
        conflictTerm: NONE,
        conflictIndex: 0,
      });
      return;
    }
    this.becomeFollower(m.term, m.from);
    let prevLogIndex = m.prevLogIndex;
    let prevLogTerm = m.prevLogTerm;
    let entries = m.entries;
    const base = this.snapshotIndex;
    if (prevLogIndex < base) {
      // Everything up to our snapshot is committed, so it matches the leader's log: skip it.
      entries = entries.filter((e) => e.index > base);
      prevLogIndex = base;
      prevLogTerm = this.termAt(base);
      if (entries.length === 0) {
        this.send({
          type: 'append-response',
          from: this.id,
          to: m.from,
          term: this.term,
          success: true,
          matchIndex: base,
          conflictTerm: NONE,
          conflictIndex: 0,
        });
        return;
      }
    }
    if (prevLogIndex > this.lastIndex) {
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        matchIndex: 0,
        conflictTerm: NONE,
        conflictIndex: this.lastIndex + 1,
      });
      return;
    }
    if (this.termAt(prevLogIndex) !== prevLogTerm) {
      const conflictTerm = this.termAt(prevLogIndex);
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        matchIndex: 0,
        conflictTerm,
        conflictIndex: this.firstIndexOfTerm(prevLogIndex),
      });
      return;
    }
    // Append, truncating only at the first real conflict (a reordered, older append must
    // not cut entries that a newer one already added).
    const fresh: Entry[] = [];
    for (const entry of entries) {
      const existing = this.termAt(entry.index);
      if (fresh.length === 0 && existing === entry.term) continue;
      if (fresh.length === 0 && existing !== NONE) this.truncateAfter(entry.index - 1);
      fresh.push(entry);
    }
    if (fresh.length > 0) this.appendToLog(fresh);
    const lastNew = prevLogIndex + entries.length;
    if (m.leaderCommit > this.commitIndex)
      this.commitIndex = Math.max(this.commitIndex, Math.min(m.leaderCommit, lastNew));
    this.send({
      type: 'append-response',
      from: this.id,
      to: m.from,
      term: this.term,
      success: true,
      matchIndex: lastNew,
      conflictTerm: NONE,
      conflictIndex: 0,
    });
  }

  private handleSnapshot(m: Extract<Message, { type: 'snapshot' }>): void {
    if (m.term < this.term || this.refusesNonVoterLeader(m)) {
      this.send({
        type: 'append-response',
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        matchIndex: 0,
        conflictTerm: NONE,
        conflictIndex: 0,
      });
      return;
    }
    this.becomeFollower(m.term, m.from);
    const s = m.snapshot;
    if (s.index > this.commitIndex) {
      if (this.termAt(s.index) === s.term) {
        // We hold the snapshot's last entry: keep what follows it (it may already count
        // towards a commit at the leader), drop what precedes it.
        this.log = this.log.slice(s.index - this.snapshotIndex);
        if (this.unstableFrom !== Infinity) this.unstableFrom = Math.max(this.unstableFrom, s.index + 1);
      } else {
        this.log = [];
        this.unstableFrom = Infinity;
      }
      this.snapshot = s;
      this.pendingInstall = s;
      this.commitIndex = s.index;
      this.recomputeMembership();
    }
    // A snapshot at or below our commit index holds nothing new: committed entries match.
    this.send({
      type: 'append-response',
      from: this.id,
      to: m.from,
      term: this.term,
      success: true,
      matchIndex: s.index,
      conflictTerm: NONE,
      conflictIndex: 0,
    });
  }

  private handleAppendResponse(m: Extract<Message, { type: 'append-response' }>): void {
    // An observer's newer term does not unseat the leader (only voters' terms count).
    if (m.term > this.term && !this.voters.has(m.from)) return;
    if (m.term > this.term) {
      this.becomeFollower(m.term, NONE);
      return;
    }
    if (this.role !== 'leader' || m.term !== this.term) return;
    this.recentActive.add(m.from);
    if (m.success) {
      if (m.matchIndex >= this.snapshotIndex) this.snapshotInFlight.delete(m.from);
      if (m.matchIndex > (this.matchIndex.get(m.from) ?? 0)) this.matchIndex.set(m.from, m.matchIndex);
      this.nextIndex.set(m.from, Math.max(this.nextIndex.get(m.from) ?? 1, m.matchIndex + 1));
      this.maybeCommit();
      if (this.role !== 'leader') return;
      if ((this.nextIndex.get(m.from) ?? 0) <= this.lastIndex) this.sendAppend(m.from, false);
      if (this.transferTarget === m.from && (this.matchIndex.get(m.from) ?? 0) === this.lastIndex) {
        this.send({ type: 'timeout-now', from: this.id, to: m.from, term: this.term });
      }
      return;
    }
    // A snapshot is on its way to this peer: its refusals of appends say nothing new.
    if (this.snapshotInFlight.has(m.from)) return;
    // Fast backtracking: skip the whole conflicting term at once.
    let next = m.conflictIndex;
    if (m.conflictTerm !== NONE) {
      for (let i = this.lastIndex; i > this.snapshotIndex; i--) {
        if (this.termAt(i) === m.conflictTerm) {
          next = i + 1;
          break;
        }
        if (this.termAt(i) < m.conflictTerm) break;
      }
    }
    next = Math.max(1, Math.min(next, this.lastIndex + 1, this.nextIndex.get(m.from) ?? this.lastIndex + 1));
    if (next <= (this.matchIndex.get(m.from) ?? 0)) next = (this.matchIndex.get(m.from) ?? 0) + 1;
    this.nextIndex.set(m.from, next);
    this.sendAppend(m.from, false);
  }

  private maybeCommit(): void {
    const matches = [...this.voters]
      .map((id) => (id === this.id ? this.lastIndex : (this.matchIndex.get(id) ?? 0)))
      .sort((a, b) => b - a);
    const candidate = matches[this.quorum() - 1];
    // Only an entry of the current term commits by counting (Raft §5.4.2).
    if (candidate > this.commitIndex && this.termAt(candidate) === this.term) this.commitIndex = candidate;
    // A leader that the committed voter set no longer includes hands over by stepping down.
    if (this.role === 'leader' && !this.voters.has(this.id) && this.membershipIndex <= this.commitIndex) {
      this.becomeFollower(this.term, NONE);
    }
  }

  private handleTimeoutNow(m: Extract<Message, { type: 'timeout-now' }>): void {
    // Only the leader of our term may hand leadership over.
    if (m.term !== this.term || !this.isVoter || m.from !== this.leaderId || m.from === this.id) return;
    this.campaign(false, true);
  }

  // ---- inputs ----

  step(m: Message): void {
    if (m.to !== this.id) return;
    switch (m.type) {
      case 'vote':
        return this.handleVote(m);
      case 'vote-response':
        return this.handleVoteResponse(m);
      case 'append':
        return this.handleAppend(m);
      case 'append-response':
        return this.handleAppendResponse(m);
      case 'timeout-now':
        return this.handleTimeoutNow(m);
      case 'snapshot':
        return this.handleSnapshot(m);
    }
  }

  /**
   * Appends a client entry at the leader (`kind` is the application's, never
   * ENTRY_MEMBERSHIP); returns its index, or -1 when not leader.
   */
  propose(data: Buffer, kind?: number): number {
    if (this.role !== 'leader' || this.transferTarget !== NONE || kind === ENTRY_MEMBERSHIP) return -1;
    const entry: Entry = { index: this.lastIndex + 1, term: this.term, data };
    if (kind !== undefined && kind !== 0) entry.kind = kind;
    return this.appendAsLeader(entry);
  }

  private appendAsLeader(entry: Entry): number {
    this.appendToLog([entry]);
    this.maybeCommit();
    if (this.role !== 'leader') return entry.index;
    for (const peer of this.peers()) {
      if (!this.nextIndex.has(peer)) {
        this.nextIndex.set(peer, entry.index);
        this.matchIndex.set(peer, 0);
      }
      if ((this.nextIndex.get(peer) ?? 0) === entry.index) this.sendAppend(peer, false);
    }
    return entry.index;
  }

  /**
   * Proposes a new voter set differing from the current one by exactly one voter. Returns
   * the entry's index, or a reason it cannot be done now.
   */
  changeMembership(voters: VoterEndpoint[]): number | string {
    if (this.role !== 'leader' || this.transferTarget !== NONE) return 'not the leader';
    if (this.termAt(this.commitIndex) !== this.term) return 'the leader has not committed an entry of its term yet';
    if (this.membershipPending) return 'another membership change is in progress';
    const next = new Set(voters.map((v) => v.id));
    if (next.size !== voters.length) return 'a voter appears twice';
    if (next.size === 0) return 'the quorum needs at least one voter';
    let added = 0;
    let removed = 0;
    for (const id of next) if (!this.voters.has(id)) added++;
    for (const id of this.voters) if (!next.has(id)) removed++;
    if (added + removed !== 1) return 'voters change one at a time';
    // A removed voter keeps receiving the log as an observer, so it learns of its removal
    // (and keeps its metadata current as a broker).
    for (const id of this.voters) if (!next.has(id) && id !== this.id) this.observers.add(id);
    return this.appendAsLeader({
      index: this.lastIndex + 1,
      term: this.term,
      data: encodeMembership(voters),
      kind: ENTRY_MEMBERSHIP,
    });
  }

  /** Followers that only learn the log (they neither vote nor count towards commit). */
  addObserver(id: number): void {
    if (id === this.id || this.observers.has(id)) return;
    this.observers.add(id);
    if (this.role === 'leader' && !this.voters.has(id)) {
      this.nextIndex.set(id, this.lastIndex + 1);
      this.matchIndex.set(id, 0);
      this.sendAppend(id, false);
    }
  }

  removeObserver(id: number): void {
    this.observers.delete(id);
  }

  /**
   * Takes the driver's snapshot of the state machine at `index` (applied here) and drops the
   * log up to it. Returns the snapshot to persist, or null when there is nothing to compact.
   */
  compact(index: number, data: Buffer): Snapshot | null {
    if (index <= this.snapshotIndex || index > this.appliedIndex) return null;
    const snapshot: Snapshot = { index, term: this.termAt(index), voters: this.membershipAt(index).voters, data };
    this.log = this.log.slice(index - this.snapshotIndex);
    this.snapshot = snapshot;
    return snapshot;
  }

  latestSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  /** Hands leadership to `target` once it has caught up (used on clean shutdown). */
  transferLeadership(target: number): boolean {
    if (this.role !== 'leader' || !this.voters.has(target) || target === this.id) return false;
    this.transferTarget = target;
    this.transferElapsed = 0;
    if ((this.matchIndex.get(target) ?? 0) === this.lastIndex)
      this.send({ type: 'timeout-now', from: this.id, to: target, term: this.term });
    else this.sendAppend(target, false);
    return true;
  }

  /** What this node knows of the quorum: for the leader, each peer's replication progress. */
  describe(): {
    leaderId: number;
    term: number;
    commitIndex: number;
    lastIndex: number;
    role: Role;
    progress: { nodeId: number; matchIndex: number; voter: boolean }[];
  } {
    const progress =
      this.role === 'leader'
        ? [...new Set([...this.voters, ...this.observers])].map((id) => ({
            nodeId: id,
            matchIndex: id === this.id ? this.lastIndex : (this.matchIndex.get(id) ?? 0),
            voter: this.voters.has(id),
          }))
        : [];
    return {
      leaderId: this.leaderId,
      term: this.term,
      commitIndex: this.commitIndex,
      lastIndex: this.lastIndex,
      role: this.role,
      progress,
    };
  }

  /** Starts an election now (a single-voter quorum need not wait for a timeout). */
  campaignNow(): void {
    if (this.isVoter && this.role !== 'leader') this.campaign(true, false);
  }

  /**
   * Everything to persist, send and apply since the last advance(). Nothing changes here:
   * the core goes on treating the hard state, the entries and the snapshot as unpersisted
   * (and the messages as unsent, the entries as unapplied) until the driver calls
   * advance() with this Ready, which it does only once all of it is on disk. A driver that
   * failed to persist never calls advance() and stops.
   */
  ready(): Ready {
    const hardState = this.hardStateDirty ? { term: this.term, votedFor: this.votedFor } : null;
    const snapshot = this.pendingInstall;
    const base = this.snapshotIndex;
    const applied = snapshot ? Math.max(this.appliedIndex, snapshot.index) : this.appliedIndex;
    const entries = this.unstableFrom === Infinity ? [] : this.log.slice(this.unstableFrom - base - 1);
    const messages = this.outbox.slice();
    const committed = this.commitIndex > applied ? this.log.slice(applied - base, this.commitIndex - base) : [];
    return { hardState, entries, messages, committed, snapshot };
  }

  /**
   * The driver has persisted `ready` (fsync'd), and will now send its messages and apply its
   * committed entries. Must follow the ready() that made it, with no step in between.
   */
  advance(ready: Ready): void {
    if (ready.hardState && ready.hardState.term === this.term && ready.hardState.votedFor === this.votedFor)
      this.hardStateDirty = false;
    if (ready.snapshot && ready.snapshot === this.pendingInstall) {
      this.pendingInstall = null;
      this.appliedIndex = Math.max(this.appliedIndex, ready.snapshot.index);
    }
    const persistedThrough = ready.entries.length > 0 ? ready.entries[ready.entries.length - 1].index : -1;
    if (
      this.unstableFrom !== Infinity &&
      (ready.entries.length === 0
        ? this.unstableFrom > this.lastIndex
        : ready.entries[0].index === this.unstableFrom && persistedThrough === this.lastIndex)
    )
      this.unstableFrom = Infinity;
    this.outbox.splice(0, ready.messages.length);
    const last = ready.committed[ready.committed.length - 1];
    if (last) this.appliedIndex = Math.max(this.appliedIndex, last.index);
  }
}
