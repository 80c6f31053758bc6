// CreateTopics (key 19), versions 0-7; flexible from v5.
// v1: validateOnly, error messages. v2: throttle time. v3: same. v4: numPartitions and
// replicationFactor may be -1 for broker defaults (KIP-464). v5: flexible; the response
// carries the partition count, replication factor and configs. v6: same. v7: topic ids.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const CreateTopics = defineApi({
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  validVersions: '0-7',
  flexibleVersions: '5+',
  request: [
    array('topics', [
      field('name', 'string'),
      field('numPartitions', 'int32'),
      field('replicationFactor', 'int16'),
      array('assignments', [field('partitionIndex', 'int32'), array('brokerIds', 'int32')]),
      array('configs', [field('name', 'string'), field('value', 'string', { nullableVersions: '0+' })]),
    ]),
    field('timeoutMs', 'int32', { default: 60000 }),
    field('validateOnly', 'bool', { versions: '1+', default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '2+' }),
    array('topics', [
      field('name', 'string'),
      field('topicId', 'uuid', { versions: '7+' }),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { versions: '1+', nullableVersions: '0+', default: null }),
      field('topicConfigErrorCode', 'int16', { versions: '5+', taggedVersions: '5+', tag: 0, default: 0 }),
      field('numPartitions', 'int32', { versions: '5+', default: -1 }),
      field('replicationFactor', 'int16', { versions: '5+', default: -1 }),
      array(
        'configs',
        [
          field('name', 'string'),
          field('value', 'string', { nullableVersions: '0+' }),
          field('readOnly', 'bool'),
          field('configSource', 'int8', { default: -1 }),
          field('isSensitive', 'bool'),
        ],
        { versions: '5+', nullableVersions: '5+' },
      ),
    ]),
  ],
});
