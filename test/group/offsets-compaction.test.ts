// __consumer_offsets is compacted like any compacted topic and the coordinator reads it back
// the same: commits written many times over, offsets deleted (OffsetDelete), expired
// (offsets.retention.ms) and whole groups deleted (DeleteGroups), then a forced cleaner
// pass, then a new coordinator loading the compacted log (offset gaps, tombstones whose
// values are gone, and after delete.retention.ms no tombstones at all) must rebuild
// exactly the groups and offsets the first one held. Also the tombstones themselves:
// one per removed key, as Kafka writes them, and none for keys that never had a value.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSubscriptionBytes } from '../../protocol/consumer-protocol';
import { ErrorCode } from '../../protocol/errors';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { Reader } from '../../protocol/primitives';
import { GroupCoordinator } from '../../src/group/coordinator';
import type { CommittedOffset } from '../../src/group/offset-store';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import type { PartitionLog } from '../../src/log/partition-log';
import { silentLogger } from '../../src/logger';

const MINUTE_MS = 60_000;
const OFFSETS_CONFIG = {
  'cleanup.policy': 'compact',
  'segment.bytes': '2048',
  'delete.retention.ms': String(60 * MINUTE_MS),
  'min.compaction.lag.ms': '0',
};

function setup() {
  const clock = { now: 1_700_000_000_000 };
  const logs = new LogManager({
    dataDir: '/offsets-compaction',
    fs: new MemoryFileSystem(),
    tailCacheBytes: 0,
    housekeepingIntervalMs: 0,
    clock: () => clock.now,
    cleaner: { enable: false, dedupeBufferBytes: 1 << 20 },
  });
  logs.open();
  const partition = logs.getOrCreate('__consumer_offsets', 0, OFFSETS_CONFIG);
  return { clock, logs, partition };
}

async function coordinatorOn(partition: PartitionLog, clock: { now: number }) {
  const groups = new GroupCoordinator({ partitionFor: () => partition, all: () => [partition] }, silentLogger, {
    offsetsRetentionMs: 10 * MINUTE_MS,
    offsetsRetentionCheckIntervalMs: 1000,
    offsetMetadataMaxBytes: 4096,
    tickIntervalMs: 3_600_000,
    limits: { initialRebalanceDelayMs: 0 },
    clock: () => clock.now,
  });
  await groups.start();
  groups.stop();
  return groups;
}

function offset(value: number, at: number): CommittedOffset {
  return { offset: value, leaderEpoch: 3, metadata: `m${value}`, commitTimestampMs: at };
}

/** Every group's state and offsets, comparable with assert.equal. */
function stateOf(groups: GroupCoordinator) {
  const out: Record<string, unknown> = {};
  for (const { groupId, protocolType, state } of groups.listGroups().sort((a, b) => (a.groupId < b.groupId ? -1 : 1))) {
    const group = groups.describe(groupId);
    const offsets: Record<string, unknown> = {};
    for (const [topic, partitions] of [...groups.fetchOffsets(groupId)].sort())
      offsets[topic] = [...partitions].sort((a, b) => a[0] - b[0]);
    out[groupId] = {
      protocolType,
      state,
      generation: group?.generationId,
      protocol: group?.protocolName,
      members: [...(group?.members.keys() ?? [])].sort(),
      offsets,
    };
  }
  return out;
}

/** Every record of the log as [kind, group, topic?, partition?, tombstone]. */
async function recordsOf(partition: PartitionLog) {
  const out: { offset: number; key: string; tombstone: boolean }[] = [];
  let next = partition.logStartOffset;
  while (next < partition.logEndOffset) {
    const read = partition.read(next, 1 << 20, { minOneBatch: true, upperBound: partition.logEndOffset });
    if (read.bytes === 0) break;
    for (const chunk of read.chunks)
      for (const bytes of splitBatches(chunk).batches) {
        const view = new RecordBatchView(bytes);
        for (const record of await view.records()) {
          const reader = new Reader(record.key!);
          const kind = reader.int16();
          const key =
            kind === 1 ? `offset:${reader.string()}/${reader.string()}/${reader.int32()}` : `group:${reader.string()}`;
          out.push({ offset: record.offset, key, tombstone: record.value === null });
        }
        next = view.lastOffset + 1;
      }
  }
  return out;
}

