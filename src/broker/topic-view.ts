// The topic catalogue as API handlers see it: a read-only view of the metadata image
// (name, id, partition count, replication factor, configs) that follows every change.

import { MetadataImage } from '../controller/metadata-image';
import { TopicInfo } from './topic-registry';

/** Topics as the handlers see them, read from the metadata image. */
export class TopicView {
  constructor(private readonly image: () => MetadataImage) {}

  private info(
    topic: { name: string; topicId: string; partitions: Map<number, { replicas: number[] }> } | undefined,
  ): TopicInfo | undefined {
    if (!topic) return undefined;
    return {
      name: topic.name,
      topicId: topic.topicId,
      partitions: topic.partitions.size,
      replicationFactor: topic.partitions.get(0)?.replicas.length ?? 1,
      configs: this.image().topicConfigs(topic.name),
      createdAtMs: 0,
    };
  }

  get(name: string): TopicInfo | undefined {
    return this.info(this.image().topicsByName.get(name));
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.info(this.image().topicsById.get(topicId));
  }

  list(): TopicInfo[] {
    return [...this.image().topicsByName.values()].map((t) => this.info(t)!);
  }
}
