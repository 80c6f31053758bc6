// Admin APIs under Kafka's StandardAuthorizer, on one SASL/SCRAM node: CreateTopics,
// DeleteTopics, CreatePartitions, DescribeConfigs and IncrementalAlterConfigs check Kafka's
// operations per topic or on the cluster and answer Kafka's *_AUTHORIZATION_FAILED codes
// (through kafkajs where it has the call, raw frames for the details); changing
// unclean.leader.election.enable or min.insync.replicas also needs Alter; partition
// reassignments and SCRAM credentials need Alter / Describe on the cluster; the internal
// topics are neither deleted, grown nor reconfigured by any client, super users included.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { OFFSETS_TOPIC } from '../../protocol/topic-names';
import { AclOperation as Op, PatternType, ResourceType } from '../../src/security/acl';
import { saltedPassword } from '../../src/security/scram';
import { AuthzNode, startAuthzNode } from '../helpers/authz-node';
import { until } from '../helpers/wait';

let node: AuthzNode;

const TOPIC = 2;
const BROKER = 4;
const SET = 0;

test.before(async () => {
  node = await startAuthzNode('authz-admin');
  const admin = node.kafka('admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  void node.running.broker.ensureOffsetsTopic();
  await until(() => node.running.broker.topics.get(OFFSETS_TOPIC), { what: 'the offsets topic', timeoutMs: 10000 });
  await node.grant([
    // alice may create, alter and configure topics whose names start with "alice-".
    {
      resourceType: ResourceType.TOPIC,
      resourceName: 'alice-',
      patternType: PatternType.PREFIXED,
      principal: 'User:alice',
      operation: Op.CREATE,
    },
    {
      resourceType: ResourceType.TOPIC,
      resourceName: 'alice-',
      patternType: PatternType.PREFIXED,
      principal: 'User:alice',
      operation: Op.ALTER_CONFIGS,
    },
    { resourceType: ResourceType.TOPIC, resourceName: 'orders', principal: 'User:alice', operation: Op.DESCRIBE },
    // bob may create any topic (Create on the cluster).
    { resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', principal: 'User:bob', operation: Op.CREATE },
  ]);
});

test.after(async () => {
  await node?.close();
});

function creation(name: string, configs: { name: string; value: string }[] = []) {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs };
}

test('CreateTopics: Create on the topic or the cluster; kafkajs sees TOPIC_AUTHORIZATION_FAILED', async () => {
  const alice = node.kafka('alice').admin();
  await alice.connect();
  try {
    // Without waiting for leaders: that wait reads Metadata, which needs Describe (alice has
    // Create and AlterConfigs on alice-*, not Describe; Kafka refuses that Metadata too).
    assert.ok(await alice.createTopics({ topics: [{ topic: 'alice-1', numPartitions: 1 }], waitForLeaders: false }));
    const error = await alice
      .createTopics({ topics: [{ topic: 'other-1', numPartitions: 1 }], waitForLeaders: false })
      .then(
        () => null,
        (e) => e,
      );
    assert.ok(error, 'refused');
    const types = (error.errors ?? [error]).map((e: { type?: string }) => e.type);
    assert.ok(types.includes('TOPIC_AUTHORIZATION_FAILED'), `${error.message}: ${types}`);
  } finally {
    await alice.disconnect();
  }
  assert.ok(node.running.broker.topics.get('alice-1'));
  assert.is(node.running.broker.topics.get('other-1'), undefined);
  const bob = await node.connect('bob');
  const created = await bob.request(ApiKey.CreateTopics, 7, {
    topics: [creation('bob-1')],
    timeoutMs: 10000,
    validateOnly: false,
  });
  assert.is(created.topics[0].errorCode, ErrorCode.NONE, 'Create on the cluster allows any name');
});

test('CreateTopics: the configs of a new topic are returned only with DescribeConfigs on it', async () => {
  const bob = await node.connect('bob');
  const hiddenAnswer = await bob.request(ApiKey.CreateTopics, 7, {
    topics: [creation('bob-2')],
    timeoutMs: 10000,
    validateOnly: false,
  });
  const hidden = hiddenAnswer.topics[0];
  assert.is(hidden.errorCode, ErrorCode.NONE, 'created (Create on the cluster)');
  assert.is(hidden.topicConfigErrorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'bob may not describe its configs');
  assert.equal(hidden.configs, []);
  assert.is(hidden.numPartitions, -1);
  assert.is(hidden.replicationFactor, -1);
  assert.ok(node.running.broker.topics.get('bob-2'));

  const alice = await node.connect('alice');
  const answer = await alice.request(ApiKey.CreateTopics, 7, {
    topics: [creation('alice-2'), creation('other-2'), creation('alice-3'), creation('alice-3')],
    timeoutMs: 10000,
    validateOnly: false,
  });
  const byName = new Map(answer.topics.map((t) => [t.name, t]));
  const shown = byName.get('alice-2')!;
  assert.is(shown.errorCode, ErrorCode.NONE);
  assert.is(shown.topicConfigErrorCode, ErrorCode.NONE, 'AlterConfigs implies DescribeConfigs');
  assert.ok(shown.configs!.length > 0);
  assert.is(shown.numPartitions, 1);
  assert.is(byName.get('other-2')!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(byName.get('other-2')!.errorMessage, 'Authorization failed.');
  assert.is(byName.get('alice-3')!.errorCode, ErrorCode.INVALID_REQUEST, 'a repeated name is refused as before');
  assert.is(node.running.broker.topics.get('other-2'), undefined);
});

test('DescribeConfigs: DescribeConfigs on the topic, on the cluster for the broker', async () => {
  const alice = await node.connect('alice');
  const described = await alice.request(ApiKey.DescribeConfigs, 4, {
    resources: [
      { resourceType: TOPIC, resourceName: 'alice-1', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'orders', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'missing', configurationKeys: null },
      { resourceType: BROKER, resourceName: '', configurationKeys: null },
    ],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  const [own, orders, missing, broker] = described.results;
  assert.is(own.errorCode, ErrorCode.NONE);
  assert.ok(own.configs.length > 0);
  assert.is(orders.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Describe is not DescribeConfigs');
  assert.equal(orders.configs, []);
  assert.is(missing.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'no existence leak');
  assert.is(broker.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const admin = await node.connect('admin');
  const all = await admin.request(ApiKey.DescribeConfigs, 4, {
    resources: [{ resourceType: BROKER, resourceName: '', configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  assert.is(all.results[0].errorCode, ErrorCode.NONE);
});

test('CreatePartitions needs Alter on the topic', async () => {
  const alice = await node.connect('alice');
  const grow = (name: string, count: number) =>
    alice.request(ApiKey.CreatePartitions, 3, {
      topics: [{ name, count, assignments: null }],
      timeoutMs: 10000,
      validateOnly: false,
    });
  assert.is((await grow('alice-1', 2)).results[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(node.running.broker.topics.get('alice-1')!.partitions, 1);
  await node.grant([
    { resourceType: ResourceType.TOPIC, resourceName: 'alice-1', principal: 'User:alice', operation: Op.ALTER },
  ]);
  assert.is((await grow('alice-1', 2)).results[0].errorCode, ErrorCode.NONE);
  await until(() => node.running.broker.topics.get('alice-1')!.partitions === 2, { what: 'two partitions' });
});

test('IncrementalAlterConfigs: AlterConfigs, plus Alter for unclean.leader.election.enable and min.insync.replicas', async () => {
  const alice = await node.connect('alice');
  const alter = async (resourceType: number, resourceName: string, name: string, value: string) => {
    const answer = await alice.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType, resourceName, configs: [{ name, configOperation: SET, value }] }],
      validateOnly: false,
    });
    return answer.responses[0].errorCode;
  };
  assert.is(await alter(TOPIC, 'alice-2', 'retention.ms', '3600000'), ErrorCode.NONE);
  assert.is(node.running.broker.quorum.image.topicConfigs('alice-2')['retention.ms'], '3600000');
  assert.is(await alter(TOPIC, 'orders', 'retention.ms', '3600000'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await alter(BROKER, '', 'log.retention.ms', '1000'), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.is(await alter(TOPIC, 'alice-2', 'min.insync.replicas', '1'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(
    await alter(TOPIC, 'alice-2', 'unclean.leader.election.enable', 'true'),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );
  assert.is(node.running.broker.quorum.image.topicConfigs('alice-2')['unclean.leader.election.enable'], undefined);
  // Alter on the topic (alice-1) or on the cluster allows them.
  assert.is(await alter(TOPIC, 'alice-1', 'unclean.leader.election.enable', 'true'), ErrorCode.NONE);
  await node.grant([
    { resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', principal: 'User:alice', operation: Op.ALTER },
  ]);
  assert.is(await alter(TOPIC, 'alice-2', 'min.insync.replicas', '1'), ErrorCode.NONE);
});

test('DeleteTopics: Delete per topic; names hidden from who may not Describe them', async () => {
  const alice = await node.connect('alice');
  const ordersId = node.running.broker.topics.get('orders')!.topicId;
  const bobId = node.running.broker.topics.get('bob-1')!.topicId;
  const refused = await alice.request(ApiKey.DeleteTopics, 6, {
    topics: [
      { name: 'alice-2', topicId: ZERO_UUID },
      { name: 'nowhere', topicId: ZERO_UUID },
      { name: null, topicId: ordersId },
      { name: null, topicId: bobId },
    ],
    timeoutMs: 10000,
  });
  const answers = refused.responses;
  const byName = (name: string) => answers.find((r) => r.name === name);
  assert.is(byName('alice-2')!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(byName('nowhere')!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'no existence leak');
  const orders = answers.find((r) => r.topicId === ordersId)!;
  assert.is(orders.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(orders.name, 'orders', 'named: alice may describe it');
  const bobs = answers.find((r) => r.topicId === bobId)!;
  assert.is(bobs.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(bobs.name, null, 'not named: alice may not describe it');
  assert.ok(node.running.broker.topics.get('alice-2'), 'nothing deleted');

  await node.grant([
    {
      resourceType: ResourceType.TOPIC,
      resourceName: 'alice-',
      patternType: PatternType.PREFIXED,
      principal: 'User:alice',
      operation: Op.DELETE,
    },
  ]);
  const admin = node.kafka('alice').admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: ['alice-2'], timeout: 10000 });
  } finally {
    await admin.disconnect();
  }
  await until(() => !node.running.broker.topics.get('alice-2'), { what: 'alice-2 deleted' });
  const unknown = await alice.request(ApiKey.DeleteTopics, 5, { topicNames: ['alice-none'], timeoutMs: 10000 });
  assert.is(unknown.responses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'describable: told it is unknown');
});

test('the internal topics are not deleted, grown or reconfigured by anyone, super users included', async () => {
  const admin = await node.connect('admin');
  const deleted = await admin.request(ApiKey.DeleteTopics, 5, { topicNames: [OFFSETS_TOPIC], timeoutMs: 10000 });
  assert.is(deleted.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
  const partitions = node.running.broker.topics.get(OFFSETS_TOPIC)!.partitions;
  const grown = await admin.request(ApiKey.CreatePartitions, 3, {
    topics: [{ name: OFFSETS_TOPIC, count: partitions + 1, assignments: null }],
    timeoutMs: 10000,
    validateOnly: false,
  });
  assert.is(grown.results[0].errorCode, ErrorCode.INVALID_REQUEST);
  const altered = await admin.request(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: TOPIC,
        resourceName: OFFSETS_TOPIC,
        configs: [{ name: 'retention.ms', configOperation: SET, value: '1000' }],
      },
    ],
    validateOnly: false,
  });
  assert.is(altered.responses[0].errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(altered.responses[0].errorMessage ?? '', /internal/);
  assert.ok(node.running.broker.topics.get(OFFSETS_TOPIC));
  assert.is(node.running.broker.topics.get(OFFSETS_TOPIC)!.partitions, partitions);
  assert.is(node.running.broker.quorum.image.topicConfigs(OFFSETS_TOPIC)['retention.ms'], undefined);
  // A principal without Delete is refused for the authorization first, as Kafka orders it.
  const bob = await node.connect('bob');
  const bobs = await bob.request(ApiKey.DeleteTopics, 5, { topicNames: [OFFSETS_TOPIC], timeoutMs: 10000 });
  assert.is(bobs.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
});

test('partition reassignments and SCRAM credentials need Alter / Describe on the cluster', async () => {
  const bob = await node.connect('bob');
  const admin = await node.connect('admin');
  const reassign = {
    timeoutMs: 10000,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: null }] }],
  };
  const refused = await bob.request(ApiKey.AlterPartitionReassignments, 0, reassign);
  assert.is(refused.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.is(refused.responses[0].partitions[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const allowed = await admin.request(ApiKey.AlterPartitionReassignments, 0, reassign);
  assert.is(allowed.errorCode, ErrorCode.NONE);
  const listed = await bob.request(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 10000, topics: null });
  assert.is(listed.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.is(
    (await admin.request(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 10000, topics: null })).errorCode,
    ErrorCode.NONE,
  );

  const described = await bob.request(ApiKey.DescribeUserScramCredentials, 0, { users: null });
  assert.is(described.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(described.results, []);
  const all = await admin.request(ApiKey.DescribeUserScramCredentials, 0, { users: null });
  assert.is(all.errorCode, ErrorCode.NONE);
  assert.ok(all.results.some((r) => r.user === 'bob'));
  const salt = randomBytes(32);
  const upsertion = {
    name: 'carol',
    mechanism: 2,
    iterations: 4096,
    salt,
    saltedPassword: saltedPassword('SCRAM-SHA-512', 'carol-secret', salt, 4096),
  };
  const altered = await bob.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [], upsertions: [upsertion] });
  assert.is(altered.results[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.is(node.running.broker.quorum.image.scramUsers.get('carol'), undefined);
  const done = await admin.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [], upsertions: [upsertion] });
  assert.is(done.results[0].errorCode, ErrorCode.NONE);
});

test.run();
