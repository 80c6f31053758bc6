// Topic configuration: values checked as Kafka's ConfigDef parses and validates them (with
// Kafka's messages for INVALID_CONFIG), effective values resolved from a topic's overrides,
// the broker keys of the config file (Kafka's synonyms and their precedence) and Kafka's
// defaults, and the synonym chain DescribeConfigs reports. The table is topic-config-defs.ts.

import {
  BrokerSynonym,
  LONG_MAX,
  TOPIC_CONFIGS,
  TopicConfigCheck,
  TopicConfigDef,
  TopicConfigType,
} from './topic-config-defs';

export { TOPIC_CONFIGS } from './topic-config-defs';
export type { TopicConfigDef, TopicConfigType } from './topic-config-defs';

const BY_NAME = new Map(TOPIC_CONFIGS.map((def) => [def.name, def]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return BY_NAME.get(name);
}

/** Every topic config value Kafka defines fits easily; a longer one is refused (INVALID_CONFIG). */
const CONFIG_VALUE_MAX_CHARS = 1024;

const INT_RANGE = [-(2n ** 31n), 2n ** 31n - 1n];
const LONG_RANGE = [-(2n ** 63n), 2n ** 63n - 1n];
/** What Java's Integer.parseLong accepts: an optional sign and decimal digits. */
const WHOLE_NUMBER = /^[+-]?\d+$/;
/** Close to what Java's Double.parseDouble accepts (a trailing d or f included). */
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/;

type Parsed =
  | { ok: true; canonical: string; value: bigint | number | boolean | string | string[] }
  | { ok: false; message: string };

const invalid = (name: string, shown: string, detail: string) =>
  `Invalid value ${shown} for configuration ${name}: ${detail}`;

/** Kafka's ConfigDef.parseType for a string value: trimmed, then read as the config's type. */
function parse(name: string, type: TopicConfigType, raw: string): Parsed {
  const text = raw.trim();
  switch (type) {
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === 'false') return { ok: true, canonical: lower, value: lower === 'true' };
      return { ok: false, message: invalid(name, raw, 'Expected value to be either true or false') };
    }
    case 'int':
    case 'long': {
      const [low, high] = type === 'int' ? INT_RANGE : LONG_RANGE;
      const number = WHOLE_NUMBER.test(text) ? BigInt(text) : null;
      if (number === null || number < low || number > high)
        return { ok: false, message: invalid(name, raw, `Not a number of type ${type.toUpperCase()}`) };
      return { ok: true, canonical: number.toString(), value: number };
    }
    case 'double': {
      const number = DECIMAL_NUMBER.test(text) ? Number(text.replace(/[dDfF]$/, '')) : NaN;
      if (!Number.isFinite(number)) return { ok: false, message: invalid(name, raw, 'Not a number of type DOUBLE') };
      return { ok: true, canonical: javaDouble(number), value: number };
    }
    case 'list': {
      const items = text === '' ? [] : text.split(/\s*,\s*/);
      return { ok: true, canonical: items.join(','), value: items };
    }
    case 'string':
      return { ok: true, canonical: text, value: text };
  }
}

/** Java's Double.toString for ordinary values: a whole number keeps ".0". */
function javaDouble(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** The parsed value as Java prints it in a ConfigException (a List as [a, b]). */
function shown(value: bigint | number | boolean | string | string[]): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'number') return javaDouble(value);
  return String(value);
}

function applyCheck(name: string, check: TopicConfigCheck, value: Parsed & { ok: true }): string | null {
  const v = value.value;
  switch (check.kind) {
    case 'atLeast':
    case 'between': {
      const n = v as bigint | number;
      if (n < check.min) return invalid(name, shown(v), `Value must be at least ${check.min}`);
      if (check.kind === 'between' && n > check.max)
        return invalid(name, shown(v), `Value must be no more than ${check.max}`);
      return null;
    }
    case 'in':
      return check.values.includes(v as string)
        ? null
        : invalid(name, String(v), `String must be one of: ${check.values.join(', ')}`);
    case 'listIn': {
      const wrong = (v as string[]).find((item) => !check.values.includes(item));
      return wrong === undefined ? null : invalid(name, wrong, `String must be one of: ${check.values.join(', ')}`);
    }
    case 'gzipLevel': {
      const level = v as bigint;
      return level > 9n || (level < 1n && level !== -1n)
        ? invalid(name, shown(v), 'Value must be between 1 and 9 or equal to -1')
        : null;
    }
    case 'throttledReplicas': {
      const items = (v as string[]).map((item) => item.trim());
      if (items.every((item) => /^(\d+:\d+)?$/.test(item)) || items.join('') === '*') return null;
      return invalid(
        name,
        shown(v),
        `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`,
      );
    }
  }
}

/** Checks one value of a config of `type`; Kafka's message, or null. Used for broker keys too. */
export function checkConfigValue(
  name: string,
  type: TopicConfigType,
  check: TopicConfigCheck | undefined,
  raw: string,
) {
  if (raw.length > CONFIG_VALUE_MAX_CHARS)
    return `Invalid value for configuration ${name}: longer than ${CONFIG_VALUE_MAX_CHARS} characters`;
  const parsed = parse(name, type, raw);
  if (!parsed.ok) return parsed.message;
  return check ? applyCheck(name, check, parsed) : null;
}

