// Group APIs under Kafka's StandardAuthorizer, on one SASL/SCRAM node: kafkajs consumers
// are refused without Describe (FindCoordinator) or Read (JoinGroup, GROUP_AUTHORIZATION_FAILED)
// on their group; OffsetCommit, OffsetFetch, DescribeGroups, ListGroups,
// DeleteGroups, OffsetDelete, Heartbeat, SyncGroup and LeaveGroup check Kafka's operations,
// per group or per topic as Kafka does, and hide what Kafka hides.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { AclOperation as Op, ResourceType } from '../../src/security/acl';
import { AuthzNode, startAuthzNode } from '../helpers/authz-node';
import { until } from '../helpers/wait';

let node: AuthzNode;

test.before(async () => {
  node = await startAuthzNode('authz-groups', ['group.initial.rebalance.delay.ms=0']);
  const admin = node.kafka('admin').admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'orders', numPartitions: 1 },
      { topic: 'secret', numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = node.kafka('admin').producer();
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ value: 'o-1' }, { value: 'o-2' }] });
  await producer.disconnect();
  await node.grant([
    { resourceType: ResourceType.TOPIC, resourceName: 'orders', principal: 'User:alice', operation: Op.READ },
    { resourceType: ResourceType.GROUP, resourceName: 'g-alice', principal: 'User:alice', operation: Op.READ },
    { resourceType: ResourceType.TOPIC, resourceName: 'orders', principal: 'User:bob', operation: Op.READ },
    { resourceType: ResourceType.GROUP, resourceName: 'g-bob', principal: 'User:bob', operation: Op.DESCRIBE },
  ]);
});

test.after(async () => {
  await node?.close();
});

/** Runs a kafkajs consumer until it has `count` messages or crashes; its outcome. */
async function consume(user: 'alice' | 'bob', groupId: string, count: number) {
  const consumer = node.kafka(user).consumer({ groupId, retry: { retries: 0 } });
  const values: string[] = [];
  let crash: { type?: string; message: string } | null = null;
  consumer.on(consumer.events.CRASH, (event) => {
    crash = event.payload.error as unknown as { type?: string; message: string };
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString());
      },
    });
    await until(() => values.length >= count || crash !== null, { what: `${user}'s consumer`, timeoutMs: 15000 });
  } catch (error) {
    crash = error as { type?: string; message: string };
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { values, crash: crash as { type?: string; message: string } | null };
}

test('a consumer with Read on its group and topic consumes and commits', async () => {
  const { values, crash } = await consume('alice', 'g-alice', 2);
  assert.is(crash, null);
  assert.equal(values, ['o-1', 'o-2']);
  const alice = await node.connect('alice');
  const fetched = await alice.request(ApiKey.OffsetFetch, 8, {
    groups: [{ groupId: 'g-alice', topics: null }],
    requireStable: false,
  });
  assert.is(fetched.groups[0].errorCode, ErrorCode.NONE);
  const committed = fetched.groups[0].topics.find((t) => t.name === 'orders');
  assert.is(committed?.partitions[0].committedOffset, 2, 'kafkajs committed through the authorized group');
});

test('kafkajs consumers are refused: GROUP_AUTHORIZATION_FAILED without Read, no coordinator without Describe', async () => {
  // kafkajs swallows FindCoordinator's error and reports only that it found no coordinator
  // (the code itself is checked on the wire below).
  const noDescribe = await consume('bob', 'g-alice', 1);
  assert.ok(noDescribe.crash, 'refused');
  assert.match(noDescribe.crash!.message, /group coordinator/);
  assert.equal(noDescribe.values, []);
  const noRead = await consume('bob', 'g-bob', 1);
  assert.ok(noRead.crash, 'refused');
  assert.is(noRead.crash!.type, 'GROUP_AUTHORIZATION_FAILED', noRead.crash!.message);
  assert.equal(noRead.values, []);
});

