// AlterConfigs (key 33), versions 0-2; v1 is v0, v2 is flexible. The legacy, whole-set form
// of IncrementalAlterConfigs: the configs given for a resource replace all of its
// overrides (kafkajs's alterConfigs and older tools send it).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const AlterConfigs = defineApi({
  apiKey: ApiKey.AlterConfigs,
  name: 'AlterConfigs',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [
    array('resources', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', [field('name', 'string'), field('value', 'string', { nullableVersions: '0+' })]),
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
