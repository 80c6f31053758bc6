// DescribeAcls (key 29), versions 1-3 (version 0 was removed in Kafka 4.0), flexible from
// 2 (KIP-140, pattern types from v1 with KIP-290): the ACLs that match a filter.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeAcls = defineApi({
  apiKey: ApiKey.DescribeAcls,
  name: 'DescribeAcls',
  validVersions: '1-3',
  flexibleVersions: '2+',
  request: [
    field('resourceTypeFilter', 'int8'),
    field('resourceNameFilter', 'string', { nullableVersions: '0+' }),
    field('patternTypeFilter', 'int8', { versions: '1+', default: 3 }),
    field('principalFilter', 'string', { nullableVersions: '0+' }),
    field('hostFilter', 'string', { nullableVersions: '0+' }),
    field('operation', 'int8'),
    field('permissionType', 'int8'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    array('resources', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      field('patternType', 'int8', { versions: '1+', default: 3 }),
      array('acls', [
        field('principal', 'string'),
        field('host', 'string'),
        field('operation', 'int8'),
        field('permissionType', 'int8'),
      ]),
    ]),
  ],
});
