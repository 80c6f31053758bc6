// Limits on what clients can make a broker grow, seen through real requests: a Metadata
// request naming many unknown topics auto-creates at most brook.auto.create.topics.per.second
// of them (the rest are answered as unknown, and can be created once the bucket refills),
// and kafkajs' createTopics past brook.max.partitions gets POLICY_VIOLATION.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { delay } from '../helpers/wait';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker({
    config: {
      'auto.create.topics.enable': 'true',
      'brook.auto.create.topics.per.second': '5',
      'brook.max.partitions': '40',
    },
  });
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  await broker?.stop();
});

async function metadata(names: string[]) {
  const answer = await connection.request(ApiKey.Metadata, 12, {
    topics: names.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation: true,
    includeTopicAuthorizedOperations: false,
  });
  return answer.topics.map((t: { errorCode: number }) => t.errorCode);
}

test('auto-creation is held to its rate; the bucket refills', async () => {
  const names = Array.from({ length: 30 }, (_, i) => `auto-${i}`);
  const codes = await metadata(names);
  const created = codes.filter((code: number) => code === ErrorCode.NONE).length;
  assert.ok(created >= 5 && created <= 7, `created ${created} of 30 at once`);
  assert.ok(codes.every((code: number) => code === ErrorCode.NONE || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  await delay(1200);
  const later = await metadata(names);
  const now = later.filter((code: number) => code === ErrorCode.NONE).length;
  assert.ok(now >= created + 5, `after a second ${now} exist (was ${created})`);
});

test('kafkajs createTopics past brook.max.partitions gets POLICY_VIOLATION', async () => {
  const admin = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    type KafkaJsError = { type?: string; errors?: { type?: string }[]; message?: string };
    const error: KafkaJsError | null = await admin
      .createTopics({ topics: [{ topic: 'too-big', numPartitions: 50 }] })
      .then(() => null)
      .catch((caught: KafkaJsError) => caught);
    const types = [error?.type, ...(error?.errors ?? []).map((e) => e.type)];
    assert.ok(types.includes('POLICY_VIOLATION'), `kafkajs saw ${JSON.stringify(types)} (${error?.message})`);
    assert.not.ok((await admin.listTopics()).includes('too-big'));
  } finally {
    await admin.disconnect();
  }
});

test.run();