/** Checks one CreateTopics/AlterConfigs entry; returns Kafka's message for INVALID_CONFIG or null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const def = BY_NAME.get(name);
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return null;
  return checkConfigValue(name, def.type, def.check, value);
}

/**
 * Kafka's checks across a topic's whole effective config (LogConfig.validate after the
 * single values passed): the compaction lags in order, and no remote storage without
 * tiered storage. Returns the message for INVALID_CONFIG or null.
 */
export function validateTopicConfigSet(effective: Record<string, string>): string | null {
  const whole = (value: string | undefined, fallback: bigint) =>
    value !== undefined && WHOLE_NUMBER.test(value) ? BigInt(value) : fallback;
  const minLag = whole(effective['min.compaction.lag.ms'], 0n);
  const maxLag = whole(effective['max.compaction.lag.ms'], BigInt(LONG_MAX));
  if (minLag > maxLag)
    return `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`;
  if (effective['remote.storage.enable'] === 'true')
    return 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.';
  return null;
}

/** A topic config value in Kafka's printed form (trimmed, numbers normalized, lists joined by commas). */
export function canonicalTopicConfigValue(def: TopicConfigDef, raw: string): string {
  const parsed = parse(def.name, def.type, raw);
  return parsed.ok ? parsed.canonical : raw;
}

/** A broker key's value converted to the topic config's unit (hours and minutes to ms). */
function fromSynonym(synonym: BrokerSynonym, raw: string, def: TopicConfigDef): string {
  const parsed = parse(synonym.key, synonym.type, raw);
  if (!parsed.ok) return raw;
  if (synonym.toMs === undefined) return parsed.canonical;
  const ms = (parsed.value as bigint) * BigInt(synonym.toMs);
  // Kafka's logRetentionTimeMillis: any negative retention means "keep" (-1).
  if (def.name === 'retention.ms' && ms < 0n) return '-1';
  return ms.toString();
}

export type TopicConfigSource = 'topic' | 'broker' | 'default';

/** The effective value and where it came from, for DescribeConfigs and CreateTopics. */
export function effectiveTopicConfig(
  def: TopicConfigDef,
  brokerDefaults: Record<string, string>,
  overrides: Record<string, string>,
): { value: string; source: TopicConfigSource } {
  if (overrides[def.name] !== undefined)
    return { value: canonicalTopicConfigValue(def, overrides[def.name]), source: 'topic' };
  for (const synonym of def.synonyms) {
    const given = brokerDefaults[synonym.key];
    if (given !== undefined) return { value: fromSynonym(synonym, given, def), source: 'broker' };
  }
  for (const synonym of def.synonyms)
    if (synonym.defaultValue !== null)
      return { value: fromSynonym(synonym, synonym.defaultValue, def), source: 'default' };
  return { value: def.defaultValue, source: 'default' };
}

/**
 * The synonyms DescribeConfigs reports with include_synonyms, highest precedence first, as
 * Kafka's ConfigHelper lists them: the topic's override, then each broker key the config file
 * sets, then each broker key that has a default, every one with its own raw value.
 */
export function topicConfigSynonyms(
  def: TopicConfigDef,
  brokerDefaults: Record<string, string>,
  overrides: Record<string, string>,
): { name: string; value: string; source: TopicConfigSource }[] {
  const out: { name: string; value: string; source: TopicConfigSource }[] = [];
  if (overrides[def.name] !== undefined)
    out.push({ name: def.name, value: canonicalTopicConfigValue(def, overrides[def.name]), source: 'topic' });
  for (const synonym of def.synonyms)
    if (brokerDefaults[synonym.key] !== undefined)
      out.push({ name: synonym.key, value: brokerDefaults[synonym.key].trim(), source: 'broker' });
  for (const synonym of def.synonyms)
    if (synonym.defaultValue !== null) out.push({ name: synonym.key, value: synonym.defaultValue, source: 'default' });
  return out;
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

/** Every broker key that sets a topic default, with its definition. */
export const BROKER_TOPIC_SYNONYMS: ReadonlyMap<string, BrokerSynonym> = new Map(
  TOPIC_CONFIGS.flatMap((def) => def.synonyms.map((synonym) => [synonym.key, synonym] as const)),
);

/**
 * Checks the broker keys a config file gives for topic defaults, as Kafka checks
 * server.properties at start: Kafka's message for the first bad value, or null.
 */
export function validateBrokerTopicDefaults(keys: Record<string, string>): string | null {
  for (const [key, value] of Object.entries(keys)) {
    const synonym = BROKER_TOPIC_SYNONYMS.get(key);
    if (!synonym) continue;
    const problem = checkConfigValue(key, synonym.type, synonym.check, value);
    if (problem) return problem;
  }
  return validateTopicConfigSet(topicLogConfig(keys, {}));
}

/**
 * The create-time window of a topic's effective config: how far in the past and the future
 * a record's timestamp may lie. The deprecated message.timestamp.difference.max.ms stands in
 * for either bound left at its default (Kafka 3.6+'s transition rule, KIP-937).
 */
export function timestampBoundsMs(config: Record<string, string>): { beforeMs: number; afterMs: number } {
  const difference = config['message.timestamp.difference.max.ms'] ?? LONG_MAX;
  const bound = (value: string | undefined) => {
    const chosen = value === undefined || value === LONG_MAX ? difference : value;
    const ms = Number(chosen);
    return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
  };
  return {
    beforeMs: bound(config['message.timestamp.before.max.ms']),
    afterMs: bound(config['message.timestamp.after.max.ms']),
  };
}
