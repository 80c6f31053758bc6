// The bundled client's view of a cluster: bootstrap from any listed broker, a metadata
// cache (brokers, partition leaders and epochs), and one connection per broker whose API
// versions are negotiated with ApiVersions (the newest version both sides support,
// flexible versions included). A failed connection is dropped and made again on the next
// request, after an exponential back-off; every request has a timeout.

import { allApis } from '../../protocol/apis';
import { ErrorCode, errorInfo } from '../../protocol/errors';
import { KafkaConnection } from '../net/kafka-connection';

export interface ClientOptions {
  /** host:port of one or more brokers. */
  bootstrap: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Back-off before reconnecting to a broker that failed, doubling up to the max. */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
}

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
  constructor(readonly code: number, readonly context: string, readonly detail: string | null = null) {
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
  return error instanceof Error;
}

const CLIENT_RANGES = new Map(allApis.map((api) => {
  const [min, max] = String(api.validVersions).split('-').map(Number);
  return [api.apiKey, { min, max: max ?? min }];
}));

/** One negotiated connection to one broker. */
export class BrokerConnection {
  private readonly versions = new Map<number, number>();

  constructor(readonly nodeId: number, readonly connection: KafkaConnection) {}

  /** ApiVersions v3 (falling back to v0 when the broker refuses it, as KIP-511 allows). */
  async negotiate(clientId: string): Promise<void> {
    let answer = await this.connection.request(18, 3, { clientSoftwareName: 'brook-client', clientSoftwareVersion: '0.1.0' });
    if (answer.errorCode === ErrorCode.UNSUPPORTED_VERSION) answer = await this.connection.request(18, 0, {});
    if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode, `ApiVersions at ${clientId}`);
    for (const range of answer.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]) {
      const ours = CLIENT_RANGES.get(range.apiKey);
      if (!ours) continue;
      const version = Math.min(ours.max, range.maxVersion);
      if (version >= Math.max(ours.min, range.minVersion)) this.versions.set(range.apiKey, version);
    }
  }

  /** The version used for `apiKey`, at most `cap`; throws when the broker serves none of ours. */
  version(apiKey: number, cap = Infinity): number {
    const version = this.versions.get(apiKey);
    if (version === undefined) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `broker ${this.nodeId} does not serve API ${apiKey} in a version this client speaks`);
    return Math.min(version, cap);
  }

  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  request<T = any>(apiKey: number, body: unknown, options: { cap?: number; expectResponse?: boolean } = {}): Promise<T> {
    return this.connection.request<T>(apiKey, this.version(apiKey, options.cap), body, options.expectResponse ?? true);
  }
}

interface Endpoint {
  host: string;
  port: number;
}

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

  private async open(nodeId: number, endpoint: Endpoint): Promise<BrokerConnection> {
    const connection = new KafkaConnection({
      host: endpoint.host,
      port: endpoint.port,
      clientId: this.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
    });
    await connection.connect();
    const broker = new BrokerConnection(nodeId, connection);
    try {
      await broker.negotiate(`${endpoint.host}:${endpoint.port}`);
    } catch (error) {
      connection.close();
      throw error;
    }
    return broker;
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
        lastError = error;
      }
    }
    throw new Error(`no bootstrap broker reachable (${this.options.bootstrap.join(', ')}): ${(lastError as Error)?.message ?? 'unknown error'}`);
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
    const version = broker.version(3);
    const answer = await broker.connection.request(3, version, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
      allowAutoTopicCreation: autoCreate,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    this.brokers.clear();
    for (const b of answer.brokers) this.brokers.set(b.nodeId, { host: b.host, port: b.port, rack: b.rack ?? null });
    this.controllerId = answer.controllerId ?? -1;
    this.clusterId = answer.clusterId ?? null;
    const out: TopicMetadata[] = [];
    for (const t of answer.topics) {
      const topic: TopicMetadata = {
        name: t.name,
        errorCode: t.errorCode,
        partitions: (t.partitions as any[])
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch ?? -1, replicas: p.replicaNodes, isr: p.isrNodes, errorCode: p.errorCode }))
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
      void open.then((b) => b.connection.close(), () => undefined);
    }
    return out;
  }

  /** The topic's metadata, fetched when not cached; throws the topic's error. */
  async topic(name: string, autoCreate = false): Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached) return cached;
    const [topic] = await this.refreshMetadata([name], autoCreate);
    if (!topic || topic.errorCode !== ErrorCode.NONE) throw new KafkaError(topic?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name}`);
    return topic;
  }

  /** Forgets a broker's connection (after a failure on it). */
  drop(nodeId: number): void {
    const open = this.connections.get(nodeId);
    this.connections.delete(nodeId);
    void open?.then((b) => b.connection.close(), () => undefined);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.connections.keys()]) this.drop(id);
    void this.bootstrapConnection?.then((b) => b.connection.close(), () => undefined);
    this.bootstrapConnection = null;
  }
}
