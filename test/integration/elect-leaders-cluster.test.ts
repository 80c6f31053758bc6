// ElectLeaders and UnregisterBroker on a three-node cluster (node 1 the only metadata voter,
// so that nodes 2 and 3 may both be down), through the `brook` verbs and raw requests to a
// node that is not the controller (which forwards them):
// - preferred: the preferred leader is stopped (its leadership moves), restarted and back
//   in the ISR, and `brook partitions elect-leaders --election-type preferred` gives it the
//   leadership back (automatic rebalancing is off); asked again: ELECTION_NOT_NEEDED;
// - unclean: a partition on [2, 3] loses follower 3, then leader 2 (no leader, ISR [2]); 3
//   comes back outside the ISR; a preferred election is PREFERRED_LEADER_NOT_AVAILABLE, an
//   unclean one makes 3 the leader with ISR [3], and the partition takes writes again;
// - `brook cluster unregister-broker --id 2` removes the stopped broker 2 (DescribeCluster v2
//   with fenced brokers no longer lists it); an unknown id is BROKER_ID_NOT_REGISTERED; a
//   running broker that is unregistered (Kafka does not refuse it) registers again;
// - `brook log-dirs` shows every broker's partitions; `brook producers describe` the
//   idempotent producer of a partition.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster } from '../helpers/cluster';
import { runBrookInProcess } from '../helpers/brook-cli';
import { until } from '../helpers/wait';

const CONFIG = {
  'auto.leader.rebalance.enable': 'false',
  'broker.session.timeout.ms': '3000',
  'replica.lag.time.max.ms': '2000',
  'offsets.topic.num.partitions': '1',
};
let cluster: Cluster;
let kafka: Kafka;

async function connect(id: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 15_000,
  });
  await connection.connect();
  return connection;
}

test.before(async () => {
  cluster = await Cluster.create({ size: 3, voterIds: [1], config: CONFIG });
  kafka = new Kafka({ brokers: cluster.bootstrap(), clientId: 'elect-test', logLevel: logLevel.NOTHING });
});

test.after(async () => {
  await cluster?.stopAll();
});

