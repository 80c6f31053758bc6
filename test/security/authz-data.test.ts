// The data path under an authorizer, end to end on one SASL_PLAINTEXT (SCRAM-SHA-512) node:
// admin is a super user; alice may only Read topic `a` (and what later tests grant), bob
// may only Write topic `b`. kcat (librdkafka) and kafkajs see Kafka's errors: alice reads a
// but cannot write it or read b, bob writes b but cannot read it; PREFIXED ACLs match by
// prefix; a DENY wins over an ALLOW; Metadata lists only what a principal may Describe and
// auto-creates only with Create; an idempotent producer with Write on a topic but no
// IdempotentWrite works (KIP-679); a client principal posing as a follower is refused.
// ACLs are created as admin through kafkajs's createAcls.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { parseClientSecurity } from '../../src/security/client-config';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { clusterAcl, kafkajsAcl, Op, topicAcl } from '../helpers/acls';
import type { AclBinding } from '../../src/security/acl';
import { kcat } from '../helpers/kcat';
import { freePort } from '../helpers/ports';

const USERS = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' } as const;
type User = keyof typeof USERS;

let running: RunningBroker;
let dataDir: string;
const hasKcat = fs.existsSync('/usr/bin/kcat');

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-authz-data-'));
  const file = `${dataDir}.properties`;
  fs.writeFileSync(
    file,
    [
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      `brook.security.bootstrap.scram.users=${Object.entries(USERS)
        .map(([name, password]) => `SCRAM-SHA-512=[name=${name},password=${password}]`)
        .join(';')}`,
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users=User:admin',
    ].join('\n'),
  );
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
      config: file,
    }),
    silentLogger,
    { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } },
  );
  for (const topic of ['a', 'b', 'pre-x', 'prx', 'd-open', 'd-secret', 'hidden'])
    await running.broker.createTopic(topic, 1, 1, {});
  await grant([topicAcl('alice', Op.READ, 'a'), topicAcl('bob', Op.WRITE, 'b')]);
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(`${dataDir}.properties`, { force: true });
});

/** Creates ACLs as admin (a super user) through kafkajs's createAcls. */
async function grant(bindings: AclBinding[]): Promise<void> {
  const admin = kafkaAs('admin').admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: bindings.map(kafkajsAcl) });
  } finally {
    await admin.disconnect();
  }
}

