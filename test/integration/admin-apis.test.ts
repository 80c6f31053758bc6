// DescribeLogDirs (35), DescribeProducers (61), ElectLeaders (43) and UnregisterBroker (64)
// against an in-process node with an authorizer: every DescribeLogDirs version (partition
// sizes, lag 0 on a leader, the volume's bytes from v4, the partition filter, Describe on the
// cluster), DescribeProducers after a kafkajs idempotent producer (its producer id, epoch and
// last sequence; Read on the topic), ElectLeaders and UnregisterBroker refused without Alter
// on the cluster, and bad input (too many partitions, an invalid or unknown topic, a
// partition not here, an unknown election type, an unknown broker id). The elections
// themselves are in elect-leaders-cluster.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { AclOperation, ResourceType } from '../../src/security/acl';
import { AuthzNode, startAuthzNode } from '../helpers/authz-node';
import type { KafkaConnection } from '../../src/net/kafka-connection';

const TOPIC = 'sizes';
let node: AuthzNode;
let admin: KafkaConnection;

test.before(async () => {
  node = await startAuthzNode('log-dirs', ['brook.max.partitions.per.request=5']);
  const kafkaAdmin = node.kafka('admin').admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await kafkaAdmin.disconnect();
  const producer = node.kafka('admin').producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } });
  await producer.connect();
  for (let i = 0; i < 3; i++)
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: [
        { value: `v${i}`, partition: 0 },
        { value: 'w', partition: 0 },
      ],
    });
  await producer.disconnect();
  admin = await node.connect('admin');
});

test.after(async () => {
  await node?.close();
});

test('DescribeLogDirs 1-4: the log directory, partition sizes, lag 0 on a leader, volume bytes from v4', async () => {
  for (let version = 1; version <= 4; version++) {
    const answer = await admin.request(ApiKey.DescribeLogDirs, version, { topics: null });
    assert.is(answer.errorCode ?? 0, ErrorCode.NONE);
    assert.is(answer.results.length, 1);
    const dir = answer.results[0];
    assert.is(dir.errorCode, ErrorCode.NONE);
    assert.ok(dir.logDir.startsWith('/') && dir.logDir.endsWith('logs'), dir.logDir);
    const topic = dir.topics.find((t) => t.name === TOPIC);
    assert.ok(topic, `v${version} lists ${TOPIC}`);
    assert.equal(
      topic!.partitions.map((p) => p.partitionIndex),
      [0, 1],
    );
    assert.ok(topic!.partitions[0].partitionSize > 0, 'partition 0 holds the batches');
    assert.is(topic!.partitions[1].partitionSize, 0);
    for (const p of topic!.partitions) {
      assert.is(p.offsetLag, 0);
      assert.is(p.isFutureKey, false);
    }
    if (version >= 4) {
      assert.ok(dir.totalBytes > 0 && dir.usableBytes >= 0 && dir.usableBytes <= dir.totalBytes, 'statfs bytes');
    }
  }
});

test('DescribeLogDirs: only the partitions asked for; absent ones are left out', async () => {
  const answer = await admin.request(ApiKey.DescribeLogDirs, 4, {
    topics: [
      { topic: TOPIC, partitions: [1, 7] },
      { topic: 'no-such-topic', partitions: [0] },
    ],
  });
  assert.equal(
    answer.results[0].topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]),
    [[TOPIC, [1]]],
  );
  const none = await admin.request(ApiKey.DescribeLogDirs, 4, { topics: [] });
  assert.equal(none.results[0].topics, []);
});

test('DescribeLogDirs: more partitions than brook.max.partitions.per.request is INVALID_REQUEST', async () => {
  const answer = await admin.request(ApiKey.DescribeLogDirs, 4, {
    topics: [{ topic: TOPIC, partitions: [0, 1, 2, 3, 4, 5] }],
  });
  assert.is(answer.errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(answer.results, []);
});

test('DescribeLogDirs needs Describe on the cluster: CLUSTER_AUTHORIZATION_FAILED and no directories', async () => {
  const alice = await node.connect('alice');
  const refused = await alice.request(ApiKey.DescribeLogDirs, 4, { topics: null });
  assert.is(refused.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(refused.results, []);
  // v1-2 have no top-level error code: just no directories.
  const old = await alice.request(ApiKey.DescribeLogDirs, 1, { topics: null });
  assert.equal(old.results, []);
  await node.grant([
    {
      resourceType: ResourceType.CLUSTER,
      resourceName: 'kafka-cluster',
      principal: 'User:alice',
      operation: AclOperation.DESCRIBE,
    },
  ]);
  const allowed = await alice.request(ApiKey.DescribeLogDirs, 4, { topics: null });
  assert.is(allowed.errorCode, ErrorCode.NONE);
  assert.is(allowed.results.length, 1);
});

test('DescribeProducers: the idempotent producer of a partition, none on an idle one', async () => {
  const answer = await admin.request(ApiKey.DescribeProducers, 0, {
    topics: [{ name: TOPIC, partitionIndexes: [0, 1] }],
  });
  const [p0, p1] = answer.topics[0].partitions;
  assert.is(p0.errorCode, ErrorCode.NONE);
  assert.is(p0.activeProducers.length, 1);
  const producer = p0.activeProducers[0];
  assert.ok(Number(producer.producerId) >= 0);
  assert.is(producer.producerEpoch, 0);
  // Three batches of two records: sequences 0-5.
  assert.is(producer.lastSequence, 5);
  assert.ok(Number(producer.lastTimestamp) > 0);
  assert.is(producer.coordinatorEpoch, -1);
  assert.is(Number(producer.currentTxnStartOffset), -1);
  assert.is(p1.errorCode, ErrorCode.NONE);
  assert.equal(p1.activeProducers, []);
});

test('DescribeProducers: unknown topic or partition, invalid name, too many partitions', async () => {
  const answer = await admin.request(ApiKey.DescribeProducers, 0, {
    topics: [
      { name: TOPIC, partitionIndexes: [9] },
      { name: 'missing', partitionIndexes: [0] },
      { name: 'bad/name', partitionIndexes: [0] },
    ],
  });
  assert.equal(
    answer.topics.map((t) => t.partitions.map((p) => p.errorCode)),
    [
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.INVALID_TOPIC_EXCEPTION],
    ],
  );
  const tooMany = await admin.request(ApiKey.DescribeProducers, 0, {
    topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2, 3, 4, 5] }],
  });
  assert.ok(tooMany.topics[0].partitions.every((p) => p.errorCode === ErrorCode.INVALID_REQUEST));
});

