// Replicated partitions on one broker, the way Kafka does it. The metadata image says, per
// partition, who leads in which leader epoch and who is in the ISR; this manager follows
// it. As leader, a partition takes produce, answers its followers' fetches (each fetch
// tells how far that follower's log goes), keeps the high watermark at the smallest log
// end in the ISR, completes acks=all produces when the high watermark passes them, and
// asks the controller to shrink or expand the ISR (AlterPartitionIsr). As follower, it
// first asks the leader where its own last leader epoch ended (OffsetForLeaderEpoch) and
// cuts any divergent suffix, then fetches from the leader with its replica id and appends
// the batches as they are, taking the leader's high watermark and log start offset
// (follower-fetcher.ts). DeleteRecords waits here until the low watermark (the smallest log
// start offset among the live replicas, which followers report in their fetches) reaches
// its offset (Kafka's DelayedDeleteRecords). A replica that stops leading fails its pending
// acks=all produces and DeleteRecords at once with NOT_LEADER_OR_FOLLOWER.

import { ReplicationQuota } from './replication-throttle';
import { DEFAULT_QUOTA_WINDOW } from '../security/quotas';
import type { QuotaWindow } from '../security/quotas';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorCode } from '../../protocol/errors';
import type { MetadataImage, PartitionInfo } from '../controller/metadata-image';
import type { EpochEnd } from '../log/leader-epoch-cache';
import type { ConnectionSecurity } from '../security/principal';
import type { ClientSecurity } from '../security/client-config';
import { AclOperation, type Authorizer, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl';
import type { LogManager } from '../log/log-manager';
import type { PartitionLog } from '../log/partition-log';
import { Logger } from '../logger';
import { FollowerFetcher } from './follower-fetcher';
import { brokerIsrEligible, LeaderState } from './leader-state';

export interface ReplicaSettings {
  nodeId: number;
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  lagTimeMaxMs: number;
  /** replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for data. */
  fetchWaitMaxMs: number;
  /** replica.fetch.max.bytes, per partition. */
  fetchMaxBytes: number;
  /** The replication throttles' measure (replication.quota.window.*). */
  quotaWindow?: QuotaWindow;
  /** TLS and SASL of connections to leaders: the inter-broker listener's (default PLAINTEXT). */
  clientSecurity?: ClientSecurity;
  /**
   * Who may fetch as a follower, when the inter-broker listener authenticates its peers:
   * only connections on that listener, and, when super.users names the cluster's principals,
   * only those principals (Kafka grants follower fetches by CLUSTER_ACTION, which its
   * brokers hold as super users; with an authorizer that ACL check replaces the list).
   * Absent: the address check alone, as on a PLAINTEXT cluster (plus ClusterAction with an
   * authorizer).
   */
  followerAuth?: FollowerAuth;
}

export interface FollowerAuth {
  interBrokerListenerName: string;
  /** "User:name" strings; empty = any principal authenticated on the inter-broker listener. */
  clusterPrincipals: ReadonlySet<string>;
}

export interface ReplicaHost {
  image(): MetadataImage;
  logs: LogManager;
  /** The Kafka listener of a broker, from its registration. */
  endpointOf(brokerId: number): { host: string; port: number } | undefined;
  alterIsr(request: {
    topicId: string;
    partition: number;
    leaderEpoch: number;
    partitionEpoch: number;
    newIsr: number[];
  }): Promise<{ errorCode: number }>;
  clusterId: string;
  /** This broker started or stopped leading a partition (the group coordinator follows it). */
  onLeadershipChange?(replica: Replica, leading: boolean): void;
  /**
   * The broker's authorizer, or null without one. With one, a follower's principal must
   * hold ClusterAction on the cluster (Kafka's check of a fetch with a replica id).
   */
  authorizer?(): Authorizer | null;
}

interface Waiter {
  offset: number;
  resolve: (errorCode: number) => void;
  timer: NodeJS.Timeout;
}

/** What a DeleteRecords partition gets: its error and the low watermark (-1 with an error but a timeout). */
export interface LowWatermarkResult {
  errorCode: number;
  lowWatermark: number;
}

interface LowWatermarkWaiter {
  offset: number;
  resolve: (result: LowWatermarkResult) => void;
  timer: NodeJS.Timeout;
}

export class Replica {
  leaderId = -1;
  leaderEpoch = -1;
  partitionEpoch = -1;
  replicas: number[] = [];
  isr: number[] = [];
  /** Set while this broker leads the partition. */
  leading: LeaderState | null = null;
  /** Set while this broker follows: truncate first, then fetch. */
  following: 'truncating' | 'fetching' | null = null;
  isrChangeInFlight = false;
  waiters: Waiter[] = [];
  /** DeleteRecords waiting for the low watermark to reach their offset. */
  lowWatermarkWaiters: LowWatermarkWaiter[] = [];
  /** The leader's high watermark in the last fetch answer while following (-1 before one). */
  leaderHighWatermark = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    readonly log: PartitionLog,
  ) {}

  get key(): string {
    return `${this.topic}-${this.partition}`;
  }

  get minInsyncReplicas(): number {
    return Math.max(1, Number(this.log.config['min.insync.replicas'] ?? 1));
  }
}

