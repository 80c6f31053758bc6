// The group state machine through scripted scenarios, with time as ticks: two-step joins,
// rebalances on join and leave, session expiry, rebalance timeouts, static members
// restarting and being fenced, stale generations, and the error codes for each.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { Effect, Group, JoinReply, JoinRequest, SyncReply } from '../../src/group/group';

const LIMITS = {
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 60000,
  initialRebalanceDelayMs: 0,
  maxSize: 5,
  memberMetadataBytesMax: 1024,
  groupMetadataBytesMax: 2048,
};

class Script {
  group: Group;
  now = 0;
  nextRequest = 1;
  nextId = 1;
  joins = new Map<number, JoinReply>();
  syncs = new Map<number, SyncReply>();

  constructor(initialDelayMs = 0) {
    this.group = new Group('g', 0, { ...LIMITS, initialRebalanceDelayMs: initialDelayMs });
  }

  private absorb(effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === 'join-reply') this.joins.set(e.requestId, e.reply);
      if (e.kind === 'sync-reply') this.syncs.set(e.requestId, e.reply);
    }
  }

  join(memberId: string, extra: Partial<JoinRequest> = {}): number {
    const request: JoinRequest = {
      memberId,
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      sessionTimeoutMs: 3000,
      rebalanceTimeoutMs: 5000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from(memberId || 'new') }],
      requireKnownMemberId: true,
      ...extra,
    };
    const id = this.nextRequest++;
    this.absorb(this.group.join(request, id, this.now, `m${this.nextId++}`));
    return id;
  }

  /** Full two-step join of a new member; returns its member id (reply may still be parked). */
  newMember(extra: Partial<JoinRequest> = {}): { memberId: string; request: number } {
    const first = this.join('', extra);
    const reply = this.joins.get(first)!;
    if (reply.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return { memberId: reply.memberId, request: first };
    return { memberId: reply.memberId, request: this.join(reply.memberId, extra) };
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: Record<string, string> = {},
    groupInstanceId: string | null = null,
  ): number {
    const id = this.nextRequest++;
    this.absorb(
      this.group.sync(
        {
          memberId,
          groupInstanceId,
          generationId,
          protocolType: null,
          protocolName: null,
          assignments: Object.entries(assignments).map(([m, a]) => ({ memberId: m, assignment: Buffer.from(a) })),
        },
        id,
        this.now,
      ),
    );
    return id;
  }

  tick(ms: number): void {
    this.now += ms;
    this.absorb(this.group.tick(this.now));
  }
}

test('two-step join: MEMBER_ID_REQUIRED, then a generation with this member as leader', () => {
  const s = new Script();
  const first = s.join('');
  assert.is(s.joins.get(first)!.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const memberId = s.joins.get(first)!.memberId;
  assert.is(s.group.state, 'Empty');
  const second = s.join(memberId);
  const reply = s.joins.get(second)!;
  assert.equal(
    [reply.errorCode, reply.generationId, reply.leader, reply.memberId, reply.members.length],
    [0, 1, memberId, memberId, 1],
  );
  assert.is(s.group.state, 'CompletingRebalance');
  const sync = s.sync(memberId, 1, { [memberId]: 'all' });
  assert.is(s.syncs.get(sync)!.assignment.toString(), 'all');
  assert.is(s.group.state, 'Stable');
});

test('a second member triggers a rebalance; the first rejoins on REBALANCE_IN_PROGRESS', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: 'p0,p1' });
  const b = s.newMember();
  assert.is(s.group.state, 'PreparingRebalance');
  assert.not.ok(s.joins.has(b.request), 'b parked until a rejoins');
  assert.is(
    s.group.heartbeat({ memberId: a, groupInstanceId: null, generationId: 1 }, s.now),
    ErrorCode.REBALANCE_IN_PROGRESS,
  );
  const aJoin = s.join(a);
  const aReply = s.joins.get(aJoin)!;
  const bReply = s.joins.get(b.request)!;
  assert.equal([aReply.generationId, bReply.generationId], [2, 2]);
  assert.is(aReply.leader, a, 'leader kept across rebalances');
  assert.is(aReply.members.length, 2);
  assert.is(bReply.members.length, 0, 'followers do not see the member list');
  const bSync = s.sync(b.memberId, 2);
  assert.not.ok(s.syncs.has(bSync), 'follower sync parks for the leader');
  s.sync(a, 2, { [a]: 'p0', [b.memberId]: 'p1' });
  assert.is(s.syncs.get(bSync)!.assignment.toString(), 'p1');
});

