// Broker configuration as Kafka's DescribeConfigs and (Incremental)AlterConfigs see it:
// the catalogue of every broker key Brook has (its settings, the flag-level keys, the broker
// keys that set topic defaults, the security keys of the config file), each key's value by
// Kafka's precedence (per-broker dynamic > cluster-default dynamic > static file > default),
// which keys are sensitive (value never shown), and which may change at runtime.
// Dynamic values live in the metadata log as Config records of resource type 4: the broker
// id as the resource name for one broker, the empty name for the cluster-wide default.

import { SETTINGS } from '../config/limits';
import { isSecurityKey } from '../config/config';
import { MetadataImage } from '../controller/metadata-image';
import { PEM_BYTES_MAX } from '../security/tls';
import { BROKER_TOPIC_SYNONYMS, checkConfigValue, TOPIC_CONFIGS } from './topic-config';
import type { TopicConfigType } from './topic-config';
import { FOLLOWER_THROTTLED_RATE, LEADER_THROTTLED_RATE, UNTHROTTLED_RATE } from '../replica/replication-throttle';

export const BROKER_RESOURCE = 4;

export type BrokerConfigSource = 'dynamic-broker' | 'dynamic-default' | 'static' | 'default';

/** DescribeConfigsResponse ConfigSource codes. */
export const CONFIG_SOURCE_CODE: Record<BrokerConfigSource, number> = {
  'dynamic-broker': 2,
  'dynamic-default': 3,
  static: 4,
  default: 5,
};

export type BrokerConfigType = TopicConfigType | 'password';

export interface BrokerConfigDef {
  name: string;
  type: BrokerConfigType;
  /** Brook's default (its embedded default, or Kafka's); null when there is none. */
  defaultValue: string | null;
  /** A check of a new value (dynamic keys only): Kafka's message, or null. */
  check?: (value: string) => string | null;
  /** What DescribeConfigs v3+ gives as documentation. */
  documentation?: string;
}

/** The flag-level keys (command-line flags or their config-file names). */
const FLAG_KEYS: BrokerConfigDef[] = [
  { name: 'node.id', type: 'int', defaultValue: '1' },
  { name: 'log.dirs', type: 'list', defaultValue: './data' },
  { name: 'controller.quorum.voters', type: 'list', defaultValue: null },
  { name: 'broker.rack', type: 'string', defaultValue: null },
  { name: 'listeners', type: 'list', defaultValue: null },
  { name: 'advertised.listeners', type: 'list', defaultValue: null },
  { name: 'brook.listen', type: 'string', defaultValue: '127.0.0.1:9092' },
  { name: 'brook.advertise', type: 'string', defaultValue: null },
  { name: 'brook.controller.listen', type: 'string', defaultValue: null },
  { name: 'brook.http', type: 'string', defaultValue: '127.0.0.1:8080' },
  { name: 'log.level', type: 'string', defaultValue: 'info' },
];

const SETTING_TYPE = { int: 'int', bool: 'boolean', string: 'string', double: 'double' } as const;

/** A check of a SETTINGS value within the setting's bounds. */
function settingCheck(def: (typeof SETTINGS)[number]) {
  return (raw: string): string | null => {
    const type = SETTING_TYPE[def.kind] === 'int' && (def.max ?? 0) > 2147483647 ? 'long' : SETTING_TYPE[def.kind];
    const problem = checkConfigValue(def.key, type, undefined, raw);
    if (problem) return problem;
    const n = Number(raw.trim());
    if (def.min !== undefined && n < def.min)
      return `Invalid value ${raw.trim()} for configuration ${def.key}: Value must be at least ${def.min}`;
    if (def.max !== undefined && n > def.max)
      return `Invalid value ${raw.trim()} for configuration ${def.key}: Value must be no more than ${def.max}`;
    return null;
  };
}

/** The documentation of the topic config a broker key sets the default of. */
function topicDocumentation(key: string): string | undefined {
  const def = TOPIC_CONFIGS.find((d) => d.synonyms.some((s) => s.key === key));
  return def ? `Default of the topic config ${def.name}: ${def.documentation}` : undefined;
}

