// What QuorumStorage.open makes durable before the node trusts it: a data directory created
// with its parents survives a power cut (each new directory's entry is synced in its
// parent), and state that a process stopped by a storage error left readable but not
// durable (a vote renamed into place whose directory fsync failed, entries whose fsync
// failed) is made durable at the next open, so a power cut after the restart cannot take
// back a vote the restarted node acts on. Both were found by the driver simulation
// (driver-simulation.test.ts, seeds 1, 52 and 204).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { QuorumStorage } from '../../src/raft/quorum-storage';

const DIR = '/data/__cluster_metadata';
/** Directly under the root, so the tests of what open syncs do not depend on the parents' entries. */
const FLAT = '/__cluster_metadata';
const loseEverything = () => 0;

test('a new data directory and its parents survive a power cut', () => {
  const fs = new MemoryFileSystem();
  const storage = QuorumStorage.open(fs, DIR);
  storage.writeHardState({ term: 3, votedFor: 1 });
  fs.crash(loseEverything);
  assert.equal(QuorumStorage.open(fs, DIR).readHardState(), { term: 3, votedFor: 1 });
});

test('a vote whose directory fsync failed is made durable by the next open', () => {
  const fs = new MemoryFileSystem();
  const storage = QuorumStorage.open(fs, FLAT);
  storage.writeHardState({ term: 1, votedFor: -1 });
  const remove = fs.injectFault({ code: 'EIO', operations: ['syncDir'] });
  assert.throws(() => storage.writeHardState({ term: 2, votedFor: 5 }), /EIO/);
  remove();
  // The process restarts (no power cut): the renamed file reads back, and the node will act on it.
  const reopened = QuorumStorage.open(fs, FLAT);
  assert.equal(reopened.readHardState(), { term: 2, votedFor: 5 });
  fs.crash(loseEverything);
  assert.equal(QuorumStorage.open(fs, FLAT).readHardState(), { term: 2, votedFor: 5 });
});

test('entries whose fsync failed are made durable by the next open', () => {
  const fs = new MemoryFileSystem();
  const storage = QuorumStorage.open(fs, FLAT);
  const remove = fs.injectFault({ code: 'EIO', operations: ['sync'] });
  storage.append([{ index: 1, term: 1, data: Buffer.from('a') }]);
  assert.throws(() => storage.sync(), /EIO/);
  remove();
  assert.is(QuorumStorage.open(fs, FLAT).lastIndex, 1);
  fs.crash(loseEverything);
  assert.is(QuorumStorage.open(fs, FLAT).lastIndex, 1);
});

test.run();
