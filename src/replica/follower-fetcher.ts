// One follower fetch loop per leader broker: for every partition this broker follows from
// that leader it first asks where its own last leader epoch ended (OffsetForLeaderEpoch)
// and cuts a divergent suffix, then fetches with its replica id and appends the batches as
// they came, taking the leader's high watermark and log start offset (records the leader
// deleted by offset are deleted here too, and the new start made durable before the next
// fetch reports it). The replica manager starts and wakes it.
// Fetches go at the newest Fetch version the leader serves (asked with ApiVersions after the
// first request of each connection) in an incremental fetch session (KIP-227): after the first full fetch
// only partitions whose position moved are named, and the leader answers only partitions
// with news; a session error makes the next fetch full again.

import { FOLLOWER_THROTTLED_REPLICAS, isThrottled } from './replication-throttle';
import type { ReplicationQuota } from './replication-throttle';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { splitBatches } from '../../protocol/record-batch';
import { KafkaConnection } from '../net/kafka-connection';
import { FetchSessionHandler, WantedPartition } from '../net/fetch-session-handler';
import { Logger } from '../logger';
import { truncationOffset } from './leader-state';
import type { Replica, ReplicaHost, ReplicaSettings } from './replica-manager';

/** What a fetcher needs from the replica manager that runs it. */
export interface FetcherOwner {
  readonly settings: ReplicaSettings;
  readonly logger: Logger;
  /** Partitions this broker follows from `leaderId`. */
  followedFrom(leaderId: number): Replica[];
  /** The fetcher ended (nothing left to follow from its leader). */
  forgetFetcher(fetcher: FollowerFetcher): void;
  /** The follower-side replication throttle (KIP-73), when there is one. */
  readonly replicationQuotas?: { follower: ReplicationQuota };
}

/**
 * Fetches, for every partition this broker follows from one leader, in one Fetch request
 * at a time (replica id set, so the leader counts our fetch offset as our log end).
 */
/** The newest Fetch version this code speaks (Kafka 4.1's newest). */
export const FOLLOWER_FETCH_VERSION_MAX = 18;
/** Below this a follower fetch cannot be sent (Fetch 12 brings last fetched epoch and diverging epochs). */
const FOLLOWER_FETCH_VERSION_MIN = 12;

export class FollowerFetcher {
  stopped = false;
  private connection: KafkaConnection | null = null;
  /** The Fetch version of the current connection: 12 until negotiated after its first request. */
  private fetchVersion = FOLLOWER_FETCH_VERSION_MIN;
  private negotiated = false;
  private wakeUp: (() => void) | null = null;
  /** The incremental fetch session with this leader (not bound to one connection). */
  readonly session = new FetchSessionHandler();

