// Broker configuration: embedded defaults, then an optional config file (Kafka-style
// key=value properties, or JSON when the name ends in .json), then command-line flags.
// Errors are ConfigError with a one-line message the CLI prints as is (exit code 2).

import * as fs from 'node:fs';
import { isIP } from 'node:net';
import { isLogLevel, LogLevel } from '../logger';
import { SETTINGS, TOPIC_DEFAULT_KEYS } from './limits';
import { ListenerConfig, parseListenerConfig, resolvedListenerKeys } from './listeners';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface HostPort {
  host: string;
  port: number;
}

export interface Voter extends HostPort {
  id: number;
}

export interface BrokerConfig {
  nodeId: number;
  /** The inter-broker listener's bind address (the single listener of --listen by default). */
  listen: HostPort;
  /** The inter-broker listener's address from advertised.listeners or --advertise; null when it advertises its own. */
  advertise: HostPort | null;
  /** The controller listener this node binds (--controller-listen, or the first of controller.listener.names). */
  controllerListen: HostPort;
  /** Every listener: names, addresses, protocols, what each advertises (listeners.ts). */
  listeners: ListenerConfig;
  http: HostPort | null;
  dataDir: string;
  voters: Voter[];
  logLevel: LogLevel;
  configFile: string | null;
  socketRequestMaxBytes: number;
  maxInflightRequestsPerConnection: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** max.connections.per.ip.overrides as given; parseConnectionOverrides reads it. */
  maxConnectionsPerIpOverrides: string;
  connectionsMaxIdleMs: number;
  reservedBrokerConnections: number;
  maxQueuedResponseBytes: number;
  partialRequestTimeoutMs: number;
  queuedMaxRequestBytes: number;
  maxInflightFetchesPerConnection: number;
  maxPartitionsPerRequest: number;
  maxPartitions: number;
  maxBrokerPartitions: number;
  /** brook.max.scram.users */
  maxScramUsers: number;
  /** brook.max.scram.credentials.per.request */
  maxScramCredentialsPerRequest: number;
  /** brook.max.acls */
  maxAcls: number;
  /** brook.max.acls.per.request */
  maxAclsPerRequest: number;
  /** brook.max.client.quota.entities */
  maxClientQuotaEntities: number;
  /** brook.max.client.quota.entries.per.request */
  maxClientQuotaEntriesPerRequest: number;
  autoCreateTopicsPerSecond: number;
  maxRequestPartitionSizeLimit: number;
  /** quota.window.num, quota.window.size.seconds, brook.quota.max.sensors, max.connection.creation.rate */
  quotaWindowNum: number;
  quotaWindowSizeSeconds: number;
  quotaMaxSensors: number;
  /** replication.quota.window.num, replication.quota.window.size.seconds */
  replicationQuotaWindowNum: number;
  replicationQuotaWindowSizeSeconds: number;
  maxConnectionCreationRate: number;
  tailCacheBytes: number;
  retentionCheckIntervalMs: number;
  /** log.cleaner.* */
  cleanerEnable: boolean;
  cleanerThreads: number;
  cleanerDedupeBufferBytes: number;
  cleanerLoadFactor: number;
  cleanerIoMaxBytesPerSecond: number;
  cleanerBackoffMs: number;
  /** brook.log.cleaner.inline: passes on the event loop (benchmarks). */
  cleanerInline: boolean;
  recoveryPointCheckpointIntervalMs: number;
  highWatermarkCheckpointIntervalMs: number;
  producerIdExpirationMs: number;
  producerIdExpirationCheckIntervalMs: number;
  maxProducerIdsPerPartition: number;
  messageMaxBytes: number;
  messageDecompressedMaxBytes: number;
  fetchMaxBytes: number;
  numPartitions: number;
  autoCreateTopicsEnable: boolean;
  defaultReplicationFactor: number;
  offsetsTopicPartitions: number;
  offsetsTopicReplicationFactor: number;
  offsetsTopicSegmentBytes: number;
  offsetsRetentionMinutes: number;
  offsetMetadataMaxBytes: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  groupMetadataMaxBytes: number;
  groupCoordinatorMaxGroups: number;
  groupMaxCommittedOffsets: number;
  offsetsRetentionCheckIntervalMs: number;
  maxGroupsPerRequest: number;
  metadataSnapshotIntervalEntries: number;
  /** brook.metadata.max.entry.bytes */
  metadataMaxEntryBytes: number;
  /** brook.raft.max.append.bytes */
  raftMaxAppendBytes: number;
  replicaLagTimeMaxMs: number;
  brokerSessionTimeoutMs: number;
  brokerDisconnectGraceMs: number;
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalSeconds: number;
  leaderImbalancePerBrokerPercentage: number;
  replicaFetchWaitMaxMs: number;
  replicaFetchMaxBytes: number;
  maxIncrementalFetchSessionCacheSlots: number;
  fetchSessionPartitionsMax: number;
  fetchSessionEvictionMs: number;
  fetchSessionCachePartitionsMax: number;
  /** brook.raft.tick.ms: the length of one Raft tick. */
  raftTickMs: number;
  /** controller.quorum.election.timeout.ms: a whole number of ticks (rounded), at least 5. */
  raftElectionTimeoutMs: number;
  /** cluster.id from the config file; when absent it is derived from the voters. */
  clusterId: string | null;
  /** broker.rack: the rack this broker is in, for rack-aware replica placement. */
  rack: string | null;
  /**
   * brook.controller.cluster.secret(.file): authenticates controller-port connections. Null
   * only when this node is the sole voter. Never logged.
   */
  controllerClusterSecret: Buffer | null;
  /** Broker-level topic defaults (log.segment.bytes ...) as given, by Kafka name. */
  topicDefaults: Record<string, string>;
  /**
   * Security keys from the config file as given (listeners, listener.security.protocol.map,
   * inter.broker.listener.name, controller.listener.names, listener.name.*, ssl.*, sasl.*,
   * connections.max.reauth.ms, principal.builder.*, super.users, brook.security.*,
   * brook.http.auth.*, brook.http.tls.*, brook.http.allowed.hosts): each security module parses its own. May hold
   * secrets: never logged.
   */
  securityKeys: Record<string, string>;
  /** Keys from the config file that Brook does not know (warned about, not fatal). */
  unknownKeys: string[];
  /**
   * Every key the config file and the flags set, by Kafka name (flags and their file aliases
   * under one name: node.id, log.dirs, brook.listen ...): what DescribeConfigs reports as
   * STATIC_BROKER_CONFIG. May hold secrets: never logged.
   */
  staticKeys: Record<string, string>;
}

