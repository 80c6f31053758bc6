// meta.properties on the in-memory file system: a new data directory is claimed, a
// directory of another node or cluster is refused, and the claim survives a crash only as
// a whole file (written to a temporary name, fsynced, renamed, directory fsynced).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { checkMetaProperties } from '../../src/broker/meta-properties';

const DIR = '/data';

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

test('the claim survives a crash whole, renamed and the directory synced', () => {
  const fs = new MemoryFileSystem({ volatileRenames: true });
  fs.mkdirp(DIR);
  checkMetaProperties(fs, DIR, 3, 'cluster-a');
  fs.crash(() => 0);
  assert.is(fs.exists(`${DIR}/meta.properties.tmp`), false);
  assert.is(read(fs, `${DIR}/meta.properties`), '#Brook data directory\nversion=1\ncluster.id=cluster-a\nnode.id=3\n');
  assert.throws(() => checkMetaProperties(fs, DIR, 4, 'cluster-a'), /belongs to node 3/);
});

test('the in-memory file system undoes a rename its directory never synced', () => {
  const fs = new MemoryFileSystem({ volatileRenames: true });
  fs.mkdirp(DIR);
  const handle = fs.open(`${DIR}/a.tmp`);
  handle.append(Buffer.from('new'));
  handle.sync();
  fs.rename(`${DIR}/a.tmp`, `${DIR}/a`);
  fs.crash(() => 0);
  assert.is(fs.exists(`${DIR}/a`), false);
  assert.is(read(fs, `${DIR}/a.tmp`), 'new');
});

test.run();
