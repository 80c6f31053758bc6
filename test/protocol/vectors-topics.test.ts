// Kafka 4.1's newest versions of the topic, admin and produce APIs: a round trip of a
// realistic value through every version added (Produce 10-13, ListOffsets 8-10, Metadata 13,
// ApiVersions 4, InitProducerId 5, AlterPartitionReassignments 1, DescribeCluster 0-2,
// DescribeTopicPartitions 0), and byte vectors written out by hand from the 4.1 message
// definitions (field order, compact encodings, tagged fields, nullable structs), so a codec
// that round-trips its own mistakes still fails here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { Reader, Writer, ZERO_UUID } from '../../protocol/primitives';

const TOPIC_ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
const TOPIC_ID_HEX = '00112233445566778899aabbccddeeff';

function encode(codec: { encode(w: Writer, v: never): void }, value: unknown): Buffer {
  const writer = new Writer(64);
  codec.encode(writer, value as never);
  return writer.toBuffer();
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Every field given in `expected` (recursively) has that value in `actual`; others are defaults. */
function contains(actual: unknown, expected: unknown, where: string): void {
  if (expected !== null && typeof expected === 'object' && !Buffer.isBuffer(expected)) {
    assert.ok(actual !== null && typeof actual === 'object', `${where}: an object or array`);
    if (Array.isArray(expected)) assert.is((actual as unknown[]).length, expected.length, `${where}: length`);
    for (const [key, v] of Object.entries(expected))
      contains((actual as Record<string, unknown>)[key], v, `${where}.${key}`);
    return;
  }
  assert.equal(actual, expected, where);
}

/** Encodes, decodes and re-encodes; the decoded value must contain `value` and the bytes must agree. */
function roundTrip(kind: 'request' | 'response', apiKey: number, version: number, value: Record<string, unknown>) {
  const codec = kind === 'request' ? requestCodec(apiKey, version) : responseCodec(apiKey, version);
  const bytes = encode(codec, value);
  const decoded = codec.decode(new Reader(bytes)) as Record<string, unknown>;
  contains(decoded, value, `${kind} ${apiKey} v${version}`);
  assert.equal(encode(codec, decoded), bytes, `${kind} ${apiKey} v${version} re-encodes to the same bytes`);
  return decoded;
}

const producePartition = {
  index: 3,
  errorCode: 6,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: 12,
  recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: 'bad' }],
  errorMessage: 'not the leader',
  currentLeader: { leaderId: 2, leaderEpoch: 7 },
};

test('Produce 10-13 round trip; names up to 12, topic ids from 13, leader hints from 10', () => {
  for (const version of [10, 11, 12, 13]) {
    const request = roundTrip('request', ApiKey.Produce, version, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          ...(version >= 13 ? { topicId: TOPIC_ID } : { name: 'orders' }),
          partitionData: [{ index: 3, records: Buffer.from('abc') }],
        },
      ],
    });
    const topic = (request.topicData as { name: string; topicId: string }[])[0];
    if (version >= 13) assert.is(topic.name, '', 'v13 has no name on the wire');
    else assert.is(topic.topicId, ZERO_UUID, 'v10-12 have no topic id on the wire');
    roundTrip('response', ApiKey.Produce, version, {
      responses: [
        { ...(version >= 13 ? { topicId: TOPIC_ID } : { name: 'orders' }), partitionResponses: [producePartition] },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'b2', port: 9093, rack: null }],
    });
  }
  // Before v10 the hints are not on the wire: they decode as their defaults.
  const v9 = responseCodec(ApiKey.Produce, 9);
  const back = v9.decode(
    new Reader(encode(v9, { responses: [{ name: 't', partitionResponses: [producePartition] }], throttleTimeMs: 0 })),
  );
  assert.equal(back.responses[0].partitionResponses[0].currentLeader, { leaderId: -1, leaderEpoch: -1 });
  assert.equal(back.nodeEndpoints, []);
});

test('Produce v13 request, by hand', () => {
  const bytes = encode(requestCodec(ApiKey.Produce, 13), {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ topicId: TOPIC_ID, partitionData: [{ index: 0, records: null }] }],
  });
  assert.is(
    bytes.toString('hex'),
    hex(`00 ffff 000003e8
      02 ${TOPIC_ID_HEX}
        02 00000000 00 00
      00
      00`).toString('hex'),
  );
});

