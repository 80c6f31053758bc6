// ListOffsets (key 2), versions 0-10; flexible from v6.
// v0: several old-style offsets per partition. v1: one offset and its timestamp.
// v2: isolation level, throttle time. v3: same. v4: current leader epoch in, leader epoch
// out (KIP-320). v5: same. v6: flexible. v7: timestamp -3 = max timestamp (KIP-734).
// v8: timestamp -4 = earliest local offset (KIP-405). v9: timestamp -5 = latest tiered
// offset (KIP-1005). v10: a timeout for answers that read remote storage (KIP-1075).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ListOffsets = defineApi({
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  validVersions: '0-10',
  flexibleVersions: '6+',
  request: [
    field('replicaId', 'int32'),
    field('isolationLevel', 'int8', { versions: '2+' }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('currentLeaderEpoch', 'int32', { versions: '4+', default: -1 }),
        field('timestamp', 'int64'),
        field('maxNumOffsets', 'int32', { versions: '0', default: 1 }),
      ]),
    ]),
    field('timeoutMs', 'int32', { versions: '10+', default: 0 }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '2+' }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        array('oldStyleOffsets', 'int64', { versions: '0' }),
        field('timestamp', 'int64', { versions: '1+', default: -1 }),
        field('offset', 'int64', { versions: '1+', default: -1 }),
        field('leaderEpoch', 'int32', { versions: '4+', default: -1 }),
      ]),
    ]),
  ],
});
