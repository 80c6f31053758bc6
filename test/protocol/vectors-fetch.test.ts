// Fetch's newest versions, byte by byte: hand-checked vectors for the v15 ReplicaState tag,
// the v16 CurrentLeader and NodeEndpoints tags, the v17 directory id and the v18 high
// watermark tags (layouts from Kafka 4.1's FetchRequest/FetchResponse definitions), and
// round trips of realistic values at every version from 13 to 18.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { FETCH_HIGH_WATERMARK_UNSET } from '../../protocol/apis/01-fetch';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { Reader, Writer } from '../../protocol/primitives';

const TOPIC_ID_HEX = '00112233445566778899aabbccddeeff';
const TOPIC_ID = Buffer.from(TOPIC_ID_HEX, 'hex').toString('base64url');
const FORGOTTEN_ID_HEX = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const FORGOTTEN_ID = Buffer.from(FORGOTTEN_ID_HEX, 'hex').toString('base64url');
const DIRECTORY_ID_HEX = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff';
const DIRECTORY_ID = Buffer.from(DIRECTORY_ID_HEX, 'hex').toString('base64url');

function encodeRequest(version: number, value: unknown): string {
  const writer = new Writer();
  requestCodec(ApiKey.Fetch, version).encode(writer, value as never);
  return writer.toBuffer().toString('hex');
}

function encodeResponse(version: number, value: unknown): string {
  const writer = new Writer();
  responseCodec(ApiKey.Fetch, version).encode(writer, value as never);
  return writer.toBuffer().toString('hex');
}

function followerRequest(partitionTags: Record<string, unknown> = {}) {
  return {
    replicaState: { replicaId: 2, replicaEpoch: 9 },
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1024,
    isolationLevel: 0,
    sessionId: 7,
    sessionEpoch: 3,
    topics: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: 5,
            fetchOffset: 10,
            lastFetchedEpoch: 4,
            logStartOffset: 0,
            partitionMaxBytes: 1024,
            ...partitionTags,
          },
        ],
      },
    ],
    forgottenTopicsData: [{ topicId: FORGOTTEN_ID, partitions: [2] }],
    rackId: '',
  };
}

/** The request body up to the partition's tag section, then what follows it. */
const HEAD =
  '000001f4' + // max wait 500 (no top-level replica id from v15)
  '00000001' + // min bytes
  '00000400' + // max bytes
  '00' + // isolation level
  '00000007' + // session id
  '00000003' + // session epoch
  '02' + // one topic
  TOPIC_ID_HEX +
  '02' + // one partition
  '00000000' + // partition 0
  '00000005' + // current leader epoch
  '000000000000000a' + // fetch offset 10
  '00000004' + // last fetched epoch
  '0000000000000000' + // log start offset
  '00000400'; // partition max bytes
const TAIL =
  '00' + // topic tags
  '02' + // one forgotten topic
  FORGOTTEN_ID_HEX +
  '02' +
  '00000002' + // forgotten partition 2
  '00' + // its tags
  '01' + // rack id ""
  '01' + // one request tag:
  '01' + // tag 1 (ReplicaState),
  '0d' + // 13 bytes:
  '00000002' + // replica id 2
  '0000000000000009' + // replica epoch 9
  '00'; // ReplicaState's tags

test('Fetch v15 request: the replica id and epoch go in the tagged ReplicaState (tag 1), none at the top', () => {
  const hex = HEAD + '00' + TAIL;
  assert.is(encodeRequest(15, followerRequest()), hex);
  const decoded = requestCodec(ApiKey.Fetch, 15).decode(new Reader(Buffer.from(hex, 'hex')));
  assert.equal(decoded.replicaState, { replicaId: 2, replicaEpoch: 9 });
  assert.is(decoded.replicaId, -1, 'the v4-14 field reads as its default');
  assert.is(decoded.topics[0].topicId, TOPIC_ID);
  assert.is(decoded.forgottenTopicsData[0].topicId, FORGOTTEN_ID);
  // The same value at v14 puts the replica id first and has no ReplicaState tag.
  const v14 = encodeRequest(14, { ...followerRequest(), replicaState: undefined, replicaId: 2 });
  assert.ok(v14.startsWith('00000002' + '000001f4'));
  assert.ok(v14.endsWith('01' + '00'), 'rack id "", no request tags');
});

