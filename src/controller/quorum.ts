// One node's part in the metadata quorum: its durable Raft storage, the Raft driver, the
// controller listener, the metadata image built from committed records, and (while this
// node leads) the active controller's decisions. A single `npm start` runs this same code
// as a one-voter quorum. Entries carry a batch of metadata records:
// [count uvarint] then per record [length uvarint][encoded record].

import * as path from 'node:path';
import { ErrorCode } from '../../protocol/errors';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecord } from '../../protocol/metadata/records';
import { Reader, Writer } from '../../protocol/primitives';
import { Voter } from '../config/config';
import { realFileSystem } from '../log/file-system';
import { Logger } from '../logger';
import { Entry } from '../raft/core';
import { RaftDriver, NotLeaderError } from '../raft/driver';
import { RaftDispatcher, TcpRaftTransport } from '../raft/tcp-transport';
import { KafkaListener } from '../server/kafka-listener';
import { Controller, ControllerSettings, TopicRequest, TopicResult, seededRandom } from './controller';
import { MetadataImage } from './metadata-image';
import { QuorumStorage } from './quorum-storage';
import { newTopicId } from '../broker/topic-registry';

/** Longest a metadata write waits for its commit before the caller gets NOT_CONTROLLER. */
const PROPOSAL_TIMEOUT_MS = 10_000;

export interface QuorumOptions {
  nodeId: number;
  clusterId: string;
  voters: Voter[];
  controllerListen: { host: string; port: number };
  dataDir: string;
  tickMs: number;
  electionTimeoutTicks: number;
  controller: ControllerSettings;
  logger: Logger;
  /** Called for each committed record, before it changes the image. */
  onRecord: (record: MetadataRecord, image: MetadataImage) => void;
}

export function encodeRecordBatch(records: MetadataRecord[]): Buffer {
  const writer = new Writer(256);
  writer.uvarint(records.length);
  for (const record of records) {
    const bytes = encodeMetadataRecord(record);
    writer.uvarint(bytes.length).raw(bytes);
  }
  return writer.toBuffer();
}

export function decodeRecordBatch(data: Buffer): MetadataRecord[] {
  if (data.length === 0) return [];
  const reader = new Reader(data);
  const count = reader.uvarint();
  if (count > data.length) throw new Error(`metadata entry claims ${count} records in ${data.length} bytes`);
  const out: MetadataRecord[] = [];
  for (let i = 0; i < count; i++) out.push(decodeMetadataRecord(reader.raw(reader.uvarint())));
  return out;
}

