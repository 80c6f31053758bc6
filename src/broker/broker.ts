// The broker's shared state for API handlers: identity (node and cluster ids, advertised
// address), the topic catalogue (a view of the metadata image that the Raft quorum
// builds), the partition logs, producer id allocation, settings and the logger. Handlers
// reach everything through this object and nothing else. It wires the parts together and
// runs their start and stop in order; partition logs follow the metadata through the
// metadata publisher (metadata-publisher.ts).

import { FOLLOWER_THROTTLED_RATE, LEADER_THROTTLED_RATE } from '../replica/replication-throttle';
import { randomBytes, randomInt } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { Logger } from '../logger';
import { LogManager } from '../log/log-manager';
import { PartitionLog } from '../log/partition-log';
import { RequestMetrics } from './request-metrics';
import { ErrorCode } from '../../protocol/errors';
import { TopicInfo } from './topic-registry';
import { TopicView } from './topic-view';
import type { ControllerListenerTls } from '../controller/controller-listener-tls';
import { Authorizer, AuthorizerSettings } from '../security/acl';
import { MetadataQuorum } from '../controller/quorum';
import { Voter } from '../config/config';
import { ProducerIdAllocator } from './producer-id-allocator';
import { preRecoverActiveSegment, RECOVERY_POOL_MIN_BYTES } from '../log/parallel-recovery';
import { WorkerPool } from '../pool/worker-pool';
import { LazyWorkerPool } from './batch-conversion';
import { OFFSETS_TOPIC } from '../../protocol/topic-names';
import { GroupCoordinator, offsetsPartitionFor } from '../group/coordinator';
import { OffsetsLog } from '../group/offset-store';
import { BrokerLifecycle } from '../controller/broker-lifecycle';
import type { ScramSettings } from '../controller/scram-users';
import type { AclSettings } from '../controller/acls';
import type { ClientQuotaSettings } from '../controller/client-quotas';
import { FollowerAuth, ReplicaManager } from '../replica/replica-manager';
import { KafkaConnection } from '../net/kafka-connection';
import type { ClientSecurity } from '../security/client-config';
import { checkMetaProperties } from './meta-properties';
import { MetadataPublisher } from './metadata-publisher';
import { DynamicListenerTls } from '../security/dynamic-listener-tls';
import { BROKER_RESOURCE, dynamicBrokerConfigs, dynamicValue, effectiveTopicDefaults } from './broker-configs';
import { topicLogConfig } from './topic-config';
import type { CleanerSettings } from '../log/cleaner/log-cleaner';
import { FetchSessionCache } from './fetch-sessions';
import type { SecurityProtocol } from '../security/principal';
import { SECURITY_PROTOCOL_IDS } from '../security/listeners';
import { ClientQuotaManager, DEFAULT_QUOTA_SENSORS_MAX, QuotaManagerSettings } from './quota-manager';
import { DEFAULT_QUOTA_WINDOW } from '../security/quotas';
import type { QuotaWindow } from '../security/quotas';
import type { ConnectionQuotas } from '../security/connection-quotas';

/** offsets.commit.timeout.ms: how long an offset commit waits for the offsets partition's ISR. */
const OFFSETS_COMMIT_TIMEOUT_MS = 5000;

/** One listener of this node as it is advertised. */
export interface AdvertisedEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: SecurityProtocol;
}

