// The cooperative-sticky assignor as a pure function: balance within one partition,
// stickiness when members join and leave, no partition handed to a new owner while
// another member still owns it (withheld until the owner revokes it), members with
// different subscriptions, stale claims losing to newer generations, and convergence over
// many seeded random groups.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cooperativeStickyAssign, StickyMember, StickyPlan } from '../../src/client/assignors/cooperative-sticky';

type Owned = Record<string, number[]>;

function member(memberId: string, topics: string[], owned: Owned = {}, generationId = 1): StickyMember {
  return { memberId, topics, owned: new Map(Object.entries(owned)), generationId };
}

function plain(plan: StickyPlan): Record<string, Owned> {
  return Object.fromEntries([...plan.assignment].map(([id, partitions]) => [id, Object.fromEntries(partitions)]));
}

function load(plan: StickyPlan, memberId: string): number {
  return [...plan.assignment.get(memberId)!.values()].reduce((sum, list) => sum + list.length, 0);
}

/** Every member's assignment as a set of "topic-partition" strings. */
function flat(partitions: Map<string, number[]>): string[] {
  return [...partitions].flatMap(([topic, list]) => list.map((p) => `${topic}-${p}`)).sort();
}

/** Checks that hold for any plan: one holder per partition, subscribed topics only, nothing handed over while owned elsewhere. */
function checkInvariants(members: StickyMember[], sizes: Record<string, number>, plan: StickyPlan): void {
  const holder = new Map<string, string>();
  for (const [memberId, partitions] of plan.assignment) {
    const m = members.find((x) => x.memberId === memberId)!;
    for (const [topic, list] of partitions) {
      assert.ok(m.topics.includes(topic), `${memberId} got ${topic} without subscribing`);
      for (const p of list) {
        const key = `${topic}-${p}`;
        assert.not.ok(holder.has(key), `${key} given to ${holder.get(key)} and ${memberId}`);
        holder.set(key, memberId);
        const claimants = members.filter(
          (x) => x.memberId !== memberId && x.topics.includes(topic) && (x.owned.get(topic) ?? []).includes(p),
        );
        for (const c of claimants)
          assert.ok(
            c.generationId < m.generationId || (m.owned.get(topic) ?? []).includes(p),
            `${key} handed to ${memberId} while ${c.memberId} owns it`,
          );
      }
    }
  }
  const subscribedTopics = new Set(members.flatMap((m) => m.topics));
  for (const topic of subscribedTopics) {
    for (let p = 0; p < sizes[topic]; p++) {
      const key = `${topic}-${p}`;
      const withheld = plan.withheld.some((w) => w.topic === topic && w.partition === p);
      assert.ok(holder.has(key) !== withheld, `${key} must be either assigned or withheld, not both or neither`);
    }
  }
}

/** Members revoke what they were not given and rejoin, until nothing is withheld. */
function converge(
  members: StickyMember[],
  sizes: Record<string, number>,
  roundsMax = 4,
): { plan: StickyPlan; rounds: number; members: StickyMember[] } {
  let current = members;
  for (let round = 1; round <= roundsMax; round++) {
    const plan = cooperativeStickyAssign(current, (t) => sizes[t] ?? 0);
    checkInvariants(current, sizes, plan);
    if (plan.withheld.length === 0) return { plan, rounds: round, members: current };
    current = current.map((m) => ({ ...m, owned: plan.assignment.get(m.memberId)!, generationId: m.generationId + 1 }));
  }
  throw new Error(`no convergence in ${roundsMax} rounds`);
}

test('a new group: every partition once, loads within one', () => {
  const sizes = { t: 4, u: 3 };
  const members = ['c', 'a', 'b'].map((id) => member(id, ['t', 'u']));
  const plan = cooperativeStickyAssign(members, (t) => sizes[t as 't' | 'u']);
  checkInvariants(members, sizes, plan);
  assert.equal(plan.withheld, []);
  const loads = ['a', 'b', 'c'].map((id) => load(plan, id));
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `loads ${loads}`);
  assert.is(
    loads.reduce((x, y) => x + y),
    7,
  );
});

test('a third member joins: owners keep what balance allows, moved partitions are withheld for one round', () => {
  const sizes = { t: 6 };
  const before = [member('a', ['t'], { t: [0, 1, 2] }), member('b', ['t'], { t: [3, 4, 5] }), member('c', ['t'])];
  const first = cooperativeStickyAssign(before, (t) => sizes[t as 't']);
  checkInvariants(before, sizes, first);
  // a and b each keep two of their own and give one up; c gets nothing yet.
  assert.is(load(first, 'a'), 2);
  assert.is(load(first, 'b'), 2);
  assert.is(load(first, 'c'), 0);
  for (const id of ['a', 'b'])
    for (const p of flat(first.assignment.get(id)!))
      assert.ok(flat(before.find((m) => m.memberId === id)!.owned).includes(p), `${id} keeps only its own`);
  assert.is(first.withheld.length, 2);
  assert.ok(first.withheld.every((w) => w.to === 'c'));
  assert.equal(first.withheld.map((w) => w.from).sort(), ['a', 'b']);

  // The owners revoke the withheld partitions and everyone rejoins: c gets them, nobody else moves.
  const after = before.map((m) => ({ ...m, owned: first.assignment.get(m.memberId)!, generationId: 2 }));
  const second = cooperativeStickyAssign(after, (t) => sizes[t as 't']);
  checkInvariants(after, sizes, second);
  assert.equal(second.withheld, []);
  assert.equal(plain(second).a, plain(first).a);
  assert.equal(plain(second).b, plain(first).b);
  assert.equal(flat(second.assignment.get('c')!), first.withheld.map((w) => `t-${w.partition}`).sort());
});