test('DescribeProducers needs Read on the topic: TOPIC_AUTHORIZATION_FAILED', async () => {
  const bob = await node.connect('bob');
  const refused = await bob.request(ApiKey.DescribeProducers, 0, { topics: [{ name: TOPIC, partitionIndexes: [0] }] });
  assert.is(refused.topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  await node.grant([
    { resourceType: ResourceType.TOPIC, resourceName: TOPIC, principal: 'User:bob', operation: AclOperation.READ },
  ]);
  const allowed = await bob.request(ApiKey.DescribeProducers, 0, { topics: [{ name: TOPIC, partitionIndexes: [0] }] });
  assert.is(allowed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.is(allowed.topics[0].partitions[0].activeProducers.length, 1);
});

test('ElectLeaders: Alter on the cluster, bad input, v0, a single node', async () => {
  const alice = await node.connect('alice');
  const refused = await alice.request(ApiKey.ElectLeaders, 2, {
    electionType: 0,
    topicPartitions: [{ topic: TOPIC, partitions: [0, 1] }],
    timeoutMs: 5000,
  });
  assert.is(refused.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(
    refused.replicaElectionResults[0].partitionResult.map((p) => p.errorCode),
    [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
  );
  const refusedAll = await alice.request(ApiKey.ElectLeaders, 2, {
    electionType: 1,
    topicPartitions: null,
    timeoutMs: 5000,
  });
  assert.is(refusedAll.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(refusedAll.replicaElectionResults, []);
  const badType = await admin.request(ApiKey.ElectLeaders, 2, {
    electionType: 7,
    topicPartitions: [{ topic: TOPIC, partitions: [0] }],
    timeoutMs: 5000,
  });
  assert.is(badType.errorCode, ErrorCode.INVALID_REQUEST);
  assert.is(badType.replicaElectionResults[0].partitionResult[0].errorCode, ErrorCode.INVALID_REQUEST);
  const tooMany = await admin.request(ApiKey.ElectLeaders, 2, {
    electionType: 0,
    topicPartitions: [{ topic: TOPIC, partitions: [0, 1, 2, 3, 4, 5] }],
    timeoutMs: 5000,
  });
  assert.is(tooMany.errorCode, ErrorCode.INVALID_REQUEST);
  // v0 is always a preferred election; on one node every leader is already preferred.
  const v0 = await admin.request(ApiKey.ElectLeaders, 0, {
    topicPartitions: [
      { topic: TOPIC, partitions: [0, 9] },
      { topic: 'missing', partitions: [0] },
    ],
    timeoutMs: 5000,
  });
  assert.equal(
    v0.replicaElectionResults.map((t) => t.partitionResult.map((p) => p.errorCode)),
    [[ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
  );
  const unclean = await admin.request(ApiKey.ElectLeaders, 1, {
    electionType: 1,
    topicPartitions: null,
    timeoutMs: 5000,
  });
  assert.is(unclean.errorCode, ErrorCode.NONE);
  assert.ok(unclean.replicaElectionResults.every((t) => t.partitionResult.length === 0));
});

test('UnregisterBroker: Alter on the cluster; an unknown id is BROKER_ID_NOT_REGISTERED', async () => {
  const alice = await node.connect('alice');
  const refused = await alice.request(ApiKey.UnregisterBroker, 0, { brokerId: 5 });
  assert.is(refused.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const unknown = await admin.request(ApiKey.UnregisterBroker, 0, { brokerId: 5 });
  assert.is(unknown.errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
  assert.match(unknown.errorMessage ?? '', /not currently registered/);
  const negative = await admin.request(ApiKey.UnregisterBroker, 0, { brokerId: -1 });
  assert.is(negative.errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
});

test.run();
