// Every broker limit and tunable in one place: its Kafka config key (or a brook.* key
// where Kafka has none), its default, and the BrokerConfig field it fills. Units are in
// the names. Crossing a limit gives the client a Kafka error code or a closed connection
// with one log line, never a crash.

export interface SettingDef {
  key: string;
  field: string;
  kind: 'int' | 'bool' | 'string';
  defaultValue: number | boolean | string;
  min?: number;
  max?: number;
  about: string;
}

export const SETTINGS: SettingDef[] = [
  { key: 'socket.request.max.bytes', field: 'socketRequestMaxBytes', kind: 'int', defaultValue: 104857600, min: 1024, about: 'largest request frame accepted; larger closes the connection' },
  { key: 'brook.max.inflight.requests.per.connection', field: 'maxInflightRequestsPerConnection', kind: 'int', defaultValue: 100, min: 1, about: 'requests read ahead on one connection before reading pauses' },
  { key: 'max.connections', field: 'maxConnections', kind: 'int', defaultValue: 1000, min: 1, about: 'client connections accepted at once' },
  { key: 'max.connections.per.ip', field: 'maxConnectionsPerIp', kind: 'int', defaultValue: 500, min: 0, about: 'client connections from one IP address at once (half of max.connections, so no single host can take every slot)' },
  { key: 'max.connections.per.ip.overrides', field: 'maxConnectionsPerIpOverrides', kind: 'string', defaultValue: '', about: 'per-IP exceptions to max.connections.per.ip, as "ip:count,ip:count"' },
  { key: 'connections.max.idle.ms', field: 'connectionsMaxIdleMs', kind: 'int', defaultValue: 600000, min: 100, about: 'a Kafka-port connection with no request and nothing in flight for this long is closed' },
  { key: 'brook.reserved.broker.connections', field: 'reservedBrokerConnections', kind: 'int', defaultValue: 32, min: 0, about: 'slots beyond max.connections and max.connections.per.ip kept for other brokers\' replication; a connection there must prove within 2 s that it is a registered broker\'s follower' },
  { key: 'brook.connection.max.queued.response.bytes', field: 'maxQueuedResponseBytes', kind: 'int', defaultValue: 16777216, min: 65536, about: 'response bytes waiting for one slow client; past it the connection is not read until the client drains them' },
  { key: 'brook.request.partial.timeout.ms', field: 'partialRequestTimeoutMs', kind: 'int', defaultValue: 30000, min: 100, about: 'a connection in the middle of a request frame that sends nothing more for this long is closed' },
  { key: 'brook.max.partitions.per.request', field: 'maxPartitionsPerRequest', kind: 'int', defaultValue: 10000, min: 1, about: 'partitions named in one request (and created by one request)' },
  { key: 'brook.log.tail.cache.bytes', field: 'tailCacheBytes', kind: 'int', defaultValue: 268435456, min: 0, about: 'memory for recently appended batches served to consumers without file reads' },
  { key: 'log.retention.check.interval.ms', field: 'retentionCheckIntervalMs', kind: 'int', defaultValue: 300000, min: 100, about: 'how often retention.ms and retention.bytes delete old segments' },
  { key: 'message.max.bytes', field: 'messageMaxBytes', kind: 'int', defaultValue: 1048588, min: 0, about: 'largest record batch accepted (topic override: max.message.bytes)' },
  { key: 'fetch.max.bytes', field: 'fetchMaxBytes', kind: 'int', defaultValue: 57671680, min: 1024, about: 'largest fetch response' },
  { key: 'num.partitions', field: 'numPartitions', kind: 'int', defaultValue: 1, min: 1, about: 'partitions of auto-created topics and of CreateTopics with -1' },
  { key: 'auto.create.topics.enable', field: 'autoCreateTopicsEnable', kind: 'bool', defaultValue: true, about: 'create unknown topics named in Metadata requests' },
  { key: 'default.replication.factor', field: 'defaultReplicationFactor', kind: 'int', defaultValue: 1, min: 1, about: 'replication factor of auto-created topics' },
  { key: 'offsets.topic.num.partitions', field: 'offsetsTopicPartitions', kind: 'int', defaultValue: 50, min: 1, about: 'partitions of __consumer_offsets (fixed once created)' },
  { key: 'offsets.topic.replication.factor', field: 'offsetsTopicReplicationFactor', kind: 'int', defaultValue: 3, min: 1, about: 'replicas of each __consumer_offsets partition (fewer when fewer brokers are up when it is created)' },
  { key: 'offsets.retention.minutes', field: 'offsetsRetentionMinutes', kind: 'int', defaultValue: 10080, min: 1, about: 'committed offsets of an empty group expire this long after it emptied' },
  { key: 'offset.metadata.max.bytes', field: 'offsetMetadataMaxBytes', kind: 'int', defaultValue: 4096, min: 0, about: 'metadata string of one committed offset; larger gets OFFSET_METADATA_TOO_LARGE' },
  { key: 'group.initial.rebalance.delay.ms', field: 'groupInitialRebalanceDelayMs', kind: 'int', defaultValue: 3000, min: 0, about: 'wait for more members before the first rebalance of an empty group' },
  { key: 'group.min.session.timeout.ms', field: 'groupMinSessionTimeoutMs', kind: 'int', defaultValue: 6000, min: 1, about: 'smallest session timeout a member may ask for' },
  { key: 'group.max.session.timeout.ms', field: 'groupMaxSessionTimeoutMs', kind: 'int', defaultValue: 1800000, min: 1, about: 'largest session timeout a member may ask for' },
  { key: 'broker.session.timeout.ms', field: 'brokerSessionTimeoutMs', kind: 'int', defaultValue: 9000, min: 500, about: 'a broker whose heartbeats stop for this long is fenced: it leaves every ISR and its leaderships move' },
  { key: 'auto.leader.rebalance.enable', field: 'autoLeaderRebalanceEnable', kind: 'bool', defaultValue: true, about: 'the controller moves leaderships back to each partition\'s preferred (first) replica when it is in the ISR' },
  { key: 'leader.imbalance.check.interval.seconds', field: 'leaderImbalanceCheckIntervalSeconds', kind: 'int', defaultValue: 300, min: 1, about: 'how often the controller checks for partitions not led by their preferred replica' },
  { key: 'leader.imbalance.per.broker.percentage', field: 'leaderImbalancePerBrokerPercentage', kind: 'int', defaultValue: 10, min: 0, about: 'share of a broker\'s preferred partitions led elsewhere above which they are moved back' },
  { key: 'replica.lag.time.max.ms', field: 'replicaLagTimeMaxMs', kind: 'int', defaultValue: 30000, min: 100, about: 'a follower not caught up with the leader for this long leaves the ISR' },
  { key: 'replica.fetch.wait.max.ms', field: 'replicaFetchWaitMaxMs', kind: 'int', defaultValue: 500, min: 1, about: 'how long a follower\'s fetch waits at the leader for new data' },
  { key: 'replica.fetch.max.bytes', field: 'replicaFetchMaxBytes', kind: 'int', defaultValue: 1048576, min: 1024, about: 'bytes per partition in one follower fetch (at least one batch is always sent)' },
  { key: 'brook.metadata.snapshot.interval.entries', field: 'metadataSnapshotIntervalEntries', kind: 'int', defaultValue: 5000, min: 1, about: 'metadata log entries applied between snapshots (the log behind a snapshot is dropped; a lagging node is sent the snapshot)' },
  { key: 'brook.raft.tick.ms', field: 'raftTickMs', kind: 'int', defaultValue: 50, min: 1, max: 1000, about: 'the metadata quorum\'s clock: Raft timeouts and heartbeats are counted in ticks of this length' },
  { key: 'controller.quorum.election.timeout.ms', field: 'raftElectionTimeoutMs', kind: 'int', defaultValue: 1000, min: 5, max: 600000, about: 'a quorum voter that hears no leader for this long (randomised up to twice it) starts an election; the leader heartbeats every fifth of it; at least 5 ticks' },
  { key: 'group.max.size', field: 'groupMaxSize', kind: 'int', defaultValue: 1000, min: 1, about: 'members of one group; more get GROUP_MAX_SIZE_REACHED' },
];

/** Broker-level defaults for topic configs, passed through by their Kafka names. */
export const TOPIC_DEFAULT_KEYS = [
  'log.segment.bytes',
  'log.roll.ms',
  'log.index.size.max.bytes',
  'log.index.interval.bytes',
  'log.flush.interval.messages',
  'log.flush.interval.ms',
  'log.retention.ms',
  'log.retention.bytes',
  'log.cleanup.policy',
  'min.insync.replicas',
  'compression.type',
  'log.message.timestamp.type',
  'unclean.leader.election.enable',
];
