// Readable scenarios for the Raft core, with a tiny perfect network: election, replication
// and commit, a stale leader stepping down, log repair by fast backtracking, pre-vote
// keeping an isolated node from disrupting the cluster, leadership transfer, single-voter
// quorums, observers, snapshot transfer to a lagging node and membership changes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Message, RaftNode } from '../../src/raft/core';
import { encodeMembership } from '../../src/raft/membership';
import { mulberry32 } from './simulation';

class Cluster {
  nodes = new Map<number, RaftNode>();
  isolated = new Set<number>();
  applied = new Map<number, string[]>();

  constructor(voters: number[], observers: number[] = []) {
    for (const id of [...voters, ...observers]) {
      this.nodes.set(
        id,
        new RaftNode({
          id,
          voters,
          observers,
          electionTimeoutTicks: 10,
          heartbeatTicks: 2,
          random: mulberry32(id * 101),
        }),
      );
      this.applied.set(id, []);
    }
  }

  /** Delivers messages until quiet (bounded). */
  settle(): void {
    for (let round = 0; round < 100; round++) {
      const messages: Message[] = [];
      for (const [id, node] of this.nodes) {
        const ready = node.ready();
        node.advance(ready);
        // A snapshot's data here is the applied list joined by commas.
        if (ready.snapshot)
          this.applied.set(id, ready.snapshot.data.length ? ready.snapshot.data.toString().split(',') : []);
        for (const e of ready.committed) if (e.data.length > 0) this.applied.get(id)!.push(e.data.toString());
        messages.push(...ready.messages);
      }
      if (messages.length === 0) return;
      for (const m of messages)
        if (!this.isolated.has(m.from) && !this.isolated.has(m.to)) this.nodes.get(m.to)?.step(m);
    }
  }

  tick(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.tick();
      this.settle();
    }
  }

  leader(): RaftNode | undefined {
    return [...this.nodes.values()].find((n) => n.role === 'leader' && !this.isolated.has(n.id));
  }
}

test('three voters elect one leader and commit proposals everywhere', () => {
  const c = new Cluster([1, 2, 3]);
  c.tick(30);
  const leader = c.leader()!;
  assert.ok(leader);
  assert.is([...c.nodes.values()].filter((n) => n.role === 'leader').length, 1);
  leader.propose(Buffer.from('a'));
  leader.propose(Buffer.from('b'));
  c.tick(3);
  for (const id of [1, 2, 3]) assert.equal(c.applied.get(id), ['a', 'b'], `node ${id}`);
});

test('a single voter is its own quorum', () => {
  const c = new Cluster([1]);
  c.tick(25);
  const leader = c.leader()!;
  assert.is(leader.id, 1);
  leader.propose(Buffer.from('solo'));
  c.tick(1);
  assert.equal(c.applied.get(1), ['solo']);
});

test('an isolated leader steps down (check-quorum); the rest elect a new one; the old one rejoins as follower and is repaired', () => {
  const c = new Cluster([1, 2, 3]);
  c.tick(30);
  const old = c.leader()!;
  c.isolated.add(old.id);
  old.propose(Buffer.from('lost')); // never replicated
  c.tick(40);
  assert.is.not(old.role, 'leader', 'check-quorum deposed the isolated leader');
  const fresh = c.leader()!;
  assert.ok(fresh && fresh.id !== old.id && fresh.term > 1);
  fresh.propose(Buffer.from('kept'));
  c.tick(3);
  c.isolated.clear();
  c.tick(10);
  for (const id of [1, 2, 3]) {
    assert.ok(c.applied.get(id)!.includes('kept'), `node ${id} has the new entry`);
    assert.not.ok(c.applied.get(id)!.includes('lost'), `node ${id} never applied the lost one`);
  }
  assert.equal(
    old.entries().map((e) => e.term),
    fresh.entries().map((e) => e.term),
    'divergent suffix repaired',
  );
});

test('pre-vote: a node coming back from isolation does not raise terms or unseat the leader', () => {
  const c = new Cluster([1, 2, 3]);
  c.tick(30);
  const leader = c.leader()!;
  const term = leader.term;
  const follower = [...c.nodes.values()].find((n) => n.role === 'follower')!;
  c.isolated.add(follower.id);
  c.tick(60); // it times out again and again, but only pre-votes
  assert.is(follower.term, term, 'pre-vote kept its term');
  c.isolated.clear();
  c.tick(10);
  assert.is(c.leader()!.id, leader.id);
  assert.is(leader.term, term);
});

test('leadership transfer hands over to a caught-up voter', () => {
  const c = new Cluster([1, 2, 3]);
  c.tick(30);
  const leader = c.leader()!;
  leader.propose(Buffer.from('x'));
  c.tick(2);
  const target = [1, 2, 3].find((id) => id !== leader.id)!;
  assert.ok(leader.transferLeadership(target));
  c.tick(3);
  assert.is(c.leader()!.id, target);
  assert.is(leader.role, 'follower');
});

