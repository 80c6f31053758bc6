// The thin shell around the pure Raft core: a timer turns wall time into ticks, every
// input is followed by handling the core's Ready in the only safe order (persist and
// fsync term, vote and entries; then send; then apply committed entries), and proposals
// resolve once their entry is applied here (or reject when leadership is lost first).
// Every `snapshotEveryEntries` applied entries the driver asks the state machine for a
// snapshot, persists it and compacts the log behind it; a snapshot sent by the leader is
// persisted and restored before anything after it is applied.
// Fail-stop: the core is told a Ready was persisted (advance) only after the storage
// returned; a storage error (a failed write or fsync) stops the driver for good (no more
// ticks, messages or applies) and hands one QuorumStorageError to the owner, which stops
// the node. After a failed fsync nothing about the file's content can be trusted, so
// carrying on could vote twice in a term or acknowledge an entry that is not on disk.

import { Logger } from '../logger';
import { Entry, HardState, Message, RaftNode, Ready, Snapshot } from './core';
import { VoterEndpoint } from './membership';

/**
 * The durable state the driver needs: term and vote, the entry log, and snapshots. Every
 * write is on disk when it returns (entries after `sync()`). quorum-storage.ts implements
 * it on the FileSystem interface.
 */
export interface RaftStorage {
  /** Index of the first entry held (the one after the newest snapshot once compacted). */
  readonly firstIndex: number;
  readonly lastIndex: number;
  readHardState(): HardState;
  writeHardState(state: HardState): void;
  /** Appends entries that continue the log; durable after `sync()`. */
  append(entries: Entry[]): void;
  sync(): void;
  /** Removes every entry after `index`. */
  truncateAfter(index: number): void;
  read(from: number, to: number): Entry[];
  /** Drops the entries up to `index`, which a snapshot covers. */
  compactThrough(index: number): void;
  writeSnapshot(snapshot: Snapshot): void;
  /** The newest readable snapshot, if any. */
  latestSnapshot(): Snapshot | null;
  /** Snapshot files present, readable or not (to notice a damaged one). */
  snapshotFileCount(): number;
  /** Makes the log continue `snapshot` (keeps what follows it, drops another history). */
  alignWithSnapshot(snapshot: Snapshot): void;
  close(): void;
}

/** Stored Raft state that cannot be used safely: the node refuses to start. */
export class QuorumStorageError extends Error {
  override name = 'QuorumStorageError';
}

export interface RaftTransport {
  send(message: Message): void;
}

/**
 * Time and timers, as the driver uses them: the real clock by default; a deterministic
 * simulation injects its own and runs every timer itself.
 */
export interface DriverClock {
  /** Milliseconds, as Date.now(). */
  now(): number;
  /** Calls `callback` every `ms` (without keeping the process alive); returns the cancel. */
  every(ms: number, callback: () => void): () => void;
  /** Calls `callback` once, after the current turn of the event loop. */
  soon(callback: () => void): void;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
}

