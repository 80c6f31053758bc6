// The "consumer" protocol's member metadata (ConsumerProtocolSubscription) and assignment
// (ConsumerProtocolAssignment) bytes, as Kafka's clients write them. Neither is a flexible
// message. Subscription: version int16, topics [string], user data (nullable bytes), from
// v1 owned partitions [topic string, partitions [int32]], from v2 a generation id int32,
// from v3 a rack id (nullable string). Assignment: version int16, partitions [topic string,
// partitions [int32]], user data (nullable bytes). A reader of an older layout stops
// after the fields it knows, so a newer version is read by its known prefix. This is wire
// format shared by the group coordinator (which reads the topics a group consumes) and the
// bundled client (which writes and reads both), so it lives here, with no I/O.

import { Reader, Writer } from './primitives';

/** topic -> partitions, the shape of both owned and assigned partitions. */
export type PartitionsByTopic = Map<string, number[]>;

export interface Subscription {
  version: number;
  topics: string[];
  userData: Buffer | null;
  /** Partitions the member holds now (v1+; empty when absent). */
  ownedPartitions: PartitionsByTopic;
  /** The generation the owned partitions belong to (v2+; -1 when absent). */
  generationId: number;
  rackId: string | null;
}

/** The newest subscription layout this client writes and reads. */
export const SUBSCRIPTION_VERSION_MAX = 3;

/** Bounds on decoded arrays, so a corrupt length cannot make us allocate without limit. */
const TOPICS_PER_SUBSCRIPTION_MAX = 100_000;
const PARTITIONS_PER_TOPIC_MAX = 1_000_000;

function writePartitions(writer: Writer, partitions: PartitionsByTopic): void {
  const topics = [...partitions].filter(([, list]) => list.length > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  writer.int32(topics.length);
  for (const [topic, list] of topics) {
    writer.string(topic).int32(list.length);
    for (const partition of [...list].sort((a, b) => a - b)) writer.int32(partition);
  }
}

function readPartitions(reader: Reader): PartitionsByTopic {
  const out: PartitionsByTopic = new Map();
  const count = reader.arrayLength(6) ?? 0;
  if (count > TOPICS_PER_SUBSCRIPTION_MAX) throw new Error(`consumer protocol: ${count} topics is over the limit`);
  for (let i = 0; i < count; i++) {
    const topic = reader.string();
    const n = reader.arrayLength(4) ?? 0;
    if (n > PARTITIONS_PER_TOPIC_MAX) throw new Error(`consumer protocol: ${n} partitions is over the limit`);
    out.set(
      topic,
      Array.from({ length: n }, () => reader.int32()),
    );
  }
  return out;
}

/** Writes a subscription at `version` (0..3); fields newer than the version are left out. */
export function encodeSubscriptionBytes(
  subscription: Partial<Subscription> & { topics: string[]; version: number },
): Buffer {
  const version = subscription.version;
  if (version < 0 || version > SUBSCRIPTION_VERSION_MAX)
    throw new Error(`consumer protocol subscription version ${version} is not 0..${SUBSCRIPTION_VERSION_MAX}`);
  const writer = new Writer(64).int16(version).int32(subscription.topics.length);
  for (const topic of [...subscription.topics].sort()) writer.string(topic);
  writer.nullableBytes(subscription.userData ?? null);
  if (version >= 1) writePartitions(writer, subscription.ownedPartitions ?? new Map());
  if (version >= 2) writer.int32(subscription.generationId ?? -1);
  if (version >= 3) writer.nullableString(subscription.rackId ?? null);
  return writer.toBuffer();
}

function readTopics(reader: Reader): string[] {
  const count = reader.arrayLength(2) ?? 0;
  if (count > TOPICS_PER_SUBSCRIPTION_MAX) throw new Error(`consumer protocol: ${count} topics is over the limit`);
  return Array.from({ length: count }, () => reader.string());
}

/** Only the subscribed topics: the prefix every version shares (throws on bytes that are not one). */
export function decodeSubscriptionTopics(bytes: Buffer): string[] {
  const reader = new Reader(bytes);
  reader.int16();
  return readTopics(reader);
}

/**
 * Reads any version. A version above the newest known one is read by the fields this
 * client knows, as Kafka's own clients do (new versions only append fields).
 */
export function decodeSubscriptionBytes(bytes: Buffer): Subscription {
  const reader = new Reader(bytes);
  const version = reader.int16();
  const topics = readTopics(reader);
  const subscription: Subscription = {
    version,
    topics,
    userData: null,
    ownedPartitions: new Map(),
    generationId: -1,
    rackId: null,
  };
  if (reader.remaining === 0) return subscription;
  subscription.userData = reader.nullableBytes();
  if (version >= 1 && reader.remaining > 0) subscription.ownedPartitions = readPartitions(reader);
  if (version >= 2 && reader.remaining >= 4) subscription.generationId = reader.int32();
  if (version >= 3 && reader.remaining > 0) subscription.rackId = reader.nullableString();
  return subscription;
}

export function encodeAssignmentBytes(partitions: PartitionsByTopic, version = 0): Buffer {
  const writer = new Writer(64).int16(version);
  writePartitions(writer, partitions);
  return writer.nullableBytes(null).toBuffer();
}

/** An empty buffer (what a coordinator hands a member it has no assignment for) is no partitions. */
export function decodeAssignmentBytes(bytes: Buffer): PartitionsByTopic {
  if (bytes.length === 0) return new Map();
  const reader = new Reader(bytes);
  reader.int16();
  return readPartitions(reader);
}
