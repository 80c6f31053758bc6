// The partition log on the in-memory file system: append/read round trips, segment rolls
// by size and time, reads across segments and from the index, recovery after crashes with
// torn tails and corrupt bytes, index rebuilds, timestamps, flush policy, long-poll hooks.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';

const DIR = '/data/logs/t-0';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

function openLog(
  fs: MemoryFileSystem,
  config: Record<string, string> = {},
  clock = () => 1_700_000_000_000,
  cacheBytes = 0,
) {
  return PartitionLog.open({
    fs,
    dir: DIR,
    topic: 't',
    partition: 0,
    config,
    clock,
    tailCache: new TailCache(cacheBytes),
  });
}

function batch(values: string[], timestamp = 1_700_000_000_000, producer?: { id: number; epoch: number; seq: number }) {
  return encodeRecordBatchSync({
    records: values.map((value, i) => ({ key: `k-${value}`, value, timestamp: timestamp + i })),
    producerId: producer?.id,
    producerEpoch: producer?.epoch,
    baseSequence: producer?.seq,
  });
}

async function readAll(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; guard < 10_000 && offset < log.logEndOffset; guard++) {
    const result = log.read(offset, 64 * 1024, { minOneBatch: true });
    assert.is(result.errorCode, ErrorCode.NONE);
    if (result.bytes === 0) break;
    for (const chunk of result.chunks) {
      const { batches, error } = splitBatches(chunk);
      assert.is(error, undefined);
      for (const bytes of batches) {
        const view = new RecordBatchView(bytes);
        assert.is(view.validate(), null, 'stored batch still valid');
        for (const record of await view.records()) {
          if (record.offset >= offset) out.push(`${record.offset}:${record.value!.toString()}`);
        }
        offset = view.lastOffset + 1;
      }
    }
  }
  return out;
}

test('append assigns offsets and read returns the stored batches', async () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  const first = log.append([batch(['a', 'b'])], { leaderEpoch: 3 });
  assert.equal([first.errorCode, first.baseOffset, first.lastOffset], [0, 0, 1]);
  const second = log.append([batch(['c']), batch(['d', 'e'])], { leaderEpoch: 3 });
  assert.equal([second.baseOffset, second.lastOffset], [2, 4]);
  assert.is(log.logEndOffset, 5);
  assert.equal(await readAll(log), ['0:a', '1:b', '2:c', '3:d', '4:e']);
  const read = log.read(3, 1 << 20, { minOneBatch: true });
  assert.is(new RecordBatchView(read.chunks[0]).partitionLeaderEpoch, 3, 'leader epoch stamped');
  assert.is(new RecordBatchView(read.chunks[0]).baseOffset, 3, 'a fetch inside a batch starts at that batch');
  assert.is(log.read(6, 100, { minOneBatch: true }).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  assert.is(log.read(5, 100, { minOneBatch: true }).bytes, 0, 'at the end: empty, no error');
});

test('maxBytes is honoured in whole batches, the first batch always whole', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  const big = batch(['x'.repeat(2000)]);
  log.append([big], { leaderEpoch: 0 });
  log.append([batch(['y'])], { leaderEpoch: 0 });
  const one = log.read(0, 100, { minOneBatch: true });
  assert.is(one.bytes, big.length, 'first batch whole even above maxBytes');
  assert.is(log.read(0, 100, { minOneBatch: false }).bytes, 0);
  const both = log.read(0, 1 << 20, { minOneBatch: true });
  assert.ok(both.bytes > big.length);
  assert.is(log.read(0, 1 << 20, { minOneBatch: true, upperBound: 1 }).bytes, big.length, 'stops at the upper bound');
});

