// NATS JetStream as a peer: one nats-server with JetStream (file storage), or three
// clustered ones, started on 127.0.0.1 with free ports and a store directory under the
// bench's temporary directory; a fresh stream per sample (replicas 1 or 3), publishers
// connected to the stream leader's server, and the stream deleted after the sample.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EndToEndOutcome, EndToEndRun, EndToEndWorkload } from './end-to-end';
import { NatsConnection, Reply } from './nats-client';
import { freePort, Managed, until } from '../lib/process';
import {
  ConsumeOutcome,
  ProduceOutcome,
  ProduceWorkload,
  READ_BACK_DEADLINE_MS,
  readBackCount,
  runProducers,
} from './workload';
import { performance } from 'node:perf_hooks';

const READY_DEADLINE_MS = 30_000;
const API_TIMEOUT_MS = 10_000;
const CREATE_DEADLINE_MS = 30_000;
/** Messages asked for per pull request, and how long a pull waits for them. */
const PULL_BATCH = 512;
const PULL_EXPIRES_MS = 100;
/** A pull that brings neither messages nor a status by its expiry plus this is sent again. */
const PULL_GRACE_MS = 500;

/**
 * Pulls from a JetStream consumer one pull at a time: `batch` messages, waiting at most
 * `expiresMs`; the next pull goes out once a pull is filled or ends with a status (408 it
 * expired, 404 nothing there, 409 ...). On a loaded machine a pull can go unanswered (seen
 * with R3 streams): a watchdog asks again, so the consumer never waits on a lost pull.
 * `onMessage` returns false to stop pulling; so does stop().
 */
function pullLoop(
  connection: NatsConnection,
  nextSubject: string,
  batch: number,
  expiresMs: number,
  onMessage: (reply: Reply) => boolean,
): { start: () => void; stop: () => void } {
  let inPull = 0;
  let stopped = false;
  let watchdog: NodeJS.Timeout | null = null;
  const stop = () => {
    stopped = true;
    if (watchdog) clearTimeout(watchdog);
  };
  const pull = () => {
    inPull = 0;
    if (watchdog) clearTimeout(watchdog);
    if (stopped) return;
    connection.publish(nextSubject, deliverTo, JSON.stringify({ batch, expires: expiresMs * 1_000_000 }));
    watchdog = setTimeout(pull, expiresMs + PULL_GRACE_MS);
  };
  const deliverTo = connection.subscribe((reply: Reply) => {
    if (stopped) return;
    if (watchdog) watchdog.refresh();
    if (reply.status !== null && reply.status !== '') return pull();
    if (!onMessage(reply)) return stop();
    if (++inPull === batch) pull();
  });
  return { start: pull, stop };
}

interface NatsNode {
  name: string;
  port: number;
  managed: Managed;
}

export class JetStream {
  private admin: NatsConnection | null = null;
  private streams = 0;

  private constructor(
    readonly nodes: NatsNode[],
    readonly replicas: number,
  ) {}

