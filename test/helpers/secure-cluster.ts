// A Brook cluster secured on every port, as real processes on 127.0.0.1: per node a CLIENT
// listener (SASL_SSL, SCRAM-SHA-512 and SCRAM-SHA-256), a BROKER listener for replication
// and forwarding (SASL_SSL, SCRAM-SHA-512 as the user "broker") and a CONTROLLER listener
// (SSL with required client certificates, no cluster secret: super.users names the nodes'
// certificates). Certificates come from the shared test CA (helpers/certs.ts), one per node
// (CN=node<i>,O=Brook) and one for an operator (CN=operator,O=Brook, a cluster principal);
// SCRAM users "admin", "alice" and "bob" (clients, not in super.users) and "broker" are bootstrap
// users with random passwords. Also the client settings to reach it: kafkajs, kcat -X
// arguments, the bundled KafkaConnection, and controller-port connections by certificate.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Kafka, KafkaConfig, logLevel, SASLOptions } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { connectController } from '../../src/raft/handshake';
import { KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { issueCertificate, IssuedCertificate } from '../../src/security/certs';
import { API_VERSIONS_V0, BrokerProcess, freePort, startBroker, tempDir } from './broker-process';
import { certFixture } from './certs';
import { partitionMetadata, PartitionState } from './cluster';
import { until } from './wait';

export type ScramMechanism = 'SCRAM-SHA-512' | 'SCRAM-SHA-256';
export type ScramUser = 'admin' | 'alice' | 'bob' | 'broker';

/** The principal of each node's certificate, and of the operator's. */
export const nodePrincipal = (id: number) => `CN=node${id},O=Brook`;
export const OPERATOR_PRINCIPAL = 'CN=operator,O=Brook';

export interface SecureClusterOptions {
  /** Node ids 1..size, every one a voter. */
  size: number;
  /** key=value settings of every node, over the secured listener settings. */
  config?: Record<string, string>;
  /** Default 40000. */
  readyTimeoutMs?: number;
  /** Serve each node's HTTP listener on a free port (BrokerProcess.httpPort); off by default. */
  http?: boolean;
}

/** Whether a TLS connection to `port` answers ApiVersions (SASL listeners answer it before authentication). */
function answersApiVersions(port: number, ca: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca });
    let received = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('secureConnect', () => socket.write(API_VERSIONS_V0));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

export class SecureCluster {
  readonly ids: number[];
  readonly clientPorts = new Map<number, number>();
  readonly brokerPorts = new Map<number, number>();
  readonly controllerPorts = new Map<number, number>();
  readonly dirs = new Map<number, string>();
  readonly nodes = new Map<number, BrokerProcess>();
  readonly voters: string;
  /** Random per cluster; never written anywhere but the nodes' config files. */
  readonly passwords: Record<ScramUser, string> = {
    admin: randomBytes(18).toString('base64url'),
    alice: randomBytes(18).toString('base64url'),
    bob: randomBytes(18).toString('base64url'),
    broker: randomBytes(18).toString('base64url'),
  };
  /** The test CA's certificate (PEM text) and its file. */
  readonly caPem: string;
  readonly caFile: string;
  /** A cluster principal's client certificate, for DescribeQuorum on the controller ports. */
  readonly operator: IssuedCertificate;
  private readonly keystores = new Map<number, string>();
  /** Output of every process a node id ran, oldest first. */
  private readonly pastLogs = new Map<number, string[]>();

  private constructor(
    readonly options: SecureClusterOptions,
    ports: { id: number; client: number; broker: number; controller: number }[],
  ) {
    const fixture = certFixture();
    this.caPem = fixture.ca.certPem;
    this.caFile = fixture.files.caCert;
    this.operator = issueCertificate(fixture.ca, { subject: OPERATOR_PRINCIPAL, kind: 'client' });
    const secrets = tempDir('brook-secure-cluster-');
    this.ids = ports.map((p) => p.id);
    for (const p of ports) {
      this.clientPorts.set(p.id, p.client);
      this.brokerPorts.set(p.id, p.broker);
      this.controllerPorts.set(p.id, p.controller);
      this.dirs.set(p.id, tempDir());
      const certificate = issueCertificate(fixture.ca, {
        subject: nodePrincipal(p.id),
        kind: 'both',
        hosts: ['127.0.0.1', 'localhost'],
      });
      const keystore = path.join(secrets, `node${p.id}-keystore.pem`);
      fs.writeFileSync(keystore, certificate.keyPem + certificate.certPem, { mode: 0o600 });
      this.keystores.set(p.id, keystore);
    }
    this.voters = this.ids.map((id) => `${id}@127.0.0.1:${this.controllerPorts.get(id)}`).join(',');
  }

