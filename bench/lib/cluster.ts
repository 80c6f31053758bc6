// Brook broker processes for the benches: N nodes on 127.0.0.1, each with a Kafka and a
// controller port picked free once and a data directory of its own, so a node restarts
// on the same ports and data; all of them voters of one metadata quorum. A node is ready
// once it answers ApiVersions; it is stopped by PID (SIGTERM, then SIGKILL after a grace
// period) or killed with SIGKILL, its output tail is kept for the error report, and the
// CPU time of every broker process is read from /proc.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { cpuSeconds, freePort, Managed, running, until } from './process';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
const READY_DEADLINE_MS = 40_000;
const LOG_TAIL_LINES = 25;

export interface BrokerClusterOptions {
  /** Made here; holds each node's data directory (n1, n2, ...) and the config file. */
  dir: string;
  nodes: number;
  /** Broker settings, written to a properties file the nodes are given with --config. */
  config?: Record<string, string>;
  /** --log-level of the nodes (default info). */
  logLevel?: string;
  /** Arguments for node itself before the script (a profiler flag, say). */
  nodeArgs?: string[];
  /** Working directory of the node processes (default: this process's). */
  cwd?: string;
  readyDeadlineMs?: number;
  readyPollMs?: number;
  /** Wait for the nodes one after the other instead of all at once. */
  readyInOrder?: boolean;
  /**
   * Each node's listener keys (listeners=, listener.security.protocol.map, ...) from its
   * ports, in place of the --listen shorthand; written with `config` to a file of the node's own.
   */
  listenerConfig?: (ports: { kafka: number; controller: number }) => Record<string, string>;
  /** TLS and SASL settings of the bench's connections to the Kafka ports (default PLAINTEXT). */
  clientSecurity?: ClientSecurity;
}

/** One broker process; its ports and data directory stay fixed across restarts. */
export class BrokerNode {
  private managed: Managed | null = null;

  constructor(
    readonly id: number,
    readonly port: number,
    readonly controllerPort: number,
    readonly dataDir: string,
    private readonly args: string[],
    private readonly options: BrokerClusterOptions,
  ) {}

  /** Starts the process (again, after a stop or a kill). */
  start(): void {
    if (this.managed) running.delete(this.managed);
    this.managed = Managed.start(
      `brook n${this.id}`,
      process.execPath,
      [...(this.options.nodeArgs ?? []), ...this.args],
      this.options.cwd,
    );
  }

  get pid(): number | undefined {
    return this.managed?.isAlive ? this.managed.pid : undefined;
  }

  get isAlive(): boolean {
    return this.managed?.isAlive ?? false;
  }

  /** Resolves when the current process has exited (at once when there is none). */
  get exited(): Promise<void> {
    return this.managed?.exited ?? Promise.resolve();
  }

  /** CPU seconds (user and system) the current process has used so far. */
  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  /** Waits until the node answers ApiVersions; throws if it exits first or the deadline passes. */
  async waitReady(): Promise<void> {
    const probe = { connection: null as KafkaConnection | null };
    try {
      await until(
        `brook node ${this.id} to answer ApiVersions`,
        this.options.readyDeadlineMs ?? READY_DEADLINE_MS,
        async () => {
          if (!this.isAlive) throw new Error(`brook node ${this.id} exited before it was ready:\n${this.logTail()}`);
          try {
            probe.connection ??= await this.connect();
            await probe.connection.request(18, 0, {});
            return true;
          } catch {
            probe.connection?.close();
            probe.connection = null;
            return null;
          }
        },
        this.options.readyPollMs ?? 50,
      );
    } finally {
      probe.connection?.close();
    }
  }

  /** A new connection to the node's Kafka port. */
  async connect(): Promise<KafkaConnection> {
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: this.port,
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 1000,
      clientId: 'bench-cluster',
      security: this.options.clientSecurity,
    });
    await connection.connect();
    return connection;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(): Promise<void> {
    await this.managed?.stop();
  }

  /** kill -9; `exited` says when it is gone. */
  kill(): void {
    if (this.managed?.isAlive) this.managed.child.kill('SIGKILL');
  }

  logTail(): string {
    return (this.managed?.output ?? '').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  }
}

