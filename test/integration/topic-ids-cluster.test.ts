// Topic ids on a three-node cluster: every node answers the same id for a topic (it is in
// the metadata log), Produce v13 by id works at the leader and, at a follower, answers
// NOT_LEADER_OR_FOLLOWER with the leader's id, epoch and endpoint (KIP-951); a topic deleted
// by id (through a node that forwards it) and created again has a new id, and a producer
// still holding the old id gets UNKNOWN_TOPIC_ID from every node, never the new topic.
// DescribeCluster and DescribeTopicPartitions answer alike from every node, and a restarted
// node reads the same id back from its metadata log.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

let cluster: Cluster;
const connections = new Map<number, KafkaConnection>();

test.before(async () => {
  cluster = await Cluster.create({ size: 3 });
  for (const id of cluster.ids) {
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: cluster.kafkaPorts.get(id)!,
      requestTimeoutMs: 15_000,
    });
    await connection.connect();
    connections.set(id, connection);
  }
});

test.after(async () => {
  for (const connection of connections.values()) connection.close();
  await cluster?.stopAll();
});

const node = (id: number) => connections.get(id)!;

async function topicIdAt(id: number, name: string): Promise<string | null> {
  const answer = await node(id).request(ApiKey.Metadata, 13, {
    topics: [{ topicId: ZERO_UUID, name }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  return answer.topics[0].errorCode === ErrorCode.NONE ? answer.topics[0].topicId : null;
}

/** The id every node gives `name`, once they all agree (null: every node says it is gone). */
function agreedTopicId(name: string, gone = false): Promise<string | null> {
  return until(
    async () => {
      const ids = await Promise.all(cluster.ids.map((id) => topicIdAt(id, name)));
      if (gone) return ids.every((i) => i === null) ? { id: null } : null;
      return ids[0] !== null && ids.every((i) => i === ids[0]) ? { id: ids[0] } : null;
    },
    { what: `every node agreeing on the id of ${name}`, timeoutMs: 20_000 },
  ).then((r) => r.id);
}

function produceById(id: number, topicId: string, value: string) {
  return node(id).request(ApiKey.Produce, 13, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ topicId, partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value }] }) }] }],
  });
}

test('one id everywhere; Produce v13 at the leader, and at a follower a KIP-951 leader hint', async () => {
  const state = await cluster.createTopicInSync('ids', 3);
  const topicId = (await agreedTopicId('ids'))!;
  assert.is.not(topicId, ZERO_UUID);
  const leaderAnswer = await produceById(state.leader, topicId, 'one');
  assert.is(leaderAnswer.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  const follower = cluster.ids.find((id) => id !== state.leader)!;
  const hinted = await produceById(follower, topicId, 'two');
  const p = hinted.responses[0].partitionResponses[0];
  assert.is(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(p.currentLeader, { leaderId: state.leader, leaderEpoch: state.leaderEpoch });
  assert.equal(hinted.nodeEndpoints, [
    { nodeId: state.leader, host: '127.0.0.1', port: cluster.kafkaPorts.get(state.leader)!, rack: null },
  ]);
});

test('DescribeCluster and DescribeTopicPartitions answer alike from every node', async () => {
  const topicId = (await agreedTopicId('ids'))!;
  const controllers = new Set<number>();
  for (const id of cluster.ids) {
    const described = await node(id).request(ApiKey.DescribeCluster, 2, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
      includeFencedBrokers: false,
    });
    assert.equal(
      described.brokers.map((b) => [b.brokerId, b.port]),
      cluster.ids.map((n) => [n, cluster.kafkaPorts.get(n)!]),
    );
    controllers.add(described.controllerId);
    const partitions = await node(id).request(ApiKey.DescribeTopicPartitions, 0, {
      topics: [{ name: 'ids' }],
      responsePartitionLimit: 10,
      cursor: null,
    });
    assert.is(partitions.topics[0].topicId, topicId, `node ${id}`);
    assert.is(partitions.topics[0].partitions[0].replicaNodes.length, 3);
  }
  assert.is(controllers.size, 1, 'one controller id');
});

test('a node restarted from its data keeps the same topic id (it is in the metadata log and snapshots)', async () => {
  const before = (await agreedTopicId('ids'))!;
  const restarted = cluster.ids[cluster.ids.length - 1];
  node(restarted).close();
  await cluster.restart(restarted);
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(restarted)!,
    requestTimeoutMs: 15_000,
  });
  await connection.connect();
  connections.set(restarted, connection);
  assert.is(await agreedTopicId('ids'), before);
});

test('deleted by id and created again: a new id; the old id is UNKNOWN_TOPIC_ID on every node', async () => {
  const oldId = (await agreedTopicId('ids'))!;
  // Delete by id through a node that is not the metadata quorum's leader (it forwards).
  const controllerId = (
    await node(cluster.ids[0]).request(ApiKey.DescribeCluster, 0, { includeClusterAuthorizedOperations: false })
  ).controllerId;
  const via = cluster.ids.find((id) => id !== controllerId)!;
  const deleted = await node(via).request(ApiKey.DeleteTopics, 6, {
    topics: [{ name: null, topicId: oldId }],
    timeoutMs: 15_000,
  });
  assert.equal(
    deleted.responses.map((r) => [r.name, r.topicId, r.errorCode]),
    [['ids', oldId, ErrorCode.NONE]],
  );
  await agreedTopicId('ids', true);
  const state = await cluster.createTopicInSync('ids', 3);
  const newId = (await agreedTopicId('ids'))!;
  assert.is.not(newId, oldId);
  for (const id of cluster.ids) {
    const answer = await produceById(id, oldId, 'stale');
    assert.equal(
      [answer.responses[0].topicId, answer.responses[0].partitionResponses[0].errorCode],
      [oldId, ErrorCode.UNKNOWN_TOPIC_ID],
      `node ${id}`,
    );
  }
  const fresh = await produceById(state.leader, newId, 'fresh');
  assert.equal(
    [fresh.responses[0].topicId, fresh.responses[0].partitionResponses[0].errorCode],
    [newId, ErrorCode.NONE],
  );
  assert.is(fresh.responses[0].partitionResponses[0].baseOffset, 0, 'the new topic holds only the new record');
});

test.run();