export interface BrokerSettings {
  nodeId: number;
  /** The inter-broker listener's advertised address. */
  host: string;
  port: number;
  /** Every advertised listener (default: one PLAINTEXT listener named PLAINTEXT at host:port). */
  listeners?: AdvertisedEndpoint[];
  /** inter.broker.listener.name: the listener of other brokers this node connects to (default PLAINTEXT). */
  interBrokerListenerName?: string;
  dataDir: string;
  autoCreateTopicsEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  /** Broker-wide defaults for topic configs, by Kafka topic config name. */
  topicDefaults: Record<string, string>;
  messageMaxBytes: number;
  /**
   * Every key the config file and flags set (BrokerConfig.staticKeys), for DescribeConfigs
   * on the broker. May hold secrets: never logged.
   */
  staticConfig?: Record<string, string>;
  /** A produced compressed batch may decompress to at most this many bytes. */
  messageDecompressedMaxBytes: number;
  maxPartitionsPerRequest: number;
  /** brook.max.partitions and brook.max.broker.partitions (unbounded when absent). */
  maxPartitions?: number;
  maxBrokerPartitions?: number;
  /** The authorizer's settings (authorizer.class.name set), or null/absent: no authorizer, every request allowed. */
  authorizer?: AuthorizerSettings | null;
  /** SCRAM users: brook.max.scram.users, brook.max.scram.credentials.per.request, bootstrap users (defaults when absent). */
  scram?: Partial<ScramSettings>;
  /** ACLs: brook.max.acls, brook.max.acls.per.request (defaults when absent). */
  acls?: Partial<AclSettings>;
  /** Client quotas: brook.max.client.quota.entities, brook.max.client.quota.entries.per.request (defaults when absent). */
  clientQuotas?: Partial<ClientQuotaSettings>;
  /** brook.auto.create.topics.per.second (unbounded when absent). */
  autoCreateTopicsPerSecond?: number;
  /** max.request.partition.size.limit: most partitions in one DescribeTopicPartitions answer (default 2000). */
  maxRequestPartitionSizeLimit?: number;
  fetchMaxBytes: number;
  /** Longest a Fetch may park waiting for data, whatever the client asks. */
  fetchMaxWaitMsCap: number;
  offsetsTopicPartitions: number;
  /** offsets.topic.replication.factor (capped at the brokers up when the topic is made). */
  offsetsTopicReplicationFactor?: number;
  /** offsets.topic.segment.bytes: segment.bytes of the offsets topic when made (default 100 MiB). */
  offsetsTopicSegmentBytes?: number;
  offsetsRetentionMs: number;
  offsetMetadataMaxBytes: number;
  group: {
    initialRebalanceDelayMs: number;
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    maxSize: number;
    groupMetadataBytesMax?: number;
  };
  /** brook.group.coordinator.max.groups, brook.group.max.committed.offsets (defaults when absent). */
  groupsMax?: number;
  committedOffsetsPerGroupMax?: number;
  offsetsRetentionCheckIntervalMs?: number;
  /** brook.max.groups.per.request: groups or coordinator keys in one request. */
  maxGroupsPerRequest?: number;
  clusterId: string;
  voters: Voter[];
  controllerListen: { host: string; port: number };
  /** brook.controller.cluster.secret: authenticates the controller port (null: sole voter only). */
  controllerClusterSecret?: Buffer | null;
  /** The controller listener's TLS when it is SSL or SASL_SSL: membership by certificate (quorum.ts). */
  controllerTls?: ControllerListenerTls | null;
  /**
   * TLS and SASL of this broker's connections to other brokers (follower fetches, forwarded
   * admin requests): the inter-broker listener's, from interBrokerClientSecurity. PLAINTEXT when absent.
   */
  interBrokerSecurity?: ClientSecurity;
  /** TLS of connections to other nodes' controller ports, from controllerClientSecurity. */
  controllerSecurity?: ClientSecurity;
  /**
   * The metadata quorum's storage failed and it stopped (fail-stop). By default the error is
   * rethrown outside any handler, so the server's process guards log it and exit non-zero.
   */
  onFatal?: (error: Error) => void;
  /** Raft tick and election timeout in ticks. */
  raftTickMs: number;
  raftElectionTimeoutTicks: number;
  brokerSessionTimeoutMs: number;
  /** brook.broker.disconnect.grace.ms (1000 when absent; 0 or less: off). */
  brokerDisconnectGraceMs?: number;
  /** auto.leader.rebalance.enable and its check interval / threshold (controller side). */
  leaderRebalance?: { enabled: boolean; intervalMs: number; imbalancePercentage: number };
  rack: string | null;
  /** Applied metadata entries between snapshots. */
  metadataSnapshotIntervalEntries?: number;
  /** brook.metadata.max.entry.bytes and brook.raft.max.append.bytes (defaults 1 MiB, 4 MiB). */
  metadataMaxEntryBytes?: number;
  raftMaxAppendBytes?: number;
  /** Follower fetching and ISR upkeep (replica.* settings). */
  replica?: {
    lagTimeMaxMs: number;
    fetchWaitMaxMs: number;
    fetchMaxBytes: number;
    followerAuth?: FollowerAuth;
    /** replication.quota.window.num and .size.seconds (Kafka's 11 of 1 s when absent). */
    quotaWindow?: QuotaWindow;
  };
  /** Client quotas: quota.window.num, quota.window.size.seconds, brook.quota.max.sensors (defaults when absent). */
  quotas?: QuotaManagerSettings;
  /** Incremental fetch sessions: max.incremental.fetch.session.cache.slots, brook.fetch.session.partitions.max, brook.fetch.session.eviction.ms. */
  fetchSessions?: {
    maxSlots: number;
    maxPartitionsPerSession: number;
    evictionMs?: number;
    maxPartitionsTotal?: number;
  };
}

