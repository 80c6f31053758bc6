// meta.properties on the in-memory file system: a new data directory is claimed, a
// directory of another node or cluster is refused, and the claim survives a crash only as
// a whole file (written to a temporary name, fsynced, renamed, directory fsynced) in a
// data directory whose own entry was made durable.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { checkMetaProperties } from '../../src/broker/meta-properties';

const DIR = '/data';

/** mulberry32: neighbouring seeds give unrelated sequences from the first number on. */
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

function read(fs: MemoryFileSystem, file: string): string {
  const handle = fs.open(file);
  const raw = Buffer.alloc(handle.size());
  handle.read(raw, 0, raw.length, 0);
  return raw.toString('utf8');
}

test('a new data directory is claimed for the node and cluster', () => {
  const fs = new MemoryFileSystem();
  fs.mkdirp(DIR);
  checkMetaProperties(fs, DIR, 3, 'cluster-a');
  assert.is(read(fs, `${DIR}/meta.properties`), '#Brook data directory\nversion=1\ncluster.id=cluster-a\nnode.id=3\n');
  checkMetaProperties(fs, DIR, 3, 'cluster-a');
});

test('a directory of another node or another cluster is refused', () => {
  const fs = new MemoryFileSystem();
  fs.mkdirp(DIR);
  checkMetaProperties(fs, DIR, 3, 'cluster-a');
  assert.throws(() => checkMetaProperties(fs, DIR, 4, 'cluster-a'), /belongs to node 3, not node 4/);
  assert.throws(() => checkMetaProperties(fs, DIR, 3, 'cluster-b'), /belongs to cluster cluster-a, not cluster-b/);
});

test('the claim survives a power cut whole: the new data directory and the file are both durable', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const fs = new MemoryFileSystem();
    // The data directory does not exist yet: the broker creates it, and its entry in the
    // parent must be fsynced too, or the directory and the claim in it can vanish.
    checkMetaProperties(fs, `${DIR}/node-3`, 3, 'cluster-a');
    fs.crash(seeded(seed));
    assert.is(fs.exists(`${DIR}/node-3/meta.properties.tmp`), false, `seed ${seed}`);
    assert.is(
      read(fs, `${DIR}/node-3/meta.properties`),
      '#Brook data directory\nversion=1\ncluster.id=cluster-a\nnode.id=3\n',
      `seed ${seed}`,
    );
    assert.throws(() => checkMetaProperties(fs, `${DIR}/node-3`, 4, 'cluster-a'), /belongs to node 3/);
  }
});

test('a crash in the middle of the claim leaves no file or the whole one', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const fs = new MemoryFileSystem();
    const random = seeded(seed);
    // Fail the claim at its n-th file system call: the crash comes right there.
    const failAt = Math.floor(random() * 12);
    fs.injectFault({ code: 'EIO', skip: failAt, times: 1 });
    try {
      checkMetaProperties(fs, `${DIR}/node-3`, 3, 'cluster-a');
    } catch {
      // The power cut below.
    }
    fs.clearFaults();
    fs.crash(random);
    const file = `${DIR}/node-3/meta.properties`;
    if (fs.exists(file))
      assert.is(read(fs, file), '#Brook data directory\nversion=1\ncluster.id=cluster-a\nnode.id=3\n', `seed ${seed}`);
    checkMetaProperties(fs, `${DIR}/node-3`, 3, 'cluster-a');
    assert.throws(() => checkMetaProperties(fs, `${DIR}/node-3`, 4, 'cluster-a'), /belongs to node 3/);
  }
});

test.run();