test('Produce v13 response with KIP-951 tagged fields, by hand', () => {
  const bytes = encode(responseCodec(ApiKey.Produce, 13), {
    responses: [
      {
        topicId: TOPIC_ID,
        partitionResponses: [
          {
            index: 0,
            errorCode: 6,
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: 2, leaderEpoch: 7 },
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
  });
  assert.is(
    bytes.toString('hex'),
    hex(`02 ${TOPIC_ID_HEX}
      02 00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00
        01 00 09 00000002 00000007 00
      00
      00000000
      01 00 0d 02 00000002 0268 00002384 00 00`).toString('hex'),
  );
  // A partition without a leader hint writes no tagged field at all.
  const plain = encode(responseCodec(ApiKey.Produce, 13), {
    responses: [{ topicId: TOPIC_ID, partitionResponses: [{ ...producePartition, currentLeader: undefined }] }],
    throttleTimeMs: 0,
  });
  assert.ok(plain.toString('hex').endsWith('00' + '00' + '00000000' + '00'), plain.toString('hex'));
});

test('ListOffsets 8-10 round trip; v10 timeout, by hand', () => {
  for (const version of [8, 9, 10]) {
    roundTrip('request', ApiKey.ListOffsets, version, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 4, timestamp: -(version - 4) }] }],
      ...(version >= 10 ? { timeoutMs: 5000 } : {}),
    });
    roundTrip('response', ApiKey.ListOffsets, version, {
      throttleTimeMs: 0,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 42, leaderEpoch: 3 }] },
      ],
    });
  }
  const bytes = encode(requestCodec(ApiKey.ListOffsets, 10), {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -4 }] }],
    timeoutMs: 5000,
  });
  assert.is(
    bytes.toString('hex'),
    hex(`ffffffff 00
      02 0274 02 00000000 ffffffff fffffffffffffffc 00 00
      00001388 00`).toString('hex'),
  );
});

test('Metadata 13: the top-level error code after the topics, by hand', () => {
  const value = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
    clusterId: 'c',
    controllerId: 1,
    topics: [],
    errorCode: 129,
  };
  roundTrip('response', ApiKey.Metadata, 13, value);
  roundTrip('request', ApiKey.Metadata, 13, {
    topics: [{ topicId: TOPIC_ID, name: null }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.is(
    encode(responseCodec(ApiKey.Metadata, 13), value).toString('hex'),
    hex(`00000000
      02 00000001 0268 00002384 00 00
      0263 00000001
      01
      0081 00`).toString('hex'),
  );
  // v12 has no such field: the same value encodes without it.
  assert.is(encode(responseCodec(ApiKey.Metadata, 12), value).length, 25);
});

test('ApiVersions 4: same layout as 3, features as tagged fields, by hand', () => {
  const value = {
    errorCode: 0,
    apiKeys: [{ apiKey: 75, minVersion: 0, maxVersion: 0 }],
    throttleTimeMs: 0,
    supportedFeatures: [{ name: 'group.version', minVersion: 0, maxVersion: 0 }],
    finalizedFeaturesEpoch: 5,
    finalizedFeatures: [{ name: 'metadata.version', maxVersionLevel: 27, minVersionLevel: 27 }],
  };
  roundTrip('response', ApiKey.ApiVersions, 4, value);
  roundTrip('request', ApiKey.ApiVersions, 4, { clientSoftwareName: 'brook', clientSoftwareVersion: '1.0' });
  const name = Buffer.from('group.version').toString('hex');
  const metadata = Buffer.from('metadata.version').toString('hex');
  assert.is(
    encode(responseCodec(ApiKey.ApiVersions, 4), value).toString('hex'),
    hex(`0000 02 004b 0000 0000 00 00000000
      03
      00 14 02 0e${name} 0000 0000 00
      01 08 0000000000000005
      02 17 02 11${metadata} 001b 001b 00`).toString('hex'),
  );
});

test('InitProducerId 5 round trip', () => {
  roundTrip('request', ApiKey.InitProducerId, 5, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: 7,
    producerEpoch: 2,
  });
  roundTrip('response', ApiKey.InitProducerId, 5, { throttleTimeMs: 0, errorCode: 0, producerId: 7, producerEpoch: 3 });
});

test('AlterPartitionReassignments 1: allowReplicationFactorChange in both directions, by hand', () => {
  const request = {
    timeoutMs: 30000,
    allowReplicationFactorChange: false,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, replicas: [1, 2] }] }],
  };
  roundTrip('request', ApiKey.AlterPartitionReassignments, 1, request);
  assert.is(
    encode(requestCodec(ApiKey.AlterPartitionReassignments, 1), request).toString('hex'),
    hex(`00007530 00 02 0274 02 00000000 03 00000001 00000002 00 00 00`).toString('hex'),
  );
  const response = {
    throttleTimeMs: 0,
    allowReplicationFactorChange: false,
    errorCode: 0,
    errorMessage: null,
    responses: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, errorCode: 38, errorMessage: 'The replication factor is changed from 1 to 2' },
        ],
      },
    ],
  };
  roundTrip('response', ApiKey.AlterPartitionReassignments, 1, response);
  // v0 has no flag; decoded, it is Kafka's default (true).
  const v0 = requestCodec(ApiKey.AlterPartitionReassignments, 0);
  assert.is(v0.decode(new Reader(encode(v0, request))).allowReplicationFactorChange, true);
});