test('a member leaves: its partitions go to the others, who keep their own', () => {
  const sizes = { t: 6 };
  const members = [member('a', ['t'], { t: [0, 1] }), member('b', ['t'], { t: [2, 3] })];
  const plan = cooperativeStickyAssign(members, (t) => sizes[t as 't']);
  checkInvariants(members, sizes, plan);
  assert.equal(plan.withheld, []);
  assert.is(load(plan, 'a'), 3);
  assert.is(load(plan, 'b'), 3);
  assert.ok(flat(plan.assignment.get('a')!).includes('t-0') && flat(plan.assignment.get('a')!).includes('t-1'));
  assert.ok(flat(plan.assignment.get('b')!).includes('t-2') && flat(plan.assignment.get('b')!).includes('t-3'));
});

test('members with different subscriptions: each gets only its topics, and the shared member balances', () => {
  const sizes = { t: 3, u: 3 };
  const members = [member('a', ['t']), member('b', ['t', 'u']), member('c', ['u'])];
  const plan = cooperativeStickyAssign(members, (t) => sizes[t as 't' | 'u']);
  checkInvariants(members, sizes, plan);
  assert.equal(
    ['a', 'b', 'c'].map((id) => load(plan, id)),
    [2, 2, 2],
  );
  assert.equal([...plan.assignment.get('a')!.keys()], ['t']);
  assert.equal([...plan.assignment.get('c')!.keys()], ['u']);
  // A topic nobody else reads stays with its only subscriber, however unbalanced.
  const lonely = [member('a', ['t']), member('b', ['u'], { u: [0] })];
  const lonelyPlan = cooperativeStickyAssign(lonely, (t) => ({ t: 1, u: 5 })[t as 't' | 'u']);
  checkInvariants(lonely, { t: 1, u: 5 }, lonelyPlan);
  assert.equal(plain(lonelyPlan), { a: { t: [0] }, b: { u: [0, 1, 2, 3, 4] } });
});

test('claims: a newer generation wins, unsubscribed or vanished partitions are not kept', () => {
  const sizes = { t: 2 };
  const members = [member('a', ['t'], { t: [0] }, 5), member('b', ['t'], { t: [0, 1, 7], gone: [0] }, 4)];
  const plan = cooperativeStickyAssign(members, (t) => (t === 't' ? 2 : 0));
  checkInvariants(members, sizes, plan);
  assert.equal(plain(plan), { a: { t: [0] }, b: { t: [1] } });
  assert.equal(plan.withheld, []);
});

test('seeded random groups: invariants every round, balanced within one after at most two rounds', () => {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let trial = 0; trial < 200; trial++) {
    const sizes: Record<string, number> = { t: 1 + Math.floor(random() * 12), u: Math.floor(random() * 6) };
    const count = 1 + Math.floor(random() * 6);
    // Everyone shares one subscription here, so a balance within one is always reachable.
    const topics = sizes.u > 0 ? ['t', 'u'] : ['t'];
    const members: StickyMember[] = Array.from({ length: count }, (_, i) => member(`m${i}`, topics, {}, 3));
    // Random earlier ownership, including members that are gone and partitions owned twice.
    for (const topic of topics) {
      for (let p = 0; p < sizes[topic]; p++) {
        if (random() < 0.3) continue;
        const owner = members[Math.floor(random() * count)];
        owner.owned.set(topic, [...(owner.owned.get(topic) ?? []), p]);
        if (random() < 0.1) {
          const other = members[Math.floor(random() * count)];
          if (other !== owner) {
            other.owned.set(topic, [...(other.owned.get(topic) ?? []), p]);
            other.generationId = 2;
          }
        }
      }
    }
    const { plan, rounds, members: final } = converge(members, sizes);
    assert.ok(rounds <= 2, `trial ${trial}: ${rounds} rounds`);
    const loads = final.map((m) => load(plan, m.memberId));
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `trial ${trial}: loads ${loads}`);
    assert.is(
      loads.reduce((x, y) => x + y),
      topics.reduce((sum, t) => sum + sizes[t], 0),
      `trial ${trial}: every partition assigned`,
    );
  }
});

test.run();
