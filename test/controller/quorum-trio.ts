// Three metadata quorums in one process over real TCP on 127.0.0.1, each with its own
// data directory, no brokers behind them: a node can be stopped and started again on the
// same port and data, to lag behind the other two.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { realFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { MetadataQuorum, QuorumOptions } from '../../src/controller/quorum';
import { freePorts } from '../helpers/ports';
import { tempDir } from '../helpers/broker-process';
import { until } from '../helpers/wait';

export class QuorumTrio {
  readonly quorums = new Map<number, MetadataQuorum>();
  private readonly dirs = new Map<number, string>();
  private readonly secret = randomBytes(24);

  private constructor(
    private readonly ports: number[],
    private readonly extra: Partial<QuorumOptions>,
  ) {
    for (const id of [1, 2, 3]) this.dirs.set(id, tempDir('brook-quorum-'));
  }

  static async start(extra: Partial<QuorumOptions> = {}): Promise<QuorumTrio> {
    const trio = new QuorumTrio(await freePorts(3), extra);
    await Promise.all([1, 2, 3].map((id) => trio.startNode(id)));
    return trio;
  }

  async startNode(id: number): Promise<MetadataQuorum> {
    const quorum = new MetadataQuorum({
      nodeId: id,
      clusterId: 'quorum-trio',
      voters: [1, 2, 3].map((v) => ({ id: v, host: '127.0.0.1', port: this.ports[v - 1] })),
      controllerListen: { host: '127.0.0.1', port: this.ports[id - 1] },
      dataDir: this.dirs.get(id)!,
      fs: realFileSystem,
      tickMs: 20,
      electionTimeoutTicks: 15,
      controller: { brokerSessionTimeoutMs: 600_000, defaultPartitions: 1, defaultReplicationFactor: 1 },
      // No snapshots: a lagging node must be sent the entries themselves.
      snapshotEveryEntries: 0,
      clusterSecret: this.secret,
      logger: silentLogger,
      onRecord: () => undefined,
      onRestore: () => undefined,
      ...this.extra,
    });
    this.quorums.set(id, quorum);
    await quorum.start();
    return quorum;
  }

  async stopNode(id: number): Promise<void> {
    await this.quorums.get(id)?.stop();
    this.quorums.delete(id);
  }

  node(id: number): MetadataQuorum {
    return this.quorums.get(id)!;
  }

  leader(): Promise<MetadataQuorum> {
    return until(() => [...this.quorums.values()].find((q) => q.isLeader), {
      what: 'a quorum leader',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  }

  /** Registers brokers 1..3 (so that manual assignments may name them). */
  async registerBrokers(): Promise<void> {
    const leader = await this.leader();
    for (const brokerId of [1, 2, 3]) {
      const answer = await leader.register({
        brokerId,
        incarnationId: Buffer.alloc(16, brokerId).toString('base64url'),
        host: '127.0.0.1',
        port: 9092,
        rack: null,
        controllerHost: '',
        controllerPort: 0,
      });
      if (answer.errorCode !== 0) throw new Error(`broker ${brokerId} not registered: ${answer.errorCode}`);
    }
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.quorums.keys()]) await this.stopNode(id);
    for (const dir of this.dirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A CreateTopics request of `partitions` partitions placed on brokers 1, 2 and 3. */
export function bigTopic(name: string, partitions: number) {
  return {
    name,
    partitions: -1,
    replicationFactor: -1,
    configs: {},
    assignments: Array.from({ length: partitions }, () => [1, 2, 3]),
  };
}
