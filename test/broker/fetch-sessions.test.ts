// The fetch session cache on its own (no broker, no sockets): Kafka's KIP-227 rules for
// session ids and epochs, incremental updates, which partitions an answer carries, and
// eviction (slots, followers' privilege, least recently used, size).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import {
  FetchContext,
  FetchRequestMetadata,
  FetchSessionCache,
  FETCH_SESSION_EVICTION_MS,
  nextEpoch,
  PartitionAnswer,
  PartitionRequest,
} from '../../src/broker/fetch-sessions';

function ids(start = 100): () => number {
  let next = start;
  return () => next++;
}

function cache(maxSlots = 10, maxPartitionsPerSession = 100): FetchSessionCache {
  return new FetchSessionCache({ maxSlots, maxPartitionsPerSession, randomId: ids() });
}

function part(topic: string, partition: number, fetchOffset = 0, topicId = ZERO_UUID): PartitionRequest {
  return {
    topic,
    topicId,
    partition,
    fetchOffset,
    currentLeaderEpoch: -1,
    lastFetchedEpoch: -1,
    logStartOffset: -1,
    partitionMaxBytes: 1024,
  };
}

function meta(
  sessionId: number,
  sessionEpoch: number,
  partitions: PartitionRequest[],
  more: Partial<FetchRequestMetadata> = {},
): FetchRequestMetadata {
  return { sessionId, sessionEpoch, version: 12, fromFollower: false, partitions, forgotten: [], ...more };
}

function answer(highWatermark: number, bytes = 0, errorCode: number = ErrorCode.NONE): PartitionAnswer {
  return { errorCode, highWatermark, lastStableOffset: highWatermark, logStartOffset: 0, bytes, diverging: false };
}

/** Opens a session over `partitions`, all answered with `hw` and no records; returns its id. */
function open(
  c: FetchSessionCache,
  partitions: PartitionRequest[],
  nowMs = 0,
  more: Partial<FetchRequestMetadata> = {},
) {
  const context = c.newContext(meta(0, 0, partitions, more), nowMs);
  assert.is(context.kind, 'full');
  return c.completeFull(
    context as Extract<FetchContext, { kind: 'full' }>,
    partitions.map(() => answer(5)),
    nowMs,
  );
}

test('epochs: 1, 2, ... wrapping to 1 after 2^31-1; -1 stays -1', () => {
  assert.is(nextEpoch(0), 1);
  assert.is(nextEpoch(41), 42);
  assert.is(nextEpoch(0x7fffffff), 1);
  assert.is(nextEpoch(-1), -1);
});

test('epoch -1 with no session id is sessionless; epoch 0 opens a session with epoch 1 next', () => {
  const c = cache();
  assert.is(c.newContext(meta(0, -1, [part('a', 0)]), 0).kind, 'sessionless');
  const id = open(c, [part('a', 0), part('a', 1)]);
  assert.is(id, 100);
  assert.is(c.get(id)?.epoch, 1);
  assert.is(c.totalPartitions, 2);
});

test('an incremental fetch keeps omitted partitions, answers only those with news', () => {
  const c = cache();
  const id = open(c, [part('a', 0), part('a', 1), part('b', 0)]);
  // Only a-1 moves on; the others stay in the session with their old offsets.
  const context = c.newContext(meta(id, 1, [part('a', 1, 7)]), 10);
  assert.is(context.kind, 'incremental');
  const inc = context as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(
    inc.partitions.map((p) => `${p.topic}-${p.partition}@${p.fetchOffset}`),
    ['a-0@0', 'a-1@7', 'b-0@0'],
  );
  // a-0 unchanged, a-1 has records, b-0's high watermark moved.
  const sent = c.completeIncremental(inc, [answer(5), answer(9, 100), answer(6)]);
  assert.equal(sent, [false, true, true]);
  assert.is(c.get(id)?.epoch, 2);
  // a-1 returned records: it is read last next time.
  const next = c.newContext(meta(id, 2, []), 20) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(
    next.partitions.map((p) => `${p.topic}-${p.partition}`),
    ['a-0', 'b-0', 'a-1'],
  );
  // Nothing new anywhere: an empty answer; an error is always sent.
  assert.equal(c.completeIncremental(next, [answer(5), answer(6), answer(9)]), [false, false, false]);
  const third = c.newContext(meta(id, 3, []), 30) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(third, [answer(5), answer(-1, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER), answer(9)]), [
    false,
    true,
    false,
  ]);
  // After an error the partition is sent again once it is healthy (its cached watermark was reset).
  const fourth = c.newContext(meta(id, 4, []), 40) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(fourth, [answer(5), answer(6), answer(9)]), [false, true, false]);
});

