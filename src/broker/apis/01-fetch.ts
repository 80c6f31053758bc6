// Fetch (key 1), versions 4-18 served (4 is the first with isolation level and batch v2;
// librdkafka 2.0 needs 4 in range to use batch v2). v5: log start offset. v6: same.
// v7: fetch sessions (KIP-227, see fetch-sessions.ts). v8: same. v9: current leader epoch
// (KIP-320). v10: same (zstd). v11: rack id, preferred read replica (always -1 here).
// v12: flexible, last fetched epoch, diverging epoch. v13: topics by topic id (KIP-516): an
// id that names no current topic gets UNKNOWN_TOPIC_ID on each of its partitions. v14: same.
// v15: the replica id comes in ReplicaState with the follower's broker epoch (KIP-903): a
// fetch from an older incarnation (not the registered epoch) does not bring it into the ISR.
// v16: a NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH partition names the current leader,
// and NodeEndpoints says where it listens (KIP-951). v17: the follower's directory id (read,
// unused: one log directory). v18: the high watermark the replica knows (Kafka uses it for
// its metadata quorum only; read, unused).
//
// Stored batches go out as byte ranges (tail cache slices or file reads), never decoded.
// With too little data the request parks until an append to one of its partitions or
// max_wait_ms, whichever comes first; nothing polls. Only the partition's leader answers.
// A fetch with a replica id is a follower's: its fetch offset tells the leader how far that
// follower's log goes (moving the high watermark), and it reads up to the log end;
// consumers read up to the high watermark. The replica id is checked against the metadata
// and the connection's address, and the position against the leader's log, before it
// counts, whether it came at the top level (v4-14) or in ReplicaState (v15+).
// With an authorizer, as Kafka: a follower's principal needs ClusterAction on the cluster
// (else every partition is TOPIC_AUTHORIZATION_FAILED), a consumer Read on each topic
// (TOPIC_AUTHORIZATION_FAILED, checked after an unknown topic id and before existence).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { brokerEndpoint } from '../cluster-view';
import { ApiHandler } from '../api-handler';
import { topicAuthorizer } from '../authorize';
import { AclOperation } from '../../security/acl';
import type { Broker } from '../broker';
import { isThrottled, LEADER_THROTTLED_REPLICAS } from '../../replica/replication-throttle';
import type { PartitionLog } from '../../log/partition-log';
import type { Replica } from '../../replica/replica-manager';
import {
  CachedPartition,
  FetchContext,
  INVALID_SESSION_ID,
  PartitionAnswer,
  PartitionRequest,
} from '../fetch-sessions';

type FetchRequest = Request<typeof ApiKey.Fetch>;
type FetchResponse = ResponseInput<typeof ApiKey.Fetch>;

const READ_COMMITTED = 1;

interface PartitionEntry {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  divergingEpoch?: { epoch: number; endOffset: number };
  currentLeader?: { leaderId: number; leaderEpoch: number };
  abortedTransactions: null;
  preferredReadReplica: number;
  records: Buffer[] | null;
}

function emptyPartition(partitionIndex: number, errorCode: number, log?: PartitionLog): PartitionEntry {
  return {
    partitionIndex,
    errorCode,
    highWatermark: log ? log.highWatermark : -1,
    lastStableOffset: log ? log.lastStableOffset : -1,
    logStartOffset: log ? log.logStartOffset : -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    // Empty, not null: Kafka answers a partition error with no records (its recordsOrFail),
    // and librdkafka refuses a null record set (size -1) as a malformed response.
    records: [],
  };
}

interface Slot {
  log: PartitionLog | undefined;
  replica: Replica | undefined;
  /** Why there is no log to read (not the leader, unknown, fenced epoch...). */
  errorCode: number;
  request: PartitionRequest;
  /** In an incremental fetch: the session's partition (a quiet one is not read at all). */
  cached: CachedPartition | null;
}

/** Who fetches: a follower (replica id >= 0) or a consumer (-1). */
interface Fetcher {
  replicaId: number;
  /** The follower's broker epoch (v15+ ReplicaState), -1 when not said. */
  replicaEpoch: number;
  follower: boolean;
}