test('observers receive the log but neither vote nor count towards commit', () => {
  const c = new Cluster([1, 2, 3], [9]);
  c.tick(30);
  assert.is.not(c.leader()!.id, 9);
  c.leader()!.propose(Buffer.from('seen'));
  c.tick(3);
  assert.equal(c.applied.get(9), ['seen']);
  // With two voters down, the observer cannot make up a majority.
  const leader = c.leader()!;
  for (const id of [1, 2, 3]) if (id !== leader.id) c.isolated.add(id);
  leader.propose(Buffer.from('stuck'));
  c.tick(3);
  assert.not.ok(c.applied.get(leader.id)!.includes('stuck'));
});

test('a stale leader learns the newer term from an answer and steps down', () => {
  const node = new RaftNode({
    id: 1,
    voters: [1, 2, 3],
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(1),
  });
  for (let i = 0; i < 25 && node.role !== 'pre-candidate'; i++) node.tick();
  node.step({ type: 'vote-response', from: 2, to: 1, term: 1, granted: true, preVote: true });
  node.advance(node.ready());
  node.step({ type: 'vote-response', from: 2, to: 1, term: 1, granted: true, preVote: false });
  assert.is(node.role, 'leader');
  node.step({
    type: 'append-response',
    from: 3,
    to: 1,
    term: 7,
    success: false,
    matchIndex: 0,
    conflictTerm: -1,
    conflictIndex: 0,
  });
  assert.equal([node.role, node.term], ['follower', 7]);
  assert.equal(node.ready().hardState, { term: 7, votedFor: -1 }, 'the new term is persisted');
});

test("a node behind the leader's log start catches up through a snapshot, then through entries", () => {
  const c = new Cluster([1, 2, 3]);
  c.tick(30);
  const leader = c.leader()!;
  const lagging = [1, 2, 3].find((id) => id !== leader.id)!;
  c.isolated.add(lagging);
  for (const x of ['a', 'b', 'c']) leader.propose(Buffer.from(x));
  c.tick(3);
  const state = c.applied.get(leader.id)!.join(',');
  const snapshot = leader.compact(leader.commitIndex, Buffer.from(state))!;
  assert.ok(snapshot && snapshot.index === leader.lastIndex);
  assert.is(leader.entries().length, 0, 'log compacted');
  assert.equal(
    snapshot.voters.map((v) => v.id),
    [1, 2, 3],
  );
  c.isolated.clear();
  c.tick(4);
  const node = c.nodes.get(lagging)!;
  assert.is(node.snapshotIndex, snapshot.index, 'installed the snapshot');
  assert.equal(c.applied.get(lagging), ['a', 'b', 'c']);
  leader.propose(Buffer.from('d'));
  c.tick(3);
  assert.equal(c.applied.get(lagging), ['a', 'b', 'c', 'd'], 'then follows by appends');
});

test('membership: a voter is added, the leader removes itself and steps down once that commits, the rest go on', () => {
  const c = new Cluster([1, 2, 3], [4]);
  c.tick(30);
  const leader = c.leader()!;
  const voters = leader.membership().slice();
  assert.is(typeof leader.changeMembership([...voters, { id: 4, host: '', port: 0 }]), 'number');
  assert.is(leader.changeMembership([...voters]), 'another membership change is in progress');
  c.tick(3);
  assert.ok(c.nodes.get(4)!.isVoter, 'node 4 learned it is a voter');
  assert.is(
    leader.changeMembership(
      [...voters, { id: 4, host: '', port: 0 }, { id: 5, host: '', port: 0 }].filter((v) => v.id !== 1),
    ),
    'voters change one at a time',
  );
  const withoutLeader = leader.membership().filter((v) => v.id !== leader.id);
  assert.is(typeof leader.changeMembership(withoutLeader), 'number');
  c.tick(3);
  assert.is.not(leader.role, 'leader', 'removed leader stepped down');
  assert.not.ok(leader.isVoter);
  c.tick(40);
  const next = c.leader()!;
  assert.ok(next && next.id !== leader.id);
  next.propose(Buffer.from('after'));
  c.tick(3);
  for (const v of next.membership()) assert.ok(c.applied.get(v.id)!.includes('after'), `voter ${v.id} applied`);
});

test('a follower truncating an uncommitted membership entry goes back to the previous voter set', () => {
  const node = new RaftNode({
    id: 2,
    voters: [1, 2, 3],
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(2),
  });
  const four = encodeMembership([1, 2, 3, 4].map((id) => ({ id, host: '', port: 0 })));
  node.step({
    type: 'append',
    from: 1,
    to: 2,
    term: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    leaderCommit: 0,
    entries: [
      { index: 1, term: 1, data: Buffer.alloc(0) },
      { index: 2, term: 1, data: four, kind: 1 },
    ],
  });
  assert.equal(
    node.membership().map((v) => v.id),
    [1, 2, 3, 4],
  );
  node.step({
    type: 'append',
    from: 3,
    to: 2,
    term: 2,
    prevLogIndex: 1,
    prevLogTerm: 1,
    leaderCommit: 0,
    entries: [{ index: 2, term: 2, data: Buffer.from('x') }],
  });
  assert.equal(
    node.membership().map((v) => v.id),
    [1, 2, 3],
  );
});

test.run();