test('Fetch v15 request from a consumer: ReplicaState at its defaults is not written', () => {
  const hex = encodeRequest(15, { ...followerRequest(), replicaState: undefined });
  assert.ok(hex.endsWith('01' + '00'));
  const decoded = requestCodec(ApiKey.Fetch, 15).decode(new Reader(Buffer.from(hex, 'hex')));
  assert.equal(decoded.replicaState, { replicaId: -1, replicaEpoch: -1 });
});

test('Fetch v17 request: the directory id is partition tag 0 (16 bytes)', () => {
  const hex = HEAD + '01' + '00' + '10' + DIRECTORY_ID_HEX + TAIL;
  assert.is(encodeRequest(17, followerRequest({ replicaDirectoryId: DIRECTORY_ID })), hex);
  const decoded = requestCodec(ApiKey.Fetch, 17).decode(new Reader(Buffer.from(hex, 'hex')));
  assert.is(decoded.topics[0].partitions[0].replicaDirectoryId, DIRECTORY_ID);
  // At v16 the field does not exist: the same value writes no partition tag.
  assert.is(encodeRequest(16, followerRequest({ replicaDirectoryId: DIRECTORY_ID })), HEAD + '00' + TAIL);
});

test('Fetch v18 request: the known high watermark is partition tag 1 (8 bytes), Long.MAX_VALUE when unset', () => {
  const hex = HEAD + '02' + '00' + '10' + DIRECTORY_ID_HEX + '01' + '08' + '0000000000000063' + TAIL;
  assert.is(encodeRequest(18, followerRequest({ replicaDirectoryId: DIRECTORY_ID, highWatermark: 99 })), hex);
  const decoded = requestCodec(ApiKey.Fetch, 18).decode(new Reader(Buffer.from(hex, 'hex')));
  assert.is(decoded.topics[0].partitions[0].highWatermark, 99);
  // Not sent: decodes as Long.MAX_VALUE (2^63 as a number), and is not written back.
  const unset = requestCodec(ApiKey.Fetch, 18).decode(new Reader(Buffer.from(HEAD + '00' + TAIL, 'hex')));
  assert.is(unset.topics[0].partitions[0].highWatermark, FETCH_HIGH_WATERMARK_UNSET);
  assert.is(encodeRequest(18, unset), HEAD + '00' + TAIL);
  // Sent explicitly as Long.MAX_VALUE (as Kafka never does, but may): read as unset, not written again.
  const explicit = HEAD + '01' + '01' + '08' + '7fffffffffffffff' + TAIL;
  const read = requestCodec(ApiKey.Fetch, 18).decode(new Reader(Buffer.from(explicit, 'hex')));
  assert.is(read.topics[0].partitions[0].highWatermark, FETCH_HIGH_WATERMARK_UNSET);
  assert.is(encodeRequest(18, read), HEAD + '00' + TAIL);
});

const NOT_LEADER_PARTITION =
  '00000000' + // partition 0
  '0006' + // NOT_LEADER_OR_FOLLOWER
  'ffffffffffffffff' + // high watermark -1
  'ffffffffffffffff' + // last stable offset -1
  'ffffffffffffffff' + // log start offset -1
  '00' + // aborted transactions: null
  'ffffffff' + // preferred read replica -1
  '00'; // records: null

function notLeaderResponse(withLeader: boolean) {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 7,
    responses: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 6,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: null,
            ...(withLeader ? { currentLeader: { leaderId: 2, leaderEpoch: 4 } } : {}),
          },
        ],
      },
    ],
    ...(withLeader ? { nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }] } : {}),
  };
}

test('Fetch v16 response: CurrentLeader (partition tag 1) and NodeEndpoints (top-level tag 0)', () => {
  const hex =
    '00000000' + // throttle time
    '0000' + // error code
    '00000007' + // session id
    '02' + // one topic
    TOPIC_ID_HEX +
    '02' + // one partition
    NOT_LEADER_PARTITION +
    '01' + // one partition tag:
    '01' + // tag 1 (CurrentLeader),
    '09' + // 9 bytes:
    '00000002' + // leader id 2
    '00000004' + // leader epoch 4
    '00' + // its tags
    '00' + // topic tags
    '01' + // one response tag:
    '00' + // tag 0 (NodeEndpoints),
    '0d' + // 13 bytes:
    '02' + // one endpoint
    '00000002' + // node id 2
    '0268' + // host "h"
    '00002384' + // port 9092
    '00' + // rack: null
    '00'; // its tags
  for (const version of [16, 17, 18]) {
    assert.is(encodeResponse(version, notLeaderResponse(true)), hex, `v${version}`);
    const decoded = responseCodec(ApiKey.Fetch, version).decode(new Reader(Buffer.from(hex, 'hex')));
    assert.equal(decoded.responses[0].partitions[0].currentLeader, { leaderId: 2, leaderEpoch: 4 });
    assert.equal(decoded.nodeEndpoints, [{ nodeId: 2, host: 'h', port: 9092, rack: null }]);
  }
  // v15 has CurrentLeader (from v12) but no NodeEndpoints: the endpoints are not written.
  const v15 = encodeResponse(15, notLeaderResponse(true));
  assert.ok(v15.endsWith('00' + '00'), 'topic tags, then no response tags');
  // Nothing to say: no tags at all.
  assert.is(
    encodeResponse(16, notLeaderResponse(false)),
    '00000000' + '0000' + '00000007' + '02' + TOPIC_ID_HEX + '02' + NOT_LEADER_PARTITION + '00' + '00' + '00',
  );
});

