// Retention (the delete cleanup policy) on the in-memory file system: segments leave by
// size and by age, never the active one and never one holding offsets at or above the
// high watermark; the log start moves with them, reads below it are out of range, and
// a reopened log starts where retention left it. Also a follower's restart at the
// leader's log start, and the leader-epoch cache trimmed from its start.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LeaderEpochCache } from '../../src/log/leader-epoch-cache';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';

const DIR = '/data/logs/t-0';
const T0 = 1_700_000_000_000;
const HOUR_MS = 3_600_000;

function openLog(fs: MemoryFileSystem, config: Record<string, string>, clock: () => number) {
  return PartitionLog.open({
    fs,
    dir: DIR,
    topic: 't',
    partition: 0,
    config,
    clock,
    tailCache: new TailCache(1 << 20),
  });
}

/** One batch of ten 50-byte records stamped `timestamp`. */
function batch(timestamp: number): Buffer {
  return encodeRecordBatchSync({
    records: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`.padEnd(50, '.'), timestamp })),
  });
}

function segmentFiles(fs: MemoryFileSystem): string[] {
  return fs
    .readdir(DIR)
    .filter((name) => name.endsWith('.log'))
    .sort();
}

/** A log of small segments (one batch each): the `count` batches are `hoursAgo[i]` hours old. */
function filledLog(fs: MemoryFileSystem, config: Record<string, string>, now: () => number, hoursAgo: number[]) {
  const log = openLog(fs, { 'segment.bytes': '600', ...config }, now);
  for (const age of hoursAgo)
    assert.is(log.append([batch(now() - age * HOUR_MS)], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
  return log;
}

test('retention.bytes deletes the oldest sealed segments until the rest fit', () => {
  const fs = new MemoryFileSystem();
  const log = filledLog(fs, { 'retention.bytes': '1500', 'retention.ms': '-1' }, () => T0, [5, 4, 3, 2, 1]);
  assert.is(log.segmentCount, 5);
  const segmentBytes = log.sizeBytes / 5;
  const deleted = log.applyRetention(T0);
  // Kept: the newest segments whose total is at most retention.bytes (Kafka keeps deleting
  // while the size without the oldest segment is still >= retention.bytes).
  assert.ok(log.sizeBytes <= 1500 + segmentBytes, `size ${log.sizeBytes}`);
  assert.is(deleted, 5 - log.segmentCount);
  assert.ok(deleted >= 2);
  assert.is(log.logStartOffset, deleted * 10);
  assert.is(segmentFiles(fs).length, log.segmentCount);
  assert.is(log.read(0, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const first = log.read(log.logStartOffset, 1 << 20, { minOneBatch: true });
  assert.is(first.errorCode, ErrorCode.NONE);
  assert.ok(first.bytes > 0);
});

test('retention.ms deletes segments whose newest record is older; the active segment stays however old', () => {
  const fs = new MemoryFileSystem();
  const log = filledLog(fs, { 'retention.ms': String(3 * HOUR_MS) }, () => T0, [10, 9, 8, 2, 1]);
  assert.is(log.applyRetention(T0), 3);
  assert.is(log.logStartOffset, 30);
  // Hours later everything is expired, yet the active segment (and its offsets) stays.
  assert.is(log.applyRetention(T0 + 100 * HOUR_MS), 1);
  assert.is(log.segmentCount, 1);
  assert.is(log.logStartOffset, 40);
  assert.is(log.logEndOffset, 50);
});

test('nothing at or above the high watermark is deleted', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs, { 'segment.bytes': '600', 'retention.bytes': '0' }, () => T0);
  for (let i = 0; i < 4; i++) log.append([batch(T0)], { leaderEpoch: 0, holdHighWatermark: true });
  log.highWatermark = 15;
  // Segments start at 0, 10, 20, 30: only the one below 10 lies wholly under the HW of 15.
  assert.is(log.applyRetention(T0), 1);
  assert.is(log.logStartOffset, 10);
  log.highWatermark = 40;
  assert.is(log.applyRetention(T0), 2);
  assert.is(log.logStartOffset, 30);
});

test('a topic with cleanup.policy=compact keeps everything; "compact,delete" applies retention', () => {
  const fs = new MemoryFileSystem();
  const compacted = filledLog(fs, { 'retention.ms': '1', 'cleanup.policy': 'compact' }, () => T0, [5, 4, 3]);
  assert.is(compacted.applyRetention(T0), 0);
  const fs2 = new MemoryFileSystem();
  const both = filledLog(fs2, { 'retention.ms': '1', 'cleanup.policy': 'compact,delete' }, () => T0, [5, 4, 3]);
  assert.is(both.applyRetention(T0), 2);
});

test('a reopened log starts where retention left it, with its data intact', () => {
  const fs = new MemoryFileSystem();
  const log = filledLog(fs, { 'retention.bytes': '600', 'retention.ms': '-1' }, () => T0, [4, 3, 2, 1]);
  log.applyRetention(T0);
  const start = log.logStartOffset;
  assert.ok(start > 0);
  log.close();
  const reopened = openLog(fs, { 'segment.bytes': '600' }, () => T0);
  assert.is(reopened.logStartOffset, start);
  assert.is(reopened.logEndOffset, 40);
  assert.is(reopened.read(start, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.NONE);
  assert.ok(
    reopened.epochs.all().every((e) => e.startOffset >= start),
    'epochs trimmed to the log start',
  );
});

test("a follower restarts at the leader's log start: empty, then appends from there", () => {
  const fs = new MemoryFileSystem();
  const log = filledLog(fs, {}, () => T0, [2, 1]);
  log.truncateFullyAndStartAt(1000);
  assert.equal([log.logStartOffset, log.logEndOffset, log.highWatermark, log.segmentCount], [1000, 1000, 1000, 1]);
  assert.equal(segmentFiles(fs), ['00000000000000001000.log']);
  const leaderBatch = encodeRecordBatchSync({
    baseOffset: 1000,
    partitionLeaderEpoch: 3,
    records: [{ value: 'x', timestamp: T0 }],
  });
  assert.ok(log.appendAsFollower([leaderBatch]));
  assert.is(log.logEndOffset, 1001);
  assert.is(log.epochs.latestEpoch, 3);
});

test('the leader-epoch cache trimmed from its start keeps the epoch in force at the new start', () => {
  const cache = new LeaderEpochCache(null, DIR);
  cache.reset([
    { epoch: 1, startOffset: 0 },
    { epoch: 2, startOffset: 100 },
    { epoch: 4, startOffset: 200 },
  ]);
  cache.truncateFromStart(150);
  assert.equal(cache.all(), [
    { epoch: 2, startOffset: 150 },
    { epoch: 4, startOffset: 200 },
  ]);
  cache.truncateFromStart(200);
  assert.equal(cache.all(), [{ epoch: 4, startOffset: 200 }]);
  cache.truncateFromStart(100);
  assert.equal(cache.all(), [{ epoch: 4, startOffset: 200 }]);
});

test.run();