export class Broker {
  readonly topics: TopicView;
  readonly producerIds: ProducerIdAllocator;
  readonly metrics = new RequestMetrics();
  readonly groups: GroupCoordinator;
  readonly quorum: MetadataQuorum;
  readonly replicas: ReplicaManager;
  /** Kafka's StandardAuthorizer over the metadata image's ACLs; null without an authorizer. */
  readonly authorizer: Authorizer | null;
  /** Incremental fetch sessions (KIP-227) of this broker's Fetch handler. */
  readonly fetchSessions: FetchSessionCache;
  /** Client quotas (KIP-13, KIP-55, KIP-124, KIP-599) over the metadata image's ClientQuota values. */
  readonly quotas: ClientQuotaManager;
  /** Threads for recompressing large produced batches to a topic's compression.type. */
  readonly conversionPool = new LazyWorkerPool();
  /** The Kafka listeners' connection creation rates (KIP-612), once the listeners exist. */
  connectionQuotas: ConnectionQuotas | null = null;
  /** The TLS listeners' dynamic key and trust stores (null: set by the server, none in tests). */
  listenerTls: DynamicListenerTls | null = null;
  clusterId = '';
  /** Set while shutting down: parked fetches return at once. */
  shuttingDown = false;
  private readonly shutdownListeners = new Set<() => void>();
  private readonly publisher: MetadataPublisher;
  lifecycle: BrokerLifecycle | null = null;
  /** Topic creations in flight, so concurrent auto-creations propose once. */
  private readonly creating = new Map<string, Promise<TopicInfo>>();
  /** Auto-creations this node is forwarding to the controller, by topic name. */
  private readonly forwardingCreations = new Map<string, Promise<void>>();
  /** Topics whose creation this node forwarded and the controller accepted: name -> until (ms). */
  private readonly forwardedCreations = new Map<string, number>();

  constructor(
    readonly settings: BrokerSettings,
    readonly logs: LogManager,
    readonly logger: Logger,
    readonly clock: () => number = Date.now,
  ) {
    this.clusterId = settings.clusterId;
    this.fetchSessions = new FetchSessionCache({
      maxSlots: settings.fetchSessions?.maxSlots ?? 1000,
      maxPartitionsPerSession: settings.fetchSessions?.maxPartitionsPerSession ?? settings.maxPartitionsPerRequest,
      evictionMs: settings.fetchSessions?.evictionMs,
      maxPartitionsTotal: settings.fetchSessions?.maxPartitionsTotal,
      // Session ids are unguessable: one is all it takes to read (or close) a session.
      randomId: () => randomInt(1, 0x7fffffff),
    });
    this.publisher = new MetadataPublisher({
      nodeId: settings.nodeId,
      topicDefaults: settings.topicDefaults,
      logs,
      replicas: () => this.replicas,
      logger,
    });
    this.quorum = new MetadataQuorum({
      nodeId: settings.nodeId,
      clusterId: settings.clusterId,
      voters: settings.voters,
      controllerListen: settings.controllerListen,
      dataDir: settings.dataDir,
      fs: logs.fs,
      tickMs: settings.raftTickMs,
      electionTimeoutTicks: settings.raftElectionTimeoutTicks,
      controller: {
        brokerSessionTimeoutMs: settings.brokerSessionTimeoutMs,
        brokerDisconnectGraceMs: settings.brokerDisconnectGraceMs ?? 1000,
        defaultPartitions: settings.numPartitions,
        defaultReplicationFactor: settings.defaultReplicationFactor,
        leaderRebalance: settings.leaderRebalance,
        maxPartitions: settings.maxPartitions,
        maxBrokerPartitions: settings.maxBrokerPartitions,
        scram: settings.scram,
        acls: settings.acls,
        clientQuotas: settings.clientQuotas,
      },
      snapshotEveryEntries: settings.metadataSnapshotIntervalEntries ?? 5000,
      metadataMaxEntryBytes: settings.metadataMaxEntryBytes,
      raftMaxAppendBytes: settings.raftMaxAppendBytes,
      clusterSecret: settings.controllerClusterSecret ?? null,
      controllerTls: settings.controllerTls ?? null,
      controllerSecurity: settings.controllerSecurity,
      onFatal:
        settings.onFatal ??
        ((error) =>
          setImmediate(() => {
            throw error;
          })),
      logger: logger.child({ component: 'quorum' }),
      onRecord: (record, image) => this.publisher.onRecord(record, image),
      onApplied: (record, image) => {
        if (record.type === 'Config' && record.data.resourceType === BROKER_RESOURCE) this.applyDynamicConfigs();
        this.publisher.onApplied(record, image);
      },
      onRestore: (image) => {
        this.applyDynamicConfigs();
        this.publisher.onRestore(image);
      },
    });
    this.replicas = new ReplicaManager(
      {
        nodeId: settings.nodeId,
        lagTimeMaxMs: settings.replica?.lagTimeMaxMs ?? 30_000,
        fetchWaitMaxMs: settings.replica?.fetchWaitMaxMs ?? 500,
        fetchMaxBytes: settings.replica?.fetchMaxBytes ?? 1024 * 1024,
        clientSecurity: settings.interBrokerSecurity,
        followerAuth: settings.replica?.followerAuth,
        quotaWindow: settings.replica?.quotaWindow,
      },
      {
        image: () => this.quorum.image,
        logs: this.logs,
        endpointOf: (id) => this.endpointOf(id),
        alterIsr: (request) =>
          this.lifecycle
            ? this.lifecycle.alterPartitionIsr(request)
            : Promise.resolve({ errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED }),
        clusterId: settings.clusterId,
        authorizer: () => this.authorizer,
        onLeadershipChange: (replica, leading) => {
          if (replica.topic !== OFFSETS_TOPIC) return;
          const partitionOf = (groupId: string) =>
            offsetsPartitionFor(groupId, this.topics.get(OFFSETS_TOPIC)?.partitions ?? 1);
          void this.groups
            .onOffsetsLeadership(replica.partition, leading, partitionOf, leading ? replica.log : undefined)
            .catch((error) =>
              this.logger.warn('offsets partition load failed', { partition: replica.partition, error: String(error) }),
            );
        },
      },
      logger.child({ component: 'replicas' }),
    );
    this.topics = new TopicView(() => this.quorum.image);
    this.authorizer = settings.authorizer ? new Authorizer(this.quorum.image, settings.authorizer) : null;
    this.quotas = new ClientQuotaManager(
      () => this.quorum.image,
      settings.quotas ?? { window: DEFAULT_QUOTA_WINDOW, sensorsMax: DEFAULT_QUOTA_SENSORS_MAX },
      clock,
    );
    this.producerIds = new ProducerIdAllocator(() => {
      if (!this.lifecycle)
        return Promise.resolve({ errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, firstProducerId: -1, count: 0 });
      return this.lifecycle.allocateProducerIds();
    });
    // The coordinator of a group is the leader of its offsets partition: a follower's copy
    // is never written by the coordinator, only by replication.
    const offsetsReplica = (groupId: string) => {
      const topic = this.topics.get(OFFSETS_TOPIC);
      if (!topic) return undefined;
      const replica = this.replicas.get(OFFSETS_TOPIC, offsetsPartitionFor(groupId, topic.partitions));
      return replica?.leading ? replica : undefined;
    };
    const offsetsLog: OffsetsLog = {
      partitionFor: (groupId) => offsetsReplica(groupId)?.log,
      all: () =>
        this.replicas
          .all()
          .filter((r) => r.topic === OFFSETS_TOPIC && r.leading !== null)
          .map((r) => r.log)
          .sort((a, b) => a.partition - b.partition),
      leaderEpochFor: (groupId) => offsetsReplica(groupId)?.leaderEpoch ?? 0,
      appended: (groupId) => {
        const replica = offsetsReplica(groupId);
        if (replica) this.replicas.afterLeaderAppend(replica);
      },
    };
    this.groups = new GroupCoordinator(offsetsLog, logger.child({ component: 'groups' }), {
      limits: settings.group,
      offsetsRetentionMs: settings.offsetsRetentionMs,
      offsetsRetentionCheckIntervalMs: settings.offsetsRetentionCheckIntervalMs,
      offsetMetadataMaxBytes: settings.offsetMetadataMaxBytes,
      groupsMax: settings.groupsMax,
      committedOffsetsPerGroupMax: settings.committedOffsetsPerGroupMax,
      clock,
    });
  }

