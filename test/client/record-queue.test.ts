// The consumer's record buffer: first in, first out across compactions, and removal that
// keeps the order. (That takes stay cheap with many records buffered is a matter for the
// client-matrix bench's 100 B consumer rows, not for a timed test.)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordQueue } from '../../src/client/record-queue';

test('first in, first out across the compaction points', () => {
  const queue = new RecordQueue<number>();
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 997; i++) queue.push(next++);
    for (let i = 0; i < 700; i++) assert.is(queue.shift(), expected++);
  }
  assert.is(queue.length, next - expected);
  while (queue.length > 0) assert.is(queue.shift(), expected++);
  assert.is(queue.shift(), undefined);
});

test('removeWhere drops the matching items and keeps the order of the rest', () => {
  const queue = new RecordQueue<number>();
  for (let i = 0; i < 20; i++) queue.push(i);
  for (let i = 0; i < 5; i++) queue.shift();
  queue.removeWhere((n) => n % 3 === 0);
  const rest: number[] = [];
  for (let n = queue.shift(); n !== undefined; n = queue.shift()) rest.push(n);
  assert.equal(rest, [5, 7, 8, 10, 11, 13, 14, 16, 17, 19]);
});

test.run();
