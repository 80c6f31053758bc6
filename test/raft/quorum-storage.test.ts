// Durable Raft storage on the in-memory file system: term and vote survive crashes and a
// corrupt state file refuses to start; the entry log keeps exactly its synced prefix
// through torn writes, repairs divergent suffixes, and compacts behind snapshots.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32c } from '../../protocol/crc32c';
import { MemoryFileSystem } from '../../src/log/file-system';
import { QuorumStorageError } from '../../src/raft/driver';
import { QuorumStorage } from '../../src/raft/quorum-storage';

const DIR = '/data/__cluster_metadata';
const entry = (index: number, term: number) => ({ index, term, data: Buffer.from(`e${index}t${term}`) });

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (state * 1664525 + 1013904223) >>> 0) / 0x100000000;
}

// These tests use the older crash model (directory entries durable at once): they let
// `/data` be created on the fly, and under the default power-cut model a directory whose
// own entry was never synced vanishes in a crash, with everything in it.
const ENTRIES_DURABLE = { directoryEntries: 'durable' } as const;

test('term and vote: durable, and a corrupt file refuses to start', () => {
  const fs = new MemoryFileSystem(ENTRIES_DURABLE);
  const storage = QuorumStorage.open(fs, DIR);
  assert.equal(storage.readHardState(), { term: 0, votedFor: -1 });
  storage.writeHardState({ term: 4, votedFor: 2 });
  fs.crash(() => 0);
  assert.equal(QuorumStorage.open(fs, DIR).readHardState(), { term: 4, votedFor: 2 });
  fs.corrupt(`${DIR}/quorum-state`, 5);
  assert.throws(
    () => QuorumStorage.open(fs, DIR).readHardState(),
    (e: Error) => e instanceof QuorumStorageError && /refusing to start/.test(e.message),
  );
});

test('synced entries survive any crash; unsynced ones survive only as whole entries', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const fs = new MemoryFileSystem(ENTRIES_DURABLE);
    const storage = QuorumStorage.open(fs, DIR);
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
    storage.sync();
    storage.append([entry(4, 2), entry(5, 2), entry(6, 3)]);
    fs.crash(seeded(seed));
    const reopened = QuorumStorage.open(fs, DIR);
    assert.ok(reopened.lastIndex >= 3 && reopened.lastIndex <= 6, `seed ${seed}: ${reopened.lastIndex}`);
    const entries = reopened.read(1, reopened.lastIndex);
    entries.forEach((e, i) =>
      assert.equal([e.index, e.data.toString()], [i + 1, entry(i + 1, e.term).data.toString()], `seed ${seed}`),
    );
    reopened.append([entry(reopened.lastIndex + 1, 9)]);
    assert.is(reopened.termAt(reopened.lastIndex), 9);
  }
});

test('a corrupt entry cuts the log there; divergent suffixes are truncated', () => {
  const fs = new MemoryFileSystem(ENTRIES_DURABLE);
  const storage = QuorumStorage.open(fs, DIR);
  storage.append([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)]);
  storage.sync();
  storage.truncateAfter(2);
  assert.is(storage.lastIndex, 2);
  storage.append([entry(3, 2)]);
  storage.sync();
  assert.equal(
    storage.read(1, 3).map((e) => e.term),
    [1, 1, 2],
  );
  fs.corrupt(`${DIR}/raft.log`, fs.fileSize(`${DIR}/raft.log`) - 2);
  const reopened = QuorumStorage.open(fs, DIR);
  assert.is(reopened.lastIndex, 2);
  assert.ok(reopened.truncatedBytesAtOpen > 0);
  assert.throws(
    () => reopened.append([entry(5, 2)]),
    (e: Error) => /does not follow/.test(e.message),
  );
});

test('snapshots with checksums, and compaction of the log behind them', () => {
  const fs = new MemoryFileSystem(ENTRIES_DURABLE);
  const storage = QuorumStorage.open(fs, DIR);
  storage.append(Array.from({ length: 10 }, (_, i) => entry(i + 1, 1)));
  storage.sync();
  const voters = [{ id: 1, host: '127.0.0.1', port: 9093 }];
  storage.writeSnapshot({ index: 6, term: 1, voters, data: Buffer.from('image-at-6') });
  storage.compactThrough(6);
  assert.equal([storage.firstIndex, storage.lastIndex], [7, 10]);
  assert.equal(
    storage.read(1, 10).map((e) => e.index),
    [7, 8, 9, 10],
  );
  const reopened = QuorumStorage.open(fs, DIR);
  assert.equal([reopened.firstIndex, reopened.lastIndex], [7, 10]);
  const loaded = reopened.latestSnapshot()!;
  assert.equal([loaded.index, loaded.term, loaded.voters, loaded.data.toString()], [6, 1, voters, 'image-at-6']);
  reopened.writeSnapshot({ index: 9, term: 2, voters, data: Buffer.from('image-at-9') });
  fs.corrupt(`${DIR}/00000000000000000009-0000000002.checkpoint`, 6);
  assert.is(reopened.latestSnapshot()!.index, 6, 'a corrupt newer snapshot is skipped');
  reopened.writeSnapshot({ index: 10, term: 2, voters, data: Buffer.from('image-at-10') });
  assert.equal(fs.readdir(DIR).filter((n) => n.endsWith('.checkpoint')).length, 2, 'only the newest two are kept');
});

