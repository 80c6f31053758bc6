// Starts and stops one Brook node: recovers the logs, loads the topic catalogue, binds the
// Kafka listener (and the HTTP listener unless it is off), and shuts down cleanly: parked
// requests are woken, in-flight requests answered, sockets closed, logs flushed and closed.

import * as path from 'node:path';
import xxhash from 'xxhash-wasm';
import { ApiKey } from '../../protocol/api-keys';
import { RequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { requestCodec } from '../../protocol/codec';
import { fetch } from '../broker/apis/01-fetch';
import { BrokerConfig, parseConnectionOverrides } from '../config/config';
import { ErrorCode } from '../../protocol/errors';
import { Logger } from '../logger';
import { LogManager } from '../log/log-manager';
import type { OfflineInfo } from '../log/log-directory';
import { Broker, BrokerSettings } from '../broker/broker';
import { BrokerDispatcher } from '../broker/dispatch';
import { HttpServer } from '../http/http-server';
import { MemoryBudget } from '../net/memory-budget';
import { KafkaListener } from '../net/kafka-listener';
import { SecurityProtocol, usesSasl, usesTls } from '../security/principal';
import type { CredentialStore } from '../security/scram';
import { SaslListener } from '../security/sasl/listener';
import { parseTlsSettings, TlsMaterial } from '../security/tls';
import { brokerTopicDefaults, logManagerOptions } from './settings';
import { BOOTSTRAP_SCRAM_USERS_KEY, parseBootstrapScramUsers } from './scram-bootstrap';

/** How long a failed start waits for what it started to stop. */
const STARTUP_CLEANUP_MS = 5000;

/**
 * The reserved-slot gate of the Kafka port: a follower's first request on a new connection
 * is a Fetch (its replica id first, or in ReplicaState from v15) or an OffsetForLeaderEpoch
 * (v3+, its replica id first), and that id must name a registered, unfenced broker whose
 * registered host is the peer's address (the same check a follower fetch passes later).
 */
async function isBrokerReplication(
  broker: Broker,
  header: RequestHeader,
  body: Reader,
  remoteAddress: string | undefined,
): Promise<boolean> {
  let replicaId: number;
  if (header.apiKey === ApiKey.Fetch && header.apiVersion >= 15) {
    // Fetch v15+ carries the replica id in its tagged ReplicaState (KIP-903): read the request.
    if (header.apiVersion > fetch.maxVersion) return false;
    replicaId = requestCodec(ApiKey.Fetch, header.apiVersion).decode(body).replicaState.replicaId;
  } else {
    const replicaIdFirst =
      header.apiKey === ApiKey.Fetch || (header.apiKey === ApiKey.OffsetForLeaderEpoch && header.apiVersion >= 3);
    if (!replicaIdFirst || body.remaining < 4) return false;
    replicaId = body.int32();
  }
  if (replicaId < 0) return false;
  return (await broker.replicas.checkFollowerIdentity(replicaId, remoteAddress)) === ErrorCode.NONE;
}

export interface RunningBroker {
  kafkaPort: number;
  httpPort: number | null;
  broker: Broker;
  close(): Promise<void>;
}

const SHUTDOWN_DRAIN_MS = 10_000;

/**
 * Without an explicit cluster.id, every node started with the same voter ids derives the
 * same id (xxHash64 of the sorted voter ids; addresses may move between restarts), so a
 * cluster forms with no format step. Set cluster.id to keep distinct clusters apart.
 */
export async function clusterIdFromVoters(voters: { id: number; host: string; port: number }[]): Promise<string> {
  const { h64ToString } = await xxhash();
  const canonical = `brook-voters:${voters
    .map((v) => v.id)
    .sort((a, b) => a - b)
    .join(',')}`;
  return Buffer.from(h64ToString(canonical), 'hex').toString('base64url');
}

/** The only log directory went offline (a disk failure): the node stops. */
export class LogDirectoryFailedError extends Error {
  override name = 'LogDirectoryFailedError';
  constructor(dir: string, code: string) {
    super(`log directory ${dir} failed (${code}); stopping, as Kafka stops when all its log directories failed`);
  }
}

/**
 * Brook has one log directory, so its going offline is Kafka's "all log directories
 * failed": the broker stops (Kafka halts). First a bounded controlled shutdown, so that the
 * controller moves this node's leaderships at once instead of after its session; then the
 * failure is thrown outside any handler (`fail`), where the process guards log it and exit
 * non-zero (fail-stop: a supervisor restarts the node, which recovers its logs).
 */
export function stopOnLogDirectoryFailure(
  logged: ((info: OfflineInfo) => void) | undefined,
  broker: () => Pick<Broker, 'controlledShutdown'> | undefined,
  fail: (error: Error) => void = (error) =>
    setImmediate(() => {
      throw error;
    }),
): (info: OfflineInfo) => void {
  let failing = false;
  return (info) => {
    logged?.(info);
    if (failing) return;
    failing = true;
    const code = (info.error as NodeJS.ErrnoException)?.code ?? String(info.error);
    const stop = broker()?.controlledShutdown(CONTROLLED_SHUTDOWN_MS) ?? Promise.resolve();
    void stop.catch(() => undefined).then(() => fail(new LogDirectoryFailedError(info.dir, code)));
  };
}

/**
 * The Kafka listener's TLS material: for an SSL or SASL_SSL listener (`listeners=SSL://...`,
 * or the in-process `kafkaListenerSecurity`), from the ssl.* keys with
 * listener.name.<listener>.* taking precedence. Full `listeners` parsing replaces this.
 */
function kafkaListenerTls(
  keys: Record<string, string>,
  protocol: SecurityProtocol | undefined,
  logger: Logger,
): TlsMaterial | undefined {
  const name =
    protocol !== undefined
      ? usesTls(protocol)
        ? protocol
        : null
      : /^\s*SSL:\/\//i.test(keys.listeners ?? '')
        ? 'SSL'
        : null;
  if (name === null) return undefined;
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(keys)) {
    if (key.startsWith('ssl.') || key.startsWith('brook.security.tls.')) resolved[key] = value;
  }
  const prefix = `listener.name.${name.toLowerCase()}.`;
  for (const [key, value] of Object.entries(keys)) {
    if (key.startsWith(prefix)) resolved[key.slice(prefix.length)] = value;
  }
  return new TlsMaterial(parseTlsSettings(resolved, `listener ${name}`), logger);
}