test('stale generations and unknown members get their errors', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: 'x' });
  assert.is(
    s.group.heartbeat({ memberId: a, groupInstanceId: null, generationId: 0 }, s.now),
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.is(
    s.group.heartbeat({ memberId: 'ghost', groupInstanceId: null, generationId: 1 }, s.now),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.is(s.group.canCommit(a, null, 0), ErrorCode.ILLEGAL_GENERATION);
  assert.is(s.group.canCommit('ghost', null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.is(s.group.canCommit(a, null, 1), ErrorCode.NONE);
  assert.is(
    s.group.canCommit('', null, -1),
    ErrorCode.UNKNOWN_MEMBER_ID,
    'standalone commit into a live group refused',
  );
  assert.is(s.syncs.get(s.sync(a, 7))!.errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.is(s.joins.get(s.join('ghost'))!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('session expiry removes a silent member and rebalances the rest', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: '' });
  const b = s.newMember();
  s.join(a);
  s.sync(a, 2, {});
  s.sync(b.memberId, 2);
  assert.is(s.group.state, 'Stable');
  for (let i = 0; i < 4; i++) {
    s.tick(1000);
    s.group.heartbeat({ memberId: a, groupInstanceId: null, generationId: 2 }, s.now);
  }
  assert.not.ok(s.group.members.has(b.memberId), 'b expired after its 3 s session');
  assert.is(s.group.state, 'PreparingRebalance');
  const rejoin = s.join(a);
  assert.equal([s.joins.get(rejoin)!.generationId, s.joins.get(rejoin)!.members.length], [3, 1]);
});

test('rebalance timeout drops members that never rejoin', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  const b = s.newMember({ rebalanceTimeoutMs: 5000 }).memberId;
  void b;
  s.join(a); // a rejoins after b arrived; generation 1 with both
  s.sync(a, 1, {});
  assert.is(s.group.members.size, 2);
  s.newMember(); // c triggers a rebalance; a rejoins, b stays silent
  s.join(a);
  assert.is(s.group.state, 'PreparingRebalance');
  // b keeps its session alive with heartbeats but never rejoins.
  for (let i = 0; i < 6; i++) {
    s.tick(1000);
    s.group.heartbeat({ memberId: b, groupInstanceId: null, generationId: 1 }, s.now);
  }
  assert.is(s.group.state, 'CompletingRebalance');
  assert.is(s.group.members.size, 2, 'b dropped at the rebalance timeout');
  assert.not.ok(s.group.members.has(b));
});

test('leave: the last member out leaves the group Empty; leaving twice is UNKNOWN_MEMBER_ID', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: '' });
  assert.is(s.group.leave(a, null, s.now).errorCode, ErrorCode.NONE);
  assert.is(s.group.state, 'Empty');
  assert.is(s.group.leave(a, null, s.now).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.is(s.group.canCommit('', null, -1), ErrorCode.NONE, 'standalone commits into an empty group');
});

