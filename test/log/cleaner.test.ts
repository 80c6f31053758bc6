// The log cleaner's algorithm on the in-memory file system: per key only the latest record
// stays, with its original offset; tombstones stay until delete.retention.ms after the pass
// that first kept them, then go; an idempotent producer's last batch stays (as an empty
// header if need be) so its sequence survives a restart; compressed batches are
// recompressed with their codec; a dedupe buffer too small for the dirty section cleans
// what fits and the next pass goes on from there; keyless records are dropped.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Compression } from '../../protocol/compression';
import { ErrorCode } from '../../protocol/errors';
import {
  encodeRecordBatch,
  type Record as BatchRecord,
  RecordBatchView,
  RecordInput,
  splitBatches,
} from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';
import { LogCleaner } from '../../src/log/cleaner/log-cleaner';
import { deleteHorizonMs } from '../../src/log/cleaner/records';
import { OffsetMap } from '../../src/log/cleaner/offset-map';

const ROOT = '/data/logs';
const DIR = `${ROOT}/t-0`;
const T0 = 1_700_000_000_000;

function openCompactedLog(fs: MemoryFileSystem, clock: () => number, config: Record<string, string> = {}) {
  return PartitionLog.open({
    fs,
    dir: DIR,
    topic: 't',
    partition: 0,
    config: { 'cleanup.policy': 'compact', 'segment.bytes': '300', ...config },
    clock,
    tailCache: new TailCache(1 << 20),
  });
}

function cleanerFor(fs: MemoryFileSystem, log: () => PartitionLog, clock: () => number, dedupeBufferBytes?: number) {
  return new LogCleaner({
    fs,
    root: ROOT,
    logs: () => [log()],
    clock,
    settings: dedupeBufferBytes === undefined ? { dedupeBufferBytes: 1 << 20 } : { dedupeBufferBytes },
  });
}

async function append(
  log: PartitionLog,
  records: RecordInput[],
  extra: Partial<Parameters<typeof encodeRecordBatch>[0]> = {},
) {
  const batch = await encodeRecordBatch({ records, ...extra });
  const result = log.append([batch], { leaderEpoch: 0 });
  assert.is(result.errorCode, ErrorCode.NONE, result.errorMessage);
  return result;
}

/** Every stored batch from the log start, decoded. */
async function readAll(log: PartitionLog): Promise<{ view: RecordBatchView; records: BatchRecord[] }[]> {
  const out: { view: RecordBatchView; records: BatchRecord[] }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    assert.is(read.errorCode, ErrorCode.NONE);
    if (read.bytes === 0) break;
    for (const chunk of read.chunks)
      for (const bytes of splitBatches(chunk).batches) {
        const view = new RecordBatchView(bytes);
        assert.is(view.computeCrc(), view.crc, 'every batch keeps a valid CRC');
        out.push({ view, records: await view.records() });
        offset = view.lastOffset + 1;
      }
  }
  return out;
}

const text = (b: Buffer | null) => (b === null ? null : b.toString());

async function keyedLog(fs: MemoryFileSystem, clock: () => number, config: Record<string, string> = {}) {
  const log = openCompactedLog(fs, clock, config);
  // 3 rounds over keys k0..k4: offsets 0..14; the last round is the latest.
  for (let round = 0; round < 3; round++)
    for (let k = 0; k < 5; k++) await append(log, [{ key: `k${k}`, value: `r${round}`, timestamp: T0 + round }]);
  // A batch in the active segment after a roll: the cleaned range ends below it.
  return log;
}

test('only the latest record per key stays, at its original offset; the log end is unchanged', async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  // An index entry per batch or so: the cleaned segments' indexes are exercised.
  const log = await keyedLog(fs, now, { 'index.interval.bytes': '50' });
  const end = log.logEndOffset;
  const bytesBefore = log.sizeBytes;
  assert.ok(log.segmentCount >= 4, `several segments (${log.segmentCount})`);
  const cleaner = cleanerFor(fs, () => log, now);
  const result = await cleaner.cleanNow(log);
  assert.ok(result && result.groups.length >= 1);
  assert.is(log.logEndOffset, end);
  assert.ok(log.sizeBytes < bytesBefore, 'the log shrank');
  const batches = await readAll(log);
  const live = new Map<string, { offset: number; value: string | null }>();
  const seen: number[] = [];
  for (const { records } of batches)
    for (const r of records) {
      seen.push(r.offset);
      live.set(text(r.key)!, { offset: r.offset, value: text(r.value) });
    }
  assert.equal(
    seen,
    [...seen].sort((a, b) => a - b),
    'offsets increase',
  );
  // Everything below the active segment was cleaned: each key once, in the cleaned range.
  const activeBase = log.cleanerView().activeBaseOffset;
  const cleanedOffsets = seen.filter((o) => o < activeBase);
  const keysInCleaned = new Set(
    batches.flatMap(({ records }) => records.filter((r) => r.offset < activeBase).map((r) => text(r.key))),
  );
  assert.is(cleanedOffsets.length, keysInCleaned.size, 'one record per key in the cleaned range');
  for (let k = 0; k < 5; k++) assert.equal(live.get(`k${k}`), { offset: 10 + k, value: 'r2' });
  // The indexes written with the cleaned segments point at batch starts: a read at any
  // offset (removed ones included) starts at the first batch holding it or after it.
  for (let offset = 0; offset < end; offset++) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: end });
    const first = new RecordBatchView(Buffer.concat(read.chunks));
    assert.ok(first.lastOffset >= offset && first.computeCrc() === first.crc, `read at ${offset}`);
  }
  // A reopened log holds the same (the swap is on disk, indexes rebuilt).
  log.close();
  const reopened = openCompactedLog(fs, now, { 'index.interval.bytes': '50' });
  assert.equal(
    (await readAll(reopened)).flatMap(({ records }) => records.map((r) => r.offset)),
    seen,
  );
  reopened.close();
});

