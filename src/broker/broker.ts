// The broker's shared state for API handlers: identity (node and cluster ids, advertised
// address), the topic catalogue, the partition logs, producer id allocation, settings and
// the logger. Handlers reach everything through this object and nothing else.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../logger';
import { LogManager } from '../log/log-manager';
import { PartitionLog } from '../log/partition-log';
import { RequestMetrics } from './request-metrics';
import { ErrorCode } from '../../protocol/errors';
import { TopicInfo, TopicRegistry } from './topic-registry';
import { ProducerIdAllocator } from './producer-id-allocator';
import { topicLogConfig } from './topic-config';
import { needsRecovery, preRecoverActiveSegment, PreRecovery, RECOVERY_POOL_MIN_BYTES } from '../log/parallel-recovery';
import { WorkerPool } from '../pool/worker-pool';
import { GroupCoordinator, OFFSETS_TOPIC, offsetsPartitionFor } from '../group/coordinator';
import { OffsetsLog } from '../group/offset-store';

/** Size of the newest segment file in a partition directory (0 when none). */
function activeSegmentBytes(dir: string): number {
  try {
    const logs = fs.readdirSync(dir).filter((name) => /^\d{20}\.log$/.test(name)).sort();
    return logs.length === 0 ? 0 : fs.statSync(path.join(dir, logs[logs.length - 1])).size;
  } catch {
    return 0;
  }
}

export interface BrokerSettings {
  nodeId: number;
  host: string;
  port: number;
  dataDir: string;
  autoCreateTopicsEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  /** Broker-wide defaults for topic configs, by Kafka topic config name. */
  topicDefaults: Record<string, string>;
  messageMaxBytes: number;
  maxPartitionsPerRequest: number;
  fetchMaxBytes: number;
  /** Longest a Fetch may park waiting for data, whatever the client asks. */
  fetchMaxWaitMsCap: number;
  offsetsTopicPartitions: number;
  offsetsRetentionMs: number;
  offsetMetadataMaxBytes: number;
  group: { initialRebalanceDelayMs: number; minSessionTimeoutMs: number; maxSessionTimeoutMs: number; maxSize: number };
}

/** Kafka's meta.properties: identifies the cluster and node a data directory belongs to. */
function loadOrCreateClusterId(dataDir: string, nodeId: number): string {
  const file = path.join(dataDir, 'meta.properties');
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lines = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => line.includes('=') && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()]),
    );
    const storedNode = Number(lines['node.id']);
    if (lines['node.id'] !== undefined && storedNode !== nodeId) {
      throw new Error(`${file} belongs to node ${storedNode}, not node ${nodeId}`);
    }
    if (lines['cluster.id']) return lines['cluster.id'];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const clusterId = randomBytes(16).toString('base64url');
  fs.writeFileSync(file, `#Brook data directory\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`);
  return clusterId;
}

export class Broker {
  readonly topics: TopicRegistry;
  readonly producerIds: ProducerIdAllocator;
  readonly metrics = new RequestMetrics();
  readonly groups: GroupCoordinator;
  clusterId = '';
  /** Set while shutting down: parked fetches return at once. */
  shuttingDown = false;
  private readonly shutdownListeners = new Set<() => void>();

  constructor(
    readonly settings: BrokerSettings,
    readonly logs: LogManager,
    readonly logger: Logger,
    readonly clock: () => number = Date.now,
  ) {
    this.topics = new TopicRegistry(settings.dataDir);
    this.producerIds = new ProducerIdAllocator(settings.dataDir);
    const offsetsLog: OffsetsLog = {
      partitionFor: (groupId) => {
        const partition = offsetsPartitionFor(groupId, this.topics.get(OFFSETS_TOPIC)!.partitions);
        return this.logs.get(OFFSETS_TOPIC, partition)!;
      },
      all: () => this.logs.all().filter((log) => log.topic === OFFSETS_TOPIC).sort((a, b) => a.partition - b.partition),
    };
    this.groups = new GroupCoordinator(offsetsLog, logger.child({ component: 'groups' }), {
      limits: settings.group,
      offsetsRetentionMs: settings.offsetsRetentionMs,
      offsetMetadataMaxBytes: settings.offsetMetadataMaxBytes,
      clock,
    });
  }