  /** The replication throttles (KIP-73) of this broker. */
  get replicationQuotas() {
    return this.replicas.replicationQuotas;
  }

  get nodeId(): number {
    return this.settings.nodeId;
  }

  async start(): Promise<void> {
    this.logs.fs.mkdirp(this.settings.dataDir);
    checkMetaProperties(this.logs.fs, this.settings.dataDir, this.settings.nodeId, this.settings.clusterId);
    // Large active segments left by an unclean shutdown are verified on the worker pool
    // (several ranges at once) before the metadata replay opens the logs; the rest
    // recover inline as each log opens.
    const large = this.logs.uncleanPartitions(RECOVERY_POOL_MIN_BYTES);
    if (large.length > 0) {
      const pool = new WorkerPool({ threads: 2 });
      try {
        for (const { topic, partition, dir } of large) {
          const result = await preRecoverActiveSegment(dir, pool, RECOVERY_POOL_MIN_BYTES, this.logs.fs);
          this.logs.notePreRecovered(topic, partition, result);
          this.logger.info('verified active segment on the worker pool', { topic, partition, ...result });
        }
      } finally {
        await pool.close();
      }
    }
    await this.quorum.start();
    // A voter replays its log and follows the elected leader before registering; an
    // observer hears from the leader only once it has registered, so it registers first.
    const voter = this.quorum.isVoter;
    if (voter && !(await this.quorum.caughtUp(30_000)))
      throw new Error(
        'the metadata quorum did not elect a leader and replay the metadata log within 30 s (are the other voters up?)',
      );
    this.lifecycle = new BrokerLifecycle(
      this.quorum,
      {
        brokerId: this.nodeId,
        clusterId: this.clusterId,
        incarnationId: randomBytes(16).toString('base64url'),
        host: this.settings.host,
        port: this.settings.port,
        listeners: this.advertisedListeners().map((l) => ({
          name: l.name,
          host: l.host,
          port: l.port,
          securityProtocol: SECURITY_PROTOCOL_IDS[l.securityProtocol],
        })),
        rack: this.settings.rack,
        controllerHost: this.quorum.controllerEndpoint.host,
        controllerPort: this.quorum.controllerEndpoint.port,
        heartbeatIntervalMs: Math.min(1000, Math.floor(this.settings.brokerSessionTimeoutMs / 4)),
      },
      this.logger.child({ component: 'lifecycle' }),
    );
    await this.lifecycle.start(30_000);
    if (!voter && !(await this.quorum.caughtUp(30_000)))
      throw new Error('this observer did not catch up on the metadata log within 30 s (are the voters up?)');
    // Partition directories the metadata does not know are set aside as strays.
    const known = (topic: string, partition: number) => partition < (this.topics.get(topic)?.partitions ?? 0);
    for (const stray of this.logs.setAsideStrays(known))
      this.logger.warn('partition directory unknown to the metadata set aside', stray);
    // A single node makes the internal offsets topic at once; in a cluster it is made at the
    // first FindCoordinator, as in Kafka, when the brokers have registered, so that it gets
    // its replicas.
    if (
      !this.topics.get(OFFSETS_TOPIC) &&
      this.quorum.isLeader &&
      this.quorum.voters().length === 1 &&
      this.quorum.image.unfencedBrokers().length <= 1
    ) {
      await this.ensureOffsetsTopic();
    }
    this.replicas.start();
    await this.groups.start();
  }

