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
import { controllerListenerTlsFrom } from '../controller/controller-listener-tls';
import { BrokerDispatcher } from '../broker/dispatch';
import { HttpServer } from '../http/http-server';
import { MemoryBudget } from '../net/memory-budget';
import { KafkaListener } from '../net/kafka-listener';
import { AdvertisedListener, localAddress, ListenerEndpoint, resolvedListenerKeys } from '../config/listeners';
import { parseSaslMechanisms } from '../security/listeners';
import { ConnectionSecurity, SecurityProtocol, usesSasl, usesTls } from '../security/principal';
import type { CredentialStore } from '../security/scram';
import { SaslListener } from '../security/sasl/listener';
import { parseTlsSettings, TlsMaterial } from '../security/tls';
import { DynamicListenerTls } from '../security/dynamic-listener-tls';
import { SaslConfigError } from '../security/sasl/settings';
import { JwtConfigError } from '../security/jwt';
import { ConfigError } from '../config/config';
import { parseClusterPrincipals } from '../raft/handshake';
import type { FollowerAuth } from '../replica/replica-manager';
import { brokerTopicDefaults, logManagerOptions } from './settings';
import { authorizerSettingsFrom } from '../security/acl';
import { ConnectionQuotas, listenerConnectionRates } from '../security/connection-quotas';
import { BOOTSTRAP_SCRAM_USERS_KEY, parseBootstrapScramUsers } from './scram-bootstrap';
import { controllerClientSecurity, interBrokerClientSecurity, type ClientSecurity } from '../security/client-config';

/** How long a failed start waits for what it started to stop. */
const STARTUP_CLEANUP_MS = 5000;

/**
 * The reserved-slot gate of the Kafka port: a follower's first request on a new connection
 * is a Fetch (its replica id first, or in ReplicaState from v15) or an OffsetForLeaderEpoch
 * (v3+, its replica id first), and that id must name a registered, unfenced broker whose
 * registered host is the peer's address, and on an authenticating inter-broker listener
 * whose connection authenticated as a cluster principal (the same checks a follower fetch
 * passes later). On a SASL listener the SASL exchange comes first (Connection.onFrames).
 */
async function isBrokerReplication(
  broker: Broker,
  header: RequestHeader,
  body: Reader,
  remoteAddress: string | undefined,
  security: ConnectionSecurity,
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
  return (await broker.replicas.checkFollowerIdentity(replicaId, remoteAddress, security)) === ErrorCode.NONE;
}

/**
 * Follower fetches need the inter-broker listener's authentication once it has any: they
 * are then believed only on that listener, and only from super.users when it is set (the
 * principals Kafka's brokers act as). A PLAINTEXT inter-broker listener keeps the address
 * check alone.
 */
export function followerAuthFrom(config: Pick<BrokerConfig, 'listeners' | 'securityKeys'>): FollowerAuth | undefined {
  const name = config.listeners.interBrokerListenerName;
  const listener = config.listeners.broker.find((l) => l.name === name);
  if (!listener || listener.securityProtocol === 'PLAINTEXT') return undefined;
  return {
    interBrokerListenerName: name,
    clusterPrincipals: parseClusterPrincipals(config.securityKeys['super.users']),
  };
}