test('a change of last stable offset or log start offset alone is sent', () => {
  const c = cache();
  const id = open(c, [part('a', 0)]);
  const one = c.newContext(meta(id, 1, []), 1) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(one, [{ ...answer(5), lastStableOffset: 4 }]), [true]);
  const two = c.newContext(meta(id, 2, []), 2) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(two, [{ ...answer(5), lastStableOffset: 4, logStartOffset: 3 }]), [true]);
  const three = c.newContext(meta(id, 3, []), 3) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(three, [{ ...answer(5), lastStableOffset: 4, logStartOffset: 3 }]), [false]);
});

test('forgotten partitions leave the session; forgetting the last closes it (sessionless answer)', () => {
  const c = cache();
  const id = open(c, [part('a', 0), part('a', 1)]);
  const context = c.newContext(meta(id, 1, [], { forgotten: [{ topic: 'a', topicId: ZERO_UUID, partition: 0 }] }), 1);
  assert.equal(
    (context as Extract<FetchContext, { kind: 'incremental' }>).partitions.map((p) => p.partition),
    [1],
  );
  assert.is(c.totalPartitions, 1);
  const last = c.newContext(meta(id, 2, [], { forgotten: [{ topic: 'a', topicId: ZERO_UUID, partition: 1 }] }), 2);
  assert.is(last.kind, 'sessionless');
  assert.is(c.get(id), undefined);
  assert.is(c.totalPartitions, 0);
});