export const fetch: ApiHandler<typeof ApiKey.Fetch> = {
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 18,
  async handle(ctx, request) {
    const { broker } = ctx;
    const version = ctx.header.apiVersion;
    // v15 moved the replica id into ReplicaState; the top-level field is -1 there.
    const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
    const replicaEpoch = version >= 15 ? request.replicaState.replicaEpoch : -1;
    const fetcher: Fetcher = { replicaId, replicaEpoch: Number(replicaEpoch), follower: replicaId >= 0 };
    // A replica id is a follower's claim: it must come from that broker (see checkFollowerIdentity).
    if (fetcher.follower) {
      const refused = await broker.replicas.checkFollowerIdentity(
        replicaId,
        ctx.connection.socket.remoteAddress,
        ctx.connection.security,
      );
      // Without ClusterAction Kafka answers every partition TOPIC_AUTHORIZATION_FAILED, the
      // request itself without an error.
      if (refused === ErrorCode.TOPIC_AUTHORIZATION_FAILED)
        return { ...this.errorResponse(request, refused, version), errorCode: ErrorCode.NONE };
      if (refused !== ErrorCode.NONE) return this.errorResponse(request, refused, version);
    }
    let count = 0;
    for (const topic of request.topics) count += topic.partitions.length;
    for (const topic of request.forgottenTopicsData) count += topic.partitions.length;
    if (count > broker.settings.maxPartitionsPerRequest) {
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
    }
    const context = broker.fetchSessions.newContext(
      {
        sessionId: request.sessionId,
        sessionEpoch: request.sessionEpoch,
        version,
        fromFollower: fetcher.follower,
        partitions: requestedPartitions(broker, request, version),
        forgotten: forgottenPartitions(broker, request, version),
      },
      broker.clock(),
    );
    // A session error answers nothing else: no partition, no data (Kafka's SessionErrorContext).
    if (context.kind === 'error') return sessionError(context.errorCode, INVALID_SESSION_ID);
    const byId = version >= 13;
    const resolve = topicResolver(broker, byId);
    // Consumers need Read on each topic; a follower's ClusterAction was checked above.
    const mayRead = fetcher.follower ? null : topicAuthorizer(ctx, AclOperation.READ);
    const slots = context.partitions.map((wanted) => locate(broker, wanted, byId, resolve, mayRead));
    if (context.kind === 'incremental') context.partitions.forEach((cached, i) => (slots[i].cached = cached));
    const maxWaitMs = Math.max(0, Math.min(request.maxWaitMs, broker.settings.fetchMaxWaitMsCap));
    const deadline = Date.now() + maxWaitMs;
    // Where each log stood when last read: a change after that (even one that lands before
    // the wait below subscribes) wakes the wait at once.
    const mark = () =>
      slots.map((slot) => (slot.log ? (fetcher.follower ? slot.log.logEndOffset : slot.log.highWatermark) : -1));
    for (;;) {
      const marks = mark();
      const attempt = await readAll(broker, request, fetcher, slots);
      const remainingMs = deadline - Date.now();
      if (attempt.bytes >= request.minBytes || attempt.failed || remainingMs <= 0 || broker.shuttingDown) {
        return answered(broker, version, fetcher, context, slots, attempt, ctx.connection.security.listenerName);
      }
      const woken = await waitForData(slots, remainingMs, broker, fetcher.follower, () =>
        mark().some((m, i) => m !== marks[i]),
      );
      if (!woken)
        return answered(
          broker,
          version,
          fetcher,
          context,
          slots,
          await readAll(broker, request, fetcher, slots),
          ctx.connection.security.listenerName,
        );
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      sessionId: 0,
      responses: (request?.topics ?? []).map((topic) => ({
        topic: topic.topic,
        topicId: topic.topicId,
        partitions: topic.partitions.map((p) =>
          emptyPartition(p.partition, ErrorCode.NONE === errorCode ? ErrorCode.NONE : errorCode),
        ),
      })),
    };
  },
};

function sessionError(errorCode: number, sessionId: number): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId, responses: [] };
}

