// One node's part in the metadata quorum: its durable Raft storage, the Raft driver, the
// controller listener, the metadata image built from committed records, and (while this
// node leads) the active controller's decisions. A single `npm start` runs this same code
// as a one-voter quorum. Entries carry a batch of metadata records:
// [count uvarint] then per record [length uvarint][encoded record]; membership entries
// carry the voter set. One metadata entry holds at most `metadataMaxEntryBytes`: a
// decision whose records encode larger is written as an atomic group of part entries
// (see encodeDecision), applied only once its last part has committed; a group cut short
// by a change of leader is dropped by every node alike. Every `snapshotEveryEntries`
// applied entries the image is snapshotted (never inside a group) and the log behind it
// dropped; a node starts from its newest snapshot.
// A node outside the voter set follows the log as an observer: it registers (with its
// controller endpoint) at the active controller, which then streams the log to it, and it
// can be promoted to voter (RaftAddVoter) once caught up.

import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { newTopicId, ZERO_TOPIC_ID } from '../../protocol/topic-names';
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  MetadataRecord,
  MetadataRecordInput,
} from '../../protocol/metadata/records';
import { Reader, Writer } from '../../protocol/primitives';
import { Voter } from '../config/config';
import { FileSystem, realFileSystem } from '../log/file-system';
import { CLUSTER_METADATA_DIR } from '../log/on-disk-names';
import { Logger } from '../logger';
import { DEFAULT_MAX_APPEND_BYTES, Entry, Snapshot } from '../raft/core';
import { MembershipError, RaftDriver, NotLeaderError } from '../raft/driver';
import { ENTRY_MEMBERSHIP, VoterEndpoint } from '../raft/membership';
import { Peer, RaftDispatcher, TcpRaftTransport } from '../raft/tcp-transport';
import {
  ControllerAuth,
  connectController,
  HANDSHAKE_TIMEOUT_MS,
  HandshakeGate,
  tlsPrincipal,
} from '../raft/handshake';
import { KafkaListener } from '../net/kafka-listener';
import { ConnectionOptions, KafkaConnection } from '../net/kafka-connection';
import { ControllerListenerTls, controllerSecurityProblem } from './controller-listener-tls';
import type { ClientSecurity } from '../security/client-config';
import { ControllerPortDispatcher, ControllerRequests, LifecycleRequest, MembershipAnswer } from './controller-port';
import {
  Controller,
  ControllerSettings,
  OngoingReassignment,
  ElectionResults,
  ReassignmentResult,
  TopicRequest,
  TopicResult,
  seededRandom,
} from './controller';
import { MetadataImage } from './metadata-image';
import { AlterScramResult, ScramDeletion, ScramUpsertion } from './scram-users';
import type { AclBinding, AclFilter } from '../security/acl';
import type { AclCreateResult, AclDeleteResult } from './acls';
import type { AlterQuotaResult, QuotaAlteration } from './client-quotas';
import { QuorumStorage } from '../raft/quorum-storage';

/** Longest a metadata write waits for its commit before the caller gets NOT_CONTROLLER. */
const PROPOSAL_TIMEOUT_MS = 10_000;
/** Longest a node to be promoted may take to catch up on the log. */
const CATCH_UP_TIMEOUT_MS = 10_000;
/** The endpoint name under which a broker registers its controller listener. */
const CONTROLLER_ENDPOINT = 'CONTROLLER';
/**
 * Largest request frame the controller listener accepts. It is one constant for every
 * node, whatever its settings, and the settings are bounded below it: an append carries at
 * most brook.raft.max.append.bytes of entries (at most 8 MiB), or one entry alone, which
 * is at most brook.metadata.max.entry.bytes (at most 4 MiB); a snapshot chunk is 1 MiB.
 * So whatever a leader sends, every follower accepts, even with settings unlike its own.
 */
export const CONTROLLER_FRAME_MAX_BYTES = 16 * 1024 * 1024;
/** Default bytes of one metadata log entry (brook.metadata.max.entry.bytes). */
export const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;
/** Entry kind of one part of an atomic group of metadata entries. */
export const ENTRY_METADATA_PART = 2;
/** Most parts in one group (10 GiB of records at the largest entry size; sanity bound). */
const GROUP_PARTS_MAX = 10_000;
/** Bytes a part entry's header takes at most: part index and part count, uvarints. */
const PART_HEADER_BYTES = 10;

export interface QuorumOptions {
  nodeId: number;
  clusterId: string;
  voters: Voter[];
  controllerListen: { host: string; port: number };
  dataDir: string;
  /** The file system the Raft storage is written through (the broker's: real, or in memory in tests). */
  fs?: FileSystem;
  tickMs: number;
  electionTimeoutTicks: number;
  controller: ControllerSettings;
  /** Applied entries between metadata snapshots. */
  snapshotEveryEntries: number;
  /** brook.raft.max.append.bytes: bytes of entries in one append message (default 4 MiB). */
  raftMaxAppendBytes?: number;
  /** brook.metadata.max.entry.bytes: bytes of one metadata log entry (default 1 MiB). */
  metadataMaxEntryBytes?: number;
  /**
   * brook.controller.cluster.secret: every controller-port connection, in and out, is
   * authenticated with it. Null only for a node that is the sole voter.
   */
  clusterSecret?: Buffer | null;
  /**
   * Set when the controller listener runs over TLS (SSL or SASL_SSL): it then takes only
   * peers with a verified certificate whose principal is a cluster principal, and every
   * connection this node makes to a controller port presents this node's certificate.
   */
  controllerTls?: ControllerListenerTls | null;
  /** TLS of outgoing controller-port connections (controller listener's protocol); PLAINTEXT when absent. */
  controllerSecurity?: ClientSecurity;
  /** The Raft storage failed: the node must stop (fail-stop); called once. */
  onFatal?: (error: Error) => void;
  logger: Logger;
  /** Called for each committed record, before it changes the image. */
  onRecord: (record: MetadataRecord, image: MetadataImage) => void;
  /** Called for each committed record, after it changed the image. */
  onApplied?: (record: MetadataRecord, image: MetadataImage) => void;
  /** Called after the image was replaced by a snapshot. */
  onRestore: (image: MetadataImage) => void;
}

