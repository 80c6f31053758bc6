// Metadata records round-trip through their framing; the image replays them; the
// controller's decisions (registration, unfencing on catch-up, fencing on expiry with ISR
// shrink and leader election, placement spread, topic lifecycle, producer id blocks,
// ElectLeaders' preferred and unclean elections, UnregisterBroker), replayed on two images,
// give identical state.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  MetadataRecordData,
  MetadataRecordInput,
  METADATA_RECORDS,
} from '../../protocol/metadata/records';
import { ProtocolError } from '../../protocol/primitives';
import { ErrorCode } from '../../protocol/errors';
import { Controller, seededRandom } from '../../src/controller/controller';
import { MetadataImage } from '../../src/controller/metadata-image';

/** A record as it comes back out of the Raft log. */
function wire(record: MetadataRecordInput) {
  return decodeMetadataRecord(encodeMetadataRecord(record));
}

function harness(brokers = 3) {
  const image = new MetadataImage();
  const follower = new MetadataImage();
  let ids = 0;
  const controller = new Controller(
    image,
    { brokerSessionTimeoutMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1 },
    seededRandom(7),
    () => Buffer.alloc(16, ++ids).toString('base64url'),
  );
  let offset = 0;
  const commit = (records: MetadataRecordInput[]) => {
    for (const record of records) {
      // Everything goes through the wire form, as it would through the Raft log.
      const bytes = encodeMetadataRecord(record);
      image.apply(decodeMetadataRecord(bytes), offset);
      follower.apply(decodeMetadataRecord(bytes), offset);
      offset++;
    }
  };
  let now = 0;
  const epochs = new Map<number, number>();
  for (let id = 1; id <= brokers; id++) {
    const reg = controller.registerBroker(
      {
        brokerId: id,
        incarnationId: Buffer.alloc(16, id).toString('base64url'),
        endPoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + id, securityProtocol: 0 }],
        rack: null,
      },
      now,
    );
    commit(reg.records);
    epochs.set(id, reg.result.brokerEpoch);
    const hb = controller.heartbeat(
      {
        brokerId: id,
        brokerEpoch: reg.result.brokerEpoch,
        currentMetadataOffset: offset,
        wantFence: false,
        wantShutDown: false,
      },
      now,
    );
    commit(hb.records);
  }
  return {
    image,
    follower,
    controller,
    commit,
    epochs,
    advance: (ms: number) => (now += ms),
    now: () => now,
    offset: () => offset,
  };
}

test('every record type survives its framing; bad frames are refused', () => {
  const samples: Record<string, Record<string, unknown>> = {
    RegisterBroker: {
      brokerId: 1,
      incarnationId: Buffer.alloc(16, 1).toString('base64url'),
      brokerEpoch: 5,
      endPoints: [{ name: 'PLAINTEXT', host: 'h', port: 9092, securityProtocol: 0 }],
      rack: 'r1',
      fenced: true,
    },
    PartitionChange: {
      partitionId: 3,
      topicId: Buffer.alloc(16, 2).toString('base64url'),
      isr: [1, 2],
      leader: 2,
      replicas: null,
      removingReplicas: null,
      addingReplicas: null,
    },
  };
  for (const schema of METADATA_RECORDS) {
    const record = { type: schema.name, data: samples[schema.name] ?? {} } as MetadataRecordInput;
    const decoded = decodeMetadataRecord(encodeMetadataRecord(record));
    assert.is(decoded.type, schema.name);
    for (const [key, value] of Object.entries(record.data))
      assert.equal((decoded.data as Record<string, unknown>)[key], value, `${schema.name}.${key}`);
  }
  const unchanged = decodeMetadataRecord(
    encodeMetadataRecord({
      type: 'PartitionChange',
      data: { partitionId: 0, topicId: Buffer.alloc(16, 2).toString('base64url') },
    }),
  );
  const unchangedData = unchanged.data as MetadataRecordData<'PartitionChange'>;
  assert.equal([unchangedData.isr, unchangedData.leader], [null, -2], 'absent tagged fields mean unchanged');
  for (const bad of ['02', '0163', '0100', '01000a']) {
    assert.throws(
      () => decodeMetadataRecord(Buffer.from(bad, 'hex')),
      (e: Error) => e instanceof ProtocolError,
    );
  }
});

