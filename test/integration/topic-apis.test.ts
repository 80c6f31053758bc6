// The topic, admin and produce APIs at Kafka 4.1's newest versions against a real broker,
// spoken as raw frames through the bundled KafkaConnection (kafkajs stops at older
// versions): Produce 13 by topic id, Metadata 13, ApiVersions 3 and 4 features,
// ListOffsets 8-10, DeleteTopics by id with Kafka's name-vs-id checks,
// AlterPartitionReassignments 1, DescribeCluster 0-2 and DescribeTopicPartitions with its
// cursor and partition limit (max.request.partition.size.limit is 3 here), and versions
// beyond the served ranges.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeRequestFrame } from '../../protocol/frame';
import { Reader, ZERO_UUID } from '../../protocol/primitives';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { API_VERSIONS_V0, BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker({ config: { 'max.request.partition.size.limit': '3' } });
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10_000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  await broker.stop();
});

async function createTopic(name: string, partitions: number): Promise<string> {
  const answer = await connection.request(ApiKey.CreateTopics, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.is(answer.topics[0].errorCode, ErrorCode.NONE, `create ${name}`);
  return answer.topics[0].topicId;
}

async function metadata13(names: string[]) {
  return connection.request(ApiKey.Metadata, 13, {
    topics: names.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

function produceById(topicId: string, partition = 0, version = 13) {
  return connection.request(ApiKey.Produce, version, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      { topicId, partitionData: [{ index: partition, records: encodeRecordBatchSync({ records: [{ value: 'v' }] }) }] },
    ],
  });
}

test('ApiVersions: new ranges; features per KIP-584/1022 (v4 lists minimum-0 features, v3 leaves them out)', async () => {
  const v4 = await connection.request(ApiKey.ApiVersions, 4, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
  const range = (key: number) => {
    const k = v4.apiKeys.find((r) => r.apiKey === key);
    return k ? `${k.minVersion}-${k.maxVersion}` : 'none';
  };
  assert.equal(
    [ApiKey.Produce, ApiKey.ListOffsets, ApiKey.Metadata, ApiKey.ApiVersions, ApiKey.InitProducerId].map(range),
    ['0-13', '0-10', '0-13', '0-4', '0-5'],
  );
  assert.equal(
    [ApiKey.AlterPartitionReassignments, ApiKey.DescribeCluster, ApiKey.DescribeTopicPartitions].map(range),
    ['0-1', '0-2', '0-0'],
  );
  assert.equal(v4.supportedFeatures, [
    { name: 'group.version', minVersion: 0, maxVersion: 0 },
    { name: 'metadata.version', minVersion: 27, maxVersion: 27 },
    { name: 'transaction.version', minVersion: 0, maxVersion: 0 },
  ]);
  // Level 0 (off) is never finalized: clients see no transaction.version, so no transactions v2.
  assert.equal(v4.finalizedFeatures, [{ name: 'metadata.version', maxVersionLevel: 27, minVersionLevel: 27 }]);
  assert.ok(v4.finalizedFeaturesEpoch >= 0, `epoch ${v4.finalizedFeaturesEpoch}`);
  const v3 = await connection.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
  assert.equal(v3.supportedFeatures, [{ name: 'metadata.version', minVersion: 27, maxVersion: 27 }]);
  assert.equal(v3.finalizedFeatures, v4.finalizedFeatures);
});

test('Produce v13 names the topic by id; unknown and zero ids get UNKNOWN_TOPIC_ID', async () => {
  const id = await createTopic('by-id', 2);
  const meta = await metadata13(['by-id']);
  assert.is(meta.errorCode, ErrorCode.NONE);
  assert.is(meta.topics[0].topicId, id, 'Metadata and CreateTopics give the same id');
  const produced = await produceById(id, 1);
  assert.is(produced.responses[0].topicId, id);
  assert.is(produced.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  assert.is(produced.responses[0].partitionResponses[0].baseOffset, 0);
  assert.is((await produceById(id, 1)).responses[0].partitionResponses[0].baseOffset, 1);
  // The batches landed in by-id/1: ListOffsets by name sees them.
  const offsets = await connection.request(ApiKey.ListOffsets, 10, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 'by-id', partitions: [{ partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1 }] }],
    timeoutMs: 1000,
  });
  assert.is(offsets.topics[0].partitions[0].offset, 2);
  const unknown = Buffer.alloc(16, 9).toString('base64url');
  for (const bad of [unknown, ZERO_UUID]) {
    const answer = await produceById(bad);
    assert.is(answer.responses[0].topicId, bad);
    assert.is(answer.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID, `id ${bad}`);
  }
  // A known id and a partition the topic does not have.
  assert.is(
    (await produceById(id, 5)).responses[0].partitionResponses[0].errorCode,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
  // v12 still names topics; the leader answers with no leader hint.
  const v12 = await connection.request(ApiKey.Produce, 12, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [
      { name: 'by-id', partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value: 'x' }] }) }] },
    ],
  });
  assert.is(v12.responses[0].name, 'by-id');
  assert.equal(v12.responses[0].partitionResponses[0].currentLeader, { leaderId: -1, leaderEpoch: -1 });
  assert.equal(v12.nodeEndpoints, []);
});