/**
 * The active controller's clock for broker sessions and disconnect deadlines: monotonic, so
 * that a step of the wall clock (NTP, an operator) never fences every broker at once or
 * keeps a dead one alive (Kafka's controller times sessions with nanoTime for the same
 * reason). Its values live only in this process's memory.
 */
export const controllerClock = (): number => performance.now();

/** How many not yet applied entries hasUnappliedTopic reads at most. */
const UNAPPLIED_SCAN_LIMIT = 1000;

/** The data of one metadata log entry: its records, counted and each length-prefixed. */
export function encodeMetadataEntries(records: MetadataRecordInput[]): Buffer {
  const writer = new Writer(256);
  writer.uvarint(records.length);
  for (const record of records) {
    const bytes = encodeMetadataRecord(record);
    writer.uvarint(bytes.length).raw(bytes);
  }
  return writer.toBuffer();
}

/** The records in one metadata log entry's data (the inverse of encodeMetadataEntries). */
export function decodeMetadataEntries(data: Buffer): MetadataRecord[] {
  if (data.length === 0) return [];
  return decodeRecords(new Reader(data));
}

function decodeRecords(reader: Reader): MetadataRecord[] {
  const count = reader.uvarint();
  if (count > reader.remaining) throw new Error(`metadata entry claims ${count} records in ${reader.remaining} bytes`);
  const out: MetadataRecord[] = [];
  for (let i = 0; i < count; i++) out.push(decodeMetadataRecord(reader.raw(reader.uvarint())));
  return out;
}

function uvarintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

/** A decision holds a record that no metadata entry can carry: it is refused, not written. */
export class DecisionTooLargeError extends Error {
  override name = 'DecisionTooLargeError';
}

/** The log entries one decision is written as: their data and kind. */
export interface EncodedDecision {
  data: Buffer;
  kind: number;
}

/**
 * One decision's records as metadata log entries of at most `maxEntryBytes` each: a single
 * ordinary entry when they fit, else an atomic group of part entries, each
 * [part index uvarint][part count uvarint][records as in an ordinary entry], proposed
 * together so that they sit at consecutive indexes of one term. A record that cannot fit
 * one entry on its own makes the decision refused (DecisionTooLargeError).
 */
export function encodeDecision(records: MetadataRecordInput[], maxEntryBytes: number): EncodedDecision[] {
  const encoded = records.map((record) => encodeMetadataRecord(record));
  const sizes = encoded.map((bytes) => uvarintBytes(bytes.length) + bytes.length);
  const total = sizes.reduce((a, b) => a + b, 0) + uvarintBytes(records.length);
  if (total <= maxEntryBytes) return [{ data: encodeMetadataEntries(records), kind: 0 }];
  // Greedy packing; every part's records plus its headers stay within the bound.
  const budget = maxEntryBytes - PART_HEADER_BYTES - 5;
  const parts: Buffer[][] = [];
  let current: Buffer[] = [];
  let used = 0;
  encoded.forEach((bytes, i) => {
    if (sizes[i] > budget)
      throw new DecisionTooLargeError(
        `one metadata record of this request encodes to ${bytes.length} bytes, more than a metadata log entry holds (brook.metadata.max.entry.bytes = ${maxEntryBytes})`,
      );
    if (used + sizes[i] > budget) {
      parts.push(current);
      current = [];
      used = 0;
    }
    current.push(bytes);
    used += sizes[i];
  });
  if (current.length > 0) parts.push(current);
  if (parts.length > GROUP_PARTS_MAX)
    throw new DecisionTooLargeError(
      `this request's metadata records would take ${parts.length} log entries, more than ${GROUP_PARTS_MAX}`,
    );
  return parts.map((part, index) => {
    const writer = new Writer(maxEntryBytes);
    writer.uvarint(index).uvarint(parts.length).uvarint(part.length);
    for (const bytes of part) writer.uvarint(bytes.length).raw(bytes);
    return { data: writer.toBuffer(), kind: ENTRY_METADATA_PART };
  });
}

/** A part entry's place in its group, and its records. */
export function decodeMetadataPart(data: Buffer): { part: number; parts: number; records: MetadataRecord[] } {
  const reader = new Reader(data);
  const part = reader.uvarint();
  const parts = reader.uvarint();
  if (parts < 2 || parts > GROUP_PARTS_MAX || part >= parts)
    throw new Error(`metadata entry part ${part} of ${parts} is not a valid place in a group`);
  return { part, parts, records: decodeRecords(reader) };
}