test('segments roll by size and by age; reads cross segments', async () => {
  const fs = new MemoryFileSystem();
  let now = 1_700_000_000_000;
  const log = openLog(fs, { 'segment.bytes': '1000', 'segment.ms': '60000', 'index.interval.bytes': '100' }, () => now);
  for (let i = 0; i < 40; i++) log.append([batch([`v${i}`, `w${i}`])], { leaderEpoch: 0 });
  assert.ok(log.segmentCount > 3, `rolled by size (${log.segmentCount} segments)`);
  const bySize = log.segmentCount;
  now += 61_000;
  log.append([batch(['late'])], { leaderEpoch: 0 });
  assert.is(log.segmentCount, bySize + 1, 'rolled by age');
  const files = fs.readdir(DIR).filter((f) => f.endsWith('.log'));
  assert.is(files[0], '00000000000000000000.log');
  assert.ok(files.every((f) => /^\d{20}\.log$/.test(f)));
  const values = await readAll(log);
  assert.is(values.length, 81);
  assert.is(values[80], '80:late');
  // Reading from the middle uses the sparse index of a sealed segment.
  const middle = log.read(37, 1 << 20, { minOneBatch: true });
  assert.is(new RecordBatchView(middle.chunks[0]).baseOffset, 36);
});

test('a torn tail after a crash is cut back to the last whole batch', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const fs = new MemoryFileSystem();
    const log = openLog(fs);
    log.append([batch(['durable-1', 'durable-2'])], { leaderEpoch: 0 });
    log.flush();
    for (let i = 0; i < 5; i++) log.append([batch([`maybe-${i}`])], { leaderEpoch: 0 });
    fs.crash(seeded(seed));
    const recovered = openLog(fs);
    const values = await readAll(recovered);
    assert.equal(values.slice(0, 2), ['0:durable-1', '1:durable-2'], `seed ${seed}: synced data kept`);
    values
      .slice(2)
      .forEach((value, i) => assert.is(value, `${i + 2}:maybe-${i}`, `seed ${seed}: a prefix of whole batches`));
    assert.is(recovered.logEndOffset, values.length, `seed ${seed}: log end follows the recovered data`);
    const next = recovered.append([batch(['after'])], { leaderEpoch: 1 });
    assert.is(next.baseOffset, values.length, `seed ${seed}: appends continue after the cut`);
  }
});

test('a corrupt byte in the tail truncates at that batch', async () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  log.append([batch(['a'])], { leaderEpoch: 0 });
  log.append([batch(['b'])], { leaderEpoch: 0 });
  const size = fs.fileSize(`${DIR}/00000000000000000000.log`);
  log.abandon();
  fs.corrupt(`${DIR}/00000000000000000000.log`, size - 3);
  const recovered = openLog(fs);
  assert.equal(await readAll(recovered), ['0:a']);
  assert.ok(recovered.recoveredTruncatedBytes > 0);
});

test('missing or damaged indexes are rebuilt', async () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs, { 'index.interval.bytes': '50', 'segment.bytes': '100000' });
  for (let i = 0; i < 50; i++) log.append([batch([`v${i}`])], { leaderEpoch: 0 });
  log.close();
  fs.unlink(`${DIR}/00000000000000000000.index`);
  const reopened = openLog(fs, { 'index.interval.bytes': '50' });
  assert.is(reopened.logEndOffset, 50);
  assert.is(new RecordBatchView(reopened.read(42, 1 << 20, { minOneBatch: true }).chunks[0]).baseOffset, 42);
  reopened.close();
  // Garbage in the index file: entries past the log end are refused and rebuilt.
  const handle = fs.open(`${DIR}/00000000000000000000.index`);
  handle.writeAt(Buffer.from('00000001ffffff00', 'hex'), 8);
  const again = openLog(fs, { 'index.interval.bytes': '50' });
  assert.equal((await readAll(again)).length, 50);
});

