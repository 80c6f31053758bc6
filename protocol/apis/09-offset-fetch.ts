// OffsetFetch (key 9), versions 0-9; flexible from v6.
// v1: offsets from the log-backed store. v2: null topics = all; top-level error code.
// v3: throttle time. v4: same. v5: committed leader epoch. v6: flexible. v7: requireStable.
// v8: several groups per request (KIP-709). v9: member id and member epoch per group
// (KIP-848; checked only for consumer-protocol groups, ignored for classic groups).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

const partitionsResponse = [
  field('partitionIndex', 'int32'),
  field('committedOffset', 'int64'),
  field('committedLeaderEpoch', 'int32', { versions: '5+', default: -1 }),
  field('metadata', 'string', { nullableVersions: '0+' }),
  field('errorCode', 'int16'),
];

export const OffsetFetch = defineApi({
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  validVersions: '0-9',
  flexibleVersions: '6+',
  request: [
    field('groupId', 'string', { versions: '0-7' }),
    array('topics', [field('name', 'string'), array('partitionIndexes', 'int32')], {
      versions: '0-7',
      nullableVersions: '2-7',
    }),
    array(
      'groups',
      [
        field('groupId', 'string'),
        field('memberId', 'string', { versions: '9+', nullableVersions: '9+', default: null }),
        field('memberEpoch', 'int32', { versions: '9+', default: -1 }),
        array('topics', [field('name', 'string'), array('partitionIndexes', 'int32')], { nullableVersions: '8+' }),
      ],
      { versions: '8+' },
    ),
    field('requireStable', 'bool', { versions: '7+', default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '3+' }),
    array('topics', [field('name', 'string'), array('partitions', partitionsResponse)], { versions: '0-7' }),
    field('errorCode', 'int16', { versions: '2-7' }),
    array(
      'groups',
      [
        field('groupId', 'string'),
        array('topics', [field('name', 'string'), array('partitions', partitionsResponse)]),
        field('errorCode', 'int16'),
      ],
      { versions: '8+' },
    ),
  ],
});
