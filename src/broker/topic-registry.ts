// Topic naming rules, topic ids, internal topics, and the TopicInfo shape the handlers
// read (built from the metadata image by the broker's topic view).

import { randomBytes } from 'node:crypto';

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides, by Kafka config name. */
  configs: Record<string, string>;
  createdAtMs: number;
}


/** Kafka's rule: [a-zA-Z0-9._-], at most 249 characters, not "." or "..". */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (name === '.' || name === '..') return 'topic name cannot be "." or ".."';
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name "${name}" has characters other than [a-zA-Z0-9._-]`;
  return null;
}

/** Topics the broker owns (the offsets topic); clients cannot write, delete or grow them. */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}

export function newTopicId(): string {
  // Kafka never hands out the zero UUID or ids whose base64 form starts with '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && id !== 'AAAAAAAAAAAAAAAAAAAAAA') return id;
  }
}