/** The records of a metadata entry, ordinary or part of a group (not of a membership entry). */
function entryRecords(entry: Entry): MetadataRecord[] {
  return entry.kind === ENTRY_METADATA_PART
    ? decodeMetadataPart(entry.data).records
    : decodeMetadataEntries(entry.data);
}

/**
 * Reassembles atomic groups of metadata entries as they are applied, in log order. A group
 * is its part entries 0..n-1 at consecutive indexes of one term; its records come out
 * together with its last part. Anything else in between (the next leader's no-op, a
 * membership entry, another group's first part) means the group was cut short by a change
 * of leader: its parts are dropped and never applied. Every node applies the same
 * committed log, so every node drops the same groups.
 */
export class GroupAssembler {
  private open: { term: number; lastIndex: number; next: number; parts: number; records: MetadataRecord[] } | null =
    null;

  /** Whether a group has begun and not ended (the image must not be snapshotted then). */
  get inGroup(): boolean {
    return this.open !== null;
  }

  /** Index of the first entry of the open group, if one is open. */
  get openedAt(): number {
    return this.open ? this.open.lastIndex - this.open.next + 1 : -1;
  }

  /**
   * Takes the next applied entry. Returns the records to apply now (null: nothing yet, the
   * entry is a part of an open group) and how many records of a cut-short group it dropped.
   */
  accept(entry: Entry): { records: MetadataRecord[] | null; dropped: number } {
    let dropped = 0;
    const open = this.open;
    if (entry.kind !== ENTRY_METADATA_PART) {
      if (open) dropped = open.records.length;
      this.open = null;
      return { records: entry.kind === ENTRY_MEMBERSHIP ? [] : decodeMetadataEntries(entry.data), dropped };
    }
    const { part, parts, records } = decodeMetadataPart(entry.data);
    const continues =
      open !== null &&
      part === open.next &&
      parts === open.parts &&
      entry.term === open.term &&
      entry.index === open.lastIndex + 1;
    if (!continues) {
      if (open) dropped = open.records.length;
      this.open = null;
      // A part other than a first one with no group open to continue: the rest of a group
      // whose beginning was dropped. Ignored.
      if (part !== 0) return { records: null, dropped };
      this.open = { term: entry.term, lastIndex: entry.index, next: 1, parts, records };
      return { records: null, dropped };
    }
    for (const record of records) open.records.push(record);
    open.lastIndex = entry.index;
    open.next++;
    if (open.next < open.parts) return { records: null, dropped };
    this.open = null;
    return { records: open.records, dropped };
  }

  /** A snapshot replaced the state: whatever was open belongs to the old state. */
  reset(): void {
    this.open = null;
  }
}

export class MetadataQuorum implements ControllerRequests {
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
  /** Atomic groups of metadata entries being applied. */
  private readonly groups = new GroupAssembler();

  constructor(private readonly options: QuorumOptions) {
    this.controller = new Controller(
      this.image,
      options.controller,
      seededRandom(options.nodeId * 7919 + Date.now()),
      newTopicId,
    );
  }

  get isLeader(): boolean {
    return !this.failed && this.driver?.node.role === 'leader';
  }

  get leaderId(): number {
    return this.driver?.node.leaderId ?? -1;
  }

  get term(): number {
    return this.driver?.node.term ?? 0;
  }

  /** The Raft node's view (leader, term, indexes; per-node progress on the leader) for the HTTP API and /metrics. */
  describe(): {
    leaderId: number;
    term: number;
    commitIndex: number;
    lastIndex: number;
    appliedIndex: number;
    role: string;
    caughtUp: boolean;
    leaderChanges: number;
    progress: { nodeId: number; matchIndex: number; voter: boolean }[];
  } {
    const d = this.driver?.node.describe();
    return {
      leaderId: d?.leaderId ?? -1,
      term: d?.term ?? 0,
      commitIndex: d?.commitIndex ?? 0,
      lastIndex: d?.lastIndex ?? 0,
      appliedIndex: this.appliedIndex,
      role: d?.role ?? 'stopped',
      caughtUp: this.isCaughtUp(),
      leaderChanges: this.driver?.leaderChanges ?? 0,
      progress: d?.progress ?? [],
    };
  }

  /** The voters now (from the log, a snapshot, or the configured initial voters). */
  voters(): readonly VoterEndpoint[] {
    return this.driver?.node.membership() ?? this.options.voters;
  }

  get isVoter(): boolean {
    return this.voters().some((v) => v.id === this.options.nodeId);
  }

  /** The controller endpoint of a node: a voter's from the voter set, else its registration's. */
  endpointOf(id: number): Peer | undefined {
    const voter = this.voters().find((v) => v.id === id && v.host !== '');
    if (voter) return voter;
    const registered = this.image.brokers.get(id)?.endPoints.find((e) => e.name === CONTROLLER_ENDPOINT);
    if (registered) return { id, host: registered.host, port: registered.port };
    return this.options.voters.find((v) => v.id === id);
  }

  /** Voters, configured voters and registered brokers may exchange Raft messages with us. */
  isKnownNode(id: number): boolean {
    return (
      this.voters().some((v) => v.id === id) ||
      this.options.voters.some((v) => v.id === id) ||
      this.image.brokers.has(id)
    );
  }

  /** The controller listener actually bound (port 0 resolved). */
  controllerEndpoint = { host: '', port: 0 };

