// A deterministic simulation of a Raft cluster in which every node is the real RaftDriver
// over the real QuorumStorage, on its own in-memory file system (with its power-cut model),
// with a simulated network and a simulated clock: the driver's timer and its group-commit
// callback are run by the simulation, and every choice comes from one seeded PRNG.
// Injected faults: storage errors (EIO or ENOSPC on one write, fsync, truncate, rename,
// directory fsync or open, at a random later point, sometimes after writing half the
// bytes), which must stop the node for good (fail-stop: nothing leaves it afterwards, and
// its owner hears once); power cuts (the file system drops what was not fsynced, torn tails
// and directory entries included, and the node restarts from what survived); restarts of
// failed nodes, after a power cut or not; message loss, delay, duplication and reordering;
// symmetric and one-way partitions.
// After every step: at most one leader per term; no node grants two votes in one term, over
// any number of restarts; log matching; leader completeness; state machine safety (every
// node's applied prefix is a prefix of one history); what a node persisted survives a power
// cut exactly (term, vote, snapshot and log of a node that was running); what a failed node
// had made durable survives too. A run ends by healing everything and requiring a leader and
// a new entry applied on every node within a bounded number of steps.

import { FileSystem, FileOperation, MemoryFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { Entry, HardState, Message, Snapshot } from '../../src/raft/core';
import { DriverClock, RaftDriver, RaftStorage } from '../../src/raft/driver';
import { ENTRY_MEMBERSHIP, VoterEndpoint } from '../../src/raft/membership';
import { QuorumStorage } from '../../src/raft/quorum-storage';
import { mulberry32 } from './simulation';

const DIR = '/data/__cluster_metadata';
const TICK_MS = 10;
const TRACE = process.env.BROOK_RAFT_DRIVER_TRACE === '1';
const FAULT_CODES = ['EIO', 'ENOSPC'];
const FAULT_OPERATIONS: FileOperation[] = ['append', 'sync', 'truncate', 'rename', 'syncDir', 'open'];

export interface DriverSimulationOptions {
  nodes: number;
  steps: number;
  lossRate: number;
  duplicateRate: number;
  partitionRate: number;
  /** Chance per step that one node loses power (and restarts some steps later). */
  powerLossRate: number;
  /** Chance per step that a storage fault is armed on one running node. */
  storageFaultRate: number;
  /** Applied entries between snapshots (0: never). */
  snapshotEveryEntries: number;
  /** Start with three voters (the rest observers) and add and remove voters as the run goes. */
  membership?: boolean;
}

/** The driver's timer and deferred callbacks, run by the simulation. */
class SimClock implements DriverClock {
  private readonly timers: { callback: () => void; live: boolean }[] = [];
  private readonly queue: (() => void)[] = [];

  constructor(private readonly time: () => number) {}

  now(): number {
    return this.time();
  }

  every(_ms: number, callback: () => void): () => void {
    const timer = { callback, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  soon(callback: () => void): void {
    this.queue.push(callback);
  }

  sleep(): Promise<void> {
    throw new Error('the simulation does not sleep');
  }

  /** One tick of every live timer (each simulated step is one tick). */
  fire(): void {
    for (const timer of this.timers) if (timer.live) timer.callback();
  }

  flush(): void {
    while (this.queue.length > 0) this.queue.shift()!();
  }
}

/**
 * The file system as the node sees it: every call goes to `inner`, and a call that throws
 * with an errno code (an injected fault) is reported first.
 */
function watched<T extends object>(inner: T, onFault: (error: Error) => void): T {
  return new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return key === 'open' ? watched(result as object, onFault) : result;
        } catch (error) {
          if ((error as { code?: unknown }).code !== undefined) onFault(error as Error);
          throw error;
        }
      };
    },
  });
}

interface MachineState {
  index: number;
  hash: number;
}

function chain(hash: number, entry: Entry): number {
  let h = (hash ^ 0x811c9dc5 ^ (entry.kind ?? 0)) >>> 0;
  for (const byte of entry.data) h = Math.imul(h ^ byte, 16777619);
  return h >>> 0;
}

