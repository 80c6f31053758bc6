// Fetch (key 1), versions 0-18; flexible from v12.
// v1, v2: throttle time (v2 message format v1). v3: max bytes for the whole response.
// v4: isolation level, last stable offset, aborted transactions. v5: log start offset.
// v6: same. v7: incremental fetch sessions (KIP-227). v8: same. v9: current leader epoch
// (KIP-320). v10: same (zstd). v11: rack id, preferred read replica (KIP-392).
// v12: flexible; last fetched epoch in, diverging epoch / current leader / snapshot id
// tags out (KIP-595). v13: topics named by topic id instead of name, in the request, the
// forgotten topics and the response (KIP-516; Kafka's FetchRequest.json and
// FetchResponse.json: Topic 0-12, TopicId 13+). v14: same (may answer
// OFFSET_MOVED_TO_TIERED_STORAGE, KIP-405). v15: the replica id moves from the top level into
// the tagged ReplicaState {replicaId, replicaEpoch} (KIP-903). v16: NodeEndpoints tag out,
// naming the leaders that CurrentLeader points at (KIP-951). v17: the follower's directory id
// (tag 0 per partition, KIP-853). v18: the high watermark the replica knows (tag 1 per
// partition; Long.MAX_VALUE when unset, KIP-1166). Kafka 4.1's definitions stop at 18.

import { ApiKey } from '../api-keys';
import { ZERO_UUID } from '../primitives';
import { array, defineApi, field, struct } from '../schema';

/**
 * Kafka's default for a v18 partition's HighWatermark is Long.MAX_VALUE ("not sent"). As a
 * JavaScript number the eight bytes 7fffffffffffffff read as 2^63, so that is the default
 * compared against: a decoded MAX_VALUE equals it and is left out again on encode.
 */
export const FETCH_HIGH_WATERMARK_UNSET = 2 ** 63;

export const Fetch = defineApi({
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  validVersions: '0-18',
  flexibleVersions: '12+',
  request: [
    field('clusterId', 'string', {
      versions: '12+',
      nullableVersions: '12+',
      taggedVersions: '12+',
      tag: 0,
      default: null,
    }),
    field('replicaId', 'int32', { versions: '0-14', default: -1 }),
    struct(
      'replicaState',
      [field('replicaId', 'int32', { default: -1 }), field('replicaEpoch', 'int64', { default: -1 })],
      {
        versions: '15+',
        taggedVersions: '15+',
        tag: 1,
      },
    ),
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
        field('replicaDirectoryId', 'uuid', { versions: '17+', taggedVersions: '17+', tag: 0, default: ZERO_UUID }),
        field('highWatermark', 'int64', {
          versions: '18+',
          taggedVersions: '18+',
          tag: 1,
          default: FETCH_HIGH_WATERMARK_UNSET,
        }),
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
    array(
      'nodeEndpoints',
      [
        field('nodeId', 'int32'),
        field('host', 'string'),
        field('port', 'int32'),
        field('rack', 'string', { nullableVersions: '16+', default: null }),
      ],
      { versions: '16+', taggedVersions: '16+', tag: 0 },
    ),
  ],
});
