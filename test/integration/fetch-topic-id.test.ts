// Fetch v13 names topics by topic id (KIP-516), as @platformatic/kafka and the Java client
// send it: a topic's id from Metadata fetches its records; an unknown or zero id gets
// UNKNOWN_TOPIC_ID on each partition; a deleted and recreated topic has a new id, and the
// old id gets UNKNOWN_TOPIC_ID, never the new topic's data.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { splitBatches, RecordBatchView } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Admin } from '../../src/client/admin';
import { Producer } from '../../src/client/producer';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';

let broker: BrokerProcess;
let connection: KafkaConnection;
let admin: Admin;

test.before(async () => {
  broker = await startBroker();
  admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 5000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  admin?.close();
  await broker.stop();
});

async function topicId(name: string): Promise<string> {
  const answer = await connection.request(ApiKey.Metadata, 12, {
    topics: [{ topicId: ZERO_UUID, name }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.is(answer.topics[0].errorCode, ErrorCode.NONE, `metadata of ${name}`);
  return answer.topics[0].topicId;
}

async function produce(name: string, values: string[]): Promise<void> {
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 0 });
  await producer.connect();
  try {
    for (const value of values) await producer.send({ topic: name, partition: 0, value: Buffer.from(value) });
  } finally {
    await producer.close();
  }
}

async function fetchById(id: string) {
  const answer = await connection.request(ApiKey.Fetch, 13, {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topicId: id,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const topic = answer.responses[0];
  const p = topic.partitions[0];
  const records = p.records ?? Buffer.alloc(0);
  const values: string[] = [];
  for (const batch of splitBatches(records).batches)
    for (const record of await new RecordBatchView(batch).records()) values.push(record.value!.toString());
  return { topicId: topic.topicId as string, errorCode: p.errorCode as number, values };
}

test('ApiVersions lists Fetch up to 13', async () => {
  const answer = await connection.request(ApiKey.ApiVersions, 0, {});
  const range = answer.apiKeys.find((k: { apiKey: number }) => k.apiKey === ApiKey.Fetch);
  assert.ok(range!.maxVersion >= 13, `Fetch max ${range!.maxVersion}`);
});

test('Fetch v13 by topic id reads the topic; unknown and zero ids get UNKNOWN_TOPIC_ID', async () => {
  await admin.createTopics([{ name: 'by-id', partitions: 1, replicationFactor: 1 }]);
  await produce('by-id', ['a', 'b']);
  const id = await topicId('by-id');
  assert.is.not(id, ZERO_UUID);
  const fetched = await fetchById(id);
  assert.equal(fetched, { topicId: id, errorCode: ErrorCode.NONE, values: ['a', 'b'] });
  const unknown = Buffer.alloc(16, 7).toString('base64url');
  assert.equal(await fetchById(unknown), { topicId: unknown, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, values: [] });
  assert.equal(await fetchById(ZERO_UUID), { topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, values: [] });
});

test('a recreated topic has a new id; the old id gets UNKNOWN_TOPIC_ID, not the new data', async () => {
  await admin.createTopics([{ name: 'again', partitions: 1, replicationFactor: 1 }]);
  await produce('again', ['old']);
  const oldId = await topicId('again');
  await admin.deleteTopics(['again']);
  await until(async () => (await fetchById(oldId)).errorCode === ErrorCode.UNKNOWN_TOPIC_ID, {
    what: 'the deleted topic gone',
  });
  await admin.createTopics([{ name: 'again', partitions: 1, replicationFactor: 1 }]);
  await produce('again', ['new']);
  const newId = await topicId('again');
  assert.is.not(newId, oldId);
  assert.equal((await fetchById(newId)).values, ['new']);
  assert.equal(await fetchById(oldId), { topicId: oldId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, values: [] });
});

test.run();
