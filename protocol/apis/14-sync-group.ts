// SyncGroup (key 14), versions 0-5; flexible from v4.
// v1: throttle time. v2: same. v3: group instance id. v4: flexible.
// v5: protocol type and name in request and response (KIP-559).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const SyncGroup = defineApi({
  apiKey: ApiKey.SyncGroup,
  name: 'SyncGroup',
  validVersions: '0-5',
  flexibleVersions: '4+',
  request: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', { versions: '3+', nullableVersions: '3+', default: null }),
    field('protocolType', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    field('protocolName', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    array('assignments', [field('memberId', 'string'), field('assignment', 'bytes')]),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16'),
    field('protocolType', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    field('protocolName', 'string', { versions: '5+', nullableVersions: '5+', default: null }),
    field('assignment', 'bytes'),
  ],
});