/** An OffsetCommit without a generation, as admin tools and assign() consumers send it. */
function commit(
  groups: GroupCoordinator,
  groupId: string,
  entries: { topic: string; partition: number; offset: CommittedOffset }[],
) {
  if (groups.describe(groupId)?.state !== 'Stable')
    assert.is(groups.commitCheck(groupId, '', null, -1, 9), ErrorCode.NONE);
  groups.commit(groupId, entries);
}

/** Commits of a filler group until the segment holding everything before rolls. */
function fill(groups: GroupCoordinator, clock: { now: number }) {
  for (let i = 0; i < 30; i++) commit(groups, 'filler', [{ topic: 'f', partition: 0, offset: offset(i, clock.now) }]);
}

async function joinAndSync(groups: GroupCoordinator, groupId: string, topics: string[]) {
  const joined = await groups.join(groupId, {
    memberId: '',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: 'h',
    sessionTimeoutMs: 1_800_000,
    rebalanceTimeoutMs: 60_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: encodeSubscriptionBytes({ version: 0, topics }) }],
    requireKnownMemberId: false,
  });
  assert.is(joined.errorCode, ErrorCode.NONE);
  const synced = await groups.sync(groupId, {
    memberId: joined.memberId,
    groupInstanceId: null,
    generationId: joined.generationId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }],
  });
  assert.is(synced.errorCode, ErrorCode.NONE);
  return joined.memberId;
}

test('tombstones as Kafka writes them: one per removed key, none for keys without a value', async () => {
  const { clock, logs, partition } = setup();
  try {
    const groups = await coordinatorOn(partition, clock);
    commit(groups, 'simple', [
      { topic: 't', partition: 0, offset: offset(1, clock.now) },
      { topic: 't', partition: 1, offset: offset(2, clock.now) },
    ]);
    const before = partition.logEndOffset;
    // OffsetDelete of one committed and one never-committed partition: one tombstone.
    const deleted = groups.deleteOffsets(
      'simple',
      [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 7 },
      ],
      new Set(),
    );
    assert.equal(deleted, { groupError: ErrorCode.NONE, results: [ErrorCode.NONE, ErrorCode.NONE] });
    let records = (await recordsOf(partition)).filter((r) => r.offset >= before);
    assert.equal(records, [{ offset: before, key: 'offset:simple/t/0', tombstone: true }]);
    // A group that only stored offsets (generation 0) gets no metadata tombstone.
    assert.is(groups.deleteGroup('simple'), ErrorCode.NONE);
    records = (await recordsOf(partition)).filter((r) => r.offset > before);
    assert.equal(records, [{ offset: before + 1, key: 'offset:simple/t/1', tombstone: true }]);
    // A group with metadata: its offsets' tombstones and the metadata tombstone, one batch.
    const member = await joinAndSync(groups, 'live', ['t']);
    commit(groups, 'live', [{ topic: 't', partition: 0, offset: offset(5, clock.now) }]);
    groups.leave('live', [{ memberId: member, groupInstanceId: null }]);
    const mark = partition.logEndOffset;
    assert.is(groups.deleteGroup('live'), ErrorCode.NONE);
    records = (await recordsOf(partition)).filter((r) => r.offset >= mark);
    assert.equal(
      records.map((r) => [r.key, r.tombstone]),
      [
        ['offset:live/t/0', true],
        ['group:live', true],
      ],
    );
    // An emptied group whose offsets all expire: their tombstones and its metadata tombstone.
    await joinAndSync(groups, 'fading', ['t']);
    commit(groups, 'fading', [
      { topic: 't', partition: 0, offset: offset(1, clock.now) },
      { topic: 't', partition: 1, offset: offset(2, clock.now) },
    ]);
    const fader = groups.describe('fading')!;
    groups.leave('fading', [{ memberId: [...fader.members.keys()][0], groupInstanceId: null }]);
    const faded = partition.logEndOffset;
    clock.now += 11 * MINUTE_MS;
    groups.tick();
    assert.is(groups.describe('fading'), undefined, 'the expired empty group is gone');
    records = (await recordsOf(partition)).filter((r) => r.offset >= faded);
    assert.equal(
      records.map((r) => [r.key, r.tombstone]),
      [
        ['offset:fading/t/0', true],
        ['offset:fading/t/1', true],
        ['group:fading', true],
      ],
    );
  } finally {
    logs.close();
  }
});

