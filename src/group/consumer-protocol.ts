// The topics a "consumer" group subscribes to, read from its members' metadata (the
// subscription codec is protocol/consumer-protocol.ts). Only the topic list is read;
// anything unreadable counts as no topics.

import { decodeSubscriptionTopics } from '../../protocol/consumer-protocol';
import type { Group } from './group';

export function subscriptionTopics(metadata: Buffer): string[] {
  try {
    return decodeSubscriptionTopics(metadata);
  } catch {
    return [];
  }
}

export function subscribedTopics(group: Group): Set<string> {
  const topics = new Set<string>();
  if (group.protocolType !== 'consumer') return topics;
  for (const member of group.members.values()) {
    const metadata = member.protocols.find((p) => p.name === group.protocolName)?.metadata;
    if (metadata) for (const topic of subscriptionTopics(metadata)) topics.add(topic);
  }
  return topics;
}
