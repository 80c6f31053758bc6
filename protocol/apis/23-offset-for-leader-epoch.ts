// OffsetForLeaderEpoch (key 23), versions 0-4; flexible from v4.
// Where a leader epoch ends in the leader's log: a follower asks after a leader change and
// cuts what it wrote past that point (KIP-101); consumers ask to detect truncation (KIP-320).
// v1: the answer names the epoch found. v2: current leader epoch (fencing), throttle time.
// v3: replica id (-1 consumer, -2 debugging). v4: flexible.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const OffsetForLeaderEpoch = defineApi({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  name: 'OffsetForLeaderEpoch',
  validVersions: '0-4',
  flexibleVersions: '4+',
  request: [
    field('replicaId', 'int32', { versions: '3+', default: -2 }),
    array('topics', [
      field('topic', 'string'),
      array('partitions', [
        field('partition', 'int32'),
        field('currentLeaderEpoch', 'int32', { versions: '2+', default: -1 }),
        field('leaderEpoch', 'int32'),
      ]),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '2+' }),
    array('topics', [
      field('topic', 'string'),
      array('partitions', [
        field('errorCode', 'int16'),
        field('partition', 'int32'),
        field('leaderEpoch', 'int32', { versions: '1+', default: -1 }),
        field('endOffset', 'int64', { default: -1 }),
      ]),
    ]),
  ],
});
