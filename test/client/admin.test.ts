// The bundled admin client against a real Brook process: topics (create, list, describe
// with offsets and configs, alter configs, add partitions, delete), the cluster, and a
// consumer group (list, describe with lag, reset offsets once it is empty).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Admin } from '../../src/client/admin';
import { KafkaError } from '../../src/client/cluster';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { BrokerProcess, startBroker } from '../helpers/broker-process';

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' },
  });
});

test.after(async () => {
  await broker?.stop();
});

test('topics and configs through the admin client', async () => {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  const [created] = await admin.createTopics([{ name: 'adm', partitions: 2, configs: { 'retention.ms': '60000' } }]);
  assert.is(created.name, 'adm');
  const duplicate = await admin.createTopics([{ name: 'adm' }]).then(
    () => null,
    (e: KafkaError) => e,
  );
  assert.instance(duplicate, KafkaError);
  assert.match(duplicate!.message, /TOPIC_ALREADY_EXISTS/);
  assert.ok((await admin.listTopics()).includes('adm'));
  assert.not.ok((await admin.listTopics()).includes('__consumer_offsets'));
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await Promise.all(Array.from({ length: 5 }, (_, i) => producer.send({ topic: 'adm', partition: 1, value: `x${i}` })));
  await producer.close();
  let described = await admin.describeTopic('adm');
  assert.equal(
    described.partitions.map((p) => [p.partition, p.leader, p.logStartOffset, p.logEndOffset]),
    [
      [0, 1, 0, 0],
      [1, 1, 0, 5],
    ],
  );
  assert.is(described.configs['retention.ms'].value, '60000');
  await admin.alterTopicConfigs('adm', { set: { 'cleanup.policy': 'compact' }, reset: ['retention.ms'] });
  const configs = await admin.describeConfigs('adm');
  assert.is(configs['cleanup.policy'].value, 'compact');
  assert.is(configs['retention.ms'].value, '604800000');
  // APPEND and SUBTRACT (IncrementalAlterConfigs operations 2 and 3) edit the effective list.
  const broker1 = await admin.cluster.broker(1);
  const alter = async (op: number, value: string) =>
    (
      await broker1.request(44, {
        resources: [
          { resourceType: 2, resourceName: 'adm', configs: [{ name: 'cleanup.policy', configOperation: op, value }] },
        ],
        validateOnly: false,
      })
    ).responses[0];
  await admin.alterTopicConfigs('adm', { reset: ['cleanup.policy'] });
  assert.is((await alter(2, 'compact')).errorCode, 0);
  assert.is((await admin.describeConfigs('adm'))['cleanup.policy'].value, 'delete,compact');
  assert.is((await alter(3, 'delete')).errorCode, 0);
  assert.is((await admin.describeConfigs('adm'))['cleanup.policy'].value, 'compact');
  // As in Kafka 4.1, the list may become empty (ValidList accepts no entries).
  assert.is((await alter(3, 'compact')).errorCode, 0);
  assert.is((await admin.describeConfigs('adm'))['cleanup.policy'].value, '');
  await admin.alterTopicConfigs('adm', { reset: ['cleanup.policy'] });
  const notList = (
    await broker1.request(44, {
      resources: [
        { resourceType: 2, resourceName: 'adm', configs: [{ name: 'retention.ms', configOperation: 2, value: '5' }] },
      ],
      validateOnly: false,
    })
  ).responses[0];
  assert.is(notList.errorCode, 40);
  await admin.createPartitions('adm', 4);
  described = await admin.describeTopic('adm');
  assert.is(described.partitions.length, 4);
  const cluster = await admin.describeCluster();
  assert.equal(
    cluster.brokers.map((b) => [b.nodeId, b.port]),
    [[1, broker.port]],
  );
  assert.is(cluster.controllerId, 1);
  await admin.deleteTopics(['adm']);
  assert.not.ok((await admin.listTopics()).includes('adm'));
  admin.close();
});

test('groups: list, describe with lag, reset offsets of an empty group, delete it', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const producer = new Producer({ bootstrap });
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'lagged', partition: 0, value: `v${i}` })),
  );
  await producer.close();
  const consumer = new Consumer({
    bootstrap,
    groupId: 'watchers',
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 500,
  });
  await consumer.subscribe(['lagged']);
  for (let i = 0; i < 4; i++) await consumer.next();
  await consumer.next();
  await consumer.commit();
  const admin = new Admin({ bootstrap });
  assert.ok((await admin.listGroups()).some((g) => g.groupId === 'watchers'));
  let group = await admin.describeGroup('watchers');
  assert.is(group.state, 'Stable');
  assert.is(group.members.length, 1);
  assert.equal(group.members[0].assignment, { lagged: [0] });
  assert.equal(
    group.offsets.map((o) => [o.topic, o.partition, o.offset, o.lag]),
    [['lagged', 0, 4, 6]],
  );
  const busy = await admin.resetOffsets('watchers', 'lagged', 'earliest').then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(busy, 'a live group refuses a reset');
  assert.match(String(busy), /live members; stop its consumers first/);
  await consumer.close();
  const reset = await admin.resetOffsets('watchers', 'lagged', 'latest');
  assert.equal([...reset], [[0, 10]]);
  group = await admin.describeGroup('watchers');
  assert.equal(
    group.offsets.map((o) => [o.offset, o.lag]),
    [[10, 0]],
  );
  await admin.deleteGroups(['watchers']);
  assert.not.ok((await admin.listGroups()).some((g) => g.groupId === 'watchers'));
  const missing = await admin.deleteGroups(['never-existed']).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(String(missing), /GROUP_ID_NOT_FOUND|delete group never-existed/);
  admin.close();
});

test.run();
