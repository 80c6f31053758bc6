// A topic whose name has the longest length Kafka allows (249 characters) can be created,
// written, deleted and its broker restarted: deleting it renames each partition directory,
// and that name must stay within the file system's 255-byte limit, or the committed delete
// would fail on every replica and again on every replay.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const LONG_NAME = 'x'.repeat(239) + '.long_name';

test('a 249-character topic is created, written, deleted, and the broker restarts', async () => {
  assert.is(LONG_NAME.length, 249);
  const first = await startBroker();
  let second: Awaited<ReturnType<typeof startBroker>> | undefined;
  try {
    const client = (port: number) =>
      new Kafka({
        brokers: [`127.0.0.1:${port}`],
        clientId: 'long-name',
        logLevel: logLevel.NOTHING,
        retry: { retries: 2 },
      });
    const admin = client(first.port).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: LONG_NAME, numPartitions: 12 }], waitForLeaders: true });
    const producer = client(first.port).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let partition = 0; partition < 12; partition++)
      await producer.send({ topic: LONG_NAME, messages: [{ partition, value: `p${partition}` }] });
    await producer.disconnect();
    await admin.deleteTopics({ topics: [LONG_NAME], timeout: 10000 });
    await until(async () => !(await admin.listTopics()).includes(LONG_NAME), {
      what: 'the topic to be gone',
      timeoutMs: 10000,
    });
    await admin.disconnect();
    // The node applied the delete and stays up.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(first.alive(), `broker still running after the delete:\n${first.logs()}`);
    assert.not.match(first.logs(), 'ENAMETOOLONG');

    await first.stop();
    second = await startBroker({ dataDir: first.dataDir });
    const admin2 = client(second.port).admin();
    await admin2.connect();
    await admin2.createTopics({ topics: [{ topic: 'after-restart', numPartitions: 1 }], waitForLeaders: true });
    const producer2 = client(second.port).producer({ allowAutoTopicCreation: false });
    await producer2.connect();
    const [result] = await producer2.send({ topic: 'after-restart', messages: [{ value: 'served' }] });
    assert.is(result.errorCode, 0);
    await producer2.disconnect();
    assert.not.ok((await admin2.listTopics()).includes(LONG_NAME));
    await admin2.disconnect();
  } finally {
    await first.stop();
    await second?.stop();
  }
});

test('a partition whose log cannot be created goes offline; the node stays up and restarts', async () => {
  const first = await startBroker();
  let second: Awaited<ReturnType<typeof startBroker>> | undefined;
  try {
    // A plain file where the partition's directory must go: creating the log fails with an
    // errno on this node only, as a disk fault would.
    fs.writeFileSync(path.join(first.dataDir, 'logs', 'blocked-0'), 'not a directory');
    const client = (port: number) =>
      new Kafka({
        brokers: [`127.0.0.1:${port}`],
        clientId: 'blocked',
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
    const admin = client(first.port).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'blocked', numPartitions: 1 }] });
    await admin.disconnect();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(first.alive(), `broker still running after the failed log creation:\n${first.logs()}`);
    assert.match(first.logs(), 'metadata record not applied on this node');
    const producer = client(first.port).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const error = await producer.send({ topic: 'blocked', messages: [{ value: 'x' }] }).then(
      () => null,
      (e) => e,
    );
    await producer.disconnect();
    assert.ok(error, 'the produce to the offline partition failed');
    // kafkajs names the code by its message: KAFKA_STORAGE_ERROR is "Disk error when trying to access log file on the disk".
    assert.match(String(error), 'Disk error when trying to access log file', String(error));

    // The replay meets the same failure at every start and still comes up.
    await first.stop();
    second = await startBroker({ dataDir: first.dataDir });
    const admin2 = client(second.port).admin();
    await admin2.connect();
    await admin2.createTopics({ topics: [{ topic: 'healthy', numPartitions: 1 }] });
    await admin2.disconnect();
    const producer2 = client(second.port).producer({ allowAutoTopicCreation: false });
    await producer2.connect();
    const [result] = await until(
      () => producer2.send({ topic: 'healthy', messages: [{ value: 'ok' }] }).catch(() => null),
      { what: 'a produce to a new topic', timeoutMs: 10000 },
    );
    assert.is(result.errorCode, 0);
    await producer2.disconnect();
  } finally {
    await first.stop();
    await second?.stop();
  }
});

test.run();
