// The cleaner's manager on the in-memory file system: which compacted log it cleans
// (dirtiest first, min.cleanable.dirty.ratio, min.compaction.lag.ms, max.compaction.lag.ms,
// never a delete-only log), the cleaner-offset-checkpoint it keeps across restarts and
// lowers on truncation, and a follower replicating a compacted leader (offset gaps, empty
// batches) that then compacts its own copy; a log whose pass fails is set aside.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compression } from '../../protocol/compression';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatch, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { MemoryFileSystem, readWholeFile } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { PartitionLog } from '../../src/log/partition-log';
import { CLEANER_CHECKPOINT_FILE, LogCleaner } from '../../src/log/cleaner/log-cleaner';

const T0 = 1_700_000_000_000;
const HOUR_MS = 3_600_000;

function manager(fs: MemoryFileSystem, clock: () => number): LogManager {
  const logs = new LogManager({
    dataDir: '/data',
    fs,
    clock,
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 0,
    cleaner: { dedupeBufferBytes: 1 << 16 },
  });
  logs.open();
  return logs;
}

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '300' };

/** `rounds` rounds over `keys` keys, one record per batch, stamped `timestamp`. */
async function fill(log: PartitionLog, rounds: number, keys: number, timestamp: number): Promise<void> {
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < keys; k++) {
      const batch = await encodeRecordBatch({ records: [{ key: `k${k}`, value: `v${round}`, timestamp }] });
      assert.is(log.append([batch], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
    }
}

async function recordOffsets(log: PartitionLog): Promise<number[]> {
  const out: number[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    if (read.bytes === 0) break;
    for (const chunk of read.chunks)
      for (const bytes of splitBatches(chunk).batches) {
        const view = new RecordBatchView(bytes);
        for (const r of await view.records()) out.push(r.offset);
        offset = view.lastOffset + 1;
      }
  }
  return out;
}

test('the dirtiest compacted log is cleaned first; clean and delete-only logs are left alone', async () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs, () => T0);
  const dirty = logs.getOrCreate('dirty', 0, COMPACT);
  const lessDirty = logs.getOrCreate('less', 0, { ...COMPACT, 'min.cleanable.dirty.ratio': '0.01' });
  const deleteOnly = logs.getOrCreate('plain', 0, { 'cleanup.policy': 'delete', 'segment.bytes': '300' });
  await fill(dirty, 4, 4, T0);
  await fill(lessDirty, 4, 4, T0);
  await fill(deleteOnly, 4, 4, T0);
  const cleaner = logs.cleaner!;
  // Clean "less" once, then dirty it a little: its ratio is now below "dirty"'s 1.0.
  await cleaner.cleanNow(lessDirty);
  await fill(lessDirty, 1, 4, T0);
  const ratios = new Map(cleaner.states().map((s) => [s.topic, s.dirtyRatio]));
  assert.is(ratios.get('dirty'), 1);
  assert.ok(ratios.get('less')! < 1 && ratios.get('less')! > 0, `less is partly dirty (${ratios.get('less')})`);
  assert.not.ok(ratios.has('plain'), 'a delete-only log is not a cleaner log');
  const plainBefore = await recordOffsets(deleteOnly);
  assert.ok(await cleaner.cleanFilthiest(T0));
  assert.is(new Map(cleaner.states().map((s) => [s.topic, s.dirtyRatio])).get('dirty'), 0, 'the dirtiest went first');
  assert.ok(await cleaner.cleanFilthiest(T0), 'then the next one above the ratio');
  assert.not.ok(await cleaner.cleanFilthiest(T0), 'then nothing is dirty enough');
  assert.equal(await recordOffsets(deleteOnly), plainBefore);
  logs.close();
});

test('min.compaction.lag.ms holds young segments back; max.compaction.lag.ms forces an old dirty log', async () => {
  const fs = new MemoryFileSystem();
  let nowMs = T0;
  const logs = manager(fs, () => nowMs);
  const young = logs.getOrCreate('young', 0, { ...COMPACT, 'min.compaction.lag.ms': String(HOUR_MS) });
  await fill(young, 3, 4, T0);
  const cleaner = logs.cleaner!;
  assert.is(await cleaner.cleanNow(young), null, 'nothing is old enough yet');
  nowMs = T0 + HOUR_MS + 1;
  assert.ok(await cleaner.cleanNow(young), 'cleaned once the lag has passed');

  const overdue = logs.getOrCreate('overdue', 0, {
    ...COMPACT,
    'min.cleanable.dirty.ratio': '0.99',
    'max.compaction.lag.ms': String(HOUR_MS),
  });
  await fill(overdue, 1, 8, T0);
  await cleaner.cleanNow(overdue);
  await fill(overdue, 1, 2, T0);
  nowMs = T0 + HOUR_MS / 2;
  assert.not.ok(await cleaner.cleanFilthiest(nowMs), 'below the ratio and not overdue');
  nowMs = T0 + 4 * HOUR_MS;
  const state = cleaner.states(nowMs).find((s) => s.topic === 'overdue')!;
  assert.ok(state.dirtyRatio < 0.99);
  assert.ok(state.compactionDelayMs > 0, 'overdue');
  assert.ok(await cleaner.cleanFilthiest(nowMs), 'cleaned although below the ratio');
  assert.ok(cleaner.totals.maxCompactionDelayMs > 0);
  logs.close();
});