export function parseHostPort(value: string, what: string): HostPort {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new ConfigError(`${what}: expected HOST:PORT with a port 0-65535, got "${value}"`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

export function parseVoters(value: string): Voter[] {
  const voters = value.split(',').map((part) => {
    const match = /^(\d+)@(.+)$/.exec(part.trim());
    if (!match) throw new ConfigError(`--voters: expected ID@HOST:PORT[,...], got "${part}"`);
    return { id: Number(match[1]), ...parseHostPort(match[2], '--voters') };
  });
  const ids = new Set(voters.map((v) => v.id));
  if (ids.size !== voters.length) throw new ConfigError('--voters: a node id appears twice');
  return voters;
}

function parseInteger(value: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`${what}: expected an integer, got "${value}"`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`${what}: must be an integer >= ${min}, got "${value}"`);
  if (n > max) throw new ConfigError(`${what}: must be an integer <= ${max}, got "${value}"`);
  return n;
}

/**
 * max.connections.per.ip.overrides: "ip:count,ip:count" as Kafka writes it (an IPv6 address
 * is everything before the last colon). Only IP addresses: a host name is refused, since
 * the listener compares peer addresses.
 */
export function parseConnectionOverrides(value: string): Map<string, number> {
  const overrides = new Map<string, number>();
  if (value.trim() === '') return overrides;
  for (const raw of value.split(',')) {
    const part = raw.trim();
    const at = part.lastIndexOf(':');
    const what = 'max.connections.per.ip.overrides';
    if (at <= 0) throw new ConfigError(`${what}: expected IP:COUNT[,...], got "${part}"`);
    const host = normalizePeerAddress(part.slice(0, at).replace(/^\[|\]$/g, ''));
    if (isIP(host) === 0) throw new ConfigError(`${what}: "${part.slice(0, at)}" is not an IP address`);
    if (overrides.has(host)) throw new ConfigError(`${what}: ${host} appears twice`);
    overrides.set(host, parseInteger(part.slice(at + 1), `${what} (${host})`, 0, 2147483647));
  }
  return overrides;
}

/** An IPv4 address as node reports it on a dual-stack socket (::ffff:a.b.c.d) becomes a.b.c.d. */
export function normalizePeerAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function parseDouble(value: string, what: string, min: number, max = Number.MAX_VALUE): number {
  const n = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n)) throw new ConfigError(`${what}: expected a number, got "${value}"`);
  if (n < min || n > max) throw new ConfigError(`${what}: must be between ${min} and ${max}, got "${value}"`);
  return n;
}

