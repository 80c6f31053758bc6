// Appends are all or nothing under file-system errors (injected by the in-memory file
// system): a failed append - at any call, with or without a short write, during a roll, an
// epoch checkpoint or an fsync - answers KAFKA_STORAGE_ERROR and leaves the partition
// exactly as it was (files, offsets, readable batches); the next append takes the next
// offset, never a used or skipped one. A transient error (ENOSPC, EMFILE) stops only that
// write; a persistent one (EIO, EROFS) takes the log directory offline: every partition in
// it refuses reads and writes with KAFKA_STORAGE_ERROR until a restart, which finds every
// acknowledged batch.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem, readWholeFile } from '../../src/log/file-system';
import { OfflineInfo } from '../../src/log/log-directory';
import { LogManager } from '../../src/log/log-manager';
import { PartitionLog } from '../../src/log/partition-log';

const SEEDS = Number(process.env.BROOK_LOG_FAULT_SEEDS ?? 400);

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

function manager(fs: MemoryFileSystem, offline: OfflineInfo[] = []): LogManager {
  const logs = new LogManager({
    dataDir: '/data',
    fs,
    tailCacheBytes: 1 << 16,
    housekeepingIntervalMs: 0,
    onLogDirectoryOffline: (info) => offline.push(info),
  });
  logs.open();
  return logs;
}

function batch(value: string, seq?: number) {
  return encodeRecordBatchSync({
    records: [{ key: null, value, timestamp: 1_700_000_000_000 }],
    ...(seq !== undefined ? { producerId: 3, producerEpoch: 0, baseSequence: seq } : {}),
  });
}

/** The segment files of a partition and their bytes, and what the log reports. */
function state(fs: MemoryFileSystem, log: PartitionLog): string {
  const dir = log.dir;
  const files = fs
    .readdir(dir)
    .filter((name) => /\.(log|index|timeindex)$/.test(name))
    .map((name) => `${name}:${readWholeFile(fs, `${dir}/${name}`).toString('hex')}`);
  return JSON.stringify({
    files,
    start: log.logStartOffset,
    end: log.logEndOffset,
    hw: log.highWatermark,
    epochs: log.epochs.all(),
    read: readAll(log),
  });
}

/** Every batch from the log start to the log end, read through the log (hex). */
function readAll(log: PartitionLog): string {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    assert.is(read.errorCode, ErrorCode.NONE, `read at ${offset}: ${String(log.directory.offlineCause?.error)}`);
    const bytes = Buffer.concat(read.chunks);
    assert.ok(bytes.length > 0, `nothing read at ${offset}`);
    for (let at = 0; at < bytes.length;) {
      const size = 12 + bytes.readInt32BE(at + 8);
      offset = Number(bytes.readBigInt64BE(at)) + bytes.readInt32BE(at + 23) + 1;
      at += size;
    }
    out.push(bytes);
  }
  return Buffer.concat(out).toString('hex');
}

test('a transient error at any point of an append leaves the partition exactly as it was', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const random = seeded(seed);
    const fs = new MemoryFileSystem();
    const logs = manager(fs);
    const config = {
      'segment.bytes': String(200 + Math.floor(random() * 600)),
      'flush.messages': random() < 0.5 ? '1' : '1000',
    };
    const log = logs.getOrCreate('f', 0, config);
    const acknowledged = new Map<number, string>();
    let epoch = 0;
    let seq = 0;
    for (let i = 0; i < 30; i++) {
      if (random() < 0.15) epoch++;
      const before = state(fs, log);
      const value = `value-${i}-${'y'.repeat(Math.floor(random() * 50))}`;
      const fault = random() < 0.5;
      // No space fails what needs space; no file descriptors fails opening a file.
      const noSpace = random() < 0.5;
      if (fault)
        fs.injectFault({
          code: noSpace ? 'ENOSPC' : 'EMFILE',
          operations: noSpace ? ['append', 'writeAt', 'open', 'mkdir', 'rename'] : ['open'],
          skip: Math.floor(random() * 12),
          times: 1 + Math.floor(random() * 3),
          partialWrite: random() < 0.5,
        });
      const result = log.append([batch(value, seq)], { leaderEpoch: epoch });
      fs.clearFaults();
      if (result.errorCode !== ErrorCode.NONE) {
        assert.ok(fault, `seed ${seed}: refused without a fault: ${result.errorMessage}`);
        assert.is(result.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `seed ${seed}`);
        assert.is(state(fs, log), before, `seed ${seed} append ${i}: the partition is exactly as it was`);
        assert.not.ok(logs.directory.offline, `seed ${seed}: a transient error keeps the directory online`);
        continue;
      }
      assert.is(result.baseOffset, acknowledged.size, `seed ${seed}: the next offset, none skipped or reused`);
      acknowledged.set(result.baseOffset, value);
      seq++;
    }
    logs.close();
    const reopened = manager(fs).getOrCreate('f', 0, config);
    assert.is(reopened.logEndOffset, acknowledged.size, `seed ${seed}: reopened`);
    // The producer's next sequence is accepted: no failed append left state behind.
    const next = reopened.append([batch('last', seq)], { leaderEpoch: epoch });
    assert.equal([next.errorCode, next.baseOffset], [ErrorCode.NONE, acknowledged.size], `seed ${seed}`);
  }
});

