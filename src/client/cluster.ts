// The bundled client's view of a cluster: bootstrap from any listed broker, a metadata
// cache (brokers, partition leaders and epochs), and one connection per broker whose API
// versions are negotiated with ApiVersions (the newest version both sides support,
// flexible versions included). A failed connection is dropped and made again on the next
// request, after an exponential back-off; every request has a timeout.
// It is the one owner of the flows every Kafka tool needs: version negotiation (ApiVersions
// once per connection, each request capped at the version its caller was written for),
// FindCoordinator with its retry policy, and ListOffsets sent to each partition's leader.
// The consumer, Admin, the CLI and the HTTP API all go through it.

import { allApis, type RequestInput, type Response } from '../../protocol/apis';
import { ErrorCode, errorInfo } from '../../protocol/errors';
import type { Logger } from '../logger';
import { AuthenticationFailedError, ConnectionOptions, KafkaConnection } from '../net/kafka-connection';
import type { ClientSecurity } from '../security/client-config';
import { ApiKey } from '../../protocol/api-keys';

export interface ClientOptions {
  /** host:port of one or more brokers. */
  bootstrap: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Back-off before reconnecting to a broker that failed, doubling up to the max. */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /**
   * Told, at warn level, about failures the client recovers from by itself (a background
   * metadata refresh, an automatic commit, a heartbeat, a fetch). Default: none (silent).
   */
  logger?: ClientLogger;
  /** Called with the same failures and what was being done. */
  onError?: (error: unknown, context: string) => void;
  /** TLS and SASL for every broker connection (see src/security/client-config.ts); default PLAINTEXT. */
  security?: ClientSecurity;
}

/** The part of src/logger.ts's Logger the client uses (a Logger from createLogger fits). */
export type ClientLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  /** The topic's id (Metadata 10+); absent when the broker did not say. */
  topicId?: string;
  errorCode: number;
  partitions: PartitionMetadata[];
}

/** A Kafka error from a broker, with its code, name and whether a retry may succeed. */
export class KafkaError extends Error {
  override name = 'KafkaError';
  readonly retriable: boolean;

  /**
   * `context` says what was being done ("create topic t1"); `detail` is the broker's own
   * message when it sent one. The message holds both with the error's name and code (for
   * logs and the CLI); `summary` is the short form for people (the HTTP API, the console).
   */
  constructor(
    readonly code: number,
    readonly context: string,
    readonly detail: string | null = null,
  ) {
    const info = errorInfo(code);
    super(`${context}${detail ? ` (${detail})` : ''}: ${info.name} (${code}): ${info.message}`);
    this.retriable = info.retriable;
  }

  /** "Create topic t1 failed: Topic 't1' already exists." */
  get summary(): string {
    const what = this.context.charAt(0).toUpperCase() + this.context.slice(1);
    const why = this.detail || errorInfo(this.code).message;
    return `${what} failed: ${why}${/[.!?]$/.test(why) ? '' : '.'}`;
  }
}

/** Connection-level failures (refused, reset, timed out) may succeed on another try. */
export function isRetriableError(error: unknown): boolean {
  if (error instanceof KafkaError) return error.retriable;
  // Wrong credentials stay wrong: asking again only fills the broker's log.
  if (error instanceof AuthenticationFailedError) return false;
  return error instanceof Error;
}

const CLIENT_RANGES = new Map(
  allApis.map((api) => {
    const [min, max] = String(api.validVersions).split('-').map(Number);
    return [api.apiKey, { min, max: max ?? min }];
  }),
);

const API_NAMES = new Map(allApis.map((api) => [api.apiKey, api.name]));

/** The newest ListOffsets version the code below was written for. */
const LIST_OFFSETS_VERSION_MAX = 7;
/** The newest FindCoordinator version the code below was written for (v4+ batches keys). */
const FIND_COORDINATOR_VERSION_MAX = 3;
/** Back-off between FindCoordinator attempts, doubling up to the max (Kafka's retry.backoff.ms). */
const COORDINATOR_BACKOFF_MS = 100;
const COORDINATOR_BACKOFF_MAX_MS = 1000;

