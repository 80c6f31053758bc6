// ListGroups (key 16), versions 0-5; flexible from v3.
// v1: throttle time. v2: same. v3: flexible. v4: filter by state, state in the answer
// (KIP-518). v5: filter by group type, type in the answer (KIP-848).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const ListGroups = defineApi({
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  validVersions: '0-5',
  flexibleVersions: '3+',
  request: [array('statesFilter', 'string', { versions: '4+' }), array('typesFilter', 'string', { versions: '5+' })],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16'),
    array('groups', [
      field('groupId', 'string'),
      field('protocolType', 'string'),
      field('groupState', 'string', { versions: '4+' }),
      field('groupType', 'string', { versions: '5+' }),
    ]),
  ],
});
