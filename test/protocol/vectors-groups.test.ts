// Hand-checked bytes for the group APIs at their newest versions (Kafka 4.1's layouts):
// OffsetCommit v9, OffsetFetch v9, FindCoordinator v6, DescribeGroups v6, ListGroups v5.
// Each vector is written out field by field from the message definitions (flexible
// encoding: compact strings and arrays carry length + 1 as an unsigned varint, 0 = null,
// and every struct ends with its tagged-field count, here 00). Each is encoded, decoded and
// re-encoded, and a round trip with every field set covers each new version.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { Reader, Writer } from '../../protocol/primitives';

function encodeRequest(apiKey: number, version: number, value: unknown): string {
  const writer = new Writer();
  requestCodec(apiKey, version).encode(writer, value);
  return writer.toBuffer().toString('hex');
}

function encodeResponse(apiKey: number, version: number, value: unknown): string {
  const writer = new Writer();
  responseCodec(apiKey, version).encode(writer, value);
  return writer.toBuffer().toString('hex');
}

/** Decodes the bytes, checks every byte was read, and that encoding the result gives them back. */
function roundTrip(side: 'request' | 'response', apiKey: number, version: number, hex: string): any {
  const codec = side === 'request' ? requestCodec(apiKey, version) : responseCodec(apiKey, version);
  const reader = new Reader(Buffer.from(hex, 'hex'));
  const decoded = codec.decode(reader);
  assert.is(reader.remaining, 0, 'every byte read');
  const writer = new Writer();
  codec.encode(writer, decoded);
  assert.is(writer.toBuffer().toString('hex'), hex, 'decode then encode gives the same bytes');
  return decoded;
}

/** The parts of `actual` that `expected` names (decoded values also hold defaulted fields). */
function pick(actual: any, expected: any): any {
  if (Array.isArray(expected)) return expected.map((e, i) => pick(actual?.[i], e));
  if (expected && typeof expected === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(expected)) out[key] = pick(actual?.[key], expected[key]);
    return out;
  }
  return typeof actual === 'bigint' ? Number(actual) : actual;
}

test('OffsetCommit v9 request: same layout as v8', () => {
  const request = {
    groupId: 'g',
    generationIdOrMemberEpoch: 1,
    memberId: 'm',
    groupInstanceId: null,
    topics: [
      {
        name: 't',
        partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
  };
  const hex =
    '0267' + // group id "g"
    '00000001' + // generation id (or member epoch) 1
    '026d' + // member id "m"
    '00' + // group instance id null
    '02' + // one topic
    '0274' + // name "t"
    '02' + // one partition
    '00000000' + // partition 0
    '0000000000000005' + // committed offset 5
    'ffffffff' + // committed leader epoch -1
    '00' + // committed metadata null
    '00' + // partition tagged fields
    '00' + // topic tagged fields
    '00'; // request tagged fields
  assert.is(encodeRequest(ApiKey.OffsetCommit, 9, request), hex);
  assert.is(encodeRequest(ApiKey.OffsetCommit, 8, request), hex, 'v8 and v9 share the layout');
  const decoded = roundTrip('request', ApiKey.OffsetCommit, 9, hex);
  assert.is(decoded.generationIdOrMemberEpoch, 1);
  assert.is(decoded.topics[0].partitions[0].committedMetadata, null);

  const response = { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 69 }] }] };
  const responseHex = '00000000' + '02' + '0274' + '02' + '00000000' + '0045' + '00' + '00' + '00';
  assert.is(encodeResponse(ApiKey.OffsetCommit, 9, response), responseHex, 'GROUP_ID_NOT_FOUND (69) per partition');
  roundTrip('response', ApiKey.OffsetCommit, 9, responseHex);
});