/** Every key of the catalogue but the security keys (those are reported as the file gives them). */
export const BROKER_CONFIGS: ReadonlyMap<string, BrokerConfigDef> = (() => {
  const out = new Map<string, BrokerConfigDef>();
  for (const def of FLAG_KEYS) out.set(def.name, def);
  for (const def of SETTINGS)
    out.set(def.key, {
      name: def.key,
      type: SETTING_TYPE[def.kind],
      defaultValue: String(def.defaultValue),
      check: settingCheck(def),
      documentation: def.about,
    });
  for (const synonym of BROKER_TOPIC_SYNONYMS.values())
    out.set(synonym.key, {
      name: synonym.key,
      type: synonym.type,
      defaultValue: synonym.defaultValue,
      check: (raw) => checkConfigValue(synonym.key, synonym.type, synonym.check, raw),
      documentation: out.get(synonym.key)?.documentation ?? topicDocumentation(synonym.key),
    });
  // Kafka's replication throttles (KIP-73): LONG, at least 0, Long.MAX_VALUE by default.
  for (const name of [LEADER_THROTTLED_RATE, FOLLOWER_THROTTLED_RATE])
    out.set(name, {
      name,
      type: 'long',
      defaultValue: UNTHROTTLED_RATE,
      check: (raw) => checkConfigValue(name, 'long', { kind: 'atLeast', min: 0n }, raw),
      documentation:
        name === LEADER_THROTTLED_RATE
          ? 'A long representing the upper bound (bytes/sec) on replication traffic for leaders enumerated in the property leader.replication.throttled.replicas (for each topic).'
          : 'A long representing the upper bound (bytes/sec) on replication traffic for followers enumerated in the property follower.replication.throttled.replicas (for each topic).',
    });
  return out;
})();

/**
 * The keys Kafka lets change at runtime (DynamicBrokerConfig.AllDynamicConfigs) that Brook
 * applies live: every broker key that sets a topic default (Kafka's DynamicLogConfig, with
 * message.max.bytes), and the log cleaner's sizes and rates (LogCleaner's reconfigurable
 * configs, log.cleaner.backoff.ms among them).
 */
export const DYNAMIC_BROKER_KEYS: ReadonlySet<string> = new Set([
  ...BROKER_TOPIC_SYNONYMS.keys(),
  'message.max.bytes',
  'log.cleaner.threads',
  'log.cleaner.dedupe.buffer.size',
  'log.cleaner.io.buffer.load.factor',
  'log.cleaner.io.max.bytes.per.second',
  'log.cleaner.backoff.ms',
  LEADER_THROTTLED_RATE,
  FOLLOWER_THROTTLED_RATE,
]);

/**
 * The listener SSL keys Kafka updates dynamically (SslConfigs.RECONFIGURABLE_CONFIGS): a
 * listener's key and trust stores, in files or inline (PEM), with their passwords and types.
 * Brook reads PEM stores only; a JKS or PKCS12 type is refused when the change is validated.
 */
export const LISTENER_SSL_DYNAMIC_KEYS: ReadonlySet<string> = new Set([
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.truststore.certificates',
]);

/** `listener.name.<listener>.<ssl key>` split, when the key is one of LISTENER_SSL_DYNAMIC_KEYS. */
export function listenerSslKey(name: string): { listener: string; key: string } | null {
  const match = /^listener\.name\.([^.]*)\.(.*)$/.exec(name);
  return match && LISTENER_SSL_DYNAMIC_KEYS.has(match[2]) ? { listener: match[1], key: match[2] } : null;
}

/** Whether a broker key may change at runtime: DYNAMIC_BROKER_KEYS and the listener SSL keys. */
export function isDynamicBrokerKey(name: string): boolean {
  return DYNAMIC_BROKER_KEYS.has(name) || listenerSslKey(name) !== null;
}

/**
 * Sensitive keys (Kafka's PASSWORD type, and Brook's secrets): passwords, private keys and
 * certificates given inline, JAAS configs, secrets, tokens, user lists with passwords.
 */
export function isSensitiveBrokerKey(name: string): boolean {
  return (
    /(password|secret|jaas\.config|\.key$|keystore\.key|key\.pem|certificate\.chain|truststore\.certificates|token|credential|scram\.users|users\.file|hmac)/i.test(
      name,
    ) || name.startsWith('brook.controller.cluster.secret')
  );
}

