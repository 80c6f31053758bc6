// Incremental fetch sessions (KIP-227) on a real broker: a full fetch opens a session, an
// incremental one answers only partitions with news, and every session mistake (unknown id,
// wrong epoch, ids in a session opened by name, an evicted or closed session) gets Kafka's
// top-level error with no partition and no data, one of them as hand-made bytes (and a
// truncated ReplicaState tag closes only its connection). Fetch by
// topic id: unknown and zero ids get UNKNOWN_TOPIC_ID next to a known id's data. kcat
// (librdkafka sends no sessions) and the bundled consumer (which opens one) both read.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput } from '../../protocol/apis';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Admin } from '../../src/client/admin';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { API_VERSIONS_V0, BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const TOPIC = 'sessions';
let broker: BrokerProcess;
let connection: KafkaConnection;
let admin: Admin;
let topicId = ZERO_UUID;

type FetchBody = RequestInput<typeof ApiKey.Fetch>;

function partition(index: number, fetchOffset = 0) {
  return {
    partition: index,
    currentLeaderEpoch: -1,
    fetchOffset,
    lastFetchedEpoch: -1,
    logStartOffset: -1,
    partitionMaxBytes: 1 << 20,
  };
}

function body(sessionId: number, sessionEpoch: number, topics: FetchBody['topics'], more: Partial<FetchBody> = {}) {
  return {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData: [],
    rackId: '',
    ...more,
  } satisfies FetchBody;
}

async function produce(partitionIndex: number, values: string[]): Promise<void> {
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 0 });
  await producer.connect();
  try {
    for (const value of values)
      await producer.send({ topic: TOPIC, partition: partitionIndex, value: Buffer.from(value) });
  } finally {
    await producer.close();
  }
}

/** Partitions of an answer as "topic-partition:records?" strings. */
function carried(answer: {
  responses: { topic: string; partitions: { partitionIndex: number; records: Buffer | null }[] }[];
}) {
  return answer.responses.flatMap((t) =>
    t.partitions.map((p) => `${t.topic}-${p.partitionIndex}:${p.records && p.records.length > 0 ? 'data' : 'none'}`),
  );
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

test.before(async () => {
  broker = await startBroker({
    http: true,
    config: { 'max.incremental.fetch.session.cache.slots': '3', 'brook.fetch.session.eviction.ms': '400' },
  });
  admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  [{ topicId }] = await admin.createTopics([{ name: TOPIC, partitions: 2 }]);
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 5000 });
  await connection.connect();
  await produce(0, ['a', 'b']);
  await produce(1, ['c']);
});

test.after(async () => {
  connection?.close();
  admin?.close();
  await broker?.stop();
});

