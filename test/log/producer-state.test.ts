// The idempotent-producer rules as pure logic, including sequence wrap-around and the
// five-batch retention window.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { ProducerStateTable } from '../../src/log/producer-state';

test('sequences, duplicates within the last five batches, wrap-around', () => {
  const table = new ProducerStateTable();
  assert.equal(table.check(1, 0, 0, 9), { kind: 'append' });
  table.record(1, 0, { firstSeq: 0, lastSeq: 9, firstOffset: 100, lastOffset: 109 });
  for (let i = 1; i <= 5; i++)
    table.record(1, 0, { firstSeq: i * 10, lastSeq: i * 10 + 9, firstOffset: 100 + i * 10, lastOffset: 109 + i * 10 });
  assert.equal(table.check(1, 0, 10, 19), { kind: 'duplicate', firstOffset: 110, lastOffset: 119 });
  assert.is(table.check(1, 0, 0, 9).kind, 'error', 'older than the five retained batches');
  assert.is(table.check(1, 0, 60, 69).kind, 'append');
  table.record(2, 0, { firstSeq: 0x7ffffff0, lastSeq: 0x7fffffff, firstOffset: 0, lastOffset: 15 });
  assert.equal(table.check(2, 0, 0, 5), { kind: 'append' }, 'sequence wraps to 0');
});

test('epochs fence and reset', () => {
  const table = new ProducerStateTable();
  table.record(5, 3, { firstSeq: 0, lastSeq: 0, firstOffset: 0, lastOffset: 0 });
  const stale = table.check(5, 2, 1, 1);
  assert.is(stale.kind === 'error' && stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  const badStart = table.check(5, 4, 1, 1);
  assert.is(badStart.kind === 'error' && badStart.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(table.check(5, 4, 0, 3), { kind: 'append' });
  table.record(5, 4, { firstSeq: 0, lastSeq: 3, firstOffset: 1, lastOffset: 4 });
  assert.is(table.entry(5)!.batches.length, 1, 'a new epoch starts a fresh history');
});

test('truncation drops batches at and after the offset; JSON round trip', () => {
  const table = new ProducerStateTable();
  table.record(1, 0, { firstSeq: 0, lastSeq: 0, firstOffset: 0, lastOffset: 0 });
  table.record(1, 0, { firstSeq: 1, lastSeq: 1, firstOffset: 5, lastOffset: 5 });
  table.truncateFrom(5);
  assert.is(table.entry(1)!.batches.length, 1);
  const copy = ProducerStateTable.fromJSON(JSON.parse(JSON.stringify(table.toJSON())));
  assert.equal(copy.check(1, 0, 1, 1), { kind: 'append' });
});

test.run();
