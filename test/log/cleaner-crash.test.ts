// The cleaner's segment swap under the in-memory file system's power-cut model: a pass is
// cut by a failing file-system call at each of its mutating calls in turn (writing the
// .cleaned file, its fsync, the rename to .swap, the deletions, the rename into place, the
// directory fsyncs), then the power goes (crash() keeps a random part of what was not
// durable), sometimes again during the recovery at the next open. Every time the log
// reopens with no .cleaned or .swap file left, its batches whole and in offset order, its
// log end unchanged, every record it holds one that was written at that offset, and per
// key the latest value the same as before cleaning; a pass after the restart cleans it.
// A read that started before a swap finishes on the old segment.
//
// BROOK_CLEANER_CRASH_SEEDS sets the power cuts per cut point (npm run soak:cleaner-crash runs many more).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatch, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';
import { LogCleaner } from '../../src/log/cleaner/log-cleaner';

const ROOT = '/data/logs';
const DIR = `${ROOT}/t-0`;
const T0 = 1_700_000_000_000;
const now = () => T0;
/** Power cuts per cut point: seed 1 loses all that is not durable, 2 keeps it all, the rest are random. */
const SEEDS = Number(process.env.BROOK_CLEANER_CRASH_SEEDS ?? 3);

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

function open(fs: MemoryFileSystem): PartitionLog {
  return PartitionLog.open({
    fs,
    dir: DIR,
    topic: 't',
    partition: 0,
    config: { 'cleanup.policy': 'compact', 'segment.bytes': '400', 'delete.retention.ms': '86400000' },
    clock: now,
    tailCache: new TailCache(1 << 20),
  });
}

function cleaner(fs: MemoryFileSystem, log: PartitionLog): LogCleaner {
  return new LogCleaner({ fs, root: ROOT, logs: () => [log], clock: now, settings: { dedupeBufferBytes: 1 << 16 } });
}

/** offset -> "key=value" of every record, and key -> latest value. */
async function contents(log: PartitionLog): Promise<{ records: Map<number, string>; latest: Map<string, string> }> {
  const records = new Map<number, string>();
  const latest = new Map<string, string>();
  let offset = log.logStartOffset;
  let last = -1;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    assert.is(read.errorCode, ErrorCode.NONE);
    if (read.bytes === 0) break;
    for (const chunk of read.chunks)
      for (const bytes of splitBatches(chunk).batches) {
        const view = new RecordBatchView(bytes);
        assert.is(view.computeCrc(), view.crc, 'batches are whole');
        assert.ok(view.baseOffset > last, 'batches in offset order');
        for (const r of await view.records()) {
          const text = `${r.key}=${r.value === null ? '<tombstone>' : r.value}`;
          records.set(r.offset, text);
          latest.set(String(r.key), r.value === null ? '<tombstone>' : String(r.value));
        }
        last = view.lastOffset;
        offset = view.lastOffset + 1;
      }
  }
  return { records, latest };
}

/** A durable compacted log: keys overwritten across several segments, a tombstone. */
async function build(fs: MemoryFileSystem): Promise<PartitionLog> {
  const log = open(fs);
  for (let round = 0; round < 4; round++)
    for (let k = 0; k < 4; k++) {
      const value = round === 3 && k === 0 ? null : `v${round}`;
      const batch = await encodeRecordBatch({ records: [{ key: `k${k}`, value, timestamp: T0 }] });
      assert.is(log.append([batch], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
    }
  log.flush();
  return log;
}

function leftovers(fs: MemoryFileSystem): string[] {
  return fs.readdir(DIR).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'));
}

test('a power cut at any call of a cleaning pass leaves a log that reopens whole', async () => {
  // How many mutating calls one whole pass makes.
  const probe = new MemoryFileSystem();
  const probeLog = await build(probe);
  const expected = await contents(probeLog);
  const end = probeLog.logEndOffset;
  const mutating = ['open', 'append', 'writeAt', 'truncate', 'sync', 'rename', 'unlink', 'syncDir'] as const;
  const count = () => mutating.reduce((n, op) => n + (probe.calls.get(op) ?? 0), 0);
  const before = count();
  await cleaner(probe, probeLog).cleanNow(probeLog);
  const total = count() - before;
  assert.ok(total > 10, `a pass makes ${total} mutating calls`);
  const cleaned = await contents(probeLog);
  assert.ok(cleaned.records.size < expected.records.size, 'the pass removed records');

  let runs = 0;
  for (let cut = 0; cut < total; cut++) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seeded(cut * 31 + seed);
      const fs = new MemoryFileSystem();
      const log = await build(fs);
      const context = `cut at call ${cut}, seed ${seed}`;
      const stop = fs.injectFault({ code: 'EIO', skip: cut, times: 1 });
      try {
        await cleaner(fs, log).cleanNow(log);
      } catch {
        // The pass stops at the failed call, as a power cut would stop it.
      }
      stop();
      log.abandon();
      fs.crash(seed === 1 ? () => 0 : seed === 2 ? () => 0.99 : random);
      // Sometimes the power goes again while the next open finishes the swap.
      if (seed >= 3 && random() < 0.5) {
        const again = fs.injectFault({ code: 'EIO', skip: Math.floor(random() * 6), times: 1 });
        try {
          open(fs).abandon();
        } catch {
          // Cut during recovery.
        }
        again();
        fs.crash(random);
      }
      const reopened = open(fs);
      assert.equal(leftovers(fs), [], `${context}: no .cleaned or .swap file left`);
      assert.is(reopened.logEndOffset, end, `${context}: log end unchanged`);
      const seen = await contents(reopened);
      for (const [offset, text] of seen.records)
        assert.is(text, expected.records.get(offset), `${context}: offset ${offset} holds what was written there`);
      assert.equal(seen.latest, expected.latest, `${context}: the latest value per key is unchanged`);
      // A pass after the restart finishes the job.
      await cleaner(fs, reopened).cleanNow(reopened);
      assert.equal((await contents(reopened)).records, cleaned.records, `${context}: cleaned after restart`);
      reopened.close();
      runs++;
    }
  }
  assert.is(runs, total * SEEDS);
});

test('a read that started before a swap finishes; later reads see the cleaned segment', async () => {
  const fs = new MemoryFileSystem();
  const log = await build(fs);
  // An async lookup holds the segment list while the pass swaps segments under it.
  const lookup = log.offsetForTimestamp(T0);
  const before = log.read(0, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
  const pass = cleaner(fs, log).cleanNow(log);
  const [found] = await Promise.all([lookup, pass]);
  assert.is(found?.offset, 0);
  const bytes = Buffer.concat(before.chunks);
  assert.is(new RecordBatchView(bytes).baseOffset, 0, 'bytes handed out before the swap stay valid');
  const after = log.read(0, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
  assert.is(after.errorCode, ErrorCode.NONE);
  assert.ok(new RecordBatchView(Buffer.concat(after.chunks)).baseOffset > 0, 'offset 0 was cleaned away');
  log.close();
});

test.run();