test('Metadata by id: v12+ only; an id makes the request by id alone; unknown ids UNKNOWN_TOPIC_ID', async () => {
  const id = await createTopic('meta-id', 1);
  const unknown = Buffer.alloc(16, 5).toString('base64url');
  const ask = (version: number, topics: { topicId: string; name: string | null }[]) =>
    connection.request(ApiKey.Metadata, version, {
      topics,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
  const mixed = await ask(13, [
    { topicId: ZERO_UUID, name: 'by-name-ignored' },
    { topicId: id, name: null },
    { topicId: unknown, name: null },
    { topicId: id, name: null },
  ]);
  assert.equal(
    mixed.topics.map((t) => [t.name, t.topicId, t.errorCode]),
    // Kafka's order: unknown ids first, then the topics described.
    [
      [null, unknown, ErrorCode.UNKNOWN_TOPIC_ID],
      ['meta-id', id, ErrorCode.NONE],
    ],
  );
  for (const version of [10, 11]) {
    const refused = await ask(version, [{ topicId: id, name: 'meta-id' }]);
    assert.equal(
      refused.topics.map((t) => t.errorCode),
      [ErrorCode.INVALID_REQUEST],
      `v${version}`,
    );
  }
  assert.is((await ask(11, [{ topicId: ZERO_UUID, name: 'meta-id' }])).topics[0].topicId, id);
});

test('Produce acks=0: no answer when it worked; a stale topic id closes the connection, as Kafka closes it', async () => {
  const id = await createTopic('acks0', 1);
  const frame = (topicId: string) =>
    encodeRequestFrame(
      { apiKey: ApiKey.Produce, apiVersion: 13, correlationId: 11, clientId: 't' },
      requestCodec(ApiKey.Produce, 13),
      {
        transactionalId: null,
        acks: 0,
        timeoutMs: 1000,
        topicData: [
          { topicId, partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value: 'z' }] }) }] },
        ],
      },
    );
  // Each frame is followed by ApiVersions v0 (correlation id 1) on the same connection.
  const ok = await rawRequest(broker.port, Buffer.concat([frame(id), API_VERSIONS_V0]));
  assert.ok(ok.frame, 'the connection stays open after a produce that worked');
  assert.is(ok.frame!.readInt32BE(0), 1, 'the only answer is the ApiVersions one');
  const stale = await rawRequest(
    broker.port,
    Buffer.concat([frame(Buffer.alloc(16, 4).toString('base64url')), API_VERSIONS_V0]),
  );
  assert.equal(stale, { frame: null, closed: true });
});

