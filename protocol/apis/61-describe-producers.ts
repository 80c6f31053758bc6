// DescribeProducers (key 61), version 0; flexible from v0 (KIP-664).
// The active idempotent (and, once served, transactional) producers of partitions this
// broker leads: id, epoch, last sequence and timestamp, coordinator epoch and the start
// offset of an open transaction.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeProducers = defineApi({
  apiKey: ApiKey.DescribeProducers,
  name: 'DescribeProducers',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [array('topics', [field('name', 'string'), array('partitionIndexes', 'int32')])],
  response: [
    field('throttleTimeMs', 'int32'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
        array('activeProducers', [
          field('producerId', 'int64'),
          field('producerEpoch', 'int32'),
          field('lastSequence', 'int32', { default: -1 }),
          field('lastTimestamp', 'int64', { default: -1 }),
          field('coordinatorEpoch', 'int32'),
          field('currentTxnStartOffset', 'int64', { default: -1 }),
        ]),
      ]),
    ]),
  ],
});
