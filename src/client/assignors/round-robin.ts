// The round-robin assignor, as Kafka's RoundRobinAssignor: every partition of every
// subscribed topic (topics in name order) is dealt in turn to the next member, in member
// id order, that subscribes to its topic. A pure function.

import type { PartitionsByTopic } from '../../../protocol/consumer-protocol';

/** memberId -> the partitions it gets; every member appears, possibly with nothing. */
export function roundRobinAssign(
  members: { memberId: string; topics: string[] }[],
  partitionsOf: (topic: string) => number,
): Map<string, PartitionsByTopic> {
  const out = new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
  const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  let turn = 0;
  for (const topic of topics) {
    for (let p = 0; p < partitionsOf(topic); p++) {
      // The next member (in order) that subscribes to this topic.
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[turn++ % sorted.length];
        if (!m.topics.includes(topic)) continue;
        const mine = out.get(m.memberId)!;
        mine.set(topic, [...(mine.get(topic) ?? []), p]);
        break;
      }
    }
  }
  return out;
}
