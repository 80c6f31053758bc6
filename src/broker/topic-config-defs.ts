// Kafka's topic configs (Kafka 4.1's LogConfig, plus the two deprecated names it still
// documents): type, default, the broker keys that set the default (Kafka's
// ServerTopicConfigSynonyms, highest precedence first), the value check Kafka's ConfigDef
// applies, whether Brook acts on the config, and a line of documentation for DescribeConfigs.

export type TopicConfigType = 'long' | 'int' | 'string' | 'boolean' | 'double' | 'list';

/** A value check in Kafka's terms; the message is Kafka's. */
export type TopicConfigCheck =
  | { kind: 'atLeast'; min: bigint | number }
  | { kind: 'between'; min: bigint | number; max: bigint | number }
  | { kind: 'in'; values: string[] }
  | { kind: 'listIn'; values: string[] }
  | { kind: 'gzipLevel' }
  | { kind: 'throttledReplicas' };

/** A broker key that sets a topic config's default; `toMs` converts hours or minutes. */
export interface BrokerSynonym {
  key: string;
  type: TopicConfigType;
  /** Kafka's default for the broker key; null when it has none (a later synonym decides). */
  defaultValue: string | null;
  toMs?: number;
  check?: TopicConfigCheck;
}

export interface TopicConfigDef {
  name: string;
  type: TopicConfigType;
  /** Kafka's default when no broker key sets one. */
  defaultValue: string;
  synonyms: BrokerSynonym[];
  check?: TopicConfigCheck;
  /** Whether Brook acts on the value, or accepts and describes it only. */
  applied: boolean;
  /** What Brook does with it (docs/operations.md), and the documentation DescribeConfigs v3+ gives. */
  documentation: string;
}

export const LONG_MAX = '9223372036854775807';
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const atLeast = (min: bigint | number): TopicConfigCheck => ({ kind: 'atLeast', min });
const between = (min: bigint | number, max: bigint | number): TopicConfigCheck => ({ kind: 'between', min, max });
const oneOf = (...values: string[]): TopicConfigCheck => ({ kind: 'in', values });

/** Kafka's broker compression names, in its order (BrokerCompressionType). */
export const BROKER_COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];

/** The broker key of the same name with Kafka's `log.` prefix. */
function logPrefixed(name: string, type: TopicConfigType, defaultValue: string | null, check?: TopicConfigCheck) {
  return [{ key: `log.${name}`, type, defaultValue, check }];
}

