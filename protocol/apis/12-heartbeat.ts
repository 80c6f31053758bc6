// Heartbeat (key 12), versions 0-4; flexible from v4.
// v1: throttle time. v2: same. v3: group instance id. v4: flexible.

import { ApiKey } from '../api-keys';
import { defineApi, field } from '../schema';

export const Heartbeat = defineApi({
  apiKey: ApiKey.Heartbeat,
  name: 'Heartbeat',
  validVersions: '0-4',
  flexibleVersions: '4+',
  request: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', { versions: '3+', nullableVersions: '3+', default: null }),
  ],
  response: [field('throttleTimeMs', 'int32', { versions: '1+' }), field('errorCode', 'int16')],
});