test('a full fetch opens a session; incremental fetches carry only partitions with news', async () => {
  const full = await connection.request(
    ApiKey.Fetch,
    12,
    body(0, 0, [{ topic: TOPIC, partitions: [partition(0), partition(1)] }]),
  );
  assert.is(full.errorCode, ErrorCode.NONE);
  assert.ok(full.sessionId > 0, 'a session was opened');
  assert.equal(carried(full), [`${TOPIC}-0:data`, `${TOPIC}-1:data`]);
  const id = full.sessionId;
  // The fetcher moves both positions on: both are named (changed), nothing new is there.
  const moved = await connection.request(
    ApiKey.Fetch,
    12,
    body(id, 1, [{ topic: TOPIC, partitions: [partition(0, 2), partition(1, 1)] }]),
  );
  assert.is(moved.errorCode, ErrorCode.NONE);
  assert.is(moved.sessionId, id);
  assert.equal(carried(moved), []);
  // Nothing named: the session still fetches both; a record on partition 1 is all that comes.
  await produce(1, ['d']);
  const news = await connection.request(ApiKey.Fetch, 12, body(id, 2, []));
  assert.equal(carried(news), [`${TOPIC}-1:data`]);
  // Partition 0 forgotten: a record there no longer comes back in this fetch session.
  await produce(0, ['e']);
  const forgot = await connection.request(
    ApiKey.Fetch,
    12,
    body(id, 3, [{ topic: TOPIC, partitions: [partition(1, 2)] }], {
      forgottenTopicsData: [{ topic: TOPIC, partitions: [0] }],
    }),
  );
  assert.equal(carried(forgot), []);
  // Epoch -1 closes it: the answer is sessionless, and the id is gone afterwards.
  const closing = await connection.request(
    ApiKey.Fetch,
    12,
    body(id, -1, [{ topic: TOPIC, partitions: [partition(1, 2)] }]),
  );
  assert.is(closing.sessionId, 0);
  assert.equal(carried(closing), [`${TOPIC}-1:none`]);
  const after = await connection.request(ApiKey.Fetch, 12, body(id, 5, []));
  assert.is(after.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  assert.equal(after.responses, []);
});

test('session errors: no partition, no data, and the session is unharmed', async () => {
  const full = await connection.request(ApiKey.Fetch, 12, body(0, 0, [{ topic: TOPIC, partitions: [partition(0)] }]));
  const id = full.sessionId;
  assert.ok(id > 0);
  const cases: [string, number, FetchBody, number][] = [
    [
      'unknown id',
      12,
      body(id ^ 0x5a5a5a, 1, [{ topic: TOPIC, partitions: [partition(0)] }]),
      ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    ],
    [
      'session id 0, epoch 1',
      12,
      body(0, 1, [{ topic: TOPIC, partitions: [partition(0)] }]),
      ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    ],
    [
      'epoch ahead',
      12,
      body(id, 2, [{ topic: TOPIC, partitions: [partition(0)] }]),
      ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    ],
    ['negative epoch', 12, body(id, -7, []), ErrorCode.INVALID_FETCH_SESSION_EPOCH],
    [
      'ids in a named session',
      13,
      body(id, 1, [{ topicId, partitions: [partition(0)] }]),
      ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
    ],
  ];
  for (const [what, version, request, errorCode] of cases) {
    const answer = await connection.request(ApiKey.Fetch, version, request);
    assert.is(answer.errorCode, errorCode, what);
    assert.is(answer.sessionId, 0, what);
    assert.equal(answer.responses, [], what);
  }
  // The session survived the noise: epoch 1 is still the one it expects.
  const next = await connection.request(ApiKey.Fetch, 12, body(id, 1, []));
  assert.is(next.errorCode, ErrorCode.NONE);
  assert.is(next.sessionId, id);
  // The same epoch again (a duplicate) is refused.
  const duplicate = await connection.request(ApiKey.Fetch, 12, body(id, 1, []));
  assert.is(duplicate.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  // Epoch 0 with the id: that session is closed and a new one opened in its place.
  const reopened = await connection.request(
    ApiKey.Fetch,
    12,
    body(id, 0, [{ topic: TOPIC, partitions: [partition(0)] }]),
  );
  assert.is(reopened.errorCode, ErrorCode.NONE);
  assert.ok(reopened.sessionId > 0 && reopened.sessionId !== id);
  const old = await connection.request(ApiKey.Fetch, 12, body(id, 2, []));
  assert.is(old.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  await connection.request(ApiKey.Fetch, 12, body(reopened.sessionId, -1, []));
});

test('hand-made bytes: Fetch v7 naming a session the broker never opened', async () => {
  // Fetch v7: replica -1, max wait 0, min bytes 0, max bytes 1024, isolation 0,
  // session id 0x01020304, epoch 1, no topics, no forgotten topics.
  const payload =
    '0001' +
    '0007' +
    '0000002a' +
    '0004' +
    Buffer.from('hand').toString('hex') +
    'ffffffff' +
    '00000000' +
    '00000000' +
    '00000400' +
    '00' +
    '01020304' +
    '00000001' +
    '00000000' +
    '00000000';
  const frame = Buffer.from(payload, 'hex');
  const length = Buffer.alloc(4);
  length.writeInt32BE(frame.length);
  const { frame: answer } = await rawRequest(broker.port, Buffer.concat([length, frame]));
  assert.ok(answer, 'answered');
  // correlation id, throttle time, error code 70 (FETCH_SESSION_ID_NOT_FOUND), session id 0, no topics.
  assert.is(answer!.toString('hex'), '0000002a' + '00000000' + '0046' + '00000000' + '00000000');
});

test('hand-made bytes: a Fetch v15 whose ReplicaState tag claims more bytes than it has closes only that connection', async () => {
  // Header v2 (flexible): key 1, version 15, correlation 43, client id "hand", no header tags.
  const header = '0001' + '000f' + '0000002b' + '0004' + Buffer.from('hand').toString('hex') + '00';
  const body =
    '00000000' +
    '00000000' +
    '00000400' +
    '00' +
    '00000000' +
    'ffffffff' + // wait, min, max, isolation, session
    '01' +
    '01' +
    '01' + // no topics, no forgotten topics, rack id ""
    '01' +
    '01' +
    '0d' +
    '0000'; // one tag: ReplicaState (tag 1), 13 bytes promised, 2 given
  const frame = Buffer.from(header + body, 'hex');
  const length = Buffer.alloc(4);
  length.writeInt32BE(frame.length);
  const { frame: answer, closed } = await rawRequest(broker.port, Buffer.concat([length, frame]));
  assert.is(answer, null);
  assert.ok(closed, 'the connection is closed');
  const { frame: still } = await rawRequest(broker.port, API_VERSIONS_V0);
  assert.ok(still, 'the broker answers others');
});

test('eviction: a session idle past brook.fetch.session.eviction.ms gives way; its next fetch is told so', async () => {
  const opened: number[] = [];
  for (let i = 0; i < 3; i++) {
    const answer = await connection.request(
      ApiKey.Fetch,
      12,
      body(0, 0, [{ topic: TOPIC, partitions: [partition(i % 2)] }]),
    );
    opened.push(answer.sessionId);
  }
  assert.ok(opened.every((id) => id > 0));
  // The cache is full (3 slots) and every session young: a fourth consumer session is not opened.
  const refused = await connection.request(
    ApiKey.Fetch,
    12,
    body(0, 0, [{ topic: TOPIC, partitions: [partition(0)] }]),
  );
  assert.is(refused.errorCode, ErrorCode.NONE);
  assert.is(refused.sessionId, 0);
  assert.equal(carried(refused), [`${TOPIC}-0:data`]);
  // Keep the last two in use; the first goes idle past 400 ms and is evicted by a new session.
  await new Promise((r) => setTimeout(r, 450));
  await connection.request(ApiKey.Fetch, 12, body(opened[1], 1, []));
  await connection.request(ApiKey.Fetch, 12, body(opened[2], 1, []));
  const fresh = await connection.request(ApiKey.Fetch, 12, body(0, 0, [{ topic: TOPIC, partitions: [partition(1)] }]));
  assert.ok(fresh.sessionId > 0);
  assert.ok((await metric('brook_fetch_session_evictions_total')) >= 1);
  const evicted = await connection.request(
    ApiKey.Fetch,
    12,
    body(opened[0], 1, [{ topic: TOPIC, partitions: [partition(0)] }]),
  );
  assert.is(evicted.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  assert.equal(evicted.responses, []);
  for (const id of [opened[1], opened[2], fresh.sessionId])
    await connection.request(ApiKey.Fetch, 12, body(id, -1, []));
  assert.is(await metric('brook_fetch_sessions'), 0);
});

test('by topic id (v18): unknown and zero ids get UNKNOWN_TOPIC_ID beside a known id with data; forgotten by id', async () => {
  const unknown = 'AAECAwQFBgcICQoLDA0ODw';
  const answer = await connection.request(
    ApiKey.Fetch,
    18,
    body(0, 0, [
      { topicId, partitions: [partition(0)] },
      { topicId: unknown, partitions: [partition(0)] },
      { topicId: ZERO_UUID, partitions: [partition(3)] },
    ]),
  );
  assert.is(answer.errorCode, ErrorCode.NONE);
  assert.ok(answer.sessionId > 0);
  const codes = answer.responses.flatMap((t) => t.partitions.map((p) => [t.topicId, p.partitionIndex, p.errorCode]));
  assert.equal(codes, [
    [topicId, 0, ErrorCode.NONE],
    [unknown, 0, ErrorCode.UNKNOWN_TOPIC_ID],
    [ZERO_UUID, 3, ErrorCode.UNKNOWN_TOPIC_ID],
  ]);
  assert.ok((answer.responses[0].partitions[0].records as Buffer).length > 0);
  // Incremental: the unknown ids' errors come every time, the known partition only with news.
  const next = await connection.request(
    ApiKey.Fetch,
    18,
    body(answer.sessionId, 1, [{ topicId, partitions: [partition(0, 3)] }], {
      forgottenTopicsData: [{ topicId: ZERO_UUID, partitions: [3] }],
    }),
  );
  assert.equal(
    next.responses.flatMap((t) => t.partitions.map((p) => [t.topicId, p.errorCode])),
    [[unknown, ErrorCode.UNKNOWN_TOPIC_ID]],
  );
  // A session by id cannot go on by name.
  const byName = await connection.request(ApiKey.Fetch, 12, body(answer.sessionId, 2, []));
  assert.is(byName.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
  await connection.request(ApiKey.Fetch, 18, body(answer.sessionId, -1, []));
});

test('kcat (no sessions) and the bundled consumer (a session per leader) read the same records', async () => {
  const read = await kcat(broker.port, ['-C', '-t', TOPIC, '-o', 'beginning', '-e', '-f', '%p:%s\\n']);
  assert.is(read.code, 0, read.stderr);
  const byKcat = read.stdout.trim().split('\n').sort();
  assert.equal(byKcat, ['0:a', '0:b', '0:e', '1:c', '1:d']);
  const consumer = new Consumer({ bootstrap: [`127.0.0.1:${broker.port}`], maxWaitMs: 100 });
  try {
    consumer.assign([
      { topic: TOPIC, partition: 0, offset: 'earliest' },
      { topic: TOPIC, partition: 1, offset: 'earliest' },
    ]);
    const seen: string[] = [];
    await until(
      async () => {
        const record = await consumer.next();
        if (record) seen.push(`${record.partition}:${record.value}`);
        return seen.length >= 5;
      },
      { what: 'five records through the bundled consumer' },
    );
    // A record produced now arrives through the consumer's incremental fetches.
    await produce(1, ['f']);
    await until(
      async () => {
        const record = await consumer.next();
        if (record) seen.push(`${record.partition}:${record.value}`);
        return seen.includes('1:f');
      },
      { what: 'the new record' },
    );
    assert.equal(seen.sort(), [...byKcat, '1:f'].sort());
    assert.ok((await metric('brook_fetch_sessions')) >= 1, 'the consumer fetches in a session');
  } finally {
    await consumer.close();
  }
  // The broker is still well after all of it.
  const { frame } = await rawRequest(broker.port, API_VERSIONS_V0);
  assert.ok(frame);
});

test.run();
