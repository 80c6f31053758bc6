// Produce (key 0), versions 0-13; flexible from v9.
// v1: throttle time. v2: log append time. v3: transactional id, record batch v2 only.
// v4: same. v5: log start offset. v6: same. v7: zstd allowed. v8: per-batch record errors
// and an error message. v9: flexible. v10: the current leader of a partition answered
// NOT_LEADER_OR_FOLLOWER and the endpoints of those leaders, as tagged fields (KIP-951).
// v11: TRANSACTION_ABORTABLE may be returned (KIP-890). v12: same as v11 (transactional
// producers of transaction version 2 enrol partitions through it). v13: topics named by
// topic id instead of name, in the request and the response (KIP-516; UNKNOWN_TOPIC_ID).

import { ApiKey } from '../api-keys';
import { array, defineApi, field, struct } from '../schema';

export const Produce = defineApi({
  apiKey: ApiKey.Produce,
  name: 'Produce',
  validVersions: '0-13',
  flexibleVersions: '9+',
  request: [
    field('transactionalId', 'string', { versions: '3+', nullableVersions: '3+', default: null }),
    field('acks', 'int16'),
    field('timeoutMs', 'int32'),
    array('topicData', [
      field('name', 'string', { versions: '0-12' }),
      field('topicId', 'uuid', { versions: '13+' }),
      array('partitionData', [field('index', 'int32'), field('records', 'records', { nullableVersions: '0+' })]),
    ]),
  ],
  response: [
    array('responses', [
      field('name', 'string', { versions: '0-12' }),
      field('topicId', 'uuid', { versions: '13+' }),
      array('partitionResponses', [
        field('index', 'int32'),
        field('errorCode', 'int16'),
        field('baseOffset', 'int64'),
        field('logAppendTimeMs', 'int64', { versions: '2+', default: -1 }),
        field('logStartOffset', 'int64', { versions: '5+', default: -1 }),
        array(
          'recordErrors',
          [
            field('batchIndex', 'int32'),
            field('batchIndexErrorMessage', 'string', { nullableVersions: '8+', default: null }),
          ],
          { versions: '8+' },
        ),
        field('errorMessage', 'string', { versions: '8+', nullableVersions: '8+', default: null }),
        struct(
          'currentLeader',
          [field('leaderId', 'int32', { default: -1 }), field('leaderEpoch', 'int32', { default: -1 })],
          { versions: '10+', taggedVersions: '10+', tag: 0 },
        ),
      ]),
    ]),
    field('throttleTimeMs', 'int32', { versions: '1+' }),
    array(
      'nodeEndpoints',
      [
        field('nodeId', 'int32'),
        field('host', 'string'),
        field('port', 'int32'),
        field('rack', 'string', { nullableVersions: '10+', default: null }),
      ],
      { versions: '10+', taggedVersions: '10+', tag: 0 },
    ),
  ],
});