export class MetadataQuorum {
  readonly image = new MetadataImage();
  private driver: RaftDriver | null = null;
  private transport: TcpRaftTransport | null = null;
  private listener: KafkaListener | null = null;
  private controller: Controller;
  /** Raft index of the last entry applied to the image. */
  appliedIndex = 0;
  private startupLastIndex = 0;
  private caughtUpWaiters: (() => void)[] = [];
  /** Serialises controller decisions so two never decide from the same image. */
  private decisions: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: QuorumOptions) {
    this.controller = new Controller(this.image, options.controller, seededRandom(options.nodeId * 7919 + Date.now()), newTopicId);
  }

  get isLeader(): boolean {
    return this.driver?.node.role === 'leader';
  }

  get leaderId(): number {
    return this.driver?.node.leaderId ?? -1;
  }

  get term(): number {
    return this.driver?.node.term ?? 0;
  }

  async start(): Promise<number> {
    const { options } = this;
    const storage = QuorumStorage.open(realFileSystem, path.join(options.dataDir, '__cluster_metadata'));
    if (storage.truncatedBytesAtOpen > 0) options.logger.warn('metadata log: cut a torn or corrupt tail', { bytes: storage.truncatedBytesAtOpen });
    this.startupLastIndex = storage.lastIndex;
    const voterIds = options.voters.map((v) => v.id);
    const peers = options.voters.filter((v) => v.id !== options.nodeId).map((v) => ({ id: v.id, host: v.host, port: v.port }));
    this.transport = new TcpRaftTransport(options.nodeId, options.clusterId, peers, options.logger);
    this.driver = new RaftDriver({
      id: options.nodeId,
      voters: voterIds,
      tickMs: options.tickMs,
      electionTimeoutTicks: options.electionTimeoutTicks,
      heartbeatTicks: Math.max(1, Math.floor(options.electionTimeoutTicks / 5)),
      random: seededRandom(options.nodeId * 104729 + Date.now()),
      storage,
      transport: this.transport,
      apply: (entry) => this.apply(entry),
      logger: options.logger,
    });
    this.transport.attach(this.driver);
    const driver = this.driver;
    this.listener = new KafkaListener(
      { host: options.controllerListen.host, port: options.controllerListen.port, maxConnections: 100, socketRequestMaxBytes: 16 * 1024 * 1024, maxInflightRequests: 100 },
      new RaftDispatcher(() => driver, options.clusterId, new Set(voterIds), options.logger, this),
      options.logger,
    );
    const port = await this.listener.listen();
    driver.start();
    // The active controller's clock: fence brokers whose heartbeats stopped.
    let wasLeader = false;
    this.controllerTimer = setInterval(() => {
      const leading = this.isLeader;
      if (leading && !wasLeader) this.controller.activate(Date.now());
      wasLeader = leading;
      if (!leading) return;
      void this.decide((c) => ({ records: c.tick(Date.now()), result: null }), null).catch(() => undefined);
    }, 500);
    this.controllerTimer.unref();
    return port;
  }

  private controllerTimer: NodeJS.Timeout | null = null;

  /** BrokerRegistration at the active controller. */
  register(request: { brokerId: number; incarnationId: string; host: string; port: number; rack: string | null }): Promise<{ errorCode: number; brokerEpoch: number; leaderId: number }> {
    return this.decide(
      (c) => {
        const d = c.registerBroker({ brokerId: request.brokerId, incarnationId: request.incarnationId, endPoints: [{ name: 'PLAINTEXT', host: request.host, port: request.port, securityProtocol: 0 }], rack: request.rack }, Date.now());
        return { records: d.records, result: { ...d.result, leaderId: this.leaderId } };
      },
      { errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1, leaderId: this.leaderId },
    );
  }

  /** BrokerHeartbeat at the active controller. */
  heartbeat(request: { brokerId: number; brokerEpoch: number; currentMetadataOffset: number; wantFence: boolean; wantShutDown: boolean }): Promise<{ errorCode: number; isCaughtUp: boolean; isFenced: boolean; shouldShutDown: boolean; leaderId: number }> {
    return this.decide(
      (c) => {
        const d = c.heartbeat(request, Date.now());
        return { records: d.records, result: { ...d.result, leaderId: this.leaderId } };
      },
      { errorCode: ErrorCode.NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false, leaderId: this.leaderId },
    );
  }

  /** The controller endpoint of a voter. */
  voterAddress(id: number): { host: string; port: number } | undefined {
    return this.options.voters.find((v) => v.id === id);
  }

  private apply(entry: Entry): void {
    let records: MetadataRecord[];
    try {
      records = decodeRecordBatch(entry.data);
    } catch (error) {
      // A committed entry this node cannot read: stop applying rather than diverge.
      this.options.logger.error('cannot read committed metadata entry', { index: entry.index, error: (error as Error).message });
      throw error;
    }
    for (const record of records) {
      this.options.onRecord(record, this.image);
      this.image.apply(record, entry.index);
    }
    this.appliedIndex = entry.index;
    if (this.appliedIndex >= this.startupLastIndex) {
      const waiters = this.caughtUpWaiters;
      this.caughtUpWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once everything this node had on disk at start is applied again. */
  caughtUp(timeoutMs: number): Promise<boolean> {
    if (this.isCaughtUp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = () => {
        if (this.isCaughtUp()) {
          clearTimeout(timer);
          resolve(true);
        } else setTimeout(check, this.options.tickMs);
      };
      this.caughtUpWaiters.push(check);
      setTimeout(check, this.options.tickMs);
    });
  }

  private isLeaderOrFollowing(): boolean {
    return this.driver !== null && (this.driver.node.role === 'leader' || this.driver.node.leaderId >= 0);
  }

  /**
   * Caught up: everything on disk at start is applied again, or (when the new leader cut
   * an uncommitted tail this node had) a leader is known and all it has committed here is
   * applied.
   */
  private isCaughtUp(): boolean {
    if (!this.driver || !this.isLeaderOrFollowing()) return false;
    if (this.appliedIndex >= this.startupLastIndex) return true;
    const node = this.driver.node;
    return node.role === 'follower' && node.commitIndex > 0 && this.appliedIndex >= node.commitIndex && node.lastIndex < this.startupLastIndex;
  }

  /** Runs one controller decision on the leader and waits for its records to commit. */
  private decide<T>(make: (controller: Controller) => { records: MetadataRecord[]; result: T }, notLeader: T): Promise<T> {
    const run = async (): Promise<T> => {
      if (!this.driver || !this.isLeader) return notLeader;
      const decision = make(this.controller);
      if (decision.records.length > 0) {
        try {
          // Applied locally before the proposal resolves; bounded so that one stuck
          // proposal cannot hold up the decisions queued behind it.
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new NotLeaderError(this.leaderId)), PROPOSAL_TIMEOUT_MS);
          });
          try {
            await Promise.race([this.driver.propose(encodeRecordBatch(decision.records)), timeout]);
          } finally {
            clearTimeout(timer);
          }
        } catch (error) {
          if (error instanceof NotLeaderError) return notLeader;
          throw error;
        }
      }
      return decision.result;
    };
    const next = this.decisions.then(run, run);
    this.decisions = next.catch(() => undefined);
    return next;
  }

  createTopics(requests: TopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    const notLeader = requests.map((r) => ({ name: r.name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'this node is not the active controller' }));
    return this.decide((c) => c.createTopics(requests, validateOnly), notLeader);
  }

  deleteTopics(names: string[]): Promise<{ name: string; topicId: string; errorCode: number }[]> {
    return this.decide((c) => c.deleteTopics(names), names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: ErrorCode.NOT_CONTROLLER })));
  }

  createPartitions(name: string, count: number): Promise<{ errorCode: number; errorMessage: string | null }> {
    return this.decide((c) => c.createPartitions(name, count), { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'this node is not the active controller' });
  }


  async stop(): Promise<void> {
    if (this.controllerTimer) clearInterval(this.controllerTimer);
    if (this.driver && this.isLeader && this.options.voters.length > 1) await this.driver.resign(2000);
    this.driver?.stop();
    this.transport?.close();
    await this.listener?.close(200);
  }
}