/** What a running node has on disk: all of it must survive a power cut. */
interface DurableImage {
  hardState: HardState;
  snapshotIndex: number;
  entries: Entry[];
}

interface SimNode {
  id: number;
  fs: MemoryFileSystem;
  clock: SimClock;
  driver: RaftDriver | null;
  /** up: running; failed: stopped by a storage error (still attached); down: no process. */
  status: 'up' | 'failed' | 'down';
  restartAt: number;
  machine: MachineState;
  /** An injected fault fired since the node last started. */
  faultFired: boolean;
  faultArmed: boolean;
  /** The hard state last written successfully (durable), and one attempted since that failed. */
  durableHard: HardState;
  attemptedHard: HardState | null;
  /** The storage under the running driver, and whether entries were appended since its last sync. */
  storage: QuorumStorage | null;
  unsynced: boolean;
  /** Set when the node lost power while running: exactly this must come back. */
  expected: DurableImage | null;
}

interface InFlight {
  message: Message;
  deliverAt: number;
}

export class DriverSimulation {
  readonly random: () => number;
  now = 0;
  readonly ids: number[];
  private readonly initialVoters: number[];
  /** Membership entries committed. */
  membershipChanges = 0;
  private readonly nodes = new Map<number, SimNode>();
  private network: InFlight[] = [];
  private cut = new Set<string>();
  /** Voter -> term -> the candidate it voted for (never forgotten, across restarts). */
  private readonly votes = new Map<number, Map<number, number>>();
  private readonly leaders = new Map<number, number>();
  /** Index -> the state machine's hash after applying it (one history). */
  private readonly stateAt = new Map<number, number>();
  /** Entries known committed (applied somewhere): index -> term, data, term first seen committed. */
  readonly committed = new Map<number, { term: number; data: Buffer; commitTerm: number }>();
  private proposals = 0;
  storageFaults = 0;
  failStops = 0;
  powerLosses = 0;
  restarts = 0;
  /** Starts that a storage fault made fail (the node stays down and tries again). */
  failedStarts = 0;
  snapshotsInstalled = 0;

  constructor(
    readonly seed: number,
    readonly options: DriverSimulationOptions,
  ) {
    this.random = mulberry32(seed);
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.initialVoters = options.membership ? this.ids.slice(0, 3) : this.ids;
    for (const id of this.ids) {
      this.votes.set(id, new Map());
      const node: SimNode = {
        id,
        fs: new MemoryFileSystem(),
        clock: new SimClock(() => this.now * TICK_MS),
        driver: null,
        status: 'down',
        restartAt: 0,
        machine: { index: 0, hash: 0 },
        faultFired: false,
        faultArmed: false,
        durableHard: { term: 0, votedFor: -1 },
        attemptedHard: null,
        storage: null,
        unsynced: false,
        expected: null,
      };
      this.nodes.set(id, node);
      this.startNode(node);
    }
  }

  /** The command that replays this run. */
  get replay(): string {
    return `BROOK_RAFT_DRIVER_SEED=${this.seed} node dist/test/raft/driver-simulation.test.js`;
  }

  /** Events of the run, printed as they happen with BROOK_RAFT_DRIVER_TRACE=1 (replays). */
  private trace(message: string): void {
    if (TRACE) process.stdout.write(`step ${this.now}: ${message}\n`);
  }

  fail(message: string): never {
    throw new Error(`seed ${this.seed}, step ${this.now}: ${message} (replay: ${this.replay})`);
  }

