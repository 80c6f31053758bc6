// A deterministic simulation of a Raft cluster in one process: nodes over a simulated
// network and disk, every choice taken from one seeded PRNG. The network loses, delays,
// duplicates and reorders messages and can be partitioned (also one way); nodes crash and
// restart from what they persisted, and a crash in the middle of persisting keeps only a
// torn prefix of the new entries (and none of the messages that depended on them).
// Nodes take snapshots of their state machine at random and compact their logs, so lagging
// nodes catch up through snapshot transfer; with `membership`, five nodes start with three
// voters and the leader adds and removes voters one at a time while the chaos goes on.
// After every step the Raft safety properties are checked; a violation throws with the seed.

import { Entry, HardState, Message, RaftNode, Snapshot } from '../../src/raft/core';

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** The entries after the snapshot, consecutive. */
  entries: Entry[];
}

/** The state machine of a node: a hash chain over the applied entries. */
interface MachineState {
  index: number;
  hash: number;
}

function chain(hash: number, data: Buffer): number {
  let h = hash ^ 0x811c9dc5;
  for (const byte of data) h = Math.imul(h ^ byte, 16777619);
  return h >>> 0;
}

interface InFlight {
  message: Message;
  deliverAt: number;
}

export interface SimulationOptions {
  nodes: number;
  steps: number;
  lossRate: number;
  duplicateRate: number;
  crashRate: number;
  partitionRate: number;
  /** Chance per node and step of snapshotting and compacting (0 = never). */
  snapshotRate?: number;
  /** Start with three voters of five nodes and change membership as the run goes. */
  membership?: boolean;
  /**
   * Chance per write to the disk (vote, entries or snapshot) that the storage fails (EIO):
   * as the driver does, the node stops at once (fail-stop) without acknowledging anything
   * of that write, whose new entries may have reached the disk in part; it restarts later
   * from what the disk holds, as after a crash.
   */
  storageErrorRate?: number;
}

export class Simulation {
  readonly random: () => number;
  now = 0;
  readonly nodes = new Map<number, RaftNode | null>();
  /** Storage failures injected (storageErrorRate). */
  storageErrors = 0;
  readonly disks = new Map<number, Disk>();
  private network: InFlight[] = [];
  /** Directed links that drop everything: "from->to". */
  private cut = new Set<string>();
  /** Index -> data of every entry any node applied (state machine safety). */
  readonly applied = new Map<number, string>();
  /** Index -> the state machine's hash after applying it, on whichever node did first. */
  private readonly stateAt = new Map<number, number>();
  private readonly machines = new Map<number, MachineState>();
  snapshotsInstalled = 0;
  membershipChanges = 0;
  private readonly initialVoters: number[];
  /** Entries known committed: index -> term, data, and the term in which it was first seen committed. */
  readonly committed = new Map<number, { term: number; data: string; commitTerm: number }>();
  /** Term -> leader id seen in that term. */
  private readonly leaders = new Map<number, number>();
  private proposals = 0;
  readonly ids: number[];

  constructor(
    readonly seed: number,
    readonly options: SimulationOptions,
  ) {
    this.random = mulberry32(seed);
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.initialVoters = options.membership ? this.ids.slice(0, 3) : this.ids;
    for (const id of this.ids) {
      this.disks.set(id, { hardState: { term: 0, votedFor: -1 }, snapshot: null, entries: [] });
      this.start(id);
    }
  }

  private fail(message: string): never {
    throw new Error(`seed ${this.seed}, step ${this.now}: ${message} (replay with BROOK_RAFT_SEED=${this.seed})`);
  }

  private start(id: number): void {
    const disk = this.disks.get(id)!;
    const config = {
      id,
      voters: this.initialVoters,
      observers: this.ids,
      electionTimeoutTicks: 10,
      heartbeatTicks: 2,
      random: mulberry32(this.seed * 31 + id * 7 + this.now),
    };
    this.nodes.set(
      id,
      new RaftNode(config, {
        hardState: { ...disk.hardState },
        snapshot: disk.snapshot,
        entries: disk.entries.slice(),
      }),
    );
    // A restart restores the state machine from the snapshot, then replays committed entries.
    this.machines.set(id, disk.snapshot ? this.restore(disk.snapshot) : { index: 0, hash: 0 });
  }

  private restore(snapshot: Snapshot): MachineState {
    const [index, hash] = snapshot.data.toString().split(':').map(Number);
    if (index !== snapshot.index) this.fail(`snapshot at ${snapshot.index} holds the state of ${index}`);
    return { index, hash };
  }

