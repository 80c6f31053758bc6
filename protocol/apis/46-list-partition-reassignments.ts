// ListPartitionReassignments (key 46), version 0; flexible from v0 (KIP-455).
// The reassignments in progress: each partition's replicas with those being added and
// removed. A null topic list asks for all of them.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ListPartitionReassignments = defineApi({
  apiKey: ApiKey.ListPartitionReassignments,
  name: 'ListPartitionReassignments',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('timeoutMs', 'int32', { default: 60000 }),
    array('topics', [field('name', 'string'), array('partitionIndexes', 'int32')], {
      nullableVersions: '0+',
      default: null,
    }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        array('replicas', 'int32'),
        array('addingReplicas', 'int32'),
        array('removingReplicas', 'int32'),
      ]),
    ]),
  ],
});
