// The cooperative-sticky assignor (KIP-429) as a pure function: the group leader's plan
// from every member's subscription, the partitions it owns and the generation they belong
// to. The plan keeps as many owned partitions where they are as balance allows, spreads
// the rest so no member that could take a partition has two fewer than one that holds it,
// and never hands a partition to a new owner while another member still owns it: such a
// partition is withheld, its owner revokes it (it is missing from the owner's assignment),
// rejoins, and the follow-up rebalance gives it out.

import type { PartitionsByTopic } from '../../../protocol/consumer-protocol';

export const COOPERATIVE_STICKY = 'cooperative-sticky';

export interface StickyMember {
  memberId: string;
  topics: string[];
  owned: PartitionsByTopic;
  /** The generation `owned` belongs to; -1 when the member did not say. */
  generationId: number;
}

export interface StickyPlan {
  /** memberId -> partitions the member gets now (withheld ones left out). */
  assignment: Map<string, PartitionsByTopic>;
  /** Partitions that move to `to` in the follow-up rebalance, once `from` has revoked them. */
  withheld: { topic: string; partition: number; from: string; to: string }[];
}

/** A partition as one comparable string key; topic names cannot contain NUL. */
function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('\u0000');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

function compareKeys(a: string, b: string): number {
  const [ta, pa] = splitKey(a);
  const [tb, pb] = splitKey(b);
  return ta < tb ? -1 : ta > tb ? 1 : pa - pb;
}

/**
 * Who owns each partition that still exists and is still subscribed by its claimant. When
 * two members claim one partition the claim of the newer generation wins (the other is a
 * stale view from before a rebalance it missed); on a tie the lower member id wins, so the
 * answer does not depend on the order members are listed in.
 */
export function validOwners(members: StickyMember[], partitionsOf: (topic: string) => number): Map<string, string> {
  const owners = new Map<string, { memberId: string; generationId: number }>();
  for (const member of members) {
    for (const [topic, partitions] of member.owned) {
      if (!member.topics.includes(topic)) continue;
      const count = partitionsOf(topic);
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) continue;
        const key = keyOf(topic, partition);
        const current = owners.get(key);
        const wins =
          !current ||
          member.generationId > current.generationId ||
          (member.generationId === current.generationId && member.memberId < current.memberId);
        if (wins) owners.set(key, { memberId: member.memberId, generationId: member.generationId });
      }
    }
  }
  return new Map([...owners].map(([key, owner]) => [key, owner.memberId]));
}

export function cooperativeStickyAssign(members: StickyMember[], partitionsOf: (topic: string) => number): StickyPlan {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]));
  const owners = validOwners(sorted, partitionsOf);

  // Start from what each member validly owns.
  const holding = new Map<string, Set<string>>(sorted.map((m) => [m.memberId, new Set<string>()]));
  for (const [key, memberId] of owners) holding.get(memberId)!.add(key);

  // Every partition of a subscribed topic that nobody owns goes to the least loaded member
  // that subscribes to its topic (ties by member id, so the plan is deterministic).
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const eligible = sorted.filter((m) => subscribed.get(m.memberId)!.has(topic));
    for (let partition = 0; partition < partitionsOf(topic); partition++) {
      const key = keyOf(topic, partition);
      if (owners.has(key)) continue;
      let best = eligible[0];
      for (const m of eligible) if (holding.get(m.memberId)!.size < holding.get(best.memberId)!.size) best = m;
      holding.get(best.memberId)!.add(key);
    }
  }

  // Balance by single moves from a member holding at least two more than another member
  // that could take one of its partitions. Each move lowers the sum of squared loads, so
  // the loop ends; a partition its holder did not own before moves first (stickiness).
  for (;;) {
    const byLoadDescending = [...sorted].sort(
      (a, b) => holding.get(b.memberId)!.size - holding.get(a.memberId)!.size || (a.memberId < b.memberId ? -1 : 1),
    );
    let moved = false;
    for (const heavy of byLoadDescending) {
      const heavyLoad = holding.get(heavy.memberId)!.size;
      for (const light of [...byLoadDescending].reverse()) {
        if (heavyLoad - holding.get(light.memberId)!.size < 2) break;
        const lightTopics = subscribed.get(light.memberId)!;
        const movable = [...holding.get(heavy.memberId)!].filter((key) => lightTopics.has(splitKey(key)[0]));
        if (movable.length === 0) continue;
        movable.sort(
          (a, b) =>
            Number(owners.get(a) === heavy.memberId) - Number(owners.get(b) === heavy.memberId) || compareKeys(b, a),
        );
        const key = movable[0];
        holding.get(heavy.memberId)!.delete(key);
        holding.get(light.memberId)!.add(key);
        moved = true;
        break;
      }
      if (moved) break;
    }
    if (!moved) break;
  }

  // A partition another member still owns is withheld from its new holder for now.
  const assignment = new Map<string, PartitionsByTopic>();
  const withheld: StickyPlan['withheld'] = [];
  for (const member of sorted) {
    const mine: PartitionsByTopic = new Map();
    for (const key of [...holding.get(member.memberId)!].sort(compareKeys)) {
      const [topic, partition] = splitKey(key);
      const owner = owners.get(key);
      if (owner !== undefined && owner !== member.memberId) {
        withheld.push({ topic, partition, from: owner, to: member.memberId });
        continue;
      }
      if (!mine.has(topic)) mine.set(topic, []);
      mine.get(topic)!.push(partition);
    }
    assignment.set(member.memberId, mine);
  }
  return { assignment, withheld };
}
