// AlterClientQuotas (key 49), versions 0-1, flexible from 1 (KIP-546): per entity (a list of
// (type, name) pairs; a null name is the type's default entity) quota values to set or
// remove. validateOnly checks the changes without making them. One result per entity.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const AlterClientQuotas = defineApi({
  apiKey: ApiKey.AlterClientQuotas,
  name: 'AlterClientQuotas',
  validVersions: '0-1',
  flexibleVersions: '1+',
  request: [
    array('entries', [
      array('entity', [field('entityType', 'string'), field('entityName', 'string', { nullableVersions: '0+' })]),
      array('ops', [field('key', 'string'), field('value', 'float64'), field('remove', 'bool')]),
    ]),
    field('validateOnly', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('entries', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      array('entity', [field('entityType', 'string'), field('entityName', 'string', { nullableVersions: '0+' })]),
    ]),
  ],
});
