// The in-memory file system's power-cut model: unsynced file data is lost (a prefix of
// appended bytes may survive), unsynced truncates may be undone, directory entries
// (creates, renames, unlinks, new directories) are lost unless their directory was synced;
// the older model (entries durable at once) is still there on request; injected faults
// throw like node:fs, once, a few times or for good, with or without a short write.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem, mkdirDurable, readWholeFile, writeFileDurable } from '../../src/log/file-system';

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

const never = () => 0;
const always = () => 0.999;

function write(fs: MemoryFileSystem, file: string, text: string, sync = true): void {
  const handle = fs.open(file);
  handle.append(Buffer.from(text));
  if (sync) handle.sync();
  handle.close();
}

const text = (fs: MemoryFileSystem, file: string) => readWholeFile(fs, file).toString();

test('a file fsynced in a directory never synced vanishes; after syncDir it stays', () => {
  const fs = new MemoryFileSystem();
  fs.mkdirp('/d');
  fs.syncDir('/');
  write(fs, '/d/a', 'synced data');
  fs.crash(never);
  assert.is(fs.exists('/d/a'), false, 'the entry was never durable');
  write(fs, '/d/a', 'synced data');
  fs.syncDir('/d');
  fs.crash(never);
  assert.is(text(fs, '/d/a'), 'synced data');
});

test('a new directory needs its parent synced; mkdirDurable does it for every level', () => {
  const fs = new MemoryFileSystem();
  fs.mkdirp('/x/y');
  fs.syncDir('/x/y');
  fs.crash(never);
  assert.is(fs.exists('/x'), false);
  mkdirDurable(fs, '/x/y/z');
  write(fs, '/x/y/z/f', 'kept');
  fs.syncDir('/x/y/z');
  fs.crash(never);
  assert.is(text(fs, '/x/y/z/f'), 'kept');
});

test('renames and unlinks are undone unless the directory was synced', () => {
  const fs = new MemoryFileSystem();
  mkdirDurable(fs, '/d');
  write(fs, '/d/old', 'old');
  write(fs, '/d/tmp', 'new');
  fs.syncDir('/d');
  fs.rename('/d/tmp', '/d/old');
  fs.crash(never);
  assert.is(text(fs, '/d/old'), 'old', 'the rename was lost');
  assert.is(text(fs, '/d/tmp'), 'new');
  fs.rename('/d/tmp', '/d/old');
  fs.syncDir('/d');
  fs.unlink('/d/old');
  fs.crash(never);
  assert.is(text(fs, '/d/old'), 'new', 'the rename was durable, the unlink was not');
  fs.unlink('/d/old');
  fs.syncDir('/d');
  fs.crash(never);
  assert.is(fs.exists('/d/old'), false);
});

test('a directory renamed and removed comes back whole unless its parent was synced', () => {
  const fs = new MemoryFileSystem();
  mkdirDurable(fs, '/logs/t-0');
  write(fs, '/logs/t-0/seg', 'data');
  fs.syncDir('/logs/t-0');
  fs.rename('/logs/t-0', '/logs/t-0.x-delete');
  fs.removeTree('/logs/t-0.x-delete');
  assert.is(fs.exists('/logs/t-0'), false);
  fs.crash(never);
  assert.is(text(fs, '/logs/t-0/seg'), 'data');
  fs.rename('/logs/t-0', '/logs/t-0.x-delete');
  fs.syncDir('/logs');
  fs.crash(never);
  assert.is(text(fs, '/logs/t-0.x-delete/seg'), 'data', 'the renamed directory keeps its synced entries');
});

test('unsynced data: nothing, a prefix or all of the appended bytes survive; an unsynced truncate may be undone', () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) {
    const fs = new MemoryFileSystem();
    mkdirDurable(fs, '/d');
    write(fs, '/d/f', 'abc');
    fs.syncDir('/d');
    write(fs, '/d/f', 'defg', false);
    fs.crash(seeded(seed));
    const after = text(fs, '/d/f');
    assert.ok('abcdefg'.startsWith(after) && after.length >= 3, after);
    seen.add(after);
  }
  assert.equal([...seen].sort(), ['abc', 'abcd', 'abcde', 'abcdef', 'abcdefg']);

  const outcomes = new Set<string>();
  for (let seed = 1; seed <= 100; seed++) {
    const fs = new MemoryFileSystem();
    mkdirDurable(fs, '/d');
    write(fs, '/d/f', 'abcdef');
    fs.syncDir('/d');
    const handle = fs.open('/d/f');
    handle.truncate(2);
    handle.append(Buffer.from('XY'));
    fs.crash(seeded(seed));
    outcomes.add(text(fs, '/d/f'));
  }
  assert.equal([...outcomes].sort(), ['ab', 'abX', 'abXY', 'abcdef']);
});

