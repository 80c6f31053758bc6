// A quorum follower that was down while large decisions committed catches up when it
// returns: 30 CreateTopics of 10,000 partitions (about 0.65 MB of records each, the largest
// a client may send at brook.max.partitions.per.request) are more than the controller
// port's 16 MiB frame limit in fewer than 64 entries, so an append bounded only in entries
// would be refused by the follower again and again. Each topic is deleted again, so the
// image stays small. Snapshots are off: the follower must be sent the entries.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuorumTrio, bigTopic } from './quorum-trio';
import { until } from '../helpers/wait';

const DECISIONS = 30;
const PARTITIONS = 10_000;

test('a follower back after 30 large decisions catches up on the metadata log', async () => {
  const trio = await QuorumTrio.start();
  try {
    await trio.registerBrokers();
    const leader = await trio.leader();
    const lagging = [1, 2, 3].find((id) => trio.node(id) !== leader)!;
    await trio.stopNode(lagging);
    for (let i = 0; i < DECISIONS; i++) {
      const [created] = await leader.createTopics([bigTopic(`big-${i}`, PARTITIONS)], false);
      assert.is(created.errorCode, 0, `topic ${i}: ${created.errorMessage}`);
      const [deleted] = await leader.deleteTopics([`big-${i}`]);
      assert.is(deleted.errorCode, 0);
    }
    const [kept] = await leader.createTopics([bigTopic('kept', PARTITIONS)], false);
    assert.is(kept.errorCode, 0);
    assert.ok(leader.isLeader, 'no leader change meanwhile');
    const target = leader.describe().commitIndex;
    const back = await trio.startNode(lagging);
    await until(() => back.appliedIndex >= target, {
      what: () => `the returning follower to apply up to ${target} (at ${back.appliedIndex})`,
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    assert.is(back.image.topicsByName.get('kept')?.partitions.size, PARTITIONS);
    assert.is(back.image.topicsByName.size, 1);
  } finally {
    await trio.stopAll();
  }
});

test.run();