/** How long a clean stop waits for the controller to move this broker's leaderships. */
const CONTROLLED_SHUTDOWN_MS = 5000;

/**
 * Options of an in-process start. `kafkaListenerSecurity` gives the single Kafka listener a
 * security protocol (tests use it for SASL_PLAINTEXT until listeners= configures listeners);
 * its SASL settings come from the config's sasl.* keys, its credentials from `credentials`
 * or else from the metadata image once that stores SCRAM credentials.
 */
export interface StartBrokerOptions {
  kafkaListenerSecurity?: { securityProtocol: SecurityProtocol; credentials?: CredentialStore };
}

export async function startBroker(
  config: BrokerConfig,
  logger: Logger,
  options: StartBrokerOptions = {},
): Promise<RunningBroker> {
  // Hashed before anything opens, so that a bad entry stops the start cleanly.
  const bootstrapScramUsers = parseBootstrapScramUsers(config.securityKeys[BOOTSTRAP_SCRAM_USERS_KEY]);
  // TLS material is read first too: a bad key store stops the start before anything is open.
  const tls = kafkaListenerTls(config.securityKeys, options.kafkaListenerSecurity?.securityProtocol, logger);
  const dataDir = path.resolve(config.dataDir);
  // The SASL settings are read (and their key files checked) before anything is started,
  // so that a bad setting stops the start with nothing to clean up.
  const listenerSecurity = options.kafkaListenerSecurity;
  // The image changes as credential records apply: it is asked at each authentication.
  const imageCredentials: CredentialStore = {
    scramCredential: (user, mechanism) => broker?.quorum.image.scramCredential(user, mechanism),
  };
  const sasl =
    listenerSecurity && usesSasl(listenerSecurity.securityProtocol)
      ? await SaslListener.create(config.securityKeys, {
          credentials: listenerSecurity.credentials ?? imageCredentials,
          logger,
        })
      : undefined;
  const logOptions = logManagerOptions(config, dataDir, logger);
  let broker: Broker | undefined;
  logOptions.onLogDirectoryOffline = stopOnLogDirectoryFailure(logOptions.onLogDirectoryOffline, () => broker);
  const logs = new LogManager(logOptions);
  logs.open();
  const settings: BrokerSettings = {
    nodeId: config.nodeId,
    host: config.advertise?.host ?? config.listen.host,
    port: config.advertise?.port ?? config.listen.port,
    dataDir,
    autoCreateTopicsEnable: config.autoCreateTopicsEnable,
    numPartitions: config.numPartitions,
    defaultReplicationFactor: config.defaultReplicationFactor,
    topicDefaults: brokerTopicDefaults(config),
    messageMaxBytes: config.messageMaxBytes,
    messageDecompressedMaxBytes: config.messageDecompressedMaxBytes,
    maxPartitionsPerRequest: config.maxPartitionsPerRequest,
    maxPartitions: config.maxPartitions,
    maxBrokerPartitions: config.maxBrokerPartitions,
    scram: {
      usersMax: config.maxScramUsers,
      credentialsPerRequestMax: config.maxScramCredentialsPerRequest,
      bootstrapUsers: bootstrapScramUsers,
    },
    autoCreateTopicsPerSecond: config.autoCreateTopicsPerSecond,
    maxRequestPartitionSizeLimit: config.maxRequestPartitionSizeLimit,
    fetchMaxBytes: config.fetchMaxBytes,
    fetchMaxWaitMsCap: 30_000,
    offsetsTopicPartitions: config.offsetsTopicPartitions,
    offsetsTopicReplicationFactor: config.offsetsTopicReplicationFactor,
    offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
    offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
    group: {
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      maxSize: config.groupMaxSize,
      groupMetadataBytesMax: config.groupMetadataMaxBytes,
    },
    groupsMax: config.groupCoordinatorMaxGroups,
    committedOffsetsPerGroupMax: config.groupMaxCommittedOffsets,
    offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
    maxGroupsPerRequest: config.maxGroupsPerRequest,
    clusterId: config.clusterId ?? (await clusterIdFromVoters(config.voters)),
    voters: config.voters,
    controllerListen: config.controllerListen,
    controllerClusterSecret: config.controllerClusterSecret,
    raftTickMs: config.raftTickMs,
    raftElectionTimeoutTicks: Math.round(config.raftElectionTimeoutMs / config.raftTickMs),
    brokerSessionTimeoutMs: config.brokerSessionTimeoutMs,
    brokerDisconnectGraceMs: config.brokerDisconnectGraceMs,
    leaderRebalance: {
      enabled: config.autoLeaderRebalanceEnable,
      intervalMs: config.leaderImbalanceCheckIntervalSeconds * 1000,
      imbalancePercentage: config.leaderImbalancePerBrokerPercentage,
    },
    rack: config.rack,
    metadataSnapshotIntervalEntries: config.metadataSnapshotIntervalEntries,
    metadataMaxEntryBytes: config.metadataMaxEntryBytes,
    raftMaxAppendBytes: config.raftMaxAppendBytes,
    replica: {
      lagTimeMaxMs: config.replicaLagTimeMaxMs,
      fetchWaitMaxMs: config.replicaFetchWaitMaxMs,
      fetchMaxBytes: config.replicaFetchMaxBytes,
    },
    fetchSessions: {
      maxSlots: config.maxIncrementalFetchSessionCacheSlots,
      maxPartitionsPerSession: config.fetchSessionPartitionsMax,
      evictionMs: config.fetchSessionEvictionMs,
      maxPartitionsTotal: config.fetchSessionCachePartitionsMax,
    },
  };
  broker = new Broker(settings, logs, logger);
  // The HTTP listener comes up first, so /health answers and /ready says why not while the
  // quorum and registration are still under way. Its clients reach this node's own Kafka
  // listener (loopback when that listens on every address) once it is bound.
  let http: HttpServer | null = null;
  let httpPort: number | null = null;
  let listener: KafkaListener | null = null;
  let kafkaPort = config.listen.port;
  let kafkaBound = false;
  if (config.http) {
    const kafkaHost = ['0.0.0.0', '::', ''].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
    http = new HttpServer({
      host: config.http.host,
      port: config.http.port,
      broker,
      kafkaBootstrap: () => `${kafkaHost}:${kafkaPort}`,
      connections: () => listener?.connectionCount ?? 0,
      kafkaListening: () => kafkaBound,
      logger,
      securityKeys: config.securityKeys,
      advertisedHost: config.advertise?.host ?? null,
      credentials: imageCredentials,
    });
    httpPort = await http.listen();
  }
  // The Kafka port is bound before the broker registers, so the port it registers is the
  // bound one even when asked for port 0; connections before serve() are closed at once.
  listener = new KafkaListener(
    {
      host: config.listen.host,
      port: config.listen.port,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      maxConnectionsPerIpOverrides: parseConnectionOverrides(config.maxConnectionsPerIpOverrides),
      idleMs: config.connectionsMaxIdleMs,
      maxQueuedResponseBytes: config.maxQueuedResponseBytes,
      partialRequestTimeoutMs: config.partialRequestTimeoutMs,
      reservedConnections: config.reservedBrokerConnections,
      reservedGate: (header, body, remoteAddress) => isBrokerReplication(broker, header, body, remoteAddress),
      socketRequestMaxBytes: config.socketRequestMaxBytes,
      maxInflightRequests: config.maxInflightRequestsPerConnection,
      maxInflightFetches: config.maxInflightFetchesPerConnection,
      budget: new MemoryBudget(config.queuedMaxRequestBytes),
      tls,
      ...(listenerSecurity
        ? {
            security: {
              listenerName: listenerSecurity.securityProtocol,
              securityProtocol: listenerSecurity.securityProtocol,
            },
            sasl,
          }
        : {}),
      ...(!listenerSecurity && tls ? { security: { listenerName: 'SSL', securityProtocol: 'SSL' as const } } : {}),
    },
    new BrokerDispatcher(broker),
    logger,
    true,
  );
  try {
    kafkaPort = await listener.listen();
    // Asked for port 0 (tests): advertise the port actually bound, unless told another.
    if (!config.advertise) settings.port = kafkaPort;
    await broker.start();
  } catch (error) {
    // Whatever started before the failure (the quorum's port and timers, the registration)
    // is stopped too, so that nothing keeps a failed node half up.
    await listener.close(0);
    sasl?.close();
    if (http) await http.close();
    let bound: NodeJS.Timeout | undefined;
    const stopped = broker.stop().catch(() => undefined);
    await Promise.race([stopped, new Promise((resolve) => (bound = setTimeout(resolve, STARTUP_CLEANUP_MS)))]);
    clearTimeout(bound);
    try {
      logs.close();
    } catch {
      // The start failed on these files; the error that matters is the one thrown below.
    }
    throw error;
  }
  listener.serve();
  kafkaBound = true;

  logger.info('broker ready', {
    nodeId: config.nodeId,
    kafka: `${config.listen.host}:${kafkaPort}`,
    http: http ? `${config.http!.host}:${httpPort}` : 'off',
    dataDir,
    clusterId: broker.clusterId,
  });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down');
      await broker
        .controlledShutdown(CONTROLLED_SHUTDOWN_MS)
        .catch((error) => logger.warn('controlled shutdown failed', { error: String(error) }));
      // The HTTP API goes first: its clients talk to this node's Kafka listener.
      if (http) await http.close();
      broker.beginShutdown();
      await listener!.close(SHUTDOWN_DRAIN_MS);
      sasl?.close();
      await broker.stop();
      logs.close();
      logger.flushSync();
      logger.info('shutdown complete');
    })();
    return closing;
  };
  return { kafkaPort, httpPort, broker, close };
}
