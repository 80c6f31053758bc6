// Fetch (key 1), versions 4-13 served (4 is the first with isolation level and batch v2;
// librdkafka 2.0 needs 4 in range to use batch v2). v13: topics by topic id (KIP-516): an
// id that names no current topic gets UNKNOWN_TOPIC_ID on each of its partitions.
// v5: log start offset. v6: same. v7: fetch sessions (KIP-227). v8: same.
// v9: current leader epoch (KIP-320). v10: same (zstd). v11: rack id, preferred read
// replica (always -1 here). v12: flexible, last fetched epoch, diverging epoch.
//
// Stored batches go out as byte ranges (tail cache slices or file reads), never decoded.
// With too little data the request parks until an append to one of its partitions or
// max_wait_ms, whichever comes first; nothing polls. Fetch sessions are not created
// (session id 0 in every answer), which Kafka permits: clients keep sending full fetches.
// Only the partition's leader answers. A fetch with a replica id is a follower's: its fetch
// offset tells the leader how far that follower's log goes (moving the high watermark),
// and it reads up to the log end; consumers read up to the high watermark. The replica id
// is checked against the metadata and the connection's address, and the position against
// the leader's log, before it counts.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';
import type { Broker } from '../broker';
import type { PartitionLog } from '../../log/partition-log';
import type { Replica } from '../../replica/replica-manager';

type FetchRequest = Request<typeof ApiKey.Fetch>;
type FetchPartition = FetchRequest['topics'][number]['partitions'][number];

const READ_COMMITTED = 1;

function emptyPartition(partitionIndex: number, errorCode: number, log?: PartitionLog) {
  return {
    partitionIndex,
    errorCode,
    highWatermark: log ? log.highWatermark : -1,
    lastStableOffset: log ? log.lastStableOffset : -1,
    logStartOffset: log ? log.logStartOffset : -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null as Buffer[] | null,
  };
}

interface Slot {
  topicIndex: number;
  partitionIndex: number;
  log: PartitionLog | undefined;
  replica: Replica | undefined;
  /** Why there is no log to read (not the leader, unknown, fenced epoch...). */
  errorCode: number;
  request: FetchPartition;
}

export const fetch: ApiHandler<typeof ApiKey.Fetch> = {
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 13,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (request.sessionId !== 0) {
      return { ...this.errorResponse(request, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, ctx.header.apiVersion) };
    }
    // A replica id is a follower's claim: it must come from that broker (see checkFollowerIdentity).
    if (request.replicaId >= 0) {
      const refused = await broker.replicas.checkFollowerIdentity(
        request.replicaId,
        ctx.connection.socket.remoteAddress,
      );
      if (refused !== ErrorCode.NONE) return this.errorResponse(request, refused, ctx.header.apiVersion);
    }
    const slots: Slot[] = [];
    let count = 0;
    const byId = ctx.header.apiVersion >= 13;
    request.topics.forEach((topic, topicIndex) => {
      count += topic.partitions.length;
      // v13+: the topic by its id; an id no topic has now (never made, zero, or the id of
      // a deleted topic even if one of the same name was created since) is UNKNOWN_TOPIC_ID.
      const name = byId ? (broker.topics.getById(topic.topicId)?.name ?? null) : topic.topic;
      topic.partitions.forEach((partition, partitionIndex) => {
        const located =
          name === null
            ? { errorCode: ErrorCode.UNKNOWN_TOPIC_ID }
            : broker.topics.get(name)
              ? broker.replicas.leaderReplica(name, partition.partition, partition.currentLeaderEpoch ?? -1)
              : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if ('errorCode' in located)
          slots.push({
            topicIndex,
            partitionIndex,
            log: undefined,
            replica: undefined,
            errorCode: located.errorCode,
            request: partition,
          });
        else
          slots.push({
            topicIndex,
            partitionIndex,
            log: located.replica.log,
            replica: located.replica,
            errorCode: ErrorCode.NONE,
            request: partition,
          });
      });
    });
    if (count > broker.settings.maxPartitionsPerRequest) {
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    }
    const maxWaitMs = Math.max(0, Math.min(request.maxWaitMs, broker.settings.fetchMaxWaitMsCap));
    const deadline = Date.now() + maxWaitMs;
    const follower = request.replicaId >= 0;
    // Where each log stood when last read: a change after that (even one that lands before
    // the wait below subscribes) wakes the wait at once.
    const mark = () =>
      slots.map((slot) => (slot.log ? (follower ? slot.log.logEndOffset : slot.log.highWatermark) : -1));
    for (;;) {
      const marks = mark();
      const attempt = await readAll(broker, request, slots);
      const remainingMs = deadline - Date.now();
      if (attempt.bytes >= request.minBytes || attempt.failed || remainingMs <= 0 || broker.shuttingDown) {
        return answered(broker, request, slots, attempt);
      }
      const woken = await waitForData(slots, remainingMs, broker, follower, () =>
        mark().some((m, i) => m !== marks[i]),
      );
      if (!woken) return answered(broker, request, slots, await readAll(broker, request, slots));
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

async function readAll(broker: Broker, request: FetchRequest, slots: Slot[]) {
  let budget = Math.min(request.maxBytes > 0 ? request.maxBytes : 0x7fffffff, broker.settings.fetchMaxBytes);
  let bytes = 0;
  let failed = false;
  let firstNonEmpty = true;
  const partitions = [];
  /** What this read gives, counted in the metrics only if it is the read that is answered. */
  const reads: { topic: string; chunks: Buffer[]; bytes: number }[] = [];
  const follower = request.replicaId >= 0;
  for (const slot of slots) {
    const { log, replica, request: wanted } = slot;
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
        request.replicaId,
        wanted.fetchOffset,
        wanted.lastFetchedEpoch ?? -1,
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
      budget = Math.max(0, budget - result.bytes);
      reads.push({ topic: log.topic, chunks: result.chunks, bytes: result.bytes });
    } else {
      entry.records = [];
    }
    partitions.push(entry);
  }
  return { partitions, bytes, failed, reads };
}

/** Counts what a fetch answer carries (bytes and records out per topic), once per answer. */
function answered(broker: Broker, request: FetchRequest, slots: Slot[], attempt: Awaited<ReturnType<typeof readAll>>) {
  const follower = request.replicaId >= 0;
  for (const read of attempt.reads) broker.metrics.fetched(read.topic, read.chunks, read.bytes, follower);
  return assemble(request, slots, attempt.partitions);
}

function assemble(request: FetchRequest, slots: Slot[], partitions: ReturnType<typeof emptyPartition>[]) {
  const responses = request.topics.map((topic) => ({
    topic: topic.topic,
    topicId: topic.topicId,
    partitions: [] as ReturnType<typeof emptyPartition>[],
  }));
  slots.forEach((slot, i) => responses[slot.topicIndex].partitions.push(partitions[i]));
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
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
