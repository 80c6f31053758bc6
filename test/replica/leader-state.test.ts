// Replication state as pure logic: the high watermark from the ISR's log ends, ISR shrink
// and expand decisions, and where a follower truncates after leader changes, including the
// known hard cases (a leader that appended but was deposed before replicating; two leader
// changes in a row; a follower offline across several epochs).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeaderEpochCache } from '../../src/log/leader-epoch-cache';
import { LeaderState, truncationOffset } from '../../src/replica/leader-state';

function epochs(entries: [number, number][]): LeaderEpochCache {
  const cache = new LeaderEpochCache(null, '');
  for (const [epoch, start] of entries) cache.assign(epoch, start, false);
  return cache;
}

test('the high watermark is the smallest log end in the ISR; replicas outside it do not hold it back', () => {
  const s = new LeaderState(1, [1, 2, 3], [1, 2, 3], 0);
  assert.is(s.highWatermark(10), 0, 'nothing known of the followers yet');
  s.recordFetch(2, 10, 10, 5);
  s.recordFetch(3, 7, 10, 5);
  assert.is(s.highWatermark(10), 7);
  s.isr = [1, 2];
  assert.is(s.highWatermark(10), 10);
  assert.is(new LeaderState(1, [1], [1], 0).highWatermark(4), 4, 'a single replica commits at once');
});

test('a follower not caught up within the lag window leaves the ISR; it comes back once at the high watermark and the epoch start', () => {
  const s = new LeaderState(1, [1, 2, 3], [1, 2, 3], 0);
  const all = () => true;
  s.recordFetch(2, 100, 100, 1000);
  s.recordFetch(3, 50, 100, 1000);
  assert.is(s.proposedIsr(20_000, 30_000, 50, 0, all), null, 'within the window');
  s.recordFetch(2, 120, 120, 31_000);
  assert.equal(s.proposedIsr(31_000, 30_000, 50, 0, all), [1, 2], 'replica 3 last caught up at 0');
  s.isr = [1, 2];
  s.recordFetch(3, 119, 120, 32_000);
  assert.is(s.proposedIsr(32_000, 30_000, 120, 0, all), null, 'below the high watermark: stays out');
  s.recordFetch(3, 120, 120, 33_000);
  assert.equal(s.proposedIsr(33_000, 30_000, 120, 121, all), null, 'not yet at the start of the current epoch');
  assert.equal(s.proposedIsr(33_000, 30_000, 120, 100, all), [1, 2, 3]);
  assert.equal(
    s.proposedIsr(33_000, 30_000, 120, 100, (id) => id !== 3),
    null,
    'a fenced broker is not added',
  );
});

test('a follower that keeps fetching what the leader had at its previous fetch counts as caught up then', () => {
  const s = new LeaderState(1, [1, 2], [1, 2], 0);
  s.recordFetch(2, 10, 20, 1000); // leader at 20
  s.recordFetch(2, 20, 30, 2000); // reached what the leader had at 1000
  assert.is(s.followers.get(2)!.lastCaughtUpMs, 1000);
});

test('truncation: a leader that appended but was deposed before replicating drops that suffix', () => {
  // Old leader A wrote offsets 5-7 in epoch 1, unreplicated; B became leader in epoch 2 at 5.
  const a = epochs([
    [0, 0],
    [1, 5],
  ]);
  const b = epochs([
    [0, 0],
    [2, 5],
  ]);
  const answer = b.endOffsetFor(1, 9);
  assert.equal(answer, { epoch: 0, endOffset: 5 });
  assert.is(truncationOffset(1, answer, a, 8, 5), 5);
});

test('truncation: two leader changes in a row, and a follower offline across several epochs', () => {
  const leader = epochs([
    [0, 0],
    [1, 4],
    [3, 10],
  ]);
  // C was offline since epoch 0 ended at 4: nothing to cut.
  assert.is(truncationOffset(0, leader.endOffsetFor(0, 15), epochs([[0, 0]]), 4, 4), 4);
  // D wrote 4-6 in epoch 1 but the leader's epoch 1 ended at... 10 (it has more): keep all.
  assert.is(
    truncationOffset(
      1,
      leader.endOffsetFor(1, 15),
      epochs([
        [0, 0],
        [1, 4],
      ]),
      7,
      5,
    ),
    7,
  );
  // E led in epoch 2 (which never made it) after writing in epoch 1 up to 8.
  const e = epochs([
    [0, 0],
    [1, 4],
    [2, 8],
  ]);
  const answer = leader.endOffsetFor(2, 15);
  assert.equal(answer, { epoch: 1, endOffset: 10 });
  assert.is(truncationOffset(2, answer, e, 12, 8), 8, 'cut where its own epoch 1 ended');
  // A leader with no epochs at all: keep up to the high watermark.
  assert.is(truncationOffset(1, { epoch: -1, endOffset: -1 }, e, 12, 3), 3);
});

test.run();
