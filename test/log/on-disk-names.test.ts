// The on-disk names: segment and snapshot files carry a 20-digit zero-padded offset, a
// partition directory's deletion and stray forms are never read back as a partition, and
// every partition directory name and its deletion and stray forms fit in a 255-byte file
// name, for the longest legal topic name (249 characters) and high partition numbers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogManager } from '../../src/log/log-manager';
import { TOPIC_NAME_LENGTH_MAX } from '../../protocol/topic-names';
import {
  deletedDirName,
  FILE_NAME_BYTES_MAX,
  INDEX_SUFFIX,
  isDeletedDirName,
  isSegmentLogName,
  LOG_SUFFIX,
  offsetFileName,
  offsetOfFileName,
  parsePartitionDirName,
  partitionDirName,
  partitionDirNameFits,
  segmentLogNames,
  strayDirName,
} from '../../src/log/on-disk-names';

test('segment files are named by their zero-padded base offset', () => {
  assert.is(offsetFileName(1234, LOG_SUFFIX), '00000000000000001234.log');
  assert.is(offsetFileName(0, INDEX_SUFFIX), '00000000000000000000.index');
  assert.is(offsetOfFileName('00000000000000001234.log'), 1234);
  assert.ok(isSegmentLogName('00000000000000001234.log'));
  assert.not.ok(isSegmentLogName('00000000000000001234.index'));
  assert.not.ok(isSegmentLogName('1234.log'));
  assert.equal(
    segmentLogNames([
      '00000000000000000200.log',
      'leader-epoch-checkpoint',
      '00000000000000000000.log',
      '00000000000000000000.index',
    ]),
    ['00000000000000000000.log', '00000000000000000200.log'],
  );
});

test('a partition directory is <topic>-<partition>, the number after the last dash', () => {
  assert.is(partitionDirName('my-topic', 3), 'my-topic-3');
  assert.equal(parsePartitionDirName('my-topic-3'), { topic: 'my-topic', partition: 3 });
  assert.is(parsePartitionDirName('no_partition'), null);
});

test('deleted and stray directories are never taken for partitions', () => {
  const deleted = deletedDirName('t', 0, 'ab'.repeat(16));
  assert.is(deleted, `t-0.${'ab'.repeat(16)}-delete`);
  assert.ok(isDeletedDirName(deleted));
  assert.is(parsePartitionDirName(deleted), null);
  const stray = strayDirName('t', 0, 'ab'.repeat(16));
  assert.is(stray, `t-0.${'ab'.repeat(16)}-stray`);
  assert.not.ok(isDeletedDirName(stray));
  assert.is(parsePartitionDirName(stray), null);
});

const LONGEST = 'a'.repeat(TOPIC_NAME_LENGTH_MAX);

test('a partition directory of the longest topic name fits up to partition 99999', () => {
  assert.ok(partitionDirNameFits(LONGEST, 99_999));
  assert.is(Buffer.byteLength(partitionDirName(LONGEST, 99_999)), FILE_NAME_BYTES_MAX);
  assert.not.ok(partitionDirNameFits(LONGEST, 100_000));
  assert.ok(partitionDirNameFits('short', 2 ** 31 - 1));
});

test('delete and stray names are bounded and keep the partition and a unique id, as Kafka forms them', () => {
  for (const [form, suffix] of [
    [deletedDirName, '-delete'],
    [strayDirName, '-stray'],
  ] as const) {
    for (const partition of [0, 7, 99_999, 2 ** 31 - 1]) {
      const name = form(LONGEST, partition);
      assert.ok(Buffer.byteLength(name) <= FILE_NAME_BYTES_MAX, `${name.length} bytes`);
      assert.match(name, new RegExp(`^a+-${partition}\\.[0-9a-f]{32}${suffix}$`));
    }
    // A short name is kept whole.
    assert.match(form('orders', 3), new RegExp(`^orders-3\\.[0-9a-f]{32}${suffix}$`));
  }
  assert.is(deletedDirName(LONGEST, 99_999, '0'.repeat(32)).length, FILE_NAME_BYTES_MAX);
  assert.is.not(deletedDirName('t', 0), deletedDirName('t', 0));
});

test('deleting a 249-character topic with high partition numbers on a real file system', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-names-'));
  try {
    const logs = new LogManager({ dataDir, tailCacheBytes: 1 << 20, housekeepingIntervalMs: 0 });
    logs.open();
    for (const partition of [0, 9, 99_999]) logs.getOrCreate(LONGEST, partition, {});
    logs.deletePartition(LONGEST, 9);
    logs.deleteTopic(LONGEST);
    logs.getOrCreate(LONGEST, 1, {});
    logs.close();
    const moved = logs.setAsideStray(LONGEST, 1);
    assert.ok(Buffer.byteLength(path.basename(moved)) <= FILE_NAME_BYTES_MAX);
    const names = fs.readdirSync(path.join(dataDir, 'logs'));
    assert.equal(
      names.filter((name) => !name.endsWith('-checkpoint')),
      [path.basename(moved)],
    );
    assert.equal(
      names.filter((name) => name.endsWith('-checkpoint')),
      ['log-start-offset-checkpoint', 'recovery-point-offset-checkpoint', 'replication-offset-checkpoint'],
    );
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
