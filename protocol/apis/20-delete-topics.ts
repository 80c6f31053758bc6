// DeleteTopics (key 20), versions 0-6; flexible from v4.
// v1: throttle time. v2, v3: same. v4: flexible. v5: error messages. v6: topics by name or
// by id (Topics replaces TopicNames).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DeleteTopics = defineApi({
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  validVersions: '0-6',
  flexibleVersions: '4+',
  request: [
    array('topics', [field('name', 'string', { nullableVersions: '6+' }), field('topicId', 'uuid')], {
      versions: '6+',
    }),
    array('topicNames', 'string', { versions: '0-5' }),
    field('timeoutMs', 'int32'),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    array('responses', [
      field('name', 'string', { nullableVersions: '6+' }),
      field('topicId', 'uuid', { versions: '6+' }),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    ]),
  ],
});
