// OffsetCommit (key 8), versions 0-9; flexible from v8.
// v1: generation, member id, commit timestamp. v2: retention time (commit timestamp
// dropped). v3: throttle time. v4: same. v5: retention time dropped. v6: committed leader
// epoch. v7: group instance id. v8: flexible. v9: same layout as v8; the first version for
// KIP-848 consumer groups (generationIdOrMemberEpoch may carry a member epoch), and the
// answer may hold GROUP_ID_NOT_FOUND and STALE_MEMBER_EPOCH.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const OffsetCommit = defineApi({
  apiKey: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  validVersions: '0-9',
  flexibleVersions: '8+',
  request: [
    field('groupId', 'string'),
    field('generationIdOrMemberEpoch', 'int32', { versions: '1+', default: -1 }),
    field('memberId', 'string', { versions: '1+' }),
    field('groupInstanceId', 'string', { versions: '7+', nullableVersions: '7+', default: null }),
    field('retentionTimeMs', 'int64', { versions: '2-4', default: -1 }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'),
        field('committedLeaderEpoch', 'int32', { versions: '6+', default: -1 }),
        field('commitTimestamp', 'int64', { versions: '1', default: -1 }),
        field('committedMetadata', 'string', { nullableVersions: '0+' }),
      ]),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '3+' }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [field('partitionIndex', 'int32'), field('errorCode', 'int16')]),
    ]),
  ],
});
