// N real Brook nodes on 127.0.0.1 for integration tests: ports from ports.ts, a data
// directory each, --voters naming the voters' controller ports, and per-node start, stop,
// kill -9, pause/resume (SIGSTOP/SIGCONT) and restart (same ports, same data). The metadata helpers ask whichever node
// answers first for a partition's leader, epoch, replicas and ISR; topicLeaders and
// groupCoordinator make one request each, to poll with until().

import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { connectController } from '../../src/raft/handshake';
import { BrokerProcess, CLUSTER_SECRET_KEY, freePort, startBroker, StartOptions, tempDir } from './broker-process';
import { until } from './wait';

export interface ClusterOptions {
  /** Node ids 1..size. */
  size: number;
  /** The initial voters (default every node); the others start as observers. */
  voterIds?: number[];
  /** key=value settings of every node (on top of the short test Raft timing). */
  config?: Record<string, string>;
  /** Serve each node's HTTP listener. */
  http?: boolean;
  /** Default 40000: a cluster's first election on a loaded machine can take a while. */
  readyTimeoutMs?: number;
  /** Start every node now (default true); false only allocates ports and directories. */
  start?: boolean;
  /**
   * Named listeners: CLIENT on the Kafka port (what kafkaPorts and bootstrap() name), INTERNAL
   * on a port of its own as inter.broker.listener.name, CONTROLLER on the controller port.
   */
  internalListener?: boolean;
}

export interface PartitionState {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** The active controller as the answering node knows it. */
  controller: number;
  /** The Kafka port that answered. */
  port: number;
}

/**
 * The partition's state as the first of `ports` that knows the topic tells it, or null;
 * `security` for secured listeners (default PLAINTEXT).
 */
export async function partitionMetadata(
  ports: number[],
  topic: string,
  partition = 0,
  security?: ClientSecurity,
): Promise<PartitionState | null> {
  for (const port of ports) {
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port,
      requestTimeoutMs: 2000,
      connectTimeoutMs: 1000,
      security,
    });
    try {
      await connection.connect();
      const answer = await connection.request(ApiKey.Metadata, 9, {
        topics: [{ name: topic }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      const p = answer.topics[0]?.partitions.find((q: { partitionIndex: number }) => q.partitionIndex === partition);
      if (p)
        return {
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          controller: answer.controllerId,
          port,
        };
    } catch {
      // try the next port
    } finally {
      connection.close();
    }
  }
  return null;
}

/** One Metadata request at `port`: the topic's partitions when every one has a leader, else null. */
export async function topicLeaders(
  port: number,
  topic: string,
): Promise<{ partitionIndex: number; leaderId: number }[] | null> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    await connection.connect();
    const answer = await connection.request(ApiKey.Metadata, 9, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const t = answer.topics[0];
    if (
      t &&
      t.errorCode === 0 &&
      t.partitions.length > 0 &&
      t.partitions.every((p: { leaderId: number }) => p.leaderId >= 0)
    )
      return t.partitions;
    return null;
  } catch {
    return null;
  } finally {
    connection.close();
  }
}

/** One FindCoordinator (group) at `port`: the coordinator's node id, or null on an error. */
export async function groupCoordinator(port: number, groupId: string): Promise<number | null> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    await connection.connect();
    const answer = await connection.request(ApiKey.FindCoordinator, 1, { key: groupId, keyType: 0 });
    return answer.errorCode === 0 ? answer.nodeId : null;
  } catch {
    return null;
  } finally {
    connection.close();
  }
}

export class Cluster {
  readonly ids: number[];
  readonly kafkaPorts = new Map<number, number>();
  readonly controllerPorts = new Map<number, number>();
  /** The INTERNAL listener's port of each node (with `internalListener`). */
  readonly internalPorts = new Map<number, number>();
  readonly dirs = new Map<number, string>();
  /** The running (or last started) process of each node. */
  readonly nodes = new Map<number, BrokerProcess>();
  /** The --voters value every node is started with. */
  readonly voters: string;
  /** The controller-port cluster secret every node is given (random per cluster). */
  readonly secret = randomBytes(24).toString('hex');
  /** A config file holding just the secret, for `brook cluster ... --config`. */
  readonly secretConfigFile: string;

  private constructor(
    readonly options: ClusterOptions,
    ports: { id: number; kafka: number; controller: number }[],
  ) {
    this.ids = ports.map((p) => p.id);
    for (const p of ports) {
      this.kafkaPorts.set(p.id, p.kafka);
      this.controllerPorts.set(p.id, p.controller);
      this.dirs.set(p.id, tempDir());
    }
    const voterIds = options.voterIds ?? this.ids;
    this.voters = voterIds.map((id) => `${id}@127.0.0.1:${this.controllerPorts.get(id)}`).join(',');
    this.secretConfigFile = path.join(tempDir(), 'cluster-secret.properties');
    fs.writeFileSync(this.secretConfigFile, `${CLUSTER_SECRET_KEY}=${this.secret}\n`);
  }

