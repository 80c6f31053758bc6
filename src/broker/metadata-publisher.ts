// Brings this broker's partition logs and replicas in line with the committed cluster
// metadata: a Partition record for a partition this node replicates opens its log, a
// reassignment opens or drops a replica, RemoveTopic deletes the logs, topic config
// changes reach the open logs, and leadership and ISR changes go to the replica manager
// once applied. A snapshot that replaces the image is reconciled the same way.
// A committed record is applied on every replica of the metadata log and again at every
// start, so applying it here never throws: a local failure is that partition's alone.

import { Logger } from '../logger';
import { LogManager } from '../log/log-manager';
import { MetadataImage } from '../controller/metadata-image';
import { MetadataRecord } from '../../protocol/metadata/records';
import { ReplicaManager } from '../replica/replica-manager';
import { topicLogConfig } from './topic-config';

export interface MetadataPublisherHost {
  nodeId: number;
  /** Broker-wide defaults for topic configs, by Kafka topic config name. */
  topicDefaults: Record<string, string>;
  logs: LogManager;
  replicas: () => ReplicaManager;
  logger: Logger;
}

export class MetadataPublisher {
  /** Partitions whose replica here was reassigned away: dropped once the image shows it. */
  private readonly pendingRemovals = new Set<string>();

  constructor(private readonly host: MetadataPublisherHost) {}

  /** Opens (or creates) a partition's log for a committed record; false when it failed here. */
  private openLog(topic: string, partition: number, image: MetadataImage): boolean {
    return this.applyLocally('open log', topic, partition, () =>
      this.host.logs.getOrCreate(topic, partition, topicLogConfig(this.host.topicDefaults, image.topicConfigs(topic))),
    );
  }

  /**
   * Runs the local effect of a committed metadata record. An exception must not escape: it
   * would stop the node, and stop it again at every restart when the record is replayed. A
   * failure is logged, and a storage error (an errno from the file system: EIO, ENOSPC,
   * ENAMETOOLONG ...) takes that partition offline on this node (KAFKA_STORAGE_ERROR to
   * clients), as Kafka does with a failed log directory.
   */
  private applyLocally(what: string, topic: string, partition: number | null, effect: () => void): boolean {
    try {
      effect();
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException)?.code;
      const storage = typeof code === 'string' && /^E[A-Z]+$/.test(code);
      this.host.logger.error('metadata record not applied on this node', {
        what,
        topic,
        partition,
        code,
        storage,
        error: String(error),
      });
      if (storage && partition !== null) this.host.replicas().markOffline(topic, partition);
      return false;
    }
  }

  /** Partition logs follow committed metadata. */
  onRecord(record: MetadataRecord, image: MetadataImage): void {
    const { nodeId, logs, logger } = this.host;
    if (record.type === 'Partition') {
      const topic = image.topicsById.get(record.data.topicId);
      if (!topic || !record.data.replicas.includes(nodeId)) return;
      this.openLog(topic.name, record.data.partitionId, image);
    } else if (record.type === 'PartitionChange' && record.data.replicas !== null) {
      // A reassignment: a new replica here opens an empty log and starts following; a
      // replica moved away is dropped with its data once the change has completed.
      const topic = image.topicsById.get(record.data.topicId);
      if (!topic) return;
      if (record.data.replicas.includes(nodeId)) {
        if (
          !logs.get(topic.name, record.data.partitionId) &&
          this.openLog(topic.name, record.data.partitionId, image)
        ) {
          logger.info('replica added by reassignment', { topic: topic.name, partition: record.data.partitionId });
        }
      } else if (logs.get(topic.name, record.data.partitionId)) {
        this.pendingRemovals.add(`${topic.name}-${record.data.partitionId}`);
      }
    } else if (record.type === 'RemoveTopic') {
      const topic = image.topicsById.get(record.data.topicId);
      if (topic) {
        this.host.replicas().removeTopic(topic.name);
        if (this.applyLocally('delete topic', topic.name, null, () => logs.deleteTopic(topic.name))) {
          logger.info('topic deleted', { topic: topic.name, topicId: topic.topicId });
        }
      }
    } else if (record.type === 'Config' && record.data.resourceType === 2) {
      // Topic config changes reach the open logs (segment.bytes, flush.* ...).
      const overrides = { ...image.topicConfigs(record.data.resourceName) };
      if (record.data.value === null) delete overrides[record.data.name];
      else overrides[record.data.name] = record.data.value;
      for (const log of logs.all())
        if (log.topic === record.data.resourceName) log.config = topicLogConfig(this.host.topicDefaults, overrides);
    }
  }

  /** Replicas follow partition leadership and ISR changes once they are in the image. */
  onApplied(record: MetadataRecord, image: MetadataImage): void {
    if (record.type !== 'Partition' && record.type !== 'PartitionChange') return;
    const topic = image.topicsById.get(record.data.topicId);
    const partition = topic?.partitions.get(record.data.partitionId);
    if (!topic || !partition) return;
    const replicas = this.host.replicas();
    if (
      this.pendingRemovals.delete(`${topic.name}-${partition.partitionId}`) &&
      !partition.replicas.includes(this.host.nodeId)
    ) {
      replicas.onPartition(topic.name, partition);
      const { partitionId } = partition;
      if (
        this.applyLocally('remove replica', topic.name, partitionId, () =>
          this.host.logs.deletePartition(topic.name, partitionId),
        )
      ) {
        this.host.logger.info('replica removed by reassignment', { topic: topic.name, partition: partitionId });
      }
      return;
    }
    if (record.type === 'PartitionChange') {
      this.host.logger.info('partition changed', {
        topic: topic.name,
        partition: partition.partitionId,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: partition.partitionEpoch,
        isr: partition.isr,
      });
    }
    this.applyLocally('follow partition', topic.name, partition.partitionId, () =>
      replicas.onPartition(topic.name, partition),
    );
  }

  /**
   * The image was replaced by a snapshot (at startup, or sent by the leader to a node that
   * fell far behind): open the partitions this node replicates, and drop the logs of topics
   * the snapshot no longer has (deleted while this node was away).
   */
  onRestore(image: MetadataImage): void {
    const { nodeId, logs, logger } = this.host;
    const replicas = this.host.replicas();
    for (const topic of image.topicsByName.values()) {
      for (const p of topic.partitions.values()) {
        if (!p.replicas.includes(nodeId) || logs.get(topic.name, p.partitionId)) continue;
        this.openLog(topic.name, p.partitionId, image);
      }
    }
    for (const name of new Set(logs.all().map((log) => log.topic))) {
      if (image.topicsByName.has(name)) continue;
      replicas.removeTopic(name);
      if (this.applyLocally('delete topic', name, null, () => logs.deleteTopic(name))) {
        logger.info('topic deleted (absent from the metadata snapshot)', { topic: name });
      }
    }
    this.applyLocally('follow partitions', '*', null, () => replicas.syncAll(image));
  }
}
