// Who may move a node's term: a vote from a node outside the voter set, a leadership
// transfer flag on a term the leader did not hand over, a TimeoutNow from anyone but the
// leader, and a newer-term append from a non-voter while the leader is alive all leave the
// term alone; a real transfer and a real election still work. Terms past 2^31 travel and
// are stored as int64 (a term of 2^31 - 1 once wedged a quorum), and terms past 2^53 are
// refused rather than rounded.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { Reader, Writer } from '../../protocol/primitives';
import { Message, RaftNode } from '../../src/raft/core';
import { isValidTerm } from '../../src/raft/tcp-transport';
import { mulberry32 } from './simulation';

const BIG_TERM = 2 ** 31 - 1;

/** Three voters with a perfect network; node `leaderId` leads after start(). */
class Trio {
  nodes = new Map<number, RaftNode>();

  constructor(observers: number[] = []) {
    for (const id of [1, 2, 3, ...observers])
      this.nodes.set(
        id,
        new RaftNode({
          id,
          voters: [1, 2, 3],
          observers,
          electionTimeoutTicks: 10,
          heartbeatTicks: 2,
          random: mulberry32(id * 7),
        }),
      );
  }

  settle(): void {
    for (let round = 0; round < 100; round++) {
      const messages: Message[] = [];
      for (const node of this.nodes.values()) {
        const ready = node.ready();
        node.advance(ready);
        messages.push(...ready.messages);
      }
      if (messages.length === 0) return;
      for (const m of messages) this.nodes.get(m.to)?.step(m);
    }
  }

  tick(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.tick();
      this.settle();
    }
  }

  leader(): RaftNode {
    return [...this.nodes.values()].find((n) => n.role === 'leader')!;
  }

  follower(): RaftNode {
    return [...this.nodes.values()].find((n) => n.role === 'follower' && n.id <= 3)!;
  }

  terms(): number[] {
    return [1, 2, 3].map((id) => this.nodes.get(id)!.term);
  }
}

function vote(
  from: number,
  to: number,
  term: number,
  transfer: boolean,
  lastLogIndex = 1000,
  lastLogTerm = term - 1,
  preVote = false,
): Message {
  return { type: 'vote', from, to, term, lastLogIndex, lastLogTerm, preVote, transfer };
}

test('a vote with a huge term from a node outside the voter set moves no term', () => {
  const c = new Trio([9]);
  c.tick(30);
  const before = c.terms();
  const leaderId = c.leader().id;
  for (const id of [1, 2, 3]) c.nodes.get(id)!.step(vote(9, id, BIG_TERM, true));
  for (const id of [1, 2, 3]) c.nodes.get(id)!.step(vote(42, id, BIG_TERM, false));
  c.settle();
  assert.equal(c.terms(), before);
  assert.is(c.leader().id, leaderId);
  // Outside any leader lease too (no leader heard from yet): a non-voter whose log is not
  // ahead of ours cannot be a voter we do not know of.
  const fresh = new RaftNode({
    id: 1,
    voters: [1, 2, 3],
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(3),
  });
  fresh.step(vote(9, 1, BIG_TERM, false, 0, 0));
  fresh.step(vote(9, 1, BIG_TERM, true, 0, 0, true));
  assert.is(fresh.term, 0);
  assert.ok(fresh.ready().messages.every((m) => m.type === 'vote-response' && !m.granted));
});

test('a transfer flag on a term the leader did not hand over gets no exemption from the leader lease', () => {
  const c = new Trio();
  c.tick(30);
  const before = c.terms();
  const leader = c.leader();
  const follower = c.follower();
  const other = [1, 2, 3].find((id) => id !== leader.id && id !== follower.id)!;
  // The reproduced attack: a transfer-flagged vote at 2^31 - 1, claiming to come from a voter.
  follower.step(vote(other, follower.id, BIG_TERM, true));
  leader.step(vote(other, leader.id, BIG_TERM, true));
  const answers = follower.ready().messages.concat(leader.ready().messages);
  assert.ok(answers.every((m) => m.type === 'vote-response' && !m.granted));
  c.settle();
  assert.equal(c.terms(), before, 'no node moved to the forged term');
  assert.is(c.leader().id, leader.id);
});