  private persistEntries(disk: Disk, entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    disk.entries = disk.entries.filter((e) => e.index < first).concat(entries);
    for (let i = 1; i < disk.entries.length; i++) {
      if (disk.entries[i].index !== disk.entries[i - 1].index + 1)
        this.fail(`disk log not consecutive at ${disk.entries[i].index}`);
    }
  }

  private installSnapshot(disk: Disk, snapshot: Snapshot): void {
    const last = disk.entries.find((e) => e.index === snapshot.index);
    disk.entries = last && last.term === snapshot.term ? disk.entries.filter((e) => e.index > snapshot.index) : [];
    disk.snapshot = snapshot;
  }

  /** Persist, then send, then apply, as the real driver does; may crash mid-persist. */
  private drain(id: number, crashable: boolean): void {
    const node = this.nodes.get(id);
    if (!node) return;
    const ready = node.ready();
    const disk = this.disks.get(id)!;
    const writes = ready.hardState !== null || ready.snapshot !== null || ready.entries.length > 0;
    if (crashable && writes && this.random() < (this.options.storageErrorRate ?? 0)) {
      // The write failed: the vote and the snapshot did not change on disk, a prefix of the
      // entries may have; the node stops without sending or applying anything of it.
      this.persistEntries(disk, ready.entries.slice(0, Math.floor(this.random() * ready.entries.length)));
      this.nodes.set(id, null);
      this.storageErrors++;
      return;
    }
    if (ready.hardState) disk.hardState = { ...ready.hardState };
    if (ready.snapshot) this.installSnapshot(disk, ready.snapshot);
    if (crashable && ready.entries.length > 0 && this.random() < this.options.crashRate) {
      // Torn write: a prefix of the new entries reached the disk; nothing was sent.
      this.persistEntries(disk, ready.entries.slice(0, Math.floor(this.random() * ready.entries.length)));
      this.nodes.set(id, null);
      return;
    }
    this.persistEntries(disk, ready.entries);
    node.advance(ready);
    for (const message of ready.messages) this.transmit(message);
    const machine = this.machines.get(id)!;
    if (ready.snapshot) {
      this.snapshotsInstalled++;
      const restored = this.restore(ready.snapshot);
      const known = this.stateAt.get(restored.index);
      if (known !== undefined && known !== restored.hash)
        this.fail(`node ${id} installed a snapshot at ${restored.index} whose state differs`);
      machine.index = restored.index;
      machine.hash = restored.hash;
    }
    for (const entry of ready.committed) {
      if (entry.index !== machine.index + 1) this.fail(`node ${id} applies ${entry.index} after ${machine.index}`);
      machine.index = entry.index;
      machine.hash = chain(machine.hash, entry.data);
      const knownState = this.stateAt.get(entry.index);
      if (knownState !== undefined && knownState !== machine.hash)
        this.fail(`state machine safety: node ${id} reached a different state at ${entry.index}`);
      this.stateAt.set(entry.index, machine.hash);
      const data = entry.data.toString();
      const previous = this.applied.get(entry.index);
      if (previous !== undefined && previous !== data)
        this.fail(`state machine safety: index ${entry.index} applied as "${previous}" and "${data}"`);
      this.applied.set(entry.index, data);
      const known = this.committed.get(entry.index);
      if (known && (known.term !== entry.term || known.data !== data))
        this.fail(`committed entry ${entry.index} changed`);
      if (!known) this.committed.set(entry.index, { term: entry.term, data, commitTerm: node.term });
    }
    // Now and then the node snapshots what it applied and drops that part of its log.
    const rate = this.options.snapshotRate ?? 0;
    if (rate > 0 && machine.index > node.snapshotIndex && this.random() < rate) {
      const snapshot = node.compact(machine.index, Buffer.from(`${machine.index}:${machine.hash}`));
      if (snapshot) this.installSnapshot(disk, snapshot);
    }
  }

