// DeleteAcls (key 31), versions 1-3 (version 0 was removed in Kafka 4.0), flexible from 2:
// filters of ACLs to remove, one result per filter with the ACLs it matched.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DeleteAcls = defineApi({
  apiKey: ApiKey.DeleteAcls,
  name: 'DeleteAcls',
  validVersions: '1-3',
  flexibleVersions: '2+',
  request: [
    array('filters', [
      field('resourceTypeFilter', 'int8'),
      field('resourceNameFilter', 'string', { nullableVersions: '0+' }),
      field('patternTypeFilter', 'int8', { versions: '1+', default: 3 }),
      field('principalFilter', 'string', { nullableVersions: '0+' }),
      field('hostFilter', 'string', { nullableVersions: '0+' }),
      field('operation', 'int8'),
      field('permissionType', 'int8'),
    ]),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('filterResults', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      array('matchingAcls', [
        field('errorCode', 'int16'),
        field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
        field('resourceType', 'int8'),
        field('resourceName', 'string'),
        field('patternType', 'int8', { versions: '1+', default: 3 }),
        field('principal', 'string'),
        field('host', 'string'),
        field('operation', 'int8'),
        field('permissionType', 'int8'),
      ]),
    ]),
  ],
});
