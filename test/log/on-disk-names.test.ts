// The on-disk names: segment and snapshot files carry a 20-digit zero-padded offset, a
// partition directory's deletion and stray forms are never read back as a partition.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  deletedDirName,
  INDEX_SUFFIX,
  isDeletedDirName,
  isSegmentLogName,
  LOG_SUFFIX,
  offsetFileName,
  offsetOfFileName,
  parsePartitionDirName,
  partitionDirName,
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
  const deleted = deletedDirName('t-0', 1_700_000_000_000);
  assert.is(deleted, 't-0.1700000000000-delete');
  assert.ok(isDeletedDirName(deleted));
  assert.is(parsePartitionDirName(deleted), null);
  const stray = strayDirName('t-0', 1_700_000_000_000);
  assert.is(stray, 't-0.1700000000000-stray');
  assert.not.ok(isDeletedDirName(stray));
  assert.is(parsePartitionDirName(stray), null);
});

test.run();
