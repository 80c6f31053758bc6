// The fetcher's half of fetch sessions on its own: what each request names (full, then only
// new and changed partitions, forgotten ones listed), and how answers and failures move the
// session id and epoch, as Kafka's client FetchSessionHandler does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { FetchSessionHandler, SessionRequest, WantedPartition } from '../../src/net/fetch-session-handler';

function want(topic: string, partition: number, fetchOffset: number, topicId = ZERO_UUID): WantedPartition {
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

const named = (r: SessionRequest) =>
  r.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partition}@${p.fetchOffset}`));
const forgotten = (r: SessionRequest) =>
  r.forgottenTopicsData.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`));

test('full first, then only what changed; dropped partitions are forgotten', () => {
  const h = new FetchSessionHandler();
  const first = h.build([want('a', 0, 0), want('a', 1, 0), want('b', 0, 5)], 12);
  assert.equal([first.sessionId, first.sessionEpoch, first.full], [0, 0, true]);
  assert.equal(named(first), ['a-0@0', 'a-1@0', 'b-0@5']);
  assert.ok(h.handleResponse(first, { errorCode: ErrorCode.NONE, sessionId: 42 }));
  assert.equal([h.id, h.epoch], [42, 1]);
  // a-1 moved on, b-0 is not wanted any more.
  const second = h.build([want('a', 0, 0), want('a', 1, 3)], 12);
  assert.equal([second.sessionId, second.sessionEpoch, second.full], [42, 1, false]);
  assert.equal(named(second), ['a-1@3']);
  assert.equal(forgotten(second), ['b-0']);
  assert.ok(h.handleResponse(second, { errorCode: ErrorCode.NONE, sessionId: 42 }));
  assert.is(h.epoch, 2);
  // Nothing changed: an empty request; b-0 back: named again.
  assert.equal(named(h.build([want('a', 0, 0), want('a', 1, 3)], 12)), []);
  h.handleResponse(
    { sessionId: 42, sessionEpoch: 2, topics: [], forgottenTopicsData: [], full: false },
    {
      errorCode: ErrorCode.NONE,
      sessionId: 42,
    },
  );
  assert.equal(named(h.build([want('a', 0, 0), want('a', 1, 3), want('b', 0, 5)], 12)), ['b-0@5']);
  assert.equal(h.sent, { full: 1, incremental: 3 });
});

test('FETCH_SESSION_ID_NOT_FOUND starts over with no session; other errors reopen naming the old one', () => {
  const h = new FetchSessionHandler();
  const wanted = [want('a', 0, 0)];
  h.handleResponse(h.build(wanted, 12), { errorCode: ErrorCode.NONE, sessionId: 9 });
  const epochError = h.build(wanted, 12);
  assert.is(h.handleResponse(epochError, { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: 0 }), false);
  const reopen = h.build(wanted, 12);
  assert.equal([reopen.sessionId, reopen.sessionEpoch, reopen.full], [9, 0, true]);
  assert.equal(named(reopen), ['a-0@0']);
  h.handleResponse(reopen, { errorCode: ErrorCode.NONE, sessionId: 10 });
  const lost = h.build(wanted, 12);
  assert.is(h.handleResponse(lost, { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0 }), false);
  const fresh = h.build(wanted, 12);
  assert.equal([fresh.sessionId, fresh.sessionEpoch, fresh.full], [0, 0, true]);
});

test('a failed request, a broker that opens no session or closes it: the next fetch is full', () => {
  const h = new FetchSessionHandler();
  const wanted = [want('a', 0, 0)];
  h.handleResponse(h.build(wanted, 12), { errorCode: ErrorCode.NONE, sessionId: 0 });
  assert.is(h.build(wanted, 12).full, true, 'no session opened');
  h.handleResponse(h.build(wanted, 12), { errorCode: ErrorCode.NONE, sessionId: 5 });
  h.build(wanted, 12);
  h.handleError();
  const retry = h.build(wanted, 12);
  assert.equal([retry.sessionId, retry.sessionEpoch, retry.full], [5, 0, true]);
  h.handleResponse(retry, { errorCode: ErrorCode.NONE, sessionId: 6 });
  const incremental = h.build(wanted, 12);
  assert.ok(h.handleResponse(incremental, { errorCode: ErrorCode.NONE, sessionId: 0 }), 'closed by the broker');
  assert.equal([h.id, h.build(wanted, 12).full], [0, true]);
});

test('by topic id from Fetch 13; a change between names and ids starts a new session', () => {
  const h = new FetchSessionHandler();
  const id = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const first = h.build([want('a', 0, 0, id)], 13);
  assert.is(first.topics[0].topicId, id);
  h.handleResponse(first, { errorCode: ErrorCode.NONE, sessionId: 3 });
  const dropped = h.build([], 13);
  assert.equal(dropped.forgottenTopicsData, [{ topic: 'a', topicId: id, partitions: [0] }]);
  h.handleResponse(dropped, { errorCode: ErrorCode.NONE, sessionId: 3 });
  const byName = h.build([want('a', 0, 0, id)], 12);
  assert.equal([byName.sessionId, byName.sessionEpoch, byName.full], [3, 0, true]);
});

test('sessions off, or a version before 7: every fetch is full and sessionless', () => {
  for (const [h, version] of [
    [new FetchSessionHandler(false), 18],
    [new FetchSessionHandler(), 6],
  ] as const) {
    const r = h.build([want('a', 0, 0)], version);
    assert.equal([r.sessionId, r.sessionEpoch, r.full], [0, -1, true]);
    assert.ok(h.handleResponse(r, { errorCode: ErrorCode.NONE, sessionId: 0 }));
    assert.is(h.build([want('a', 0, 1)], version).sessionEpoch, -1);
  }
});

test('the epoch wraps from 2^31-1 to 1', () => {
  const h = new FetchSessionHandler();
  const wanted = [want('a', 0, 0)];
  h.handleResponse(h.build(wanted, 12), { errorCode: ErrorCode.NONE, sessionId: 1 });
  (h as unknown as { nextEpoch: number }).nextEpoch = 0x7fffffff;
  h.handleResponse(h.build(wanted, 12), { errorCode: ErrorCode.NONE, sessionId: 1 });
  assert.is(h.epoch, 1);
});

test.run();
