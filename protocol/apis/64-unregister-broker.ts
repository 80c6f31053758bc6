// UnregisterBroker (key 64), version 0; flexible from v0 (KIP-631).
// Removes a broker's registration from the cluster metadata at the controller, so that a
// decommissioned broker no longer appears (fenced) in DescribeCluster.

import { ApiKey } from '../api-keys';
import { defineApi, field } from '../schema';

export const UnregisterBroker = defineApi({
  apiKey: ApiKey.UnregisterBroker,
  name: 'UnregisterBroker',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('brokerId', 'int32')],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
  ],
});
