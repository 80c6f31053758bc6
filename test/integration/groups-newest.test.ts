// The group APIs at their newest versions on a real broker, through raw frames: ApiVersions
// advertises them, each new field behaves as Kafka's classic group coordinator answers it,
// bad input gets Kafka's codes, and the group bounds (groups per coordinator, committed
// offsets per group, members' metadata per group, groups or keys per request) hold.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { encodeSubscriptionBytes } from '../../protocol/consumer-protocol';
import { ErrorCode } from '../../protocol/errors';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { Reader } from '../../protocol/primitives';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const GROUPS_MAX = 12;
let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker({
    config: {
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '2',
      'num.partitions': '4',
      'brook.group.coordinator.max.groups': String(GROUPS_MAX),
      'brook.group.max.committed.offsets': '3',
      'brook.max.groups.per.request': '4',
      'brook.group.metadata.max.bytes': '4096',
      'offsets.retention.check.interval.ms': '200',
      'brook.max.partitions.per.request': '50',
    },
  });
  await kcat(broker.port, ['-P', '-t', 'present'], 'x\n');
  connection = new KafkaConnection({
    host: '127.0.0.1',
    port: broker.port,
    requestTimeoutMs: 20000,
    clientId: 'newest',
  });
  await connection.connect();
  await until(
    async () => {
      const found = await connection.request(ApiKey.FindCoordinator, 3, { key: 'probe', keyType: 0 });
      return found.errorCode === ErrorCode.NONE;
    },
    { what: 'the group coordinator to be ready', timeoutMs: 20000 },
  );
});

test.after(async () => {
  connection.close();
  await broker.stop();
});

const commit = (version: number, groupId: string, generation: number, memberId: string, partitions: number[]) =>
  connection.request(ApiKey.OffsetCommit, version, {
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    groupInstanceId: null,
    topics: [
      {
        name: 'present',
        partitions: partitions.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: 10 + partitionIndex,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        })),
      },
    ],
  });

const codes = (answer: { topics: { partitions: { errorCode: number }[] }[] }) =>
  answer.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

const join = (groupId: string, memberId: string, metadata: Buffer) =>
  connection.request(ApiKey.JoinGroup, 9, {
    groupId,
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 6000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata }],
    reason: null,
  });

test('brook.group.max.committed.offsets: commits for further partitions get INVALID_COMMIT_OFFSET_SIZE', async () => {
  // The limit is 3: the fourth partition is refused, the others stored.
  assert.equal(codes(await commit(8, 'simple', -1, '', [0, 1, 2, 3])), [0, 0, 0, ErrorCode.INVALID_COMMIT_OFFSET_SIZE]);
  assert.equal(codes(await commit(8, 'simple', -1, '', [2, 0])), [0, 0], 'partitions already committed still update');
  assert.equal(codes(await commit(2, 'simple', -1, '', [3])), [ErrorCode.INVALID_COMMIT_OFFSET_SIZE]);
});

