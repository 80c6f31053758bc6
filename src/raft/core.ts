// The Raft core of the metadata quorum: a pure, synchronous state machine. Inputs are
// tick() (logical time), step(message) and propose(data); outputs are collected in a
// Ready: hard state and entries to persist, messages to send, committed entries to apply.
// The driver must handle a Ready in that order: persist (fsync) first, then send, then
// apply; that is what makes a vote or an append acknowledgement safe across crashes.
// No clocks, timers, sockets, files or Math.random here: randomness comes in as a seeded
// function.
//
// Implemented: leader election with randomized timeouts and pre-vote (a node that cannot
// win does not disturb the cluster by raising terms); check-quorum (a leader that has not
// heard from a majority within an election timeout steps down, and followers that heard
// from a leader recently refuse votes, the leader lease); log replication with the
// consistency check and fast backtracking by conflicting term; commit only by majority
// match of an entry of the leader's own term (a no-op is appended on election);
// leadership transfer with TimeoutNow; non-voting observers that receive the log but
// neither vote nor count towards commit.

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface Entry {
  index: number;
  term: number;
  /** Empty for the leader's no-op. */
  data: Buffer;
}

export type Message =
  | { type: 'vote'; from: number; to: number; term: number; lastLogIndex: number; lastLogTerm: number; preVote: boolean; transfer: boolean }
  | { type: 'vote-response'; from: number; to: number; term: number; granted: boolean; preVote: boolean }
  | { type: 'append'; from: number; to: number; term: number; prevLogIndex: number; prevLogTerm: number; entries: Entry[]; leaderCommit: number }
  | { type: 'append-response'; from: number; to: number; term: number; success: boolean; matchIndex: number; conflictTerm: number; conflictIndex: number }
  | { type: 'timeout-now'; from: number; to: number; term: number };

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
}

export interface RaftConfig {
  id: number;
  voters: number[];
  observers?: number[];
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  /** A seeded source of randomness in [0, 1). */
  random: () => number;
  /** Entries per append message. */
  maxEntriesPerMessage?: number;
}

