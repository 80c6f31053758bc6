// Produce (key 0), versions 0-9; flexible from v9.
// v1: throttle time. v2: log append time. v3: transactional id, record batch v2 only.
// v4: same. v5: log start offset. v6: same. v7: zstd allowed. v8: per-batch record errors
// and an error message. v9: flexible.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const Produce = defineApi({
  apiKey: ApiKey.Produce,
  name: 'Produce',
  validVersions: '0-9',
  flexibleVersions: '9+',
  request: [
    field('transactionalId', 'string', { versions: '3+', nullableVersions: '3+', default: null }),
    field('acks', 'int16'),
    field('timeoutMs', 'int32'),
    array('topicData', [
      field('name', 'string'),
      array('partitionData', [field('index', 'int32'), field('records', 'records', { nullableVersions: '0+' })]),
    ]),
  ],
  response: [
    array('responses', [
      field('name', 'string'),
      array('partitionResponses', [
        field('index', 'int32'),
        field('errorCode', 'int16'),
        field('baseOffset', 'int64'),
        field('logAppendTimeMs', 'int64', { versions: '2+', default: -1 }),
        field('logStartOffset', 'int64', { versions: '5+', default: -1 }),
        array(
          'recordErrors',
          [
            field('batchIndex', 'int32'),
            field('batchIndexErrorMessage', 'string', { nullableVersions: '8+', default: null }),
          ],
          { versions: '8+' },
        ),
        field('errorMessage', 'string', { versions: '8+', nullableVersions: '8+', default: null }),
      ]),
    ]),
    field('throttleTimeMs', 'int32', { versions: '1+' }),
  ],
});