test('OffsetFetch v9 request: member id and member epoch after the group id', () => {
  const request = {
    groups: [{ groupId: 'g', memberId: 'm', memberEpoch: 3, topics: null }],
    requireStable: false,
  };
  const hex =
    '02' + // one group
    '0267' + // group id "g"
    '026d' + // member id "m" (v9)
    '00000003' + // member epoch 3 (v9)
    '00' + // topics null: every committed partition
    '00' + // group tagged fields
    '00' + // require stable false
    '00'; // request tagged fields
  assert.is(encodeRequest(ApiKey.OffsetFetch, 9, request), hex);
  const decoded = roundTrip('request', ApiKey.OffsetFetch, 9, hex);
  assert.equal([decoded.groups[0].memberId, decoded.groups[0].memberEpoch], ['m', 3]);

  // Left out, they are a null member id and epoch -1, as Kafka's classic consumers send them.
  const defaults = encodeRequest(ApiKey.OffsetFetch, 9, { groups: [{ groupId: 'g', topics: null }] });
  assert.is(defaults, '02' + '0267' + '00' + 'ffffffff' + '00' + '00' + '00' + '00');
  // v8 has neither field.
  assert.is(encodeRequest(ApiKey.OffsetFetch, 8, request), '02' + '0267' + '00' + '00' + '00' + '00');

  const response = {
    throttleTimeMs: 0,
    groups: [
      {
        groupId: 'g',
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            ],
          },
        ],
        errorCode: 0,
      },
    ],
  };
  const responseHex =
    '00000000' + // throttle time
    '02' + // one group
    '0267' + // "g"
    '02' + // one topic
    '0274' + // "t"
    '02' + // one partition
    '00000000' + // partition 0
    'ffffffffffffffff' + // committed offset -1: none
    'ffffffff' + // leader epoch -1
    '01' + // metadata "" (never null)
    '0000' + // no error
    '00' + // partition tagged fields
    '00' + // topic tagged fields
    '0000' + // group error code
    '00' + // group tagged fields
    '00'; // response tagged fields
  assert.is(encodeResponse(ApiKey.OffsetFetch, 9, response), responseHex);
  roundTrip('response', ApiKey.OffsetFetch, 9, responseHex);
});

test('FindCoordinator v6: a share-group key refused with INVALID_REQUEST', () => {
  const requestHex = '02' + '02' + '0267' + '00'; // key type 2 (share), one key "g", tagged fields
  assert.is(encodeRequest(ApiKey.FindCoordinator, 6, { keyType: 2, coordinatorKeys: ['g'] }), requestHex);
  const decoded = roundTrip('request', ApiKey.FindCoordinator, 6, requestHex);
  assert.equal([decoded.keyType, decoded.coordinatorKeys], [2, ['g']]);
  const response = {
    throttleTimeMs: 0,
    coordinators: [{ key: 'g', nodeId: -1, host: '', port: -1, errorCode: 42, errorMessage: null }],
  };
  const responseHex =
    '00000000' + // throttle time
    '02' + // one coordinator
    '0267' + // key "g"
    'ffffffff' + // node id -1
    '01' + // host ""
    'ffffffff' + // port -1
    '002a' + // INVALID_REQUEST (42)
    '00' + // error message null
    '00' + // coordinator tagged fields
    '00'; // response tagged fields
  assert.is(encodeResponse(ApiKey.FindCoordinator, 6, response), responseHex);
  assert.is(encodeResponse(ApiKey.FindCoordinator, 5, response), responseHex, 'v4-v6 share the layout');
  roundTrip('response', ApiKey.FindCoordinator, 6, responseHex);
});

