// Metadata (key 3), versions 0-13; flexible from v9.
// v1: rack, controller id, internal flag; a null topic list means all topics (v0 used an
// empty list). v2: cluster id. v3: throttle time. v4: allowAutoTopicCreation. v5: offline
// replicas. v6: same. v7: leader epoch. v8: authorized operations. v9: flexible.
// v10: topic ids. v11: cluster authorized operations removed. v12: topic name nullable.
// v13: a top-level error code (REBOOTSTRAP_REQUIRED tells a client to bootstrap again, KIP-1102).

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const Metadata = defineApi({
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  validVersions: '0-13',
  flexibleVersions: '9+',
  request: [
    array(
      'topics',
      [field('topicId', 'uuid', { versions: '10+' }), field('name', 'string', { nullableVersions: '10+' })],
      {
        nullableVersions: '1+',
      },
    ),
    field('allowAutoTopicCreation', 'bool', { versions: '4+', default: true }),
    field('includeClusterAuthorizedOperations', 'bool', { versions: '8-10' }),
    field('includeTopicAuthorizedOperations', 'bool', { versions: '8+' }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '3+' }),
    array('brokers', [
      field('nodeId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('rack', 'string', { versions: '1+', nullableVersions: '1+', default: null }),
    ]),
    field('clusterId', 'string', { versions: '2+', nullableVersions: '2+', default: null }),
    field('controllerId', 'int32', { versions: '1+', default: -1 }),
    array('topics', [
      field('errorCode', 'int16'),
      field('name', 'string', { nullableVersions: '12+' }),
      field('topicId', 'uuid', { versions: '10+' }),
      field('isInternal', 'bool', { versions: '1+', default: false }),
      array('partitions', [
        field('errorCode', 'int16'),
        field('partitionIndex', 'int32'),
        field('leaderId', 'int32'),
        field('leaderEpoch', 'int32', { versions: '7+', default: -1 }),
        array('replicaNodes', 'int32'),
        array('isrNodes', 'int32'),
        array('offlineReplicas', 'int32', { versions: '5+' }),
      ]),
      field('topicAuthorizedOperations', 'int32', { versions: '8+', default: -2147483648 }),
    ]),
    field('clusterAuthorizedOperations', 'int32', { versions: '8-10', default: -2147483648 }),
    field('errorCode', 'int16', { versions: '13+', default: 0 }),
  ],
});
