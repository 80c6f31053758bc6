// Durable Raft storage on the in-memory file system: term and vote survive crashes and a
// corrupt state file refuses to start; the entry log keeps exactly its synced prefix
// through torn writes, repairs divergent suffixes, and compacts behind snapshots.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { QuorumStorageError } from '../../src/raft/driver';
import { QuorumStorage } from '../../src/raft/quorum-storage';

const DIR = '/data/__cluster_metadata';
const entry = (index: number, term: number) => ({ index, term, data: Buffer.from(`e${index}t${term}`) });

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (state * 1664525 + 1013904223) >>> 0) / 0x100000000;
}

test('term and vote: durable, and a corrupt file refuses to start', () => {
  const fs = new MemoryFileSystem();
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
    const fs = new MemoryFileSystem();
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
  const fs = new MemoryFileSystem();
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
  const fs = new MemoryFileSystem();
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
  const fs = new MemoryFileSystem();
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
  const other = QuorumStorage.open(new MemoryFileSystem(), DIR);
  other.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
  other.alignWithSnapshot({ index: 2, term: 1, voters: [], data: Buffer.alloc(0) });
  assert.equal(
    other.read(1, 5).map((e) => e.index),
    [3],
  );
});

test.run();
