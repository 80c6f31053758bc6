// Recovery of a large active segment on the worker pool: ranges cut at index entries are
// scanned in parallel; a corrupt byte or a torn tail cuts the log at the last whole batch,
// exactly as the inline scan would.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { realFileSystem } from '../../src/log/file-system';
import { preRecoverActiveSegment } from '../../src/log/parallel-recovery';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';
import { WorkerPool } from '../../src/pool/worker-pool';

const BATCHES = 900;
let pool: WorkerPool;

test.before(() => {
  pool = new WorkerPool({ threads: 2 });
});

test.after(async () => {
  await pool.close();
});

function writePartition(): { dir: string; batchSize: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-recovery-'));
  const log = PartitionLog.open({
    fs: realFileSystem,
    dir,
    topic: 't',
    partition: 0,
    config: {},
    clock: Date.now,
    tailCache: new TailCache(0),
  });
  const value = Buffer.alloc(1000, 7);
  let batchSize = 0;
  for (let i = 0; i < BATCHES; i++) {
    const batch = encodeRecordBatchSync({ records: Array.from({ length: 10 }, () => ({ value })) });
    batchSize = batch.length;
    log.append([batch], { leaderEpoch: 0 });
  }
  log.flush();
  log.abandon(); // no clean-shutdown marker: as after kill -9
  return { dir, batchSize };
}

function reopen(dir: string, recovery: { verified: boolean; truncatedBytes: number }) {
  return PartitionLog.open(
    {
      fs: realFileSystem,
      dir,
      topic: 't',
      partition: 0,
      config: {},
      clock: Date.now,
      tailCache: new TailCache(0),
      tailVerified: recovery.verified,
    },
    recovery.truncatedBytes,
  );
}

const segment = (dir: string) => path.join(dir, '00000000000000000000.log');

test('an intact segment is verified in parallel ranges and opens at the same end', async () => {
  const { dir } = writePartition();
  const result = await preRecoverActiveSegment(dir, pool, 0);
  assert.equal(result, { verified: true, truncatedBytes: 0 });
  assert.is(reopen(dir, result).logEndOffset, BATCHES * 10);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a corrupt byte in a middle range cuts the log at that batch', async () => {
  const { dir, batchSize } = writePartition();
  const victim = 500;
  const fd = fs.openSync(segment(dir), 'r+');
  fs.writeSync(fd, Buffer.from([0xee]), 0, 1, victim * batchSize + 100);
  fs.closeSync(fd);
  const result = await preRecoverActiveSegment(dir, pool, 0);
  assert.ok(result.verified);
  assert.is(result.truncatedBytes, (BATCHES - victim) * batchSize);
  const log = reopen(dir, result);
  assert.is(log.logEndOffset, victim * 10);
  assert.is(
    log.append([encodeRecordBatchSync({ records: [{ value: 'after' }] })], { leaderEpoch: 0 }).baseOffset,
    victim * 10,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a torn tail is cut back to the last whole batch', async () => {
  const { dir, batchSize } = writePartition();
  fs.truncateSync(segment(dir), BATCHES * batchSize - 37);
  const result = await preRecoverActiveSegment(dir, pool, 0);
  assert.equal([result.verified, result.truncatedBytes], [true, batchSize - 37]);
  assert.is(reopen(dir, result).logEndOffset, (BATCHES - 1) * 10);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a lying index falls back to the inline scan', async () => {
  const { dir } = writePartition();
  const indexFile = path.join(dir, '00000000000000000000.index');
  const index = fs.readFileSync(indexFile);
  // Shift every entry after the first 5 bytes past its batch start: still increasing,
  // inside the file, but not batch boundaries.
  for (let entry = 8; entry + 8 <= index.length; entry += 8)
    index.writeUInt32BE(index.readUInt32BE(entry + 4) + 5, entry + 4);
  fs.writeFileSync(indexFile, index);
  const result = await preRecoverActiveSegment(dir, pool, 0);
  assert.is(result.verified, false);
  assert.is(reopen(dir, result).logEndOffset, BATCHES * 10, 'the inline scan recovers everything');
  fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