  private transmit(message: Message): void {
    if (this.random() < this.options.lossRate) return;
    const copies = this.random() < this.options.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++)
      this.network.push({ message, deliverAt: this.now + 1 + Math.floor(this.random() * 5) });
  }

  /** One step of simulated chaos; then the safety checks. */
  step(healed: boolean): void {
    this.now++;
    const roll = this.random();
    if (!healed && roll < this.options.partitionRate) {
      this.cut.clear();
      const kind = this.random();
      if (kind < 0.4) {
        const isolated = this.ids[Math.floor(this.random() * this.ids.length)];
        for (const other of this.ids)
          if (other !== isolated) {
            this.cut.add(`${isolated}->${other}`);
            this.cut.add(`${other}->${isolated}`);
          }
      } else if (kind < 0.7) {
        // Asymmetric: one node can send but not hear (or the reverse).
        const node = this.ids[Math.floor(this.random() * this.ids.length)];
        const outbound = this.random() < 0.5;
        for (const other of this.ids)
          if (other !== node) this.cut.add(outbound ? `${other}->${node}` : `${node}->${other}`);
      }
    } else if (!healed && roll < this.options.partitionRate + this.options.crashRate) {
      const id = this.ids[Math.floor(this.random() * this.ids.length)];
      if (this.nodes.get(id)) this.nodes.set(id, null);
      else this.start(id);
    }
    if (healed) {
      this.cut.clear();
      for (const id of this.ids) if (!this.nodes.get(id)) this.start(id);
    }
    // Client proposals go to whoever is leader; with membership on, now and then a voter
    // is added or removed.
    if (this.random() < 0.3) {
      for (const id of this.ids) {
        const node = this.nodes.get(id);
        if (node && node.role === 'leader') node.propose(Buffer.from(`p${++this.proposals}`));
      }
    }
    if (this.options.membership && !healed && this.random() < 0.05) this.changeMembership();
    for (const id of this.ids) this.nodes.get(id)?.tick();
    // Deliver what is due, in a shuffled order (reordering).
    const due = this.network.filter((f) => f.deliverAt <= this.now);
    this.network = this.network.filter((f) => f.deliverAt > this.now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [due[i], due[j]] = [due[j], due[i]];
    }
    for (const { message } of due) {
      if (this.cut.has(`${message.from}->${message.to}`)) continue;
      this.nodes.get(message.to)?.step(message);
    }
    for (const id of this.ids) this.drain(id, !healed);
    this.check();
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (!leader) return;
    const voters = leader.membership().slice();
    const outside = this.ids.filter((id) => !voters.some((v) => v.id === id));
    if (outside.length > 0 && (voters.length <= 2 || this.random() < 0.5)) {
      voters.push({ id: outside[Math.floor(this.random() * outside.length)], host: '', port: 0 });
    } else if (voters.length > 2) {
      voters.splice(Math.floor(this.random() * voters.length), 1);
    } else return;
    if (typeof leader.changeMembership(voters) === 'number') this.membershipChanges++;
  }

  check(): void {
    const live = this.ids.map((id) => [id, this.nodes.get(id)] as const).filter(([, n]) => n) as [number, RaftNode][];
    for (const [id, node] of live) {
      if (node.role !== 'leader') continue;
      const seen = this.leaders.get(node.term);
      if (seen !== undefined && seen !== id) this.fail(`two leaders in term ${node.term}: ${seen} and ${id}`);
      this.leaders.set(node.term, id);
      // Leader completeness: a leader holds every entry committed before its term began.
      // (A deposed leader that has not heard of the newer term yet is exempt for entries
      // committed after its own term.)
      for (const [index, entry] of this.committed) {
        if (entry.commitTerm >= node.term || index <= node.snapshotIndex) continue;
        const mine = node.entryAt(index);
        if (!mine || mine.term !== entry.term || mine.data.toString() !== entry.data)
          this.fail(`leader ${id} (term ${node.term}) lacks committed entry ${index}`);
      }
    }
    // Log matching, on durable logs: same index and term => same entries up to there.
    const logs = this.ids.map((id) => new Map(this.disks.get(id)!.entries.map((e) => [e.index, e] as const)));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const la = logs[a];
        const lb = logs[b];
        let match = -1;
        for (const [index, entry] of la) {
          if (index > match && lb.get(index)?.term === entry.term) match = index;
        }
        for (const [index, entry] of la) {
          if (index > match) continue;
          const other = lb.get(index);
          if (other && (other.term !== entry.term || !other.data.equals(entry.data)))
            this.fail(`log matching broken between nodes ${a + 1} and ${b + 1} at index ${index}`);
        }
      }
    }
  }

  leader(): RaftNode | null {
    for (const id of this.ids) {
      const node = this.nodes.get(id);
      if (node && node.role === 'leader') return node;
    }
    return null;
  }

  /** After healing: a proposal made now must commit everywhere within `steps`. */
  liveness(steps: number): boolean {
    let proposedIndex = -1;
    let proposedData = '';
    for (let i = 0; i < steps; i++) {
      if (proposedIndex < 0) {
        const leader = this.leader();
        if (leader) {
          proposedData = `live-${this.seed}`;
          proposedIndex = leader.propose(Buffer.from(proposedData));
        }
      }
      this.step(true);
      if (proposedIndex > 0 && this.applied.get(proposedIndex) === proposedData) return true;
      if (proposedIndex > 0 && this.applied.has(proposedIndex) && this.applied.get(proposedIndex) !== proposedData)
        proposedIndex = -1;
    }
    return false;
  }
}