test('offsets by timestamp and the max timestamp', async () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  log.append([batch(['a', 'b'], 1000)], { leaderEpoch: 0 });
  log.append([batch(['c'], 5000)], { leaderEpoch: 0 });
  log.append([batch(['d'], 3000)], { leaderEpoch: 0 });
  assert.equal(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1000 });
  assert.equal(await log.offsetForTimestamp(1001), { offset: 1, timestamp: 1001 });
  assert.equal(await log.offsetForTimestamp(1002), { offset: 2, timestamp: 5000 });
  assert.is(await log.offsetForTimestamp(6000), null);
  assert.equal(await log.offsetOfMaxTimestamp(), { offset: 2, timestamp: 5000 });
});

test('idempotent producers: duplicates answered with the original offset, gaps refused', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs);
  const p = { id: 7, epoch: 0, seq: 0 };
  assert.is(log.append([batch(['a', 'b'], 1, p)], { leaderEpoch: 0 }).baseOffset, 0);
  const retry = log.append([batch(['a', 'b'], 1, p)], { leaderEpoch: 0 });
  assert.equal([retry.errorCode, retry.baseOffset, retry.duplicate], [0, 0, true]);
  assert.is(log.logEndOffset, 2, 'duplicate not written');
  assert.is(
    log.append([batch(['c'], 1, { id: 7, epoch: 0, seq: 5 })], { leaderEpoch: 0 }).errorCode,
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.is(log.append([batch(['c'], 1, { id: 7, epoch: 0, seq: 2 })], { leaderEpoch: 0 }).baseOffset, 2);
  assert.is(
    log.append([batch(['z'], 1, { id: 7, epoch: 1, seq: 3 })], { leaderEpoch: 0 }).errorCode,
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.is(
    log.append([batch(['z'], 1, { id: 7, epoch: 1, seq: 0 })], { leaderEpoch: 0 }).baseOffset,
    3,
    'new epoch from 0',
  );
  assert.is(
    log.append([batch(['old'], 1, { id: 7, epoch: 0, seq: 3 })], { leaderEpoch: 0 }).errorCode,
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assert.is(
    log.append([batch(['new'], 1, { id: 9, epoch: 0, seq: 4 })], { leaderEpoch: 0 }).errorCode,
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
});

test('producer state survives a clean restart and a crash', () => {
  for (const crash of [false, true]) {
    const fs = new MemoryFileSystem();
    const log = openLog(fs);
    log.append([batch(['a'], 1, { id: 3, epoch: 2, seq: 0 })], { leaderEpoch: 0 });
    log.append([batch(['b'], 1, { id: 3, epoch: 2, seq: 1 })], { leaderEpoch: 0 });
    if (crash) {
      log.flush();
      fs.crash(() => 0.99);
    } else log.close();
    const reopened = openLog(fs);
    const retry = reopened.append([batch(['b'], 1, { id: 3, epoch: 2, seq: 1 })], { leaderEpoch: 0 });
    assert.equal([retry.baseOffset, retry.duplicate], [1, true], `crash=${crash}: duplicate detected after reopen`);
    assert.is(reopened.append([batch(['c'], 1, { id: 3, epoch: 2, seq: 2 })], { leaderEpoch: 0 }).baseOffset, 2);
  }
});

test('flush.messages forces fsync: a crash keeps what was flushed', async () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs, { 'flush.messages': '1' });
  for (let i = 0; i < 5; i++) log.append([batch([`s${i}`])], { leaderEpoch: 0 });
  fs.crash(() => 0);
  assert.is((await readAll(openLog(fs))).length, 5);
});

test('append listeners wake long-polls; the tail cache serves reads', () => {
  const fs = new MemoryFileSystem();
  const log = openLog(fs, {}, undefined, 1 << 20);
  let woken = 0;
  const off = log.onAppend(() => woken++);
  log.append([batch(['a'])], { leaderEpoch: 0 });
  off();
  log.append([batch(['b'])], { leaderEpoch: 0 });
  assert.is(woken, 1);
  const cached = log.read(0, 1 << 20, { minOneBatch: true });
  assert.is(cached.chunks.length, 2, 'served per batch from the cache');
});

test.run();
