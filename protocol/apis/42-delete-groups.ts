// DeleteGroups (key 42), versions 0-2; flexible from v2.
// v1: same as v0. v2: flexible.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DeleteGroups = defineApi({
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [array('groupsNames', 'string')],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', [field('groupId', 'string'), field('errorCode', 'int16')]),
  ],
});
