// CreateAcls (key 30), versions 1-3 (version 0 was removed in Kafka 4.0), flexible from 2:
// ACLs to add, one result per creation in request order.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const CreateAcls = defineApi({
  apiKey: ApiKey.CreateAcls,
  name: 'CreateAcls',
  validVersions: '1-3',
  flexibleVersions: '2+',
  request: [
    array('creations', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      field('resourcePatternType', 'int8', { versions: '1+', default: 3 }),
      field('principal', 'string'),
      field('host', 'string'),
      field('operation', 'int8'),
      field('permissionType', 'int8'),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    ]),
  ],
});
