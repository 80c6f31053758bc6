// The group coordinator's bounds and clean-up, on an in-memory offsets partition with a
// hand-driven clock: groups per coordinator, committed offsets per group, the OffsetCommit
// v9 answer for unknown groups, and offsets.retention.minutes as Kafka's classic groups
// apply it (a simple group's offsets expire one by one after their own commit).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSubscriptionBytes } from '../../protocol/consumer-protocol';
import { ErrorCode } from '../../protocol/errors';
import { GroupCoordinator, CoordinatorOptions } from '../../src/group/coordinator';
import type { CommittedOffset } from '../../src/group/offset-store';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { silentLogger } from '../../src/logger';

const MINUTE_MS = 60_000;

async function coordinator(options: Partial<CoordinatorOptions> = {}) {
  const clock = { now: 1_000_000 };
  const logs = new LogManager({
    dataDir: '/coordinator-limits',
    fs: new MemoryFileSystem(),
    tailCacheBytes: 0,
    housekeepingIntervalMs: 0,
  });
  logs.open();
  const partition = logs.getOrCreate('__consumer_offsets', 0, {});
  const groups = new GroupCoordinator({ partitionFor: () => partition, all: () => [partition] }, silentLogger, {
    offsetsRetentionMs: 10 * MINUTE_MS,
    offsetsRetentionCheckIntervalMs: 1000,
    offsetMetadataMaxBytes: 4096,
    tickIntervalMs: 3_600_000,
    clock: () => clock.now,
    ...options,
  });
  await groups.start();
  groups.stop();
  return { groups, clock, logs };
}

function offset(value: number, commitTimestampMs: number): CommittedOffset {
  return { offset: value, leaderEpoch: -1, metadata: '', commitTimestampMs };
}

test('a simple group keeps each offset for the retention time after its own commit', async () => {
  const { groups, clock, logs } = await coordinator();
  try {
    const start = clock.now;
    assert.is(groups.commitCheck('simple', '', null, -1, 9), ErrorCode.NONE);
    groups.commit('simple', [{ topic: 't', partition: 0, offset: offset(5, clock.now) }]);
    clock.now += 9 * MINUTE_MS;
    groups.commit('simple', [{ topic: 't', partition: 1, offset: offset(7, clock.now) }]);
    clock.now = start + 10 * MINUTE_MS + 1000;
    groups.tick();
    const left = groups.fetchOffsets('simple').get('t');
    assert.equal([...(left?.keys() ?? [])], [1], 'partition 0 expired, partition 1 (committed later) kept');
    clock.now = start + 19 * MINUTE_MS + 2000;
    groups.tick();
    assert.is(groups.fetchOffsets('simple').size, 0, 'then partition 1 expires too');
    assert.is(
      groups.listGroups().find((g) => g.groupId === 'simple'),
      undefined,
      'an empty group left with no offsets is removed',
    );
  } finally {
    logs.close();
  }
});

test("a retention time sent with the commit (v2-4) sets that offset's expiry and survives a reload", async () => {
  const { groups, clock, logs } = await coordinator();
  try {
    const start = clock.now;
    groups.commitCheck('old-client', '', null, -1, 2);
    groups.commit('old-client', [
      { topic: 't', partition: 0, offset: { ...offset(3, clock.now), expireTimestampMs: start + MINUTE_MS } },
      { topic: 't', partition: 1, offset: offset(4, clock.now) },
    ]);
    const partition = logs.get('__consumer_offsets', 0)!;
    const reloaded = new GroupCoordinator({ partitionFor: () => partition, all: () => [partition] }, silentLogger, {
      offsetsRetentionMs: 10 * MINUTE_MS,
      offsetMetadataMaxBytes: 4096,
      clock: () => clock.now,
    });
    await reloaded.start();
    reloaded.stop();
    assert.is(reloaded.fetchOffsets('old-client').get('t')?.get(0)?.expireTimestampMs, start + MINUTE_MS);
    assert.is(reloaded.fetchOffsets('old-client').get('t')?.get(1)?.expireTimestampMs, undefined);
    clock.now = start + MINUTE_MS + 1000;
    groups.tick();
    assert.equal(
      [...(groups.fetchOffsets('old-client').get('t')?.keys() ?? [])],
      [1],
      'only the one with a retention time',
    );
  } finally {
    logs.close();
  }
});