  /** A connection to node `id`'s controller port, authenticated with the cluster secret. */
  controllerConnection(id: number, timeoutMs = 2000): Promise<KafkaConnection> {
    return connectController(
      {
        host: '127.0.0.1',
        port: this.controllerPorts.get(id)!,
        clientId: 'test',
        requestTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
      },
      { secret: Buffer.from(this.secret), nodeId: -1 },
      { clusterId: null, nodeId: id },
    );
  }

  static async create(options: ClusterOptions): Promise<Cluster> {
    const ports = [];
    for (let id = 1; id <= options.size; id++)
      ports.push({ id, kafka: await freePort(), controller: await freePort() });
    const cluster = new Cluster(options, ports);
    if (options.internalListener) for (const id of cluster.ids) cluster.internalPorts.set(id, await freePort());
    if (options.start !== false) await cluster.startAll();
    return cluster;
  }

  /** Starts node `id` (again) on its ports and data directory; `extra` adds to the cluster's options. */
  async start(
    id: number,
    extra: Pick<StartOptions, 'config' | 'extraArgs' | 'awaitKafka'> = {},
  ): Promise<BrokerProcess> {
    const node = await startBroker({
      dataDir: this.dirs.get(id)!,
      port: this.kafkaPorts.get(id)!,
      controllerPort: this.controllerPorts.get(id)!,
      http: this.options.http,
      readyTimeoutMs: this.options.readyTimeoutMs ?? 40000,
      config: {
        [CLUSTER_SECRET_KEY]: this.secret,
        ...this.listenerConfig(id),
        ...this.options.config,
        ...extra.config,
      },
      awaitKafka: extra.awaitKafka,
      extraArgs: ['--node-id', String(id), '--voters', this.voters, ...(extra.extraArgs ?? [])],
    });
    this.nodes.set(id, node);
    return node;
  }

  /** The listener keys of node `id` with `internalListener` (none otherwise). */
  listenerConfig(id: number): Record<string, string> {
    if (!this.options.internalListener) return {};
    const [client, internal, controller] = [this.kafkaPorts, this.internalPorts, this.controllerPorts].map((m) =>
      m.get(id),
    );
    return {
      listeners: `CLIENT://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
      'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'controller.listener.names': 'CONTROLLER',
    };
  }

  async startAll(): Promise<BrokerProcess[]> {
    return Promise.all(this.ids.map((id) => this.start(id)));
  }

  node(id: number): BrokerProcess {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`node ${id} was never started`);
    return node;
  }

  /** Every node's process, in id order. */
  list(): BrokerProcess[] {
    return this.ids.filter((id) => this.nodes.has(id)).map((id) => this.nodes.get(id)!);
  }

  /** host:port of each node's Kafka listener (all of them, or those in `ids`). */
  bootstrap(ids: number[] = this.ids): string[] {
    return ids.map((id) => `127.0.0.1:${this.kafkaPorts.get(id)}`);
  }

  /** The ids of the nodes whose process is running. */
  aliveIds(): number[] {
    return this.ids.filter((id) => this.nodes.get(id)?.alive());
  }

  async stop(id: number, signal?: NodeJS.Signals): Promise<number | null | undefined> {
    return this.nodes.get(id)?.stop(signal);
  }

  async kill9(id: number): Promise<void> {
    await this.nodes.get(id)?.kill9();
  }

  /** SIGSTOP: node `id` is frozen (sockets open, nothing answered) until resume(id). */
  pause(id: number): void {
    process.kill(this.node(id).pid, 'SIGSTOP');
  }

  /** SIGCONT after pause(id). */
  resume(id: number): void {
    const node = this.nodes.get(id);
    if (node?.alive()) process.kill(node.pid, 'SIGCONT');
  }

  /** Stops node `id` cleanly (if running) and starts it again on the same ports and data. */
  async restart(id: number): Promise<BrokerProcess> {
    await this.stop(id);
    return this.start(id);
  }

  /** The partition's state as the first running node that knows it tells. */
  /**
   * Creates a one-partition topic with a kafkajs admin and waits until it has a leader and
   * every replica in its ISR; resolves with that partition state.
   */
  async createTopicInSync(
    topic: string,
    replicationFactor: number,
    configs: Record<string, string> = {},
  ): Promise<PartitionState> {
    const admin = new Kafka({
      brokers: this.bootstrap(),
      clientId: 'cluster-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor, configEntries }] });
    } finally {
      await admin.disconnect();
    }
    return until(
      async () => {
        const s = await this.metadata(topic);
        return s && s.leader > 0 && s.isr.length === replicationFactor ? s : null;
      },
      { what: `topic ${topic} with a full ISR` },
    );
  }

  metadata(topic: string, partition = 0): Promise<PartitionState | null> {
    return partitionMetadata(
      this.aliveIds().map((id) => this.kafkaPorts.get(id)!),
      topic,
      partition,
    );
  }

  async stopAll(): Promise<void> {
    for (const node of this.nodes.values()) await node.stop();
  }
}

export function startCluster(options: ClusterOptions): Promise<Cluster> {
  return Cluster.create(options);
}