test('a persistent error takes the log directory offline: every partition refuses, a restart finds all acknowledged', () => {
  for (const code of ['EIO', 'EROFS']) {
    for (let skip = 0; skip < 10; skip++) {
      const fs = new MemoryFileSystem();
      const offline: OfflineInfo[] = [];
      const logs = manager(fs, offline);
      const config = { 'segment.bytes': '300', 'flush.messages': '1' };
      const broken = logs.getOrCreate('broken', 0, config);
      const other = logs.getOrCreate('other', 0, config);
      for (let i = 0; i < 5; i++) {
        broken.append([batch(`b${i}`)], { leaderEpoch: 0 });
        other.append([batch(`o${i}`)], { leaderEpoch: 0 });
      }
      const before = state(fs, broken);
      fs.injectFault({ code, skip, times: 1, partialWrite: true });
      const failed = broken.append([batch('b5-failing-'.padEnd(120, 'z'))], { leaderEpoch: 1 });
      fs.clearFaults();
      const context = `${code} at call ${skip}`;
      assert.is(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, context);
      assert.ok(logs.directory.offline, context);
      assert.is(offline.length, 1, `${context}: reported once`);
      assert.equal([offline[0].topic, (offline[0].error as NodeJS.ErrnoException).code], ['broken', code]);
      assert.is(broken.logEndOffset, 5, `${context}: no offset used`);
      const refused = other.append([batch('o5')], { leaderEpoch: 0 });
      assert.is(refused.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `${context}: the other partition refuses writes`);
      assert.is(other.read(0, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.throws(
        () => other.appendAsFollower([batch('x')]),
        (e: NodeJS.ErrnoException) => e.code === code,
      );
      assert.throws(
        () => other.truncateTo(1),
        (e: NodeJS.ErrnoException) => e.code === code,
      );
      assert.throws(
        () => logs.getOrCreate('new', 0, {}),
        (e: NodeJS.ErrnoException) => e.code === code,
      );
      assert.is(offline.length, 1);
      logs.close();
      // After the restart (the disk repaired, or a power cut first) every acknowledged batch is there.
      if (skip % 2 === 1) fs.crash(seeded(skip));
      const restarted = manager(fs);
      const log = restarted.getOrCreate('broken', 0, config);
      assert.is(log.logEndOffset, 5, context);
      if (skip % 2 === 0) assert.is(readAll(log), JSON.parse(before).read, context);
      assert.is(log.append([batch('b5')], { leaderEpoch: 1 }).baseOffset, 5, context);
      assert.is(restarted.getOrCreate('other', 0, config).append([batch('o5')], { leaderEpoch: 0 }).baseOffset, 5);
    }
  }
});

test('a failed fsync (flush.messages) undoes the append and takes the directory offline', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('s', 0, { 'flush.messages': '1' });
  log.append([batch('a')], { leaderEpoch: 0 });
  fs.injectFault({ code: 'EIO', operations: ['sync'], times: 1 });
  const result = log.append([batch('b')], { leaderEpoch: 0 });
  assert.is(result.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.is(log.logEndOffset, 1);
  assert.ok(logs.directory.offline);
  assert.is(
    fs.fileSize(`${log.dir}/00000000000000000000.log`),
    readWholeFile(fs, `${log.dir}/00000000000000000000.log`).length,
  );
});

test('a read error takes the directory offline and answers KAFKA_STORAGE_ERROR', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('r', 0, {});
  log.append([batch('a')], { leaderEpoch: 0 });
  // The tail cache holds the batch; a new manager reads it from the file.
  logs.close();
  const again = manager(fs).getOrCreate('r', 0, {});
  fs.injectFault({ code: 'EIO', operations: ['read'] });
  assert.is(again.read(0, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  fs.clearFaults();
  assert.ok(again.directory.offline);
  assert.is(again.read(0, 1 << 20, { minOneBatch: true }).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
});

test.run();
