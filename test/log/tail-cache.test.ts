// The tail cache keeps to its global byte budget, evicting the oldest batches first,
// whichever partition they belong to, and reads fall back to the files.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TailCache, TailEntry } from '../../src/log/tail-cache';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { PartitionLog } from '../../src/log/partition-log';

test('budget holds across partitions, oldest first', () => {
  const cache = new TailCache(1000);
  const a: TailEntry[] = [];
  const b: TailEntry[] = [];
  for (let i = 0; i < 10; i++) {
    for (const owner of [a, b]) {
      const entry = { baseOffset: i, lastOffset: i, bytes: Buffer.alloc(100), owner };
      owner.push(entry);
      cache.add(entry);
    }
  }
  assert.ok(cache.usedBytes <= 1000);
  assert.is(a.length + b.length, 10);
  assert.equal([a[0].baseOffset, b[0].baseOffset], [5, 5]);
});

test('a partition whose cache was evicted still reads everything from its segment', () => {
  const fs = new MemoryFileSystem();
  const cache = new TailCache(300);
  const log = PartitionLog.open({
    fs,
    dir: '/d/t-0',
    topic: 't',
    partition: 0,
    config: {},
    clock: Date.now,
    tailCache: cache,
  });
  for (let i = 0; i < 20; i++)
    log.append([encodeRecordBatchSync({ records: [{ value: `v${i}` }] })], { leaderEpoch: 0 });
  assert.ok(cache.usedBytes <= 300);
  const all = log.read(0, 1 << 20, { minOneBatch: true });
  assert.is(all.chunks.length, 1, 'one file range');
  let count = 0;
  for (let at = 0; at < all.bytes; at += 12 + all.chunks[0].readInt32BE(at + 8)) count++;
  assert.is(count, 20);
});

test.run();
