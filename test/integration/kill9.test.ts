// Durability under kill -9: every acknowledged record is readable after a restart, exactly
// once and in order, even when the broker is killed while producers are mid-stream.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

test('acknowledged writes survive kill -9 mid-stream', async () => {
  const first = await startBroker();
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${first.port}`],
    clientId: 'kill9',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }] });
  await admin.disconnect();

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const acked: string[] = [];
  let sequence = 0;
  let stop = false;
  // Four concurrent senders with acks=1, each message a unique value.
  const sender = async () => {
    while (!stop) {
      const batch = Array.from({ length: 20 }, () => ({ key: String(sequence % 7), value: `m-${sequence++}` }));
      try {
        await producer.send({ topic: 'durable', acks: 1, messages: batch });
        for (const m of batch) acked.push(m.value);
      } catch {
        return;
      }
    }
  };
  const senders = [sender(), sender(), sender(), sender()];
  const deadline = Date.now() + 20000;
  while (acked.length < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await first.kill9();
  stop = true;
  await Promise.all(senders);
  await producer.disconnect().catch(() => undefined);
  assert.ok(acked.length >= 1000, `enough acknowledged before the kill (${acked.length})`);

  const second = await startBroker({ dataDir: first.dataDir });
  try {
    const read = await kcat(
      second.port,
      ['-C', '-t', 'durable', '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n'],
      undefined,
      60000,
    );
    assert.is(read.code, 0, read.stderr);
    const lines = read.stdout.trim().split('\n');
    const values = new Set<string>();
    const lastOffset = new Map<string, number>();
    for (const line of lines) {
      const [partition, offset, value] = line.split(' ');
      assert.not.ok(values.has(value), `no duplicate of ${value}`);
      values.add(value);
      const previous = lastOffset.get(partition) ?? -1;
      assert.is(Number(offset), previous + 1, `offsets dense in partition ${partition}`);
      lastOffset.set(partition, Number(offset));
    }
    const missing = acked.filter((value) => !values.has(value));
    assert.equal(missing.slice(0, 5), [], `${missing.length} acknowledged records missing`);

    // The restarted broker keeps accepting writes after the recovered tail.
    const produced = await kcat(second.port, ['-P', '-t', 'durable', '-p', '0'], 'after-restart\n');
    assert.is(produced.code, 0);
    const tail = await kcat(second.port, ['-C', '-t', 'durable', '-p', '0', '-o', '-1', '-e', '-q', '-f', '%s\n']);
    assert.is(tail.stdout.trim(), 'after-restart');
  } finally {
    await second.stop();
  }
});

test.run();