  get nodeId(): number {
    return this.settings.nodeId;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.settings.dataDir, { recursive: true });
    this.clusterId = loadOrCreateClusterId(this.settings.dataDir, this.settings.nodeId);
    this.topics.load();
    this.producerIds.load();
    // Partition directories of topics the catalogue no longer has (a deletion cut short
    // by a crash) are removed before anything can read them.
    const orphans = new Set(this.logs.listOnDisk().filter(({ topic, partition }) => {
      const info = this.topics.get(topic);
      return !info || partition >= info.partitions;
    }).map(({ topic }) => topic));
    for (const topic of orphans) if (!this.topics.get(topic)) this.logs.deleteTopic(topic);
    // Large active segments left by an unclean shutdown are verified on the worker pool
    // (several ranges at once); the rest recover inline as each log opens.
    const recoveries = new Map<string, PreRecovery>();
    const large = this.topics.list().flatMap((topic) =>
      Array.from({ length: topic.partitions }, (_, partition) => ({ topic: topic.name, partition })),
    ).filter(({ topic, partition }) => {
      const dir = this.logs.partitionDir(topic, partition);
      return needsRecovery(dir) && activeSegmentBytes(dir) >= RECOVERY_POOL_MIN_BYTES;
    });
    if (large.length > 0) {
      const pool = new WorkerPool({ threads: 2 });
      try {
        for (const { topic, partition } of large) {
          const result = await preRecoverActiveSegment(this.logs.partitionDir(topic, partition), pool);
          recoveries.set(`${topic}-${partition}`, result);
          this.logger.info('verified active segment on the worker pool', { topic, partition, ...result });
        }
      } finally {
        await pool.close();
      }
    }
    for (const topic of this.topics.list()) {
      for (let partition = 0; partition < topic.partitions; partition++) {
        this.logs.getOrCreate(topic.name, partition, topicLogConfig(this.settings.topicDefaults, topic.configs), recoveries.get(`${topic.name}-${partition}`));
      }
    }
    // The internal offsets topic exists from the start, like Kafka's once a group appears.
    if (!this.topics.get(OFFSETS_TOPIC)) {
      await this.createTopic(OFFSETS_TOPIC, this.settings.offsetsTopicPartitions, 1, { 'cleanup.policy': 'compact', 'segment.bytes': '104857600' });
    }
    await this.groups.start();
  }

  /** Registers a callback for the start of shutdown; returns its unsubscribe function. */
  onShutdown(listener: () => void): () => void {
    this.shutdownListeners.add(listener);
    return () => this.shutdownListeners.delete(listener);
  }

  stop(): void {
    this.groups.stop();
  }

  /** Wakes every parked request so in-flight work can be answered before the sockets close. */
  beginShutdown(): void {
    this.shuttingDown = true;
    this.groups.releaseParked(ErrorCode.NOT_COORDINATOR);
    for (const listener of [...this.shutdownListeners]) listener();
    this.shutdownListeners.clear();
  }

  /** The partition's log if the topic and partition exist here. */
  partitionLog(topic: string, partition: number): PartitionLog | undefined {
    const info = this.topics.get(topic);
    if (!info || partition < 0 || partition >= info.partitions) return undefined;
    return this.logs.get(topic, partition);
  }

  async createTopic(name: string, partitions: number, replicationFactor: number, configs: Record<string, string>): Promise<TopicInfo> {
    const info = this.topics.create(name, partitions, replicationFactor, configs, this.clock());
    const logConfig = topicLogConfig(this.settings.topicDefaults, configs);
    for (let partition = 0; partition < partitions; partition++) {
      this.logs.getOrCreate(name, partition, logConfig);
    }
    this.logger.info('topic created', { topic: name, partitions, topicId: info.topicId });
    return info;
  }

  async addPartitions(name: string, total: number): Promise<void> {
    const info = this.topics.get(name);
    if (!info) return;
    const logConfig = topicLogConfig(this.settings.topicDefaults, info.configs);
    for (let partition = info.partitions; partition < total; partition++) {
      this.logs.getOrCreate(name, partition, logConfig);
    }
    this.topics.setPartitions(name, total);
    this.logger.info('partitions added', { topic: name, partitions: total });
  }

  async deleteTopic(name: string): Promise<TopicInfo | undefined> {
    const info = this.topics.remove(name);
    if (!info) return undefined;
    this.logs.deleteTopic(name);
    this.logger.info('topic deleted', { topic: name, topicId: info.topicId });
    return info;
  }

  /** Creates a topic on first use when auto.create.topics.enable says so. */
  async autoCreate(name: string): Promise<TopicInfo | undefined> {
    if (!this.settings.autoCreateTopicsEnable) return undefined;
    const existing = this.topics.get(name);
    if (existing) return existing;
    return this.createTopic(name, this.settings.numPartitions, this.settings.defaultReplicationFactor, {});
  }
}
