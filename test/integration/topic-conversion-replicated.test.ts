// Followers keep the leader's bytes: on a three-node cluster, a topic with
// message.timestamp.type=LogAppendTime and compression.type=lz4 is written uncompressed by
// kcat; every replica stores the same segment bytes, each batch lz4 with the LogAppendTime
// bit and the leader's stamp, and kcat reads the broker's times back from a follower too.
// AlterConfigs sent to a node that is not the controller is forwarded.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, startCluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { replicasIdentical } from '../helpers/replication-scenario';
import { Compression, storedBatches } from '../helpers/stored-batches';
import { until } from '../helpers/wait';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';

const TOPIC = 'stamped-lz4';
let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({ size: 3 });
});

test.after(async () => {
  await cluster?.stopAll();
});

test("every replica stores the leader's converted batches byte for byte", async () => {
  const state = await cluster.createTopicInSync(TOPIC, 3, {
    'message.timestamp.type': 'LogAppendTime',
    'compression.type': 'lz4',
  });
  const leaderPort = cluster.kafkaPorts.get(state.leader)!;
  const before = Date.now();
  const produced = await kcat(
    leaderPort,
    ['-P', '-t', TOPIC, '-p', '0', '-X', 'compression.codec=none', '-X', 'acks=all'],
    Array.from({ length: 50 }, (_, i) => `line-${i}`).join('\n') + '\n',
  );
  assert.is(produced.code, 0, produced.stderr);
  const after = Date.now();
  const dirs = cluster.ids.map((id) => cluster.dirs.get(id)!);
  await until(async () => replicasIdentical(dirs, TOPIC) || null, { what: 'identical replicas' });
  for (const dir of dirs) {
    const batches = storedBatches(dir, TOPIC);
    assert.is(
      batches.reduce((sum, b) => sum + b.recordCount, 0),
      50,
    );
    for (const batch of batches) {
      assert.is(batch.compression, Compression.Lz4);
      assert.is(batch.timestampType, 1);
      assert.ok(batch.maxTimestamp >= before && batch.maxTimestamp <= after);
    }
  }
  const follower = cluster.ids.find((id) => id !== state.leader)!;
  const consumed = await kcat(cluster.kafkaPorts.get(follower)!, [
    '-C',
    '-t',
    TOPIC,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%T %s\n',
  ]);
  const rows = consumed.stdout.trim().split('\n');
  assert.is(rows.length, 50);
  for (const row of rows) {
    const time = Number(row.split(' ')[0]);
    assert.ok(time >= before && time <= after, row);
  }
});

test('AlterConfigs v2 sent to a node that is not the controller is forwarded and replaces the overrides', async () => {
  const state = await cluster.metadata(TOPIC);
  const other = cluster.ids.find((id) => id !== state!.controller)!;
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(other)!,
    requestTimeoutMs: 10000,
  });
  await connection.connect();
  try {
    const altered = await connection.request(ApiKey.AlterConfigs, 2, {
      resources: [{ resourceType: 2, resourceName: TOPIC, configs: [{ name: 'compression.type', value: 'zstd' }] }],
      validateOnly: false,
    });
    assert.equal(
      altered.responses.map((r: { errorCode: number; errorMessage: string | null }) => [r.errorCode, r.errorMessage]),
      [[0, null]],
    );
    await until(
      async () => {
        const described = await connection.request(ApiKey.DescribeConfigs, 4, {
          resources: [
            { resourceType: 2, resourceName: TOPIC, configurationKeys: ['compression.type', 'message.timestamp.type'] },
          ],
          includeSynonyms: false,
          includeDocumentation: false,
        });
        const values = described.results[0].configs.map((c: { value: string | null }) => c.value);
        return values[0] === 'zstd' && values[1] === 'CreateTime' ? values : null;
      },
      { what: 'the new overrides on the forwarding node' },
    );
  } finally {
    connection.close();
  }
});

test.run();
