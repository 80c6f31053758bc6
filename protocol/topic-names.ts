// Topic naming rules in one place: which names are legal (Kafka's rule), which topics are
// internal (owned by the broker: clients cannot write, delete or grow them), and topic ids
// (16 random bytes shown as unpadded base64url, as Kafka's Uuid prints them).
// This lives in protocol/ because broker, controller, HTTP, CLI and client all need the same
// answers; it does no I/O. newTopicId draws from node:crypto, a synchronous call like the
// compression codecs' use of node built-ins.

import { randomBytes } from 'node:crypto';
import { ZERO_UUID } from './primitives';

/** Longest legal topic name, in characters. */
export const TOPIC_NAME_LENGTH_MAX = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** The group coordinator's offsets and group metadata topic. */
export const OFFSETS_TOPIC = '__consumer_offsets';
/** The transaction coordinator's topic (reserved; Brook has no transactions yet). */
export const TRANSACTION_STATE_TOPIC = '__transaction_state';
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC]);

/** Kafka's rule: [a-zA-Z0-9._-], at most 249 characters, not "." or "..". Null when legal, else why not. */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > TOPIC_NAME_LENGTH_MAX) return `topic name is longer than ${TOPIC_NAME_LENGTH_MAX} characters`;
  if (name === '.' || name === '..') return 'topic name cannot be "." or ".."';
  if (!LEGAL_TOPIC_NAME.test(name)) return `topic name "${name}" has characters other than [a-zA-Z0-9._-]`;
  return null;
}

/** A name with '.' and '_' made alike: two topics whose forms are equal share their metric names. */
export function unifyCollisionChars(name: string): string {
  return name.replace(/\./g, '_');
}

/**
 * The existing topic that `name` collides with (equal once '.' and '_' are alike, but not
 * the same name), or null. Kafka's controller refuses such a name with INVALID_TOPIC_EXCEPTION.
 */
export function collidingTopic(name: string, existing: Iterable<string>): string | null {
  if (!name.includes('.') && !name.includes('_')) return null;
  const unified = unifyCollisionChars(name);
  for (const other of existing) if (other !== name && unifyCollisionChars(other) === unified) return other;
  return null;
}

/** Topics the broker owns (Kafka's internal topics); clients cannot write, delete or grow them. */
export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

/** The zero topic id: "no id" on the wire (a request naming topics by name only). */
export const ZERO_TOPIC_ID = ZERO_UUID;

/** A fresh random topic id in its text form. */
export function newTopicId(): string {
  // Kafka never hands out the zero UUID or ids whose base64 form starts with '-'.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && id !== ZERO_TOPIC_ID) return id;
  }
}
