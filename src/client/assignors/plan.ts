// The group leader's side of the "consumer" protocol: read every member's subscription,
// run the assignor the coordinator chose (range, round-robin or cooperative-sticky) and
// write each member's assignment bytes.

import {
  decodeSubscriptionBytes,
  encodeAssignmentBytes,
  encodeSubscriptionBytes,
  PartitionsByTopic,
} from '../../../protocol/consumer-protocol';
import { COOPERATIVE_STICKY, cooperativeStickyAssign } from './cooperative-sticky';
import { rangeAssign } from './range';
import { roundRobinAssign } from './round-robin';

/**
 * Assigns partitions to members: range (per topic, consecutive runs of partitions, the
 * first members taking one extra) or round-robin (all partitions in turn), as Kafka's
 * RangeAssignor and RoundRobinAssignor do. Members are taken in member id order.
 */
export function assignPartitions(
  kind: 'range' | 'roundrobin',
  members: { memberId: string; topics: string[] }[],
  partitionsOf: (topic: string) => number,
): Map<string, PartitionsByTopic> {
  return kind === 'range' ? rangeAssign(members, partitionsOf) : roundRobinAssign(members, partitionsOf);
}

/**
 * Every member's assignment bytes by `protocolName`. `partitionsOf` answers from metadata
 * that `topicsNeeded` is called first to refresh.
 */
export async function planAssignments(
  protocolName: string,
  members: { memberId: string; metadata: Buffer }[],
  topicsNeeded: (topics: string[]) => Promise<void>,
  partitionsOf: (topic: string) => number,
): Promise<{ memberId: string; assignment: Buffer }[]> {
  const subscriptions = members.map((m) => {
    try {
      return { memberId: m.memberId, subscription: decodeSubscriptionBytes(m.metadata) };
    } catch {
      // A member whose metadata cannot be read gets nothing rather than failing the group.
      return {
        memberId: m.memberId,
        subscription: decodeSubscriptionBytes(encodeSubscriptionBytes({ version: 0, topics: [] })),
      };
    }
  });
  const topics = [...new Set(subscriptions.flatMap((m) => m.subscription.topics))];
  if (topics.length > 0) await topicsNeeded(topics);
  let plan: Map<string, PartitionsByTopic>;
  if (protocolName === COOPERATIVE_STICKY) {
    plan = cooperativeStickyAssign(
      subscriptions.map((m) => ({
        memberId: m.memberId,
        topics: m.subscription.topics,
        owned: m.subscription.ownedPartitions,
        generationId: m.subscription.generationId,
      })),
      partitionsOf,
    ).assignment;
  } else {
    const kind = protocolName === 'roundrobin' ? 'roundrobin' : 'range';
    plan = assignPartitions(
      kind,
      subscriptions.map((m) => ({ memberId: m.memberId, topics: m.subscription.topics })),
      partitionsOf,
    );
  }
  return [...plan].map(([memberId, partitions]) => ({
    memberId,
    assignment: encodeAssignmentBytes(partitions, protocolName === COOPERATIVE_STICKY ? 1 : 0),
  }));
}