function kcatAs(user: User, args: string[], input?: string) {
  return kcat(
    running.kafkaPort,
    [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${USERS[user]}`,
      ...args,
    ],
    input,
    10_000,
  );
}

function kafkaAs(user: User, retries = 0) {
  return new Kafka({
    clientId: `authz-${user}`,
    brokers: [`127.0.0.1:${running.kafkaPort}`],
    sasl: { mechanism: 'scram-sha-512', username: user, password: USERS[user] },
    logLevel: logLevel.NOTHING,
    retry: { retries, initialRetryTime: 50 },
    connectionTimeout: 5000,
  });
}

/** A raw connection authenticated as `user`. */
async function connectAs(user: User): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: running.kafkaPort,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 5000,
    security: parseClientSecurity({
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.username': user,
      'sasl.password': USERS[user],
    }),
  });
  await connection.connect();
  return connection;
}

async function withConnection<T>(user: User, work: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = await connectAs(user);
  try {
    return await work(connection);
  } finally {
    connection.close();
  }
}

function fetchRequest(topic: string, replicaId = -1) {
  return {
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** The error of partition 0 of `topic` in a Fetch v12 as `user`. */
function fetchError(user: User, topic: string, replicaId = -1): Promise<number> {
  return withConnection(user, async (c) => {
    const answer = await c.request(ApiKey.Fetch, 12, fetchRequest(topic, replicaId));
    return answer.responses[0].partitions[0].errorCode;
  });
}

/** Produce v9 of one small record batch to partition 0 of `topic` as `user`: the partition's error. */
async function produceError(
  user: User,
  topic: string,
  transaction: { transactionalId: string | null } | null = null,
): Promise<number> {
  const records = encodeRecordBatchSync({
    records: [{ value: Buffer.from('x'), timestamp: Date.now() }],
    ...(transaction ? { producerId: 1000, producerEpoch: 0, baseSequence: 0, isTransactional: true } : {}),
  });
  return withConnection(user, async (c) => {
    const answer = await c.request(ApiKey.Produce, 9, {
      transactionalId: transaction?.transactionalId ?? null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return answer.responses[0].partitionResponses[0].errorCode;
  });
}

test('kcat: alice consumes a but cannot produce to it nor read b; bob produces to b but cannot read it', async () => {
  if (!hasKcat) {
    console.log('skipped: kcat is not installed at /usr/bin/kcat');
    return;
  }
  const seeded = await kcatAs('admin', ['-P', '-t', 'a', '-p', '0'], 'one\ntwo\n');
  assert.is(seeded.code, 0, seeded.stderr);
  const read = await kcatAs('alice', ['-C', '-t', 'a', '-p', '0', '-o', 'beginning', '-e', '-q']);
  assert.is(read.code, 0, read.stderr);
  assert.equal(read.stdout.trim().split('\n'), ['one', 'two']);

  const written = await kcatAs('alice', ['-P', '-t', 'a', '-p', '0'], 'three\n');
  assert.ok(written.code !== 0 || /authoriz/i.test(written.stderr), 'alice wrote to a');
  assert.match(written.stderr, /authoriz/i);
  const other = await kcatAs('alice', ['-C', '-t', 'b', '-p', '0', '-o', 'beginning', '-e', '-q']);
  assert.match(other.stderr, /authoriz/i);

  const produced = await kcatAs('bob', ['-P', '-t', 'b', '-p', '0'], 'for-b\n');
  assert.is(produced.code, 0, produced.stderr);
  assert.not.match(produced.stderr, /authoriz/i);
  const unread = await kcatAs('bob', ['-C', '-t', 'b', '-p', '0', '-o', 'beginning', '-e', '-q']);
  assert.match(unread.stderr, /authoriz/i);
  assert.not.match(unread.stdout, /for-b/);
});

test('Produce and Fetch answer TOPIC_AUTHORIZATION_FAILED, before looking at existence', async () => {
  assert.is(await fetchError('alice', 'a'), ErrorCode.NONE);
  assert.is(await fetchError('alice', 'b'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await fetchError('bob', 'b'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await fetchError('alice', 'no-such-topic'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await fetchError('admin', 'no-such-topic'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.is(await produceError('bob', 'b'), ErrorCode.NONE);
  assert.is(await produceError('alice', 'a'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await produceError('bob', 'no-such-topic'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // A transactional batch needs Write on a transactional id, checked before the topics.
  assert.is(await produceError('bob', 'b', { transactionalId: null }), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.is(await produceError('bob', 'b', { transactionalId: 'tx' }), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
});

test('PREFIXED ACLs match by prefix, and a DENY wins over an ALLOW', async () => {
  await grant([
    topicAcl('alice', Op.READ, 'pre-', { pattern: 'prefixed' }),
    topicAcl('alice', Op.READ, 'd-', { pattern: 'prefixed' }),
    topicAcl('alice', Op.READ, 'd-secret', { deny: true }),
  ]);
  assert.is(await fetchError('alice', 'pre-x'), ErrorCode.NONE);
  assert.is(await fetchError('alice', 'prx'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(await fetchError('alice', 'd-open'), ErrorCode.NONE);
  assert.is(await fetchError('alice', 'd-secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  if (hasKcat) {
    const denied = await kcatAs('alice', ['-C', '-t', 'd-secret', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assert.match(denied.stderr, /authoriz/i);
  }
});

test('Metadata lists only topics the principal may Describe; a named forbidden topic is TOPIC_AUTHORIZATION_FAILED', async () => {
  const admin = kafkaAs('alice').admin();
  await admin.connect();
  try {
    const listed = (await admin.listTopics()).sort();
    assert.ok(listed.includes('a') && listed.includes('pre-x') && listed.includes('d-open'), listed.join());
    assert.not.ok(listed.includes('b') || listed.includes('hidden') || listed.includes('prx'), listed.join());
    // d-secret: Read is denied, Describe (implied by the prefixed Read) is not.
    assert.ok(listed.includes('d-secret'));
    const refused = await admin.fetchTopicMetadata({ topics: ['hidden'] }).then(
      () => null,
      (error: { type?: string }) => error,
    );
    assert.is(refused?.type, 'TOPIC_AUTHORIZATION_FAILED');
  } finally {
    await admin.disconnect();
  }
  // Raw: the forbidden topic comes last, without its id, whether it exists or not.
  const answer = await withConnection('alice', (c) =>
    c.request(ApiKey.Metadata, 12, {
      topics: ['hidden', 'never-made', 'a'].map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: true,
    }),
  );
  assert.equal(
    answer.topics.map((t: { name: string | null; errorCode: number }) => [t.name, t.errorCode]),
    [
      ['a', ErrorCode.NONE],
      ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['never-made', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ],
  );
  assert.is(answer.topics[0].topicAuthorizedOperations, (1 << Op.READ) | (1 << Op.DESCRIBE));
  assert.is(answer.topics[1].topicId, ZERO_UUID);
});

test('auto-creation through Metadata needs Create on the cluster or the topic', async () => {
  await grant([topicAcl('alice', Op.DESCRIBE, 'auto-', { pattern: 'prefixed' })]);
  const ask = (topic: string) =>
    withConnection('alice', (c) =>
      c.request(ApiKey.Metadata, 9, {
        topics: [{ name: topic }],
        allowAutoTopicCreation: true,
        includeTopicAuthorizedOperations: false,
      }),
    );
  const refused = await ask('auto-one');
  assert.is(refused.topics[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.not.ok(running.broker.topics.get('auto-one'), 'created without Create');
  await grant([topicAcl('alice', Op.CREATE, 'auto-', { pattern: 'prefixed' })]);
  const created = await ask('auto-one');
  assert.is(created.topics[0].errorCode, ErrorCode.NONE, JSON.stringify(created.topics[0]));
  assert.ok(running.broker.topics.get('auto-one'));
});

test('an idempotent producer with Write on a topic but no IdempotentWrite works (KIP-679); with neither it is refused', async () => {
  const producer = kafkaAs('bob', 2).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const [sent] = await producer.send({ topic: 'b', acks: -1, messages: [{ value: 'idempotent' }] });
    assert.is(sent.errorCode, 0);
  } finally {
    await producer.disconnect();
  }
  const alice = await withConnection('alice', (c) =>
    c.request(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    }),
  );
  assert.is(alice.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const transactional = await withConnection('bob', (c) =>
    c.request(ApiKey.InitProducerId, 4, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    }),
  );
  assert.is(transactional.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
});

test('ListOffsets, OffsetForLeaderEpoch and DescribeTopicPartitions need Describe; DescribeCluster reports operations', async () => {
  await withConnection('alice', async (c) => {
    const offsets = await c.request(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: ['hidden', 'a'].map((name) => ({
        name,
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }],
      })),
    });
    assert.equal(
      offsets.topics.map((t: { name: string; partitions: { errorCode: number }[] }) => [
        t.name,
        t.partitions[0].errorCode,
      ]),
      [
        ['a', ErrorCode.NONE],
        ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    const epochs = await c.request(ApiKey.OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: ['hidden', 'a'].map((topic) => ({
        topic,
        partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }],
      })),
    });
    assert.equal(
      epochs.topics.map((t: { topic: string; partitions: { errorCode: number }[] }) => [
        t.topic,
        t.partitions[0].errorCode,
      ]),
      [
        ['a', ErrorCode.NONE],
        ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    const described = await c.request(ApiKey.DescribeTopicPartitions, 0, {
      topics: [{ name: 'hidden' }, { name: 'a' }],
      responsePartitionLimit: 100,
      cursor: null,
    });
    assert.equal(
      described.topics.map((t: { name: string | null; errorCode: number }) => [t.name, t.errorCode]),
      [
        ['a', ErrorCode.NONE],
        ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    assert.is(described.topics[1].topicId, ZERO_UUID);
    const every = await c.request(ApiKey.DescribeTopicPartitions, 0, {
      topics: [],
      responsePartitionLimit: 100,
      cursor: null,
    });
    assert.not.ok(every.topics.some((t: { name: string | null }) => t.name === 'hidden' || t.name === 'b'));
    const cluster = await c.request(ApiKey.DescribeCluster, 1, {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
    });
    assert.is(cluster.errorCode, ErrorCode.NONE);
    assert.is(cluster.clusterAuthorizedOperations, 0, 'no Describe on the cluster');
  });
  await grant([clusterAcl('alice', Op.DESCRIBE)]);
  const cluster = await withConnection('alice', (c) =>
    c.request(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }),
  );
  assert.is(cluster.clusterAuthorizedOperations, 1 << Op.DESCRIBE);
});

test('a client principal cannot fake a follower fetch; ClusterAction, not super.users, lets one through', async () => {
  // Replica id 7 is no registered broker: a principal that passes the authorization check
  // meets the identity check next (NOT_LEADER_OR_FOLLOWER) instead.
  const nodeId = running.broker.nodeId;
  for (const replicaId of [nodeId, 7]) {
    const answer = await withConnection('alice', (c) => c.request(ApiKey.Fetch, 12, fetchRequest('a', replicaId)));
    assert.is(answer.errorCode, ErrorCode.NONE);
    assert.is(answer.responses[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }
  assert.is(await fetchError('bob', 'b', 7), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  await grant([clusterAcl('bob', Op.CLUSTER_ACTION)]);
  const past = await withConnection('bob', (c) => c.request(ApiKey.Fetch, 12, fetchRequest('b', 7)));
  assert.is(past.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'bob passed authorization, then the identity check');
  // OffsetForLeaderEpoch: ClusterAction answers topics bob may not Describe.
  const epochs = await withConnection('bob', (c) =>
    c.request(ApiKey.OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'hidden', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    }),
  );
  assert.is(epochs.topics[0].partitions[0].errorCode, ErrorCode.NONE);
});

test.run();