/** The broker serves none of the versions of an API that this client speaks. */
export class UnsupportedApiError extends KafkaError {
  constructor(
    readonly apiKey: number,
    readonly address: string,
  ) {
    super(
      ErrorCode.UNSUPPORTED_VERSION,
      `the broker at ${address} does not serve ${API_NAMES.get(apiKey) ?? `API ${apiKey}`} in a version brook speaks`,
    );
  }
}

/** One negotiated connection to one broker. */
export class BrokerConnection {
  private readonly versions = new Map<number, number>();

  /** `address`: host:port, for messages. */
  constructor(
    readonly nodeId: number,
    readonly connection: KafkaConnection,
    readonly address = `broker ${nodeId}`,
  ) {}

  /** ApiVersions v3 (falling back to v0 when the broker refuses it, as KIP-511 allows). */
  async negotiate(): Promise<void> {
    // A SASL connection asked before authenticating; the answer holds after it too.
    const known = this.connection.apiVersions;
    if (known) {
      this.learn(known);
      return;
    }
    let answer = await this.connection.request(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'brook-client',
      clientSoftwareVersion: '0.1.0',
    });
    if (answer.errorCode === ErrorCode.UNSUPPORTED_VERSION)
      answer = await this.connection.request(ApiKey.ApiVersions, 0, {});
    if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode, `ApiVersions at ${this.address}`);
    this.learn(answer.apiKeys);
  }

  private learn(ranges: { apiKey: number; minVersion: number; maxVersion: number }[]): void {
    for (const range of ranges) {
      const ours = CLIENT_RANGES.get(range.apiKey);
      if (!ours) continue;
      const version = Math.min(ours.max, range.maxVersion);
      if (version >= Math.max(ours.min, range.minVersion)) this.versions.set(range.apiKey, version);
    }
  }

  /** The version used for `apiKey`, at most `cap`; throws when the broker serves none of ours. */
  version(apiKey: number, cap = Infinity): number {
    const version = this.versions.get(apiKey);
    if (version === undefined) throw new UnsupportedApiError(apiKey, this.address);
    return Math.min(version, cap);
  }

  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  /** One request at the newest version both sides speak (at most `cap`); typed by the API's schema. */
  request<K extends ApiKey>(apiKey: K, body: RequestInput<K>, options?: { cap?: number }): Promise<Response<K>>;
  /** With `expectResponse` false nothing is read back and the promise resolves with `undefined`. */
  request<K extends ApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    options: { cap?: number; expectResponse: boolean },
  ): Promise<Response<K> | undefined>;
  request<K extends ApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    options: { cap?: number; expectResponse?: boolean } = {},
  ): Promise<Response<K> | undefined> {
    return this.connection.request(apiKey, this.version(apiKey, options.cap), body, options.expectResponse ?? true);
  }
}

interface Endpoint {
  host: string;
  port: number;
}

/** Connects to one broker and negotiates its API versions: the only place a client connection is opened. */
export async function openBroker(
  nodeId: number,
  endpoint: Endpoint,
  options: Omit<ConnectionOptions, 'host' | 'port'>,
): Promise<BrokerConnection> {
  const connection = new KafkaConnection({ ...options, host: endpoint.host, port: endpoint.port });
  await connection.connect();
  const broker = new BrokerConnection(nodeId, connection, `${endpoint.host}:${endpoint.port}`);
  try {
    await broker.negotiate();
  } catch (error) {
    connection.close();
    throw error;
  }
  return broker;
}

/** One partition's offset to look up: -2 earliest, -1 latest, else the first at or after a timestamp (ms). */
export interface OffsetQuery {
  topic: string;
  partition: number;
  timestamp: number;
}

export interface ListedOffset {
  topic: string;
  partition: number;
  /** NONE when `offset` was found (-1 there: no record at or after the timestamp). */
  errorCode: number;
  offset: number;
  /** Why there is no offset: the Kafka error's name, "no leader", or the failure's message. */
  error: string | null;
  /** The exception when the leader could not be asked at all (unreachable, timed out). */
  cause?: unknown;
}