export type Located = { replica: Replica } | { errorCode: number };

/** The verdict on a follower's fetch position: an error, or where its log diverged. */
export interface FollowerFetchCheck {
  errorCode: number;
  divergingEpoch?: EpochEnd;
}

const HOST_RESOLVE_CACHE_MS = 60_000;

/** An IPv4 peer seen on a dual-stack socket is `::ffff:a.b.c.d`. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

const NO_LEADER = -1;
const ISR_CHECK_INTERVAL_MS = 500;

export class ReplicaManager {
  private readonly replicas = new Map<string, Replica>();
  private readonly fetchers = new Map<number, FollowerFetcher>();
  private isrTimer: NodeJS.Timeout | null = null;
  /** ISR changes this broker proposed as leader and the controller accepted (for /metrics). */
  readonly isrChanges = { shrinks: 0, expands: 0 };
  /** The replication throttles (KIP-73): what this broker sends as leader, fetches as follower. */
  readonly replicationQuotas: { leader: ReplicationQuota; follower: ReplicationQuota };
  private stopped = false;
  /**
   * Partitions whose local log failed with a storage error (`<topic>-<partition>`): they
   * answer KAFKA_STORAGE_ERROR until the topic is deleted or the node restarts.
   */
  private readonly offline = new Set<string>();

  constructor(
    readonly settings: ReplicaSettings,
    private readonly host: ReplicaHost,
    readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    const window = settings.quotaWindow ?? DEFAULT_QUOTA_WINDOW;
    this.replicationQuotas = {
      leader: new ReplicationQuota(window, clock()),
      follower: new ReplicationQuota(window, clock()),
    };
  }

  start(): void {
    this.isrTimer = setInterval(
      () => this.maintainIsr(),
      Math.min(ISR_CHECK_INTERVAL_MS, Math.max(50, this.settings.lagTimeMaxMs / 4)),
    );
    this.isrTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.isrTimer) clearInterval(this.isrTimer);
    for (const fetcher of this.fetchers.values()) fetcher.stop();
    this.fetchers.clear();
    for (const replica of this.replicas.values()) this.failWaiters(replica, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  }

  get(topic: string, partition: number): Replica | undefined {
    return this.replicas.get(`${topic}-${partition}`);
  }

  all(): Replica[] {
    return [...this.replicas.values()];
  }

  /** Follows the metadata of every partition (after a snapshot replaced the image). */
  syncAll(image: MetadataImage): void {
    const seen = new Set<string>();
    for (const topic of image.topicsByName.values()) {
      for (const p of topic.partitions.values()) {
        this.onPartition(topic.name, p);
        seen.add(`${topic.name}-${p.partitionId}`);
      }
    }
    for (const [key, replica] of this.replicas) if (!seen.has(key)) this.remove(replica);
  }

  /** A partition's metadata changed (created, leader or ISR changed, reassigned). */
  onPartition(topic: string, p: PartitionInfo): void {
    if (this.stopped) return;
    const key = `${topic}-${p.partitionId}`;
    const self = this.settings.nodeId;
    let replica = this.replicas.get(key);
    if (!p.replicas.includes(self)) {
      if (replica) this.remove(replica);
      return;
    }
    const log = this.host.logs.get(topic, p.partitionId);
    if (!log || this.offline.has(key)) return;
    if (!replica || replica.log !== log) {
      if (replica) this.remove(replica);
      replica = new Replica(topic, p.partitionId, p.topicId, log);
      this.replicas.set(key, replica);
    }
    const leaderChanged = replica.leaderId !== p.leader || replica.leaderEpoch !== p.leaderEpoch;
    replica.leaderId = p.leader;
    replica.leaderEpoch = p.leaderEpoch;
    replica.partitionEpoch = p.partitionEpoch;
    replica.replicas = p.replicas.slice();
    replica.isr = p.isr.slice();
    if (p.leader === self) {
      if (leaderChanged || !replica.leading) this.becomeLeader(replica);
      else replica.leading.update(replica.replicas, replica.isr, this.clock());
      this.updateHighWatermark(replica);
      // A replica's broker may have been fenced: it no longer holds the low watermark back.
      this.completeLowWatermarkWaiters(replica);
    } else if (leaderChanged || replica.leading) {
      this.becomeFollower(replica);
    }
  }

  /** The topic is gone, or this broker no longer holds a replica. */
  removeTopic(topic: string): void {
    for (const replica of [...this.replicas.values()]) if (replica.topic === topic) this.remove(replica);
    for (const key of [...this.offline]) if (key.slice(0, key.lastIndexOf('-')) === topic) this.offline.delete(key);
  }

  private remove(replica: Replica): void {
    this.failWaiters(replica, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (replica.leading) this.host.onLeadershipChange?.(replica, false);
    replica.leading = null;
    replica.following = null;
    this.replicas.delete(replica.key);
  }

  private becomeLeader(replica: Replica): void {
    const { log } = replica;
    replica.following = null;
    // The new epoch starts at our log end: followers that wrote past it under an older
    // leader will cut back to here.
    log.epochs.assign(replica.leaderEpoch, log.logEndOffset);
    replica.leading = new LeaderState(this.settings.nodeId, replica.replicas, replica.isr, this.clock());
    this.host.onLeadershipChange?.(replica, true);
    this.logger.info('leading partition', {
      topic: replica.topic,
      partition: replica.partition,
      leaderEpoch: replica.leaderEpoch,
      isr: replica.isr,
      logEndOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
    });
  }

  private becomeFollower(replica: Replica): void {
    const wasLeading = replica.leading !== null;
    replica.leading = null;
    this.failWaiters(replica, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (wasLeading) this.host.onLeadershipChange?.(replica, false);
    if (replica.leaderId === NO_LEADER) {
      replica.following = null;
      return;
    }
    replica.following = 'truncating';
    if (wasLeading)
      this.logger.info('following partition', {
        topic: replica.topic,
        partition: replica.partition,
        leader: replica.leaderId,
        leaderEpoch: replica.leaderEpoch,
      });
    let fetcher = this.fetchers.get(replica.leaderId);
    if (!fetcher || fetcher.stopped) {
      fetcher = new FollowerFetcher(replica.leaderId, this, this.host);
      this.fetchers.set(replica.leaderId, fetcher);
      fetcher.start();
    } else fetcher.wake();
  }

  /** Partitions this broker follows from `leaderId`. */
  followedFrom(leaderId: number): Replica[] {
    return [...this.replicas.values()].filter((r) => r.following !== null && r.leaderId === leaderId);
  }

  forgetFetcher(fetcher: FollowerFetcher): void {
    if (this.fetchers.get(fetcher.leaderId) === fetcher) this.fetchers.delete(fetcher.leaderId);
  }

  /** The partition's leader replica here, or the error a client gets. */
  /** The partition's log failed on this node: it stops serving it, as Kafka does for an offline log directory. */
  markOffline(topic: string, partition: number): void {
    const replica = this.get(topic, partition);
    if (replica) this.remove(replica);
    this.offline.add(`${topic}-${partition}`);
  }

  isOffline(topic: string, partition: number): boolean {
    return this.offline.has(`${topic}-${partition}`);
  }

  leaderReplica(topic: string, partition: number, currentLeaderEpoch = -1): Located {
    if (this.offline.size > 0 && this.offline.has(`${topic}-${partition}`))
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
    const replica = this.get(topic, partition);
    if (!replica) {
      const known = this.host.image().topicsByName.get(topic)?.partitions.has(partition);
      return { errorCode: known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch !== replica.leaderEpoch) {
      return {
        errorCode:
          currentLeaderEpoch < replica.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
      };
    }
    if (!replica.leading) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    return { replica };
  }

  /**
   * Whether a fetch naming `followerId` as its replica id may speak for that broker: the id
   * must be a registered, unfenced broker other than this one, and the connection must come
   * from the host it registered (an IP, or a name that resolves to the peer's address). Until
   * connections are authenticated this is what stops any client from posing as a follower
   * (which would move the high watermark and keep a dead follower in the ISR).
   */
  async checkFollowerIdentity(
    followerId: number,
    peerAddress: string | undefined,
    security?: Pick<ConnectionSecurity, 'listenerName' | 'principal' | 'authenticated'>,
  ): Promise<number> {
    const auth = this.settings.followerAuth;
    const authorizer = this.host.authorizer?.() ?? null;
    if (auth) {
      // As Kafka answers a follower fetch without CLUSTER_ACTION.
      if (!security || !security.authenticated || security.listenerName !== auth.interBrokerListenerName)
        return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      // Without an authorizer, super.users names the principals the brokers act as.
      const principal = `${security.principal.type}:${security.principal.name}`;
      if (!authorizer && auth.clusterPrincipals.size > 0 && !auth.clusterPrincipals.has(principal))
        return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    }
    // With an authorizer, Kafka's rule on every listener: ClusterAction on the cluster
    // (super users hold it), from the connection's address as the ACL host.
    if (
      authorizer &&
      (!security ||
        !authorizer.authorize(
          security.principal,
          normalizeAddress(peerAddress ?? ''),
          AclOperation.CLUSTER_ACTION,
          ResourceType.CLUSTER,
          CLUSTER_RESOURCE_NAME,
        ))
    )
      return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    return this.checkFollowerAddress(followerId, peerAddress);
  }

  /** The address part of checkFollowerIdentity: a registered, unfenced broker, from its registered host. */
  async checkFollowerAddress(followerId: number, peerAddress: string | undefined): Promise<number> {
    const broker = this.host.image().brokers.get(followerId);
    if (followerId === this.settings.nodeId || !broker || broker.fenced) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const peer = normalizeAddress(peerAddress ?? '');
    for (const endpoint of broker.endPoints) {
      if ((await this.addressesOf(endpoint.host)).includes(peer)) return ErrorCode.NONE;
    }
    return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  private readonly resolved = new Map<string, { addresses: string[]; atMs: number }>();

  /** The addresses a registered host name stands for (cached for a minute). */
  private async addressesOf(host: string): Promise<string[]> {
    if (isIP(host)) return [normalizeAddress(host)];
    const cached = this.resolved.get(host);
    const now = this.clock();
    if (cached && now - cached.atMs < HOST_RESOLVE_CACHE_MS) return cached.addresses;
    let addresses: string[] = [];
    try {
      addresses = (await lookup(host, { all: true })).map((a) => normalizeAddress(a.address));
    } catch {
      // An unresolvable registered host matches no peer.
    }
    this.resolved.set(host, { addresses, atMs: now });
    return addresses;
  }

  /**
   * A follower fetched from `fetchOffset` after its last batch of `lastFetchedEpoch`.
   * Kafka's rules before that position counts: the follower must be a replica of the
   * partition; a position past the leader's log end (or below its start) is
   * OFFSET_OUT_OF_RANGE; a position the leader's epochs say has diverged (the epoch ends
   * here before `fetchOffset`, KIP-595) is answered with the diverging epoch. Only a
   * position that passes moves the follower's progress, its log start offset
   * (`followerLogStartOffset`, -1 when not said) and the high watermark.
   */
  recordFollowerFetch(
    replica: Replica,
    followerId: number,
    fetchOffset: number,
    lastFetchedEpoch = -1,
    brokerEpoch = -1,
    followerLogStartOffset = -1,
  ): FollowerFetchCheck {
    if (!replica.leading) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    if (followerId === this.settings.nodeId || !replica.replicas.includes(followerId))
      return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    const { log } = replica;
    if (fetchOffset > log.logEndOffset || fetchOffset < log.logStartOffset)
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
    if (lastFetchedEpoch >= 0) {
      const end = log.epochs.endOffsetFor(lastFetchedEpoch, log.logEndOffset);
      if (end.endOffset >= 0 && end.endOffset < fetchOffset) return { errorCode: ErrorCode.NONE, divergingEpoch: end };
    }
    replica.leading.recordFetch(
      followerId,
      fetchOffset,
      log.logEndOffset,
      this.clock(),
      brokerEpoch,
      followerLogStartOffset,
    );
    this.updateHighWatermark(replica);
    // Any follower's fetch may complete a DeleteRecords: its start moved, or a replica whose
    // broker was fenced since no longer counts (Kafka checks its purgatory after each one).
    this.completeLowWatermarkWaiters(replica);
    return { errorCode: ErrorCode.NONE };
  }

  /** Called after a leader append: with a single in-sync replica the batch is committed at once. */
  afterLeaderAppend(replica: Replica): void {
    this.updateHighWatermark(replica);
  }

  private updateHighWatermark(replica: Replica): void {
    if (!replica.leading) return;
    const { log } = replica;
    const hw = Math.max(log.highWatermark, replica.leading.highWatermark(log.logEndOffset));
    if (hw !== log.highWatermark) log.highWatermark = hw;
    if (replica.waiters.length === 0) return;
    const done = replica.waiters.filter((w) => w.offset <= log.highWatermark);
    if (done.length === 0) return;
    replica.waiters = replica.waiters.filter((w) => w.offset > log.highWatermark);
    // Kafka's rule: committed, but with fewer in-sync replicas than required, the producer
    // is told so (the data stays).
    const code =
      replica.isr.length < replica.minInsyncReplicas ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE;
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve(code);
    }
  }

  /** acks=all: resolves with an error code once the high watermark passes `endOffset`. */
  awaitCommit(replica: Replica, endOffset: number, timeoutMs: number): Promise<number> {
    if (replica.log.highWatermark >= endOffset) return Promise.resolve(ErrorCode.NONE);
    if (!replica.leading) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        offset: endOffset,
        resolve,
        timer: setTimeout(
          () => {
            replica.waiters = replica.waiters.filter((w) => w !== waiter);
            resolve(ErrorCode.REQUEST_TIMED_OUT);
          },
          Math.max(0, timeoutMs),
        ),
      };
      replica.waiters.push(waiter);
    });
  }

  private failWaiters(replica: Replica, errorCode: number): void {
    const waiters = replica.waiters;
    replica.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(errorCode);
    }
    const lowWatermarkWaiters = replica.lowWatermarkWaiters;
    replica.lowWatermarkWaiters = [];
    for (const w of lowWatermarkWaiters) {
      clearTimeout(w.timer);
      w.resolve({ errorCode, lowWatermark: -1 });
    }
  }

  /**
   * Kafka's lowWatermarkIfLeader: the smallest log start offset among this leader and the
   * followers on registered, unfenced brokers (a live follower that never fetched counts -1).
   */
  lowWatermark(replica: Replica): number {
    if (!replica.leading) return -1;
    const brokers = this.host.image().brokers;
    return replica.leading.lowWatermark(replica.log.logStartOffset, (id) => brokers.get(id)?.fenced === false);
  }

  /**
   * DeleteRecords after the leader moved its log start to `offset`: resolves once the low
   * watermark reaches it (NONE), when this broker stops leading (NOT_LEADER_OR_FOLLOWER), or
   * after `timeoutMs` (REQUEST_TIMED_OUT with the low watermark of the start, as Kafka's
   * DelayedDeleteRecords answers an expired partition).
   */
  awaitLowWatermark(replica: Replica, offset: number, timeoutMs: number): Promise<LowWatermarkResult> {
    if (!replica.leading) return Promise.resolve({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 });
    const initial = this.lowWatermark(replica);
    if (initial >= offset) return Promise.resolve({ errorCode: ErrorCode.NONE, lowWatermark: initial });
    return new Promise((resolve) => {
      const waiter: LowWatermarkWaiter = {
        offset,
        resolve,
        timer: setTimeout(
          () => {
            replica.lowWatermarkWaiters = replica.lowWatermarkWaiters.filter((w) => w !== waiter);
            resolve({ errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: initial });
          },
          Math.max(0, timeoutMs),
        ),
      };
      replica.lowWatermarkWaiters.push(waiter);
    });
  }

  private completeLowWatermarkWaiters(replica: Replica): void {
    if (replica.lowWatermarkWaiters.length === 0 || !replica.leading) return;
    const low = this.lowWatermark(replica);
    const done = replica.lowWatermarkWaiters.filter((w) => w.offset <= low);
    if (done.length === 0) return;
    replica.lowWatermarkWaiters = replica.lowWatermarkWaiters.filter((w) => w.offset > low);
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve({ errorCode: ErrorCode.NONE, lowWatermark: low });
    }
  }

  /** Proposes ISR shrinks and expansions for the partitions this broker leads. */
  private maintainIsr(): void {
    const now = this.clock();
    const image = this.host.image();
    const eligibleFor = (replica: Replica) => (id: number) =>
      brokerIsrEligible(replica.leading?.followers.get(id)?.brokerEpoch ?? -1, image.brokers.get(id));
    for (const replica of this.replicas.values()) {
      if (!replica.leading || replica.isrChangeInFlight) continue;
      const { log } = replica;
      const epochStart = log.epochs.all().find((e) => e.epoch === replica.leaderEpoch)?.startOffset ?? log.logEndOffset;
      const proposed = replica.leading.proposedIsr(
        now,
        this.settings.lagTimeMaxMs,
        log.highWatermark,
        epochStart,
        eligibleFor(replica),
      );
      if (!proposed) continue;
      replica.isrChangeInFlight = true;
      replica.leading.pendingIsr = proposed;
      const leading = replica.leading;
      const request = {
        topicId: replica.topicId,
        partition: replica.partition,
        leaderEpoch: replica.leaderEpoch,
        partitionEpoch: replica.partitionEpoch,
        newIsr: proposed,
      };
      this.logger.info(proposed.length < replica.isr.length ? 'shrinking the ISR' : 'expanding the ISR', {
        topic: replica.topic,
        partition: replica.partition,
        from: replica.isr,
        to: proposed,
      });
      this.host
        .alterIsr(request)
        .then(
          (answer) => {
            if (answer.errorCode === ErrorCode.NONE)
              this.isrChanges[proposed.length < replica.isr.length ? 'shrinks' : 'expands']++;
            if (answer.errorCode !== ErrorCode.NONE) {
              this.logger.info('ISR change refused', {
                topic: replica.topic,
                partition: replica.partition,
                errorCode: answer.errorCode,
              });
              if (leading.pendingIsr === proposed) leading.pendingIsr = null;
            }
          },
          () => {
            if (leading.pendingIsr === proposed) leading.pendingIsr = null;
          },
        )
        .finally(() => {
          // The committed change reaches this broker through the metadata log.
          setTimeout(() => {
            replica.isrChangeInFlight = false;
          }, ISR_CHECK_INTERVAL_MS).unref();
        });
    }
  }
}
