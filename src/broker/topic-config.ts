// Topic configuration: the Kafka topic config names Brook understands, their broker-level
// defaults, validation of values given in CreateTopics, and DescribeConfigs entries.

export interface TopicConfigDef {
  name: string;
  type: 'long' | 'int' | 'string' | 'boolean' | 'double' | 'list';
  defaultValue: string;
  /** The broker-level config that supplies the default (Kafka's synonym). */
  brokerKey?: string;
  validate?: (value: string) => string | null;
}

const nonNegativeLong = (value: string) => (/^\d+$/.test(value) ? null : 'must be a non-negative integer');
const longAllowMinusOne = (value: string) => (/^(-1|\d+)$/.test(value) ? null : 'must be -1 or a non-negative integer');
const positive = (min: number) => (value: string) =>
  /^\d+$/.test(value) && Number(value) >= min ? null : `must be an integer >= ${min}`;
const oneOf = (choices: string[]) => (value: string) =>
  choices.includes(value) ? null : `must be one of ${choices.join(', ')}`;

export const TOPIC_CONFIGS: TopicConfigDef[] = [
  {
    name: 'segment.bytes',
    type: 'int',
    defaultValue: '1073741824',
    brokerKey: 'log.segment.bytes',
    validate: positive(14),
  },
  { name: 'segment.ms', type: 'long', defaultValue: '604800000', brokerKey: 'log.roll.ms', validate: positive(1) },
  {
    name: 'segment.index.bytes',
    type: 'int',
    defaultValue: '10485760',
    brokerKey: 'log.index.size.max.bytes',
    validate: positive(8),
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    defaultValue: '4096',
    brokerKey: 'log.index.interval.bytes',
    validate: nonNegativeLong,
  },
  {
    name: 'flush.messages',
    type: 'long',
    defaultValue: '9223372036854775807',
    brokerKey: 'log.flush.interval.messages',
    validate: positive(1),
  },
  {
    name: 'flush.ms',
    type: 'long',
    defaultValue: '9223372036854775807',
    brokerKey: 'log.flush.interval.ms',
    validate: nonNegativeLong,
  },
  {
    name: 'retention.ms',
    type: 'long',
    defaultValue: '604800000',
    brokerKey: 'log.retention.ms',
    validate: longAllowMinusOne,
  },
  {
    name: 'retention.bytes',
    type: 'long',
    defaultValue: '-1',
    brokerKey: 'log.retention.bytes',
    validate: longAllowMinusOne,
  },
  {
    name: 'cleanup.policy',
    type: 'list',
    defaultValue: 'delete',
    brokerKey: 'log.cleanup.policy',
    validate: (v) =>
      v.split(',').every((p) => ['delete', 'compact'].includes(p.trim())) ? null : 'must be delete, compact or both',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    defaultValue: '1048588',
    brokerKey: 'message.max.bytes',
    validate: positive(0),
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    defaultValue: '1',
    brokerKey: 'min.insync.replicas',
    validate: positive(1),
  },
  {
    name: 'compression.type',
    type: 'string',
    defaultValue: 'producer',
    brokerKey: 'compression.type',
    validate: oneOf(['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd']),
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    defaultValue: 'CreateTime',
    brokerKey: 'log.message.timestamp.type',
    validate: oneOf(['CreateTime', 'LogAppendTime']),
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    defaultValue: '9223372036854775807',
    brokerKey: 'log.message.timestamp.before.max.ms',
    validate: nonNegativeLong,
  },
  {
    // Kafka 4.0's default (KIP-1030): a create time more than an hour ahead is refused.
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    defaultValue: '3600000',
    brokerKey: 'log.message.timestamp.after.max.ms',
    validate: nonNegativeLong,
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    defaultValue: 'false',
    brokerKey: 'unclean.leader.election.enable',
    validate: oneOf(['true', 'false']),
  },
];

const BY_NAME = new Map(TOPIC_CONFIGS.map((def) => [def.name, def]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return BY_NAME.get(name);
}

/** Checks one CreateTopics/AlterConfigs entry; returns a message for INVALID_CONFIG or null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const def = BY_NAME.get(name);
  if (!def) return `unknown topic config ${name}`;
  if (value === null) return null;
  if (value.length > CONFIG_VALUE_MAX_CHARS)
    return `Invalid value for configuration ${name}: longer than ${CONFIG_VALUE_MAX_CHARS} characters`;
  const range = typeRangeError(def, value);
  if (range) return range;
  return def.validate ? def.validate(value) : null;
}

/** Every topic config value Kafka defines fits easily; a longer one is refused (INVALID_CONFIG). */
const CONFIG_VALUE_MAX_CHARS = 1024;

const INT_RANGE = [-(2n ** 31n), 2n ** 31n - 1n];
const LONG_RANGE = [-(2n ** 63n), 2n ** 63n - 1n];

/**
 * A whole number given for an int or long config must fit Kafka's type (as ConfigDef parses
 * it); anything that is not a whole number is left to the config's own check.
 */
function typeRangeError(def: TopicConfigDef, value: string): string | null {
  if (def.type !== 'int' && def.type !== 'long') return null;
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) return null;
  const [low, high] = def.type === 'int' ? INT_RANGE : LONG_RANGE;
  const number = BigInt(text);
  if (number < low || number > high)
    return `Invalid value ${value} for configuration ${def.name}: Not a number of type ${def.type.toUpperCase()}`;
  return null;
}

/** The effective value and where it came from, for DescribeConfigs. */
export function effectiveTopicConfig(
  def: TopicConfigDef,
  brokerDefaults: Record<string, string>,
  overrides: Record<string, string>,
): { value: string; source: 'topic' | 'broker' | 'default' } {
  if (overrides[def.name] !== undefined) return { value: overrides[def.name], source: 'topic' };
  if (def.brokerKey && brokerDefaults[def.brokerKey] !== undefined)
    return { value: brokerDefaults[def.brokerKey], source: 'broker' };
  return { value: def.defaultValue, source: 'default' };
}

/** Every topic config resolved to its effective string value, keyed by topic config name. */
export function topicLogConfig(
  brokerDefaults: Record<string, string>,
  overrides: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of TOPIC_CONFIGS) out[def.name] = effectiveTopicConfig(def, brokerDefaults, overrides).value;
  return out;
}