/** The request's partitions with their topics resolved: v13+ by id (null when no topic has it), else by name. */
function requestedPartitions(broker: Broker, request: FetchRequest, version: number): PartitionRequest[] {
  const out: PartitionRequest[] = [];
  const byId = version >= 13;
  for (const topic of request.topics) {
    // v13+: the topic by its id; an id no topic has now (never made, zero, or the id of a
    // deleted topic even if one of the same name was created since) is UNKNOWN_TOPIC_ID.
    const name = byId ? (broker.topics.getById(topic.topicId)?.name ?? null) : topic.topic;
    const topicId = byId ? topic.topicId : ZERO_UUID;
    for (const p of topic.partitions) {
      out.push({
        topic: name,
        topicId,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
        logStartOffset: p.logStartOffset ?? -1,
        partitionMaxBytes: p.partitionMaxBytes,
      });
    }
  }
  return out;
}

function forgottenPartitions(broker: Broker, request: FetchRequest, version: number) {
  const out: { topic: string | null; topicId: string; partition: number }[] = [];
  const byId = version >= 13;
  for (const topic of request.forgottenTopicsData) {
    const name = byId ? (broker.topics.getById(topic.topicId)?.name ?? null) : topic.topic;
    for (const partition of topic.partitions)
      out.push({ topic: name, topicId: byId ? topic.topicId : ZERO_UUID, partition });
  }
  return out;
}

/**
 * The current name of a topic id, or of a name (null when no topic has it now), looked up
 * once per topic per fetch: a session of a thousand partitions reads them all every time.
 */
function topicResolver(broker: Broker, byId: boolean): (wanted: PartitionRequest) => string | null {
  const image = broker.quorum.image;
  const known = new Map<string, string | null>();
  return (wanted) => {
    // v13+: a session's partition keeps its topic id; the name it stands for is looked up
    // each time, so a topic deleted since (or a zero id) answers UNKNOWN_TOPIC_ID.
    const key = byId ? wanted.topicId : `name:${wanted.topic}`;
    let name = known.get(key);
    if (name === undefined) {
      name = byId
        ? (image.topicsById.get(wanted.topicId)?.name ?? null)
        : wanted.topic !== null && image.topicsByName.has(wanted.topic)
          ? wanted.topic
          : null;
      known.set(key, name);
    }
    return name;
  };
}

/** The partition's leader log here, or why not. */
function locate(
  broker: Broker,
  wanted: PartitionRequest,
  byId: boolean,
  resolve: (wanted: PartitionRequest) => string | null,
  mayRead: ((topic: string) => boolean) | null,
): Slot {
  const name = resolve(wanted);
  // Kafka's order: an unknown topic id first, then Read on the topic's name (so a topic the
  // consumer may not read is TOPIC_AUTHORIZATION_FAILED whether it exists or not), then
  // whether the topic and partition exist here.
  const requested = byId ? name : wanted.topic;
  const located =
    byId && name === null
      ? { errorCode: ErrorCode.UNKNOWN_TOPIC_ID }
      : mayRead !== null && requested !== null && !mayRead(requested)
        ? { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }
        : name !== null
          ? broker.replicas.leaderReplica(name, wanted.partition, wanted.currentLeaderEpoch)
          : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if ('errorCode' in located)
    return { log: undefined, replica: undefined, errorCode: located.errorCode, request: wanted, cached: null };
  return {
    log: located.replica.log,
    replica: located.replica,
    errorCode: ErrorCode.NONE,
    request: wanted,
    cached: null,
  };
}

/**
 * Whether a follower's fetch of this partition counts towards the leader's throttle: the
 * partition is named for this broker (Kafka's isThrottled). Its bytes are counted even for
 * a follower in sync, as Kafka counts them; only an out-of-sync follower is held back.
 */
function leaderThrottled(broker: Broker, topic: string, partition: number) {
  if (!broker.replicationQuotas.leader.enabled) return false;
  return isThrottled(broker.quorum.image.topicConfigs(topic), LEADER_THROTTLED_REPLICAS, partition, broker.nodeId);
}