test('the cleaner checkpoint survives a restart and is lowered by a truncation', async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  let logs = manager(fs, now);
  let log = logs.getOrCreate('t', 0, COMPACT);
  await fill(log, 3, 4, T0);
  const result = await logs.cleaner!.cleanNow(log);
  assert.ok(result);
  const text = readWholeFile(fs, `/data/logs/${CLEANER_CHECKPOINT_FILE}`).toString();
  assert.equal(text.split('\n'), ['0', '1', `t 0 ${result!.endOffset}`, '']);
  logs.close();
  logs = manager(fs, now);
  log = logs.getOrCreate('t', 0, COMPACT);
  assert.is(logs.cleaner!.plan(log, T0).firstDirtyOffset, result!.endOffset, 'read back at start');
  assert.is(await logs.cleaner!.cleanNow(log), null, 'nothing new to clean');
  log.truncateTo(3);
  assert.is(logs.cleaner!.plan(log, T0).firstDirtyOffset, log.logStartOffset, 'cleaned again from the cut');
  logs.deletePartition('t', 0);
  logs.close();
});

test("a follower replicates a compacted leader's log (gaps, empty batches) and compacts its own copy", async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  const logs = manager(fs, now);
  const leader = logs.getOrCreate('lead', 0, COMPACT);
  await fill(leader, 4, 4, T0);
  await logs.cleaner!.cleanNow(leader);
  const follower = logs.getOrCreate('follow', 0, COMPACT);
  // The follower fetches from its log end until it has the leader's log.
  while (follower.logEndOffset < leader.logEndOffset) {
    const read = leader.read(follower.logEndOffset, 1 << 20, { minOneBatch: true, upperBound: leader.logEndOffset });
    assert.is(read.errorCode, ErrorCode.NONE);
    assert.ok(follower.appendAsFollower(splitBatches(Buffer.concat(read.chunks)).batches), 'stored batches accepted');
  }
  assert.equal(await recordOffsets(follower), await recordOffsets(leader), 'the same records at the same offsets');
  // New writes on both, then each replica compacts its own log.
  await fill(leader, 2, 4, T0);
  while (follower.logEndOffset < leader.logEndOffset) {
    const read = leader.read(follower.logEndOffset, 1 << 20, { minOneBatch: true, upperBound: leader.logEndOffset });
    assert.ok(follower.appendAsFollower(splitBatches(Buffer.concat(read.chunks)).batches));
  }
  follower.highWatermark = leader.highWatermark;
  assert.ok(await logs.cleaner!.cleanNow(follower), 'the follower cleans its own copy');
  await logs.cleaner!.cleanNow(leader);
  const latest = async (log: PartitionLog) => (await recordOffsets(log)).filter((o) => o >= 16);
  assert.equal(await latest(follower), await latest(leader), 'both keep the latest records');
  logs.close();
});

test('a log whose pass fails is skipped until it is truncated (Kafka marks it uncleanable)', async () => {
  const fs = new MemoryFileSystem();
  const errors: unknown[] = [];
  const logs = new LogManager({
    dataDir: '/data',
    fs,
    clock: () => T0,
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 0,
    cleaner: { dedupeBufferBytes: 1 << 16 },
    onCleanerError: ({ error }) => errors.push(error),
  });
  logs.open();
  const log = logs.getOrCreate('bad', 0, COMPACT);
  for (let i = 0; i < 6; i++) {
    const batch = await encodeRecordBatch({
      records: [{ key: `k${i % 2}`, value: 'x'.repeat(40), timestamp: T0 }],
      compression: Compression.Gzip,
    });
    assert.is(log.append([batch], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
  }
  // Garble the first batch's compressed payload: its CRC-32C no longer holds.
  fs.corrupt('/data/logs/bad-0/00000000000000000000.log', 61 + 12);
  const cleaner = logs.cleaner!;
  await cleaner.cleanFilthiest(T0).then(
    () => assert.unreachable('the pass fails'),
    () => undefined,
  );
  assert.is(errors.length, 1);
  assert.is(cleaner.uncleanableCount, 1);
  assert.not.ok(await cleaner.cleanFilthiest(T0), 'skipped from now on');
  assert.equal(
    fs.readdir('/data/logs/bad-0').filter((n) => n.includes('.cleaned')),
    [],
    'the failed pass left no file behind',
  );
  log.truncateTo(1);
  assert.is(cleaner.uncleanableCount, 0, 'a truncation gives it another chance');
  logs.close();
});

test('a new log.cleaner.backoff.ms restarts the pending wait with the new value', async () => {
  const fs = new MemoryFileSystem();
  let checks = 0;
  const cleaner = new LogCleaner({
    fs,
    root: '/data/logs',
    logs: () => {
      checks++;
      return [];
    },
    settings: { backoffMs: 60_000 },
  });
  cleaner.start();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(checks, 0, 'the first wait is the long one');
  cleaner.setBackoffMs(20);
  assert.is(cleaner.settings.backoffMs, 20);
  const deadline = Date.now() + 5_000;
  while (checks < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(checks >= 3, `checks every 20 ms after the change (${checks})`);
  await cleaner.stop();
  const after = checks;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.is(checks, after, 'no check after stop');
});
test.run();
