// The partition log's replication side: leader epochs recorded as batches are written
// (and rebuilt from the batches when the checkpoint is gone), where an epoch ends for
// OffsetForLeaderEpoch, a follower appending the leader's batches as they are, a held-back
// high watermark, and truncation of a divergent suffix across segments.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LEADER_EPOCH_FILE } from '../../src/log/leader-epoch-cache';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';

const DIR = '/data/logs/r-0';

function openLog(fs: MemoryFileSystem, dir = DIR, config: Record<string, string> = {}) {
  return PartitionLog.open({
    fs,
    dir,
    topic: 'r',
    partition: 0,
    config,
    clock: () => 1_700_000_000_000,
    tailCache: new TailCache(1 << 20),
  });
}

function batch(values: string[]) {
  return encodeRecordBatchSync({
    records: values.map((value, i) => ({ key: null, value, timestamp: 1_700_000_000_000 + i })),
  });
}

function values(log: PartitionLog): string[] {
  const out: string[] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; guard < 1000 && offset < log.logEndOffset; guard++) {
    const result = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    const bytes = Buffer.concat(result.chunks);
    for (let at = 0; at < bytes.length;) {
      const size = 12 + bytes.readInt32BE(at + 8);
      const base = Number(bytes.readBigInt64BE(at));
      offset = base + bytes.readInt32BE(at + 23) + 1;
      out.push(bytes.subarray(at, at + size).toString('latin1'));
      at += size;
    }
  }
  return out;
}

test('leader epochs: recorded on append, answered for OffsetForLeaderEpoch, rebuilt from batches', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  log.append([batch(['a', 'b'])], { leaderEpoch: 0 });
  log.append([batch(['c'])], { leaderEpoch: 0 });
  log.append([batch(['d', 'e', 'f'])], { leaderEpoch: 3 });
  assert.equal(log.epochs.all(), [
    { epoch: 0, startOffset: 0 },
    { epoch: 3, startOffset: 3 },
  ]);
  assert.equal(log.epochs.endOffsetFor(0, log.logEndOffset), { epoch: 0, endOffset: 3 });
  assert.equal(
    log.epochs.endOffsetFor(2, log.logEndOffset),
    { epoch: 0, endOffset: 3 },
    'an epoch this log never had ends where the next one starts',
  );
  assert.equal(log.epochs.endOffsetFor(3, log.logEndOffset), { epoch: 3, endOffset: 6 });
  log.close();
  fs.unlink(`${DIR}/${LEADER_EPOCH_FILE}`);
  const reopened = openLog(fs);
  assert.equal(
    reopened.epochs.all(),
    [
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 3 },
    ],
    'rebuilt from the batches',
  );
});

test('a replicated leader holds the high watermark; readers wake when it moves', () => {
  const log = openLog(new MemoryFileSystem());
  log.append([batch(['a', 'b'])], { leaderEpoch: 1, holdHighWatermark: true });
  assert.is(log.logEndOffset, 2);
  assert.is(log.highWatermark, 0);
  assert.is(log.read(0, 1 << 20, { minOneBatch: true }).bytes, 0, 'consumers see nothing above the high watermark');
  let woken = 0;
  log.onHighWatermark(() => woken++);
  log.highWatermark = 2;
  assert.is(woken, 1);
  assert.ok(log.read(0, 1 << 20, { minOneBatch: true }).bytes > 0);
  log.highWatermark = 99;
  assert.is(log.highWatermark, 2, 'never past the log end');
});

test("a follower appends the leader's batches byte for byte and refuses one that overlaps its log", () => {
  const leader = openLog(new MemoryFileSystem());
  leader.append([batch(['a', 'b'])], { leaderEpoch: 2 });
  leader.append([batch(['c'])], { leaderEpoch: 4 });
  const fetched = leader.read(0, 1 << 20, { minOneBatch: true, upperBound: leader.logEndOffset });
  const follower = openLog(new MemoryFileSystem(), '/data/logs/f-0');
  const bytes = Buffer.concat(fetched.chunks);
  const first = bytes.subarray(0, 12 + bytes.readInt32BE(8));
  const second = bytes.subarray(first.length);
  assert.ok(follower.appendAsFollower([first, second]));
  assert.is(follower.logEndOffset, 3);
  // A compacted leader log has offset gaps, so a follower (as Kafka's) takes batches past its
  // end; one starting below its end overlaps what it holds and is refused.
  assert.not.ok(follower.appendAsFollower([second]), 'a batch below the log end is refused');
  assert.equal(values(follower), values(leader), 'identical bytes');
  assert.equal(follower.epochs.all(), [
    { epoch: 2, startOffset: 0 },
    { epoch: 4, startOffset: 2 },
  ]);
});

test('truncation drops a divergent suffix across segments, its epochs and its producer state', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs, DIR, { 'segment.bytes': '200' });
  for (let i = 0; i < 6; i++)
    log.append([batch([`v${i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`])], { leaderEpoch: i < 3 ? 1 : 2 });
  assert.ok(log.segmentCount > 2, 'several segments');
  assert.is(log.truncateTo(2), 2);
  assert.is(log.logEndOffset, 2);
  assert.equal(log.epochs.all(), [{ epoch: 1, startOffset: 0 }]);
  log.append([batch(['after'])], { leaderEpoch: 5 });
  assert.is(log.logEndOffset, 3);
  assert.match(values(log).join(''), /after/);
  assert.not.match(values(log).join(''), /v3-/);
  log.close();
  const reopened = openLog(fs, DIR, { 'segment.bytes': '200' });
  assert.is(reopened.logEndOffset, 3, 'the cut survives a restart');
  assert.equal(reopened.epochs.all(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 5, startOffset: 2 },
  ]);
});

test.run();
