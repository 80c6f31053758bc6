// AlterPartitionReassignments (key 45), versions 0-1; flexible from v0 (KIP-455).
// v1: allowReplicationFactorChange (KIP-860): when false, a reassignment that would change
// a partition's replica count is refused with INVALID_REPLICATION_FACTOR; the response
// echoes the flag.
// Moves partition replicas between brokers; a null replica list cancels a reassignment in
// progress. Answered once the change is committed to the metadata log (the copying of
// data to new replicas goes on after the answer; ListPartitionReassignments shows it).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const AlterPartitionReassignments = defineApi({
  apiKey: ApiKey.AlterPartitionReassignments,
  name: 'AlterPartitionReassignments',
  validVersions: '0-1',
  flexibleVersions: '0+',
  request: [
    field('timeoutMs', 'int32', { default: 60000 }),
    field('allowReplicationFactorChange', 'bool', { versions: '1+', default: true }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        array('replicas', 'int32', { nullableVersions: '0+', default: null }),
      ]),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('allowReplicationFactorChange', 'bool', { versions: '1+', default: true }),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    array('responses', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      ]),
    ]),
  ],
});