test('preferred election gives leadership back to the restarted first replica', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: 'preferred', replicaAssignment: [{ partition: 0, replicas: [2, 3, 1] }] }],
  });
  await admin.disconnect();
  await until(async () => (await cluster.metadata('preferred'))?.isr.length === 3, { what: 'a full ISR' });
  await cluster.stop(2);
  await until(async () => (await cluster.metadata('preferred'))?.leader === 3, { what: 'leadership to move to 3' });
  await cluster.restart(2);
  await until(async () => (await cluster.metadata('preferred'))?.isr.includes(2), { what: 'broker 2 back in the ISR' });
  assert.is((await cluster.metadata('preferred'))!.leader, 3, 'no automatic rebalance');
  const run = await runBrookInProcess([
    'partitions',
    'elect-leaders',
    '--election-type',
    'preferred',
    '--topic',
    'preferred',
    '--partition',
    '0',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(3)}`,
  ]);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /Successfully completed leader election \(preferred\) for preferred-0/);
  await until(async () => (await cluster.metadata('preferred'))?.leader === 2, { what: 'leadership back on 2' });
  // Asked again, through node 3 (not the controller: it forwards).
  const connection = await connect(3);
  try {
    const again = await connection.request(ApiKey.ElectLeaders, 2, {
      electionType: 0,
      topicPartitions: [
        { topic: 'preferred', partitions: [0, 5] },
        { topic: 'missing', partitions: [0] },
      ],
      timeoutMs: 10_000,
    });
    assert.is(again.errorCode, ErrorCode.NONE);
    assert.equal(
      again.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => p.errorCode)]),
      [
        ['preferred', [ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
        ['missing', [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      ],
    );
    // Every partition: the ones that need no election are left out.
    const all = await connection.request(ApiKey.ElectLeaders, 2, {
      electionType: 0,
      topicPartitions: null,
      timeoutMs: 10_000,
    });
    assert.is(all.errorCode, ErrorCode.NONE);
    assert.ok(
      all.replicaElectionResults.every((t) =>
        t.partitionResult.every((p) => p.errorCode !== ErrorCode.ELECTION_NOT_NEEDED),
      ),
    );
  } finally {
    connection.close();
  }
});

test('unclean election picks a live replica outside the ISR only when asked', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'unclean', replicaAssignment: [{ partition: 0, replicas: [2, 3] }] }] });
  await admin.disconnect();
  await until(async () => (await cluster.metadata('unclean'))?.isr.length === 2, { what: 'a full ISR' });
  await cluster.stop(3);
  await until(async () => (await cluster.metadata('unclean'))?.isr.join() === '2', {
    what: 'the ISR to shrink to [2]',
  });
  await cluster.stop(2);
  await until(async () => (await cluster.metadata('unclean'))?.leader === -1, {
    what: 'the partition to lose its leader',
  });
  await cluster.restart(3);
  const connection = await connect(3);
  try {
    await until(
      async () => {
        const answer = await connection.request(ApiKey.DescribeCluster, 2, {
          includeClusterAuthorizedOperations: false,
          endpointType: 1,
          includeFencedBrokers: true,
        });
        return answer.brokers.some((b) => b.brokerId === 3 && !b.isFenced);
      },
      { what: 'broker 3 to be unfenced' },
    );
    const state = await cluster.metadata('unclean');
    assert.is(state!.leader, -1, 'a replica outside the ISR is not elected on its own');
    const preferred = await connection.request(ApiKey.ElectLeaders, 1, {
      electionType: 0,
      topicPartitions: [{ topic: 'unclean', partitions: [0] }],
      timeoutMs: 10_000,
    });
    assert.is(
      preferred.replicaElectionResults[0].partitionResult[0].errorCode,
      ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
    );
  } finally {
    connection.close();
  }
  const run = await runBrookInProcess([
    'partitions',
    'elect-leaders',
    '--election-type',
    'unclean',
    '--topic',
    'unclean',
    '--partition',
    '0',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(1)}`,
  ]);
  assert.is(run.code, 0, run.stderr);
  const after = await until(
    async () => {
      const s = await cluster.metadata('unclean');
      return s && s.leader === 3 ? s : null;
    },
    { what: 'broker 3 to lead' },
  );
  assert.equal(after.isr, [3]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'unclean', acks: -1, messages: [{ value: 'after the unclean election' }] });
  await producer.disconnect();
  // An unclean election for a partition with a leader is not needed.
  const again = await runBrookInProcess([
    'partitions',
    'elect-leaders',
    '--election-type',
    'unclean',
    '--all-topic-partitions',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(1)}`,
    '--json',
  ]);
  assert.is(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout), []);
});

test('brook producers describe and brook log-dirs', async () => {
  const producers = await runBrookInProcess([
    'producers',
    'describe',
    '--topic',
    'unclean',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(1)}`,
    '--json',
  ]);
  assert.is(producers.code, 0, producers.stderr);
  const described = JSON.parse(producers.stdout);
  assert.is(described.length, 1);
  assert.is(described[0].producers.length, 1);
  assert.is(described[0].producers[0].lastSequence, 0);
  // Only the leader answers: node 1 holds no replica of the partition.
  const connection = await connect(1);
  try {
    const answer = await connection.request(ApiKey.DescribeProducers, 0, {
      topics: [{ name: 'unclean', partitionIndexes: [0] }],
    });
    assert.is(answer.topics[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    connection.close();
  }
  const dirs = await runBrookInProcess(['log-dirs', '--bootstrap', `127.0.0.1:${cluster.kafkaPorts.get(1)}`, '--json']);
  assert.is(dirs.code, 0, dirs.stderr);
  const byBroker = JSON.parse(dirs.stdout) as { brokerId: number; logDirs: { partitions: { topic: string }[] }[] }[];
  assert.equal(
    byBroker.map((b) => b.brokerId),
    [1, 3],
  );
  const three = byBroker.find((b) => b.brokerId === 3)!.logDirs[0].partitions.map((p) => p.topic);
  assert.ok(three.includes('unclean') && three.includes('preferred'), three.join());
  const text = await runBrookInProcess([
    'log-dirs',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(1)}`,
    '--by-topic',
  ]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /TOTAL BYTES/);
  assert.match(text.stdout, /unclean/);
});

test('brook cluster unregister-broker removes the stopped broker 2; an unknown id is refused', async () => {
  const connection = await connect(3);
  const listed = async () =>
    (
      await connection.request(ApiKey.DescribeCluster, 2, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
        includeFencedBrokers: true,
      })
    ).brokers.map((b) => [b.brokerId, b.isFenced]);
  try {
    assert.equal(await listed(), [
      [1, false],
      [2, true],
      [3, false],
    ]);
    const run = await runBrookInProcess([
      'cluster',
      'unregister-broker',
      '--id',
      '2',
      '--bootstrap',
      `127.0.0.1:${cluster.kafkaPorts.get(3)}`,
    ]);
    assert.is(run.code, 0, run.stderr);
    await until(async () => (await listed()).length === 2, { what: 'broker 2 to leave the broker list' });
    assert.equal(await listed(), [
      [1, false],
      [3, false],
    ]);
    const state = await cluster.metadata('preferred');
    assert.not.ok(state!.isr.includes(2), 'broker 2 left the ISR');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeCluster();
      assert.equal(described.brokers.map((b) => b.nodeId).sort(), [1, 3]);
      assert.is(described.controller, 1);
    } finally {
      await admin.disconnect();
    }
    const unknown = await connection.request(ApiKey.UnregisterBroker, 0, { brokerId: 99 });
    assert.is(unknown.errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
    const bad = await runBrookInProcess(['cluster', 'unregister-broker', '--id', 'x']);
    assert.is(bad.code, 2);
  } finally {
    connection.close();
  }
});

test('a running broker that is unregistered registers again at its next heartbeat and takes back its partition', async () => {
  const connection = await connect(1);
  try {
    const answer = await connection.request(ApiKey.UnregisterBroker, 0, { brokerId: 3 });
    assert.is(answer.errorCode, ErrorCode.NONE);
    await until(
      async () => {
        const described = await connection.request(ApiKey.DescribeCluster, 2, {
          includeClusterAuthorizedOperations: false,
          endpointType: 1,
          includeFencedBrokers: true,
        });
        return described.brokers.some((b) => b.brokerId === 3 && !b.isFenced);
      },
      { what: 'broker 3 to register again and be unfenced' },
    );
    await until(async () => (await cluster.metadata('unclean'))?.leader === 3, { what: 'broker 3 to lead again' });
  } finally {
    connection.close();
  }
});

test.run();
