// DescribeCluster (key 60), versions 0-2; flexible from v0 (KIP-700).
// The cluster id, the controller id and the brokers, as the Java admin's describeCluster
// asks for them. v1: the endpoint type to describe (1 brokers, 2 controllers, KIP-919);
// MISMATCHED_ENDPOINT_TYPE and UNSUPPORTED_ENDPOINT_TYPE become valid answers.
// v2: includeFencedBrokers, and each broker's isFenced flag (KIP-1073).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const DescribeCluster = defineApi({
  apiKey: ApiKey.DescribeCluster,
  name: 'DescribeCluster',
  validVersions: '0-2',
  flexibleVersions: '0+',
  request: [
    field('includeClusterAuthorizedOperations', 'bool'),
    field('endpointType', 'int8', { versions: '1+', default: 1 }),
    field('includeFencedBrokers', 'bool', { versions: '2+', default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
    field('endpointType', 'int8', { versions: '1+', default: 1 }),
    field('clusterId', 'string'),
    field('controllerId', 'int32', { default: -1 }),
    array('brokers', [
      field('brokerId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('rack', 'string', { nullableVersions: '0+', default: null }),
      field('isFenced', 'bool', { versions: '2+', default: false }),
    ]),
    field('clusterAuthorizedOperations', 'int32', { default: -2147483648 }),
  ],
});