test('DescribeGroups v6 response: the error message follows the error code', () => {
  const group = {
    errorCode: 69,
    errorMessage: 'x',
    groupId: 'g',
    groupState: 'Dead',
    protocolType: '',
    protocolData: '',
    members: [],
    authorizedOperations: -2147483648,
  };
  const hex =
    '00000000' + // throttle time
    '02' + // one group
    '0045' + // GROUP_ID_NOT_FOUND (69)
    '0278' + // error message "x" (v6)
    '0267' + // group id "g"
    '05' +
    '44656164' + // state "Dead"
    '01' + // protocol type ""
    '01' + // protocol data ""
    '01' + // no members
    '80000000' + // authorized operations: not asked
    '00' + // group tagged fields
    '00'; // response tagged fields
  assert.is(encodeResponse(ApiKey.DescribeGroups, 6, { throttleTimeMs: 0, groups: [group] }), hex);
  const decoded = roundTrip('response', ApiKey.DescribeGroups, 6, hex);
  assert.is(decoded.groups[0].errorMessage, 'x');
  const v5 = encodeResponse(ApiKey.DescribeGroups, 5, { throttleTimeMs: 0, groups: [group] });
  assert.is(v5, hex.replace('00450278', '0045'), 'v5 has no error message');
});

test('ListGroups v5: types filter in the request, group type in the answer', () => {
  const requestHex = '02' + '07537461626c65' + '02' + '08636c6173736963' + '00'; // ["Stable"], ["classic"]
  assert.is(encodeRequest(ApiKey.ListGroups, 5, { statesFilter: ['Stable'], typesFilter: ['classic'] }), requestHex);
  const decoded = roundTrip('request', ApiKey.ListGroups, 5, requestHex);
  assert.equal(decoded.typesFilter, ['classic']);
  assert.is(encodeRequest(ApiKey.ListGroups, 4, { statesFilter: ['Stable'] }), '02' + '07537461626c65' + '00');

  const response = {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }],
  };
  const responseHex =
    '00000000' + // throttle time
    '0000' + // no error
    '02' + // one group
    '0267' + // "g"
    '09636f6e73756d6572' + // protocol type "consumer"
    '07537461626c65' + // state "Stable" (v4+)
    '08636c6173736963' + // type "classic" (v5)
    '00' + // group tagged fields
    '00'; // response tagged fields
  assert.is(encodeResponse(ApiKey.ListGroups, 5, response), responseHex);
  roundTrip('response', ApiKey.ListGroups, 5, responseHex);
});

test('round trips with every field set at each new version', () => {
  const cases: [number, number, 'request' | 'response', unknown][] = [
    [
      ApiKey.OffsetCommit,
      9,
      'request',
      {
        groupId: 'grp',
        generationIdOrMemberEpoch: 7,
        memberId: 'member-1',
        groupInstanceId: 'pod-1',
        topics: [
          {
            name: 'orders',
            partitions: [
              { partitionIndex: 3, committedOffset: 12345678901, committedLeaderEpoch: 4, committedMetadata: 'meta' },
            ],
          },
        ],
      },
    ],
    [
      ApiKey.OffsetFetch,
      9,
      'request',
      {
        groups: [
          { groupId: 'a', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0, 2] }] },
          { groupId: 'b', memberId: 'm', memberEpoch: 9, topics: null },
        ],
        requireStable: true,
      },
    ],
    [ApiKey.FindCoordinator, 5, 'request', { keyType: 0, coordinatorKeys: ['a', 'b'] }],
    [ApiKey.FindCoordinator, 6, 'request', { keyType: 0, coordinatorKeys: ['a', 'b'] }],
    [ApiKey.DescribeGroups, 6, 'request', { groups: ['a', ''], includeAuthorizedOperations: true }],
    [ApiKey.ListGroups, 5, 'request', { statesFilter: [], typesFilter: ['consumer', 'classic'] }],
  ];
  for (const [apiKey, version, side, value] of cases) {
    const hex = side === 'request' ? encodeRequest(apiKey, version, value) : encodeResponse(apiKey, version, value);
    const decoded = roundTrip(side, apiKey, version, hex);
    // Fields absent from a version decode to their defaults; compare the ones sent.
    assert.equal(pick(decoded, value), value, `key ${apiKey} v${version}`);
  }
});

test.run();