  /**
   * The secret, the certificate and this node's id for outgoing controller-port
   * connections; null with neither.
   */
  private get auth(): ControllerAuth | null {
    const secret = this.options.clusterSecret ?? null;
    const controllerTls = this.options.controllerTls ?? null;
    if (!secret && !controllerTls) return null;
    return {
      secret,
      nodeId: this.options.nodeId,
      certificate: controllerTls !== null,
      tls: controllerTls?.material ?? null,
      serverPrincipals: controllerTls?.clusterPrincipals ?? null,
    };
  }

  /**
   * A connection to a node's controller port, authenticated when the cluster has a secret
   * (`nodeId`: the node expected there, null for any).
   */
  openControllerConnection(options: ConnectionOptions, nodeId: number | null): Promise<KafkaConnection> {
    return connectController({ ...options, security: options.security ?? this.options.controllerSecurity }, this.auth, {
      clusterId: this.options.clusterId,
      nodeId,
    });
  }

  async start(): Promise<number> {
    const { options } = this;
    const problem = controllerSecurityProblem(options);
    if (problem) throw new Error(problem);
    const storage = QuorumStorage.open(options.fs ?? realFileSystem, path.join(options.dataDir, CLUSTER_METADATA_DIR));
    if (storage.truncatedBytesAtOpen > 0)
      options.logger.warn('metadata log: cut a torn or corrupt tail', { bytes: storage.truncatedBytesAtOpen });
    this.transport = new TcpRaftTransport(
      options.nodeId,
      options.clusterId,
      (id) => this.endpointOf(id),
      options.logger,
      this.auth,
      options.controllerSecurity,
    );
    this.driver = new RaftDriver({
      id: options.nodeId,
      voters: options.voters.map((v) => ({ id: v.id, host: v.host, port: v.port })),
      tickMs: options.tickMs,
      electionTimeoutTicks: options.electionTimeoutTicks,
      heartbeatTicks: Math.max(1, Math.floor(options.electionTimeoutTicks / 5)),
      random: seededRandom(options.nodeId * 104729 + Date.now()),
      storage,
      transport: this.transport,
      apply: (entry) => this.apply(entry),
      restore: (snapshot) => this.restore(snapshot),
      // Never inside an atomic group: a snapshot there would hold half of it.
      takeSnapshot: () => (this.groups.inGroup ? null : this.image.toSnapshot()),
      snapshotEveryEntries: options.snapshotEveryEntries,
      maxAppendBytes: options.raftMaxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES,
      logger: options.logger,
      onFatal: (error) => this.fatal(error),
    });
    this.transport.attach(this.driver);
    const driver = this.driver;
    const restoredAt = driver.restoreLocal();
    if (restoredAt > 0) options.logger.info('metadata image restored from snapshot', { index: restoredAt });
    this.startupLastIndex = Math.max(storage.lastIndex, restoredAt);
    const controllerTls = options.controllerTls ?? null;
    const gate = new HandshakeGate(
      options.clusterSecret ?? null,
      options.clusterId,
      options.nodeId,
      options.logger,
      HANDSHAKE_TIMEOUT_MS,
      controllerTls && {
        clusterPrincipals: controllerTls.clusterPrincipals,
        principalOf: (connection) => tlsPrincipal(connection, (socket) => controllerTls.material.principalOf(socket)),
      },
    );
    this.listener = new KafkaListener(
      {
        host: options.controllerListen.host,
        port: options.controllerListen.port,
        maxConnections: 100,
        socketRequestMaxBytes: CONTROLLER_FRAME_MAX_BYTES,
        maxInflightRequests: 100,
        onAccept: (connection) => gate.accepted(connection),
        // Over TLS the peer's certificate is its proof of membership. A SASL_SSL controller
        // listener serves TLS the same way: the controller port does not speak SASL.
        ...(controllerTls
          ? {
              tls: controllerTls.material,
              security: { listenerName: controllerTls.listenerName, securityProtocol: 'SSL' as const },
            }
          : {}),
      },
      new ControllerPortDispatcher(
        new RaftDispatcher(
          () => driver,
          options.clusterId,
          (id) => this.isKnownNode(id),
          options.logger,
          (connection) => gate.authenticatedAs(connection),
        ),
        options.clusterId,
        this,
        gate,
      ),
      options.logger,
    );
    const port = await this.listener.listen();
    this.controllerEndpoint = { host: options.controllerListen.host, port };
    if (!this.isVoter)
      options.logger.info('not a voter: following the metadata log as an observer', {
        voters: this.voters().map((v) => v.id),
      });
    driver.start();
    this.transport.preconnect(this.voters().map((v) => v.id));
    // The active controller's clock: fence brokers whose heartbeats stopped.
    this.controllerTimer = setInterval(() => {
      const leader = this.leaderId;
      if (leader >= 0 && leader !== options.nodeId) this.otherLeader = leader;
      if (!this.activeController()) return;
      void this.decide((c) => ({ records: c.tick(controllerClock()), result: null }), null).catch(() => undefined);
    }, 500);
    this.controllerTimer.unref();
    return port;
  }

  private controllerTimer: NodeJS.Timeout | null = null;
  private failed = false;
  /** The last other node seen leading the quorum (sampled by the controller clock); -1 when none. */
  private otherLeader = -1;
  /** The term in which this node's controller was last activated; -1 while it does not lead. */
  private activeTerm = -1;
  /** Set by stop(): connections closing as the listener closes say nothing about brokers. */
  private stopping = false;
  /** Pending checks of disconnected brokers (brook.broker.disconnect.grace.ms). */
  private readonly disconnectTimers = new Set<NodeJS.Timeout>();