  /**
   * Why __consumer_offsets cannot be created now, or null: as in Kafka, it is created with
   * offsets.topic.replication.factor replicas only once that many brokers are registered
   * and unfenced, never with fewer (FindCoordinator answers COORDINATOR_NOT_AVAILABLE until then).
   */
  offsetsTopicShortfall(): string | null {
    const live = this.quorum.image.unfencedBrokers().length;
    const replicationFactor = this.settings.offsetsTopicReplicationFactor ?? 1;
    if (live >= replicationFactor) return null;
    return `the offsets topic needs ${replicationFactor} brokers (offsets.topic.replication.factor); ${live} registered`;
  }

  private offsetsTopicWaitLoggedMs = 0;

  /**
   * Creates __consumer_offsets if it does not exist yet, with offsets.topic.replication.factor
   * replicas once that many brokers are up (see offsetsTopicShortfall), through the active
   * controller.
   */
  async ensureOffsetsTopic(): Promise<void> {
    if (this.topics.get(OFFSETS_TOPIC) || this.offsetsTopicPending) return;
    this.offsetsTopicPending = true;
    try {
      const shortfall = this.offsetsTopicShortfall();
      if (shortfall) {
        const now = Date.now();
        if (now - this.offsetsTopicWaitLoggedMs >= 10_000) {
          this.offsetsTopicWaitLoggedMs = now;
          this.logger.warn('offsets topic not created yet', { reason: shortfall });
        }
        return;
      }
      const replicationFactor = this.settings.offsetsTopicReplicationFactor ?? 1;
      // Kafka's offsets topic configs: compacted, the producer's compression kept,
      // offsets.topic.segment.bytes segments.
      const configs = {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': String(this.settings.offsetsTopicSegmentBytes ?? 104857600),
      };
      if (this.quorum.isLeader) {
        await this.createTopic(OFFSETS_TOPIC, this.settings.offsetsTopicPartitions, replicationFactor, configs).catch(
          (error) => this.logger.warn('offsets topic not created', { error: String(error) }),
        );
      } else {
        await this.forwardToController(ApiKey.CreateTopics, 4, {
          topics: [
            {
              name: OFFSETS_TOPIC,
              numPartitions: this.settings.offsetsTopicPartitions,
              replicationFactor,
              assignments: [],
              configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
            },
          ],
          timeoutMs: 30_000,
          validateOnly: false,
        });
      }
    } finally {
      this.offsetsTopicPending = false;
    }
  }

  private offsetsTopicPending = false;

  /** The broker keys for topic defaults and message.max.bytes as the static config gave them. */
  private staticTopicDefaults: Record<string, string> | null = null;
  private staticMessageMaxBytes = 0;
  private staticCleanerSettings: CleanerSettings | null = null;
  private listenerTlsRefreshPending = false;
  private logConfigRefreshPending = false;

