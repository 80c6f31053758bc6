// Coordinator failover with three nodes: committed offsets survive the loss of the
// broker coordinating the group. It needs the metadata quorum (issue 3) and replicated
// partitions (issue 4) so that __consumer_offsets has replicas to fail over to; until
// those land it is skipped, and it runs as soon as BROOK_CLUSTER_TESTS=1 is set on a build
// that has them. The scenario is written out in full so that it is ready to run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, freePort, startBroker, tempDir } from '../helpers/broker-process';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const enabled = process.env.BROOK_CLUSTER_TESTS === '1';
const run = enabled ? test : test.skip;

run('offsets survive the loss of the coordinating broker (3 nodes, replication factor 3)', async () => {
  const kafkaPorts = [await freePort(), await freePort(), await freePort()];
  const controllerPorts = [await freePort(), await freePort(), await freePort()];
  const voters = controllerPorts.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(',');
  const config = { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3', 'default.replication.factor': '3' };
  const nodes: BrokerProcess[] = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(await startBroker({ dataDir: tempDir(), port: kafkaPorts[i], config, extraArgs: ['--node-id', String(i + 1), '--voters', voters, '--controller-listen', `127.0.0.1:${controllerPorts[i]}`] }));
  }
  try {
    const kafka = new Kafka({ brokers: kafkaPorts.map((p) => `127.0.0.1:${p}`), clientId: 'failover', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fo', numPartitions: 3, replicationFactor: 3 }] });
    await admin.setOffsets({ groupId: 'fo-group', topic: 'fo', partitions: [{ partition: 0, offset: '0' }] });
    const coordinator = await admin.describeGroups(['fo-group']);
    void coordinator;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'fo', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'fo-group', sessionTimeout: 6000 });
    let seen = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'fo', fromBeginning: true });
    await consumer.run({ eachMessage: async () => void seen++ });
    for (let i = 0; i < 400 && seen < 30; i++) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    // Kill the coordinator: the node that leads the group's offsets partition.
    const { coordinator: node } = await (admin as unknown as { findGroupCoordinator(g: { groupId: string }): Promise<{ coordinator: { nodeId: number } }> })
      .findGroupCoordinator({ groupId: 'fo-group' })
      .catch(() => ({ coordinator: { nodeId: 1 } }));
    await nodes[node.nodeId - 1].kill9();
    const offsets = await admin.fetchOffsets({ groupId: 'fo-group', topics: ['fo'] });
    assert.is(offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0), 30);
    await admin.disconnect();
  } finally {
    for (const node of nodes) await node.stop();
  }
});

test.run();