export interface PersistedState {
  hardState: HardState;
  entries: Entry[];
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
  /** The log; index i lives at log[i - 1]. */
  private log: Entry[] = [];
  private readonly voters: Set<number>;
  private readonly observers: Set<number>;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<number, boolean>();
  private readonly nextIndex = new Map<number, number>();
  private readonly matchIndex = new Map<number, number>();
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
    this.voters = new Set(config.voters);
    this.observers = new Set(config.observers ?? []);
    this.term = persisted.hardState.term;
    this.votedFor = persisted.hardState.votedFor;
    this.log = persisted.entries.slice();
    this.resetElectionTimeout();
  }

  get lastIndex(): number {
    return this.log.length;
  }

  get isVoter(): boolean {
    return this.voters.has(this.id);
  }

  termAt(index: number): number {
    if (index === 0) return 0;
    return this.log[index - 1]?.term ?? NONE;
  }

  entries(): readonly Entry[] {
    return this.log;
  }

  private quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  private peers(): number[] {
    return [...this.voters, ...this.observers].filter((id) => id !== this.id);
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
    for (const entry of entries) {
      this.log[entry.index - 1] = entry;
      this.unstableFrom = Math.min(this.unstableFrom, entry.index);
    }
  }

  // ---- time ----

  tick(): void {
    if (this.role === 'leader') {
      this.heartbeatElapsed++;
      this.electionElapsed++;
      if (this.transferTarget !== NONE && ++this.transferElapsed >= this.config.electionTimeoutTicks) this.transferTarget = NONE;
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
      this.send({ type: 'vote', from: this.id, to: voter, term, lastLogIndex: this.lastIndex, lastLogTerm: this.lastLogTerm(), preVote, transfer });
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
    for (const peer of this.peers()) {
      this.nextIndex.set(peer, this.lastIndex + 1);
      this.matchIndex.set(peer, 0);
    }
    // A no-op of the new term: entries of earlier terms commit only through it.
    this.appendToLog([{ index: this.lastIndex + 1, term: this.term, data: Buffer.alloc(0) }]);
    this.matchIndex.set(this.id, this.lastIndex);
    this.maybeCommit();
    for (const peer of this.peers()) this.sendAppend(peer, false);
  }

  private logUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    const ourTerm = this.lastLogTerm();
    return lastLogTerm > ourTerm || (lastLogTerm === ourTerm && lastLogIndex >= this.lastIndex);
  }

  private handleVote(m: Extract<Message, { type: 'vote' }>): void {
    // Leader lease: while we believe in a live leader, refuse to help unseat it, unless the
    // leader itself asked for the election (transfer).
    const inLease = this.leaderId !== NONE && this.electionElapsed < this.config.electionTimeoutTicks && !m.transfer;
    if (m.preVote) {
      const granted = m.term > this.term && !inLease && this.logUpToDate(m.lastLogIndex, m.lastLogTerm);
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: granted ? m.term : this.term, granted, preVote: true });
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
    const prevLogIndex = next - 1;
    const max = this.config.maxEntriesPerMessage ?? 64;
    const entries = heartbeat && next > this.lastIndex ? [] : this.log.slice(next - 1, next - 1 + max);
    this.send({ type: 'append', from: this.id, to: peer, term: this.term, prevLogIndex, prevLogTerm: this.termAt(prevLogIndex), entries, leaderCommit: this.commitIndex });
  }

  private firstIndexOfTerm(index: number): number {
    const term = this.termAt(index);
    let i = index;
    while (i > 1 && this.termAt(i - 1) === term) i--;
    return i;
  }

  private handleAppend(m: Extract<Message, { type: 'append' }>): void {
    if (m.term < this.term) {
      // A stale leader learns the newer term from this answer and steps down.
      this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, success: false, matchIndex: 0, conflictTerm: NONE, conflictIndex: 0 });
      return;
    }
    this.becomeFollower(m.term, m.from);
    if (m.prevLogIndex > this.lastIndex) {
      this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, success: false, matchIndex: 0, conflictTerm: NONE, conflictIndex: this.lastIndex + 1 });
      return;
    }
    if (this.termAt(m.prevLogIndex) !== m.prevLogTerm) {
      const conflictTerm = this.termAt(m.prevLogIndex);
      this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, success: false, matchIndex: 0, conflictTerm, conflictIndex: this.firstIndexOfTerm(m.prevLogIndex) });
      return;
    }
    // Append, truncating only at the first real conflict (a reordered, older append must
    // not cut entries that a newer one already added).
    const fresh: Entry[] = [];
    for (const entry of m.entries) {
      const existing = this.termAt(entry.index);
      if (fresh.length === 0 && existing === entry.term) continue;
      if (fresh.length === 0 && existing !== NONE) this.log.length = entry.index - 1;
      fresh.push(entry);
    }
    if (fresh.length > 0) this.appendToLog(fresh);
    const lastNew = m.prevLogIndex + m.entries.length;
    if (m.leaderCommit > this.commitIndex) this.commitIndex = Math.max(this.commitIndex, Math.min(m.leaderCommit, lastNew));
    this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term, success: true, matchIndex: lastNew, conflictTerm: NONE, conflictIndex: 0 });
  }

  private handleAppendResponse(m: Extract<Message, { type: 'append-response' }>): void {
    if (m.term > this.term) {
      this.becomeFollower(m.term, NONE);
      return;
    }
    if (this.role !== 'leader' || m.term !== this.term) return;
    this.recentActive.add(m.from);
    if (m.success) {
      if (m.matchIndex > (this.matchIndex.get(m.from) ?? 0)) this.matchIndex.set(m.from, m.matchIndex);
      this.nextIndex.set(m.from, Math.max(this.nextIndex.get(m.from) ?? 1, m.matchIndex + 1));
      this.maybeCommit();
      if ((this.nextIndex.get(m.from) ?? 0) <= this.lastIndex) this.sendAppend(m.from, false);
      if (this.transferTarget === m.from && (this.matchIndex.get(m.from) ?? 0) === this.lastIndex) {
        this.send({ type: 'timeout-now', from: this.id, to: m.from, term: this.term });
      }
      return;
    }
    // Fast backtracking: skip the whole conflicting term at once.
    let next = m.conflictIndex;
    if (m.conflictTerm !== NONE) {
      for (let i = this.lastIndex; i >= 1; i--) {
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
    const matches = [...this.voters].map((id) => (id === this.id ? this.lastIndex : (this.matchIndex.get(id) ?? 0))).sort((a, b) => b - a);
    const candidate = matches[this.quorum() - 1];
    // Only an entry of the current term commits by counting (Raft §5.4.2).
    if (candidate > this.commitIndex && this.termAt(candidate) === this.term) this.commitIndex = candidate;
  }

  private handleTimeoutNow(m: Extract<Message, { type: 'timeout-now' }>): void {
    if (m.term !== this.term || !this.isVoter) return;
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
    }
  }

  /** Appends a client entry at the leader; returns its index, or -1 when not leader. */
  propose(data: Buffer): number {
    if (this.role !== 'leader' || this.transferTarget !== NONE) return -1;
    const entry = { index: this.lastIndex + 1, term: this.term, data };
    this.appendToLog([entry]);
    this.maybeCommit();
    for (const peer of this.peers()) {
      if ((this.nextIndex.get(peer) ?? 0) === entry.index) this.sendAppend(peer, false);
    }
    return entry.index;
  }

  /** Hands leadership to `target` once it has caught up (used on clean shutdown). */
  transferLeadership(target: number): boolean {
    if (this.role !== 'leader' || !this.voters.has(target) || target === this.id) return false;
    this.transferTarget = target;
    this.transferElapsed = 0;
    if ((this.matchIndex.get(target) ?? 0) === this.lastIndex) this.send({ type: 'timeout-now', from: this.id, to: target, term: this.term });
    else this.sendAppend(target, false);
    return true;
  }

  /** What this node knows of the quorum: for the leader, each peer's replication progress. */
  describe(): { leaderId: number; term: number; commitIndex: number; lastIndex: number; role: Role; progress: { nodeId: number; matchIndex: number; voter: boolean }[] } {
    const progress = this.role === 'leader'
      ? [...this.voters, ...this.observers].map((id) => ({ nodeId: id, matchIndex: id === this.id ? this.lastIndex : (this.matchIndex.get(id) ?? 0), voter: this.voters.has(id) }))
      : [];
    return { leaderId: this.leaderId, term: this.term, commitIndex: this.commitIndex, lastIndex: this.lastIndex, role: this.role, progress };
  }

  /** Starts an election now (a single-voter quorum need not wait for a timeout). */
  campaignNow(): void {
    if (this.isVoter && this.role !== 'leader') this.campaign(true, false);
  }

  /** Everything to persist, send and apply since the last call. */
  ready(): Ready {
    const hardState = this.hardStateDirty ? { term: this.term, votedFor: this.votedFor } : null;
    this.hardStateDirty = false;
    const entries = this.unstableFrom === Infinity ? [] : this.log.slice(this.unstableFrom - 1);
    this.unstableFrom = Infinity;
    const messages = this.outbox;
    this.outbox = [];
    const committed = this.commitIndex > this.appliedIndex ? this.log.slice(this.appliedIndex, this.commitIndex) : [];
    this.appliedIndex = Math.max(this.appliedIndex, this.commitIndex);
    return { hardState, entries, messages, committed };
  }

  /** Marks entries up to `index` as already applied (a restart applying a snapshot). */
  setApplied(index: number): void {
    this.appliedIndex = index;
    this.commitIndex = Math.max(this.commitIndex, index);
  }
}