export class BrokerCluster {
  private constructor(
    readonly nodes: BrokerNode[],
    /** The --voters value: every node, id@host:controllerPort. */
    readonly voters: string,
    /** The controller-port cluster secret the nodes share (random per cluster). */
    readonly secret: Buffer,
  ) {}

  /** Starts every node and waits until each answers ApiVersions. */
  static async start(options: BrokerClusterOptions): Promise<BrokerCluster> {
    fs.mkdirSync(options.dir, { recursive: true });
    // Every node of a cluster needs the same controller-port secret.
    const secret = randomBytes(24).toString('hex');
    const config = { 'brook.controller.cluster.secret': secret, ...options.config };
    const writeConfig = (file: string, keys: Record<string, string>) =>
      fs.writeFileSync(
        file,
        Object.entries(keys)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
        { mode: 0o600 },
      );
    const configFile = path.join(options.dir, 'broker.properties');
    writeConfig(configFile, config);
    const ports: { kafka: number; controller: number }[] = [];
    for (let i = 0; i < options.nodes; i++) ports.push({ kafka: await freePort(), controller: await freePort() });
    const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controller}`).join(',');
    const nodes = ports.map((p, i) => {
      const id = i + 1;
      const dataDir = path.join(options.dir, `n${id}`);
      fs.mkdirSync(dataDir);
      let configArgs = ['--config', configFile];
      let listenArgs = ['--listen', `127.0.0.1:${p.kafka}`];
      if (options.listenerConfig) {
        const nodeConfigFile = path.join(options.dir, `n${id}.properties`);
        writeConfig(nodeConfigFile, { ...config, ...options.listenerConfig(p) });
        configArgs = ['--config', nodeConfigFile];
        listenArgs = [];
      }
      const args = [
        BROOK,
        'server',
        '--node-id',
        String(id),
        ...listenArgs,
        '--controller-listen',
        `127.0.0.1:${p.controller}`,
        '--voters',
        voters,
        '--http',
        'off',
        '--data-dir',
        dataDir,
        ...configArgs,
        '--log-level',
        options.logLevel ?? 'info',
      ];
      return new BrokerNode(id, p.kafka, p.controller, dataDir, args, options);
    });
    const cluster = new BrokerCluster(nodes, voters, Buffer.from(config['brook.controller.cluster.secret']));
    for (const node of nodes) node.start();
    if (options.readyInOrder) for (const node of nodes) await node.waitReady();
    else await Promise.all(nodes.map((node) => node.waitReady()));
    return cluster;
  }

  node(id: number): BrokerNode {
    return this.nodes[id - 1];
  }

  /** PIDs of the running broker processes (undefined for a node that is down). */
  get pids(): (number | undefined)[] {
    return this.nodes.map((node) => node.pid);
  }

  /** CPU seconds each broker process has used so far, by node. */
  cpuSeconds(): number[] {
    return this.nodes.map((node) => node.cpuSeconds());
  }

  /**
   * Waits until node 1's metadata lists every broker (all registered and unfenced), so that
   * topics can be placed on all of them.
   */
  async waitRegistered(deadlineMs: number, pollMs = 50): Promise<void> {
    let connection: KafkaConnection | null = null;
    try {
      await until(
        'every broker in the metadata',
        deadlineMs,
        async () => {
          try {
            connection ??= await this.nodes[0].connect();
            const answer = await connection.request(3, 9, {
              topics: [],
              allowAutoTopicCreation: false,
              includeTopicAuthorizedOperations: false,
            });
            return answer.brokers.length === this.nodes.length ? true : null;
          } catch {
            connection?.close();
            connection = null;
            return null;
          }
        },
        pollMs,
      );
    } finally {
      (connection as KafkaConnection | null)?.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  /** Each node's last log lines on stderr (after a failure). */
  printLogTails(): void {
    for (const node of this.nodes)
      process.stderr.write(
        `--- node ${node.id} (${node.dataDir}), last ${LOG_TAIL_LINES} log lines:\n${node.logTail()}\n`,
      );
  }
}