test('FindCoordinator checks Describe per key: group and transactional id', async () => {
  const bob = await node.connect('bob');
  const groups = await bob.request(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['g-bob', 'g-alice'] });
  assert.is(groups.coordinators[0].errorCode, ErrorCode.NONE);
  assert.is(groups.coordinators[1].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.is(groups.coordinators[1].nodeId, -1);
  const old = await bob.request(ApiKey.FindCoordinator, 3, { key: 'g-alice', keyType: 0 });
  assert.is(old.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const txn = await bob.request(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['tx-1'] });
  assert.is(txn.coordinators[0].errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
});

test('Heartbeat, SyncGroup and LeaveGroup need Read on the group', async () => {
  const bob = await node.connect('bob');
  const heartbeat = await bob.request(ApiKey.Heartbeat, 4, {
    groupId: 'g-bob',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
  });
  assert.is(heartbeat.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const sync = await bob.request(ApiKey.SyncGroup, 5, {
    groupId: 'g-bob',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [],
  });
  assert.is(sync.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const leave = await bob.request(ApiKey.LeaveGroup, 5, {
    groupId: 'g-bob',
    memberId: '',
    members: [{ memberId: 'm', groupInstanceId: null, reason: null }],
  });
  assert.is(leave.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal(leave.members, []);
});

test('OffsetCommit: Read on the group, then Read per topic', async () => {
  const partitions = [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }];
  const commit = (groupId: string, topics: string[]) => ({
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: topics.map((name) => ({ name, partitions })),
  });
  const bob = await node.connect('bob');
  const refused = await bob.request(ApiKey.OffsetCommit, 8, commit('g-alice', ['orders']));
  assert.is(refused.topics[0].partitions[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const alice = await node.connect('alice');
  const mixed = await alice.request(ApiKey.OffsetCommit, 8, commit('g-alice', ['orders', 'secret']));
  const byTopic = new Map(mixed.topics.map((t) => [t.name, t.partitions[0].errorCode]));
  assert.is(byTopic.get('orders'), ErrorCode.NONE);
  assert.is(byTopic.get('secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const onlyDenied = await alice.request(ApiKey.OffsetCommit, 8, commit('g-alice', ['secret']));
  assert.is(onlyDenied.topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // Only the authorized topic was committed.
  const group = node.running.broker.groups.fetchOffsets('g-alice');
  assert.is(group.get('orders')?.get(0)?.offset, 1);
  assert.is(group.get('secret'), undefined);
});

test('OffsetFetch: Describe on the group; offsets only of topics the principal may Describe', async () => {
  // The admin commits an offset of "secret" into alice's group.
  const admin = await node.connect('admin');
  const committed = await admin.request(ApiKey.OffsetCommit, 8, {
    groupId: 'g-alice',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [
      {
        name: 'secret',
        partitions: [{ partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
  });
  assert.is(committed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const alice = await node.connect('alice');
  const all = await alice.request(ApiKey.OffsetFetch, 8, {
    groups: [{ groupId: 'g-alice', topics: null }],
    requireStable: false,
  });
  assert.equal(
    all.groups[0].topics.map((t) => t.name),
    ['orders'],
    'topics it may not describe are left out',
  );
  const named = await alice.request(ApiKey.OffsetFetch, 8, {
    groups: [
      {
        groupId: 'g-alice',
        topics: [
          { name: 'orders', partitionIndexes: [0] },
          { name: 'secret', partitionIndexes: [0] },
        ],
      },
    ],
    requireStable: false,
  });
  const secret = named.groups[0].topics.find((t) => t.name === 'secret')!;
  assert.is(secret.partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(secret.partitions[0].committedOffset, -1, 'the offset is not shown');
  const bob = await node.connect('bob');
  const refused = await bob.request(ApiKey.OffsetFetch, 8, {
    groups: [
      { groupId: 'g-alice', topics: null },
      { groupId: 'g-bob', topics: null },
    ],
    requireStable: false,
  });
  assert.is(refused.groups[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal(refused.groups[0].topics, []);
  assert.is(refused.groups[1].errorCode, ErrorCode.NONE);
  const v5 = await bob.request(ApiKey.OffsetFetch, 5, { groupId: 'g-alice', topics: null });
  assert.is(v5.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
});

test('DescribeGroups: Describe per group, authorized operations when asked', async () => {
  const bob = await node.connect('bob');
  const described = await bob.request(ApiKey.DescribeGroups, 5, {
    groups: ['g-alice', 'g-bob'],
    includeAuthorizedOperations: true,
  });
  const [alice, own] = described.groups;
  assert.is(alice.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.is(alice.groupState, '');
  assert.equal(alice.members, []);
  assert.is(own.errorCode, ErrorCode.NONE);
  assert.is(own.authorizedOperations, 1 << Op.DESCRIBE, 'bob may only describe g-bob');
  const plain = await bob.request(ApiKey.DescribeGroups, 5, { groups: ['g-bob'], includeAuthorizedOperations: false });
  assert.is(plain.groups[0].authorizedOperations, -2147483648);
  const admin = await node.connect('admin');
  const all = await admin.request(ApiKey.DescribeGroups, 5, { groups: ['g-alice'], includeAuthorizedOperations: true });
  assert.is(all.groups[0].errorCode, ErrorCode.NONE);
  const everything = (1 << Op.READ) | (1 << Op.DESCRIBE) | (1 << Op.DELETE);
  assert.is(all.groups[0].authorizedOperations & everything, everything, 'a super user may do everything');
});

test('ListGroups: every group with Describe on the cluster, otherwise only the describable ones', async () => {
  const names = async (user: 'admin' | 'alice' | 'bob') => {
    const connection = await node.connect(user);
    const listed = await connection.request(ApiKey.ListGroups, 4, { statesFilter: [] });
    assert.is(listed.errorCode, ErrorCode.NONE);
    return listed.groups.map((g) => g.groupId).sort();
  };
  assert.ok((await names('admin')).includes('g-alice'));
  assert.equal(await names('alice'), ['g-alice']);
  assert.not.ok((await names('bob')).includes('g-alice'));
  await node.grant([
    {
      resourceType: ResourceType.CLUSTER,
      resourceName: 'kafka-cluster',
      principal: 'User:bob',
      operation: Op.DESCRIBE,
    },
  ]);
  assert.ok((await names('bob')).includes('g-alice'), 'Describe on the cluster lists every group');
});

test('DeleteGroups and OffsetDelete need Delete on the group; OffsetDelete Read per topic', async () => {
  const alice = await node.connect('alice');
  const offsetDelete = (groupId: string) =>
    alice.request(ApiKey.OffsetDelete, 0, {
      groupId,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0 }] },
        { name: 'secret', partitions: [{ partitionIndex: 0 }] },
      ],
    });
  const refused = await offsetDelete('g-alice');
  assert.is(refused.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const notDeleted = await alice.request(ApiKey.DeleteGroups, 2, { groupsNames: ['g-alice'] });
  assert.is(notDeleted.results[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.ok(node.running.broker.groups.fetchOffsets('g-alice').size > 0, 'nothing deleted');

  await node.grant([
    { resourceType: ResourceType.GROUP, resourceName: 'g-alice', principal: 'User:alice', operation: Op.DELETE },
  ]);
  const partly = await offsetDelete('g-alice');
  assert.is(partly.errorCode, ErrorCode.NONE);
  const byTopic = new Map(partly.topics.map((t) => [t.name, t.partitions[0].errorCode]));
  assert.is(byTopic.get('orders'), ErrorCode.NONE);
  assert.is(byTopic.get('secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const left = node.running.broker.groups.fetchOffsets('g-alice');
  assert.is(left.get('orders'), undefined, 'the authorized offset is deleted');
  assert.is(left.get('secret')?.get(0)?.offset, 7, 'the unauthorized one kept');

  const deleted = await alice.request(ApiKey.DeleteGroups, 2, { groupsNames: ['g-alice', 'g-bob'] });
  const results = new Map(deleted.results.map((r) => [r.groupId, r.errorCode]));
  assert.is(results.get('g-alice'), ErrorCode.NONE);
  assert.is(results.get('g-bob'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
});

test.run();