test('errors: unknown id, wrong epoch, ids in a name session and back; none changes the session', () => {
  const c = cache();
  const id = open(c, [part('a', 0)]);
  assert.equal(c.newContext(meta(id + 1, 1, []), 1), {
    kind: 'error',
    errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  });
  // Session id 0 with a positive epoch: there is no session 0.
  assert.equal(c.newContext(meta(0, 1, []), 1), { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
  for (const epoch of [2, 7, -2]) {
    assert.equal(c.newContext(meta(id, epoch, []), 1), {
      kind: 'error',
      errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    });
  }
  assert.equal(c.newContext(meta(id, 1, [], { version: 13 }), 1), {
    kind: 'error',
    errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  });
  assert.is(c.get(id)?.epoch, 1);
  const byIds = open(c, [part('a', 0, 0, 'AAAAAAAAAAAAAAAAAAAAAQ')], 0, { version: 13 });
  assert.equal(c.newContext(meta(byIds, 1, [], { version: 12 }), 1), {
    kind: 'error',
    errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  });
});

test('a session id with epoch 0 closes that session and opens a new one; with -1 closes it for good', () => {
  const c = cache();
  const id = open(c, [part('a', 0)]);
  const again = c.newContext(meta(id, 0, [part('b', 0)]), 1);
  assert.is(again.kind, 'full');
  assert.is(c.get(id), undefined);
  const fresh = c.completeFull(again as Extract<FetchContext, { kind: 'full' }>, [answer(1)], 1);
  assert.ok(fresh !== id && fresh > 0);
  assert.is(c.newContext(meta(fresh, -1, [part('b', 0)]), 2).kind, 'sessionless');
  assert.is(c.size, 0);
  assert.is(c.totalPartitions, 0);
  // The old id is gone: its next incremental fetch is told so.
  assert.equal(c.newContext(meta(id, 1, []), 3), { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
});

test('a duplicate incremental fetch (same epoch twice) gets INVALID_FETCH_SESSION_EPOCH, and the first one answered late gets it too', () => {
  const c = cache();
  const id = open(c, [part('a', 0)]);
  const first = c.newContext(meta(id, 1, []), 1) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.newContext(meta(id, 1, []), 1), { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
  const second = c.newContext(meta(id, 2, []), 2) as Extract<FetchContext, { kind: 'incremental' }>;
  // The first fetch was parked while the second came in: its answer carries no data.
  assert.is(c.completeIncremental(first, [answer(9, 10)]), null);
  assert.equal(c.completeIncremental(second, [answer(9, 10)]), [true]);
});

test('topic-id sessions key partitions by id: a name-less (unknown id) partition is still one partition', () => {
  const c = cache();
  const id1 = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const id2 = 'AAAAAAAAAAAAAAAAAAAAAg';
  const id = open(c, [part('a', 0, 0, id1), { ...part('x', 0, 0, id2), topic: null }], 0, { version: 13 });
  const context = c.newContext(
    meta(id, 1, [{ ...part('x', 0, 4, id2), topic: null }], {
      version: 13,
      forgotten: [{ topic: null, topicId: id1, partition: 0 }],
    }),
    1,
  ) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(
    context.partitions.map((p) => [p.topicId, p.fetchOffset]),
    [[id2, 4]],
  );
});

test('more partitions than a session may hold: no session opened, and an incremental fetch past it closes the session', () => {
  const c = cache(10, 2);
  const context = c.newContext(meta(0, 0, [part('a', 0), part('a', 1), part('a', 2)]), 0);
  assert.is(
    c.completeFull(context as Extract<FetchContext, { kind: 'full' }>, [answer(1), answer(1), answer(1)], 0),
    0,
  );
  const id = open(c, [part('a', 0), part('a', 1)]);
  assert.is(c.newContext(meta(id, 1, [part('a', 2)]), 1).kind, 'sessionless');
  assert.is(c.size, 0);
  assert.is(c.totalPartitions, 0);
});

test('the cache-wide partition bound: a session that would not fit evicts what the rules allow, or is not opened', () => {
  const c = new FetchSessionCache({
    maxSlots: 10,
    maxPartitionsPerSession: 10,
    maxPartitionsTotal: 4,
    randomId: ids(),
  });
  const a = open(c, [part('a', 0), part('a', 1), part('a', 2)], 0);
  // One more partition fits, two do not (nothing is stale or evictable yet).
  assert.is(open(c, [part('b', 0), part('b', 1)], 1), 0);
  const b = open(c, [part('b', 0)], 1);
  assert.ok(b > 0);
  assert.is(c.totalPartitions, 4);
  // Growing a session past the bound closes it.
  assert.is(c.newContext(meta(b, 1, [part('b', 1)]), 2).kind, 'sessionless');
  assert.is(c.totalPartitions, 3);
  // Once a is idle past the eviction time, a new session of two evicts it.
  const d = open(c, [part('d', 0), part('d', 1)], FETCH_SESSION_EVICTION_MS + 10);
  assert.ok(d > 0);
  assert.is(c.get(a), undefined);
  assert.is(c.totalPartitions, 2);
});

test('zero slots: sessions are never opened', () => {
  const c = cache(0);
  assert.is(open(c, [part('a', 0)]), 0);
  assert.is(c.size, 0);
});

test('eviction: a full cache evicts a session idle past the eviction time', () => {
  const c = cache(2);
  const a = open(c, [part('a', 0)], 0);
  const b = open(c, [part('b', 0)], 1000);
  // Both new, neither stale: a consumer session of the same size cannot evict.
  assert.is(open(c, [part('c', 0)], 2000), 0);
  // a is idle past 120 s: it goes.
  const d = open(c, [part('d', 0)], FETCH_SESSION_EVICTION_MS + 1);
  assert.ok(d > 0);
  assert.is(c.get(a), undefined);
  assert.ok(c.get(b));
  assert.is(c.evictions, 1);
  // A fetch keeps a session fresh: b is touched now, so d (older use) is the one to go later.
  assert.is(c.newContext(meta(b, 1, []), FETCH_SESSION_EVICTION_MS * 2).kind, 'incremental');
  const e = open(c, [part('e', 0)], FETCH_SESSION_EVICTION_MS * 2 + 10);
  assert.ok(e > 0);
  assert.is(c.get(d), undefined);
  assert.ok(c.get(b));
});

test("eviction: a follower's session evicts a consumer's; a consumer's never evicts a young follower's", () => {
  const c = cache(1);
  const consumer = open(c, [part('a', 0), part('a', 1)], 0);
  const follower = open(c, [part('b', 0)], 10, { fromFollower: true });
  assert.ok(follower > 0);
  assert.is(c.get(consumer), undefined);
  // A consumer's session, even a larger one, cannot push out a young follower session.
  assert.is(open(c, [part('c', 0), part('c', 1), part('c', 2)], 20), 0);
  assert.ok(c.get(follower));
});

test('eviction: among sessions older than the eviction time, a larger new session evicts a smaller one', () => {
  const c = cache(2);
  const small = open(c, [part('a', 0)], 0);
  const large = open(c, [part('b', 0), part('b', 1), part('b', 2)], 0);
  // Keep both recently used (not stale), but created long ago (evictable by anyone).
  const now = FETCH_SESSION_EVICTION_MS + 5;
  c.newContext(meta(small, 1, []), now);
  c.newContext(meta(large, 1, []), now);
  // Same size as the smallest: not worth more (Kafka's tie-break gives the new one id 0).
  assert.is(open(c, [part('c', 0)], now + 1), 0);
  const two = open(c, [part('d', 0), part('d', 1)], now + 2);
  assert.ok(two > 0);
  assert.is(c.get(small), undefined);
  assert.ok(c.get(large));
});

test('a cached partition is quiet only with the offsets last sent and its position at the readable end', () => {
  const c = cache();
  const id = open(c, [part('a', 0, 5)]);
  const cached = (c.newContext(meta(id, 1, []), 1) as Extract<FetchContext, { kind: 'incremental' }>).partitions[0];
  // Opened with high watermark 5, last stable offset 5, log start 0 (see answer()).
  assert.ok(cached.quiet(5, 5, 0, 5));
  assert.not.ok(cached.quiet(6, 5, 0, 5), 'high watermark moved');
  assert.not.ok(cached.quiet(5, 4, 0, 5), 'last stable offset moved');
  assert.not.ok(cached.quiet(5, 5, 1, 5), 'log start moved');
  assert.not.ok(cached.quiet(5, 5, 0, 6), 'records to read');
  // After an error it is never quiet, so the partition is sent once healthy again.
  const next = c.newContext(meta(id, 2, []), 2) as Extract<FetchContext, { kind: 'incremental' }>;
  c.completeIncremental(next, [answer(-1, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER)]);
  assert.not.ok(cached.quiet(5, 5, 0, 5));
  // A partition the handler left unread (null) is not sent and changes nothing.
  const third = c.newContext(meta(id, 3, []), 3) as Extract<FetchContext, { kind: 'incremental' }>;
  assert.equal(c.completeIncremental(third, [null]), [false]);
});

test('session ids are never 0 or taken twice, whatever the random source says', () => {
  const values = [0, 5, 5, -3, 6];
  const c = new FetchSessionCache({ maxSlots: 5, maxPartitionsPerSession: 10, randomId: () => values.shift() ?? 99 });
  assert.is(open(c, [part('a', 0)]), 5);
  assert.is(open(c, [part('b', 0)]), 6);
});

test.run();