  /**
   * Whether this node is the active controller; on the first call in a new term of its
   * leadership the controller is activated (every broker gets a fresh session, and
   * connections closed under an earlier leadership are forgotten).
   */
  private activeController(): boolean {
    if (!this.isLeader || this.stopping) {
      this.activeTerm = -1;
      return false;
    }
    if (this.activeTerm !== this.term) {
      const now = controllerClock();
      this.controller.activate(now);
      this.activeTerm = this.term;
      // The controller before this one: if its process died, no connection of its broker
      // closes here; it must heartbeat here soon or be fenced (see expectReconnect).
      const previous = this.otherLeader;
      this.otherLeader = -1;
      if (previous >= 0) {
        this.controller.expectReconnect(previous, now, this.brokerHeartbeatIntervalMs);
        this.checkAt(this.controller.disconnectDeadline(previous), now);
      }
    }
    return true;
  }

  /** The interval at which brokers heartbeat (as BrokerLifecycle is given it), plus slack. */
  private get brokerHeartbeatIntervalMs(): number {
    return Math.min(1000, Math.floor(this.options.controller.brokerSessionTimeoutMs / 4)) + 500;
  }

  /** A controller tick at `deadline` (when a disconnected broker is due), if still active then. */
  private checkAt(deadline: number | undefined, now: number): void {
    if (deadline === undefined) return;
    const term = this.term;
    const timer = setTimeout(
      () => {
        this.disconnectTimers.delete(timer);
        if (this.term !== term || !this.activeController()) return;
        void this.decide((c) => ({ records: c.tick(controllerClock()), result: null }), null).catch(() => undefined);
      },
      Math.max(0, deadline - now),
    );
    timer.unref();
    this.disconnectTimers.add(timer);
  }

  /**
   * A broker's heartbeat connection to this node opened or closed. Only the active
   * controller acts: a closed one starts the disconnect grace, after which the broker is
   * fenced unless it heartbeated again on a new connection; leadership is checked again
   * when the grace expires (a controller that stopped leading meanwhile does nothing).
   */
  brokerConnection(brokerId: number, open: boolean): void {
    if (!this.activeController()) return;
    if (open) {
      this.controller.brokerConnected(brokerId);
      return;
    }
    const now = controllerClock();
    this.controller.brokerDisconnected(brokerId, now);
    const deadline = this.controller.disconnectDeadline(brokerId);
    if (deadline === undefined) return;
    this.options.logger.info('heartbeat connection of a broker closed; fencing it unless it reconnects', {
      brokerId,
      graceMs: deadline - now,
    });
    this.checkAt(deadline, now);
  }

  /**
   * Fail-stop: the driver has stopped on a storage error. The controller stops deciding, the
   * listener closes, and the owner is told once (the server process exits).
   */
  private fatal(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    if (this.controllerTimer) clearInterval(this.controllerTimer);
    this.clearDisconnectTimers();
    this.transport?.close();
    void this.listener?.close(0);
    this.options.onFatal?.(error);
  }

  /** BrokerRegistration at the active controller. */
  register(
    request: Omit<LifecycleRequest<typeof ApiKey.BrokerRegistration>, 'listeners'> &
      Partial<Pick<LifecycleRequest<typeof ApiKey.BrokerRegistration>, 'listeners'>>,
  ): Promise<{ errorCode: number; brokerEpoch: number; leaderId: number }> {
    // Every advertised listener; a registration without them names one PLAINTEXT listener.
    const endPoints =
      request.listeners && request.listeners.length > 0
        ? request.listeners.map((l) => ({
            name: l.name,
            host: l.host,
            port: l.port,
            securityProtocol: l.securityProtocol,
          }))
        : [{ name: 'PLAINTEXT', host: request.host, port: request.port, securityProtocol: 0 }];
    if (request.controllerHost && request.controllerPort > 0)
      endPoints.push({
        name: CONTROLLER_ENDPOINT,
        host: request.controllerHost,
        port: request.controllerPort,
        securityProtocol: 0,
      });
    return this.decide<{ errorCode: number; brokerEpoch: number; leaderId: number }>(
      (c) => {
        const d = c.registerBroker(
          { brokerId: request.brokerId, incarnationId: request.incarnationId, endPoints, rack: request.rack },
          controllerClock(),
        );
        return { records: d.records, result: { ...d.result, leaderId: this.leaderId } };
      },
      { errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1, leaderId: this.leaderId },
      () => ({ errorCode: ErrorCode.INVALID_REQUEST, brokerEpoch: -1, leaderId: this.leaderId }),
    );
  }

  /** BrokerHeartbeat at the active controller. */
  heartbeat(
    request: LifecycleRequest<typeof ApiKey.BrokerHeartbeat>,
  ): Promise<{ errorCode: number; isCaughtUp: boolean; isFenced: boolean; shouldShutDown: boolean; leaderId: number }> {
    return this.decide(
      (c) => {
        const d = c.heartbeat(request, controllerClock());
        return { records: d.records, result: { ...d.result, leaderId: this.leaderId } };
      },
      {
        errorCode: ErrorCode.NOT_CONTROLLER,
        isCaughtUp: false,
        isFenced: true,
        shouldShutDown: false,
        leaderId: this.leaderId,
      },
    );
  }