test("members' metadata in one group: the join that would cross brook.group.metadata.max.bytes gets UNKNOWN_SERVER_ERROR", async () => {
  const first = await join('heavy', '', Buffer.alloc(3000));
  assert.is(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await join('heavy', first.memberId, Buffer.alloc(3000));
  assert.is(joined.errorCode, ErrorCode.NONE);
  const second = await join('heavy', '', Buffer.alloc(2000));
  assert.is(second.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  const small = await join('heavy', '', Buffer.alloc(500));
  assert.is(small.errorCode, ErrorCode.MEMBER_ID_REQUIRED, 'a member that fits may still join');
  await connection.request(ApiKey.LeaveGroup, 5, {
    groupId: 'heavy',
    members: [
      { memberId: joined.memberId, groupInstanceId: null, reason: null },
      { memberId: small.memberId, groupInstanceId: null, reason: null },
    ],
  });
});

test('ApiVersions advertises the newest group versions', async () => {
  const answer = await connection.request(ApiKey.ApiVersions, 3, {
    clientSoftwareName: 'newest',
    clientSoftwareVersion: '1',
  });
  const range = (key: number) => {
    const entry = answer.apiKeys.find((k: { apiKey: number }) => k.apiKey === key)!;
    return `${entry.minVersion}-${entry.maxVersion}`;
  };
  assert.equal(
    [ApiKey.OffsetCommit, ApiKey.OffsetFetch, ApiKey.FindCoordinator, ApiKey.DescribeGroups, ApiKey.ListGroups].map(
      range,
    ),
    ['0-9', '1-9', '0-6', '0-6', '0-5'],
  );
});

test('FindCoordinator v4-v6: batched keys; share and unknown key types INVALID_REQUEST; transactions refused', async () => {
  const groups = await connection.request(ApiKey.FindCoordinator, 6, { keyType: 0, coordinatorKeys: ['a', 'b', ''] });
  assert.equal(
    groups.coordinators.map((c: { key: string; errorCode: number }) => [c.key, c.errorCode]),
    [
      ['a', ErrorCode.NONE],
      ['b', ErrorCode.NONE],
      ['', ErrorCode.NONE],
    ],
  );
  assert.is(groups.coordinators[0].port, broker.port);
  for (const version of [4, 5, 6]) {
    const share = await connection.request(ApiKey.FindCoordinator, version, { keyType: 2, coordinatorKeys: ['s'] });
    assert.is(share.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST, `share key type at v${version}`);
    assert.is(share.coordinators[0].nodeId, -1);
  }
  const unknown = await connection.request(ApiKey.FindCoordinator, 6, { keyType: 9, coordinatorKeys: ['u'] });
  assert.is(unknown.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
  const old = await connection.request(ApiKey.FindCoordinator, 2, { key: 's', keyType: 2 });
  assert.is(old.errorCode, ErrorCode.INVALID_REQUEST, 'a share key before v4');
  const transactions = await connection.request(ApiKey.FindCoordinator, 6, { keyType: 1, coordinatorKeys: ['t'] });
  assert.is(transactions.coordinators[0].errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const tooMany = await connection.request(ApiKey.FindCoordinator, 6, {
    keyType: 0,
    coordinatorKeys: ['1', '2', '3', '4', '5'],
  });
  assert.equal(
    tooMany.coordinators.map((c: { errorCode: number }) => c.errorCode),
    Array(5).fill(ErrorCode.INVALID_REQUEST),
    'past brook.max.groups.per.request',
  );
});

test('OffsetCommit v2-4 retention time: that offset expires after it, the rest stay', async () => {
  const answer = await connection.request(ApiKey.OffsetCommit, 2, {
    groupId: 'short-lived',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    retentionTimeMs: 300,
    topics: [{ name: 'present', partitions: [{ partitionIndex: 0, committedOffset: 4, committedMetadata: null }] }],
  });
  assert.equal(codes(answer), [ErrorCode.NONE]);
  const fetchOffset = async () => {
    const fetched = await connection.request(ApiKey.OffsetFetch, 5, {
      groupId: 'short-lived',
      topics: [{ name: 'present', partitionIndexes: [0] }],
    });
    return Number(fetched.topics[0].partitions[0].committedOffset);
  };
  assert.is(await fetchOffset(), 4);
  await until(async () => (await fetchOffset()) === -1, { what: 'the offset to expire', timeoutMs: 10000 });
  assert.equal(codes(await commit(8, 'simple', -1, '', [0])), [0], 'offsets without a retention time stay');
});

test('OffsetCommit v9: GROUP_ID_NOT_FOUND for a generation into an unknown group, ILLEGAL_GENERATION before', async () => {
  assert.equal(codes(await commit(9, 'ghost', 3, 'm', [0])), [ErrorCode.GROUP_ID_NOT_FOUND]);
  assert.equal(codes(await commit(8, 'ghost', 3, 'm', [0])), [ErrorCode.ILLEGAL_GENERATION], 'v8 keeps the old code');
  // Kafka serves the empty group id in OffsetCommit and OffsetFetch, not in the membership APIs.
  assert.equal(codes(await commit(9, '', -1, '', [0])), [ErrorCode.NONE]);
  assert.is((await join('', '', Buffer.alloc(4))).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal(codes(await commit(9, 'simple', -1, '', [1])), [ErrorCode.NONE]);
});

test('OffsetFetch v9: member id and epoch ignored for classic groups; groups per request bounded', async () => {
  const fetched = await connection.request(ApiKey.OffsetFetch, 9, {
    groups: [
      { groupId: 'simple', memberId: 'someone', memberEpoch: 42, topics: null },
      { groupId: 'nobody', memberId: null, memberEpoch: -1, topics: [{ name: 'present', partitionIndexes: [0] }] },
      { groupId: '', topics: null },
    ],
    requireStable: true,
  });
  const [simple, nobody, empty] = fetched.groups;
  assert.is(simple.errorCode, ErrorCode.NONE);
  assert.equal(
    simple.topics[0].partitions.map((p: { partitionIndex: number; committedOffset: bigint | number }) => [
      p.partitionIndex,
      Number(p.committedOffset),
    ]),
    [
      [0, 10],
      [1, 11],
      [2, 12],
    ],
  );
  assert.equal([nobody.errorCode, Number(nobody.topics[0].partitions[0].committedOffset)], [ErrorCode.NONE, -1]);
  assert.equal([empty.errorCode, Number(empty.topics[0]?.partitions[0]?.committedOffset)], [ErrorCode.NONE, 10]);
  const tooMany = await connection.request(ApiKey.OffsetFetch, 9, {
    groups: ['a', 'b', 'c', 'd', 'e'].map((groupId) => ({ groupId, topics: null })),
    requireStable: false,
  });
  assert.equal(
    tooMany.groups.map((g: { errorCode: number }) => g.errorCode),
    Array(5).fill(ErrorCode.INVALID_REQUEST),
  );
  // A group named twice would answer its offsets twice: refused, so no small request answers more than is stored.
  const repeated = await connection.request(ApiKey.OffsetFetch, 8, {
    groups: [
      { groupId: 'simple', topics: null },
      { groupId: 'simple', topics: null },
    ],
    requireStable: false,
  });
  assert.equal(
    repeated.groups.map((g: { errorCode: number; topics: unknown[] }) => [g.errorCode, g.topics.length]),
    [
      [ErrorCode.INVALID_REQUEST, 0],
      [ErrorCode.INVALID_REQUEST, 0],
    ],
  );
});

test('DescribeGroups v6: an unknown group is GROUP_ID_NOT_FOUND with a message; v5 says Dead with no error', async () => {
  const v6 = await connection.request(ApiKey.DescribeGroups, 6, {
    groups: ['nobody', 'simple'],
    includeAuthorizedOperations: false,
  });
  const [nobody, simple] = v6.groups;
  assert.equal(
    [nobody.errorCode, nobody.errorMessage, nobody.groupState],
    [ErrorCode.GROUP_ID_NOT_FOUND, 'Group nobody not found.', 'Dead'],
  );
  assert.equal([simple.errorCode, simple.errorMessage, simple.groupState], [ErrorCode.NONE, null, 'Empty']);
  const v5 = await connection.request(ApiKey.DescribeGroups, 5, {
    groups: ['nobody'],
    includeAuthorizedOperations: false,
  });
  assert.equal([v5.groups[0].errorCode, v5.groups[0].groupState], [ErrorCode.NONE, 'Dead']);
  const tooMany = await connection.request(ApiKey.DescribeGroups, 6, {
    groups: ['a', 'b', 'c', 'd', 'e'],
    includeAuthorizedOperations: false,
  });
  assert.ok(tooMany.groups.every((g: { errorCode: number }) => g.errorCode === ErrorCode.INVALID_REQUEST));
  const repeated = await connection.request(ApiKey.DescribeGroups, 6, {
    groups: ['simple', 'simple'],
    includeAuthorizedOperations: false,
  });
  assert.ok(repeated.groups.every((g: { errorCode: number }) => g.errorCode === ErrorCode.INVALID_REQUEST));
  const deleted = await connection.request(ApiKey.DeleteGroups, 2, { groupsNames: ['a', 'b', 'c', 'd', 'e'] });
  assert.ok(deleted.results.every((r: { errorCode: number }) => r.errorCode === ErrorCode.INVALID_REQUEST));
});

test('ListGroups v4 state filter and v5 type filter, both case-insensitive', async () => {
  const list = async (version: number, statesFilter: string[], typesFilter: string[] = []) => {
    const answer = await connection.request(ApiKey.ListGroups, version, { statesFilter, typesFilter });
    assert.is(answer.errorCode, ErrorCode.NONE);
    return answer.groups;
  };
  const all = await list(5, []);
  const simple = all.find((g: { groupId: string }) => g.groupId === 'simple');
  assert.equal([simple?.groupState, simple?.groupType], ['Empty', 'classic']);
  assert.is((await list(5, [], ['CLASSIC'])).length, all.length, 'every group is a classic group');
  assert.is((await list(5, [], ['consumer'])).length, 0, 'no KIP-848 consumer groups');
  assert.is((await list(5, [], ['bogus'])).length, 0, 'an unknown type matches nothing');
  assert.ok((await list(4, [' empty '])).some((g: { groupId: string }) => g.groupId === 'simple'));
  assert.is((await list(4, ['Stable'])).filter((g: { groupId: string }) => g.groupId === 'simple').length, 0);
});

test('OffsetDelete: subscribed topics and non-consumer groups with members refused, as Kafka does', async () => {
  const joinAs = async (groupId: string, protocolType: string, metadata: Buffer) => {
    const request = (memberId: string) =>
      connection.request(ApiKey.JoinGroup, 5, {
        groupId,
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 6000,
        memberId,
        groupInstanceId: null,
        protocolType,
        protocols: [{ name: 'range', metadata }],
      });
    const first = await request('');
    const joined = await request(first.memberId);
    assert.is(joined.errorCode, ErrorCode.NONE);
    const synced = await connection.request(ApiKey.SyncGroup, 3, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(0) }],
    });
    assert.is(synced.errorCode, ErrorCode.NONE);
    return joined.memberId;
  };
  const offsetDelete = (groupId: string) =>
    connection.request(ApiKey.OffsetDelete, 0, {
      groupId,
      topics: [{ name: 'present', partitions: [{ partitionIndex: 0 }] }],
    });
  const consumer = await joinAs('subscribed', 'consumer', encodeSubscriptionBytes({ version: 0, topics: ['present'] }));
  const connect = await joinAs('connector', 'connect', Buffer.from('worker'));
  const subscribed = await offsetDelete('subscribed');
  assert.equal(
    [subscribed.errorCode, subscribed.topics[0].partitions[0].errorCode],
    [ErrorCode.NONE, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
  );
  assert.is((await offsetDelete('connector')).errorCode, ErrorCode.NON_EMPTY_GROUP);
  assert.is((await offsetDelete('nobody')).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.is((await offsetDelete('')).errorCode, ErrorCode.INVALID_GROUP_ID);
  const simple = await offsetDelete('simple');
  assert.equal([simple.errorCode, simple.topics[0].partitions[0].errorCode], [ErrorCode.NONE, ErrorCode.NONE]);
  for (const [groupId, memberId] of [
    ['subscribed', consumer],
    ['connector', connect],
  ]) {
    await connection.request(ApiKey.LeaveGroup, 5, {
      groupId,
      members: [{ memberId, groupInstanceId: null, reason: null }],
    });
    // An offset keeps the emptied group from being cleaned up while later tests count groups.
    assert.equal(codes(await commit(8, groupId, -1, '', [1])), [ErrorCode.NONE]);
  }
});

test('brook.max.partitions.per.request bounds OffsetCommit, OffsetFetch and OffsetDelete (INVALID_REQUEST)', async () => {
  const many = Array.from({ length: 51 }, (_, i) => i);
  const committed = await commit(9, 'simple', -1, '', many);
  assert.ok(codes(committed).every((c) => c === ErrorCode.INVALID_REQUEST) && codes(committed).length === 51);
  const fetched = await connection.request(ApiKey.OffsetFetch, 9, {
    groups: [{ groupId: 'simple', topics: [{ name: 'present', partitionIndexes: many }] }],
    requireStable: false,
  });
  assert.is(fetched.groups[0].errorCode, ErrorCode.INVALID_REQUEST);
  const old = await connection.request(ApiKey.OffsetFetch, 5, {
    groupId: 'simple',
    topics: [{ name: 'present', partitionIndexes: many }],
  });
  assert.is(old.errorCode, ErrorCode.INVALID_REQUEST);
  const deleted = await connection.request(ApiKey.OffsetDelete, 0, {
    groupId: 'simple',
    topics: [{ name: 'present', partitions: many.map((partitionIndex) => ({ partitionIndex })) }],
  });
  assert.is(deleted.errorCode, ErrorCode.INVALID_REQUEST);
  const fifty = codes(await commit(9, 'simple', -1, '', many.slice(0, 50)));
  assert.equal([fifty.length, fifty.includes(ErrorCode.INVALID_REQUEST)], [50, false], '50 is still served');
});

test('out-of-range versions: below the served range UNSUPPORTED_VERSION, beyond any schema a close', async () => {
  const frame = encodeRequestFrame(
    { apiKey: ApiKey.OffsetFetch, apiVersion: 0, correlationId: 7, clientId: 't' },
    requestCodec(ApiKey.OffsetFetch, 0),
    { groupId: 'simple', topics: [{ name: 'present', partitionIndexes: [0] }] },
  );
  const answer = await rawRequest(broker.port, frame);
  assert.ok(answer.frame);
  const reader = new Reader(answer.frame!);
  assert.is(reader.int32(), 7);
  const body = responseCodec(ApiKey.OffsetFetch, 0).decode(reader);
  assert.is(body.topics[0].partitions[0].errorCode, ErrorCode.UNSUPPORTED_VERSION);
  for (const [apiKey, version] of [
    [ApiKey.OffsetCommit, 10],
    [ApiKey.OffsetFetch, 10],
    [ApiKey.FindCoordinator, 7],
    [ApiKey.DescribeGroups, 7],
    [ApiKey.ListGroups, 6],
  ]) {
    // Header v2 (flexible): key, version, correlation id, null client id, no tagged fields.
    const header = Buffer.alloc(11);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(8, 4);
    header.writeInt16BE(-1, 8);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + 2);
    const result = await rawRequest(broker.port, Buffer.concat([size, header, Buffer.from([0, 0])]));
    assert.ok(result.closed, `key ${apiKey} v${version} closes the connection`);
  }
});

test('brook.group.coordinator.max.groups: a new group past it gets COORDINATOR_NOT_AVAILABLE until one is deleted', async () => {
  // A connection of its own, so this runs whatever earlier tests did to theirs.
  const own = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 20000, clientId: 'fill' });
  await own.connect();
  const commitOwn = (groupId: string) =>
    own.request(ApiKey.OffsetCommit, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: 'present',
          partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }],
        },
      ],
    });
  const joinOwn = (groupId: string) =>
    own.request(ApiKey.JoinGroup, 5, {
      groupId,
      sessionTimeoutMs: 6000,
      rebalanceTimeoutMs: 6000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(4) }],
    });
  try {
    // Fill until refused (groups with offsets are not cleaned up meanwhile).
    let filled = 0;
    let refused: number[] = [];
    for (; filled <= GROUPS_MAX; filled++) {
      const answer = codes(await commitOwn(`filler-${filled}`));
      if (answer[0] !== ErrorCode.NONE) {
        refused = answer;
        break;
      }
    }
    assert.equal(refused, [ErrorCode.COORDINATOR_NOT_AVAILABLE], `refused after ${filled} new groups`);
    assert.is((await own.request(ApiKey.ListGroups, 3, {})).groups.length, GROUPS_MAX);
    assert.is((await joinOwn('one-too-many')).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal(codes(await commitOwn('simple')), [0], 'existing groups still commit');
    const deleted = await own.request(ApiKey.DeleteGroups, 1, { groupsNames: [`filler-${filled - 1}`] });
    assert.is(deleted.results[0].errorCode, ErrorCode.NONE);
    assert.is((await joinOwn('one-too-many')).errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  } finally {
    own.close();
  }
});

test.run();
