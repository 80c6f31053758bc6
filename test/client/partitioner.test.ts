// The default partitioner against the Java client: known (key, partition) pairs for 1000
// partitions, as Kafka's DefaultPartitioner computes them, and sticky keyless placement.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DefaultPartitioner, partitionForKey, toPositive } from '../../src/client/partitioner';

test('keyed records land where the Java client puts them', () => {
  // Pairs published with the Python clients' Java-compatibility tests (1000 partitions).
  const vectors: [Buffer, number][] = [
    [Buffer.from(''), 681],
    [Buffer.from('a'), 524],
    [Buffer.from('ab'), 434],
    [Buffer.from('abc'), 107],
    [Buffer.from('123456789'), 566],
    [Buffer.from([0x00, 0x20]), 742],
  ];
  for (const [key, partition] of vectors)
    assert.is(partitionForKey(key, 1000), partition, `key ${key.toString('hex')}`);
  assert.is(toPositive(-2147483648), 0);
  assert.is(toPositive(-1), 2147483647);
});

test('keyless records stick to one partition until a batch goes out', () => {
  let i = 0;
  const partitioner = new DefaultPartitioner(() => [0.1, 0.6, 0.3][i++ % 3]);
  const first = partitioner.partition('t', null, 4);
  for (let n = 0; n < 10; n++) assert.is(partitioner.partition('t', null, 4), first);
  partitioner.onNewBatch('t', first, 4);
  const second = partitioner.partition('t', null, 4);
  assert.is.not(second, first);
  assert.is(partitioner.partition('t', Buffer.from('abc'), 1000), 107, 'keys are not sticky');
  assert.is(new DefaultPartitioner().partition('one', null, 1), 0);
});

test.run();
