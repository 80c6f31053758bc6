// ListGroups (key 16), versions 0-4; flexible from v3.
// v1: throttle time. v2: same. v3: flexible. v4: filter by state, state in the answer.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ListGroups = defineApi({
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  validVersions: '0-4',
  flexibleVersions: '3+',
  request: [array('statesFilter', 'string', { versions: '4+' })],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16'),
    array('groups', [
      field('groupId', 'string'),
      field('protocolType', 'string'),
      field('groupState', 'string', { versions: '4+' }),
    ]),
  ],
});
