// `brook groups` against three nodes, where each broker coordinates its own share of the
// groups: list through one node shows every group, and describe (with log end offsets
// from each partition's leader), reset-offsets and delete reach the group's coordinator
// whichever node --bootstrap names.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Admin } from '../../src/client/admin';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { Cluster, groupCoordinator } from '../helpers/cluster';
import { until } from '../helpers/wait';
import { runBrook } from '../helpers/brook-cli';

const GROUPS = ['g-a', 'g-b', 'g-c', 'g-d', 'g-e', 'g-f'];

const brook = (args: string[]) => runBrook(args, { timeoutMs: 30000 });

function coordinatorOf(port: number, groupId: string): Promise<number> {
  return until(() => groupCoordinator(port, groupId), { what: `a coordinator for ${groupId}`, intervalMs: 200 });
}

test('groups list, describe, reset-offsets and delete across three coordinators', async () => {
  const config = {
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.num.partitions': '3',
    'offsets.topic.replication.factor': '1',
    'default.replication.factor': '1',
    'num.partitions': '3',
  };
  const cluster = await Cluster.create({ size: 3, config });
  const kafkaPorts = cluster.ids.map((id) => cluster.kafkaPorts.get(id)!);
  try {
    const bootstrap = cluster.bootstrap();
    const admin = new Admin({ bootstrap });
    await admin.createTopics([{ name: 'spread', partitions: 3, replicationFactor: 1 }]);
    admin.close();
    const producer = new Producer({ bootstrap, lingerMs: 2 });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => producer.send({ topic: 'spread', partition: i % 3, value: `v${i}` })),
    );
    await producer.close();
    // Each group commits offset 4 on every partition (standalone commits, no members).
    for (const groupId of GROUPS) {
      const consumer = new Consumer({ bootstrap, groupId });
      consumer.assign([0, 1, 2].map((partition) => ({ topic: 'spread', partition, offset: 4 })));
      await consumer.commit([0, 1, 2].map((partition) => ({ topic: 'spread', partition, offset: 4 })));
      await consumer.close();
    }
    const coordinators = await Promise.all(GROUPS.map((g) => coordinatorOf(kafkaPorts[0], g)));
    assert.ok(new Set(coordinators).size >= 2, `the groups are spread over coordinators: ${coordinators}`);
    const at = ['--bootstrap', bootstrap[0], '--json'];

    const list = await brook(['groups', 'list', ...at]);
    assert.is(list.code, 0, list.stderr);
    assert.equal(
      JSON.parse(list.stdout).map((g: { group: string }) => g.group),
      GROUPS,
    );

    for (const groupId of GROUPS) {
      const described = await brook(['groups', 'describe', groupId, ...at]);
      assert.is(described.code, 0, `${groupId}: ${described.stderr}`);
      const d = JSON.parse(described.stdout);
      assert.equal(
        d.partitions.map((p: { partition: number; committed: number; end: number; lag: number }) => [
          p.partition,
          p.committed,
          p.end,
          p.lag,
        ]),
        [
          [0, 4, 10, 6],
          [1, 4, 10, 6],
          [2, 4, 10, 6],
        ],
      );
      assert.is(d.totalLag, 18);
    }
    const reset = await brook([
      'groups',
      'reset-offsets',
      'g-b',
      '--topic',
      'spread',
      '--to-latest',
      '--execute',
      ...at,
    ]);
    assert.is(reset.code, 0, reset.stderr);
    assert.equal(
      JSON.parse(reset.stdout).offsets.map((o: { newOffset: number }) => o.newOffset),
      [10, 10, 10],
    );
    const afterReset = JSON.parse((await brook(['groups', 'describe', 'g-b', ...at])).stdout);
    assert.is(afterReset.totalLag, 0);
    for (const groupId of GROUPS) {
      const deleted = await brook(['groups', 'delete', groupId, ...at]);
      assert.is(deleted.code, 0, `${groupId}: ${deleted.stderr}`);
    }
    const empty = await brook(['groups', 'list', ...at]);
    assert.equal(JSON.parse(empty.stdout), []);
  } finally {
    await Promise.all(cluster.list().map((n) => n.stop()));
  }
});

test.run();