test('brokers register fenced and are unfenced once caught up to their registration', () => {
  const h = harness(1);
  assert.is(h.image.brokers.get(1)!.fenced, false);
  const reg = h.controller.registerBroker(
    { brokerId: 4, incarnationId: Buffer.alloc(16, 4).toString('base64url'), endPoints: [], rack: null },
    h.now(),
  );
  h.commit(reg.records);
  assert.is(h.image.brokers.get(4)!.fenced, true);
  const behind = h.controller.heartbeat(
    {
      brokerId: 4,
      brokerEpoch: reg.result.brokerEpoch,
      currentMetadataOffset: h.image.brokers.get(4)!.registeredAtOffset - 1,
      wantFence: false,
      wantShutDown: false,
    },
    h.now(),
  );
  assert.equal([behind.records.length, behind.result.isFenced, behind.result.isCaughtUp], [0, true, false]);
  const caughtUp = h.controller.heartbeat(
    {
      brokerId: 4,
      brokerEpoch: reg.result.brokerEpoch,
      currentMetadataOffset: h.offset(),
      wantFence: false,
      wantShutDown: false,
    },
    h.now(),
  );
  h.commit(caughtUp.records);
  assert.is(h.image.brokers.get(4)!.fenced, false);
  const stale = h.controller.heartbeat(
    { brokerId: 4, brokerEpoch: 999, currentMetadataOffset: h.offset(), wantFence: false, wantShutDown: false },
    h.now(),
  );
  assert.is(stale.result.errorCode, ErrorCode.STALE_BROKER_EPOCH);
  assert.is(
    h.controller.heartbeat(
      { brokerId: 77, brokerEpoch: 1, currentMetadataOffset: 0, wantFence: false, wantShutDown: false },
      h.now(),
    ).result.errorCode,
    ErrorCode.BROKER_ID_NOT_REGISTERED,
  );
  const dup = h.controller.registerBroker(
    { brokerId: 4, incarnationId: Buffer.alloc(16, 9).toString('base64url'), endPoints: [], rack: null },
    h.now(),
  );
  assert.is(dup.result.errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'a live broker id cannot be taken');
});