test('DescribeCluster 0-2 round trip; v2 request and response, by hand', () => {
  for (const version of [0, 1, 2]) {
    roundTrip('request', ApiKey.DescribeCluster, version, {
      includeClusterAuthorizedOperations: true,
      ...(version >= 1 ? { endpointType: 1 } : {}),
      ...(version >= 2 ? { includeFencedBrokers: true } : {}),
    });
    roundTrip('response', ApiKey.DescribeCluster, version, {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      ...(version >= 1 ? { endpointType: 1 } : {}),
      clusterId: 'cluster',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'h', port: 9092, rack: 'r1', ...(version >= 2 ? { isFenced: true } : {}) }],
      clusterAuthorizedOperations: 8096,
    });
  }
  assert.is(
    encode(requestCodec(ApiKey.DescribeCluster, 2), {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
      includeFencedBrokers: true,
    }).toString('hex'),
    '00010100',
  );
  assert.is(
    encode(responseCodec(ApiKey.DescribeCluster, 2), {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'c',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'h', port: 9092, rack: null, isFenced: true }],
      clusterAuthorizedOperations: -2147483648,
    }).toString('hex'),
    hex(`00000000 0000 00 01 0263 00000001
      02 00000001 0268 00002384 00 01 00
      80000000 00`).toString('hex'),
  );
});

test('DescribeTopicPartitions 0: the nullable cursor, by hand', () => {
  const withCursor = {
    topics: [{ name: 't' }],
    responsePartitionLimit: 5,
    cursor: { topicName: 't', partitionIndex: 2 },
  };
  roundTrip('request', ApiKey.DescribeTopicPartitions, 0, withCursor);
  assert.is(
    encode(requestCodec(ApiKey.DescribeTopicPartitions, 0), withCursor).toString('hex'),
    hex(`02 0274 00 00000005 01 0274 00000002 00 00`).toString('hex'),
  );
  const noCursor = { topics: [], responsePartitionLimit: 2000, cursor: null };
  roundTrip('request', ApiKey.DescribeTopicPartitions, 0, noCursor);
  assert.is(
    encode(requestCodec(ApiKey.DescribeTopicPartitions, 0), noCursor).toString('hex'),
    hex(`01 000007d0 ff 00`).toString('hex'),
  );
  // Left out, the cursor is null and the limit Kafka's default of 2000.
  assert.is(encode(requestCodec(ApiKey.DescribeTopicPartitions, 0), { topics: [] }).toString('hex'), '01000007d0ff00');

  const response = {
    throttleTimeMs: 0,
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: TOPIC_ID,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 3,
            replicaNodes: [1],
            isrNodes: [1],
            eligibleLeaderReplicas: [],
            lastKnownElr: [],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: 3576,
      },
    ],
    nextCursor: { topicName: 't', partitionIndex: 1 },
  };
  roundTrip('response', ApiKey.DescribeTopicPartitions, 0, response);
  assert.is(
    encode(responseCodec(ApiKey.DescribeTopicPartitions, 0), response).toString('hex'),
    hex(`00000000
      02 0000 0274 ${TOPIC_ID_HEX} 00
        02 0000 00000000 00000001 00000003 02 00000001 02 00000001 01 01 01 00
        00000df8 00
      01 0274 00000001 00
      00`).toString('hex'),
  );
  // A null cursor and null ELR lists decode as null.
  const nulls = {
    ...response,
    topics: [
      {
        ...response.topics[0],
        partitions: [{ ...response.topics[0].partitions[0], eligibleLeaderReplicas: null, lastKnownElr: null }],
      },
    ],
    nextCursor: null,
  };
  const back = roundTrip('response', ApiKey.DescribeTopicPartitions, 0, nulls);
  assert.is(back.nextCursor, null);
});

test.run();
