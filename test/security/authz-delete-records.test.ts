// DeleteRecords under Kafka's StandardAuthorizer, on one SASL/SCRAM node: Delete on the topic
// or each of its partitions is answered TOPIC_AUTHORIZATION_FAILED (low watermark -1) and the
// log start stays; once granted, the same principal deletes. A topic the principal may not
// see is refused the same way whether it exists or not, as Kafka checks before it looks.
// The internal topics are refused to everyone, super users included (INVALID_TOPIC_EXCEPTION).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { OFFSETS_TOPIC } from '../../protocol/topic-names';
import { AclOperation as Op, ResourceType } from '../../src/security/acl';
import { AuthzNode, TestUser, startAuthzNode } from '../helpers/authz-node';
import { until } from '../helpers/wait';

let node: AuthzNode;

const TOPIC = 'ledger';

test.before(async () => {
  node = await startAuthzNode('authz-delete-records');
  const kafka = node.kafka('admin');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    messages: Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `entry-${i}` })),
  });
  await producer.disconnect();
  void node.running.broker.ensureOffsetsTopic();
  await until(() => node.running.broker.topics.get(OFFSETS_TOPIC), { what: 'the offsets topic', timeoutMs: 10000 });
  await node.grant([
    { resourceType: ResourceType.TOPIC, resourceName: TOPIC, principal: 'User:alice', operation: Op.DESCRIBE },
  ]);
});

test.after(async () => {
  await node?.close();
});

async function deleteRecords(user: TestUser, topic: string, offset: number) {
  const connection = await node.connect(user);
  const answer = await connection.request(ApiKey.DeleteRecords, 2, {
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset }] }],
    timeoutMs: 5000,
  });
  const p = answer.topics[0].partitions[0];
  return { errorCode: p.errorCode, lowWatermark: Number(p.lowWatermark) };
}

function logStart(): number {
  return node.running.broker.replicas.get(TOPIC, 0)!.log.logStartOffset;
}

test('without Delete on the topic: TOPIC_AUTHORIZATION_FAILED, through kafkajs and raw; nothing deleted', async () => {
  const alice = node.kafka('alice').admin();
  await alice.connect();
  try {
    await alice.fetchTopicMetadata({ topics: [TOPIC] });
    const error = await alice.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '5' }] }).then(
      () => null,
      (e) => e,
    );
    assert.ok(error, 'refused');
    // kafkajs wraps the per-partition errors in a non-retriable error's cause.
    const partitions = (error.cause ?? error).partitions ?? [];
    const types = partitions.map((e: { error?: { type?: string } }) => e.error?.type);
    assert.ok(types.includes('TOPIC_AUTHORIZATION_FAILED'), `${error.message}: ${types}`);
  } finally {
    await alice.disconnect();
  }
  assert.equal(await deleteRecords('alice', TOPIC, 5), {
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    lowWatermark: -1,
  });
  // bob has no ACL at all: refused alike for the topic and for a name that does not exist.
  assert.is((await deleteRecords('bob', TOPIC, 5)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is((await deleteRecords('bob', 'no-such-topic', 5)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(logStart(), 0);
});

test('with Delete on the topic the same principal deletes; internal topics are refused to all', async () => {
  await node.grant([
    { resourceType: ResourceType.TOPIC, resourceName: TOPIC, principal: 'User:alice', operation: Op.DELETE },
  ]);
  await until(async () => (await deleteRecords('alice', TOPIC, 5)).errorCode === ErrorCode.NONE, {
    what: 'the Delete grant to apply',
  });
  assert.is(logStart(), 5);
  const alice = node.kafka('alice').admin();
  await alice.connect();
  try {
    await alice.fetchTopicMetadata({ topics: [TOPIC] });
    await alice.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '8' }] });
    const offsets = await alice.fetchTopicOffsets(TOPIC);
    assert.is(offsets[0].low, '8');
  } finally {
    await alice.disconnect();
  }
  assert.equal(await deleteRecords('admin', OFFSETS_TOPIC, 0), {
    errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
    lowWatermark: -1,
  });
});

test.run();