  /** The storage as the driver sees it, recording which hard state and entries are durable. */
  private recorded(node: SimNode, storage: QuorumStorage): RaftStorage {
    return new Proxy(storage, {
      get: (target, key) => {
        if (key === 'writeHardState')
          return (state: HardState) => {
            this.trace(`node ${node.id} writes term ${state.term} vote ${state.votedFor}`);
            node.attemptedHard = { ...state };
            target.writeHardState(state);
            node.durableHard = { ...state };
            node.attemptedHard = null;
          };
        if (key === 'append')
          return (entries: Entry[]) => {
            node.unsynced = true;
            target.append(entries);
          };
        if (key === 'sync')
          return () => {
            target.sync();
            node.unsynced = false;
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Starts the node's process; with `faulty`, a storage fault may hit the start itself. */
  private startNode(node: SimNode, faulty = false): void {
    node.fs.clearFaults();
    node.faultArmed = false;
    node.faultFired = false;
    if (faulty) this.armFault(node);
    node.clock = new SimClock(() => this.now * TICK_MS);
    node.machine = { index: 0, hash: 0 };
    const fs: FileSystem = watched(node.fs, (error) => {
      this.trace(`node ${node.id}: ${error.message}`);
      node.faultFired = true;
    });
    let driver: RaftDriver;
    try {
      const storage = QuorumStorage.open(fs, DIR);
      node.storage = storage;
      node.unsynced = false;
      driver = new RaftDriver({
        id: node.id,
        voters: this.initialVoters.map((id) => this.endpoint(id)),
        observers: this.ids,
        tickMs: TICK_MS,
        electionTimeoutTicks: 10,
        heartbeatTicks: 2,
        random: mulberry32(this.seed * 31 + node.id * 7 + this.now),
        storage: this.recorded(node, storage),
        transport: { send: (message) => this.send(node, message) },
        apply: (entry) => this.apply(node, entry),
        restore: (snapshot) => this.restore(node, snapshot),
        takeSnapshot: () => Buffer.from(`${node.machine.index}:${node.machine.hash}`),
        snapshotEveryEntries: this.options.snapshotEveryEntries,
        logger: silentLogger,
        onFatal: (error) => {
          this.trace(`node ${node.id} stops: ${error.message}`);
          if (node.status !== 'up') this.fail(`node ${node.id} reported a second storage failure`);
          node.status = 'failed';
          this.failStops++;
          // The owner restarts the process a while later.
          node.restartAt = this.now + 1 + Math.floor(this.random() * 30);
        },
        clock: node.clock,
      });
      driver.restoreLocal();
    } catch (error) {
      if (!node.faultFired)
        this.fail(`node ${node.id} cannot restart from what its disk holds: ${(error as Error).message}`);
      // The storage failed while starting: the node stays down and is started again later.
      this.trace(`node ${node.id} fails to start: ${(error as Error).message}`);
      this.failedStarts++;
      node.driver = null;
      node.status = 'down';
      node.restartAt = this.now + 1 + Math.floor(this.random() * 10);
      return;
    }
    node.driver = driver;
    node.status = 'up';
    this.checkRestart(node, driver);
    node.expected = null;
    driver.start();
  }

  /** What came back after a restart is what was durable. */
  private checkRestart(node: SimNode, driver: RaftDriver): void {
    const core = driver.node;
    const hard = { term: core.term, votedFor: core.votedFor };
    const same = (a: HardState | null) => a !== null && a.term === hard.term && a.votedFor === hard.votedFor;
    if (!same(node.durableHard) && !same(node.attemptedHard))
      this.fail(
        `node ${node.id} restarted with term ${hard.term} vote ${hard.votedFor}; durable was term ${node.durableHard.term} vote ${node.durableHard.votedFor}`,
      );
    node.durableHard = hard;
    node.attemptedHard = null;
    const expected = node.expected;
    if (!expected) return;
    if (hard.term !== expected.hardState.term || hard.votedFor !== expected.hardState.votedFor)
      this.fail(
        `node ${node.id} lost power at term ${expected.hardState.term} vote ${expected.hardState.votedFor}, restarted with term ${hard.term} vote ${hard.votedFor}`,
      );
    if (core.snapshotIndex !== expected.snapshotIndex)
      this.fail(
        `node ${node.id} lost power with a snapshot at ${expected.snapshotIndex}, restarted at ${core.snapshotIndex}`,
      );
    const entries = core.entries();
    if (entries.length !== expected.entries.length)
      this.fail(
        `node ${node.id} lost power with ${expected.entries.length} entries after its snapshot, restarted with ${entries.length}`,
      );
    for (let i = 0; i < entries.length; i++) {
      const a = entries[i];
      const b = expected.entries[i];
      if (a.index !== b.index || a.term !== b.term || (a.kind ?? 0) !== (b.kind ?? 0) || !a.data.equals(b.data))
        this.fail(`node ${node.id}: entry ${b.index} changed across a power cut`);
    }
  }

  private restore(node: SimNode, snapshot: Snapshot): void {
    const [index, hash] = snapshot.data.toString().split(':').map(Number);
    if (index !== snapshot.index) this.fail(`snapshot at ${snapshot.index} holds the state of ${index}`);
    const known = this.stateAt.get(index);
    if (known !== undefined && known !== hash)
      this.fail(`node ${node.id} restored a snapshot at ${index} whose state differs`);
    if (node.status === 'up' && node.driver) this.snapshotsInstalled++;
    node.machine = { index, hash };
  }

  private apply(node: SimNode, entry: Entry): void {
    const machine = node.machine;
    if (entry.index !== machine.index + 1) this.fail(`node ${node.id} applies ${entry.index} after ${machine.index}`);
    machine.index = entry.index;
    machine.hash = chain(machine.hash, entry);
    const known = this.stateAt.get(entry.index);
    if (known !== undefined && known !== machine.hash)
      this.fail(`state machine safety: node ${node.id} reached a different state at ${entry.index}`);
    this.stateAt.set(entry.index, machine.hash);
    const committed = this.committed.get(entry.index);
    if (committed && (committed.term !== entry.term || !committed.data.equals(entry.data)))
      this.fail(`committed entry ${entry.index} changed`);
    if (!committed && entry.kind === ENTRY_MEMBERSHIP) this.membershipChanges++;
    if (!committed)
      this.committed.set(entry.index, { term: entry.term, data: entry.data, commitTerm: node.driver?.node.term ?? 0 });
  }

  private recordVote(message: Message): void {
    let voter = -1;
    let candidate = -1;
    if (message.type === 'vote-response' && message.granted && !message.preVote) {
      voter = message.from;
      candidate = message.to;
    } else if (message.type === 'vote' && !message.preVote) {
      voter = message.from;
      candidate = message.from;
    }
    if (voter < 0) return;
    const durable = this.nodes.get(voter)!.durableHard;
    if (durable.term !== message.term || durable.votedFor !== candidate)
      this.fail(`node ${voter} sent its vote for ${candidate} in term ${message.term} before it was durable`);
    const votes = this.votes.get(voter)!;
    const earlier = votes.get(message.term);
    if (earlier !== undefined && earlier !== candidate)
      this.fail(`node ${voter} voted for ${earlier} and for ${candidate} in term ${message.term}`);
    votes.set(message.term, candidate);
  }

  private send(node: SimNode, message: Message, reply = false): void {
    if (!reply && (node.status !== 'up' || node.driver?.fatalError))
      this.fail(`node ${node.id} sent ${message.type} after its storage failed`);
    this.recordVote(message);
    if (message.type === 'append-response' && message.success) {
      const storage = node.storage!;
      if (node.unsynced || message.matchIndex > storage.lastIndex)
        this.fail(`node ${node.id} acknowledged entry ${message.matchIndex} before it was durable`);
    }
    if (this.random() < this.options.lossRate) return;
    const copies = this.random() < this.options.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++)
      this.network.push({ message, deliverAt: this.now + 1 + Math.floor(this.random() * 5) });
  }

  /** Runs one call into a node's driver; a fault it hit must have stopped the driver. */
  private call(node: SimNode, what: () => void): void {
    what();
    const driver = node.driver;
    if (node.faultFired && driver && !driver.fatalError)
      this.fail(`node ${node.id}: a storage error did not stop the driver`);
  }

  private armFault(node: SimNode): void {
    const operation = FAULT_OPERATIONS[Math.floor(this.random() * FAULT_OPERATIONS.length)];
    node.fs.injectFault({
      code: FAULT_CODES[Math.floor(this.random() * FAULT_CODES.length)],
      operations: [operation],
      skip: Math.floor(this.random() * 8),
      // Sometimes the disk stays broken until the node restarts.
      times: this.random() < 0.7 ? 1 : undefined,
      partialWrite: this.random() < 0.5,
    });
    node.faultArmed = true;
    this.storageFaults++;
  }

  /** The process dies with the power; the file system keeps only what was durable. */
  private powerLoss(node: SimNode): void {
    if (node.status === 'up' && node.driver) {
      const core = node.driver.node;
      node.expected = {
        hardState: { term: core.term, votedFor: core.votedFor },
        snapshotIndex: core.snapshotIndex,
        entries: core.entries().slice(),
      };
    } else if (node.status === 'failed') node.expected = null;
    // (A node that is down keeps what it expects: a start that failed changed nothing durable.)
    this.trace(`node ${node.id} (${node.status}) loses power`);
    node.driver = null;
    node.status = 'down';
    node.fs.crash(this.random);
    node.restartAt = this.now + 1 + Math.floor(this.random() * 20);
    this.powerLosses++;
  }

  private restart(node: SimNode, healed: boolean): void {
    // A failed node's process is restarted by its owner, sometimes after a power cut too.
    if (node.status === 'failed') {
      node.driver = null;
      if (this.random() < 0.5) {
        this.trace(`node ${node.id} (failed) loses power`);
        node.fs.crash(this.random);
      }
      node.expected = null;
    }
    this.restarts++;
    this.trace(`node ${node.id} restarts`);
    this.startNode(node, !healed && this.random() < 0.2);
  }

  private pick(): SimNode {
    return this.nodes.get(this.ids[Math.floor(this.random() * this.ids.length)])!;
  }

  private flushAll(): void {
    for (const node of this.nodes.values()) if (node.status === 'up') this.call(node, () => node.clock.flush());
  }

  step(healed: boolean): void {
    this.now++;
    const roll = this.random();
    const { partitionRate, powerLossRate, storageFaultRate } = this.options;
    if (!healed && roll < partitionRate) {
      this.cut.clear();
      const kind = this.random();
      if (kind < 0.4) {
        const isolated = this.pick().id;
        for (const other of this.ids)
          if (other !== isolated) {
            this.cut.add(`${isolated}->${other}`);
            this.cut.add(`${other}->${isolated}`);
          }
      } else if (kind < 0.7) {
        const one = this.pick().id;
        const outbound = this.random() < 0.5;
        for (const other of this.ids)
          if (other !== one) this.cut.add(outbound ? `${other}->${one}` : `${one}->${other}`);
      }
    } else if (!healed && roll < partitionRate + powerLossRate) {
      const node = this.pick();
      this.powerLoss(node);
    } else if (!healed && roll < partitionRate + powerLossRate + storageFaultRate) {
      const node = this.pick();
      if (node.status === 'up' && !node.faultArmed) this.armFault(node);
    }
    if (healed) {
      this.cut.clear();
      for (const node of this.nodes.values()) {
        node.fs.clearFaults();
        node.faultArmed = false;
        if (node.status !== 'up') node.restartAt = this.now;
      }
    }
    for (const node of this.nodes.values())
      if (node.status !== 'up' && node.restartAt <= this.now) this.restart(node, healed);
    if (this.options.membership && !healed && this.random() < 0.05) this.changeMembership();
    // Client proposals go to whoever believes it leads.
    if (this.random() < 0.3) {
      for (const node of this.nodes.values()) {
        const driver = node.driver;
        if (node.status !== 'up' || !driver || driver.node.role !== 'leader') continue;
        this.call(node, () => {
          driver.propose(Buffer.from(`p${++this.proposals}`)).catch(() => undefined);
        });
      }
    }
    this.flushAll();
    for (const node of this.nodes.values()) if (node.status === 'up') this.call(node, () => node.clock.fire());
    const due = this.network.filter((f) => f.deliverAt <= this.now);
    this.network = this.network.filter((f) => f.deliverAt > this.now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [due[i], due[j]] = [due[j], due[i]];
    }
    for (const { message } of due) {
      if (this.cut.has(`${message.from}->${message.to}`)) continue;
      const node = this.nodes.get(message.to);
      if (!node || !node.driver || node.status === 'down') continue;
      const driver = node.driver;
      const wasFailed = node.status === 'failed';
      let replies: Message[] = [];
      this.call(node, () => {
        replies = driver.receive(message);
      });
      if (wasFailed && replies.length > 0) this.fail(`node ${node.id} answered after its storage failed`);
      // Replies travel back on the request's exchange: the same network. Replies made before
      // a storage error later in the same call (taking a snapshot) were persisted first.
      for (const reply of replies) this.send(node, reply, true);
    }
    this.flushAll();
    this.check();
  }

  private endpoint(id: number): VoterEndpoint {
    return { id, host: '127.0.0.1', port: 9000 + id };
  }

  /** The leader adds or removes one voter (at least two stay). */
  private changeMembership(): void {
    const leader = [...this.nodes.values()].find((n) => n.status === 'up' && n.driver?.node.role === 'leader');
    if (!leader) return;
    const driver = leader.driver!;
    const voters = driver.node.membership().map((v) => this.endpoint(v.id));
    const outside = this.ids.filter((id) => !voters.some((v) => v.id === id));
    if (outside.length > 0 && (voters.length <= 2 || this.random() < 0.5))
      voters.push(this.endpoint(outside[Math.floor(this.random() * outside.length)]));
    else if (voters.length > 2) voters.splice(Math.floor(this.random() * voters.length), 1);
    else return;
    this.call(leader, () => {
      driver.changeMembership(voters).catch(() => undefined);
    });
  }

  leader(): RaftDriver | null {
    for (const node of this.nodes.values())
      if (node.status === 'up' && node.driver && node.driver.node.role === 'leader') return node.driver;
    return null;
  }

  check(): void {
    const live = [...this.nodes.values()].filter((n) => n.status === 'up' && n.driver);
    for (const node of live) {
      const core = node.driver!.node;
      if (core.role !== 'leader') continue;
      const seen = this.leaders.get(core.term);
      if (seen !== undefined && seen !== node.id) this.fail(`two leaders in term ${core.term}: ${seen} and ${node.id}`);
      this.leaders.set(core.term, node.id);
      for (const [index, entry] of this.committed) {
        if (entry.commitTerm >= core.term || index <= core.snapshotIndex) continue;
        const mine = core.entryAt(index);
        if (!mine || mine.term !== entry.term || !mine.data.equals(entry.data))
          this.fail(`leader ${node.id} (term ${core.term}) lacks committed entry ${index}`);
      }
    }
    // Log matching: same index and term => the same entries up to there.
    const logs = live.map((n) => new Map(n.driver!.node.entries().map((e) => [e.index, e] as const)));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const la = logs[a];
        const lb = logs[b];
        let match = -1;
        for (const [index, entry] of la) if (index > match && lb.get(index)?.term === entry.term) match = index;
        for (const [index, entry] of la) {
          if (index > match) continue;
          const other = lb.get(index);
          if (other && (other.term !== entry.term || !other.data.equals(entry.data)))
            this.fail(`log matching broken between nodes ${live[a].id} and ${live[b].id} at index ${index}`);
        }
      }
    }
  }

  /**
   * After healing: a leader must be elected and an entry proposed then must be applied on
   * every node within `steps` steps.
   */
  liveness(steps: number): boolean {
    let index = -1;
    const data = Buffer.from(`live-${this.seed}`);
    for (let i = 0; i < steps; i++) {
      if (index < 0) {
        const leader = this.leader();
        if (leader) {
          leader.propose(data).catch(() => undefined);
          index = leader.node.lastIndex;
        }
      }
      this.step(true);
      if (index > 0) {
        const committed = this.committed.get(index);
        if (committed && !committed.data.equals(data)) index = -1;
        else if (committed && [...this.nodes.values()].every((n) => n.status === 'up' && n.machine.index >= index))
          return true;
      }
    }
    return false;
  }
}