  static async start(base: string, servers: 1 | 3): Promise<JetStream> {
    const dir = path.join(base, `jetstream-${servers}`);
    fs.mkdirSync(dir);
    const ports = await Promise.all(
      Array.from({ length: servers }, async () => ({ client: await freePort(), cluster: await freePort() })),
    );
    const nodes: NatsNode[] = [];
    for (let i = 0; i < servers; i++) {
      const name = `n${i + 1}`;
      const storeDir = path.join(dir, name);
      fs.mkdirSync(storeDir);
      // One config file per server: a single server needs no cluster block; clustered
      // JetStream needs a server name, a cluster name and routes to the other servers.
      const lines = [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${ports[i].client}`,
        `jetstream { store_dir: "${storeDir}" }`,
      ];
      if (servers > 1) {
        const routes = ports
          .filter((_, j) => j !== i)
          .map((p) => `"nats://127.0.0.1:${p.cluster}"`)
          .join(', ');
        lines.push(`cluster { name: brook_bench, listen: 127.0.0.1:${ports[i].cluster}, routes: [${routes}] }`);
      }
      const configFile = path.join(dir, `${name}.conf`);
      fs.writeFileSync(configFile, `${lines.join('\n')}\n`);
      nodes.push({
        name,
        port: ports[i].client,
        managed: Managed.start(`nats-server ${name}`, 'nats-server', ['-c', configFile], dir),
      });
    }
    const jetStream = new JetStream(nodes, servers);
    // Ready when every server answers $JS.API.INFO (in a cluster: once the JetStream meta
    // group has a leader).
    for (const node of nodes) {
      await until(
        `nats-server ${node.name} to serve JetStream`,
        READY_DEADLINE_MS,
        async () => {
          if (!node.managed.isAlive) throw new Error(`nats-server ${node.name} exited`);
          let connection: NatsConnection | null = null;
          try {
            connection = await NatsConnection.connect('127.0.0.1', node.port);
            await connection.jetStreamApi('$JS.API.INFO', undefined, 2000);
            return true;
          } catch {
            return null;
          } finally {
            connection?.close();
          }
        },
        200,
      );
    }
    return jetStream;
  }

  get pids(): (number | undefined)[] {
    return this.nodes.map((n) => n.managed.pid);
  }

  private async api(): Promise<NatsConnection> {
    if (this.admin && !this.admin.failed) return this.admin;
    this.admin = await NatsConnection.connect('127.0.0.1', this.nodes[0].port);
    return this.admin;
  }

  /** Creates a stream on one subject; the client port of the server that leads it. */
  async createStream(name: string, subject: string): Promise<number> {
    const config = {
      name,
      subjects: [subject],
      retention: 'limits',
      storage: 'file',
      num_replicas: this.replicas,
      discard: 'old',
      max_consumers: -1,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msg_size: -1,
    };
    // Right after start a cluster may not yet know all its peers: retry within a bound.
    const answer = await until(
      `stream ${name} created`,
      CREATE_DEADLINE_MS,
      async () => {
        try {
          return await (await this.api()).jetStreamApi(`$JS.API.STREAM.CREATE.${name}`, config, API_TIMEOUT_MS);
        } catch (error) {
          if (this.replicas === 1) throw error;
          return null;
        }
      },
      250,
    );
    const leader: string | undefined = answer.cluster?.leader;
    return this.nodes.find((n) => n.name === leader)?.port ?? this.nodes[0].port;
  }

  /** An ephemeral pull consumer (ack policy none, delivering all) on the stream; its MSG.NEXT subject. */
  private async createConsumer(connection: NatsConnection, stream: string): Promise<string> {
    const created = await connection.jetStreamApi(
      `$JS.API.CONSUMER.CREATE.${stream}`,
      { stream_name: stream, config: { ack_policy: 'none', deliver_policy: 'all', replay_policy: 'instant' } },
      API_TIMEOUT_MS,
    );
    return `$JS.API.CONSUMER.MSG.NEXT.${stream}.${created.name}`;
  }

  async deleteStream(name: string): Promise<void> {
    await (await this.api()).jetStreamApi(`$JS.API.STREAM.DELETE.${name}`, undefined, API_TIMEOUT_MS);
  }

  /**
   * One sample: a fresh stream, `producers` connections to its leader; with `readBack`, a
   * pull consumer then reads the stream from its start; then the stream is deleted.
   */
  async produce(
    workload: ProduceWorkload,
    window: number,
    readBack = false,
  ): Promise<ProduceOutcome & { leader: string; consumed?: ConsumeOutcome }> {
    const name = `bench${++this.streams}`;
    const subject = `bench.${name}`;
    const port = await this.createStream(name, subject);
    const connections = await Promise.all(
      Array.from({ length: workload.producers }, () => NatsConnection.connect('127.0.0.1', port)),
    );
    const payload = Buffer.alloc(workload.recordBytes, 0x61);
    try {
      const outcome = await runProducers(workload, (index, deadlineMs, histogram, errors) =>
        connections[index].publishWindow(subject, payload, window, deadlineMs, histogram, errors),
      );
      const consumed = readBack ? await this.readBack(port, name, outcome.records, workload.recordBytes) : undefined;
      return { ...outcome, leader: this.nodes.find((n) => n.port === port)!.name, consumed };
    } finally {
      for (const connection of connections) connection.close();
      await this.deleteStream(name);
    }
  }

  /**
   * One end-to-end sample: a fresh stream, one publisher paced by the schedule (every
   * PubAck names the stream sequence), and one pull consumer (ack policy none, delivering
   * all) asking for PULL_BATCH messages at a time; each delivery's reply subject
   * $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
   * names its stream sequence.
   */
  async endToEnd(workload: EndToEndWorkload): Promise<EndToEndOutcome> {
    const name = `bench${++this.streams}`;
    const subject = `bench.${name}`;
    const port = await this.createStream(name, subject);
    const producer = await NatsConnection.connect('127.0.0.1', port);
    const consumer = await NatsConnection.connect('127.0.0.1', port);
    const payload = Buffer.alloc(workload.recordBytes, 0x61);
    const run = new EndToEndRun();
    const dueByNumber = new Map<number, number>();
    let nextNumber = 0;
    try {
      const pulls = pullLoop(
        consumer,
        await this.createConsumer(consumer, name),
        PULL_BATCH,
        PULL_EXPIRES_MS,
        (reply) => {
          const tokens = reply.replyTo?.split('.') ?? [];
          run.join.consume(Number(tokens[5]));
          return true;
        },
      );
      producer.onNumberedReply((n, reply) => {
        const due = dueByNumber.get(n)!;
        dueByNumber.delete(n);
        if (reply.status !== null && reply.status !== '') return run.fail(`status ${reply.status}`, 1);
        const ack = JSON.parse(reply.payload.toString());
        if (ack.error) run.fail(`${ack.error.code ?? ''} ${ack.error.description ?? ''}`.trim(), 1);
        else run.acknowledge(Number(ack.seq), [due]);
      });
      return await run.run(workload, {
        send: (dueMs) => {
          const numbers = dueMs.map((due) => {
            dueByNumber.set(++nextNumber, due);
            return nextNumber;
          });
          producer.publishNumbered(subject, payload, numbers);
        },
        startConsumer: pulls.start,
        stop: async () => pulls.stop(),
      });
    } finally {
      producer.close();
      consumer.close();
      await this.deleteStream(name);
    }
  }

  /**
   * A pull consumer (ack policy none, delivering all) on the stream leader's server, one
   * pull of up to READ_BACK_REQUEST_BYTES worth of messages at a time (as a Kafka consumer
   * has one fetch at a time per broker), until every message is in hand.
   */
  private async readBack(port: number, name: string, expected: number, recordBytes: number): Promise<ConsumeOutcome> {
    if (expected === 0) return { records: 0, expected, seconds: 0 };
    const consumer = await NatsConnection.connect('127.0.0.1', port);
    const batch = readBackCount(recordBytes);
    const expiresMs = 1000;
    try {
      const nextSubject = await this.createConsumer(consumer, name);
      const startedMs = performance.now();
      let records = 0;
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(deadline);
          pulls.stop();
          resolve();
        };
        const deadline = setTimeout(finish, READ_BACK_DEADLINE_MS);
        const pulls = pullLoop(consumer, nextSubject, batch, expiresMs, () => {
          if (++records < expected) return true;
          finish();
          return false;
        });
        pulls.start();
      });
      return { records, expected, seconds: (performance.now() - startedMs) / 1000 };
    } finally {
      consumer.close();
    }
  }

  async stop(): Promise<void> {
    this.admin?.close();
    await Promise.all(this.nodes.map((n) => n.managed.stop()));
  }
}
