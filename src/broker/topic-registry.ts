// The TopicInfo shape the handlers read (built from the metadata image by the broker's
// topic view). Naming rules, internal topics and topic ids are in protocol/topic-names.ts.

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides, by Kafka config name. */
  configs: Record<string, string>;
  createdAtMs: number;
}