  constructor(
    readonly leaderId: number,
    private readonly manager: FetcherOwner,
    private readonly host: ReplicaHost,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.connection?.close();
    this.connection = null;
    this.wake();
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async connect(): Promise<KafkaConnection | null> {
    if (this.connection) return this.connection;
    const endpoint = this.host.endpointOf(this.leaderId);
    if (!endpoint) return null;
    const connection = new KafkaConnection({
      host: endpoint.host,
      port: endpoint.port,
      clientId: `replica-${this.manager.settings.nodeId}`,
      requestTimeoutMs: this.manager.settings.fetchWaitMaxMs + 10_000,
      connectTimeoutMs: 2000,
      security: this.manager.settings.clientSecurity,
    });
    await connection.connect();
    // A reserved broker slot admits a connection whose first request is a follower's Fetch
    // or OffsetForLeaderEpoch: versions are asked only after that first request (see run).
    this.fetchVersion = FOLLOWER_FETCH_VERSION_MIN;
    this.negotiated = false;
    this.connection = connection;
    return connection;
  }

  private async run(): Promise<void> {
    const log = this.manager.logger;
    let idleRounds = 0;
    while (!this.stopped) {
      const partitions = this.manager.followedFrom(this.leaderId);
      if (partitions.length === 0) {
        // Nothing to follow from this leader any more (after a grace period for re-use).
        if (++idleRounds > 20) break;
        await this.sleep(100);
        continue;
      }
      idleRounds = 0;
      try {
        const connection = await this.connect();
        if (!connection) {
          await this.sleep(200);
          continue;
        }
        const truncating = partitions.filter((r) => r.following === 'truncating');
        if (truncating.length > 0) await this.truncate(connection, truncating);
        const ready = partitions.filter((r) => r.following === 'fetching');
        // Kafka's follower throttle: a throttled partition out of sync is left out of the
        // fetch while the follower's replication rate is over its bound.
        const quota = this.manager.replicationQuotas?.follower;
        const exceeded = quota !== undefined && quota.isExceeded(Date.now());
        const nodeId = this.manager.settings.nodeId;
        const fetching = exceeded ? ready.filter((r) => r.isr.includes(nodeId) || !this.followerThrottled(r)) : ready;
        if (fetching.length < ready.length && quota) quota.heldBack++;
        if (fetching.length > 0) await this.fetch(connection, fetching);
        else if (truncating.length > 0 || ready.length > 0) await this.sleep(100);
        if (!this.negotiated && (fetching.length > 0 || truncating.length > 0)) {
          this.fetchVersion = await negotiateFetchVersion(connection);
          this.negotiated = true;
        }
      } catch (error) {
        // The fetch may or may not have counted on the leader: the next one is full.
        this.session.handleError();
        if (!this.stopped)
          log.debug('fetch from leader failed; retrying', { leader: this.leaderId, error: (error as Error).message });
        this.connection?.close();
        this.connection = null;
        await this.sleep(200);
      }
    }
    this.stopped = true;
    this.connection?.close();
    this.connection = null;
    this.manager.forgetFetcher(this);
  }

  /** Asks the leader where our last epoch ended and cuts what we have past it. */
  private async truncate(connection: KafkaConnection, replicas: Replica[]): Promise<void> {
    const asked = replicas.filter((r) => r.log.epochs.latestEpoch >= 0);
    for (const r of replicas) if (r.log.epochs.latestEpoch < 0) r.following = 'fetching';
    if (asked.length === 0) return;
    const byTopic = new Map<string, Replica[]>();
    for (const r of asked) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    const response = await connection.request(ApiKey.OffsetForLeaderEpoch, 3, {
      replicaId: this.manager.settings.nodeId,
      topics: [...byTopic].map(([topic, rs]) => ({
        topic,
        partitions: rs.map((r) => ({
          partition: r.partition,
          currentLeaderEpoch: r.leaderEpoch,
          leaderEpoch: r.log.epochs.latestEpoch,
        })),
      })),
    });
    for (const topic of response.topics) {
      for (const answer of topic.partitions) {
        const r = asked.find((x) => x.topic === topic.topic && x.partition === answer.partition);
        if (!r || r.following !== 'truncating') continue;
        if (answer.errorCode !== ErrorCode.NONE) continue;
        const requested = r.log.epochs.latestEpoch;
        const cut = truncationOffset(
          requested,
          { epoch: answer.leaderEpoch, endOffset: Number(answer.endOffset) },
          r.log.epochs,
          r.log.logEndOffset,
          r.log.highWatermark,
        );
        if (cut < r.log.logEndOffset) {
          const before = r.log.logEndOffset;
          r.log.truncateTo(cut);
          this.manager.logger.info('truncated a divergent suffix', {
            topic: r.topic,
            partition: r.partition,
            from: before,
            to: r.log.logEndOffset,
            leader: this.leaderId,
            leaderEpoch: r.leaderEpoch,
          });
        }
        r.following = 'fetching';
      }
    }
  }

  /**
   * Whether this partition counts towards the follower's replication throttle: named for
   * this broker (its bytes count even in sync, as in Kafka; only out of sync is it held back).
   */
  private followerThrottled(r: Replica): boolean {
    const quota = this.manager.replicationQuotas?.follower;
    if (!quota?.enabled) return false;
    return isThrottled(
      this.host.image().topicConfigs(r.topic),
      FOLLOWER_THROTTLED_REPLICAS,
      r.partition,
      this.manager.settings.nodeId,
    );
  }

  private async fetch(connection: KafkaConnection, replicas: Replica[]): Promise<void> {
    const settings = this.manager.settings;
    // Fetch 13+ names topics by id: a replica whose topic id is not known yet is fetched by name.
    const version = replicas.every((r) => r.topicId !== ZERO_UUID)
      ? this.fetchVersion
      : Math.min(this.fetchVersion, 12);
    const wanted: WantedPartition[] = replicas.map((r) => ({
      topic: r.topic,
      topicId: r.topicId,
      partition: r.partition,
      currentLeaderEpoch: r.leaderEpoch,
      fetchOffset: r.log.logEndOffset,
      lastFetchedEpoch: r.log.epochs.latestEpoch,
      logStartOffset: r.log.logStartOffset,
      partitionMaxBytes: settings.fetchMaxBytes,
    }));
    const built = this.session.build(wanted, version);
    const response = await connection.request(ApiKey.Fetch, version, {
      clusterId: null,
      // v15 moved the replica id into ReplicaState, with this broker's epoch (KIP-903).
      replicaId: version <= 14 ? settings.nodeId : -1,
      replicaState:
        version >= 15
          ? {
              replicaId: settings.nodeId,
              replicaEpoch: this.host.image().brokers.get(settings.nodeId)?.brokerEpoch ?? -1,
            }
          : undefined,
      maxWaitMs: settings.fetchWaitMaxMs,
      minBytes: 1,
      maxBytes: 64 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: built.sessionId,
      sessionEpoch: built.sessionEpoch,
      topics: built.topics,
      forgottenTopicsData: built.forgottenTopicsData,
      rackId: '',
    });
    if (!this.session.handleResponse(built, response)) {
      // A session error carries no partitions: fetch again at once, in full.
      this.manager.logger.debug('fetch session refused; fetching in full', {
        leader: this.leaderId,
        errorCode: response.errorCode,
      });
      return;
    }
    const byKey = new Map<string, Replica>();
    for (const r of replicas) byKey.set(`${version >= 13 ? r.topicId : r.topic}\u0000${r.partition}`, r);
    let backOff = false;
    let startsMoved = false;
    for (const topic of response.responses) {
      const topicKey = version >= 13 ? topic.topicId : topic.topic;
      for (const p of topic.partitions) {
        const r = byKey.get(`${topicKey}\u0000${p.partitionIndex}`);
        // Metadata may have moved on while the fetch was out: only a still-following replica appends.
        if (!r || r.following !== 'fetching' || r.leaderId !== this.leaderId) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const leaderLogStart = Number(p.logStartOffset);
          if (leaderLogStart > r.log.logEndOffset) {
            // What this replica lacks was deleted by retention on the leader: start over
            // at the leader's log start (Kafka's truncateFullyAndStartAt).
            this.manager.logger.info("follower behind the leader's log start; starting over there", {
              topic: r.topic,
              partition: r.partition,
              logEndOffset: r.log.logEndOffset,
              leaderLogStartOffset: leaderLogStart,
            });
            r.log.truncateFullyAndStartAt(leaderLogStart);
            // Its checkpointed start, if any, is stale now: rewritten with the others below.
            startsMoved = true;
          } else r.following = 'truncating';
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE) {
          backOff = true;
          continue;
        }
        if (p.divergingEpoch && p.divergingEpoch.epoch >= 0) {
          // The leader says our log diverged from its history (KIP-595): find where, then cut.
          r.following = 'truncating';
          continue;
        }
        const records = p.records as Buffer | Buffer[] | null;
        const bytes = records === null ? null : Array.isArray(records) ? Buffer.concat(records) : records;
        if (bytes && bytes.length > 0 && this.followerThrottled(r))
          this.manager.replicationQuotas?.follower.record(bytes.length, Date.now());
        if (bytes && bytes.length > 0) {
          const split = splitBatches(bytes);
          // A fetch may end in a partial batch (max bytes): the whole ones are appended.
          if (split.batches.length > 0 && !r.log.appendAsFollower(split.batches)) {
            this.manager.logger.warn('fetched batches do not continue the local log; truncating again', {
              topic: r.topic,
              partition: r.partition,
              logEndOffset: r.log.logEndOffset,
            });
            r.following = 'truncating';
            continue;
          }
        }
        r.leaderHighWatermark = Number(p.highWatermark);
        r.log.highWatermark = Math.min(r.leaderHighWatermark, r.log.logEndOffset);
        // Kafka's follower takes the leader's log start (never past its own high watermark).
        const leaderLogStart = Number(p.logStartOffset);
        if (leaderLogStart > r.log.logStartOffset)
          startsMoved =
            r.log.maybeIncrementLogStartOffset(Math.min(leaderLogStart, r.log.highWatermark)).moved || startsMoved;
      }
    }
    if (startsMoved) {
      try {
        this.host.logs.checkpointLogStartOffsets();
      } catch (error) {
        this.manager.logger.warn('could not write the log start offsets', {
          leader: this.leaderId,
          error: (error as Error).message,
        });
      }
    }
    if (backOff) await this.sleep(100);
  }
}

/** The newest Fetch version both this code and the leader serve (ApiVersions v3, or v0 if refused). */
async function negotiateFetchVersion(connection: KafkaConnection): Promise<number> {
  let answer = await connection.request(ApiKey.ApiVersions, 3, {
    clientSoftwareName: 'brook-replica',
    clientSoftwareVersion: '0.1.0',
  });
  if (answer.errorCode === ErrorCode.UNSUPPORTED_VERSION) answer = await connection.request(ApiKey.ApiVersions, 0, {});
  const range = answer.apiKeys.find((k) => k.apiKey === ApiKey.Fetch);
  const version = Math.min(FOLLOWER_FETCH_VERSION_MAX, range?.maxVersion ?? -1);
  if (!range || version < Math.max(FOLLOWER_FETCH_VERSION_MIN, range.minVersion))
    throw new Error(
      `the leader serves no Fetch version in ${FOLLOWER_FETCH_VERSION_MIN}-${FOLLOWER_FETCH_VERSION_MAX}`,
    );
  return version;
}