  /**
   * Applies the dynamic broker configs of the metadata image (Config records of resource
   * type 4: this broker's own over the cluster default over the static config): the broker
   * keys that set topic defaults reach every open log of a topic without its own override,
   * message.max.bytes the produce path, log.cleaner.* the cleaner's next pass.
   */
  applyDynamicConfigs(): void {
    if (!this.staticTopicDefaults) {
      this.staticTopicDefaults = { ...this.settings.topicDefaults };
      this.staticMessageMaxBytes = this.settings.messageMaxBytes;
    }
    const dynamic = dynamicBrokerConfigs(this.quorum.image, this.settings.nodeId);
    const defaults = effectiveTopicDefaults(this.staticTopicDefaults, dynamic);
    // Replaced in place: the metadata publisher and the handlers hold this object.
    const target = this.settings.topicDefaults;
    const changed = JSON.stringify(target) !== JSON.stringify(defaults);
    for (const key of Object.keys(target)) delete target[key];
    Object.assign(target, defaults);
    const maxBytes = dynamicValue(dynamic, 'message.max.bytes');
    this.settings.messageMaxBytes = maxBytes !== undefined ? Number(maxBytes) : this.staticMessageMaxBytes;
    // The open logs are brought in line once per batch of records (a replay at start may
    // hold many), and only when the defaults changed (not for another broker's own keys).
    if (changed && !this.logConfigRefreshPending) {
      this.logConfigRefreshPending = true;
      queueMicrotask(() => {
        this.logConfigRefreshPending = false;
        for (const log of this.logs.all())
          log.config = topicLogConfig(this.settings.topicDefaults, this.quorum.image.topicConfigs(log.topic));
      });
    }
    // The replication throttles (KIP-73), applied to the next fetch either way.
    const now = Date.now();
    this.replicas.replicationQuotas.leader.setRate(dynamicValue(dynamic, LEADER_THROTTLED_RATE), now);
    this.replicas.replicationQuotas.follower.setRate(dynamicValue(dynamic, FOLLOWER_THROTTLED_RATE), now);
    const cleaner = this.logs.cleaner;
    if (cleaner) {
      this.staticCleanerSettings ??= { ...cleaner.settings };
      const base = this.staticCleanerSettings;
      const pick = (key: string, fallback: number) => {
        const value = dynamicValue(dynamic, key);
        return value !== undefined && Number.isFinite(Number(value)) ? Number(value) : fallback;
      };
      cleaner.settings.threads = pick('log.cleaner.threads', base.threads);
      cleaner.settings.dedupeBufferBytes = pick('log.cleaner.dedupe.buffer.size', base.dedupeBufferBytes);
      cleaner.settings.loadFactor = pick('log.cleaner.io.buffer.load.factor', base.loadFactor);
      cleaner.settings.ioBytesPerSecondMax = pick('log.cleaner.io.max.bytes.per.second', base.ioBytesPerSecondMax);
      cleaner.setBackoffMs(pick('log.cleaner.backoff.ms', base.backoffMs));
    }
    // Once per batch of records: one change of several keys (a key and its certificate chain)
    // is several records, and the listener must not take the material halfway through.
    if (this.listenerTls && !this.listenerTlsRefreshPending) {
      this.listenerTlsRefreshPending = true;
      queueMicrotask(() => {
        this.listenerTlsRefreshPending = false;
        this.listenerTls?.apply(dynamicBrokerConfigs(this.quorum.image, this.settings.nodeId).perBroker);
      });
    }
  }

  /** Registers a callback for the start of shutdown; returns its unsubscribe function. */
  onShutdown(listener: () => void): () => void {
    this.shutdownListeners.add(listener);
    return () => this.shutdownListeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.fetchSessions.clear();
    this.replicas.stop();
    this.groups.stop();
    this.lifecycle?.stop();
    await this.quorum.stop();
    await this.conversionPool.close();
  }

