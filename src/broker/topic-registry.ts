// The single-node topic catalogue: names, topic ids, partition counts and per-topic config
// overrides, kept in memory and persisted atomically (write temp file, fsync, rename) in
// the data directory. The Raft metadata quorum (issue 3) replaces this file with the
// replicated metadata image; the interface the handlers use stays the same.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides, by Kafka config name. */
  configs: Record<string, string>;
  createdAtMs: number;
}

const FILE_NAME = 'topics.json';
const FILE_VERSION = 1;

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

export class TopicRegistry {
  private readonly topics = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, FILE_NAME);
  }

  load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as { version: number; topics: TopicInfo[] };
    if (parsed.version !== FILE_VERSION) throw new Error(`${this.file}: unknown version ${parsed.version}`);
    for (const topic of parsed.topics) this.index(topic);
  }

  private index(topic: TopicInfo): void {
    this.topics.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private persist(): void {
    const temp = `${this.file}.tmp`;
    const body = JSON.stringify({ version: FILE_VERSION, topics: [...this.topics.values()] }, null, 1);
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
  }

  get(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicInfo[] {
    return [...this.topics.values()];
  }

  create(name: string, partitions: number, replicationFactor: number, configs: Record<string, string>, nowMs: number): TopicInfo {
    const topic: TopicInfo = { name, topicId: newTopicId(), partitions, replicationFactor, configs, createdAtMs: nowMs };
    this.index(topic);
    this.persist();
    return topic;
  }

  setPartitions(name: string, partitions: number): void {
    const topic = this.topics.get(name);
    if (!topic) return;
    topic.partitions = partitions;
    this.persist();
  }

  setConfigs(name: string, configs: Record<string, string>): void {
    const topic = this.topics.get(name);
    if (!topic) return;
    topic.configs = configs;
    this.persist();
  }

  remove(name: string): TopicInfo | undefined {
    const topic = this.topics.get(name);
    if (!topic) return undefined;
    this.topics.delete(name);
    this.byId.delete(topic.topicId);
    this.persist();
    return topic;
  }
}