async function readAll(broker: Broker, request: FetchRequest, fetcher: Fetcher, slots: Slot[]) {
  let budget = Math.min(request.maxBytes > 0 ? request.maxBytes : 0x7fffffff, broker.settings.fetchMaxBytes);
  let bytes = 0;
  let failed = false;
  let firstNonEmpty = true;
  /** Null: a session's partition with nothing new, not read (it is left out of the answer). */
  const partitions: (PartitionEntry | null)[] = [];
  /** Record bytes of each partition's answer. */
  const sizes: number[] = [];
  /** What this read gives, counted in the metrics only if it is the read that is answered. */
  const reads: { topic: string; chunks: Buffer[]; bytes: number }[] = [];
  const { follower } = fetcher;
  for (const slot of slots) {
    const { log, replica, request: wanted } = slot;
    sizes.push(0);
    if (!log || !replica) {
      partitions.push(emptyPartition(wanted.partition, slot.errorCode));
      failed = true;
      continue;
    }
    if (!replica.leading) {
      // Leadership moved while this fetch was parked.
      partitions.push(emptyPartition(wanted.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER));
      failed = true;
      continue;
    }
    if (follower) {
      // Only a position within the leader's log, on the leader's history, counts.
      const check = broker.replicas.recordFollowerFetch(
        replica,
        fetcher.replicaId,
        wanted.fetchOffset,
        wanted.lastFetchedEpoch,
        fetcher.replicaEpoch,
        wanted.logStartOffset,
      );
      if (check.errorCode !== ErrorCode.NONE || check.divergingEpoch) {
        partitions.push({
          ...emptyPartition(wanted.partition, check.errorCode, log),
          ...(check.divergingEpoch ? { divergingEpoch: check.divergingEpoch, records: [] } : {}),
        });
        failed = true;
        continue;
      }
    }
    const upperBound = follower
      ? log.logEndOffset
      : request.isolationLevel === READ_COMMITTED
        ? log.lastStableOffset
        : log.highWatermark;
    if (
      slot.cached !== null &&
      wanted.fetchOffset <= log.logEndOffset &&
      wanted.fetchOffset >= log.logStartOffset &&
      slot.cached.quiet(log.highWatermark, log.lastStableOffset, log.logStartOffset, upperBound)
    ) {
      partitions.push(null);
      continue;
    }
    // Kafka's leader-side replication throttle: a follower out of sync on a throttled
    // partition gets no records while the leader's rate is over its bound.
    const throttled = follower && leaderThrottled(broker, log.topic, wanted.partition);
    if (
      throttled &&
      !replica.isr.includes(fetcher.replicaId) &&
      broker.replicationQuotas.leader.isExceeded(Date.now())
    ) {
      broker.replicationQuotas.leader.heldBack++;
      const entry = emptyPartition(wanted.partition, ErrorCode.NONE, log);
      entry.records = [];
      partitions.push(entry);
      continue;
    }
    const limit = Math.min(wanted.partitionMaxBytes, budget);
    const result = await log.read(wanted.fetchOffset, limit, { minOneBatch: firstNonEmpty, upperBound });
    if (result.errorCode !== ErrorCode.NONE) {
      partitions.push(emptyPartition(wanted.partition, result.errorCode, log));
      failed = true;
      continue;
    }
    const entry = emptyPartition(wanted.partition, ErrorCode.NONE, log);
    if (result.bytes > 0) {
      entry.records = result.chunks;
      firstNonEmpty = false;
      bytes += result.bytes;
      sizes[sizes.length - 1] = result.bytes;
      budget = Math.max(0, budget - result.bytes);
      reads.push({ topic: log.topic, chunks: result.chunks, bytes: result.bytes });
      if (throttled) broker.replicationQuotas.leader.record(result.bytes, Date.now());
    } else {
      entry.records = [];
    }
    partitions.push(entry);
  }
  return { partitions, sizes, bytes, failed, reads };
}

/**
 * The answer to a fetch that was read: a full fetch may open a session now, an incremental
 * one leaves out the partitions with nothing new. Counts what it carries in the metrics.
 */