export interface Coordinator extends Endpoint {
  nodeId: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Cluster {
  readonly brokers = new Map<number, Endpoint & { rack: string | null }>();
  readonly topics = new Map<string, TopicMetadata>();
  controllerId = -1;
  clusterId: string | null = null;
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private readonly failures = new Map<number, { count: number; until: number }>();
  private bootstrapConnection: Promise<BrokerConnection> | null = null;
  private readonly bootstrap: Endpoint[];
  private closed = false;

  constructor(readonly options: ClientOptions) {
    if (options.bootstrap.length === 0) throw new Error('no bootstrap brokers given');
    this.bootstrap = options.bootstrap.map((address) => {
      const match = /^(.+):(\d+)$/.exec(address.trim());
      if (!match) throw new Error(`bootstrap address "${address}" is not HOST:PORT`);
      return { host: match[1], port: Number(match[2]) };
    });
  }

  get clientId(): string {
    return this.options.clientId ?? 'brook-client';
  }

  private open(nodeId: number, endpoint: Endpoint): Promise<BrokerConnection> {
    return openBroker(nodeId, endpoint, {
      clientId: this.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      security: this.options.security,
    });
  }

  /** A connection to any bootstrap broker (for metadata before the brokers are known). */
  private async anyBootstrap(): Promise<BrokerConnection> {
    const existing = this.bootstrapConnection && (await this.bootstrapConnection.catch(() => null));
    if (existing && existing.connection.isOpen) return existing;
    let lastError: unknown = null;
    const start = Math.floor(Math.random() * this.bootstrap.length);
    for (let i = 0; i < this.bootstrap.length; i++) {
      const endpoint = this.bootstrap[(start + i) % this.bootstrap.length];
      const attempt = this.open(-1, endpoint);
      try {
        const broker = await attempt;
        this.bootstrapConnection = attempt;
        return broker;
      } catch (error) {
        // Refused credentials are the answer, not a reachability problem.
        if (error instanceof AuthenticationFailedError) throw error;
        lastError = error;
      }
    }
    throw new Error(
      `no bootstrap broker reachable (${this.options.bootstrap.join(', ')}): ${(lastError as Error)?.message ?? 'unknown error'}`,
    );
  }

  /** The negotiated connection to broker `nodeId`, made (again) when needed. */
  async broker(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) throw new Error('client closed');
    const existing = this.connections.get(nodeId);
    if (existing) {
      const broker = await existing.catch(() => null);
      if (broker && broker.connection.isOpen) return broker;
      this.connections.delete(nodeId);
    }
    const failed = this.failures.get(nodeId);
    if (failed && Date.now() < failed.until) await new Promise((r) => setTimeout(r, failed.until - Date.now()));
    const endpoint = this.brokers.get(nodeId);
    if (!endpoint) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `broker ${nodeId} is not in the metadata`);
    const attempt = this.open(nodeId, endpoint);
    this.connections.set(nodeId, attempt);
    try {
      const broker = await attempt;
      this.failures.delete(nodeId);
      return broker;
    } catch (error) {
      this.connections.delete(nodeId);
      const count = (failed?.count ?? 0) + 1;
      const base = this.options.reconnectBackoffMs ?? 50;
      const backoff = Math.min(this.options.reconnectBackoffMaxMs ?? 1000, base * 2 ** (count - 1));
      this.failures.set(nodeId, { count, until: Date.now() + backoff });
      throw error;
    }
  }

  /** Any broker: a known one if possible, else a bootstrap address. */
  async anyBroker(): Promise<BrokerConnection> {
    for (const id of this.brokers.keys()) {
      const open = this.connections.get(id);
      const broker = open && (await open.catch(() => null));
      if (broker && broker.connection.isOpen) return broker;
    }
    const ids = [...this.brokers.keys()];
    for (let i = 0; i < ids.length; i++) {
      try {
        return await this.broker(ids[Math.floor(Math.random() * ids.length)]);
      } catch {
        // another one
      }
    }
    return this.anyBootstrap();
  }

  /**
   * Refreshes the metadata of `topics` (all topics when null); `autoCreate` lets the broker
   * create unknown ones (auto.create.topics.enable). Returns the topics' metadata.
   */
  async refreshMetadata(topics: string[] | null, autoCreate = false): Promise<TopicMetadata[]> {
    const broker = await this.anyBroker();
    const version = broker.version(ApiKey.Metadata);
    const answer = await broker.connection.request(ApiKey.Metadata, version, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
      allowAutoTopicCreation: autoCreate,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    // Metadata v13 has a top-level error code (REBOOTSTRAP_REQUIRED, KIP-1102); it comes with no brokers.
    if ((answer.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, `metadata from ${broker.address}`);
    this.brokers.clear();
    for (const b of answer.brokers) this.brokers.set(b.nodeId, { host: b.host, port: b.port, rack: b.rack ?? null });
    this.controllerId = answer.controllerId ?? -1;
    this.clusterId = answer.clusterId ?? null;
    const out: TopicMetadata[] = [];
    for (const t of answer.topics) {
      // Asked by name, every topic comes back named; a nameless one cannot be kept by name.
      if (t.name === null) continue;
      const topic: TopicMetadata = {
        name: t.name,
        topicId: t.topicId,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch ?? -1,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      };
      if (topic.errorCode === ErrorCode.NONE) this.topics.set(topic.name, topic);
      else this.topics.delete(topic.name);
      out.push(topic);
    }
    // Connections to brokers that left the cluster are closed.
    for (const [id, open] of this.connections) {
      if (this.brokers.has(id)) continue;
      this.connections.delete(id);
      // A connection that failed to open has nothing to close; its failure went to whoever awaited it.
      void open.then(
        (b) => b.connection.close(),
        () => undefined,
      );
    }
    return out;
  }

  /** The topic's metadata, fetched when not cached; throws the topic's error. */
  async topic(name: string, autoCreate = false): Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached) return cached;
    const [topic] = await this.refreshMetadata([name], autoCreate);
    if (!topic || topic.errorCode !== ErrorCode.NONE)
      throw new KafkaError(topic?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name}`);
    return topic;
  }

  /**
   * FindCoordinator for a group, asked of any broker. Retriable answers (COORDINATOR_NOT_AVAILABLE
   * while the coordinator is elected, COORDINATOR_LOAD_IN_PROGRESS while it loads the group,
   * NOT_COORDINATOR when it moved) and connection failures are asked again after a back-off
   * until `retryForMs` has passed, as Kafka's clients do until default.api.timeout.ms; any
   * other error is thrown at once.
   */
  async findCoordinator(groupId: string, retryForMs = this.options.requestTimeoutMs ?? 30_000): Promise<Coordinator> {
    const deadline = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        const broker = await this.anyBroker();
        const answer = await broker.request(
          ApiKey.FindCoordinator,
          { key: groupId, keyType: 0, coordinatorKeys: [groupId] },
          { cap: FIND_COORDINATOR_VERSION_MAX },
        );
        if (answer.errorCode === ErrorCode.NONE) return { nodeId: answer.nodeId, host: answer.host, port: answer.port };
        failure = new KafkaError(
          answer.errorCode,
          `find the coordinator of group ${groupId}`,
          answer.errorMessage ?? null,
        );
      } catch (error) {
        failure = error;
      }
      const left = deadline - Date.now();
      if (this.closed || !isRetriableError(failure) || left <= 0) throw failure;
      await sleep(Math.min(left, COORDINATOR_BACKOFF_MAX_MS, COORDINATOR_BACKOFF_MS * 2 ** attempt));
    }
  }

  /** The negotiated connection to a group's coordinator (FindCoordinator as above). */
  async coordinator(groupId: string, retryForMs?: number): Promise<BrokerConnection> {
    const found = await this.findCoordinator(groupId, retryForMs);
    if (!this.brokers.has(found.nodeId)) await this.refreshMetadata([]);
    // Not in the metadata yet (it just registered): the answer's own address will do.
    if (!this.brokers.has(found.nodeId))
      this.brokers.set(found.nodeId, { host: found.host, port: found.port, rack: null });
    return this.broker(found.nodeId);
  }

  /**
   * ListOffsets for partitions, one request per partition leader (only a leader answers),
   * all leaders at once. The topics' metadata is refreshed first unless `refresh` is false
   * and every leader is known. Each partition gets an answer, in the order asked: an
   * offset, or why there is none. A partition may appear once per call.
   */
  async listOffsets(
    queries: OffsetQuery[],
    options: { isolationLevel?: 0 | 1; refresh?: boolean } = {},
  ): Promise<ListedOffset[]> {
    const leaderOf = (q: OffsetQuery) =>
      this.topics.get(q.topic)?.partitions.find((p) => p.partition === q.partition)?.leader ?? -1;
    if (queries.length > 0 && (options.refresh !== false || queries.some((q) => leaderOf(q) < 0)))
      await this.refreshMetadata([...new Set(queries.map((q) => q.topic))]);
    const results: ListedOffset[] = queries.map((q) => ({
      topic: q.topic,
      partition: q.partition,
      errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
      offset: -1,
      error: 'no leader',
    }));
    const byLeader = new Map<number, number[]>();
    queries.forEach((q, i) => {
      const leader = leaderOf(q);
      if (leader >= 0) byLeader.set(leader, [...(byLeader.get(leader) ?? []), i]);
    });
    await Promise.all(
      [...byLeader].map(async ([leader, indexes]) => {
        const byTopic = new Map<string, number[]>();
        for (const i of indexes) byTopic.set(queries[i].topic, [...(byTopic.get(queries[i].topic) ?? []), i]);
        try {
          const broker = await this.broker(leader);
          const answer = await broker.request(
            ApiKey.ListOffsets,
            {
              replicaId: -1,
              isolationLevel: options.isolationLevel ?? 0,
              topics: [...byTopic].map(([name, ids]) => ({
                name,
                partitions: ids.map((i) => ({
                  partitionIndex: queries[i].partition,
                  currentLeaderEpoch: -1,
                  timestamp: queries[i].timestamp,
                  maxNumOffsets: 1,
                })),
              })),
            },
            { cap: LIST_OFFSETS_VERSION_MAX },
          );
          for (const i of indexes)
            results[i] = {
              ...results[i],
              errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
              error: 'the leader gave no answer for the partition',
            };
          for (const t of answer.topics) {
            for (const p of t.partitions) {
              const i = byTopic.get(t.name)?.find((at) => queries[at].partition === p.partitionIndex);
              if (i === undefined) continue;
              const found = p.errorCode === ErrorCode.NONE;
              results[i] = {
                ...results[i],
                errorCode: p.errorCode,
                offset: found ? Number(p.offset) : -1,
                error: found ? null : errorInfo(p.errorCode).name,
              };
            }
          }
        } catch (error) {
          const code = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          for (const i of indexes)
            results[i] = { ...results[i], errorCode: code, error: (error as Error).message, cause: error };
        }
      }),
    );
    return results;
  }

  /** Reports a failure the client recovers from by itself to the logger and onError options. */
  report(context: string, error: unknown): void {
    // A reporter that throws must not break the recovery it is told about, nor the other reporter.
    try {
      this.options.logger?.warn(`client: ${context} failed`, {
        clientId: this.clientId,
        error: error instanceof Error ? error.message : String(error),
      });
    } catch {
      // See above.
    }
    try {
      this.options.onError?.(error, context);
    } catch {
      // See above.
    }
  }

  /** Forgets a broker's connection (after a failure on it). */
  drop(nodeId: number): void {
    const open = this.connections.get(nodeId);
    this.connections.delete(nodeId);
    // As above: a connection that failed to open has nothing to close.
    void open?.then(
      (b) => b.connection.close(),
      () => undefined,
    );
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.connections.keys()]) this.drop(id);
    // As above: a connection that failed to open has nothing to close.
    void this.bootstrapConnection?.then(
      (b) => b.connection.close(),
      () => undefined,
    );
    this.bootstrapConnection = null;
  }
}
