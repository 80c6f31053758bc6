// Bad input to the group coordinator over the wire: each gets its Kafka error code and
// the coordinator stays consistent.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { encodeRecordBatchSync } from '../../protocol/record-batch';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '4', 'group.max.size': '3' },
  });
  await kcat(broker.port, ['-P', '-t', 'present'], 'x\n');
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 20000, clientId: 'bad' });
  await connection.connect();
});

test.after(async () => {
  connection.close();
  await broker.stop();
});

const commit = (
  groupId: string,
  generation: number,
  memberId: string,
  topic: string,
  partition: number,
  metadata = '',
) =>
  connection.request(ApiKey.OffsetCommit, 7, {
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    groupInstanceId: null,
    topics: [
      {
        name: topic,
        partitions: [
          { partitionIndex: partition, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: metadata },
        ],
      },
    ],
  });

const join = (groupId: string, memberId: string, metadata = Buffer.from([0, 1])) =>
  connection.request(ApiKey.JoinGroup, 5, {
    groupId,
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 6000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata }],
  });

test('commits: unknown partitions, wrong generation, metadata too large, standalone', async () => {
  const unknown = await commit('standalone', -1, '', 'absent', 0);
  assert.is(unknown.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const beyond = await commit('standalone', -1, '', 'present', 5);
  assert.is(beyond.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const big = await commit('standalone', -1, '', 'present', 0, 'm'.repeat(5000));
  assert.is(big.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);
  const fine = await commit('standalone', -1, '', 'present', 0);
  assert.is(fine.topics[0].partitions[0].errorCode, ErrorCode.NONE);

  const first = await join('live', '');
  assert.is(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await join('live', first.memberId);
  assert.is(joined.errorCode, ErrorCode.NONE);
  const wrongGeneration = await commit('live', joined.generationId + 5, joined.memberId, 'present', 0);
  assert.is(wrongGeneration.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  const stranger = await commit('live', joined.generationId, 'nobody', 'present', 0);
  assert.is(stranger.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('joins: empty group id, oversized metadata, a flood past group.max.size', async () => {
  assert.is((await join('', '')).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.is((await join('huge', '', Buffer.alloc(2 * 1024 * 1024))).errorCode, ErrorCode.INVALID_REQUEST);
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await join('flood', '')).errorCode);
  assert.ok(codes.includes(ErrorCode.GROUP_MAX_SIZE_REACHED), `flood refused: ${codes}`);
});

test('unknown groups: heartbeat, sync, describe, delete, offsets', async () => {
  const hb = await connection.request(ApiKey.Heartbeat, 3, {
    groupId: 'nope',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
  });
  assert.is(hb.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const sync = await connection.request(ApiKey.SyncGroup, 3, {
    groupId: 'nope',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
    assignments: [],
  });
  assert.is(sync.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const described = await connection.request(ApiKey.DescribeGroups, 4, {
    groups: ['nope'],
    includeAuthorizedOperations: false,
  });
  assert.equal([described.groups[0].errorCode, described.groups[0].groupState], [0, 'Dead']);
  const deleted = await connection.request(ApiKey.DeleteGroups, 1, { groupsNames: ['nope', 'live'] });
  assert.equal(
    deleted.results.map((r: { errorCode: number }) => r.errorCode),
    [ErrorCode.GROUP_ID_NOT_FOUND, ErrorCode.NON_EMPTY_GROUP],
  );
  const fetched = await connection.request(ApiKey.OffsetFetch, 4, {
    groupId: 'nope',
    topics: [{ name: 'present', partitionIndexes: [0] }],
  });
  assert.is(fetched.topics[0].partitions[0].committedOffset, -1);
  const standalone = await connection.request(ApiKey.OffsetFetch, 4, { groupId: 'standalone', topics: null });
  assert.is(standalone.topics[0].partitions[0].committedOffset, 1);
});

test('the offsets topic cannot be deleted, grown or written by clients', async () => {
  const deleted = await connection.request(ApiKey.DeleteTopics, 1, {
    topicNames: ['__consumer_offsets'],
    timeoutMs: 1000,
  });
  assert.is(deleted.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
  const grown = await connection.request(ApiKey.CreatePartitions, 1, {
    topics: [{ name: '__consumer_offsets', count: 10, assignments: null }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.is(grown.results[0].errorCode, ErrorCode.INVALID_REQUEST);
  const written = await connection.request(ApiKey.Produce, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: '__consumer_offsets',
        partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value: 'junk' }] }) }],
      },
    ],
  });
  assert.is(written.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  // Groups still work after all that.
  const first = await join('after', '');
  assert.is((await join('after', first.memberId)).errorCode, ErrorCode.NONE);
});

test.run();
