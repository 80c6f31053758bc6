// DeleteRecords (key 21), versions 0-2; flexible from v2.
// v1: same as v0 (throttling after the response). v2: flexible.
// Moves each partition's log start offset up to the given offset (-1: the high watermark);
// the answer carries the partition's low watermark (the smallest log start offset among its
// live replicas) once it reached the offset, or the error.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DeleteRecords = defineApi({
  apiKey: ApiKey.DeleteRecords,
  name: 'DeleteRecords',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [
    array('topics', [
      field('name', 'string'),
      array('partitions', [field('partitionIndex', 'int32'), field('offset', 'int64')]),
    ]),
    field('timeoutMs', 'int32'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('lowWatermark', 'int64'),
        field('errorCode', 'int16'),
      ]),
    ]),
  ],
});
