// KIP-903 on the leader: the broker epoch a follower's Fetch (v15+ ReplicaState) carries is
// kept per follower, and a follower whose fetches carry an epoch that is not its broker's
// registered one (an older incarnation) is not brought into the ISR, as Kafka's
// isBrokerEpochIsrEligible decides. Fetches without an epoch (-1, before v15) still count.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { brokerIsrEligible, LeaderState } from '../../src/replica/leader-state';

test('the broker epoch of the last fetch is kept per follower', () => {
  const s = new LeaderState(1, [1, 2, 3], [1, 2], 0);
  s.recordFetch(3, 10, 10, 5, 42);
  assert.is(s.followers.get(3)?.brokerEpoch, 42);
  s.recordFetch(3, 10, 10, 6);
  assert.is(s.followers.get(3)?.brokerEpoch, -1, 'a fetch that says none');
});

test('eligible: registered, unfenced, and the epoch fetched is unsaid or the registered one', () => {
  const registered = { fenced: false, brokerEpoch: 7 };
  assert.ok(brokerIsrEligible(-1, registered));
  assert.ok(brokerIsrEligible(7, registered));
  assert.not.ok(brokerIsrEligible(6, registered), 'an older incarnation');
  assert.not.ok(brokerIsrEligible(7, { fenced: true, brokerEpoch: 7 }));
  assert.not.ok(brokerIsrEligible(-1, undefined));
});

test('a caught-up follower fetching with a stale broker epoch stays out of the ISR until it fetches with the current one', () => {
  const s = new LeaderState(1, [1, 2, 3], [1, 2], 0);
  const image = new Map([
    [2, { fenced: false, brokerEpoch: 5 }],
    [3, { fenced: false, brokerEpoch: 9 }],
  ]);
  const eligible = (id: number) => brokerIsrEligible(s.followers.get(id)?.brokerEpoch ?? -1, image.get(id));
  s.recordFetch(2, 100, 100, 10, 5);
  s.recordFetch(3, 100, 100, 10, 8);
  assert.is(s.proposedIsr(10, 30_000, 100, 0, eligible), null);
  s.recordFetch(3, 100, 100, 20, 9);
  assert.equal(s.proposedIsr(20, 30_000, 100, 0, eligible), [1, 2, 3]);
});

test.run();
