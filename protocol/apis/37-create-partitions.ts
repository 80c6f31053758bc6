// CreatePartitions (key 37), versions 0-3; flexible from v2.
// v1: same as v0. v2: flexible. v3: same as v2.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const CreatePartitions = defineApi({
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  validVersions: '0-3',
  flexibleVersions: '2+',
  request: [
    array('topics', [
      field('name', 'string'),
      field('count', 'int32'),
      array('assignments', [array('brokerIds', 'int32')], { nullableVersions: '0+' }),
    ]),
    field('timeoutMs', 'int32'),
    field('validateOnly', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('name', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    ]),
  ],
});
