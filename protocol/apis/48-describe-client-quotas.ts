// DescribeClientQuotas (key 48), versions 0-1, flexible from 1 (KIP-546): the quota values
// of the client quota entities a filter matches. Each filter component names an entity
// type (user, client-id, ip) and how its name must match: 0 exactly `match`, 1 the default
// entity (match null), 2 any specified name (match null). `strict` leaves out entities that
// have types the filter does not name. A refused filter answers a top-level error and null
// entries.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeClientQuotas = defineApi({
  apiKey: ApiKey.DescribeClientQuotas,
  name: 'DescribeClientQuotas',
  validVersions: '0-1',
  flexibleVersions: '1+',
  request: [
    array('components', [
      field('entityType', 'string'),
      field('matchType', 'int8'),
      field('match', 'string', { nullableVersions: '0+' }),
    ]),
    field('strict', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    array(
      'entries',
      [
        array('entity', [field('entityType', 'string'), field('entityName', 'string', { nullableVersions: '0+' })]),
        array('values', [field('key', 'string'), field('value', 'float64')]),
      ],
      { nullableVersions: '0+' },
    ),
  ],
});