test('tombstones stay until delete.retention.ms after the pass that kept them, then go', async () => {
  const fs = new MemoryFileSystem();
  let nowMs = T0;
  const now = () => nowMs;
  const log = openCompactedLog(fs, now, { 'delete.retention.ms': '1000' });
  await append(log, [{ key: 'a', value: 'a0', timestamp: T0 }]);
  await append(log, [{ key: 'b', value: 'b0', timestamp: T0 }]);
  await append(log, [{ key: 'a', value: null, timestamp: T0 }]);
  for (let i = 0; i < 4; i++) await append(log, [{ key: `x${i}`, value: 'x', timestamp: T0 }]);
  const cleaner = cleanerFor(fs, () => log, now);
  await cleaner.cleanNow(log);
  let batches = await readAll(log);
  const tombstone = batches.find(({ records }) => records.some((r) => text(r.key) === 'a'));
  assert.ok(tombstone, 'the tombstone stays after the first pass');
  assert.is(tombstone!.records.length, 1);
  assert.is(tombstone!.records[0].value, null);
  assert.is(tombstone!.records[0].offset, 2);
  assert.is(tombstone!.records[0].timestamp, T0, 'record timestamps survive the delete horizon');
  assert.is(deleteHorizonMs(tombstone!.view), T0 + 1000, 'the delete horizon is stamped');
  // Before the horizon a second pass keeps it; after it, the tombstone goes.
  for (let i = 0; i < 4; i++) await append(log, [{ key: `y${i}`, value: 'y', timestamp: T0 }]);
  nowMs = T0 + 999;
  await cleaner.cleanNow(log);
  batches = await readAll(log);
  assert.ok(batches.some(({ records }) => records.some((r) => text(r.key) === 'a')));
  for (let i = 0; i < 4; i++) await append(log, [{ key: `z${i}`, value: 'z', timestamp: T0 }]);
  nowMs = T0 + 1000;
  await cleaner.cleanNow(log);
  batches = await readAll(log);
  assert.not.ok(
    batches.some(({ records }) => records.some((r) => text(r.key) === 'a')),
    'the tombstone is gone after the horizon',
  );
  assert.ok(batches.some(({ records }) => records.some((r) => text(r.key) === 'b' && text(r.value) === 'b0')));
  log.close();
});

test("an idempotent producer's last batch stays as an empty header; its sequence survives a restart", async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  const log = openCompactedLog(fs, now);
  const producer = { producerId: 42, producerEpoch: 3 };
  await append(
    log,
    [
      { key: 'p', value: 'p0', timestamp: T0 },
      { key: 'q', value: 'q0', timestamp: T0 },
    ],
    {
      ...producer,
      baseSequence: 0,
    },
  );
  await append(
    log,
    [
      { key: 'p', value: 'p1', timestamp: T0 },
      { key: 'q', value: 'q1', timestamp: T0 },
    ],
    {
      ...producer,
      baseSequence: 2,
    },
  );
  // Another writer overwrites both keys: the producer's last batch loses every record.
  for (let i = 0; i < 3; i++)
    await append(log, [
      { key: 'p', value: `o${i}`, timestamp: T0 },
      { key: 'q', value: `o${i}`, timestamp: T0 },
    ]);
  await append(log, [{ key: 'tail', value: 't', timestamp: T0 }]);
  await cleaner(fs, log, now);
  const batches = await readAll(log);
  const kept = batches.filter(({ view }) => view.producerId === 42);
  assert.is(kept.length, 1, 'only the last batch of the producer stays');
  assert.is(kept[0].view.recordsCount, 0, 'as an empty batch');
  assert.is(kept[0].view.baseOffset, 2);
  assert.is(kept[0].view.lastOffset, 3, 'its last offset, hence its last sequence, is unchanged');
  assert.is(kept[0].view.baseSequence, 2);
  assert.is(kept[0].view.producerEpoch, 3);
  // Restart without producer snapshots: the state is rebuilt from the cleaned log.
  log.close();
  for (const name of fs.readdir(DIR)) if (name.endsWith('.snapshot')) fs.unlink(`${DIR}/${name}`);
  const reopened = openCompactedLog(fs, now);
  const dup = await encodeRecordBatch({
    records: [
      { key: 'p', value: 'p1' },
      { key: 'q', value: 'q1' },
    ],
    ...producer,
    baseSequence: 2,
  });
  const again = reopened.append([dup], { leaderEpoch: 0 });
  assert.is(again.errorCode, ErrorCode.NONE);
  assert.ok(again.duplicate, 'the retried batch is recognised as a duplicate');
  const next = await encodeRecordBatch({ records: [{ key: 'p', value: 'p2' }], ...producer, baseSequence: 4 });
  assert.is(reopened.append([next], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE, 'the next sequence is accepted');
  reopened.close();
});