function answered(
  broker: Broker,
  version: number,
  fetcher: Fetcher,
  context: Exclude<FetchContext, { kind: 'error' }>,
  slots: Slot[],
  attempt: Awaited<ReturnType<typeof readAll>>,
  listenerName: string,
): FetchResponse {
  const answers: (PartitionAnswer | null)[] = attempt.partitions.map((p, i) =>
    p === null
      ? null
      : {
          errorCode: p.errorCode,
          highWatermark: p.highWatermark,
          lastStableOffset: p.lastStableOffset,
          logStartOffset: p.logStartOffset,
          bytes: attempt.sizes[i],
          diverging: p.divergingEpoch !== undefined,
        },
  );
  let sessionId = INVALID_SESSION_ID;
  let sent: boolean[] | null = null;
  // Only an incremental fetch leaves partitions unread (null).
  if (context.kind === 'full')
    sessionId = broker.fetchSessions.completeFull(context, answers as PartitionAnswer[], broker.clock());
  else if (context.kind === 'incremental') {
    sent = broker.fetchSessions.completeIncremental(context, answers);
    // Another fetch of this fetch session came in while this one was parked: Kafka's answer.
    if (sent === null) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH, context.session.id);
    sessionId = context.session.id;
  }
  // Every partition with records is sent (mustRespond), so what was read is what goes out.
  for (const read of attempt.reads) broker.metrics.fetched(read.topic, read.chunks, read.bytes, fetcher.follower);
  return assemble(broker, version, sessionId, slots, attempt.partitions, sent, listenerName);
}

/**
 * The response: partitions grouped by topic in the order they were read (a topic is
 * repeated if its partitions are not next to each other, as Kafka's FetchResponse.of does).
 */
function assemble(
  broker: Broker,
  version: number,
  sessionId: number,
  slots: Slot[],
  partitions: (PartitionEntry | null)[],
  sent: boolean[] | null,
  listenerName: string,
): FetchResponse {
  const responses: { topic: string; topicId: string; partitions: PartitionEntry[] }[] = [];
  const leaders = new Set<number>();
  let last: (typeof responses)[number] | undefined;
  slots.forEach((slot, i) => {
    if (sent && !sent[i]) return;
    const { topic, topicId } = slot.request;
    const entry = partitions[i];
    if (entry === null) return;
    if (version >= 16 && topic !== null) addCurrentLeader(broker, topic, entry, leaders);
    if (!last || last.topic !== (topic ?? '') || last.topicId !== topicId) {
      last = { topic: topic ?? '', topicId, partitions: [] };
      responses.push(last);
    }
    last.partitions.push(entry);
  });
  const response: FetchResponse = { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses };
  if (leaders.size > 0) response.nodeEndpoints = nodeEndpoints(broker, leaders, listenerName);
  return response;
}

/** KIP-951: a fetch sent to the wrong replica learns the current leader and its epoch. */
function addCurrentLeader(broker: Broker, topic: string, entry: PartitionEntry, leaders: Set<number>): void {
  if (entry.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER && entry.errorCode !== ErrorCode.FENCED_LEADER_EPOCH) return;
  const info = broker.quorum.image.topicsByName.get(topic)?.partitions.get(entry.partitionIndex);
  const leaderId = info ? info.leader : -1;
  entry.currentLeader = { leaderId, leaderEpoch: info ? info.leaderEpoch : -1 };
  if (leaderId >= 0) leaders.add(leaderId);
}

/**
 * Where the named leaders listen on the client's listener (live ones with that listener
 * only, as Kafka's getAliveBrokerNode).
 */
function nodeEndpoints(broker: Broker, leaders: Set<number>, listenerName: string) {
  const out: { nodeId: number; host: string; port: number; rack: string | null }[] = [];
  for (const id of [...leaders].sort((a, b) => a - b)) {
    const endpoint = brokerEndpoint(broker, id, listenerName);
    if (!endpoint || endpoint.fenced) continue;
    out.push({ nodeId: id, host: endpoint.host, port: endpoint.port, rack: endpoint.rack });
  }
  return out;
}

/**
 * Parks until any of the partitions has more to give (a follower: an append; a consumer:
 * a higher high watermark), or the time runs out; true if woken.
 */
function waitForData(
  slots: Slot[],
  timeoutMs: number,
  broker: Broker,
  follower: boolean,
  movedSinceRead: () => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const unsubscribes: (() => void)[] = [];
    let settled = false;
    const finish = (woken: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
      resolve(woken);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    for (const slot of slots) {
      if (slot.log)
        unsubscribes.push(
          follower ? slot.log.onAppend(() => finish(true)) : slot.log.onHighWatermark(() => finish(true)),
        );
    }
    unsubscribes.push(broker.onShutdown(() => finish(false)));
    if (movedSinceRead()) finish(true);
  });
}
