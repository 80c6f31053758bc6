// Coordinator failover with three nodes: committed offsets survive the loss of the
// broker coordinating the group. __consumer_offsets has three replicas
// (offsets.topic.replication.factor), an offset commit is answered once its ISR holds it,
// and the broker that becomes the leader of the group's offsets partition loads the
// group from its replica.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { Cluster, groupCoordinator, topicLeaders } from '../helpers/cluster';
import { until } from '../helpers/wait';

/** Waits (up to 30 s) until `port`'s broker has the topic with a leader for every partition. */
async function knowsTopic(port: number, topic: string): Promise<void> {
  await until(() => topicLeaders(port, topic), { what: `broker at ${port} to learn topic ${topic}` });
}

/** The group's coordinator as `port`'s broker names it (other than `not`), retried for 30 s. */
function findCoordinator(port: number, groupId: string, not = -1): Promise<number> {
  return until(
    async () => {
      const id = await groupCoordinator(port, groupId);
      return id !== null && id !== not ? id : null;
    },
    { what: `a coordinator for ${groupId} other than ${not}`, intervalMs: 200 },
  );
}

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

test('offsets survive the loss of the coordinating broker (3 nodes, replication factor 3)', async () => {
  const config = {
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.num.partitions': '3',
    'default.replication.factor': '3',
    'broker.session.timeout.ms': '3000',
  };
  const cluster = await Cluster.create({ size: 3, config });
  const nodes = cluster.list();
  const kafkaPorts = cluster.ids.map((id) => cluster.kafkaPorts.get(id)!);
  try {
    const kafka = new Kafka({
      brokers: kafkaPorts.map((p) => `127.0.0.1:${p}`),
      clientId: 'failover',
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fo', numPartitions: 3, replicationFactor: 3 }] });
    // Brokers learn of a new topic from the metadata log a moment after the controller
    // commits it (as in Kafka); a loaded machine can stretch that moment.
    for (const port of kafkaPorts) await knowsTopic(port, 'fo');
    await admin.setOffsets({ groupId: 'fo-group', topic: 'fo', partitions: [{ partition: 0, offset: '0' }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'fo',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `v${i}` })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'fo-group', sessionTimeout: 6000 });
    let seen = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: 'fo', fromBeginning: true });
    await consumer.run({ eachMessage: async () => void seen++ });
    for (let i = 0; i < 400 && seen < 30; i++) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    assert.is(seen, 30);
    // Kill the coordinator: the node that leads the group's offsets partition.
    const coordinator = await findCoordinator(kafkaPorts[0], 'fo-group');
    const offsetsBefore = await admin.fetchOffsets({ groupId: 'fo-group', topics: ['fo'] });
    assert.is(
      offsetsBefore[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0),
      30,
      'the consumer committed all 30',
    );
    await admin.disconnect();
    await nodes[coordinator - 1].kill9();
    const survivor = kafkaPorts[coordinator % 3];
    const killedAt = Date.now();
    const moved = await findCoordinator(survivor, 'fo-group', coordinator);
    process.stdout.write(
      `coordinator ${coordinator} killed; broker ${moved} coordinates the group after ${Date.now() - killedAt} ms\n`,
    );
    const after = new Kafka({
      brokers: kafkaPorts.filter((_, i) => i !== coordinator - 1).map((p) => `127.0.0.1:${p}`),
      clientId: 'failover-after',
      logLevel: logLevel.NOTHING,
    });
    const admin2 = after.admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId: 'fo-group', topics: ['fo'] });
    assert.is(
      offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0),
      30,
      'committed offsets survive the coordinator',
    );
    await admin2.disconnect();
  } finally {
    await cluster.stopAll();
  }
});

test.run();
