// A deterministic simulation of a Raft cluster in one process: nodes over a simulated
// network and disk, every choice taken from one seeded PRNG. The network loses, delays,
// duplicates and reorders messages and can be partitioned (also one way); nodes crash and
// restart from what they persisted, and a crash in the middle of persisting keeps only a
// torn prefix of the new entries (and none of the messages that depended on them).
// After every step the Raft safety properties are checked; a violation throws with the seed.

import { Entry, HardState, Message, RaftNode } from '../../src/raft/core';

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
  entries: Entry[];
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
}

export class Simulation {
  readonly random: () => number;
  now = 0;
  readonly nodes = new Map<number, RaftNode | null>();
  readonly disks = new Map<number, Disk>();
  private network: InFlight[] = [];
  /** Directed links that drop everything: "from->to". */
  private cut = new Set<string>();
  /** Index -> data of every entry any node applied (state machine safety). */
  readonly applied = new Map<number, string>();
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
    for (const id of this.ids) {
      this.disks.set(id, { hardState: { term: 0, votedFor: -1 }, entries: [] });
      this.start(id);
    }
  }

  private fail(message: string): never {
    throw new Error(`seed ${this.seed}, step ${this.now}: ${message} (replay with BROOK_RAFT_SEED=${this.seed})`);
  }

  private start(id: number): void {
    const disk = this.disks.get(id)!;
    this.nodes.set(id, new RaftNode({ id, voters: this.ids, electionTimeoutTicks: 10, heartbeatTicks: 2, random: mulberry32(this.seed * 31 + id * 7 + this.now) }, { hardState: { ...disk.hardState }, entries: disk.entries.slice() }));
  }

  /** Persist, then send, then apply, as the real driver does; may crash mid-persist. */
  private drain(id: number, crashable: boolean): void {
    const node = this.nodes.get(id);
    if (!node) return;
    const ready = node.ready();
    const disk = this.disks.get(id)!;
    if (crashable && ready.entries.length > 0 && this.random() < this.options.crashRate) {
      // Torn write: a prefix of the new entries reached the disk; nothing was sent.
      const keep = Math.floor(this.random() * ready.entries.length);
      if (ready.hardState) disk.hardState = { ...ready.hardState };
      const first = ready.entries[0].index;
      disk.entries = disk.entries.slice(0, first - 1).concat(ready.entries.slice(0, keep));
      this.nodes.set(id, null);
      return;
    }
    if (ready.hardState) disk.hardState = { ...ready.hardState };
    if (ready.entries.length > 0) {
      const first = ready.entries[0].index;
      disk.entries = disk.entries.slice(0, first - 1).concat(ready.entries);
    }
    for (const message of ready.messages) this.transmit(message);
    for (const entry of ready.committed) {
      const data = entry.data.toString();
      const previous = this.applied.get(entry.index);
      if (previous !== undefined && previous !== data) this.fail(`state machine safety: index ${entry.index} applied as "${previous}" and "${data}"`);
      this.applied.set(entry.index, data);
      const known = this.committed.get(entry.index);
      if (known && (known.term !== entry.term || known.data !== data)) this.fail(`committed entry ${entry.index} changed`);
      if (!known) this.committed.set(entry.index, { term: entry.term, data, commitTerm: node.term });
    }
  }

  private transmit(message: Message): void {
    if (this.random() < this.options.lossRate) return;
    const copies = this.random() < this.options.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) this.network.push({ message, deliverAt: this.now + 1 + Math.floor(this.random() * 5) });
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
        for (const other of this.ids) if (other !== isolated) {
          this.cut.add(`${isolated}->${other}`);
          this.cut.add(`${other}->${isolated}`);
        }
      } else if (kind < 0.7) {
        // Asymmetric: one node can send but not hear (or the reverse).
        const node = this.ids[Math.floor(this.random() * this.ids.length)];
        const outbound = this.random() < 0.5;
        for (const other of this.ids) if (other !== node) this.cut.add(outbound ? `${other}->${node}` : `${node}->${other}`);
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
    // Client proposals go to whoever is leader.
    if (this.random() < 0.3) {
      for (const id of this.ids) {
        const node = this.nodes.get(id);
        if (node && node.role === 'leader') node.propose(Buffer.from(`p${++this.proposals}`));
      }
    }
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
        if (entry.commitTerm >= node.term) continue;
        const mine = node.entries()[index - 1];
        if (!mine || mine.term !== entry.term || mine.data.toString() !== entry.data) this.fail(`leader ${id} (term ${node.term}) lacks committed entry ${index}`);
      }
    }
    // Log matching, on durable logs: same index and term => same prefix.
    const logs = this.ids.map((id) => this.disks.get(id)!.entries);
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const la = logs[a];
        const lb = logs[b];
        let match = -1;
        for (let i = Math.min(la.length, lb.length) - 1; i >= 0; i--) {
          if (la[i].term === lb[i].term) {
            match = i;
            break;
          }
        }
        for (let i = 0; i <= match; i++) {
          if (la[i].term !== lb[i].term || !la[i].data.equals(lb[i].data)) this.fail(`log matching broken between nodes ${a + 1} and ${b + 1} at index ${i + 1}`);
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
      if (proposedIndex > 0 && this.applied.has(proposedIndex) && this.applied.get(proposedIndex) !== proposedData) proposedIndex = -1;
    }
    return false;
  }
}