async function cleaner(fs: MemoryFileSystem, log: PartitionLog, now: () => number) {
  return cleanerFor(fs, () => log, now).cleanNow(log);
}

test('a compressed batch that loses records is recompressed with its codec', async () => {
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const fs = new MemoryFileSystem();
    const now = () => T0;
    const log = openCompactedLog(fs, now);
    await append(
      log,
      [
        { key: 'a', value: 'a0', timestamp: T0, headers: [{ key: 'h', value: 'v' }] },
        { key: 'b', value: 'b0', timestamp: T0 + 5 },
        { key: 'a', value: 'a1', timestamp: T0 + 7 },
      ],
      { compression: codec },
    );
    for (let i = 0; i < 3; i++) await append(log, [{ key: `f${i}`, value: 'f'.repeat(100), timestamp: T0 }]);
    await cleaner(fs, log, now);
    const [first] = await readAll(log);
    assert.is(first.view.compression, codec, `codec ${codec} kept`);
    assert.is(first.view.baseOffset, 0);
    assert.is(first.view.lastOffset, 2, 'last offset delta kept');
    assert.equal(
      first.records.map((r) => [r.offset, text(r.key), text(r.value), r.timestamp]),
      [
        [1, 'b', 'b0', T0 + 5],
        [2, 'a', 'a1', T0 + 7],
      ],
    );
    assert.is(first.view.maxTimestamp, T0 + 7);
    log.close();
  }
});

test('a dedupe buffer too small for the dirty section cleans what fits, the next pass the rest', async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  const log = openCompactedLog(fs, now);
  // 20 distinct keys, then each again: offsets 0..39.
  for (let round = 0; round < 2; round++)
    for (let k = 0; k < 20; k++) await append(log, [{ key: `k${k}`, value: `r${round}`, timestamp: T0 }]);
  await append(log, [{ key: 'tail', value: 't', timestamp: T0 }]);
  // Room for 11 slots, 9 keys at the 0.9 load factor.
  const small = cleanerFor(fs, () => log, now, 11 * 24);
  const first = await small.cleanNow(log);
  assert.ok(first);
  assert.is(first!.endOffset, 9, 'the first pass maps 9 keys and cleans up to them');
  assert.ok(first!.stats.mapUtilization > 0.8);
  // Keys 0..8 lost nothing yet (their later records are past the mapped range).
  let offsets = (await readAll(log)).flatMap(({ records }) => records.map((r) => r.offset));
  assert.is(offsets.length, 41);
  // Passes go on from where the last stopped until the dirty section is done.
  for (let i = 0; i < 10; i++) if (!(await small.cleanNow(log))) break;
  offsets = (await readAll(log)).flatMap(({ records }) => records.map((r) => r.offset));
  assert.equal(
    offsets,
    Array.from({ length: 21 }, (_, i) => 20 + i),
    'the latest round and the tail stay',
  );
  log.close();
});

test('records without a key are dropped from a compacted log', async () => {
  const fs = new MemoryFileSystem();
  const now = () => T0;
  const log = openCompactedLog(fs, now);
  await append(log, [
    { key: null, value: 'nokey', timestamp: T0 },
    { key: 'a', value: 'a0', timestamp: T0 },
  ]);
  for (let i = 0; i < 4; i++) await append(log, [{ key: `x${i}`, value: 'x'.repeat(60), timestamp: T0 }]);
  const result = await cleaner(fs, log, now);
  assert.is(result!.stats.keylessDropped, 1);
  const [first] = await readAll(log);
  assert.equal(
    first.records.map((r) => text(r.key)),
    ['a'],
  );
  log.close();
});

test('the offset map keeps the latest offset per key in bounded memory', () => {
  const map = new OffsetMap(24 * 100);
  assert.is(map.slots, 100);
  for (let i = 0; i < 90; i++) map.put(Buffer.from(`key-${i % 30}`), i);
  assert.is(map.size, 30);
  assert.is(map.get(Buffer.from('key-5')), 65);
  assert.is(map.get(Buffer.from('absent')), -1);
  assert.is(map.latestOffset, 89);
  map.clear();
  assert.is(map.size, 0);
  assert.is(map.get(Buffer.from('key-5')), -1);
  assert.throws(() => new OffsetMap(10));
});

test.run();
