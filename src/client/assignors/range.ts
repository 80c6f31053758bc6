// The range assignor, as Kafka's RangeAssignor: per topic, the members that subscribe to
// it (in member id order) each take a consecutive run of its partitions, the first ones
// one extra when the count does not divide evenly. A pure function.

import type { PartitionsByTopic } from '../../../protocol/consumer-protocol';

/** memberId -> the partitions it gets; every member appears, possibly with nothing. */
export function rangeAssign(
  members: { memberId: string; topics: string[] }[],
  partitionsOf: (topic: string) => number,
): Map<string, PartitionsByTopic> {
  const out = new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
  const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const consumers = sorted.filter((m) => m.topics.includes(topic));
    const count = partitionsOf(topic);
    const per = Math.floor(count / consumers.length);
    const extra = count % consumers.length;
    let next = 0;
    consumers.forEach((m, i) => {
      const take = per + (i < extra ? 1 : 0);
      if (take === 0) return;
      const mine = out.get(m.memberId)!;
      mine.set(topic, [...(mine.get(topic) ?? []), ...Array.from({ length: take }, (_, k) => next + k)]);
      next += take;
    });
  }
  return out;
}