  static async create(options: SecureClusterOptions): Promise<SecureCluster> {
    const ports = [];
    for (let id = 1; id <= options.size; id++)
      ports.push({ id, client: await freePort(), broker: await freePort(), controller: await freePort() });
    const cluster = new SecureCluster(options, ports);
    try {
      await Promise.all(cluster.ids.map((id) => cluster.start(id)));
    } catch (error) {
      await cluster.stopAll();
      throw error;
    }
    return cluster;
  }

  /** Node `id`'s settings: the three listeners, their TLS and SASL, the bootstrap users. */
  nodeConfig(id: number): Record<string, string> {
    const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${this.passwords.broker}";`;
    const users = (['admin', 'alice', 'bob', 'broker'] as const)
      .flatMap((user) =>
        (['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const).map(
          (mechanism) => `${mechanism}=[name=${user},password=${this.passwords[user]}]`,
        ),
      )
      .join(';');
    return {
      listeners: [
        `CLIENT://127.0.0.1:${this.clientPorts.get(id)}`,
        `BROKER://127.0.0.1:${this.brokerPorts.get(id)}`,
        `CONTROLLER://127.0.0.1:${this.controllerPorts.get(id)}`,
      ].join(','),
      'listener.security.protocol.map': 'CLIENT:SASL_SSL,BROKER:SASL_SSL,CONTROLLER:SSL',
      'inter.broker.listener.name': 'BROKER',
      'controller.listener.names': 'CONTROLLER',
      'listener.name.client.sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256',
      'listener.name.broker.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.broker.scram-sha-512.sasl.jaas.config': jaas,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': this.keystores.get(id)!,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': this.caFile,
      // The controller listener's own keys, as a controller listener is usually configured.
      'listener.name.controller.ssl.keystore.location': this.keystores.get(id)!,
      'listener.name.controller.ssl.truststore.location': this.caFile,
      'listener.name.controller.ssl.client.auth': 'required',
      // The nodes (by certificate), the operator, and the inter-broker SCRAM user; admin,
      // alice and bob are ordinary clients.
      'super.users': [
        ...this.ids.map((n) => `User:${nodePrincipal(n)}`),
        `User:${OPERATOR_PRINCIPAL}`,
        'User:broker',
      ].join(';'),
      'brook.security.bootstrap.scram.users': users,
      ...this.options.config,
    };
  }

  /** Starts node `id` (again) on its ports and data; resolves once its CLIENT listener answers over TLS. */
  async start(id: number): Promise<BrokerProcess> {
    const node = await startBroker({
      dataDir: this.dirs.get(id)!,
      port: this.clientPorts.get(id)!,
      controllerPort: this.controllerPorts.get(id)!,
      clusterSecret: false,
      awaitKafka: false,
      http: this.options.http ?? false,
      config: this.nodeConfig(id),
      extraArgs: ['--node-id', String(id), '--voters', this.voters],
    });
    this.nodes.set(id, node);
    await until(
      async () => {
        if (!node.alive()) throw new Error(`node ${id} exited before it was ready:\n${node.logs()}`);
        return answersApiVersions(this.clientPorts.get(id)!, this.caPem);
      },
      {
        what: () => `node ${id}'s CLIENT listener to answer over TLS:\n${node.logs().slice(-3000)}`,
        timeoutMs: this.options.readyTimeoutMs ?? 40000,
        intervalMs: 100,
      },
    );
    return node;
  }

  node(id: number): BrokerProcess {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`node ${id} was never started`);
    return node;
  }

  aliveIds(): number[] {
    return this.ids.filter((id) => this.nodes.get(id)?.alive());
  }

  bootstrap(ids: number[] = this.ids): string[] {
    return ids.map((id) => `127.0.0.1:${this.clientPorts.get(id)}`);
  }

  async kill9(id: number): Promise<void> {
    await this.nodes.get(id)?.kill9();
  }

  /** SIGSTOP: node `id` keeps its sockets open and answers nothing until resume(id). */
  pause(id: number): void {
    process.kill(this.node(id).pid, 'SIGSTOP');
  }

  resume(id: number): void {
    const node = this.nodes.get(id);
    if (node?.alive()) process.kill(node.pid, 'SIGCONT');
  }

  /** Stops every process this cluster started (paused ones are resumed first). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.nodes.keys()].map(async (id) => {
        this.resume(id);
        await this.nodes.get(id)!.stop();
      }),
    );
  }

  /** All output of node `id`'s processes (the running one last). */
  logs(id: number): string {
    return [...(this.pastLogs.get(id) ?? []), this.nodes.get(id)?.logs() ?? ''].join('\n----- restarted -----\n');
  }