  /** AllocateProducerIds at the active controller: a block committed to the metadata log. */
  allocateProducerIds(
    request: LifecycleRequest<typeof ApiKey.AllocateProducerIds>,
  ): Promise<{ errorCode: number; firstProducerId: number; count: number; leaderId: number }> {
    return this.decide(
      (c) => {
        const d = c.allocateProducerIds(request.brokerId, request.brokerEpoch);
        return { records: d.records, result: { ...d.result, leaderId: this.leaderId } };
      },
      { errorCode: ErrorCode.NOT_CONTROLLER, firstProducerId: -1, count: 0, leaderId: this.leaderId },
    );
  }

  /** AlterPartitionIsr at the active controller. */
  alterPartitionIsr(
    request: LifecycleRequest<typeof ApiKey.AlterPartitionIsr>,
  ): Promise<{ errorCode: number; leaderId: number; leaderEpoch: number; partitionEpoch: number; isr: number[] }> {
    return this.decide((c) => c.alterPartitionIsr(request), {
      errorCode: ErrorCode.NOT_CONTROLLER,
      leaderId: this.leaderId,
      leaderEpoch: -1,
      partitionEpoch: -1,
      isr: [],
    });
  }

  /** The controller endpoint of a voter (or of any registered node). */
  voterAddress(id: number): { host: string; port: number } | undefined {
    return this.endpointOf(id);
  }

  private restore(snapshot: Snapshot): void {
    this.groups.reset();
    this.image.loadSnapshot(snapshot.data, snapshot.index);
    this.appliedIndex = snapshot.index;
    this.options.onRestore(this.image);
    this.reconcileObservers();
  }

  /** Registered brokers outside the voter set follow the log as observers. */
  private reconcileObservers(): void {
    const node = this.driver?.node;
    if (!node) return;
    const voters = new Set(node.membership().map((v) => v.id));
    for (const broker of this.image.brokers.values()) {
      if (!voters.has(broker.brokerId) && broker.endPoints.some((e) => e.name === CONTROLLER_ENDPOINT))
        node.addObserver(broker.brokerId);
    }
  }

  private notLeaderAnswer(message: string): MembershipAnswer {
    const leader = this.leaderId >= 0 ? this.endpointOf(this.leaderId) : undefined;
    return {
      errorCode: ErrorCode.NOT_CONTROLLER,
      errorMessage: message,
      leaderId: this.leaderId,
      leaderHost: leader?.host ?? null,
      leaderPort: leader?.port ?? -1,
    };
  }

  private membershipAnswer(errorCode: number, errorMessage: string | null): MembershipAnswer {
    return { errorCode, errorMessage, leaderId: this.leaderId, leaderHost: null, leaderPort: -1 };
  }

  /** RaftAddVoter: promotes a registered node once it has caught up on the log. */
  async addVoter(voterId: number): Promise<MembershipAnswer> {
    const driver = this.driver;
    if (!driver || !this.isLeader)
      return this.notLeaderAnswer('this node is not the active controller; ask the leader');
    if (this.voters().some((v) => v.id === voterId))
      return this.membershipAnswer(ErrorCode.INVALID_REQUEST, `node ${voterId} is already a voter`);
    const endpoint = this.image.brokers.get(voterId)?.endPoints.find((e) => e.name === CONTROLLER_ENDPOINT);
    if (!endpoint)
      return this.membershipAnswer(
        ErrorCode.BROKER_ID_NOT_REGISTERED,
        `node ${voterId} has not registered; start it first (it joins as an observer)`,
      );
    // The new voter must hold the log before it counts towards commits.
    const target = driver.node.commitIndex;
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    const matchOf = () => driver.node.describe().progress.find((p) => p.nodeId === voterId)?.matchIndex ?? 0;
    while (matchOf() < target) {
      if (Date.now() > deadline || !this.isLeader)
        return this.membershipAnswer(
          ErrorCode.REQUEST_TIMED_OUT,
          `node ${voterId} did not catch up on the metadata log (at ${matchOf()} of ${target}) within ${CATCH_UP_TIMEOUT_MS} ms`,
        );
      await new Promise((r) => setTimeout(r, this.options.tickMs));
    }
    return this.changeVoters(
      [...this.voters(), { id: voterId, host: endpoint.host, port: endpoint.port }],
      `node ${voterId} is a voter`,
    );
  }

  /** RaftRemoveVoter: the node stays a broker and follows the log as an observer. */
  async removeVoter(voterId: number): Promise<MembershipAnswer> {
    if (!this.driver || !this.isLeader)
      return this.notLeaderAnswer('this node is not the active controller; ask the leader');
    if (!this.voters().some((v) => v.id === voterId))
      return this.membershipAnswer(ErrorCode.INVALID_REQUEST, `node ${voterId} is not a voter`);
    if (this.voters().length === 1)
      return this.membershipAnswer(ErrorCode.INVALID_REQUEST, 'cannot remove the last voter');
    return this.changeVoters(
      this.voters().filter((v) => v.id !== voterId),
      `node ${voterId} is no longer a voter`,
    );
  }