test('a stable consumer group: offsets of topics no member subscribes to expire after their commit (KIP-496)', async () => {
  const { groups, clock, logs } = await coordinator({ limits: { initialRebalanceDelayMs: 0 } });
  try {
    const start = clock.now;
    const join = (memberId: string) =>
      groups.join('live', {
        memberId,
        groupInstanceId: null,
        clientId: 'c',
        clientHost: 'h',
        sessionTimeoutMs: 1_800_000,
        rebalanceTimeoutMs: 60_000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscriptionBytes({ version: 0, topics: ['kept'] }) }],
        requireKnownMemberId: false,
      });
    const joined = await join('');
    assert.is(joined.errorCode, ErrorCode.NONE);
    const synced = await groups.sync('live', {
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    assert.is(synced.errorCode, ErrorCode.NONE);
    groups.commit('live', [
      { topic: 'kept', partition: 0, offset: offset(1, clock.now) },
      { topic: 'dropped', partition: 0, offset: offset(2, clock.now) },
    ]);
    clock.now = start + 10 * MINUTE_MS + 1000;
    groups.heartbeat('live', { memberId: joined.memberId, groupInstanceId: null, generationId: joined.generationId });
    groups.tick();
    assert.equal([...groups.fetchOffsets('live').keys()], ['kept'], 'the unsubscribed topic expired');
    assert.equal(groups.describe('live')?.state, 'Stable');
  } finally {
    logs.close();
  }
});

test('members still expire on the clock, in a live group and in one restored from the offsets topic', async () => {
  const { groups, clock, logs } = await coordinator({
    limits: { initialRebalanceDelayMs: 0 },
    offsetsRetentionCheckIntervalMs: 3_600_000,
  });
  try {
    const joined = await groups.join('ticking', {
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: encodeSubscriptionBytes({ version: 0, topics: ['t'] }) }],
      requireKnownMemberId: false,
    });
    await groups.sync('ticking', {
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: joined.generationId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    const partition = logs.get('__consumer_offsets', 0)!;
    const restored = new GroupCoordinator({ partitionFor: () => partition, all: () => [partition] }, silentLogger, {
      offsetsRetentionMs: 10 * MINUTE_MS,
      offsetMetadataMaxBytes: 4096,
      tickIntervalMs: 3_600_000,
      clock: () => clock.now,
    });
    await restored.start();
    restored.stop();
    assert.equal([groups.describe('ticking')?.state, restored.describe('ticking')?.state], ['Stable', 'Stable']);
    clock.now += 11_000;
    groups.tick();
    restored.tick();
    assert.equal([groups.describe('ticking')?.state, restored.describe('ticking')?.state], ['Empty', 'Empty']);
  } finally {
    logs.close();
  }
});

test('brook.group.coordinator.max.groups: a new group past it is refused, known groups still work', async () => {
  const { groups, clock, logs } = await coordinator({ groupsMax: 2 });
  try {
    for (const id of ['a', 'b']) {
      assert.is(groups.commitCheck(id, '', null, -1, 8), ErrorCode.NONE);
      groups.commit(id, [{ topic: 't', partition: 0, offset: offset(1, clock.now) }]);
    }
    assert.is(groups.commitCheck('c', '', null, -1, 8), ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.is(groups.canCreate('c'), false);
    assert.is(groups.commitCheck('a', '', null, -1, 8), ErrorCode.NONE, 'an existing group is not refused');
    const join = await groups.join('c', {
      memberId: '',
      groupInstanceId: null,
      clientId: 'x',
      clientHost: 'h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(4) }],
      requireKnownMemberId: true,
    });
    assert.is(join.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.is(groups.listGroups().length, 2);
    assert.is(groups.deleteGroup('b'), ErrorCode.NONE);
    assert.is(groups.commitCheck('c', '', null, -1, 8), ErrorCode.NONE, 'room again once a group is gone');
  } finally {
    logs.close();
  }
});

test('OffsetCommit with a generation into an unknown group: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before', async () => {
  const { groups, logs } = await coordinator();
  try {
    assert.is(groups.commitCheck('nobody', 'm-1', null, 3, 9), ErrorCode.GROUP_ID_NOT_FOUND);
    assert.is(groups.commitCheck('nobody', 'm-1', null, 3, 8), ErrorCode.ILLEGAL_GENERATION);
    assert.is(groups.listGroups().length, 0, 'neither creates the group');
    assert.is(groups.commitCheck('nobody', 'm-1', null, -1, 9), ErrorCode.NONE, 'no generation: a simple group');
  } finally {
    logs.close();
  }
});

test('committed offsets per group are counted for brook.group.max.committed.offsets', async () => {
  const { groups, clock, logs } = await coordinator({ committedOffsetsPerGroupMax: 2 });
  try {
    assert.is(groups.committedOffsetsPerGroupMax, 2);
    groups.commit('g', [
      { topic: 't', partition: 0, offset: offset(1, clock.now) },
      { topic: 'u', partition: 3, offset: offset(1, clock.now) },
    ]);
    assert.is(groups.committedOffsetCount('g'), 2);
    assert.ok(groups.hasCommittedOffset('g', 'u', 3));
    assert.not.ok(groups.hasCommittedOffset('g', 'u', 4));
  } finally {
    logs.close();
  }
});

test.run();