test('static member restarting takes over its identity; the old member id is fenced', () => {
  const s = new Script();
  const first = s.newMember({ groupInstanceId: 'pod-1' });
  assert.is(s.joins.get(first.request)!.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
  const old = first.memberId;
  s.sync(old, 1, { [old]: 'p0' }, 'pod-1');
  const restart = s.join('', { groupInstanceId: 'pod-1' });
  const reply = s.joins.get(restart)!;
  assert.is(reply.errorCode, ErrorCode.NONE);
  assert.is.not(reply.memberId, old);
  assert.is(
    s.group.heartbeat({ memberId: old, groupInstanceId: 'pod-1', generationId: s.group.generationId }, s.now),
    ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.is(s.joins.get(s.join(old, { groupInstanceId: 'pod-1' }))!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
});

test('bad joins: session timeout bounds, inconsistent protocols, oversized metadata, a flood', () => {
  const s = new Script();
  assert.is(s.joins.get(s.join('', { sessionTimeoutMs: 10 }))!.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.is(s.joins.get(s.join('', { protocols: [] }))!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.is(
    s.joins.get(s.join('', { protocols: [{ name: 'range', metadata: Buffer.alloc(2048) }] }))!.errorCode,
    ErrorCode.INVALID_REQUEST,
  );
  const a = s.newMember().memberId;
  s.sync(a, 1, {});
  assert.is(s.joins.get(s.join('', { protocolType: 'connect' }))!.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.is(
    s.joins.get(s.join('', { protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(1) }] }))!.errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  const codes = Array.from({ length: 20 }, () => s.joins.get(s.join(''))!.errorCode);
  assert.ok(codes.includes(ErrorCode.GROUP_MAX_SIZE_REACHED), 'the flood hits group.max.size');
  assert.ok(s.group.members.size + 0 <= LIMITS.maxSize);
});

test('protocol selection: the most preferred protocol all members support', () => {
  const s = new Script();
  const both = [
    { name: 'cooperative-sticky', metadata: Buffer.alloc(1) },
    { name: 'range', metadata: Buffer.alloc(1) },
  ];
  const a = s.newMember({ protocols: both }).memberId;
  const b = s.newMember({
    protocols: [
      { name: 'range', metadata: Buffer.alloc(1) },
      { name: 'cooperative-sticky', metadata: Buffer.alloc(1) },
    ],
  });
  const aJoin = s.join(a, { protocols: both });
  assert.ok(s.joins.get(aJoin)!.protocolName === 'cooperative-sticky' || s.joins.get(aJoin)!.protocolName === 'range');
  assert.is(s.joins.get(b.request)!.protocolName, s.joins.get(aJoin)!.protocolName);
});

test('the initial rebalance delay gathers members that arrive together', () => {
  const s = new Script(3000);
  const a = s.newMember();
  s.tick(500);
  const b = s.newMember();
  assert.not.ok(s.joins.has(a.request), 'still waiting for the delay');
  s.tick(3000);
  assert.is(s.joins.get(a.request)!.generationId, 1);
  assert.is(s.joins.get(b.request)!.generationId, 1);
});

test("members' metadata together: the join that would cross the group's bound gets UNKNOWN_SERVER_ERROR", () => {
  const s = new Script();
  const big = (n: number) => ({ protocols: [{ name: 'range', metadata: Buffer.alloc(n) }] });
  const a = s.newMember(big(900)).memberId;
  s.sync(a, 1, { [a]: 'x'.repeat(100) });
  const b = s.newMember(big(900));
  s.join(a, big(900));
  assert.is(s.joins.get(b.request)!.errorCode, ErrorCode.NONE, '900 + 100 + 900 bytes fit in 2048');
  assert.is(s.group.members.size, 2);
  const c = s.join('', { ...big(900), requireKnownMemberId: false });
  assert.is(s.joins.get(c)!.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR, 'a third 900 would not fit');
  assert.is(s.group.members.size, 2, 'the group is untouched');
  assert.ok(s.group.metadataBytes() <= LIMITS.groupMetadataBytesMax);
});

test("the leader's assignments crossing the group's bound: UNKNOWN_SERVER_ERROR to every syncing member, then a rebalance", () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: 'p0' });
  const b = s.newMember();
  s.join(a);
  const generation = s.joins.get(b.request)!.generationId;
  const follower = s.sync(b.memberId, generation);
  const leader = s.sync(a, generation, { [a]: 'x'.repeat(1024), [b.memberId]: 'y'.repeat(1024) });
  assert.is(s.syncs.get(leader)!.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  assert.is(s.syncs.get(follower)!.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  assert.is(s.group.state, 'PreparingRebalance');
  assert.is(s.group.members.get(a)!.assignment.toString(), 'p0', 'the refused assignment was not kept');
});

test("commits with no generation follow Kafka's classic group: accepted while empty, whatever the member id", () => {
  const s = new Script();
  assert.is(s.group.canCommit('', null, -1), ErrorCode.NONE);
  assert.is(
    s.group.canCommit('admin-tool', null, -1),
    ErrorCode.NONE,
    'Kafka accepts any member id into an empty group',
  );
  const a = s.newMember().memberId;
  assert.is(s.group.canCommit(a, null, 1), ErrorCode.REBALANCE_IN_PROGRESS, 'CompletingRebalance');
  s.sync(a, 1, { [a]: 'p0' });
  assert.is(s.group.canCommit(a, null, -1), ErrorCode.ILLEGAL_GENERATION);
  assert.is(s.group.canCommit('', null, -1), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('snapshot and restore keep generation, members and assignments', () => {
  const s = new Script();
  const a = s.newMember().memberId;
  s.sync(a, 1, { [a]: 'p0' });
  const copy = new Group('g', 100, LIMITS);
  copy.restore(
    JSON.parse(JSON.stringify(s.group.snapshot()), (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data) : v)),
    100,
  );
  assert.equal([copy.state, copy.generationId, copy.leaderId], ['Stable', 1, a]);
  assert.is(copy.members.get(a)!.assignment.toString(), 'p0');
});

test.run();