test('Fetch v13-v18 round trips with records, aborted transactions and every tag', () => {
  for (let version = 13; version <= 18; version++) {
    const request = {
      clusterId: 'cluster-1',
      replicaId: version <= 14 ? 3 : -1,
      replicaState: version >= 15 ? { replicaId: 3, replicaEpoch: 12 } : undefined,
      maxWaitMs: 250,
      minBytes: 1,
      maxBytes: 50 << 20,
      isolationLevel: 1,
      sessionId: 123456,
      sessionEpoch: 42,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [0, 1].map((p) => ({
            partition: p,
            currentLeaderEpoch: 7,
            fetchOffset: 1000 + p,
            lastFetchedEpoch: 6,
            logStartOffset: 10,
            partitionMaxBytes: 1 << 20,
            ...(version >= 17 ? { replicaDirectoryId: DIRECTORY_ID } : {}),
            ...(version >= 18 ? { highWatermark: 990 } : {}),
          })),
        },
      ],
      forgottenTopicsData: [{ topicId: FORGOTTEN_ID, partitions: [4, 5] }],
      rackId: 'rack-a',
    };
    const bytes = encodeRequest(version, request);
    const decoded = requestCodec(ApiKey.Fetch, version).decode(new Reader(Buffer.from(bytes, 'hex')));
    assert.is(decoded.clusterId, 'cluster-1');
    assert.is(version >= 15 ? decoded.replicaState.replicaId : decoded.replicaId, 3, `v${version} replica id`);
    assert.equal(
      decoded.topics[0].partitions.map((p) => p.fetchOffset),
      [1000, 1001],
    );
    assert.is(
      decoded.topics[0].partitions[1].replicaDirectoryId,
      version >= 17 ? DIRECTORY_ID : 'AAAAAAAAAAAAAAAAAAAAAA',
    );
    assert.is(decoded.topics[0].partitions[1].highWatermark, version >= 18 ? 990 : FETCH_HIGH_WATERMARK_UNSET);
    assert.equal(decoded.forgottenTopicsData[0].partitions, [4, 5]);
    assert.is(encodeRequest(version, decoded), bytes, `v${version} request re-encodes to the same bytes`);

    const records = Buffer.from('000000000000000500000010', 'hex');
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 123456,
      responses: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 1200,
              lastStableOffset: 1100,
              logStartOffset: 10,
              divergingEpoch: { epoch: 5, endOffset: 900 },
              currentLeader: { leaderId: 3, leaderEpoch: 8 },
              snapshotId: { endOffset: 800, epoch: 4 },
              abortedTransactions: [{ producerId: 77, firstOffset: 1050 }],
              preferredReadReplica: -1,
              records,
            },
          ],
        },
      ],
      nodeEndpoints: version >= 16 ? [{ nodeId: 3, host: 'broker-3', port: 9093, rack: 'rack-b' }] : undefined,
    };
    const out = encodeResponse(version, response);
    const back = responseCodec(ApiKey.Fetch, version).decode(new Reader(Buffer.from(out, 'hex')));
    const p = back.responses[0].partitions[0];
    assert.equal(p.divergingEpoch, { epoch: 5, endOffset: 900 });
    assert.equal(p.snapshotId, { endOffset: 800, epoch: 4 });
    assert.equal(p.currentLeader, { leaderId: 3, leaderEpoch: 8 });
    assert.equal(p.abortedTransactions, [{ producerId: 77, firstOffset: 1050 }]);
    assert.is((p.records as Buffer).toString('hex'), records.toString('hex'));
    assert.equal(back.nodeEndpoints, version >= 16 ? response.nodeEndpoints : []);
    assert.is(encodeResponse(version, back), out, `v${version} response re-encodes to the same bytes`);
  }
});

test.run();