test('with random always high every unsynced change survives; the state after a crash is durable', () => {
  const fs = new MemoryFileSystem();
  fs.mkdirp('/d');
  write(fs, '/d/f', 'data', false);
  fs.rename('/d/f', '/d/g');
  fs.crash(always);
  assert.is(text(fs, '/d/g'), 'data');
  assert.ok(fs.isQuiescent());
  fs.crash(never);
  assert.is(text(fs, '/d/g'), 'data', 'what survived one crash survives the next');
});

test('writeFileDurable: after a crash at any call the name holds the old or the new contents, whole', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const fs = new MemoryFileSystem();
    mkdirDurable(fs, '/d');
    writeFileDurable(fs, '/d/cp', Buffer.from('old contents'));
    const random = seeded(seed);
    fs.injectFault({ code: 'EIO', skip: Math.floor(random() * 7), times: 1, partialWrite: true });
    try {
      writeFileDurable(fs, '/d/cp', Buffer.from('new contents, longer'));
    } catch {
      // The crash below.
    }
    fs.clearFaults();
    fs.crash(random);
    assert.ok(['old contents', 'new contents, longer'].includes(text(fs, '/d/cp')), `seed ${seed}`);
  }
});

test('the older model on request: entries durable at once, volatileRenames undoes renames', () => {
  const fs = new MemoryFileSystem({ directoryEntries: 'durable' });
  fs.mkdirp('/d');
  write(fs, '/d/a', 'a');
  fs.crash(never);
  assert.is(text(fs, '/d/a'), 'a');
  // volatileRenames alone keeps its older meaning: entries durable, renames not.
  const renames = new MemoryFileSystem({ volatileRenames: true });
  renames.mkdirp('/d');
  write(renames, '/d/a.tmp', 'new');
  renames.rename('/d/a.tmp', '/d/a');
  renames.crash(never);
  assert.is(renames.exists('/d/a'), false);
  assert.is(text(renames, '/d/a.tmp'), 'new');
  renames.rename('/d/a.tmp', '/d/a');
  renames.syncDir('/d');
  renames.crash(never);
  assert.is(text(renames, '/d/a'), 'new');
});

test('injected faults: errno codes, skip and times, path prefixes, short writes', () => {
  const fs = new MemoryFileSystem();
  mkdirDurable(fs, '/d');
  const handle = fs.open('/d/f');
  const remove = fs.injectFault({ code: 'ENOSPC', operations: ['append'], skip: 1, times: 2, partialWrite: true });
  handle.append(Buffer.from('1234'));
  assert.throws(
    () => handle.append(Buffer.from('abcd')),
    (e: NodeJS.ErrnoException) => e.code === 'ENOSPC' && e.syscall === 'append',
  );
  assert.is(fs.fileSize('/d/f'), 6, 'a short write keeps half the bytes');
  assert.throws(() => handle.append(Buffer.from('x')), /ENOSPC/);
  handle.append(Buffer.from('ok'));
  remove();
  fs.injectFault({ code: 'EROFS', pathPrefix: '/ro/' });
  assert.throws(() => fs.mkdirp('/ro/x'), /EROFS/);
  fs.mkdirp('/rw/x');
  fs.injectFault({ code: 'EIO', operations: ['read'] });
  assert.throws(() => handle.read(Buffer.alloc(1), 0, 1, 0), /EIO/);
  fs.clearFaults();
  fs.injectFault({ code: 'EMFILE', operations: ['open'] });
  assert.throws(() => fs.open('/d/g'), /EMFILE/);
  assert.is(fs.exists('/d/g'), false);
  fs.clearFaults();
  assert.is(text(fs, '/d/f'), '1234abok');
});

test.run();
