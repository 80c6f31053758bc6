// Three quorums over TCP with a small metadata entry bound (64 KiB): a CreateTopics of
// 10,000 partitions at replication factor 3 (about 0.65 MB of records, the largest a client
// may create in one request at brook.max.partitions.per.request) commits as an atomic
// group of entries, none over the bound, and reaches every node whole, including one that
// was down meanwhile. A request with a record larger than an entry is refused with
// POLICY_VIOLATION and writes nothing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { ENTRY_METADATA_PART } from '../../src/controller/quorum';
import { QuorumTrio, bigTopic } from './quorum-trio';
import { until } from '../helpers/wait';

const BOUND = 64 * 1024;

test('a decision larger than an entry commits as a group of bounded entries and replicates whole', async () => {
  const trio = await QuorumTrio.start({ metadataMaxEntryBytes: BOUND, raftMaxAppendBytes: 256 * 1024 });
  try {
    await trio.registerBrokers();
    const leader = await trio.leader();
    const lagging = [1, 2, 3].find((id) => trio.node(id) !== leader)!;
    await trio.stopNode(lagging);
    const [created] = await leader.createTopics([bigTopic('huge', 10_000)], false);
    assert.is(created.errorCode, 0, created.errorMessage ?? '');
    assert.is(leader.image.topicsByName.get('huge')?.partitions.size, 10_000);

    const [refused] = await leader.createTopics(
      [{ ...bigTopic('config-bomb', 1), configs: { 'retention.ms': '0'.repeat(BOUND) } }],
      false,
    );
    assert.is(refused.errorCode, ErrorCode.POLICY_VIOLATION);
    assert.match(refused.errorMessage ?? '', /brook\.metadata\.max\.entry\.bytes/);
    assert.not.ok(leader.image.topicsByName.has('config-bomb'));

    const target = leader.describe().commitIndex;
    const back = await trio.startNode(lagging);
    await until(() => back.appliedIndex >= target, {
      what: () => `the returning node to apply up to ${target} (at ${back.appliedIndex})`,
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    for (const quorum of trio.quorums.values()) {
      await until(() => quorum.appliedIndex >= target, {
        what: 'every node to apply',
        timeoutMs: 5000,
        intervalMs: 20,
      });
      assert.is(quorum.image.topicsByName.get('huge')?.partitions.size, 10_000);
      const entries = (
        quorum as unknown as { driver: { node: { entries(): { data: Buffer; kind?: number }[] } } }
      ).driver.node.entries();
      const parts = entries.filter((e) => e.kind === ENTRY_METADATA_PART);
      assert.ok(parts.length >= 10, `${parts.length} part entries`);
      for (const entry of entries) assert.ok(entry.data.length <= BOUND, `an entry of ${entry.data.length} bytes`);
    }
  } finally {
    await trio.stopAll();
  }
});

test.run();
