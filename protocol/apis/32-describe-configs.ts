// DescribeConfigs (key 32), versions 0-4; flexible from v4.
// v1: includeSynonyms; config source and synonyms replace isDefault. v2: same.
// v3: includeDocumentation; config type and documentation. v4: flexible.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeConfigs = defineApi({
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  validVersions: '0-4',
  flexibleVersions: '4+',
  request: [
    array('resources', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configurationKeys', 'string', { nullableVersions: '0+' }),
    ]),
    field('includeSynonyms', 'bool', { versions: '1+', default: false }),
    field('includeDocumentation', 'bool', { versions: '3+', default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+' }),
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', [
        field('name', 'string'),
        field('value', 'string', { nullableVersions: '0+' }),
        field('readOnly', 'bool'),
        field('isDefault', 'bool', { versions: '0' }),
        field('configSource', 'int8', { versions: '1+', default: -1 }),
        field('isSensitive', 'bool'),
        array(
          'synonyms',
          [field('name', 'string'), field('value', 'string', { nullableVersions: '0+' }), field('source', 'int8')],
          {
            versions: '1+',
          },
        ),
        field('configType', 'int8', { versions: '3+', default: 0 }),
        field('documentation', 'string', { versions: '3+', nullableVersions: '0+' }),
      ]),
    ]),
  ],
});
