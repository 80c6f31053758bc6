// Fetch (key 1), versions 0-13; flexible from v12.
// v1, v2: throttle time (v2 message format v1). v3: max bytes for the whole response.
// v4: isolation level, last stable offset, aborted transactions. v5: log start offset.
// v6: same. v7: incremental fetch sessions (KIP-227). v8: same. v9: current leader epoch
// (KIP-320). v10: same (zstd). v11: rack id, preferred read replica (KIP-392).
// v12: flexible; last fetched epoch in, diverging epoch / current leader / snapshot id
// tags out (KIP-595). v13: topics named by topic id instead of name, in the request, the
// forgotten topics and the response (KIP-516; Kafka's FetchRequest.json and
// FetchResponse.json: Topic 0-12, TopicId 13+).

import { ApiKey } from '../api-keys';
import { ZERO_UUID } from '../primitives';
import { array, defineApi, field, struct } from '../schema';

export const Fetch = defineApi({
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  validVersions: '0-13',
  flexibleVersions: '12+',
  request: [
    field('clusterId', 'string', {
      versions: '12+',
      nullableVersions: '12+',
      taggedVersions: '12+',
      tag: 0,
      default: null,
    }),
    field('replicaId', 'int32'),
    field('maxWaitMs', 'int32'),
    field('minBytes', 'int32'),
    field('maxBytes', 'int32', { versions: '3+', default: 0x7fffffff }),
    field('isolationLevel', 'int8', { versions: '4+', default: 0 }),
    field('sessionId', 'int32', { versions: '7+', default: 0 }),
    field('sessionEpoch', 'int32', { versions: '7+', default: -1 }),
    array('topics', [
      field('topic', 'string', { versions: '0-12', default: '' }),
      field('topicId', 'uuid', { versions: '13+', default: ZERO_UUID }),
      array('partitions', [
        field('partition', 'int32'),
        field('currentLeaderEpoch', 'int32', { versions: '9+', default: -1 }),
        field('fetchOffset', 'int64'),
        field('lastFetchedEpoch', 'int32', { versions: '12+', default: -1 }),
        field('logStartOffset', 'int64', { versions: '5+', default: -1 }),
        field('partitionMaxBytes', 'int32'),
      ]),
    ]),
    array(
      'forgottenTopicsData',
      [
        field('topic', 'string', { versions: '7-12', default: '' }),
        field('topicId', 'uuid', { versions: '13+', default: ZERO_UUID }),
        array('partitions', 'int32'),
      ],
      { versions: '7+' },
    ),
    field('rackId', 'string', { versions: '11+', default: '' }),
  ],
  response: [
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    field('errorCode', 'int16', { versions: '7+' }),
    field('sessionId', 'int32', { versions: '7+', default: 0 }),
    array('responses', [
      field('topic', 'string', { versions: '0-12', default: '' }),
      field('topicId', 'uuid', { versions: '13+', default: ZERO_UUID }),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('highWatermark', 'int64'),
        field('lastStableOffset', 'int64', { versions: '4+', default: -1 }),
        field('logStartOffset', 'int64', { versions: '5+', default: -1 }),
        struct(
          'divergingEpoch',
          [field('epoch', 'int32', { default: -1 }), field('endOffset', 'int64', { default: -1 })],
          {
            versions: '12+',
            taggedVersions: '12+',
            tag: 0,
          },
        ),
        struct(
          'currentLeader',
          [field('leaderId', 'int32', { default: -1 }), field('leaderEpoch', 'int32', { default: -1 })],
          {
            versions: '12+',
            taggedVersions: '12+',
            tag: 1,
          },
        ),
        struct('snapshotId', [field('endOffset', 'int64', { default: -1 }), field('epoch', 'int32', { default: -1 })], {
          versions: '12+',
          taggedVersions: '12+',
          tag: 2,
        }),
        array('abortedTransactions', [field('producerId', 'int64'), field('firstOffset', 'int64')], {
          versions: '4+',
          nullableVersions: '4+',
        }),
        field('preferredReadReplica', 'int32', { versions: '11+', default: -1 }),
        field('records', 'records', { nullableVersions: '0+' }),
      ]),
    ]),
  ],
});
