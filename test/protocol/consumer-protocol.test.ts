// The consumer protocol's subscription and assignment bytes: v0 to v3 round trips, a
// newer version read by the fields it shares with the known ones, the topics-only reader
// the group coordinator uses, and an empty assignment read as no partitions.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeAssignmentBytes,
  decodeSubscriptionBytes,
  decodeSubscriptionTopics,
  encodeAssignmentBytes,
  encodeSubscriptionBytes,
} from '../../protocol/consumer-protocol';

test('subscription bytes: v0 to v3 round trip, a newer version is read by its known fields', () => {
  const owned = new Map([
    ['t', [2, 0]],
    ['u', [1]],
  ]);
  const v2 = decodeSubscriptionBytes(
    encodeSubscriptionBytes({ version: 2, topics: ['u', 't'], ownedPartitions: owned, generationId: 7 }),
  );
  assert.equal(v2.topics, ['t', 'u']);
  assert.equal(Object.fromEntries(v2.ownedPartitions), { t: [0, 2], u: [1] });
  assert.is(v2.generationId, 7);
  const v0 = decodeSubscriptionBytes(encodeSubscriptionBytes({ version: 0, topics: ['t'], ownedPartitions: owned }));
  assert.equal(v0.ownedPartitions.size, 0, 'v0 carries no owned partitions');
  assert.is(v0.generationId, -1);
  const v3 = decodeSubscriptionBytes(
    encodeSubscriptionBytes({ version: 3, topics: ['t'], generationId: 3, rackId: 'r1', userData: Buffer.from('x') }),
  );
  assert.is(v3.rackId, 'r1');
  assert.equal(v3.userData, Buffer.from('x'));
  // Version 9 with a field appended after the rack id.
  const future = Buffer.concat([
    encodeSubscriptionBytes({ version: 3, topics: ['t'], ownedPartitions: owned, generationId: 4 }),
    Buffer.from([0, 0, 0, 1]),
  ]);
  future.writeInt16BE(9, 0);
  const read = decodeSubscriptionBytes(future);
  assert.is(read.generationId, 4);
  assert.equal(Object.fromEntries(read.ownedPartitions), { t: [0, 2], u: [1] });
  assert.equal(Object.fromEntries(decodeAssignmentBytes(encodeAssignmentBytes(owned, 1))), { t: [0, 2], u: [1] });
  assert.throws(() => encodeSubscriptionBytes({ version: 4, topics: [] }), /version 4/);
});

test('the topics alone are read from any version; an empty assignment is no partitions', () => {
  const bytes = encodeSubscriptionBytes({
    version: 3,
    topics: ['b', 'a'],
    ownedPartitions: new Map([['a', [0]]]),
    generationId: 2,
    rackId: 'r',
  });
  assert.equal(decodeSubscriptionTopics(bytes), ['a', 'b']);
  assert.throws(() => decodeSubscriptionTopics(Buffer.from([0])));
  assert.is(decodeAssignmentBytes(Buffer.alloc(0)).size, 0);
});

test.run();