function parseBool(value: string, what: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${what}: expected true or false, got "${value}"`);
}

/** Reads key=value lines (# and ! comments, blank lines ignored) or a flat JSON object. */
export function readConfigFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `--config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (file.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError(`--config: ${file} must hold a JSON object`);
    return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const at = line.search(/[=:]/);
    if (at <= 0) throw new ConfigError(`--config: ${file} line ${index + 1}: expected key=value`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  });
  return out;
}

const CLUSTER_SECRET_KEY = 'brook.controller.cluster.secret';
const CLUSTER_SECRET_KEYS = [CLUSTER_SECRET_KEY, `${CLUSTER_SECRET_KEY}.file`];
/** Shortest cluster secret accepted, in bytes (a guessable secret protects nothing). */
export const CLUSTER_SECRET_BYTES_MIN = 16;
/** Longest cluster secret file read. */
const CLUSTER_SECRET_FILE_BYTES_MAX = 4096;

/**
 * The controller-port cluster secret from a config file's keys: the value itself
 * (brook.controller.cluster.secret) or a file holding it (….secret.file, trailing newline
 * dropped); null when neither is set. The secret never appears in an error message.
 */
export function readClusterSecret(keys: Record<string, string>): Buffer | null {
  const inline = keys[CLUSTER_SECRET_KEY];
  const file = keys[`${CLUSTER_SECRET_KEY}.file`];
  if (inline !== undefined && file !== undefined)
    throw new ConfigError(`${CLUSTER_SECRET_KEY} and ${CLUSTER_SECRET_KEY}.file: set one, not both`);
  let secret: Buffer;
  if (file !== undefined) {
    let raw: Buffer;
    try {
      if (fs.statSync(file).size > CLUSTER_SECRET_FILE_BYTES_MAX)
        throw new ConfigError(
          `${CLUSTER_SECRET_KEY}.file: ${file} is larger than ${CLUSTER_SECRET_FILE_BYTES_MAX} bytes`,
        );
      raw = fs.readFileSync(file);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(
        `${CLUSTER_SECRET_KEY}.file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    secret = Buffer.from(raw.toString('utf8').replace(/\r?\n$/, ''), 'utf8');
  } else if (inline !== undefined) secret = Buffer.from(inline, 'utf8');
  else return null;
  if (secret.length < CLUSTER_SECRET_BYTES_MIN)
    throw new ConfigError(`${CLUSTER_SECRET_KEY}: the secret must be at least ${CLUSTER_SECRET_BYTES_MIN} bytes`);
  return secret;
}

/**
 * The controller listener's TLS: null unless it is SSL or SASL_SSL, else its name and its
 * ssl.client.auth (listener.name.<l>.ssl.client.auth over ssl.client.auth; default none).
 */
export function controllerListenerTls(
  listeners: ListenerConfig,
  keys: Record<string, string>,
): { name: string; clientAuth: string } | null {
  const { name, securityProtocol } = listeners.controller;
  if (securityProtocol !== 'SSL' && securityProtocol !== 'SASL_SSL') return null;
  const clientAuth = resolvedListenerKeys(keys, name)['ssl.client.auth'] ?? 'none';
  return { name, clientAuth: clientAuth.trim().toLowerCase() };
}

/**
 * A TLS controller listener takes only cluster members: it must require client
 * certificates, and super.users must name the members. Such a listener authenticates
 * members without the cluster secret.
 */
function checkControllerListenerTls(listeners: ListenerConfig, keys: Record<string, string>): boolean {
  const listener = controllerListenerTls(listeners, keys);
  if (!listener) return false;
  if (listener.clientAuth !== 'required')
    throw new ConfigError(
      `controller listener ${listener.name} uses TLS: set listener.name.${listener.name.toLowerCase()}.ssl.client.auth=required (it is ${listener.clientAuth}); only cluster members with a certificate may use the controller port`,
    );
  if ((keys['super.users'] ?? '').trim() === '')
    throw new ConfigError(
      `controller listener ${listener.name} uses TLS: super.users must name the principals of the cluster's nodes (for example User:CN=broker1), which alone may use the controller port`,
    );
  return true;
}

/** Config keys kept raw for the security modules (see BrokerConfig.securityKeys). */
export function isSecurityKey(key: string): boolean {
  return (
    /^(ssl|sasl|listener\.name|principal\.builder|brook\.security|brook\.sasl|brook\.http\.auth|brook\.http\.tls|brook\.authorizer)\./.test(
      key,
    ) ||
    [
      'brook.http.allowed.hosts',
      'listeners',
      'advertised.listeners',
      'listener.security.protocol.map',
      'inter.broker.listener.name',
      'security.inter.broker.protocol',
      'controller.listener.names',
      'connections.max.reauth.ms',
      'connection.failed.authentication.delay.ms',
      'super.users',
      'authorizer.class.name',
      'allow.everyone.if.no.acl.found',
    ].includes(key)
  );
}

/** The command-line flags of `brook server`, already split into name -> value. */
export interface ServerFlags {
  'node-id'?: string;
  listen?: string;
  advertise?: string;
  'controller-listen'?: string;
  http?: string;
  'data-dir'?: string;
  voters?: string;
  config?: string;
  'log-level'?: string;
}

/** Keys a config file may set for the flag-level settings (Kafka-like names). */
const FILE_KEYS_FOR_FLAGS: Record<string, keyof ServerFlags> = {
  'node.id': 'node-id',
  listen: 'listen',
  'brook.listen': 'listen',
  'brook.advertise': 'advertise',
  'controller.listen': 'controller-listen',
  'brook.controller.listen': 'controller-listen',
  http: 'http',
  'brook.http': 'http',
  'log.dirs': 'data-dir',
  'log.dir': 'data-dir',
  'data.dir': 'data-dir',
  'controller.quorum.voters': 'voters',
  'log.level': 'log-level',
};

/** The name DescribeConfigs gives each flag-level setting. */
const FLAG_DESCRIBED_KEYS: Record<keyof ServerFlags, string> = {
  'node-id': 'node.id',
  listen: 'brook.listen',
  advertise: 'brook.advertise',
  'controller-listen': 'brook.controller.listen',
  http: 'brook.http',
  'data-dir': 'log.dirs',
  voters: 'controller.quorum.voters',
  config: 'brook.config',
  'log-level': 'log.level',
};

export function loadConfig(flags: ServerFlags): BrokerConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const merged: ServerFlags = {};
  const unknownKeys: string[] = [];
  const settings: Record<string, string> = {};
  const topicDefaults: Record<string, string> = {};
  const securityKeys: Record<string, string> = {};
  let clusterId: string | null = null;
  let rack: string | null = null;
  for (const [key, value] of Object.entries(file)) {
    const flag = FILE_KEYS_FOR_FLAGS[key];
    if (flag) merged[flag] = value;
    else if (SETTINGS.some((s) => s.key === key)) settings[key] = value;
    else if (TOPIC_DEFAULT_KEYS.includes(key)) topicDefaults[key] = value;
    else if (key === 'cluster.id') clusterId = value;
    else if (key === 'broker.rack') rack = value;
    else if (CLUSTER_SECRET_KEYS.includes(key)) continue;
    else if (isSecurityKey(key)) securityKeys[key] = value;
    else unknownKeys.push(key);
  }
  for (const [key, value] of Object.entries(flags))
    if (value !== undefined && key !== 'config') merged[key as keyof ServerFlags] = value;
  const staticKeys: Record<string, string> = {};
  for (const [key, value] of Object.entries(file)) if (!FILE_KEYS_FOR_FLAGS[key]) staticKeys[key] = value;
  for (const [flag, value] of Object.entries(merged))
    if (value !== undefined) staticKeys[FLAG_DESCRIBED_KEYS[flag as keyof ServerFlags]] = value;

  const nodeId = parseInteger(merged['node-id'] ?? '1', '--node-id', 0);
  const listeners = parseListenerConfig(securityKeys, {
    listen: merged.listen,
    advertise: merged.advertise,
    controllerListen: merged['controller-listen'],
  });
  const interBroker = listeners.broker.find((l) => l.name === listeners.interBrokerListenerName)!;
  const interBrokerAdvertised = listeners.advertised.find((l) => l.name === listeners.interBrokerListenerName)!;
  const listen = { host: interBroker.host, port: interBroker.port };
  const advertise = interBrokerAdvertised.fromListener
    ? null
    : { host: interBrokerAdvertised.host, port: interBrokerAdvertised.port };
  const controllerListen = { host: listeners.controller.host, port: listeners.controller.port };
  const httpValue = merged.http ?? '127.0.0.1:8080';
  const http = httpValue === 'off' ? null : parseHostPort(httpValue, '--http');
  const voters = merged.voters ? parseVoters(merged.voters) : [{ id: nodeId, ...controllerListen }];
  const logLevel = merged['log-level'] ?? 'info';
  if (!isLogLevel(logLevel))
    throw new ConfigError(`--log-level: expected debug, info, warn, error or silent, got "${logLevel}"`);
  const dataDir = merged['data-dir'] ?? './data';
  if (dataDir.trim() === '') throw new ConfigError('--data-dir: must not be empty');

  const controllerClusterSecret = readClusterSecret(file);
  const controllerMembershipByCertificate = checkControllerListenerTls(listeners, securityKeys);
  if (
    !controllerClusterSecret &&
    !(voters.length === 1 && voters[0].id === nodeId) &&
    !controllerMembershipByCertificate
  )
    throw new ConfigError(
      `${CLUSTER_SECRET_KEY} (or ${CLUSTER_SECRET_KEY}.file) is required when this node is not the only voter, unless the controller listener uses TLS with ssl.client.auth=required: give every node of the cluster the same secret of at least ${CLUSTER_SECRET_BYTES_MIN} bytes, or certificates`,
    );

  const config: Record<string, unknown> = {
    nodeId,
    listen,
    advertise,
    controllerListen,
    listeners,
    http,
    dataDir,
    voters,
    logLevel,
    configFile: flags.config ?? null,
    clusterId,
    rack,
    controllerClusterSecret,
    topicDefaults,
    securityKeys,
    unknownKeys,
    staticKeys,
  };
  for (const def of SETTINGS) {
    const given = settings[def.key];
    if (given === undefined) config[def.field] = def.defaultValue;
    else if (def.kind === 'int') config[def.field] = parseInteger(given, def.key, def.min ?? 0, def.max);
    else if (def.kind === 'bool') config[def.field] = parseBool(given, def.key);
    else if (def.kind === 'double') config[def.field] = parseDouble(given, def.key, def.min ?? 0, def.max);
    else config[def.field] = given;
  }
  // Kafka's offsets.topic.replication.factor default (3) can never be met by a cluster of
  // one voter (`brook server` alone): there the embedded default is 1, as in Kafka's
  // single-node server.properties. Set explicitly, it is kept whatever the cluster.
  if (settings['offsets.topic.replication.factor'] === undefined && voters.length === 1)
    config.offsetsTopicReplicationFactor = 1;
  parseConnectionOverrides(config.maxConnectionsPerIpOverrides as string);
  const { raftTickMs, raftElectionTimeoutMs } = config as { raftTickMs: number; raftElectionTimeoutMs: number };
  if (raftElectionTimeoutMs < 5 * raftTickMs) {
    throw new ConfigError(
      `controller.quorum.election.timeout.ms: must be at least 5 ticks of brook.raft.tick.ms (${5 * raftTickMs}), got ${raftElectionTimeoutMs}`,
    );
  }
  return config as unknown as BrokerConfig;
}
