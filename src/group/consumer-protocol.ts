// Reading the "consumer" protocol's member metadata (subscription) so the coordinator
// can tell which topics a group consumes: version int16, topics [string], user data...
// Only the topic list is read; anything unreadable counts as no topics.

import { Reader } from '../../protocol/primitives';
import type { Group } from './group';

export function subscriptionTopics(metadata: Buffer): string[] {
  try {
    const reader = new Reader(metadata);
    reader.int16();
    const count = reader.arrayLength(2) ?? 0;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) topics.push(reader.string());
    return topics;
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