test('entry kinds survive the disk; a log from another history than the snapshot is dropped', () => {
  const fs = new MemoryFileSystem(ENTRIES_DURABLE);
  const storage = QuorumStorage.open(fs, DIR);
  storage.append([entry(1, 1), { index: 2, term: 1, data: Buffer.from('voters'), kind: 1 }, entry(3, 1)]);
  storage.sync();
  assert.equal(
    QuorumStorage.open(fs, DIR)
      .read(1, 3)
      .map((e) => e.kind ?? 0),
    [0, 1, 0],
  );
  // The snapshot's last entry (index 2) has term 3 at the leader: our entries are not its.
  storage.alignWithSnapshot({ index: 2, term: 3, voters: [], data: Buffer.alloc(0) });
  assert.equal([storage.firstIndex, storage.lastIndex], [3, 2]);
  storage.append([entry(3, 3)]);
  assert.equal(
    storage.read(1, 5).map((e) => [e.index, e.term]),
    [[3, 3]],
  );
  // A matching snapshot keeps what follows it.
  const other = QuorumStorage.open(new MemoryFileSystem(ENTRIES_DURABLE), DIR);
  other.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
  other.alignWithSnapshot({ index: 2, term: 1, voters: [], data: Buffer.alloc(0) });
  assert.equal(
    other.read(1, 5).map((e) => e.index),
    [3],
  );
});

test('terms past 2^31 are stored as int64: hard state, entries and snapshot names', () => {
  const fs = new MemoryFileSystem(ENTRIES_DURABLE);
  const storage = QuorumStorage.open(fs, DIR);
  storage.writeHardState({ term: 2 ** 40, votedFor: 3 });
  storage.append([entry(1, 2 ** 31 - 1), entry(2, 2 ** 31), entry(3, 2 ** 40)]);
  storage.sync();
  const voters = [{ id: 1, host: '127.0.0.1', port: 9093 }];
  storage.writeSnapshot({ index: 2, term: 2 ** 31, voters, data: Buffer.from('image') });
  storage.writeSnapshot({ index: 3, term: 2 ** 40, voters, data: Buffer.from('image-3') });
  fs.crash(() => 0);
  const reopened = QuorumStorage.open(fs, DIR);
  assert.equal(reopened.readHardState(), { term: 2 ** 40, votedFor: 3 });
  assert.equal(
    reopened.read(1, 3).map((e) => e.term),
    [2 ** 31 - 1, 2 ** 31, 2 ** 40],
  );
  const snapshot = reopened.latestSnapshot()!;
  assert.equal([snapshot.index, snapshot.term], [3, 2 ** 40]);
  assert.throws(
    () => reopened.writeHardState({ term: 2 ** 53, votedFor: 1 }),
    (e: Error) => e instanceof QuorumStorageError,
    'a term past 2^53 - 1 cannot be stored exactly',
  );
});

/** A raft.log entry as format 1 wrote it: an int32 term and no file header. */
function formatOneEntry(index: number, term: number, data: string, kind = 0): Buffer {
  const whole = Buffer.alloc(21 + Buffer.byteLength(data));
  whole.writeInt32BE(Buffer.byteLength(data), 0);
  whole.writeInt32BE(term, 8);
  whole.writeBigInt64BE(BigInt(index), 12);
  whole.writeInt8(kind, 20);
  whole.write(data, 21);
  whole.writeUInt32BE(crc32c(whole, 8), 4);
  return whole;
}

test('an upgrade keeps the vote and the log written by format 1, and rewrites them as format 2', () => {
  const fs = new MemoryFileSystem({ volatileRenames: true });
  fs.mkdirp(DIR);
  const body = '7:2';
  const state = fs.open(`${DIR}/quorum-state`);
  state.append(Buffer.from(JSON.stringify({ term: 7, votedFor: 2, crc: crc32c(Buffer.from(body)) })));
  state.sync();
  const log = fs.open(`${DIR}/raft.log`);
  log.append([formatOneEntry(1, 5, 'a'), formatOneEntry(2, 7, 'voters', 1), formatOneEntry(3, 7, 'c')]);
  log.append(formatOneEntry(4, 7, 'torn').subarray(0, 10));
  log.sync();
  fs.syncDir(DIR);
  const storage = QuorumStorage.open(fs, DIR);
  assert.ok(storage.upgradedAtOpen);
  assert.ok(storage.truncatedBytesAtOpen > 0, 'the torn tail is dropped');
  assert.equal(storage.readHardState(), { term: 7, votedFor: 2 });
  assert.equal(
    storage.read(1, 3).map((e) => [e.index, e.term, e.kind ?? 0, e.data.toString()]),
    [
      [1, 5, 0, 'a'],
      [2, 7, 1, 'voters'],
      [3, 7, 0, 'c'],
    ],
  );
  storage.writeHardState({ term: 8, votedFor: 1 });
  storage.append([entry(4, 8)]);
  storage.sync();
  fs.crash(() => 0);
  const after = QuorumStorage.open(fs, DIR);
  assert.not.ok(after.upgradedAtOpen, 'the upgrade is durable (renamed and directory synced)');
  assert.equal(after.readHardState(), { term: 8, votedFor: 1 });
  assert.equal(
    after.read(1, 4).map((e) => e.term),
    [5, 7, 7, 8],
  );
  const raw = Buffer.alloc(8);
  fs.open(`${DIR}/raft.log`).read(raw, 0, 8, 0);
  assert.is(raw.toString('latin1'), 'BRKRLOG\x02');
});

test.run();