/** The dynamic values in the image: the cluster default ('') and this broker's own. */
export function dynamicBrokerConfigs(image: MetadataImage, nodeId: number) {
  const byName = image.configs.get(BROKER_RESOURCE);
  return {
    clusterDefault: Object.fromEntries(byName?.get('') ?? []) as Record<string, string>,
    perBroker: Object.fromEntries(byName?.get(String(nodeId)) ?? []) as Record<string, string>,
  };
}

export interface BrokerConfigEntry {
  name: string;
  value: string | null;
  source: BrokerConfigSource;
  readOnly: boolean;
  sensitive: boolean;
  type: BrokerConfigType;
  synonyms: { name: string; value: string | null; source: BrokerConfigSource }[];
  documentation: string | null;
}

/** Kafka's broker synonyms of a key (log.retention.ms, .minutes, .hours ...), highest first. */
function synonymNames(name: string): string[] {
  for (const group of [
    ['log.roll.ms', 'log.roll.hours'],
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ])
    if (group.includes(name)) return group;
  return [name];
}

/**
 * The broker's configs as DescribeConfigs reports them. `perBroker` false describes the
 * cluster-wide default resource (empty name): only the keys set there, as Kafka does.
 */
export function describeBrokerConfigs(
  staticKeys: Record<string, string>,
  dynamic: { clusterDefault: Record<string, string>; perBroker: Record<string, string> },
  perBroker: boolean,
  /** Defaults Brook chooses at start over the catalogue's (offsets.topic.replication.factor alone). */
  embeddedDefaults: Record<string, string> = {},
): BrokerConfigEntry[] {
  const layers: [BrokerConfigSource, Record<string, string>][] = perBroker
    ? [
        ['dynamic-broker', dynamic.perBroker],
        ['dynamic-default', dynamic.clusterDefault],
        ['static', staticKeys],
      ]
    : [['dynamic-default', dynamic.clusterDefault]];
  const names = perBroker
    ? new Set([
        ...BROKER_CONFIGS.keys(),
        ...Object.keys(staticKeys).filter((k) => isSecurityKey(k) || isSensitiveBrokerKey(k)),
        ...Object.keys(dynamic.perBroker),
        ...Object.keys(dynamic.clusterDefault),
      ])
    : new Set(Object.keys(dynamic.clusterDefault));
  const out: BrokerConfigEntry[] = [];
  for (const name of names) {
    const def = BROKER_CONFIGS.get(name);
    const sensitive = isSensitiveBrokerKey(name);
    const type: BrokerConfigType = sensitive ? 'password' : (def?.type ?? 'string');
    const synonyms: BrokerConfigEntry['synonyms'] = [];
    // Kafka's ConfigHelper order: source by source, each source's synonyms highest first.
    for (const [source, values] of layers)
      for (const synonym of synonymNames(name))
        if (values[synonym] !== undefined)
          synonyms.push({ name: synonym, value: sensitive ? null : values[synonym].trim(), source });
    const defaultOf = (key: string) => embeddedDefaults[key] ?? BROKER_CONFIGS.get(key)?.defaultValue ?? null;
    const defaultValue = defaultOf(name);
    if (perBroker)
      for (const synonym of synonymNames(name)) {
        const value = defaultOf(synonym);
        if (value !== null) synonyms.push({ name: synonym, value: sensitive ? null : value, source: 'default' });
      }
    // Kafka drops the synonyms ranked before the key's own first entry (describing
    // log.retention.hours, a dynamic log.retention.ms is not listed).
    const from = synonyms.findIndex((s) => s.name === name);
    synonyms.splice(0, from < 0 ? synonyms.length : from);
    const own = synonyms[0];
    const first = synonyms[0];
    out.push({
      name,
      // The key's own value where set; a synonym of higher rank (log.retention.hours for
      // log.retention.ms) leaves the key at its default, as Kafka reports it.
      value: sensitive ? null : (own?.value ?? defaultValue),
      source: first?.source ?? 'default',
      readOnly: !isDynamicBrokerKey(name),
      sensitive,
      type,
      synonyms,
      documentation: def?.documentation ?? null,
    });
  }
  return out;
}

/** Kafka's printing of a Scala Set in its messages: Set(a, b). */
function scalaSet(names: string[]): string {
  return `Set(${names.join(', ')})`;
}

