// Controller mutation quotas on a 2-node cluster: CreateTopics sent to the node that is not
// the active controller is forwarded with the client's id, so the controller charges that
// client's controller_mutation_rate (as Kafka's forwarding envelope carries the client's
// header): past it a strict request's topics are refused with THROTTLING_QUOTA_EXCEEDED,
// and the throttle time comes back to the client through the forwarding node.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

let cluster: Cluster;
const connections: KafkaConnection[] = [];

test.before(async () => {
  cluster = await startCluster({ size: 2, config: { 'quota.window.num': '2' } });
});

test.after(async () => {
  for (const c of connections) c.close();
  await cluster?.stopAll();
});

async function connectionTo(id: number, clientId: string): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    clientId,
    requestTimeoutMs: 15_000,
    connectTimeoutMs: 2000,
  });
  await connection.connect();
  connections.push(connection);
  return connection;
}

async function controllerId(): Promise<number> {
  const admin = new Admin({ bootstrap: cluster.bootstrap() });
  try {
    return await until(
      async () => {
        const { controllerId } = await admin.describeCluster();
        return cluster.ids.includes(controllerId) ? controllerId : null;
      },
      { what: 'a controller', timeoutMs: 20_000 },
    );
  } finally {
    admin.close();
  }
}

const topic = (name: string, numPartitions: number) => ({
  name,
  numPartitions,
  replicationFactor: 1,
  assignments: [],
  configs: [],
});

test("a forwarded CreateTopics is charged to the client's controller_mutation_rate at the controller", async () => {
  const controller = await controllerId();
  const other = cluster.ids.find((id) => id !== controller)!;
  const setup = await connectionTo(controller, 'setup');
  const altered = await setup.request(ApiKey.AlterClientQuotas, 1, {
    entries: [
      {
        entity: [{ entityType: 'client-id', entityName: 'forwarded-admin' }],
        ops: [{ key: 'controller_mutation_rate', value: 1, remove: false }],
      },
    ],
    validateOnly: false,
  });
  assert.is(altered.entries[0].errorCode, ErrorCode.NONE);
  // One partition a second, a burst of two: the 3-partition topic empties the bucket, the
  // next is refused, and the throttle time reaches the client through the forwarding node.
  const admin = await connectionTo(other, 'forwarded-admin');
  const created = await admin.request(ApiKey.CreateTopics, 7, {
    topics: [topic('fwd-a', 3), topic('fwd-b', 1)],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.equal(
    created.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode]),
    [
      ['fwd-a', ErrorCode.NONE],
      ['fwd-b', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
    ],
  );
  assert.ok(created.throttleTimeMs > 0 && created.throttleTimeMs <= 1000, String(created.throttleTimeMs));
  // Another client through the same node is not charged for it.
  const someoneElse = await connectionTo(other, 'another-admin');
  const free = await someoneElse.request(ApiKey.CreateTopics, 7, {
    topics: [topic('fwd-c', 4)],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.is(free.topics[0].errorCode, ErrorCode.NONE);
  assert.is(free.throttleTimeMs, 0);
});

test.run();