  /**
   * Before a clean stop in a cluster: the controller moves this broker's partition
   * leaderships to other ISR members and drops it from the ISRs (controlled shutdown), and
   * this node waits until it has applied that, so that producers meet NOT_LEADER_OR_FOLLOWER
   * (retriable: they refresh metadata and go to the new leader) rather than a vanished
   * leader. A single node, or one whose controller cannot be reached, skips it.
   */
  async controlledShutdown(timeoutMs: number): Promise<void> {
    const others = this.quorum.image.unfencedBrokers().filter((b) => b.brokerId !== this.nodeId);
    if (!this.lifecycle || others.length === 0) return;
    const started = Date.now();
    const leading = () => this.replicas.all().filter((r) => r.leading !== null).length;
    const before = leading();
    const done = await this.lifecycle.controlledShutdown(timeoutMs);
    // The controller answers after commit; this node applies the changes right after.
    while (done && leading() > 0 && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 20));
    this.logger.info(
      done
        ? 'controlled shutdown: leaderships moved'
        : 'controlled shutdown: controller not reachable, stopping anyway',
      { ledBefore: before, ledNow: leading(), ms: Date.now() - started },
    );
  }

  /**
   * An offset commit is answered once the offsets partition's ISR holds it (as Kafka's
   * coordinator writes with acks=all, within offsets.commit.timeout.ms, 5 s): a commit that
   * was acknowledged survives the loss of the coordinator. NOT_COORDINATOR when the
   * partition moved meanwhile, REQUEST_TIMED_OUT when the ISR did not catch up in time.
   */
  async awaitOffsetsCommitted(groupId: string, endOffset: number): Promise<number> {
    const topic = this.topics.get(OFFSETS_TOPIC);
    if (!topic || endOffset < 0) return ErrorCode.NONE;
    const replica = this.replicas.get(OFFSETS_TOPIC, offsetsPartitionFor(groupId, topic.partitions));
    if (!replica) return ErrorCode.NOT_COORDINATOR;
    const code = await this.replicas.awaitCommit(replica, endOffset, OFFSETS_COMMIT_TIMEOUT_MS);
    if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return ErrorCode.NOT_COORDINATOR;
    return code;
  }

  /** Wakes every parked request so in-flight work can be answered before the sockets close. */
  beginShutdown(): void {
    this.shuttingDown = true;
    this.groups.releaseParked(ErrorCode.NOT_COORDINATOR);
    for (const listener of [...this.shutdownListeners]) listener();
    this.shutdownListeners.clear();
  }

  /**
   * Where a partition lives: 'unknown' (no such topic or partition), 'elsewhere' (it exists
   * but this broker holds no replica: NOT_LEADER_OR_FOLLOWER), or the local log.
   */
  /** The partition's log when this broker leads it; else whether it exists elsewhere. */
  locate(topic: string, partition: number): PartitionLog | 'unknown' | 'elsewhere' {
    const info = this.topics.get(topic);
    if (!info || partition < 0 || partition >= info.partitions) return 'unknown';
    const located = this.replicas.leaderReplica(topic, partition);
    return 'replica' in located ? located.replica.log : 'elsewhere';
  }

  /** The partition's log if the topic and partition exist here. */
  partitionLog(topic: string, partition: number): PartitionLog | undefined {
    const info = this.topics.get(topic);
    if (!info || partition < 0 || partition >= info.partitions) return undefined;
    return this.logs.get(topic, partition);
  }

  /** inter.broker.listener.name: the listener this node connects to on other brokers. */
  get interBrokerListenerName(): string {
    return this.settings.interBrokerListenerName ?? 'PLAINTEXT';
  }

  /** This node's advertised listeners. */
  advertisedListeners(): AdvertisedEndpoint[] {
    return (
      this.settings.listeners ?? [
        {
          name: this.interBrokerListenerName,
          host: this.settings.host,
          port: this.settings.port,
          securityProtocol: 'PLAINTEXT',
        },
      ]
    );
  }

  /**
   * A broker's endpoint on listener `listenerName` (by default the inter-broker listener,
   * which replication and forwarding use): this node's own advertised one, another's from
   * its registration in the metadata image; undefined when it has no listener by that name.
   */
  endpointOf(
    brokerId: number,
    listenerName = this.interBrokerListenerName,
  ): { host: string; port: number } | undefined {
    const endpoint =
      brokerId === this.nodeId
        ? this.advertisedListeners().find((l) => l.name === listenerName)
        : this.quorum.image.brokers.get(brokerId)?.endPoints.find((e) => e.name === listenerName);
    return endpoint ? { host: endpoint.host, port: endpoint.port } : undefined;
  }

  /**
   * Sends an admin request on to the active controller's broker and returns its answer
   * (CreateTopics, DeleteTopics, CreatePartitions on a node that is not the controller).
   * `clientId`, the requesting client's, goes with it, so that the controller charges that
   * client's quotas (controller_mutation_rate), as Kafka's forwarding envelope carries the
   * client's request header; without one the request goes as this node's own.
   */
  async forwardToController<K extends ApiKey>(
    apiKey: K,
    version: number,
    request: RequestInput<K>,
    clientId?: string | null,
  ): Promise<Response<K> | null> {
    const endpoint = this.endpointOf(this.quorum.leaderId);
    if (!endpoint || this.quorum.leaderId === this.nodeId) return null;
    const connection = new KafkaConnection({
      host: endpoint.host,
      port: endpoint.port,
      clientId: clientId ?? `forward-${this.nodeId}`,
      requestTimeoutMs: 30_000,
      connectTimeoutMs: 5000,
      security: this.settings.interBrokerSecurity,
    });
    try {
      await connection.connect();
      return await connection.request(apiKey, version, request);
    } catch {
      return null;
    } finally {
      connection.close();
    }
  }

  private async forwardAutoCreate(name: string): Promise<void> {
    const answer = (await this.forwardToController(19, 4, {
      topics: [
        {
          name,
          numPartitions: this.settings.numPartitions,
          replicationFactor: this.settings.defaultReplicationFactor,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    })) as { topics?: { errorCode: number; errorMessage: string | null }[] } | null;
    const result = answer?.topics?.[0];
    if (result && (result.errorCode === ErrorCode.NONE || result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS))
      this.noteForwardedCreation(name);
    else
      this.logger.warn('auto-creation not accepted by the controller', {
        topic: name,
        errorCode: result?.errorCode ?? null,
        error: result?.errorMessage ?? null,
      });
  }

  /** Creates a topic through the quorum; resolves once committed and its logs are open. */
  async createTopic(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
    assignments?: number[][],
  ): Promise<TopicInfo> {
    const [result] = await this.quorum.createTopics(
      [{ name, partitions, replicationFactor, configs, assignments }],
      false,
    );
    if (result.errorCode !== ErrorCode.NONE)
      throw new TopicCreationError(result.errorCode, result.errorMessage ?? `topic ${name} not created`);
    this.logger.info('topic created', { topic: name, partitions, topicId: result.topicId });
    return this.topics.get(name)!;
  }

  async addPartitions(name: string, total: number): Promise<number> {
    const result = await this.quorum.createPartitions(name, total);
    if (result.errorCode === ErrorCode.NONE) this.logger.info('partitions added', { topic: name, partitions: total });
    return result.errorCode;
  }

  async deleteTopic(name: string): Promise<number> {
    const [result] = await this.quorum.deleteTopics([name]);
    return result.errorCode;
  }

  /**
   * Remembers that the controller accepted (or already had) topic `name` through this
   * node, so that Metadata answers LEADER_NOT_AVAILABLE until this node applies it.
   */
  noteForwardedCreation(name: string): void {
    const now = Date.now();
    for (const [known, until] of this.forwardedCreations)
      if (until <= now || this.topics.get(known)) this.forwardedCreations.delete(known);
    this.forwardedCreations.set(name, now + FORWARDED_CREATION_MEMORY_MS);
  }

  /**
   * A topic this node does not have yet but knows is on its way: being created here, its
   * creation forwarded by this node and accepted by the controller, or in a metadata entry
   * this node holds but has not applied. Kafka answers such a topic LEADER_NOT_AVAILABLE,
   * which clients retry, not UNKNOWN_TOPIC_OR_PARTITION.
   */
  topicPending(name: string): boolean {
    if (this.topics.get(name)) return false;
    const until = this.forwardedCreations.get(name);
    if (until !== undefined && until > Date.now()) return true;
    return this.creating.has(name) || this.forwardingCreations.has(name) || this.quorum.hasUnappliedTopic(name);
  }

  /** Resolves true once this node has applied every topic in `names`, false at the deadline. */
  async awaitTopicsApplied(names: string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (names.some((name) => !this.topics.get(name))) {
      if (Date.now() >= deadline || this.shuttingDown) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  /** Auto-creations left in the bucket (brook.auto.create.topics.per.second), and when counted. */
  private autoCreateTokens = Number.NaN;
  private autoCreateCountedMs = 0;
  private autoCreateWarnedMs = 0;

  /** Takes one auto-creation from the bucket; false (and a rate-limited warning) when empty. */
  private autoCreateAllowed(name: string): boolean {
    const rate = this.settings.autoCreateTopicsPerSecond;
    if (rate === undefined) return true;
    const now = Date.now();
    if (Number.isNaN(this.autoCreateTokens)) this.autoCreateTokens = rate;
    else
      this.autoCreateTokens = Math.min(rate, this.autoCreateTokens + ((now - this.autoCreateCountedMs) * rate) / 1000);
    this.autoCreateCountedMs = now;
    if (this.autoCreateTokens >= 1) {
      this.autoCreateTokens -= 1;
      return true;
    }
    if (now - this.autoCreateWarnedMs >= 10_000) {
      this.autoCreateWarnedMs = now;
      this.logger.warn('topic auto-creation over its rate; the topic is answered as unknown', {
        topic: name,
        perSecond: rate,
      });
    }
    return false;
  }

  /**
   * Creates a topic on first use when auto.create.topics.enable says so. The active
   * controller creates it in place; any other node forwards a CreateTopics to the
   * controller, as Kafka's brokers do, and returns undefined until it has applied the topic
   * (Metadata then answers LEADER_NOT_AVAILABLE through topicPending).
   */
  async autoCreate(name: string): Promise<TopicInfo | undefined> {
    if (!this.settings.autoCreateTopicsEnable) return undefined;
    const existing = this.topics.get(name);
    if (existing) return existing;
    if (!this.quorum.isLeader) {
      if (this.topicPending(name)) return undefined;
      let forwarding = this.forwardingCreations.get(name);
      if (!forwarding && !this.autoCreateAllowed(name)) return undefined;
      if (!forwarding) {
        forwarding = this.forwardAutoCreate(name).finally(() => this.forwardingCreations.delete(name));
        this.forwardingCreations.set(name, forwarding);
      }
      await forwarding;
      return this.topics.get(name);
    }
    let creating = this.creating.get(name);
    if (!creating && !this.autoCreateAllowed(name)) return undefined;
    if (!creating) {
      creating = this.createTopic(
        name,
        this.settings.numPartitions,
        this.settings.defaultReplicationFactor,
        {},
      ).finally(() => this.creating.delete(name));
      this.creating.set(name, creating);
    }
    try {
      return await creating;
    } catch (error) {
      if (error instanceof TopicCreationError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)
        return this.topics.get(name);
      return undefined;
    }
  }
}

/** How long a forwarded creation counts as pending when this node never applies it. */
const FORWARDED_CREATION_MEMORY_MS = 30_000;

export class TopicCreationError extends Error {
  override name = 'TopicCreationError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}
