// IncrementalAlterConfigs (key 44), versions 0-1; flexible from v1.
// Changes configs one entry at a time: SET (0), DELETE (1, back to the default), APPEND (2)
// and SUBTRACT (3) for list-valued configs. Brook alters topic configs (resource type 2);
// broker configs come from the config file and are refused here.

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const IncrementalAlterConfigs = defineApi({
  apiKey: ApiKey.IncrementalAlterConfigs,
  name: 'IncrementalAlterConfigs',
  validVersions: '0-1',
  flexibleVersions: '1+',
  request: [
    array('resources', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', [
        field('name', 'string'),
        field('configOperation', 'int8'),
        field('value', 'string', { nullableVersions: '0+' }),
      ]),
    ]),
    field('validateOnly', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('responses', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
    ]),
  ],
});
