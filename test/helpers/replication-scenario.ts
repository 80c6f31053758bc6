// The pieces of a replication scenario with real processes: a cluster of Brook nodes that
// talk to each other (and are reached by clients) through a FaultProxy, an idempotent
// kafkajs acks=all Writer that records every acknowledged (value, offset), a kcat Observer
// that remembers every (offset, value) a consumer was shown, the Metadata probe, and the
// final verification: every acknowledged record stored exactly once at its acknowledged
// offset, nothing a consumer saw changed, and byte-identical replica segment files.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, freePort, startBroker, tempDir } from './broker-process';
import { partitionMetadata, PartitionState } from './cluster';
import { delay } from './wait';
import { FaultProxy } from './fault-proxy';
import {
  LOGS_DIR,
  parsePartitionDirName,
  partitionDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  segmentLogNames,
} from '../../src/log/on-disk-names';
import { kcat } from './kcat';

/** Fast failure detection, as in replication.test.ts. */
export const REPLICATION_CONFIG: Record<string, string> = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
  'broker.session.timeout.ms': '3000',
  'replica.lag.time.max.ms': '2000',
};

const debug = (line: string) => {
  if (process.env.BROOK_DEBUG) process.stderr.write(`${line}\n`);
};

export { delay };

export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stuck for ${ms} ms`)), ms);
  });
  return Promise.race([work, stuck]).finally(() => clearTimeout(timer));
}

/** The high watermark the node at `port` reports (ListOffsets latest), or null. */
export async function highWatermark(port: number, topic: string, partition = 0): Promise<number | null> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    await connection.connect();
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
    connection.close();
  }
}

export interface WriterOptions {
  topic: string;
  /** A fresh idempotent producer (a new producer id), bootstrapped from the reachable nodes. */
  newProducer: () => Producer;
}

/** Writes one record at a time with acks=all; records what was acknowledged where and when. */
export class Writer {
  readonly acked = new Map<string, number>();
  /** Every acknowledgement in order: the offset and when it arrived. */
  readonly acks: { offset: number; atMs: number }[] = [];
  failures = 0;
  producersReplaced = 0;
  lastAckAt = Date.now();
  private producer: Producer;
  private stopped = false;
  private done: Promise<void> | null = null;
  private next = 0;

  constructor(private readonly options: WriterOptions) {
    this.producer = options.newProducer();
  }

  async connect(): Promise<void> {
    await withTimeout(this.producer.connect(), 10000);
  }

  /** When the first acknowledgement at or after `sinceMs` with an offset >= `offsetMin` arrived. */
  firstAckAfter(sinceMs: number, offsetMin = 0): number | null {
    return this.acks.find((a) => a.atMs >= sinceMs && a.offset >= offsetMin)?.atMs ?? null;
  }

  run(): void {
    this.done = (async () => {
      while (!this.stopped) {
        const value = `m${this.next}`;
        try {
          // A send stuck on an unresponsive broker's open socket is given up on (and the
          // producer replaced): whatever it did is then unacknowledged.
          const [meta] = await withTimeout(
            this.producer.send({ topic: this.options.topic, acks: -1, timeout: 5000, messages: [{ value }] }),
            8000,
          );
          const offset = Number(meta.baseOffset);
          this.acked.set(value, offset);
          this.lastAckAt = Date.now();
          this.acks.push({ offset, atMs: this.lastAckAt });
          this.next++;
        } catch (error) {
          const message = (error as Error).message;
          debug(`send of ${value} failed: ${message}`);
          this.failures++;
          if (/stuck|connect|ECONN|socket|closed/i.test(message)) {
            // The connection is in doubt: replace the producer (a new producer id). Whatever
            // the failed send did stays unacknowledged, and the next value is a new one, since
            // resending it under a new producer id could store it twice.
            this.next++;
            this.producersReplaced++;
            void this.producer.disconnect().catch(() => undefined);
            this.producer = this.options.newProducer();
            await withTimeout(this.producer.connect(), 5000).catch(() => undefined);
          }
          // Otherwise the same value is sent again by the same producer: kafkajs keeps its
          // sequence number after a failed send, so the broker answers a resend of a stored
          // batch with the offset it already has, and a different value under that sequence
          // would be taken for the stored one.
          await delay(100);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    await withTimeout(this.producer.disconnect(), 5000).catch(() => undefined);
  }
}

export interface ObserverOptions {
  topic: string;
  /** How many records are known to be committed (the acknowledged count). */
  committed: () => number;
  /** Kafka ports a consumer may bootstrap from now. */
  ports: () => number[];
  random?: () => number;
}

/** Polls with kcat, remembering every (offset, value) a consumer was shown. */
export class Observer {
  readonly seen = new Map<number, string>();
  reads = 0;
  private stopped = false;
  private done: Promise<void> | null = null;

  constructor(private readonly options: ObserverOptions) {}

  run(): void {
    const random = this.options.random ?? Math.random;
    this.done = (async () => {
      while (!this.stopped) {
        // As many records as have been acknowledged (all below the high watermark): kcat's -e
        // never sees the end of a partition that is written without pause.
        const count = this.options.committed();
        const ports = this.options.ports();
        if (count === 0 || ports.length === 0) {
          await delay(100);
          continue;
        }
        const port = ports[Math.floor(random() * ports.length)];
        // Unbuffered (-u): a read killed at its time limit still yields what it was shown.
        const read = await kcat(
          port,
          [
            '-C',
            '-t',
            this.options.topic,
            '-p',
            '0',
            '-o',
            'beginning',
            '-c',
            String(count),
            '-q',
            '-u',
            '-f',
            '%o:%s\n',
            '-m',
            '5',
          ],
          undefined,
          8000,
        ).catch(() => null);
        debug(
          `observer: port ${port} code ${read?.code} lines ${read?.stdout.split('\n').length} ${read?.stderr.slice(0, 200)}`,
        );
        this.reads++;
        for (const line of read?.stdout.split('\n') ?? []) {
          const match = /^(\d+):(m\d+)$/.exec(line);
          if (match) this.seen.set(Number(match[1]), match[2]);
        }
        await delay(300);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

export interface Verification {
  acknowledged: number;
  stored: number;
  observed: number;
  lost: number;
  moved: number;
  duplicates: number;
  changed: number;
  /** One line per acknowledged record not found where it was acknowledged. */
  problems: string[];
}

/** Reads the whole partition from `port` (kcat -e; retried a few times) as offset -> value. */
export async function readAll(port: number, topic: string): Promise<Map<number, string> | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const all = await kcat(
      port,
      ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o:%s\n', '-m', '5'],
      undefined,
      20000,
    );
    if (all.code === 0) {
      const stored = new Map<number, string>();
      for (const line of all.stdout.split('\n')) {
        const match = /^(\d+):(m\d+)$/.exec(line);
        if (match) stored.set(Number(match[1]), match[2]);
      }
      return stored;
    }
    debug(`readAll from ${port}: kcat exit ${all.code}: ${all.stderr.slice(0, 300)}`);
    await delay(1000);
  }
  return null;
}

/** Every acknowledged record exactly once at its offset; nothing a consumer saw changed. */
export async function verify(port: number, topic: string, writer: Writer, observer: Observer): Promise<Verification> {
  const stored = (await readAll(port, topic)) ?? new Map<number, string>();
  const count = new Map<string, number>();
  for (const value of stored.values()) count.set(value, (count.get(value) ?? 0) + 1);
  const problems: string[] = [];
  let lost = 0;
  let moved = 0;
  for (const [value, offset] of writer.acked) {
    if (!count.has(value)) lost++;
    else if (stored.get(offset) !== value) moved++;
    if (!count.has(value) || stored.get(offset) !== value)
      problems.push(`acknowledged ${value} at ${offset}: stored there ${stored.get(offset) ?? 'nothing'}`);
  }
  let changed = 0;
  for (const [offset, value] of observer.seen) {
    if (stored.get(offset) !== value) {
      changed++;
      problems.push(`observed ${value} at ${offset}: stored there ${stored.get(offset) ?? 'nothing'}`);
    }
  }
  return {
    acknowledged: writer.acked.size,
    stored: stored.size,
    observed: observer.seen.size,
    lost,
    moved,
    duplicates: [...count.values()].filter((n) => n > 1).length,
    changed,
    problems,
  };
}

export function describe(v: Verification): string {
  return `acknowledged ${v.acknowledged}, stored ${v.stored}, consumer observations ${v.observed}: lost ${v.lost}, moved ${v.moved}, duplicates ${v.duplicates}, seen-then-changed ${v.changed}`;
}

/** A replica's segment files of partition 0, concatenated in offset order. */
export function segmentBytes(dataDir: string, topic: string): Buffer {
  const dir = path.join(dataDir, 'logs', `${topic}-0`);
  if (!fs.existsSync(dir)) return Buffer.alloc(0);
  return Buffer.concat(
    fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()
      .map((n) => fs.readFileSync(path.join(dir, n))),
  );
}

export function replicasIdentical(dataDirs: string[], topic: string): boolean {
  const [first, ...rest] = dataDirs.map((dir) => segmentBytes(dir, topic));
  return first.length > 0 && rest.every((bytes) => first.equals(bytes));
}

/**
 * Brook nodes behind a FaultProxy: each node listens on its own ports, advertises its Kafka
 * proxy port, and names the controller proxy ports as the voters, so every node-to-node
 * byte and every client byte passes the proxy.
 */
export class ProxiedCluster {
  readonly proxy = new FaultProxy();
  readonly nodes = new Map<number, BrokerProcess>();
  readonly dataDirs = new Map<number, string>();
  readonly kafkaPorts = new Map<number, number>();
  readonly controllerPorts = new Map<number, number>();
  /** What clients and other nodes use. */
  readonly kafkaProxyPorts = new Map<number, number>();
  readonly controllerProxyPorts = new Map<number, number>();
  /** Nodes stopped with SIGSTOP: they accept connections and never answer. */
  readonly paused = new Set<number>();
  /** Output of every process a node id ran, oldest first, kept after it stopped. */
  private readonly pastLogs = new Map<number, string[]>();
  voters = '';
  private producersMade = 0;

  private constructor(
    readonly ids: number[],
    private readonly config: Record<string, string>,
  ) {}

  /** Nodes run with the clock-jump hook (see jumpClock). */
  private clockJumps = false;

  /** Steps node `id`'s wall clock forward (BROOK_CLOCK_JUMP_MS, 60 s); needs clockJumps at start. */
  jumpClock(id: number): void {
    const node = this.nodes.get(id);
    if (node && this.clockJumps) process.kill(node.pid, 'SIGUSR2');
  }

  /** Each node's own tmpfs (when mounting was allowed): its mount point. */
  readonly mounts = new Map<number, string>();

  static async start(
    ids: number[] = [1, 2, 3],
    config: Record<string, string> = REPLICATION_CONFIG,
    options: { tmpfsMiB?: number; clockJumps?: boolean } = {},
  ): Promise<ProxiedCluster> {
    const cluster = new ProxiedCluster(ids, config);
    cluster.clockJumps = options.clockJumps ?? false;
    try {
      for (const id of ids) {
        cluster.kafkaPorts.set(id, await freePort());
        cluster.controllerPorts.set(id, await freePort());
        cluster.dataDirs.set(id, options.tmpfsMiB ? cluster.mountedDataDir(id, options.tmpfsMiB) : tempDir());
        cluster.kafkaProxyPorts.set(id, await cluster.proxy.listen(id, 'kafka', cluster.kafkaPorts.get(id)!));
        cluster.controllerProxyPorts.set(
          id,
          await cluster.proxy.listen(id, 'controller', cluster.controllerPorts.get(id)!),
        );
      }
      cluster.voters = ids.map((id) => `${id}@127.0.0.1:${cluster.controllerProxyPorts.get(id)}`).join(',');
      await Promise.all(ids.map((id) => cluster.startNode(id)));
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  async startNode(id: number): Promise<BrokerProcess> {
    const node = await startBroker({
      dataDir: this.dataDirs.get(id)!,
      port: this.kafkaPorts.get(id)!,
      controllerPort: this.controllerPorts.get(id)!,
      readyTimeoutMs: 40000,
      config: this.config,
      env: this.clockJumps ? { NODE_OPTIONS: `--require ${path.join(__dirname, 'clock-jump-hook.js')}` } : undefined,
      extraArgs: [
        '--node-id',
        String(id),
        '--voters',
        this.voters,
        '--advertise',
        `127.0.0.1:${this.kafkaProxyPorts.get(id)}`,
        ...(process.env.BROOK_DEBUG ? ['--log-level', 'debug'] : []),
      ],
    });
    this.nodes.set(id, node);
    return node;
  }

  /**
   * A data directory on a tmpfs of its own, so that its disk can be filled; a plain
   * temporary directory where mounting is not allowed (see canFillDisk).
   */
  private mountedDataDir(id: number, mib: number): string {
    const mountPoint = tempDir('brook-node-disk-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', mountPoint], { stdio: 'ignore' });
    } catch {
      return mountPoint;
    }
    this.mounts.set(id, mountPoint);
    const dataDir = path.join(mountPoint, 'data');
    fs.mkdirSync(dataDir);
    return dataDir;
  }

  canFillDisk(id: number): boolean {
    return this.mounts.has(id);
  }

  /** Fills node `id`'s tmpfs with a filler file until the file system says ENOSPC. */
  fillDisk(id: number): void {
    const mountPoint = this.mounts.get(id);
    if (!mountPoint) return;
    const fd = fs.openSync(path.join(mountPoint, 'filler'), 'a');
    const chunk = Buffer.alloc(1 << 20);
    try {
      for (let i = 0; i < 1 << 16; i++) fs.writeSync(fd, chunk);
    } catch {
      // ENOSPC: full, as intended; the last partial chunk is as much as fits.
      for (let size = chunk.length >> 1; size >= 512; size >>= 1) {
        try {
          fs.writeSync(fd, chunk.subarray(0, size));
        } catch {
          // smaller next time
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Frees what fillDisk took. */
  freeDisk(id: number): void {
    const mountPoint = this.mounts.get(id);
    if (mountPoint) fs.rmSync(path.join(mountPoint, 'filler'), { force: true });
  }

  /**
   * A power cut of node `id`, after it was killed with kill -9: what the page cache held
   * and no fsync made durable is lost. The model, per partition: everything below the
   * offset in the recovery-point checkpoint was flushed and stays; past it, the log is cut
   * at a random byte (a torn batch included) and later segment files vanish (their
   * directory entries may never have been synced). The metadata log is fsynced before
   * every acknowledgement, so it keeps all of it. Returns the bytes cut.
   */
  cutPower(id: number, random: () => number): number {
    const logsDir = path.join(this.dataDirs.get(id)!, LOGS_DIR);
    const checkpoint = path.join(logsDir, RECOVERY_POINT_CHECKPOINT_FILE);
    const durable = new Map<string, number>();
    if (fs.existsSync(checkpoint)) {
      for (const line of fs.readFileSync(checkpoint, 'utf8').split('\n').slice(2)) {
        const [topic, partition, offset] = line.split(' ');
        if (offset !== undefined) durable.set(partitionDirName(topic, Number(partition)), Number(offset));
      }
    }
    let cut = 0;
    for (const dir of fs.existsSync(logsDir) ? fs.readdirSync(logsDir) : []) {
      const full = path.join(logsDir, dir);
      if (!fs.statSync(full).isDirectory() || !parsePartitionDirName(dir)) continue;
      const recoveryPoint = durable.get(dir) ?? 0;
      const segments = segmentLogNames(fs.readdirSync(full)).sort();
      let cutting = false;
      for (const name of segments) {
        const file = path.join(full, name);
        if (cutting) {
          cut += fs.statSync(file).size;
          fs.rmSync(file);
          continue;
        }
        const bytes = fs.readFileSync(file);
        // The first batch that is not wholly below the recovery point starts the volatile tail.
        let at = 0;
        while (at + 12 <= bytes.length) {
          const base = Number(bytes.readBigInt64BE(at));
          const length = bytes.readInt32BE(at + 8);
          const lastDelta = at + 27 <= bytes.length ? bytes.readInt32BE(at + 23) : 0;
          if (base + lastDelta >= recoveryPoint) break;
          at += 12 + length;
        }
        if (at >= bytes.length) continue;
        const keep = at + Math.floor(random() * (bytes.length - at + 1));
        cut += bytes.length - keep;
        fs.truncateSync(file, keep);
        cutting = true;
      }
    }
    return cut;
  }

  async kill9(id: number): Promise<void> {
    const node = this.nodes.get(id);
    if (!node) return;
    this.resume(id);
    await node.kill9();
    this.retire(id);
  }

  /** Stops a node with `signal` (SIGTERM: a clean shutdown), waiting for it to exit. */
  async stopNode(id: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const node = this.nodes.get(id);
    if (!node) return null;
    this.resume(id);
    const code = await node.stop(signal);
    this.retire(id);
    return code;
  }

  pause(id: number): void {
    const node = this.nodes.get(id);
    if (!node) return;
    process.kill(node.pid, 'SIGSTOP');
    this.paused.add(id);
  }

  resume(id: number): void {
    const node = this.nodes.get(id);
    if (!node || !this.paused.has(id)) return;
    try {
      process.kill(node.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    this.paused.delete(id);
  }

  /** Kafka proxy ports of the running, unpaused nodes (what a client can usefully dial). */
  clientPorts(except: number[] = []): number[] {
    return this.ids
      .filter((id) => this.nodes.has(id) && !this.paused.has(id) && !except.includes(id))
      .map((id) => this.kafkaProxyPorts.get(id)!);
  }

  /**
   * An idempotent producer bootstrapped from the given nodes (default: the reachable ones).
   * kafkajs always bootstraps from the first broker in its list, and a node cut off from
   * the others keeps naming itself the leader: a client whose first seed is the isolated
   * old leader never learns of the new one. Each new producer starts one seed further on,
   * as a client with several bootstrap servers that tries another after a failure would.
   */
  newProducer(ids?: number[]): Producer {
    const seeds = ids ? ids.map((id) => this.kafkaProxyPorts.get(id)!) : this.clientPorts();
    const shift = seeds.length === 0 ? 0 : this.producersMade++ % seeds.length;
    const ports = [...seeds.slice(shift), ...seeds.slice(0, shift)];
    const client = new Kafka({
      brokers: ports.map((port) => `127.0.0.1:${port}`),
      clientId: 'replication-test',
      logLevel: logLevel.NOTHING,
      requestTimeout: 3000,
      connectionTimeout: 1000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    return client.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  async createTopic(topic: string, minInsyncReplicas = 2): Promise<void> {
    const kafka = new Kafka({
      brokers: this.clientPorts().map((port) => `127.0.0.1:${port}`),
      clientId: 'replication-test',
      logLevel: logLevel.NOTHING,
      requestTimeout: 3000,
      connectionTimeout: 1000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), 10000);
      await withTimeout(
        admin.createTopics({
          topics: [
            {
              topic,
              numPartitions: 1,
              replicationFactor: this.ids.length,
              configEntries: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }],
            },
          ],
        }),
        20000,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Leader, epoch and ISR as the given nodes (default: all running) see them. */
  metadata(topic: string, ids?: number[]): Promise<PartitionState | null> {
    const ports = ids
      ? ids.filter((id) => this.nodes.has(id) && !this.paused.has(id)).map((id) => this.kafkaProxyPorts.get(id)!)
      : this.clientPorts();
    return partitionMetadata(ports, topic);
  }

  /** Node id behind a Kafka proxy port. */
  nodeAt(port: number): number {
    return this.ids.find((id) => this.kafkaProxyPorts.get(id) === port) ?? -1;
  }

  replicasIdentical(topic: string): boolean {
    return replicasIdentical(
      this.ids.map((id) => this.dataDirs.get(id)!),
      topic,
    );
  }

  /** All output of node `id`'s processes, oldest first (the running one last). */
  logs(id: number): string {
    const current = this.nodes.get(id)?.logs();
    return [...(this.pastLogs.get(id) ?? []), ...(current ? [current] : [])].join('\n----- restarted -----\n');
  }

  /** Stops every process this cluster started (by PID) and the proxy; safe to call twice. */
  async close(): Promise<void> {
    // Healed first, so that a clean shutdown can reach the controller.
    this.proxy.heal();
    await Promise.all(
      [...this.nodes.keys()].map(async (id) => {
        this.resume(id);
        await this.nodes
          .get(id)!
          .stop()
          .catch(() => null);
        this.retire(id);
      }),
    );
    await this.proxy.close();
    for (const mountPoint of this.mounts.values()) {
      try {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.mounts.clear();
  }

  private retire(id: number): void {
    const node = this.nodes.get(id);
    if (!node) return;
    this.pastLogs.set(id, [...(this.pastLogs.get(id) ?? []), node.logs()]);
    this.nodes.delete(id);
    this.paused.delete(id);
  }
}