export const TOPIC_CONFIGS: TopicConfigDef[] = [
  {
    name: 'cleanup.policy',
    type: 'list',
    defaultValue: 'delete',
    synonyms: logPrefixed('cleanup.policy', 'list', 'delete', { kind: 'listIn', values: ['compact', 'delete'] }),
    check: { kind: 'listIn', values: ['compact', 'delete'] },
    applied: true,
    documentation:
      '`delete`: segments are removed by retention.ms and retention.bytes; `compact`: the log cleaner keeps the latest record of each key; both together do both.',
  },
  {
    name: 'compression.gzip.level',
    type: 'int',
    defaultValue: '-1',
    synonyms: [{ key: 'compression.gzip.level', type: 'int', defaultValue: '-1', check: { kind: 'gzipLevel' } }],
    check: { kind: 'gzipLevel' },
    applied: true,
    documentation:
      "The gzip level (1-9, or -1 for zlib's default) the leader uses when compression.type=gzip recompresses a batch.",
  },
  {
    name: 'compression.lz4.level',
    type: 'int',
    defaultValue: '9',
    synonyms: [{ key: 'compression.lz4.level', type: 'int', defaultValue: '9', check: between(1, 17) }],
    check: between(1, 17),
    applied: false,
    documentation:
      'Validated and described; the lz4 codec Brook uses writes frames at its one fast level, so the level does not change the output.',
  },
  {
    name: 'compression.type',
    type: 'string',
    defaultValue: 'producer',
    synonyms: [
      { key: 'compression.type', type: 'string', defaultValue: 'producer', check: oneOf(...BROKER_COMPRESSION_TYPES) },
    ],
    check: oneOf(...BROKER_COMPRESSION_TYPES),
    applied: true,
    documentation:
      '`producer` stores batches as produced; a codec (or `uncompressed`) makes the leader recompress each batch that arrives in another codec, keeping offsets, producer fields and timestamps.',
  },
  {
    name: 'compression.zstd.level',
    type: 'int',
    defaultValue: '3',
    synonyms: [{ key: 'compression.zstd.level', type: 'int', defaultValue: '3', check: between(-131072, 22) }],
    check: between(-131072, 22),
    applied: true,
    documentation: 'The zstd level (-131072 to 22) the leader uses when compression.type=zstd recompresses a batch.',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    defaultValue: '86400000',
    synonyms: [{ key: 'log.cleaner.delete.retention.ms', type: 'long', defaultValue: '86400000', check: atLeast(0) }],
    check: atLeast(0),
    applied: true,
    documentation: 'How long the log cleaner keeps a tombstone (a null value) after it first cleaned past it.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    defaultValue: '60000',
    synonyms: [{ key: 'log.segment.delete.delay.ms', type: 'long', defaultValue: '60000', check: atLeast(0) }],
    check: atLeast(0),
    applied: false,
    documentation:
      "Accepted and described: files of deleted segments go at once (a reader holds its own handle), and segments the log cleaner replaced stay open 60 s, Kafka's default.",
  },
  {
    name: 'flush.messages',
    type: 'long',
    defaultValue: LONG_MAX,
    synonyms: logPrefixed('flush.interval.messages', 'long', LONG_MAX, atLeast(1)),
    check: atLeast(1),
    applied: true,
    documentation: 'fsync the partition after this many messages.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    synonyms: [
      { key: 'log.flush.interval.ms', type: 'long', defaultValue: null },
      { key: 'log.flush.scheduler.interval.ms', type: 'long', defaultValue: LONG_MAX },
    ],
    check: atLeast(0),
    applied: true,
    documentation: 'fsync the partition when its oldest unflushed write is this old.',
  },
  {
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    defaultValue: '',
    synonyms: [],
    check: { kind: 'throttledReplicas' },
    applied: false,
    documentation: 'Accepted and described: Brook has no replication throttle.',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    defaultValue: '4096',
    synonyms: logPrefixed('index.interval.bytes', 'int', '4096', atLeast(0)),
    check: atLeast(0),
    applied: true,
    documentation: 'Bytes between entries of the sparse offset and time indexes.',
  },
  {
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    defaultValue: '',
    synonyms: [],
    check: { kind: 'throttledReplicas' },
    applied: false,
    documentation: 'Accepted and described: Brook has no replication throttle.',
  },
  {
    name: 'local.retention.bytes',
    type: 'long',
    defaultValue: '-2',
    synonyms: logPrefixed('local.retention.bytes', 'long', '-2', atLeast(-2)),
    check: atLeast(-2),
    applied: false,
    documentation: 'Accepted and described: tiered storage only (Brook keeps every segment local).',
  },
  {
    name: 'local.retention.ms',
    type: 'long',
    defaultValue: '-2',
    synonyms: logPrefixed('local.retention.ms', 'long', '-2', atLeast(-2)),
    check: atLeast(-2),
    applied: false,
    documentation: 'Accepted and described: tiered storage only (Brook keeps every segment local).',
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    synonyms: [{ key: 'log.cleaner.max.compaction.lag.ms', type: 'long', defaultValue: LONG_MAX, check: atLeast(1) }],
    check: atLeast(1),
    applied: true,
    documentation:
      'The longest a record may stay uncompacted: the log cleaner takes a log whose oldest dirty segment is older, whatever its dirty ratio; must not be below min.compaction.lag.ms.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    defaultValue: '1048588',
    synonyms: [{ key: 'message.max.bytes', type: 'int', defaultValue: '1048588', check: atLeast(0) }],
    check: atLeast(0),
    applied: true,
    documentation: 'The largest record batch a producer may append (MESSAGE_TOO_LARGE above it).',
  },
  {
    name: 'message.downconversion.enable',
    type: 'boolean',
    defaultValue: 'true',
    synonyms: logPrefixed('message.downconversion.enable', 'boolean', 'true'),
    applied: false,
    documentation:
      'Deprecated in Kafka 4 and a no-op there and here: no fetch version that needs down-conversion is served.',
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    defaultValue: '3600000',
    synonyms: logPrefixed('message.timestamp.after.max.ms', 'long', '3600000', atLeast(0)),
    check: atLeast(0),
    applied: true,
    documentation:
      "A CreateTime record more than this far in the future is refused with INVALID_TIMESTAMP (Kafka 4's default: one hour).",
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    synonyms: logPrefixed('message.timestamp.before.max.ms', 'long', LONG_MAX, atLeast(0)),
    check: atLeast(0),
    applied: true,
    documentation: 'A CreateTime record more than this far in the past is refused with INVALID_TIMESTAMP.',
  },
  {
    name: 'message.timestamp.difference.max.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    synonyms: logPrefixed('message.timestamp.difference.max.ms', 'long', LONG_MAX, atLeast(0)),
    check: atLeast(0),
    applied: true,
    documentation:
      'Deprecated (KIP-937): stands in for message.timestamp.before.max.ms or message.timestamp.after.max.ms while that one is at 9223372036854775807.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    defaultValue: 'CreateTime',
    synonyms: logPrefixed('message.timestamp.type', 'string', 'CreateTime', oneOf('CreateTime', 'LogAppendTime')),
    check: oneOf('CreateTime', 'LogAppendTime'),
    applied: true,
    documentation:
      "`LogAppendTime`: the leader stamps each batch with its append time (Produce answers it as log_append_time_ms; followers keep the leader's bytes); `CreateTime`: the producer's timestamps are kept.",
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    defaultValue: '0.5',
    synonyms: [{ key: 'log.cleaner.min.cleanable.ratio', type: 'double', defaultValue: '0.5', check: between(0, 1) }],
    check: between(0, 1),
    applied: true,
    documentation: 'The share of a compacted log that must be uncleaned before the log cleaner takes it.',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    defaultValue: '0',
    synonyms: [{ key: 'log.cleaner.min.compaction.lag.ms', type: 'long', defaultValue: '0', check: atLeast(0) }],
    check: atLeast(0),
    applied: true,
    documentation:
      'The youngest a record may be for the log cleaner to compact it; must not exceed max.compaction.lag.ms.',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    defaultValue: '1',
    synonyms: [{ key: 'min.insync.replicas', type: 'int', defaultValue: '1', check: atLeast(1) }],
    check: atLeast(1),
    applied: true,
    documentation: 'ISR size below which acks=all produce is refused with NOT_ENOUGH_REPLICAS.',
  },
  {
    name: 'preallocate',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: logPrefixed('preallocate', 'boolean', 'false'),
    applied: false,
    documentation: 'Accepted and described: segments grow as written.',
  },
  {
    name: 'remote.log.copy.disable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    applied: false,
    documentation: 'Accepted and described: tiered storage only.',
  },
  {
    name: 'remote.log.delete.on.disable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    applied: false,
    documentation: 'Accepted and described: tiered storage only.',
  },
  {
    name: 'remote.storage.enable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    applied: true,
    documentation:
      'Brook has no tiered storage: `true` is refused as Kafka refuses it when remote.log.storage.system.enable is off.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    defaultValue: '-1',
    synonyms: logPrefixed('retention.bytes', 'long', '-1'),
    applied: true,
    documentation: 'Delete the oldest segments while the rest still holds this many bytes (-1: no limit).',
  },
  {
    name: 'retention.ms',
    type: 'long',
    defaultValue: '604800000',
    synonyms: [
      { key: 'log.retention.ms', type: 'long', defaultValue: null },
      { key: 'log.retention.minutes', type: 'int', defaultValue: null, toMs: MINUTE_MS },
      { key: 'log.retention.hours', type: 'int', defaultValue: '168', toMs: HOUR_MS },
    ],
    check: atLeast(-1),
    applied: true,
    documentation: 'Delete segments whose newest record is older than this (-1: keep).',
  },
  {
    name: 'segment.bytes',
    type: 'int',
    defaultValue: '1073741824',
    synonyms: logPrefixed('segment.bytes', 'int', '1073741824', atLeast(14)),
    check: atLeast(14),
    applied: true,
    documentation: 'Roll the active segment at this size.',
  },
  {
    name: 'segment.index.bytes',
    type: 'int',
    defaultValue: '10485760',
    synonyms: [{ key: 'log.index.size.max.bytes', type: 'int', defaultValue: '10485760', check: atLeast(4) }],
    check: atLeast(4),
    applied: true,
    documentation: "Size of a segment's offset index; a full index rolls the segment.",
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    defaultValue: '0',
    synonyms: [
      { key: 'log.roll.jitter.ms', type: 'long', defaultValue: null },
      { key: 'log.roll.jitter.hours', type: 'int', defaultValue: '0', toMs: HOUR_MS, check: atLeast(0) },
    ],
    check: atLeast(0),
    applied: true,
    documentation:
      "Each segment rolls up to this much before segment.ms (its share drawn from the segment's identity), so partitions created together do not all roll at once.",
  },
  {
    name: 'segment.ms',
    type: 'long',
    defaultValue: '604800000',
    synonyms: [
      { key: 'log.roll.ms', type: 'long', defaultValue: null },
      { key: 'log.roll.hours', type: 'int', defaultValue: '168', toMs: HOUR_MS, check: atLeast(1) },
    ],
    check: atLeast(1),
    applied: true,
    documentation:
      'Roll the active segment after this long (on a compacted topic, after max.compaction.lag.ms when that is shorter, as Kafka does).',
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [{ key: 'unclean.leader.election.enable', type: 'boolean', defaultValue: 'false' }],
    applied: true,
    documentation: 'Let an out-of-sync replica lead when no ISR member is alive.',
  },
];
