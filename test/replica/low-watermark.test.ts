// The low watermark DeleteRecords waits for (Kafka's lowWatermarkIfLeader): the smallest
// log start offset among the leader and the followers on live brokers, in the ISR or not;
// a live follower that has not said its start (no fetch yet) holds it at -1.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeaderState } from '../../src/replica/leader-state';

test('the smallest log start among the leader and the live followers', () => {
  const state = new LeaderState(1, [1, 2, 3], [1, 2], 0);
  const alive = new Set([2, 3]);
  const isAlive = (id: number) => alive.has(id);
  // Nobody has fetched: the followers' starts are unknown.
  assert.is(state.lowWatermark(10, isAlive), -1);
  state.recordFetch(2, 20, 20, 1, -1, 10);
  assert.is(state.lowWatermark(10, isAlive), -1, 'follower 3 (out of the ISR, alive) has not said');
  state.recordFetch(3, 15, 20, 1, -1, 4);
  assert.is(state.lowWatermark(10, isAlive), 4);
  // A fenced broker's replica no longer counts.
  alive.delete(3);
  assert.is(state.lowWatermark(10, isAlive), 10);
  state.recordFetch(2, 20, 20, 2, -1, 12);
  assert.is(state.lowWatermark(10, isAlive), 10, 'never above the leader');
  assert.is(state.lowWatermark(14, isAlive), 12);
  // A replica removed from the assignment is forgotten.
  alive.add(3);
  state.update([1, 2], [1, 2], 3);
  assert.is(state.lowWatermark(14, isAlive), 12);
});

test.run();
