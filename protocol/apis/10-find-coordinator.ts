// FindCoordinator (key 10), versions 0-6; flexible from v3.
// v1: key type (0 group, 1 transaction), throttle time, error message. v2: same.
// v3: flexible. v4: several keys at once (KIP-699): the answer is a list of coordinators.
// v5: same layout; TRANSACTION_ABORTABLE may be answered (KIP-890). v6: same layout; key
// type 2 (share group) exists (KIP-932).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const FindCoordinator = defineApi({
  apiKey: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  validVersions: '0-6',
  flexibleVersions: '3+',
  request: [
    field('key', 'string', { versions: '0-3' }),
    field('keyType', 'int8', { versions: '1+', default: 0 }),
    array('coordinatorKeys', 'string', { versions: '4+' }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16', { versions: '0-3' }),
    field('errorMessage', 'string', { versions: '1-3', nullableVersions: '1-3', default: null }),
    field('nodeId', 'int32', { versions: '0-3' }),
    field('host', 'string', { versions: '0-3' }),
    field('port', 'int32', { versions: '0-3' }),
    array(
      'coordinators',
      [
        field('key', 'string'),
        field('nodeId', 'int32'),
        field('host', 'string'),
        field('port', 'int32'),
        field('errorCode', 'int16'),
        field('errorMessage', 'string', { nullableVersions: '4+', default: null }),
      ],
      { versions: '4+' },
    ),
  ],
});
