// Broker configs in a three-node cluster: __consumer_offsets waits for the brokers its
// replication factor needs (offsets.topic.replication.factor 3: FindCoordinator answers
// COORDINATOR_NOT_AVAILABLE while two brokers run, the topic gets three replicas once the
// third registers); a dynamic broker config sent to a follower is forwarded to the active
// controller, reaches every node, and stays after the controller fails over and restarts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster, partitionMetadata } from '../helpers/cluster';
import { until } from '../helpers/wait';

const OFFSETS_TOPIC = '__consumer_offsets';
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const DYNAMIC_BROKER_CONFIG = 2;

let cluster: Cluster;

test.before(async () => {
  cluster = await Cluster.create({
    size: 3,
    start: false,
    config: { 'offsets.topic.num.partitions': '3', 'group.initial.rebalance.delay.ms': '0' },
  });
  await Promise.all([cluster.start(1), cluster.start(2)]);
});

test.after(async () => {
  await cluster?.stopAll();
});

async function withConnection<T>(id: number, use: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  try {
    await connection.connect();
    return await use(connection);
  } finally {
    connection.close();
  }
}

function findCoordinator(id: number) {
  return withConnection(id, (c) => c.request(ApiKey.FindCoordinator, 1, { key: 'g', keyType: 0 }));
}

function alter(id: number, resourceName: string, name: string, value: string) {
  return withConnection(id, async (c) => {
    const answer = await c.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 4, resourceName, configs: [{ name, configOperation: 0, value }] }],
      validateOnly: false,
    });
    return answer.responses[0];
  });
}

/** DescribeConfigs of node `id`'s own broker resource: name -> [value, source]. */
function describeBroker(id: number) {
  return withConnection(id, async (c) => {
    const answer = await c.request(ApiKey.DescribeConfigs, 1, {
      resources: [{ resourceType: 4, resourceName: String(id), configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    return new Map(
      answer.results[0].configs.map((c: { name: string; value: string | null; configSource: number }) => [
        c.name,
        [c.value, c.configSource],
      ]),
    );
  });
}

test('__consumer_offsets waits until offsets.topic.replication.factor brokers are registered', async () => {
  // Two of three brokers: FindCoordinator keeps answering COORDINATOR_NOT_AVAILABLE.
  const refusal = await until(
    async () => {
      const answer = await findCoordinator(1).catch(() => null);
      return answer && answer.errorCode === 15 && /needs 3 brokers/.test(answer.errorMessage ?? '') ? answer : null;
    },
    { timeoutMs: 20_000, what: 'FindCoordinator to say the offsets topic waits for brokers' },
  );
  assert.match(String(refusal.errorMessage), /offsets.topic.replication.factor/);
  await new Promise((r) => setTimeout(r, 1000));
  assert.is((await findCoordinator(2)).errorCode, 15);
  assert.is(await partitionMetadata([cluster.kafkaPorts.get(1)!], OFFSETS_TOPIC), null, 'not created with fewer');

  await cluster.start(3);
  await until(async () => (await findCoordinator(1).catch(() => null))?.errorCode === 0, {
    timeoutMs: 30_000,
    what: 'the coordinator once three brokers run',
  });
  const state = await partitionMetadata([cluster.kafkaPorts.get(1)!], OFFSETS_TOPIC);
  assert.is(state?.replicas.length, 3, 'three replicas');
});

test('a dynamic broker config is forwarded, reaches every node, and survives a controller failover', async () => {
  const { controller } = (await partitionMetadata([cluster.kafkaPorts.get(1)!], OFFSETS_TOPIC))!;
  const follower = cluster.ids.find((id) => id !== controller)!;
  const set = await alter(follower, '', 'log.retention.ms', '3600000');
  assert.is(set.errorCode, 0, String(set.errorMessage));
  for (const id of cluster.ids)
    await until(async () => (await describeBroker(id)).get('log.retention.ms')?.[0] === '3600000', {
      timeoutMs: 10_000,
      what: `node ${id} to apply the cluster default`,
    });
  assert.equal((await describeBroker(follower)).get('log.retention.ms'), ['3600000', DYNAMIC_DEFAULT_BROKER_CONFIG]);

  await cluster.stop(controller);
  const survivors = cluster.ids.filter((id) => id !== controller);
  const target = survivors[0];
  const perBroker = await until(
    async () => {
      const answer = await alter(survivors[1], String(target), 'log.segment.bytes', '2097152').catch(() => null);
      return answer && answer.errorCode === 0 ? answer : null;
    },
    { timeoutMs: 20_000, what: 'the new controller to take a per-broker change' },
  );
  assert.is(perBroker.errorCode, 0);
  await until(async () => (await describeBroker(target)).get('log.segment.bytes')?.[0] === '2097152', {
    timeoutMs: 10_000,
    what: 'the per-broker value',
  });
  assert.equal((await describeBroker(target)).get('log.segment.bytes'), ['2097152', DYNAMIC_BROKER_CONFIG]);
  assert.equal((await describeBroker(target)).get('log.retention.ms'), ['3600000', DYNAMIC_DEFAULT_BROKER_CONFIG]);

  // The old controller comes back with both changes.
  await cluster.start(controller);
  await until(async () => (await describeBroker(controller)).get('log.retention.ms')?.[0] === '3600000', {
    timeoutMs: 20_000,
    what: 'the restarted node to have the cluster default',
  });
  // Another broker's per-broker value is not this node's.
  assert.is((await describeBroker(controller)).get('log.segment.bytes')?.[1], 5);
});

test.run();