test('placement spreads replicas and leaders evenly', () => {
  const h = harness(3);
  const created = h.controller.createTopics(
    [{ name: 'spread', partitions: 6, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }],
    false,
  );
  h.commit(created.records);
  const partitions = [...h.image.topicsByName.get('spread')!.partitions.values()];
  const leaders = new Map<number, number>();
  for (const p of partitions) {
    assert.is(new Set(p.replicas).size, 3);
    assert.equal(p.isr, p.replicas);
    leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
  }
  assert.equal([...leaders.values()].sort(), [2, 2, 2], 'two leaderships each');
  assert.equal(h.image.topicConfigs('spread'), { 'min.insync.replicas': '2' });
  const tooMany = h.controller.createTopics([{ name: 'big', partitions: 1, replicationFactor: 4, configs: {} }], false);
  assert.is(tooMany.result[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.is(
    h.controller.createTopics([{ name: 'spread', partitions: 1, replicationFactor: 1, configs: {} }], false).result[0]
      .errorCode,
    ErrorCode.TOPIC_ALREADY_EXISTS,
  );
  assert.is(h.image.digest(), h.follower.digest(), 'replay gives identical images');
});

test('rack-aware placement puts replicas of a partition in different racks', () => {
  const image = new MetadataImage();
  const controller = new Controller(
    image,
    { brokerSessionTimeoutMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1 },
    seededRandom(3),
    () => Buffer.alloc(16, 1).toString('base64url'),
  );
  let offset = 0;
  const racks = ['a', 'a', 'b', 'b'];
  racks.forEach((rack, i) => {
    const reg = controller.registerBroker(
      { brokerId: i + 1, incarnationId: Buffer.alloc(16, i + 1).toString('base64url'), endPoints: [], rack },
      0,
    );
    for (const r of reg.records) image.apply(wire(r), offset++);
    for (const r of controller.heartbeat(
      {
        brokerId: i + 1,
        brokerEpoch: reg.result.brokerEpoch,
        currentMetadataOffset: offset,
        wantFence: false,
        wantShutDown: false,
      },
      0,
    ).records)
      image.apply(wire(r), offset++);
  });
  for (const r of controller.createTopics([{ name: 'racked', partitions: 8, replicationFactor: 2, configs: {} }], false)
    .records)
    image.apply(wire(r), offset++);
  for (const p of image.topicsByName.get('racked')!.partitions.values()) {
    assert.is.not(racks[p.replicas[0] - 1], racks[p.replicas[1] - 1], `partition ${p.partitionId} spans racks`);
  }
});

test('a broker whose session expires is fenced, leaves every ISR, and loses its leaderships', () => {
  const h = harness(3);
  h.commit(
    h.controller.createTopics(
      [
        { name: 't', partitions: 3, replicationFactor: 3, configs: {} },
        { name: 'single', partitions: 1, replicationFactor: 1, configs: {} },
      ],
      false,
    ).records,
  );
  const ledBy2 = [...h.image.topicsByName.get('t')!.partitions.values()]
    .filter((p) => p.leader === 2)
    .map((p) => p.partitionId);
  h.controller.activate(h.now());
  for (let i = 0; i < 10; i++) {
    h.advance(1000);
    for (const id of [1, 3])
      h.commit(
        h.controller.heartbeat(
          {
            brokerId: id,
            brokerEpoch: h.epochs.get(id)!,
            currentMetadataOffset: h.offset(),
            wantFence: false,
            wantShutDown: false,
          },
          h.now(),
        ).records,
      );
    h.commit(h.controller.tick(h.now()));
  }
  assert.is(h.image.brokers.get(2)!.fenced, true);
  for (const p of h.image.topicsByName.get('t')!.partitions.values()) {
    assert.not.ok(p.isr.includes(2), `partition ${p.partitionId} ISR without 2`);
    assert.is.not(p.leader, 2);
    if (ledBy2.includes(p.partitionId)) assert.is(p.leaderEpoch, 1, 'new leader, new epoch');
  }
  const single = h.image.topicsByName.get('single')!.partitions.get(0)!;
  if (single.replicas[0] === 2)
    assert.equal([single.leader, single.isr], [-1, [2]], 'no other replica: leaderless, last ISR kept');
  // Broker 2 comes back: registered again, caught up, unfenced, leaderless partitions led again.
  const reg = h.controller.registerBroker(
    { brokerId: 2, incarnationId: Buffer.alloc(16, 22).toString('base64url'), endPoints: [], rack: null },
    h.now(),
  );
  h.commit(reg.records);
  h.commit(
    h.controller.heartbeat(
      {
        brokerId: 2,
        brokerEpoch: reg.result.brokerEpoch,
        currentMetadataOffset: h.offset(),
        wantFence: false,
        wantShutDown: false,
      },
      h.now(),
    ).records,
  );
  assert.is(h.image.brokers.get(2)!.fenced, false);
  if (single.replicas[0] === 2) assert.is(h.image.topicsByName.get('single')!.partitions.get(0)!.leader, 2);
  assert.is(h.image.digest(), h.follower.digest());
});

test('topic deletion, partition growth, producer id blocks', () => {
  const h = harness(2);
  h.commit(
    h.controller.createTopics([{ name: 'grow', partitions: 2, replicationFactor: 2, configs: {} }], false).records,
  );
  const grow = h.controller.createPartitions('grow', 5);
  assert.is(grow.result.errorCode, ErrorCode.NONE);
  h.commit(grow.records);
  assert.is(h.image.topicsByName.get('grow')!.partitions.size, 5);
  assert.is(h.controller.createPartitions('grow', 3).result.errorCode, ErrorCode.INVALID_PARTITIONS);
  const first = h.controller.allocateProducerIds(1, h.epochs.get(1)!);
  h.commit(first.records);
  const second = h.controller.allocateProducerIds(2, h.epochs.get(2)!);
  h.commit(second.records);
  assert.equal([first.result.firstProducerId, second.result.firstProducerId], [0, 1000]);
  const deleted = h.controller.deleteTopics(['grow', 'missing']);
  h.commit(deleted.records);
  assert.equal(
    deleted.result.map((r) => r.errorCode),
    [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  assert.not.ok(h.image.topicsByName.has('grow'));
  assert.is(h.image.digest(), h.follower.digest());
});

test("topic names: Kafka's rules, '.'/'_' collisions, and partition directories that fit a file name", () => {
  const h = harness(1);
  const create = (name: string, partitions = 1) =>
    h.controller.createTopics([{ name, partitions, replicationFactor: 1, configs: {} }], false);
  h.commit(create('metrics.eu_west').records);
  const collides = create('metrics_eu.west');
  assert.is(collides.result[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.is(collides.result[0].errorMessage, "Topic 'metrics_eu.west' collides with existing topic: metrics.eu_west");
  assert.is(collides.records.length, 0);
  assert.is(create('a/b').result[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.is(create('x'.repeat(250)).result[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  // 249 characters + '-' + 5 digits is 255 bytes: partition 99999 fits, 100000 does not.
  const long = 'y'.repeat(249);
  assert.is(create(long, 100_000).result[0].errorCode, ErrorCode.NONE);
  assert.is(create(long, 100_001).result[0].errorCode, ErrorCode.INVALID_PARTITIONS);
  h.commit(create(long, 2).records);
  assert.is(h.controller.createPartitions(long, 100_001).result.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.is(h.controller.createPartitions(long, 3).result.errorCode, ErrorCode.NONE);
});

test('a snapshot of the image rebuilds an identical image', () => {
  const h = harness(3);
  h.commit(
    h.controller.createTopics(
      [{ name: 'snap', partitions: 4, replicationFactor: 2, configs: { 'retention.ms': '1000' } }],
      false,
    ).records,
  );
  h.commit(h.controller.allocateProducerIds(1, h.epochs.get(1)!).records);
  const rebuilt = MetadataImage.fromSnapshot(h.image.toSnapshot(), h.offset() - 1);
  assert.is(rebuilt.digest(), h.image.digest());
  assert.equal(rebuilt.topicConfigs('snap'), { 'retention.ms': '1000' });
  assert.throws(() => MetadataImage.fromSnapshot(h.image.toSnapshot().subarray(0, 30), 0));
});

test('reassignment: union while copying, completes when the new replicas are in the ISR, removed leader hands over; cancel reverts', () => {
  const h = harness(4);
  h.commit(
    h.controller.createTopics(
      [{ name: 'move', partitions: 1, replicationFactor: 2, configs: {}, assignments: [[1, 2]] }],
      false,
    ).records,
  );
  const p = () => h.image.topicsByName.get('move')!.partitions.get(0)!;
  assert.equal([p().replicas, p().leader], [[1, 2], 1]);
  const bad = h.controller.alterPartitionReassignments([
    {
      name: 'move',
      partitions: [
        { partitionIndex: 0, replicas: [3, 3] },
        { partitionIndex: 5, replicas: [3] },
      ],
    },
  ]);
  assert.equal(
    bad.result[0].partitions.map((r) => r.errorCode),
    [ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  assert.is(
    h.controller.alterPartitionReassignments([{ name: 'move', partitions: [{ partitionIndex: 0, replicas: [9] }] }])
      .result[0].partitions[0].errorCode,
    ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    'unknown broker',
  );
  assert.is(
    h.controller.alterPartitionReassignments([{ name: 'move', partitions: [{ partitionIndex: 0, replicas: null }] }])
      .result[0].partitions[0].errorCode,
    ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
  );

  const started = h.controller.alterPartitionReassignments([
    { name: 'move', partitions: [{ partitionIndex: 0, replicas: [3, 4] }] },
  ]);
  assert.is(started.result[0].partitions[0].errorCode, ErrorCode.NONE);
  h.commit(started.records);
  assert.equal([p().replicas, p().addingReplicas, p().removingReplicas, p().leader], [[3, 4, 1, 2], [3, 4], [1, 2], 1]);
  assert.equal(
    h.controller.listPartitionReassignments(null).map((r) => [r.topic, r.partitionIndex]),
    [['move', 0]],
  );
  assert.equal(h.controller.tick(h.now()), [], 'nothing completes before the new replicas are in the ISR');
  // The leader adds one new replica: not yet complete.
  const grow = (isr: number[]) =>
    h.controller.alterPartitionIsr({
      brokerId: 1,
      brokerEpoch: h.epochs.get(1)!,
      topicId: p().topicId,
      partition: 0,
      leaderEpoch: p().leaderEpoch,
      partitionEpoch: p().partitionEpoch,
      newIsr: isr,
    });
  h.commit(grow([1, 2, 3]).records);
  assert.equal(h.controller.tick(h.now()), []);
  h.commit(grow([1, 2, 3, 4]).records);
  const leaderEpoch = p().leaderEpoch;
  h.commit(h.controller.tick(h.now()));
  assert.equal([p().replicas, p().isr, p().addingReplicas, p().removingReplicas], [[3, 4], [3, 4], [], []]);
  assert.is(p().leader, 3, 'the old leader was removed: the first new replica in the ISR leads');
  assert.ok(p().leaderEpoch > leaderEpoch);
  assert.equal(h.controller.listPartitionReassignments(null), []);

  // Cancel: back to the original replicas, the adding one dropped.
  h.commit(
    h.controller.alterPartitionReassignments([{ name: 'move', partitions: [{ partitionIndex: 0, replicas: [1, 3] }] }])
      .records,
  );
  assert.equal([p().replicas, p().addingReplicas, p().removingReplicas], [[1, 3, 4], [1], [4]]);
  const cancel = h.controller.alterPartitionReassignments([
    { name: 'move', partitions: [{ partitionIndex: 0, replicas: null }] },
  ]);
  assert.is(cancel.result[0].partitions[0].errorCode, ErrorCode.NONE);
  h.commit(cancel.records);
  assert.equal(
    [p().replicas, p().isr, p().addingReplicas, p().removingReplicas, p().leader],
    [[3, 4], [3, 4], [], [], 3],
  );
  assert.is(h.image.digest(), h.follower.digest());
});

test('preferred leaders come back once their broker is in the ISR again (auto rebalance, per-broker threshold)', () => {
  const h = harness(3);
  const controller = new Controller(
    h.image,
    {
      brokerSessionTimeoutMs: 9000,
      defaultPartitions: 1,
      defaultReplicationFactor: 1,
      leaderRebalance: { enabled: true, intervalMs: 1000, imbalancePercentage: 10 },
    },
    seededRandom(3),
    () => Buffer.alloc(16, 99).toString('base64url'),
  );
  controller.activate(h.now());
  h.commit(
    controller.createTopics(
      [
        {
          name: 'pref',
          partitions: 3,
          replicationFactor: 3,
          configs: {},
          assignments: [
            [1, 2, 3],
            [2, 3, 1],
            [3, 1, 2],
          ],
        },
      ],
      false,
    ).records,
  );
  const leaders = () => [0, 1, 2].map((i) => h.image.topicsByName.get('pref')!.partitions.get(i)!.leader);
  assert.equal(leaders(), [1, 2, 3]);
  // Broker 1 goes away (controlled shutdown): its leadership moves and it leaves the ISR.
  const down = controller.heartbeat(
    {
      brokerId: 1,
      brokerEpoch: h.epochs.get(1)!,
      currentMetadataOffset: h.offset(),
      wantFence: false,
      wantShutDown: true,
    },
    h.now(),
  );
  assert.ok(down.result.shouldShutDown);
  h.commit(down.records);
  assert.equal(leaders(), [2, 2, 3]);
  assert.not.ok(h.image.topicsByName.get('pref')!.partitions.get(0)!.isr.includes(1));
  assert.equal(controller.rebalanceLeaders(h.advance(2000)), [], 'broker 1 is fenced: nothing moves');
  // It comes back, is unfenced, and the leader adds it to the ISR again.
  const p0 = h.image.topicsByName.get('pref')!.partitions.get(0)!;
  h.commit(
    controller.heartbeat(
      {
        brokerId: 1,
        brokerEpoch: h.epochs.get(1)!,
        currentMetadataOffset: h.offset(),
        wantFence: false,
        wantShutDown: false,
      },
      h.now(),
    ).records,
  );
  assert.equal(controller.rebalanceLeaders(h.advance(2000)), [], 'not in the ISR yet');
  h.commit(
    controller.alterPartitionIsr({
      brokerId: 2,
      brokerEpoch: h.epochs.get(2)!,
      topicId: p0.topicId,
      partition: 0,
      leaderEpoch: p0.leaderEpoch,
      partitionEpoch: p0.partitionEpoch,
      newIsr: [2, 3, 1],
    }).records,
  );
  assert.equal(controller.rebalanceLeaders(h.advance(100)), [], 'not before the check interval');
  h.commit(controller.rebalanceLeaders(h.advance(1000)));
  assert.equal(leaders(), [1, 2, 3]);
});

/** A topic of one partition on `replicas` (the first its preferred leader), committed. */
function onePartition(h: ReturnType<typeof harness>, name: string, replicas: number[]) {
  const created = h.controller.createTopics(
    [{ name, partitions: 1, replicationFactor: replicas.length, configs: {}, assignments: [replicas] }],
    false,
  );
  assert.is(created.result[0].errorCode, ErrorCode.NONE);
  h.commit(created.records);
  return () => h.image.topicsByName.get(name)!.partitions.get(0)!;
}

const partitionChange = (topicId: string, data: { isr?: number[] | null; leader?: number }) =>
  ({ type: 'PartitionChange', data: { topicId, partitionId: 0, isr: null, ...data } }) as MetadataRecordInput;

test('ElectLeaders preferred: back to the first replica when it is a live ISR member, else refused', () => {
  const h = harness(3);
  const partition = onePartition(h, 'p', [1, 2, 3]);
  const asked = [{ topic: 'p', partitions: [0] }];
  const code = (d: { result: { partitionResult: { errorCode: number }[] }[] }) =>
    d.result[0].partitionResult[0].errorCode;
  assert.is(code(h.controller.electLeaders(0, asked)), ErrorCode.ELECTION_NOT_NEEDED);
  h.commit([partitionChange(partition().topicId, { leader: 2 })]);
  const elected = h.controller.electLeaders(0, asked);
  assert.is(code(elected), ErrorCode.NONE);
  h.commit(elected.records);
  assert.is(partition().leader, 1);
  assert.equal(partition().isr, [1, 2, 3]);
  // The preferred replica out of the ISR: the current leader stays.
  h.commit([partitionChange(partition().topicId, { leader: 2, isr: [2, 3] })]);
  const refused = h.controller.electLeaders(0, asked);
  assert.is(code(refused), ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
  assert.equal(refused.records, []);
  // Unknown topics and partitions.
  const unknown = h.controller.electLeaders(0, [
    { topic: 'p', partitions: [3] },
    { topic: 'none', partitions: [0] },
  ]);
  assert.equal(
    unknown.result.map((t) => t.partitionResult.map((p) => p.errorCode)),
    [[ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
  );
  // Every partition: those needing no election are left out, their topic listed empty.
  onePartition(h, 'q', [2, 3]);
  const all = h.controller.electLeaders(0, null);
  assert.equal(
    all.result.map((t) => [t.topic, t.partitionResult.map((p) => p.errorCode)]),
    [
      ['p', [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]],
      ['q', []],
    ],
  );
  assert.is(h.image.digest(), h.follower.digest());
});

test('ElectLeaders unclean: only for a leaderless partition; a live replica outside the ISR becomes the whole ISR', () => {
  const h = harness(3);
  const partition = onePartition(h, 'u', [1, 2]);
  const asked = [{ topic: 'u', partitions: [0] }];
  const code = (d: { result: { partitionResult: { errorCode: number }[] }[] }) =>
    d.result[0].partitionResult[0].errorCode;
  assert.is(code(h.controller.electLeaders(1, asked)), ErrorCode.ELECTION_NOT_NEEDED, 'it has a leader');
  // Broker 1, the last ISR member, is fenced: no leader, ISR [1].
  h.commit([
    partitionChange(partition().topicId, { isr: [1] }),
    { type: 'FenceBroker', data: { id: 1, epoch: h.epochs.get(1)! } },
    partitionChange(partition().topicId, { leader: -1 }),
  ]);
  assert.is(partition().leader, -1);
  assert.is(code(h.controller.electLeaders(0, asked)), ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
  const unclean = h.controller.electLeaders(1, asked);
  assert.is(code(unclean), ErrorCode.NONE);
  h.commit(unclean.records);
  assert.is(partition().leader, 2);
  assert.equal(partition().isr, [2]);
  // No live replica at all.
  h.commit([
    { type: 'FenceBroker', data: { id: 2, epoch: h.epochs.get(2)! } },
    partitionChange(partition().topicId, { leader: -1 }),
  ]);
  assert.is(code(h.controller.electLeaders(1, asked)), ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);
  assert.is(h.image.digest(), h.follower.digest());
});

test('UnregisterBroker: the broker leaves every ISR, hands over its leaderships and its registration goes', () => {
  const h = harness(3);
  const led = onePartition(h, 'led', [3, 1]);
  const followed = onePartition(h, 'followed', [1, 3]);
  const untouched = onePartition(h, 'untouched', [1, 2]);
  const decision = h.controller.unregisterBroker(3);
  assert.equal(decision.result, { errorCode: ErrorCode.NONE, errorMessage: null });
  h.commit(decision.records);
  assert.not.ok(h.image.brokers.has(3));
  assert.equal([led().leader, led().isr], [1, [1]]);
  assert.equal([followed().leader, followed().isr], [1, [1]]);
  assert.equal([untouched().leader, untouched().isr, untouched().partitionEpoch], [1, [1, 2], 0]);
  assert.is(h.controller.unregisterBroker(3).result.errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
  assert.is(h.image.digest(), h.follower.digest());
});

test.run();