  /** Keeps the output of node `id`'s process before it is started again. */
  retire(id: number): void {
    const node = this.nodes.get(id);
    if (node) this.pastLogs.set(id, [...(this.pastLogs.get(id) ?? []), node.logs()]);
  }

  /** The bundled client's settings for a SCRAM user on the CLIENT listener. */
  clientSecurity(user: ScramUser = 'admin', mechanism: ScramMechanism = 'SCRAM-SHA-512'): ClientSecurity {
    return {
      protocol: 'SASL_SSL',
      tls: { ca: this.caPem },
      sasl: { mechanism, username: user, password: this.passwords[user] },
    };
  }

  /** kafkajs over SASL_SSL as `user`. */
  kafka(clientId: string, user: ScramUser = 'admin', extra: Partial<KafkaConfig> = {}): Kafka {
    const sasl: SASLOptions = { mechanism: 'scram-sha-512', username: user, password: this.passwords[user] };
    return new Kafka({
      brokers: this.bootstrap(this.aliveIds()),
      clientId,
      logLevel: logLevel.NOTHING,
      ssl: { ca: [this.caPem] },
      sasl,
      ...extra,
    });
  }

  /** kcat's -X settings for SASL_SSL as `user` with `password`. */
  kcatSecurity(
    user: ScramUser = 'admin',
    password = this.passwords[user],
    mechanism: ScramMechanism = 'SCRAM-SHA-512',
  ) {
    return [
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      `sasl.mechanisms=${mechanism}`,
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${password}`,
      '-X',
      `ssl.ca.location=${this.caFile}`,
    ];
  }

  /** An authenticated connection to node `id`'s CLIENT listener (or its BROKER listener). */
  async connect(
    id: number,
    security = this.clientSecurity(),
    listener: 'CLIENT' | 'BROKER' = 'CLIENT',
  ): Promise<KafkaConnection> {
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: (listener === 'CLIENT' ? this.clientPorts : this.brokerPorts).get(id)!,
      clientId: 'secure-cluster-test',
      requestTimeoutMs: 5000,
      connectTimeoutMs: 3000,
      security,
    });
    try {
      await connection.connect();
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** The partition's state as the first running node that knows it tells (as admin). */
  metadata(topic: string, partition = 0): Promise<PartitionState | null> {
    return partitionMetadata(
      this.aliveIds().map((id) => this.clientPorts.get(id)!),
      topic,
      partition,
      this.clientSecurity(),
    );
  }

  /** The high watermark node `id` reports (ListOffsets latest as a consumer), or null. */
  async highWatermark(id: number, topic: string, partition = 0): Promise<number | null> {
    let connection: KafkaConnection | undefined;
    try {
      connection = await this.connect(id);
      const answer = await connection.request(ApiKey.ListOffsets, 2, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1 }] }],
      });
      const p = answer.topics[0]?.partitions[0];
      return p && p.errorCode === 0 ? Number(p.offset) : null;
    } catch {
      return null;
    } finally {
      connection?.close();
    }
  }

  /** A connection to node `id`'s controller port as the operator (mutual TLS, a cluster principal). */
  controllerConnection(id: number, timeoutMs = 3000): Promise<KafkaConnection> {
    return connectController(
      {
        host: '127.0.0.1',
        port: this.controllerPorts.get(id)!,
        clientId: 'secure-cluster-operator',
        requestTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
        security: {
          protocol: 'SSL',
          tls: { ca: this.caPem, cert: this.operator.certPem, key: this.operator.keyPem },
        },
      },
      { secret: null, nodeId: -1, certificate: true },
      { clusterId: null, nodeId: id },
    );
  }

  /** Node `id`'s view of the metadata quorum (leader and term), or null when it does not answer. */
  async quorum(id: number): Promise<{ leaderId: number; term: number } | null> {
    let connection: KafkaConnection | undefined;
    try {
      connection = await this.controllerConnection(id);
      const answer = await connection.request(ApiKey.RaftDescribeQuorum, 0, {});
      return { leaderId: answer.leaderId, term: Number(answer.term) };
    } catch {
      return null;
    } finally {
      connection?.close();
    }
  }

  /** The quorum leader and term every running node agrees on, once they do. */
  agreedQuorum(timeoutMs = 20000): Promise<{ leaderId: number; term: number }> {
    return until(
      async () => {
        const views = await Promise.all(this.aliveIds().map((id) => this.quorum(id)));
        const first = views[0];
        if (!first || first.leaderId < 0) return null;
        return views.every((v) => v && v.leaderId === first.leaderId && v.term === first.term) ? first : null;
      },
      { what: 'every running node to agree on a quorum leader', timeoutMs },
    );
  }
}
