// Followers keep the leader's bytes: on a three-node cluster, a topic with
// message.timestamp.type=LogAppendTime and compression.type=lz4 is written uncompressed by
// kcat; every replica stores the same segment bytes, each batch lz4 with the LogAppendTime
// bit and the leader's stamp, and kcat reads the broker's times back from a follower too.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, startCluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { replicasIdentical } from '../helpers/replication-scenario';
import { Compression, storedBatches } from '../helpers/stored-batches';
import { until } from '../helpers/wait';

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

test.run();
