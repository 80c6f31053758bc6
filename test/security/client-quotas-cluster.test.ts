// Client quotas on a real 3-node cluster: an AlterClientQuotas sent to a node that is not
// the active controller is forwarded, and that node describes the change as soon as it has
// answered; every node then describes the same quotas; they survive the active controller's
// failover (the new controller takes further changes) and a restart of every node (replayed
// from the metadata log and from snapshots, taken every few entries here).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({ size: 3, config: { 'brook.metadata.snapshot.interval.entries': '4' } });
});

test.after(async () => {
  await cluster?.stopAll();
});

async function connectionTo(id: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  await connection.connect();
  return connection;
}

/** Every quota node `id` describes, as one string. */
async function describeAt(id: number): Promise<string> {
  const connection = await connectionTo(id);
  try {
    const answer = await connection.request(ApiKey.DescribeClientQuotas, 1, { components: [], strict: false });
    if (answer.errorCode !== 0) throw new Error(`describe at node ${id}: ${answer.errorMessage}`);
    return JSON.stringify(answer.entries);
  } finally {
    connection.close();
  }
}

/** The quotas every live node describes, once all describe the same. */
async function agreedQuotas(ids = cluster.ids): Promise<string> {
  return until(
    async () => {
      const views = await Promise.all(ids.map((id) => describeAt(id).catch(() => null)));
      return views.every((v) => v !== null && v === views[0]) ? views[0]! : null;
    },
    { what: 'every node to describe the same client quotas', timeoutMs: 20_000 },
  );
}

async function controllerId(ids = cluster.ids): Promise<number> {
  const admin = new Admin({ bootstrap: cluster.bootstrap(ids) });
  try {
    return await until(
      async () => {
        const { controllerId } = await admin.describeCluster();
        return ids.includes(controllerId) ? controllerId : null;
      },
      { what: 'a controller among the live nodes', timeoutMs: 20_000 },
    );
  } finally {
    admin.close();
  }
}

const entity = (user: string) => [{ entityType: 'user', entityName: user }];

test('a change sent to a non-controller is forwarded and described there at once, then everywhere', async () => {
  const controller = await controllerId();
  const other = cluster.ids.find((id) => id !== controller)!;
  const connection = await connectionTo(other);
  try {
    const answer = await connection.request(ApiKey.AlterClientQuotas, 1, {
      entries: [
        { entity: entity('alice'), ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] },
        {
          entity: [{ entityType: 'ip', entityName: null }],
          ops: [{ key: 'connection_creation_rate', value: 20, remove: false }],
        },
        { entity: entity('bad'), ops: [{ key: 'producer_byte_rate', value: -1, remove: false }] },
      ],
      validateOnly: false,
    });
    assert.equal(
      answer.entries.map((e) => e.errorCode),
      [0, 0, 42],
    );
    const described = await connection.request(ApiKey.DescribeClientQuotas, 1, {
      components: [{ entityType: 'user', matchType: 0, match: 'alice' }],
      strict: true,
    });
    assert.equal(described.entries, [
      { entity: entity('alice'), values: [{ key: 'producer_byte_rate', value: 1024 }] },
    ]);
    const dry = await connection.request(ApiKey.AlterClientQuotas, 0, {
      entries: [{ entity: entity('dry'), ops: [{ key: 'consumer_byte_rate', value: 1, remove: false }] }],
      validateOnly: true,
    });
    assert.is(dry.entries[0].errorCode, 0);
  } finally {
    connection.close();
  }
  const agreed = JSON.parse(await agreedQuotas());
  assert.is(agreed.length, 2, 'alice and the default ip; nothing for the refused or validated entities');
});

test('quotas survive the controller failover, and the new controller takes changes', async () => {
  const before = await agreedQuotas();
  const controller = await controllerId();
  await cluster.stop(controller);
  const rest = cluster.ids.filter((id) => id !== controller);
  const next = await controllerId(rest);
  assert.is.not(next, controller);
  assert.is(await agreedQuotas(rest), before);
  const admin = new Admin({ bootstrap: cluster.bootstrap(rest) });
  try {
    const results = await admin.alterClientQuotas([
      { entity: { user: 'bob', 'client-id': null }, ops: [{ key: 'request_percentage', value: 33.3 }] },
      {
        entity: { user: 'alice' },
        ops: [
          { key: 'producer_byte_rate', value: null },
          { key: 'consumer_byte_rate', value: 512 },
        ],
      },
    ]);
    assert.equal(
      results.map((r) => r.errorCode),
      [0, 0],
    );
  } finally {
    admin.close();
  }
  await cluster.start(controller);
  const after = JSON.parse(await agreedQuotas());
  assert.equal(
    after.map((e: { entity: unknown; values: unknown }) => [e.entity, e.values]),
    [
      [
        [
          { entityType: 'client-id', entityName: null },
          { entityType: 'user', entityName: 'bob' },
        ],
        [{ key: 'request_percentage', value: 33.3 }],
      ],
      [[{ entityType: 'ip', entityName: null }], [{ key: 'connection_creation_rate', value: 20 }]],
      [[{ entityType: 'user', entityName: 'alice' }], [{ key: 'consumer_byte_rate', value: 512 }]],
    ],
  );
});

test('quotas survive a restart of every node (log replay and snapshots)', async () => {
  const before = await agreedQuotas();
  for (const id of cluster.ids) await cluster.stop(id);
  await Promise.all(cluster.ids.map((id) => cluster.start(id)));
  assert.is(await agreedQuotas(), before);
});

test.run();
