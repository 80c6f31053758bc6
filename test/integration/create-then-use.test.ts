// "Create a topic, then use it at once" on a three-node cluster. The controller answers
// CreateTopics once the topic is committed; the other nodes apply it a moment later. A node
// asked in between must answer as Kafka does: LEADER_NOT_AVAILABLE (retriable, and
// kafkajs retries it), never UNKNOWN_TOPIC_OR_PARTITION (which kafkajs treats as final).
// Each round creates a topic through one node and, right away, asks each other node for
// its metadata (allowing auto-creation, as producers do) and produces to it with kafkajs
// bootstrapped on that node alone. And auto-creation works through any node: one that is
// not the controller forwards the creation, as Kafka's brokers do.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster, topicLeaders } from '../helpers/cluster';
import { until } from '../helpers/wait';

const ROUNDS = 6;
let cluster: Cluster;

test.before(async () => {
  cluster = await Cluster.create({ size: 3, config: { 'group.initial.rebalance.delay.ms': '0' } });
});

test.after(async () => {
  await cluster?.stopAll();
});

async function connect(id: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 15000,
  });
  await connection.connect();
  return connection;
}

test('a topic created through one node is never UNKNOWN_TOPIC_OR_PARTITION at the others, right after CreateTopics', async () => {
  const unknown: string[] = [];
  const answers = new Map<number, number>();
  const sendFailures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const creator = cluster.ids[round % cluster.ids.length];
    const others = cluster.ids.filter((id) => id !== creator);
    const topic = `fresh-${round}`;
    // Connections to the other nodes are open before the topic exists, so their Metadata
    // requests go out the moment CreateTopics is answered.
    const connections = await Promise.all(others.map(connect));
    const creating = await connect(creator);
    try {
      const created = await creating.request(19, 4, {
        topics: [{ name: topic, numPartitions: 3, replicationFactor: 3, assignments: [], configs: [] }],
        timeoutMs: 10000,
        validateOnly: false,
      });
      assert.is(created.topics[0].errorCode, ErrorCode.NONE, `${topic} created through node ${creator}`);
      const metadata = await Promise.all(
        connections.map((connection) =>
          connection.request(3, 4, { topics: [{ name: topic }], allowAutoTopicCreation: true }),
        ),
      );
      metadata.forEach((answer, i) => {
        const code = answer.topics[0].errorCode;
        answers.set(code, (answers.get(code) ?? 0) + 1);
        if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) unknown.push(`${topic} at node ${others[i]}`);
        else
          assert.ok(
            code === ErrorCode.NONE || code === ErrorCode.LEADER_NOT_AVAILABLE,
            `${topic} at node ${others[i]}: error ${code}`,
          );
      });
    } finally {
      creating.close();
      for (const connection of connections) connection.close();
    }
    // A round of a fresh topic per node for kafkajs: created through `creator`, produced
    // through each other node right away.
    const kafkajsTopic = `fresh-kafkajs-${round}`;
    const creatingAgain = await connect(creator);
    const producers = others.map((id) => {
      const kafka = new Kafka({
        brokers: [`127.0.0.1:${cluster.kafkaPorts.get(id)}`],
        clientId: `create-then-use-${id}`,
        logLevel: logLevel.NOTHING,
        requestTimeout: 5000,
        connectionTimeout: 2000,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      return kafka.producer({ allowAutoTopicCreation: true });
    });
    await Promise.all(producers.map((p) => p.connect()));
    try {
      const created = await creatingAgain.request(19, 4, {
        topics: [{ name: kafkajsTopic, numPartitions: 2, replicationFactor: 3, assignments: [], configs: [] }],
        timeoutMs: 10000,
        validateOnly: false,
      });
      assert.is(created.topics[0].errorCode, ErrorCode.NONE, `${kafkajsTopic} created through node ${creator}`);
      await Promise.all(
        producers.map((producer, i) =>
          producer
            .send({ topic: kafkajsTopic, acks: -1, messages: [{ key: `k${i}`, value: `through node ${others[i]}` }] })
            .catch((error: Error) => {
              sendFailures.push(`${kafkajsTopic} through node ${others[i]}: ${error.message}`);
            }),
        ),
      );
    } finally {
      creatingAgain.close();
      await Promise.all(producers.map((p) => p.disconnect()));
    }
  }
  assert.equal(
    { unknown, sendFailures },
    { unknown: [], sendFailures: [] },
    'no UNKNOWN_TOPIC_OR_PARTITION and no failed kafkajs send right after CreateTopics',
  );
  console.log(`metadata answers right after CreateTopics, by error code: ${JSON.stringify([...answers])}`);
});

test('Metadata with auto-creation creates the topic through any node, not only the controller (LEADER_NOT_AVAILABLE meanwhile)', async () => {
  for (const id of cluster.ids) {
    const topic = `auto-through-${id}`;
    const connection = await connect(id);
    try {
      const answer = await connection.request(3, 4, { topics: [{ name: topic }], allowAutoTopicCreation: true });
      const code = answer.topics[0].errorCode;
      assert.ok(
        code === ErrorCode.NONE || code === ErrorCode.LEADER_NOT_AVAILABLE,
        `auto-creating ${topic} through node ${id}: error ${code}`,
      );
    } finally {
      connection.close();
    }
    for (const other of cluster.ids) {
      await until(() => topicLeaders(cluster.kafkaPorts.get(other)!, topic), {
        what: `${topic} with a leader at node ${other}`,
        timeoutMs: 10000,
      });
    }
  }
});

test.run();