/**
 * Checks a broker resource's change as Kafka's DynamicBrokerConfig.validate: the name must
 * be a broker id or empty, every key dynamically updatable (here: updatable and applied by
 * Brook), every value valid. Returns [error name, message] or null.
 */
export function validateBrokerConfigChange(
  resourceName: string,
  configs: { name: string; op: number; value: string | null }[],
): { error: 'INVALID_REQUEST' | 'INVALID_CONFIG'; message: string } | null {
  if (resourceName !== '' && !/^\d{1,10}$/.test(resourceName))
    return { error: 'INVALID_REQUEST', message: 'Unable to parse broker name as a base 10 number.' };
  if (resourceName !== '' && Number(resourceName) > 2147483647)
    return { error: 'INVALID_REQUEST', message: 'Unable to parse broker name as a base 10 number.' };
  const names = new Set<string>();
  for (const c of configs) {
    if (names.has(c.name)) return { error: 'INVALID_REQUEST', message: 'Error due to duplicate config keys' };
    names.add(c.name);
    if (c.op < 0 || c.op > 3) return { error: 'INVALID_REQUEST', message: `Unknown operations type ${c.op}` };
  }
  const fixed = configs
    .map((c) => c.name)
    .filter((name) => !isDynamicBrokerKey(name) && !LISTENER_SSL_DYNAMIC_KEYS.has(name));
  if (fixed.length > 0)
    return { error: 'INVALID_REQUEST', message: `Cannot update these configs dynamically: ${scalaSet(fixed)}` };
  // Kafka's DynamicBrokerConfig.validateConfigs: SSL keys only with a listener prefix, and
  // only for one broker (each broker has its own certificate).
  const unprefixed = configs.map((c) => c.name).filter((name) => LISTENER_SSL_DYNAMIC_KEYS.has(name));
  if (unprefixed.length > 0)
    return {
      error: 'INVALID_REQUEST',
      message: `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixed)}`,
    };
  const perBrokerOnly = configs.map((c) => c.name).filter((name) => listenerSslKey(name) !== null);
  if (resourceName === '' && perBrokerOnly.length > 0)
    return {
      error: 'INVALID_REQUEST',
      message: `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBrokerOnly)}`,
    };
  for (const c of configs) {
    const def: Pick<BrokerConfigDef, 'type' | 'check'> = BROKER_CONFIGS.get(c.name) ?? { type: 'string' };
    if ((c.op === 2 || c.op === 3) && def.type !== 'list')
      return {
        error: 'INVALID_CONFIG',
        message: `Config value ${c.op === 2 ? 'append' : 'subtract'} is not allowed for config key: ${c.name}`,
      };
    if (c.op !== 1) {
      if (c.value === null) return { error: 'INVALID_REQUEST', message: `Null value not supported for : ${c.name}` };
      // An inline key store is bounded as a key store file is.
      if (listenerSslKey(c.name) && c.value.length > PEM_BYTES_MAX)
        return {
          error: 'INVALID_REQUEST',
          message: `Invalid value for configuration ${c.name}: longer than ${PEM_BYTES_MAX} characters`,
        };
      const problem = def.check?.(c.value) ?? null;
      if (problem) return { error: 'INVALID_REQUEST', message: problem };
    }
  }
  return null;
}

/** The stored form of a value: trimmed. */
export function storedBrokerConfigValue(value: string): string {
  return value.trim();
}

/**
 * The broker keys that set topic defaults, merged by precedence: the static keys, then the
 * cluster default, then this broker's own.
 */
export function effectiveTopicDefaults(
  staticTopicDefaults: Record<string, string>,
  dynamic: { clusterDefault: Record<string, string>; perBroker: Record<string, string> },
): Record<string, string> {
  const out: Record<string, string> = { ...staticTopicDefaults };
  for (const layer of [dynamic.clusterDefault, dynamic.perBroker])
    for (const [key, value] of Object.entries(layer))
      if (BROKER_TOPIC_SYNONYMS.has(key) || key === 'message.max.bytes') out[key] = value;
  return out;
}

/** A dynamic value of `key` by precedence (per-broker, then cluster default), or undefined. */
export function dynamicValue(
  dynamic: { clusterDefault: Record<string, string>; perBroker: Record<string, string> },
  key: string,
): string | undefined {
  return dynamic.perBroker[key] ?? dynamic.clusterDefault[key];
}