test('a coordinator loading the compacted, tombstoned offsets log rebuilds the same groups and offsets', async () => {
  const { clock, logs, partition } = setup();
  try {
    const groups = await coordinatorOn(partition, clock);
    // A live consumer group with metadata (written at the join and at the sync).
    await joinAndSync(groups, 'consumers', ['orders']);
    // Many commits per key: only the latest of each may survive compaction.
    for (let round = 0; round < 20; round++) {
      clock.now += 1000;
      const at = clock.now;
      commit(
        groups,
        'consumers',
        [0, 1, 2, 3].map((p) => ({ topic: 'orders', partition: p, offset: offset(round * 10 + p, at) })),
      );
      commit(
        groups,
        'tools',
        [0, 1, 2].map((p) => ({ topic: 'audit', partition: p, offset: offset(round + p, at) })),
      );
      commit(groups, 'doomed', [{ topic: 'x', partition: 0, offset: offset(round, at) }]);
      if (round < 5) commit(groups, 'expiring', [{ topic: 'old', partition: 0, offset: offset(round, at) }]);
    }
    // OffsetDelete, DeleteGroups, and expiry of a simple group's offsets by retention.
    groups.deleteOffsets('tools', [{ topic: 'audit', partition: 1 }], new Set());
    assert.is(groups.deleteGroup('doomed'), ErrorCode.NONE);
    clock.now += 10 * MINUTE_MS - 6000;
    groups.tick();
    assert.is(groups.fetchOffsets('expiring').size, 0, 'the simple group expired');
    fill(groups, clock);
    const expected = stateOf(groups);
    assert.equal(Object.keys(expected), ['consumers', 'filler', 'tools']);

    const sizeBefore = partition.sizeBytes;
    const tombstonesBefore = (await recordsOf(partition)).filter((r) => r.tombstone).length;
    const first = await logs.cleaner!.cleanNow(partition);
    assert.ok(first, 'the cleaner compacted the offsets partition');
    assert.ok(partition.sizeBytes < sizeBefore / 2, `compacted ${sizeBefore} -> ${partition.sizeBytes} bytes`);
    const afterFirst = await recordsOf(partition);
    // The filler's newest commits sit in the active segment, which is never cleaned.
    const keys = afterFirst.map((r) => r.key).filter((key) => !key.includes('filler'));
    assert.is(new Set(keys).size, keys.length, 'one record per key is left');
    assert.is(afterFirst.filter((r) => r.tombstone).length > 0, true, 'tombstones kept until delete.retention.ms');
    assert.ok(afterFirst.filter((r) => r.tombstone).length <= tombstonesBefore);

    // Failover: a new coordinator loads the compacted log.
    let reloaded = await coordinatorOn(partition, clock);
    assert.equal(stateOf(reloaded), expected, 'same state after the compaction');

    // After delete.retention.ms another pass removes the tombstones too.
    clock.now += 61 * MINUTE_MS;
    commit(groups, 'consumers', [{ topic: 'orders', partition: 0, offset: offset(999, clock.now) }]);
    fill(groups, clock);
    await logs.cleaner!.cleanNow(partition);
    const afterSecond = await recordsOf(partition);
    assert.equal(
      afterSecond.filter((r) => r.tombstone),
      [],
      'no tombstones left',
    );
    reloaded = await coordinatorOn(partition, clock);
    const expectedNow = stateOf(groups);
    assert.equal(stateOf(reloaded), expectedNow, 'same state after the tombstones went');
    // A failover: a running coordinator that becomes the partition's leader loads it too.
    const successor = new GroupCoordinator({ partitionFor: () => partition, all: () => [] }, silentLogger, {
      offsetsRetentionMs: 10 * MINUTE_MS,
      offsetMetadataMaxBytes: 4096,
      tickIntervalMs: 3_600_000,
      clock: () => clock.now,
    });
    await successor.start();
    successor.stop();
    assert.equal(stateOf(successor), {});
    await successor.onOffsetsLeadership(0, true, () => 0, partition);
    assert.equal(stateOf(successor), expectedNow, 'same state on the new leader');
    assert.is(
      (expectedNow.consumers as { offsets: { orders: [number, CommittedOffset][] } }).offsets.orders[0][1].offset,
      999,
    );
  } finally {
    logs.close();
  }
});

test.run();