export interface RunningBroker {
  /** The inter-broker listener's bound port. */
  kafkaPort: number;
  /** Every broker listener's bound port, by listener name. */
  listenerPorts: Map<string, number>;
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

/** How long a clean stop waits for the controller to move this broker's leaderships. */
const CONTROLLED_SHUTDOWN_MS = 5000;

/**
 * The TLS material of an SSL or SASL_SSL listener, from its own ssl.* keys
 * (listener.name.<listener>.ssl.* over ssl.*); none for the other protocols. A bad key store
 * is a ConfigError naming the listener.
 */
function listenerTls(
  listener: ListenerEndpoint,
  keys: Record<string, string>,
  logger: Logger,
): TlsMaterial | undefined {
  if (!usesTls(listener.securityProtocol)) return undefined;
  return new TlsMaterial(parseTlsSettings(keys, `listener ${listener.name}`), logger);
}

/** Options of an in-process start. */
export interface StartBrokerOptions {
  /**
   * Gives the single Kafka listener of a config without `listeners` this security protocol
   * (the listener is then named after it, as Kafka names a protocol's default listener), and
   * the SASL listeners their SCRAM credentials (default: the metadata image's).
   */
  kafkaListenerSecurity?: { securityProtocol: SecurityProtocol; credentials?: CredentialStore };
}

/** The broker listeners to bind and advertise, after `kafkaListenerSecurity`. */
function brokerListeners(
  config: BrokerConfig,
  override: SecurityProtocol | undefined,
): { broker: ListenerEndpoint[]; advertised: AdvertisedListener[]; interBrokerListenerName: string } {
  const { broker, advertised, interBrokerListenerName } = config.listeners;
  if (!override) return { broker, advertised, interBrokerListenerName };
  if (broker.length !== 1)
    throw new ConfigError('a security protocol for the Kafka listener is for a node with a single listener');
  return {
    broker: [{ ...broker[0], name: override, securityProtocol: override }],
    advertised: [{ ...advertised[0], name: override, securityProtocol: override }],
    interBrokerListenerName: override,
  };
}

/**
 * The SASL side of a SASL listener, from its own keys (listener.name.<name>.* over the plain
 * ones), with Brook's default mechanisms when sasl.enabled.mechanisms is not set: key files
 * read, an https JWKS fetched. A bad setting is a ConfigError naming the listener.
 */
async function saslListener(
  config: BrokerConfig,
  listener: ListenerEndpoint,
  credentials: CredentialStore,
  logger: Logger,
): Promise<SaslListener> {
  const keys = resolvedListenerKeys(config.securityKeys, listener.name);
  const mechanisms = parseSaslMechanisms(keys, listener.name);
  try {
    return await SaslListener.create(
      { ...keys, 'sasl.enabled.mechanisms': mechanisms.join(',') },
      { credentials, logger },
    );
  } catch (error) {
    if (error instanceof SaslConfigError || error instanceof JwtConfigError)
      throw new ConfigError(`listener ${listener.name}: ${error.message}`);
    throw error;
  }
}

/**
 * The broker's client settings for other brokers and for controller ports, checked before
 * anything opens. With several voters they must be complete (a ConfigError stops the start,
 * as Kafka refuses a SASL inter-broker listener without sasl.mechanism.inter.broker.protocol);
 * a sole voter dials no other broker (only its own listener, for the HTTP API), so there a
 * missing piece is a warning and those connections fail with its message.
 */
function brokerClientSecurity(
  config: BrokerConfig,
  logger: Logger,
): { interBrokerSecurity: ClientSecurity; controllerSecurity: ClientSecurity } {
  const controllerSecurity = controllerClientSecurity(config);
  try {
    return { interBrokerSecurity: interBrokerClientSecurity(config), controllerSecurity };
  } catch (error) {
    if (!(error instanceof ConfigError) || config.voters.length > 1) throw error;
    logger.warn('inter-broker client settings incomplete: connections to broker listeners from this node will fail', {
      reason: error.message,
    });
    return { interBrokerSecurity: { protocol: 'PLAINTEXT', unavailable: error.message }, controllerSecurity };
  }
}

export async function startBroker(
  config: BrokerConfig,
  logger: Logger,
  options: StartBrokerOptions = {},
): Promise<RunningBroker> {
  // Hashed before anything opens, so that a bad entry stops the start cleanly.
  const bootstrapScramUsers = parseBootstrapScramUsers(config.securityKeys[BOOTSTRAP_SCRAM_USERS_KEY]);
  const listenerSet = brokerListeners(config, options.kafkaListenerSecurity?.securityProtocol);
  // listener.name.<l>.max.connection.creation.rate, checked before anything opens.
  const listenerRates = listenerConnectionRates(
    config.securityKeys,
    listenerSet.broker.map((l) => l.name),
  );
  // Every listener's TLS material and SASL settings first, so that a bad one stops the start
  // before any file is touched.
  const tls = listenerSet.broker.map((l) => listenerTls(l, resolvedListenerKeys(config.securityKeys, l.name), logger));
  let broker: Broker | undefined;
  // The image changes as credential records apply: look it up at each authentication.
  const imageCredentials: CredentialStore = {
    scramCredential: (user, mechanism) => broker?.quorum.image.scramCredential(user, mechanism),
  };
  const credentials = options.kafkaListenerSecurity?.credentials ?? imageCredentials;
  const sasls: (SaslListener | undefined)[] = [];
  try {
    for (const l of listenerSet.broker)
      sasls.push(usesSasl(l.securityProtocol) ? await saslListener(config, l, credentials, logger) : undefined);
  } catch (error) {
    for (const sasl of sasls) sasl?.close();
    throw error;
  }
  let interBrokerSecurity: ClientSecurity;
  let controllerSecurity: ClientSecurity;
  try {
    ({ interBrokerSecurity, controllerSecurity } = brokerClientSecurity(config, logger));
  } catch (error) {
    for (const sasl of sasls) sasl?.close();
    throw error;
  }
  const dataDir = path.resolve(config.dataDir);
  const logOptions = logManagerOptions(config, dataDir, logger);
  logOptions.onLogDirectoryOffline = stopOnLogDirectoryFailure(logOptions.onLogDirectoryOffline, () => broker);
  const logs = new LogManager(logOptions);
  logs.open();
  const settings: BrokerSettings = {
    interBrokerSecurity,
    controllerSecurity,
    nodeId: config.nodeId,
    host: config.advertise?.host ?? config.listen.host,
    port: config.advertise?.port ?? config.listen.port,
    listeners: listenerSet.advertised.map(({ name, host, port, securityProtocol }) => ({
      name,
      host,
      port,
      securityProtocol,
    })),
    interBrokerListenerName: listenerSet.interBrokerListenerName,
    dataDir,
    autoCreateTopicsEnable: config.autoCreateTopicsEnable,
    numPartitions: config.numPartitions,
    defaultReplicationFactor: config.defaultReplicationFactor,
    topicDefaults: brokerTopicDefaults(config),
    messageMaxBytes: config.messageMaxBytes,
    staticConfig: config.staticKeys,
    messageDecompressedMaxBytes: config.messageDecompressedMaxBytes,
    maxPartitionsPerRequest: config.maxPartitionsPerRequest,
    maxPartitions: config.maxPartitions,
    maxBrokerPartitions: config.maxBrokerPartitions,
    authorizer: authorizerSettingsFrom(config.securityKeys),
    scram: {
      usersMax: config.maxScramUsers,
      credentialsPerRequestMax: config.maxScramCredentialsPerRequest,
      bootstrapUsers: bootstrapScramUsers,
    },
    acls: { aclsMax: config.maxAcls, aclsPerRequestMax: config.maxAclsPerRequest },
    clientQuotas: {
      entitiesMax: config.maxClientQuotaEntities,
      entriesPerRequestMax: config.maxClientQuotaEntriesPerRequest,
    },
    autoCreateTopicsPerSecond: config.autoCreateTopicsPerSecond,
    maxRequestPartitionSizeLimit: config.maxRequestPartitionSizeLimit,
    fetchMaxBytes: config.fetchMaxBytes,
    fetchMaxWaitMsCap: 30_000,
    offsetsTopicPartitions: config.offsetsTopicPartitions,
    offsetsTopicReplicationFactor: config.offsetsTopicReplicationFactor,
    offsetsTopicSegmentBytes: config.offsetsTopicSegmentBytes,
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
    controllerTls: controllerListenerTlsFrom(config, logger.child({ component: 'controller-tls' })),
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
      followerAuth: followerAuthFrom(config),
      quotaWindow: {
        samples: config.replicationQuotaWindowNum,
        windowMs: config.replicationQuotaWindowSizeSeconds * 1000,
      },
    },
    quotas: {
      window: { samples: config.quotaWindowNum, windowMs: config.quotaWindowSizeSeconds * 1000 },
      sensorsMax: config.quotaMaxSensors,
    },
    fetchSessions: {
      maxSlots: config.maxIncrementalFetchSessionCacheSlots,
      maxPartitionsPerSession: config.fetchSessionPartitionsMax,
      evictionMs: config.fetchSessionEvictionMs,
      maxPartitionsTotal: config.fetchSessionCachePartitionsMax,
    },
  };
  broker = new Broker(settings, logs, logger);
  broker.listenerTls = new DynamicListenerTls(
    config.securityKeys,
    listenerSet.broker.flatMap((l, i) => (tls[i] ? [{ name: l.name, material: tls[i] }] : [])),
    logger,
  );
  // The HTTP listener comes up first, so /health answers and /ready says why not while the
  // quorum and registration are still under way. Its clients reach this node's own
  // inter-broker listener (loopback when that listens on every address) once it is bound,
  // so that the brokers they are told of are the other brokers' inter-broker endpoints.
  let http: HttpServer | null = null;
  let httpPort: number | null = null;
  const listeners: KafkaListener[] = [];
  const interBrokerIndex = listenerSet.broker.findIndex((l) => l.name === listenerSet.interBrokerListenerName);
  const boundPorts = listenerSet.broker.map((l) => l.port);
  let kafkaBound = false;
  if (config.http) {
    const interBroker = listenerSet.broker[interBrokerIndex];
    http = new HttpServer({
      host: config.http.host,
      port: config.http.port,
      broker,
      kafkaBootstrap: () => {
        const local = localAddress({ host: interBroker.host, port: boundPorts[interBrokerIndex] });
        return `${local.host}:${local.port}`;
      },
      kafkaSecurity: interBrokerSecurity,
      connections: () => listeners.reduce((sum, l) => sum + l.connectionCount, 0),
      kafkaListening: () => kafkaBound,
      logger,
      securityKeys: config.securityKeys,
      advertisedHost: config.advertise?.host ?? null,
      credentials: imageCredentials,
    });
    httpPort = await http.listen();
  }
  // One Kafka listener per broker listener; each connection carries its listener's name and
  // security protocol, by which Metadata and the like choose the endpoints they answer with.
  // The ports are bound before the broker registers, so the ports it registers are the bound
  // ones even when asked for port 0; connections before serve() are closed at once. The
  // listeners share one memory budget (queued.max.request.bytes is the broker's).
  const budget = new MemoryBudget(config.queuedMaxRequestBytes);
  const overrides = parseConnectionOverrides(config.maxConnectionsPerIpOverrides);
  const quotaBroker = broker;
  const connectionQuotas = new ConnectionQuotas(
    {
      window: { samples: config.quotaWindowNum, windowMs: config.quotaWindowSizeSeconds * 1000 },
      maxConnectionCreationRate: config.maxConnectionCreationRate,
      ipSensorsMax: config.maxConnections,
    },
    (ip) => quotaBroker.quotas.resolver.connectionRate(ip),
    Date.now(),
  );
  broker.connectionQuotas = connectionQuotas;
  for (const [name, rate] of listenerRates) connectionQuotas.setListenerRate(name, rate, Date.now());
  listenerSet.broker.forEach((endpoint, i) => {
    listeners.push(
      new KafkaListener(
        {
          host: endpoint.host,
          port: endpoint.port,
          maxConnections: config.maxConnections,
          maxConnectionsPerIp: config.maxConnectionsPerIp,
          maxConnectionsPerIpOverrides: overrides,
          idleMs: config.connectionsMaxIdleMs,
          maxQueuedResponseBytes: config.maxQueuedResponseBytes,
          partialRequestTimeoutMs: config.partialRequestTimeoutMs,
          reservedConnections: config.reservedBrokerConnections,
          reservedGate: (header, body, remoteAddress, security) =>
            isBrokerReplication(broker, header, body, remoteAddress, security),
          socketRequestMaxBytes: config.socketRequestMaxBytes,
          maxInflightRequests: config.maxInflightRequestsPerConnection,
          maxInflightFetches: config.maxInflightFetchesPerConnection,
          budget,
          security: { listenerName: endpoint.name, securityProtocol: endpoint.securityProtocol },
          sasl: sasls[i],
          tls: tls[i],
          connectionQuotas,
          // Kafka's protected listener: the inter-broker one, when the broker has others.
          connectionRateExempt: i === interBrokerIndex && listenerSet.broker.length > 1,
        },
        new BrokerDispatcher(broker),
        logger,
        true,
      ),
    );
  });
  try {
    for (const [i, listener] of listeners.entries()) boundPorts[i] = await listener.listen();
    // Asked for port 0 (tests): a listener that advertises its own address advertises the
    // port actually bound.
    const advertised = settings.listeners!;
    listenerSet.advertised.forEach((a, i) => {
      if (a.fromListener) advertised[i].port = boundPorts[i];
    });
    settings.host = advertised[interBrokerIndex].host;
    settings.port = advertised[interBrokerIndex].port;
    await broker.start();
  } catch (error) {
    // Whatever started before the failure (the quorum's port and timers, the registration)
    // is stopped too, so that nothing keeps a failed node half up.
    for (const listener of listeners) await listener.close(0);
    for (const sasl of sasls) sasl?.close();
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
  for (const listener of listeners) listener.serve();
  kafkaBound = true;
  const kafkaPort = boundPorts[interBrokerIndex];

  logger.info('broker ready', {
    nodeId: config.nodeId,
    kafka: listenerSet.broker.map((l, i) => `${l.name}://${l.host}:${boundPorts[i]}`).join(','),
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
      await Promise.all(listeners.map((listener) => listener.close(SHUTDOWN_DRAIN_MS)));
      for (const sasl of sasls) sasl?.close();
      await broker.stop();
      logs.close();
      logger.flushSync();
      logger.info('shutdown complete');
    })();
    return closing;
  };
  const listenerPorts = new Map(listenerSet.broker.map((l, i) => [l.name, boundPorts[i]]));
  return { kafkaPort, listenerPorts, httpPort, broker, close };
}