test('ListOffsets 8-10: -4 is the log start offset, -5 has no tiered offset; before their versions, INVALID_REQUEST', async () => {
  await createTopic('specs', 1);
  const ask = (version: number, timestamp: number) =>
    connection
      .request(ApiKey.ListOffsets, version, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'specs', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
        timeoutMs: 100,
      })
      .then((a) => a.topics[0].partitions[0]);
  const local = await ask(8, -4);
  assert.equal([local.errorCode, local.offset, local.timestamp], [ErrorCode.NONE, 0, -1]);
  const tiered = await ask(9, -5);
  assert.equal([tiered.errorCode, tiered.offset, tiered.leaderEpoch], [ErrorCode.NONE, -1, -1]);
  assert.is((await ask(10, -5)).offset, -1);
  assert.is((await ask(7, -4)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.is((await ask(8, -5)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.is((await ask(10, -6)).errorCode, ErrorCode.INVALID_REQUEST);
});

test('DeleteTopics v6: by id; name and id together, neither, twice, unknown id: refused as Kafka refuses them', async () => {
  const idA = await createTopic('del-a', 1);
  const idB = await createTopic('del-b', 1);
  const unknown = Buffer.alloc(16, 3).toString('base64url');
  const answer = await connection.request(ApiKey.DeleteTopics, 6, {
    topics: [
      { name: 'del-b', topicId: idB },
      { name: null, topicId: ZERO_UUID },
      { name: null, topicId: unknown },
      { name: null, topicId: idA },
      { name: 'nope', topicId: ZERO_UUID },
    ],
    timeoutMs: 10_000,
  });
  const by = (name: string | null, id: string) => answer.responses.find((r) => r.name === name && r.topicId === id);
  assert.is(by('del-b', idB)?.errorCode, ErrorCode.INVALID_REQUEST);
  assert.is(by('del-b', idB)?.errorMessage, 'You may not specify both topic name and topic id.');
  assert.is(by(null, ZERO_UUID)?.errorCode, ErrorCode.INVALID_REQUEST);
  assert.is(by(null, unknown)?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.is(by('del-a', idA)?.errorCode, ErrorCode.NONE, 'deleted by id, answered with its name');
  assert.is(by('nope', ZERO_UUID)?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.is(answer.responses.length, 5);
  // del-b is still there, del-a is gone; the same id twice is a duplicate.
  const meta = await metadata13(['del-a', 'del-b']);
  assert.equal(
    meta.topics.map((t) => t.errorCode),
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE],
  );
  const twice = await connection.request(ApiKey.DeleteTopics, 6, {
    topics: [
      { name: null, topicId: idB },
      { name: null, topicId: idB },
    ],
    timeoutMs: 10_000,
  });
  assert.equal(twice.responses, [
    { name: null, topicId: idB, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic id.' },
  ]);
  // The id of a deleted topic names nothing.
  const gone = await connection.request(ApiKey.DeleteTopics, 6, {
    topics: [{ name: null, topicId: idA }],
    timeoutMs: 10_000,
  });
  assert.is(gone.responses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
});

test('DescribeCluster 0-2: brokers, cluster id, controller; endpoint types as Kafka answers them', async () => {
  for (const version of [0, 1, 2]) {
    const answer = await connection.request(ApiKey.DescribeCluster, version, {
      includeClusterAuthorizedOperations: version === 2,
      endpointType: 1,
      includeFencedBrokers: true,
    });
    assert.is(answer.errorCode, ErrorCode.NONE);
    assert.is(answer.brokers.length, 1);
    assert.is(answer.brokers[0].port, broker.port);
    assert.is(answer.brokers[0].isFenced, false);
    assert.is(answer.controllerId, answer.brokers[0].brokerId);
    assert.ok(answer.clusterId.length > 0);
    assert.is(answer.clusterAuthorizedOperations, version === 2 ? 8096 : -2147483648);
  }
  const controllers = await connection.request(ApiKey.DescribeCluster, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 2,
  });
  assert.is(controllers.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
  assert.equal(controllers.brokers, []);
  const unknown = await connection.request(ApiKey.DescribeCluster, 2, {
    includeClusterAuthorizedOperations: false,
    endpointType: 9,
    includeFencedBrokers: false,
  });
  assert.is(unknown.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
});

test('DescribeTopicPartitions: name order, partition limit capped by the broker, cursor paging', async () => {
  await createTopic('dtp-a', 2);
  await createTopic('dtp-b', 3);
  const describe = (
    topics: string[],
    responsePartitionLimit: number,
    cursor: { topicName: string; partitionIndex: number } | null = null,
  ) =>
    connection.request(ApiKey.DescribeTopicPartitions, 0, {
      topics: topics.map((name) => ({ name })),
      responsePartitionLimit,
      cursor,
    });
  const shape = (answer: Awaited<ReturnType<typeof describe>>) =>
    answer.topics.map((t) => `${t.name}:${t.errorCode}:${t.partitions.map((p) => p.partitionIndex).join(',')}`);
  // A huge limit is cut to max.request.partition.size.limit (3): a then b's first partition.
  const first = await describe(['dtp-b', 'dtp-a', 'dtp-missing'], 1_000_000_000);
  assert.equal(shape(first), ['dtp-a:0:0,1', 'dtp-b:0:0']);
  assert.equal(first.nextCursor, { topicName: 'dtp-b', partitionIndex: 1 });
  const a = first.topics[0];
  assert.is(a.topicId, (await metadata13(['dtp-a'])).topics[0].topicId);
  assert.is(a.topicAuthorizedOperations, 3576);
  assert.equal(a.partitions[0].eligibleLeaderReplicas, []);
  assert.is(a.partitions[0].leaderId, a.partitions[0].replicaNodes[0]);
  // The cursor continues inside b; the unknown topic is answered once its turn comes.
  const second = await describe(['dtp-b', 'dtp-a', 'dtp-missing'], 1_000_000_000, first.nextCursor);
  assert.equal(shape(second), ['dtp-b:0:1,2', `dtp-missing:${ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}:`]);
  assert.is(second.nextCursor, null);
  assert.is(second.topics[1].topicId, ZERO_UUID);
  // A limit below 1 answers one partition; the limit used up exactly points at the next topic.
  const one = await describe(['dtp-a', 'dtp-b'], 0);
  assert.equal(shape(one), ['dtp-a:0:0']);
  assert.equal(one.nextCursor, { topicName: 'dtp-a', partitionIndex: 1 });
  const exact = await describe(['dtp-a', 'dtp-b'], 2);
  assert.equal(shape(exact), ['dtp-a:0:0,1']);
  assert.equal(exact.nextCursor, { topicName: 'dtp-b', partitionIndex: 0 });
  // An illegal name is INVALID_TOPIC_EXCEPTION.
  assert.equal(shape(await describe(['bad name!'], 10)), [`bad name!:${ErrorCode.INVALID_TOPIC_EXCEPTION}:`]);
  // Every topic, paged to the end, gives each partition once.
  const seen: string[] = [];
  let cursor: { topicName: string; partitionIndex: number } | null = null;
  for (let page = 0; page < 50; page++) {
    const answer = await describe([], 3, cursor);
    for (const t of answer.topics) for (const p of t.partitions) seen.push(`${t.name}-${p.partitionIndex}`);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  assert.is(cursor, null, 'paging ends');
  for (const want of ['dtp-a-0', 'dtp-a-1', 'dtp-b-0', 'dtp-b-1', 'dtp-b-2'])
    assert.is(seen.filter((s) => s === want).length, 1, want);
  // With every topic asked for, a cursor on a topic that does not exist starts after it.
  assert.equal(shape(await describe([], 10, { topicName: 'dtp-aa', partitionIndex: 0 })).slice(0, 1), [
    'dtp-b:0:0,1,2',
  ]);
});

test('DescribeTopicPartitions: a cursor pointing nowhere is INVALID_REQUEST on every topic named', async () => {
  const outside = await connection.request(ApiKey.DescribeTopicPartitions, 0, {
    topics: [{ name: 'dtp-a' }],
    responsePartitionLimit: 10,
    cursor: { topicName: 'dtp-zzz', partitionIndex: 0 },
  });
  assert.equal(
    outside.topics.map((t) => [t.name, t.errorCode, t.topicId, t.partitions.length]),
    [['dtp-a', ErrorCode.INVALID_REQUEST, ZERO_UUID, 0]],
  );
  assert.is(outside.nextCursor, null);
  const negative = await connection.request(ApiKey.DescribeTopicPartitions, 0, {
    topics: [{ name: 'dtp-a' }],
    responsePartitionLimit: 10,
    cursor: { topicName: 'dtp-a', partitionIndex: -1 },
  });
  assert.is(negative.topics[0].errorCode, ErrorCode.INVALID_REQUEST);
  // Past the topic's last partition: the topic, with no partitions, and no cursor.
  const past = await connection.request(ApiKey.DescribeTopicPartitions, 0, {
    topics: [{ name: 'dtp-a' }],
    responsePartitionLimit: 10,
    cursor: { topicName: 'dtp-a', partitionIndex: 2_000_000_000 },
  });
  assert.equal(
    past.topics.map((t) => [t.name, t.errorCode, t.partitions.length]),
    [['dtp-a', ErrorCode.NONE, 0]],
  );
  assert.is(past.nextCursor, null);
});

test('AlterPartitionReassignments v1: allowReplicationFactorChange false refuses another length', async () => {
  await createTopic('rf', 1);
  const self = (await metadata13(['rf'])).topics[0].partitions[0].replicaNodes[0];
  const alter = (version: number, allow: boolean, replicas: number[]) =>
    connection.request(ApiKey.AlterPartitionReassignments, version, {
      timeoutMs: 10_000,
      allowReplicationFactorChange: allow,
      topics: [{ name: 'rf', partitions: [{ partitionIndex: 0, replicas }] }],
    });
  const refused = await alter(1, false, [self, self + 100]);
  assert.is(refused.allowReplicationFactorChange, false);
  assert.equal(refused.responses[0].partitions[0], {
    partitionIndex: 0,
    errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
    errorMessage: 'The replication factor is changed from 1 to 2',
  });
  // Allowed, the same request reaches the controller, which refuses the unknown broker.
  const allowed = await alter(1, true, [self, self + 100]);
  assert.is(allowed.allowReplicationFactorChange, true);
  assert.is.not(allowed.responses[0].partitions[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  // v0 has no flag: a change of length is not refused for it.
  assert.is.not(
    (await alter(0, false, [self, self + 100])).responses[0].partitions[0].errorCode,
    ErrorCode.INVALID_REPLICATION_FACTOR,
  );
  // Same length with the flag off goes through.
  assert.is((await alter(1, false, [self])).responses[0].partitions[0].errorCode, ErrorCode.NONE);
});

test('InitProducerId v5 gives an idempotent producer id', async () => {
  const answer = await connection.request(ApiKey.InitProducerId, 5, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
  });
  assert.is(answer.errorCode, ErrorCode.NONE);
  assert.ok(answer.producerId >= 0);
});

test('beyond the served ranges: ApiVersions v5 gets UNSUPPORTED_VERSION in v0; other APIs close, as Kafka closes', async () => {
  const apiVersionsV5 = Buffer.from('0000000a' + '0012' + '0005' + '0000002b' + 'ffff', 'hex');
  const { frame } = await rawRequest(broker.port, apiVersionsV5);
  assert.ok(frame);
  const body = responseCodec(ApiKey.ApiVersions, 0).decode(new Reader(frame!.subarray(4)));
  assert.is(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(body.apiKeys.some((k) => k.apiKey === ApiKey.DescribeTopicPartitions));
  for (const [apiKey, version] of [
    [ApiKey.DescribeTopicPartitions, 1],
    [ApiKey.DescribeCluster, 3],
    [ApiKey.Produce, 14],
    [ApiKey.Metadata, 14],
  ]) {
    const bytes = Buffer.from(
      '000000' + '0a' + apiKey.toString(16).padStart(4, '0') + version.toString(16).padStart(4, '0') + '00000007ffff',
      'hex',
    );
    assert.ok((await rawRequest(broker.port, bytes)).closed, `key ${apiKey} v${version} closes`);
  }
  // Still serving, and the frame layout of a served version is unchanged.
  const ok = encodeRequestFrame(
    { apiKey: ApiKey.DescribeCluster, apiVersion: 0, correlationId: 3, clientId: 't' },
    requestCodec(ApiKey.DescribeCluster, 0),
    { includeClusterAuthorizedOperations: false },
  );
  assert.ok((await rawRequest(broker.port, ok)).frame);
});

test.run();