export const realClock: DriverClock = {
  now: () => Date.now(),
  every: (ms, callback) => {
    const timer = setInterval(callback, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
  soon: (callback) => void setImmediate(callback),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface DriverOptions {
  id: number;
  /** The initial voters, with their controller endpoints. */
  voters: VoterEndpoint[];
  observers?: number[];
  tickMs: number;
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  random: () => number;
  storage: RaftStorage;
  transport: RaftTransport;
  /** Applies a committed entry (membership entries included: check `kind`). */
  apply: (entry: Entry) => void;
  /** Replaces the state machine with a snapshot's (at startup and when the leader sends one). */
  restore: (snapshot: Snapshot) => void;
  /**
   * The state machine's image now, for a snapshot at the last applied index; null when
   * the state machine cannot be snapshotted there (it is inside an atomic group of
   * entries), and the driver tries again after later applies.
   */
  takeSnapshot: () => Buffer | null;
  /** Bytes of entries in one append message (see RaftConfig.maxBytesPerMessage). */
  maxAppendBytes?: number;
  /** Applied entries between snapshots (0: never snapshot). */
  snapshotEveryEntries: number;
  logger: Logger;
  /**
   * Called once when the storage failed and the driver stopped; the owner must stop the
   * node. Without it the driver logs the error itself.
   */
  onFatal?: (error: QuorumStorageError) => void;
  /** Time and timers (default: the real ones). */
  clock?: DriverClock;
}

interface Pending {
  index: number;
  term: number;
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(readonly leaderId: number) {
    super(leaderId >= 0 ? `not the leader; node ${leaderId} is` : 'no leader at the moment');
  }
}

export class MembershipError extends Error {
  override name = 'MembershipError';
}

export class RaftDriver {
  readonly node: RaftNode;
  private cancelTimer: (() => void) | null = null;
  private readonly clock: DriverClock;
  private pending: Pending[] = [];
  private stopped = false;
  /** Replies produced while handling one inbound message, for request/response transports. */
  private capture: { to: number; messages: Message[] } | null = null;

  private appliedIndex = 0;
  /** Times this node saw the quorum's leader change to a known node (for /metrics). */
  leaderChanges = 0;
  private lastLeaderId = -1;
  private readonly startupSnapshot: Snapshot | null;

  constructor(private readonly options: DriverOptions) {
    this.clock = options.clock ?? realClock;
    const storage = options.storage;
    const hardState = storage.readHardState();
    const snapshot = storage.latestSnapshot();
    if (snapshot) storage.alignWithSnapshot(snapshot);
    // A log that starts after the snapshot's end (its snapshot was lost or is damaged) has
    // a hole: serving from it would build a wrong image.
    const covered = snapshot?.index ?? 0;
    const gap = storage.lastIndex >= storage.firstIndex && storage.firstIndex > covered + 1;
    if (gap || (snapshot === null && storage.snapshotFileCount() > 0)) {
      throw new QuorumStorageError(
        `the metadata log starts at entry ${storage.firstIndex} but the newest readable snapshot ends at ${covered} (${storage.snapshotFileCount()} snapshot file(s) on disk): the snapshot covering the entries before is missing or damaged. Refusing to start rather than serve wrong metadata; restore the snapshot, or remove this node's __cluster_metadata directory so it rejoins and receives a snapshot from the leader.`,
      );
    }
    const entries = storage.read(storage.firstIndex, storage.lastIndex);
    this.node = new RaftNode(
      {
        id: options.id,
        voters: options.voters.map((v) => v.id),
        voterEndpoints: options.voters,
        observers: options.observers,
        electionTimeoutTicks: options.electionTimeoutTicks,
        heartbeatTicks: options.heartbeatTicks,
        random: options.random,
        maxBytesPerMessage: options.maxAppendBytes,
      },
      { hardState, entries, snapshot },
    );
    this.startupSnapshot = snapshot;
  }

  /** Restores the state machine from the newest local snapshot, if any; call before start(). */
  restoreLocal(): number {
    if (!this.startupSnapshot) return 0;
    this.options.restore(this.startupSnapshot);
    this.appliedIndex = this.startupSnapshot.index;
    return this.startupSnapshot.index;
  }

  start(): void {
    const voters = this.node.membership();
    if (voters.length === 1 && voters[0].id === this.options.id) {
      this.node.campaignNow();
      this.process();
    }
    this.cancelTimer = this.clock.every(this.options.tickMs, () => {
      this.node.tick();
      this.process();
    });
  }

  /** Feeds an inbound message; returns the replies addressed to its sender. */
  receive(message: Message): Message[] {
    if (this.stopped) return [];
    this.capture = { to: message.from, messages: [] };
    try {
      this.node.step(message);
      this.process();
      return this.capture.messages;
    } finally {
      this.capture = null;
    }
  }

  propose(data: Buffer, kind?: number): Promise<number> {
    if (this.stopped) return Promise.reject(this.fatalError ?? new Error('raft node stopped'));
    const index = this.node.propose(data, kind);
    if (index < 0) return Promise.reject(new NotLeaderError(this.node.leaderId));
    const term = this.node.term;
    const promise = new Promise<number>((resolve, reject) => this.pending.push({ index, term, resolve, reject }));
    // Proposals made in the same turn of the event loop share one fsync and one round of
    // appends (group commit).
    if (!this.processScheduled) {
      this.processScheduled = true;
      this.clock.soon(() => {
        this.processScheduled = false;
        if (!this.stopped) this.process();
      });
    }
    return promise;
  }

  private processScheduled = false;

  /** Proposes a new voter set (one voter added or removed); resolves once it commits. */
  changeMembership(voters: VoterEndpoint[]): Promise<number> {
    if (this.stopped) return Promise.reject(this.fatalError ?? new Error('raft node stopped'));
    const result = this.node.changeMembership(voters);
    if (typeof result === 'string') return Promise.reject(new MembershipError(result));
    const term = this.node.term;
    const promise = new Promise<number>((resolve, reject) =>
      this.pending.push({ index: result, term, resolve, reject }),
    );
    this.process();
    return promise;
  }

  /** The error that stopped this driver (fail-stop), if any. */
  fatalError: QuorumStorageError | null = null;

  /** Runs a storage operation; on failure stops the driver for good and returns false. */
  private durably(what: string, write: () => void): boolean {
    if (this.fatalError) return false;
    try {
      write();
      return true;
    } catch (error) {
      const cause = error as Error;
      const fatal = new QuorumStorageError(
        `metadata quorum storage failed (${what}: ${cause.message}); this node stops rather than risk a second vote in one term or an acknowledged entry that is not on disk`,
      );
      this.fatalError = fatal;
      this.stop(fatal);
      if (this.options.onFatal) this.options.onFatal(fatal);
      else this.options.logger.errorSync(fatal.message, { error: cause.message });
      return false;
    }
  }

  private process(): void {
    if (this.stopped) return;
    const ready: Ready = this.node.ready();
    if (this.node.leaderId !== this.lastLeaderId && (this.lastLeaderId = this.node.leaderId) >= 0) this.leaderChanges++;
    const storage = this.options.storage;
    // 1. Persist: nothing below leaves this node before it is on disk, and the core is told
    // so only then (advance).
    const persisted = this.durably('persisting term, vote and entries', () => {
      if (ready.hardState) storage.writeHardState(ready.hardState);
      if (ready.snapshot) {
        storage.writeSnapshot(ready.snapshot);
        storage.alignWithSnapshot(ready.snapshot);
      }
      if (ready.entries.length > 0) {
        storage.truncateAfter(ready.entries[0].index - 1);
        storage.append(ready.entries);
        storage.sync();
      }
    });
    if (!persisted) return;
    this.node.advance(ready);
    // 2. Send (replies to the message being handled go back on its own exchange).
    for (const message of ready.messages) {
      if (
        this.capture &&
        message.to === this.capture.to &&
        (message.type === 'vote-response' || message.type === 'append-response')
      )
        this.capture.messages.push(message);
      else this.options.transport.send(message);
    }
    // 3. Apply, then settle proposals.
    if (ready.snapshot) {
      this.options.logger.info('installing a metadata snapshot from the leader', {
        index: ready.snapshot.index,
        term: ready.snapshot.term,
        bytes: ready.snapshot.data.length,
      });
      this.options.restore(ready.snapshot);
      this.appliedIndex = ready.snapshot.index;
    }
    for (const entry of ready.committed) {
      this.options.apply(entry);
      this.appliedIndex = entry.index;
      const waiting = this.pending.filter((p) => p.index === entry.index);
      for (const p of waiting) {
        if (p.term === entry.term) p.resolve(entry.index);
        else p.reject(new NotLeaderError(this.node.leaderId));
      }
      if (waiting.length > 0) this.pending = this.pending.filter((p) => p.index !== entry.index);
    }
    // A leader that stepped down cannot say whether its pending entries will commit: the
    // proposer is told it lost leadership and retries (the entry may still commit under
    // the next leader, which is why controller decisions are checked against the image).
    if (this.node.role !== 'leader' && this.pending.length > 0) {
      const lost = this.pending;
      this.pending = [];
      for (const p of lost) p.reject(new NotLeaderError(this.node.leaderId));
    }
    // 4. Snapshot and compact once enough has been applied since the last snapshot.
    const every = this.options.snapshotEveryEntries;
    if (every > 0 && this.appliedIndex - this.node.snapshotIndex >= every) this.snapshotNow();
  }

  /** Snapshots the state machine at the last applied index and compacts the log behind it. */
  snapshotNow(): Snapshot | null {
    if (this.stopped) return null;
    const data = this.options.takeSnapshot();
    if (data === null) return null;
    const snapshot = this.node.compact(this.appliedIndex, data);
    if (!snapshot) return null;
    const storage = this.options.storage;
    const written = this.durably('writing a snapshot and compacting the log', () => {
      storage.writeSnapshot(snapshot);
      storage.compactThrough(snapshot.index);
    });
    if (!written) return null;
    this.options.logger.info('metadata snapshot taken, log compacted', {
      index: snapshot.index,
      term: snapshot.term,
      bytes: snapshot.data.length,
    });
    return snapshot;
  }

  /** Hands leadership to the most caught-up peer (clean shutdown); resolves when done or timed out. */
  async resign(timeoutMs: number): Promise<void> {
    if (this.node.role !== 'leader') return;
    const peers = this.node
      .membership()
      .map((v) => v.id)
      .filter((id) => id !== this.options.id);
    if (peers.length === 0) return;
    this.node.transferLeadership(peers[0]);
    this.process();
    const deadline = this.clock.now() + timeoutMs;
    while (this.node.role === 'leader' && this.clock.now() < deadline) await this.clock.sleep(this.options.tickMs);
  }

  /** Stops ticking and processing; pending proposals are rejected (with `error` after a fault). */
  stop(error?: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.cancelTimer) this.cancelTimer();
    this.cancelTimer = null;
    for (const p of this.pending) p.reject(error ?? new Error('raft node stopped'));
    this.pending = [];
    try {
      this.options.storage.close();
    } catch {
      // A storage that already failed may fail to close too; the node is stopping anyway.
    }
  }
}