  private async changeVoters(voters: VoterEndpoint[], done: string): Promise<MembershipAnswer> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NotLeaderError(this.leaderId)), PROPOSAL_TIMEOUT_MS);
      });
      await Promise.race([this.driver!.changeMembership(voters), timeout]);
      this.options.logger.info('voter set changed', { voters: voters.map((v) => v.id) });
      return this.membershipAnswer(ErrorCode.NONE, done);
    } catch (error) {
      if (error instanceof MembershipError) return this.membershipAnswer(ErrorCode.INVALID_REQUEST, error.message);
      if (error instanceof NotLeaderError)
        return this.notLeaderAnswer(
          'leadership changed before the change committed; check `brook cluster status` and retry',
        );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether an entry this node holds but has not applied yet (the commit has not reached
   * it, or it is being applied) creates topic `name`: the topic is on its way here.
   */
  hasUnappliedTopic(name: string): boolean {
    const node = this.driver?.node;
    if (!node) return false;
    const last = Math.min(node.lastIndex, this.appliedIndex + UNAPPLIED_SCAN_LIMIT);
    for (let index = this.appliedIndex + 1; index <= last; index++) {
      const entry = node.entryAt(index);
      if (!entry || entry.kind === ENTRY_MEMBERSHIP) continue;
      try {
        if (entryRecords(entry).some((r) => r.type === 'Topic' && r.data.name === name)) return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  private apply(entry: Entry): void {
    let accepted: { records: MetadataRecord[] | null; dropped: number };
    try {
      accepted = this.groups.accept(entry);
    } catch (error) {
      // A committed entry this node cannot read: stop applying rather than diverge.
      this.options.logger.error('cannot read committed metadata entry', {
        index: entry.index,
        error: (error as Error).message,
      });
      throw error;
    }
    if (accepted.dropped > 0)
      this.options.logger.info(
        'dropped an unfinished group of metadata entries (the leader changed before it was whole)',
        {
          index: entry.index,
          records: accepted.dropped,
        },
      );
    // Inside a group nothing is applied yet: the image (and appliedIndex) stay before it.
    const records = accepted.records;
    if (records === null) {
      // A stray part (the rest of a dropped group) changes nothing and is passed over.
      if (!this.groups.inGroup) this.appliedIndex = entry.index;
      return;
    }
    if (entry.kind === ENTRY_MEMBERSHIP) {
      this.appliedIndex = entry.index;
      this.options.logger.info('voter set committed', { index: entry.index, voters: this.voters().map((v) => v.id) });
      this.reconcileObservers();
      this.notifyCaughtUp();
      return;
    }
    for (const record of records) {
      this.options.onRecord(record, this.image);
      this.image.apply(record, entry.index);
      this.options.onApplied?.(record, this.image);
      if (record.type === 'RegisterBroker') this.reconcileObservers();
    }
    this.appliedIndex = entry.index;
    this.notifyCaughtUp();
    this.maybeBootstrapScramUsers(entry);
  }

  /** The term whose bootstrap SCRAM users were written (-1: none yet). */
  private scramBootstrapTerm = -1;

  /**
   * Once per leadership, as soon as the leader has applied an entry of its own term (its
   * no-op: the image then holds everything committed before it), the configured bootstrap
   * SCRAM users that do not exist yet are written. A credential changed since is never
   * overwritten, since the image is complete when the decision is made.
   */
  private maybeBootstrapScramUsers(entry: Entry): void {
    if (!this.isLeader || entry.term !== this.term || this.scramBootstrapTerm === this.term) return;
    if ((this.options.controller.scram?.bootstrapUsers ?? []).length === 0) return;
    this.scramBootstrapTerm = this.term;
    void this.decide((c) => {
      const records = c.bootstrapScramUsers();
      return { records, result: records.length };
    }, 0)
      .then((written) => {
        if (written > 0) this.options.logger.info('bootstrap SCRAM credentials written', { credentials: written });
      })
      .catch((error) =>
        this.options.logger.warn('bootstrap SCRAM users not written', { error: (error as Error).message }),
      );
  }

  private notifyCaughtUp(): void {
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
    return (
      node.role === 'follower' &&
      node.commitIndex > 0 &&
      this.appliedIndex >= node.commitIndex &&
      node.lastIndex < this.startupLastIndex
    );
  }

  /**
   * Runs one controller decision on the leader and waits for its records to commit. Records
   * too large for one entry go out as an atomic group (encodeDecision), every part proposed
   * in the same turn; the answer waits for all of them. A leader change before the group is
   * whole answers `notLeader` (the group is then dropped, or, if the next leader already
   * held every part, applied whole: decisions are checked against the image either way). A
   * record no entry can hold answers `refused(message)`.
   */
  private decide<T>(
    make: (controller: Controller) => { records: MetadataRecordInput[]; result: T },
    notLeader: T,
    refused: (message: string) => T = () => notLeader,
  ): Promise<T> {
    const run = async (): Promise<T> => {
      const driver = this.driver;
      if (!driver || !this.isLeader) return notLeader;
      const decision = make(this.controller);
      if (decision.records.length > 0) {
        let entries: EncodedDecision[];
        try {
          entries = encodeDecision(decision.records, this.maxEntryBytes);
        } catch (error) {
          if (!(error instanceof DecisionTooLargeError)) throw error;
          this.options.logger.warn('metadata decision refused: too large for the metadata log', {
            error: error.message,
          });
          return refused(error.message);
        }
        try {
          // Applied locally before the proposal resolves; bounded so that one stuck
          // proposal cannot hold up the decisions queued behind it.
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new NotLeaderError(this.leaderId)), PROPOSAL_TIMEOUT_MS);
          });
          try {
            // Synchronously, one after another: the parts sit at consecutive indexes of one term.
            const proposals = entries.map((e) => driver.propose(e.data, e.kind === 0 ? undefined : e.kind));
            await Promise.race([Promise.all(proposals), timeout]);
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

  private get maxEntryBytes(): number {
    return this.options.metadataMaxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  }

  createTopics(requests: TopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      requests.map((r) => ({ name: r.name, topicId: ZERO_TOPIC_ID, errorCode, errorMessage }));
    return this.decide(
      (c) => c.createTopics(requests, validateOnly),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  deleteTopics(names: string[]): Promise<{ name: string; topicId: string; errorCode: number }[]> {
    return this.decide<{ name: string; topicId: string; errorCode: number }[]>(
      (c) => c.deleteTopics(names),
      names.map((name) => ({ name, topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.NOT_CONTROLLER })),
      () => names.map((name) => ({ name, topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.POLICY_VIOLATION })),
    );
  }

  alterPartitionReassignments(
    topics: { name: string; partitions: { partitionIndex: number; replicas: number[] | null }[] }[],
  ): Promise<{ name: string; partitions: ReassignmentResult[] }[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage })),
      }));
    return this.decide(
      (c) => c.alterPartitionReassignments(topics),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  /** UnregisterBroker at the active controller (see Controller.unregisterBroker): answered once committed. */
  unregisterBroker(brokerId: number): Promise<{ errorCode: number; errorMessage: string | null }> {
    return this.decide(
      (c) => c.unregisterBroker(brokerId),
      { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'this node is not the active controller' },
      (message) => ({ errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: message }),
    );
  }

  /** ElectLeaders at the active controller (see Controller.electLeaders): answered once committed. */
  electLeaders(
    electionType: number,
    topicPartitions: { topic: string; partitions: number[] }[] | null,
  ): Promise<ElectionResults> {
    const answer = (errorCode: number, errorMessage: string) =>
      (topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage })),
      }));
    return this.decide(
      (c) => c.electLeaders(electionType, topicPartitions),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  alterTopicConfigs(
    changes: { topic: string; configs: { name: string; op: number; value: string | null }[] }[],
  ): Promise<{ topic: string; errorCode: number; errorMessage: string | null }[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      changes.map((c) => ({ topic: c.topic, errorCode, errorMessage }));
    return this.decide(
      (c) => c.alterTopicConfigs(changes),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  /** Dynamic broker configs at the active controller: answered once committed. */
  alterBrokerConfigs(
    changes: { resourceName: string; configs: { name: string; op: number; value: string | null }[] }[],
  ): Promise<{ resourceName: string; errorCode: number; errorMessage: string | null }[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      changes.map((c) => ({ resourceName: c.resourceName, errorCode, errorMessage }));
    return this.decide(
      (c) => c.alterBrokerConfigs(changes),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  listPartitionReassignments(topics: { name: string; partitionIndexes: number[] }[] | null): OngoingReassignment[] {
    return this.controller.listPartitionReassignments(topics);
  }

  createPartitions(name: string, count: number): Promise<{ errorCode: number; errorMessage: string | null }> {
    return this.decide(
      (c) => c.createPartitions(name, count),
      { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'this node is not the active controller' },
      (message) => ({ errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: message }),
    );
  }

  /** AlterUserScramCredentials at the active controller: answered once committed. */
  alterScramCredentials(deletions: ScramDeletion[], upsertions: ScramUpsertion[]): Promise<AlterScramResult[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      [...deletions, ...upsertions].map((c) => ({ user: c.name, errorCode, errorMessage }));
    return this.decide(
      (c) => c.alterScramCredentials(deletions, upsertions),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  /** CreateAcls at the active controller: answered once the new ACLs are committed. */
  createAcls(bindings: AclBinding[]): Promise<AclCreateResult[]> {
    const answer = (errorCode: number, errorMessage: string) => bindings.map(() => ({ errorCode, errorMessage }));
    return this.decide(
      (c) => c.createAcls(bindings),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  /** DeleteAcls at the active controller: answered once the removals are committed. */
  deleteAcls(filters: AclFilter[]): Promise<AclDeleteResult[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] }));
    return this.decide(
      (c) => c.deleteAcls(filters),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  /** AlterClientQuotas at the active controller: answered once committed (at once with validateOnly). */
  alterClientQuotas(alterations: QuotaAlteration[], validateOnly: boolean): Promise<AlterQuotaResult[]> {
    const answer = (errorCode: number, errorMessage: string) =>
      alterations.map((a) => ({ entity: a.entity, errorCode, errorMessage }));
    return this.decide(
      (c) => c.alterClientQuotas(alterations, validateOnly),
      answer(ErrorCode.NOT_CONTROLLER, 'this node is not the active controller'),
      (message) => answer(ErrorCode.POLICY_VIOLATION, message),
    );
  }

  private clearDisconnectTimers(): void {
    for (const timer of this.disconnectTimers) clearTimeout(timer);
    this.disconnectTimers.clear();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.controllerTimer) clearInterval(this.controllerTimer);
    this.clearDisconnectTimers();
    if (this.driver && this.isLeader && this.voters().length > 1) await this.driver.resign(2000);
    this.driver?.stop();
    this.transport?.close();
    await this.listener?.close(200);
  }
}