test("TimeoutNow from anyone but the leader is ignored; the leader's own transfer still works", () => {
  const c = new Trio();
  c.tick(30);
  const leader = c.leader();
  const follower = c.follower();
  const other = [1, 2, 3].find((id) => id !== leader.id && id !== follower.id)!;
  follower.step({ type: 'timeout-now', from: other, to: follower.id, term: follower.term });
  c.settle();
  assert.is(c.leader().id, leader.id, 'a follower cannot make another follower campaign');
  assert.ok(leader.transferLeadership(follower.id));
  c.tick(3);
  assert.is(c.leader().id, follower.id, 'the leader hands over');
  assert.is(c.leader().term, leader.term);
});

test('a newer-term append from a non-voter is ignored while the leader is alive', () => {
  const c = new Trio([9]);
  c.tick(30);
  const before = c.terms();
  const follower = c.follower();
  follower.step({
    type: 'append',
    from: 9,
    to: follower.id,
    term: BIG_TERM,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
  });
  follower.step({
    type: 'snapshot',
    from: 9,
    to: follower.id,
    term: BIG_TERM,
    snapshot: { index: 1000, term: BIG_TERM, voters: [], data: Buffer.alloc(0) },
  });
  c.settle();
  assert.equal(c.terms(), before);
});

test('an observer answering with a newer term does not unseat the leader', () => {
  const c = new Trio([9]);
  c.tick(30);
  const leader = c.leader();
  const term = leader.term;
  leader.step({
    type: 'append-response',
    from: 9,
    to: leader.id,
    term: BIG_TERM,
    success: false,
    matchIndex: 0,
    conflictTerm: -1,
    conflictIndex: 0,
  });
  assert.is(leader.role, 'leader');
  assert.is(leader.term, term);
});

test('a quorum that reached term 2^31 - 1 still elects: the next term travels as int64', () => {
  const nodes = [1, 2, 3].map(
    (id) =>
      new RaftNode(
        { id, voters: [1, 2, 3], electionTimeoutTicks: 10, heartbeatTicks: 2, random: mulberry32(id) },
        { hardState: { term: BIG_TERM, votedFor: -1 }, entries: [] },
      ),
  );
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const vote = ApiKey.RaftVote;
  for (let tick = 0; tick < 40 && !nodes.some((n) => n.role === 'leader'); tick++) {
    for (const n of nodes) n.tick();
    for (let round = 0; round < 20; round++) {
      const messages = nodes.flatMap((n) => {
        const ready = n.ready();
        n.advance(ready);
        return ready.messages;
      });
      for (const m of messages) {
        if (m.type === 'vote') {
          // Every vote request crosses the wire codec, as it would between processes.
          const writer = new Writer(64);
          requestCodec(vote, 0).encode(writer, {
            clusterId: 'c',
            term: m.term,
            candidateId: m.from,
            lastLogIndex: m.lastLogIndex,
            lastLogTerm: m.lastLogTerm,
            preVote: m.preVote,
            leadershipTransfer: m.transfer,
          });
          const decoded = requestCodec(vote, 0).decode(new Reader(writer.toBuffer()));
          assert.is(decoded.term, m.term);
        }
        byId.get(m.to)?.step(m);
      }
    }
  }
  const leader = nodes.find((n) => n.role === 'leader');
  assert.ok(leader, 'a leader was elected');
  assert.ok(leader!.term > BIG_TERM);
  const writer = new Writer(32);
  responseCodec(vote, 0).encode(writer, { errorCode: 0, term: 2 ** 40, voteGranted: true, preVote: false });
  assert.is(responseCodec(vote, 0).decode(new Reader(writer.toBuffer())).term, 2 ** 40);
});

test('terms are bounded to 0..2^53-1: larger or negative ones are refused, not rounded', () => {
  assert.ok(isValidTerm(0));
  assert.ok(isValidTerm(2 ** 31));
  assert.ok(isValidTerm(Number.MAX_SAFE_INTEGER));
  assert.not.ok(isValidTerm(2 ** 53));
  assert.not.ok(isValidTerm(-1));
  assert.not.ok(isValidTerm(1.5));
});

test.run();
