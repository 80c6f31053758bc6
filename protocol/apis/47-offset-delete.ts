// OffsetDelete (key 47), version 0 (not flexible): remove a group's committed offsets
// for partitions it no longer consumes.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const OffsetDelete = defineApi({
  apiKey: ApiKey.OffsetDelete,
  name: 'OffsetDelete',
  validVersions: '0',
  flexibleVersions: 'none',
  request: [
    field('groupId', 'string'),
    array('topics', [field('name', 'string'), array('partitions', [field('partitionIndex', 'int32')])]),
  ],
  response: [
    field('errorCode', 'int16'),
    field('throttleTimeMs', 'int32'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [field('partitionIndex', 'int32'), field('errorCode', 'int16')]),
    ]),
  ],
});
