// The log start offset as DeleteRecords moves it (Kafka's maybeIncrementLogStartOffset):
// never back, never past the high watermark; reads below it are OFFSET_OUT_OF_RANGE and
// timestamp lookups skip what is below it; once checkpointed it survives any power cut
// (random losses of unsynced data and directory entries), and the retention check deletes
// only segments wholly below it, whatever the cleanup policy, after it is durable. A log
// whose tail was lost below its checkpointed start starts over, empty, at the start, and a
// truncation into the batch holding the start does too.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import {
  formatOffsetCheckpoint,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from '../../src/log/offset-checkpoint';

const DATA = '/data';
const CHECKPOINT = `/data/logs/${LOG_START_OFFSET_CHECKPOINT_FILE}`;
/** About 90 bytes a batch: a few batches to a segment; no retention by time (the records are old). */
const CONFIG = { 'segment.bytes': '300', 'flush.messages': '1', 'retention.ms': '-1' };

function manager(fs: MemoryFileSystem): LogManager {
  const logs = new LogManager({ dataDir: DATA, fs, tailCacheBytes: 1 << 20, housekeepingIntervalMs: 0 });
  logs.open();
  return logs;
}

function batch(i: number, records = 1) {
  return encodeRecordBatchSync({
    records: Array.from({ length: records }, (_, r) => ({
      key: null,
      value: `v${i}-${r}`,
      timestamp: 1_700_000_000_000 + i,
    })),
  });
}

function filled(fs: MemoryFileSystem, count = 20, config: Record<string, string> = CONFIG) {
  const logs = manager(fs);
  const log = logs.getOrCreate('t', 0, config);
  for (let i = 0; i < count; i++) log.append([batch(i)], { leaderEpoch: 0 });
  return { logs, log };
}

/** A seeded PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the start moves forward only, up to the high watermark; reads and lookups below it are refused', async () => {
  const fs = new MemoryFileSystem();
  const { log } = filled(fs);
  log.highWatermark = 15;
  assert.equal(log.maybeIncrementLogStartOffset(16), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, moved: false });
  assert.equal(log.maybeIncrementLogStartOffset(-1), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, moved: false });
  assert.equal(log.maybeIncrementLogStartOffset(2 ** 60), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, moved: false });
  assert.equal(log.maybeIncrementLogStartOffset(7), { errorCode: ErrorCode.NONE, moved: true });
  assert.equal(log.maybeIncrementLogStartOffset(3), { errorCode: ErrorCode.NONE, moved: false });
  assert.is(log.logStartOffset, 7);
  assert.is(log.read(6, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const read = log.read(7, 1 << 20, { minOneBatch: true });
  assert.is(read.errorCode, ErrorCode.NONE);
  assert.ok(read.bytes > 0);
  // The first record at or after an old timestamp is the first one kept.
  assert.equal(await log.offsetForTimestamp(0), { offset: 7, timestamp: 1_700_000_000_007 });
  assert.equal(log.maybeIncrementLogStartOffset(15), { errorCode: ErrorCode.NONE, moved: true });
  assert.is(log.logStartOffset, 15);
});

test('a start inside a batch: the batch is served whole, lookups skip the deleted records', async () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('t', 0, CONFIG);
  log.append([batch(0, 5)], { leaderEpoch: 0 });
  log.append([batch(1, 5)], { leaderEpoch: 0 });
  assert.is(log.maybeIncrementLogStartOffset(3).moved, true);
  assert.is(log.read(2, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.ok(log.read(3, 1 << 20, { minOneBatch: true }).bytes > 0);
  assert.equal(await log.offsetForTimestamp(0), { offset: 3, timestamp: 1_700_000_000_000 });
  // A truncation into the batch holding the start leaves nothing at or after it: the log
  // starts over, empty, at the start.
  assert.is(log.truncateTo(4), 3);
  assert.is(log.logStartOffset, 3);
  assert.is(log.logEndOffset, 3);
  log.append([batch(2)], { leaderEpoch: 1 });
  assert.is(log.logEndOffset, 4);
});

test('once checkpointed the start survives every power cut; retention then deletes only the segments below it', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const fs = new MemoryFileSystem();
    const { logs, log } = filled(fs);
    const segments = log.segmentCount;
    assert.ok(segments >= 4, `${segments} segments`);
    log.maybeIncrementLogStartOffset(9);
    logs.checkpointLogStartOffsets();
    // Retention may or may not run before the cut; either way nothing below 9 comes back.
    const random = prng(seed);
    if (random() < 0.5) logs.applyRetention();
    fs.crash(random);
    const reopened = manager(fs).getOrCreate('t', 0, CONFIG);
    assert.is(reopened.logStartOffset, 9, `seed ${seed}`);
    assert.is(reopened.logEndOffset, 20, `seed ${seed}`);
    assert.is(reopened.read(8, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.ok(
      reopened.read(9, 1 << 20, { minOneBatch: true, upperBound: 20 }).bytes > 0,
      `seed ${seed}: offset 9 is kept`,
    );
  }
});

test('retention deletes the segments wholly below the start whatever the cleanup policy, and writes the start first', () => {
  const fs = new MemoryFileSystem();
  const compact = { ...CONFIG, 'cleanup.policy': 'compact' };
  const { logs, log } = filled(fs, 20, compact);
  const before = log.segmentCount;
  log.maybeIncrementLogStartOffset(9);
  // Not checkpointed yet: the retention check writes the checkpoint before deleting.
  logs.applyRetention();
  assert.ok(log.segmentCount < before, `${log.segmentCount} of ${before} segments left`);
  assert.ok(log.firstSegmentBaseOffset <= 9, `first segment at ${log.firstSegmentBaseOffset}`);
  assert.is(log.logStartOffset, 9);
  assert.equal(readOffsetCheckpoint(fs, CHECKPOINT), [{ topic: 't', partition: 0, offset: 9 }]);
  // The checkpoint lists only logs that start inside their first segment.
  log.maybeIncrementLogStartOffset(log.highWatermark);
  logs.applyRetention();
  logs.checkpoint();
  const entries = readOffsetCheckpoint(fs, CHECKPOINT)!;
  assert.equal(entries.length, log.logStartOffset > log.firstSegmentBaseOffset ? 1 : 0);
  logs.close();
  const reopened = manager(fs).getOrCreate('t', 0, compact);
  assert.is(reopened.logStartOffset, 20);
  assert.is(reopened.logEndOffset, 20);
});

test('a log that ends below its checkpointed start starts over there, empty', () => {
  const fs = new MemoryFileSystem();
  const { logs } = filled(fs, 5);
  logs.close();
  writeOffsetCheckpoint(fs, CHECKPOINT, formatOffsetCheckpoint([{ topic: 't', partition: 0, offset: 12 }]));
  const log = manager(fs).getOrCreate('t', 0, CONFIG);
  assert.is(log.logStartOffset, 12);
  assert.is(log.logEndOffset, 12);
  assert.is(log.highWatermark, 12);
  assert.is(log.append([batch(12)], { leaderEpoch: 0 }).baseOffset, 12);
});

test.run();
