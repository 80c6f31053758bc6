// DescribeTopicPartitions (key 75), version 0; flexible from v0 (KIP-966).
// Topics and their partitions in pages: the answer holds at most responsePartitionLimit
// partitions (bounded by the broker's max.request.partition.size.limit) and a cursor to
// the first topic and partition not answered, which the next request passes back. An
// empty topic list asks for every topic. The Java admin's describeTopics and kafka-topics
// use it from Kafka 3.7 on; partitions carry the eligible leader replicas of KIP-966.

import { ApiKey } from '../api-keys';
import { array, defineApi, field, struct } from '../schema';

export const DescribeTopicPartitions = defineApi({
  apiKey: ApiKey.DescribeTopicPartitions,
  name: 'DescribeTopicPartitions',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    array('topics', [field('name', 'string')]),
    field('responsePartitionLimit', 'int32', { default: 2000 }),
    struct('cursor', [field('topicName', 'string'), field('partitionIndex', 'int32')], {
      nullableVersions: '0+',
      default: null,
    }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('topics', [
      field('errorCode', 'int16'),
      field('name', 'string', { nullableVersions: '0+' }),
      field('topicId', 'uuid'),
      field('isInternal', 'bool', { default: false }),
      array('partitions', [
        field('errorCode', 'int16'),
        field('partitionIndex', 'int32'),
        field('leaderId', 'int32'),
        field('leaderEpoch', 'int32', { default: -1 }),
        array('replicaNodes', 'int32'),
        array('isrNodes', 'int32'),
        array('eligibleLeaderReplicas', 'int32', { nullableVersions: '0+', default: null }),
        array('lastKnownElr', 'int32', { nullableVersions: '0+', default: null }),
        array('offlineReplicas', 'int32'),
      ]),
      field('topicAuthorizedOperations', 'int32', { default: -2147483648 }),
    ]),
    struct('nextCursor', [field('topicName', 'string'), field('partitionIndex', 'int32')], {
      nullableVersions: '0+',
      default: null,
    }),
  ],
});
