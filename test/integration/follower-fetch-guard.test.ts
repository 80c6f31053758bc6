// A Fetch that names a follower's replica id is believed only from that follower: with both
// followers of an RF3 topic frozen (SIGSTOP), a plain client sending Fetch with a
// follower's replica id and an offset past the log end must not make the leader
// acknowledge an acks=all produce (it used to, at once), and once the followers resume
// they catch up and the ISR is whole again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const TOPIC = 'guarded';

test('a spoofed follower fetch does not acknowledge acks=all while the real followers are stopped', async () => {
  const cluster = await Cluster.create({ size: 3 });
  const paused: number[] = [];
  const spoofer = { stop: false, answers: [] as number[] };
  try {
    const state = await cluster.createTopicInSync(TOPIC, 3, { 'min.insync.replicas': '2' });
    const leader = state.leader;
    const followers = state.replicas.filter((id) => id !== leader);

    // The producer knows only the leader, so the frozen nodes are never asked anything.
    const producer = new Kafka({
      brokers: cluster.bootstrap([leader]),
      clientId: 'guard-producer',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, timeout: 10000, messages: [{ value: 'before' }] });

    for (const id of followers) {
      cluster.pause(id);
      paused.push(id);
    }

    // The spoofer: Fetch with each follower's replica id, far past the log end, again and again.
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: cluster.kafkaPorts.get(leader)!,
      requestTimeoutMs: 3000,
      connectTimeoutMs: 1000,
    });
    await connection.connect();
    const spoofing = (async () => {
      while (!spoofer.stop) {
        for (const replicaId of followers) {
          const answer = await connection.request(ApiKey.Fetch, 12, {
            clusterId: null,
            replicaId,
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic: TOPIC,
                partitions: [
                  {
                    partition: 0,
                    currentLeaderEpoch: -1,
                    fetchOffset: 1_000_000,
                    lastFetchedEpoch: -1,
                    logStartOffset: 0,
                    partitionMaxBytes: 1 << 20,
                  },
                ],
              },
            ],
            forgottenTopicsData: [],
            rackId: '',
          });
          spoofer.answers.push(answer.responses[0].partitions[0].errorCode);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const started = Date.now();
    const outcome = await producer
      .send({ topic: TOPIC, acks: -1, timeout: 3000, messages: [{ value: 'while-frozen' }] })
      .then(
        () => 'acknowledged',
        (error) => String(error.type ?? error.message),
      );
    spoofer.stop = true;
    await spoofing;
    connection.close();
    assert.is.not(
      outcome,
      'acknowledged',
      `acks=all was acknowledged ${Date.now() - started} ms after the send with both followers stopped`,
    );
    assert.ok(spoofer.answers.length > 0);
    assert.ok(
      spoofer.answers.every((code) => code !== ErrorCode.NONE),
      `spoofed fetches answered: ${[...new Set(spoofer.answers)]}`,
    );

    // The real followers come back, catch up, and acks=all works again with the full ISR.
    for (const id of paused.splice(0)) cluster.resume(id);
    await until(
      () =>
        producer.send({ topic: TOPIC, acks: -1, timeout: 5000, messages: [{ value: 'after' }] }).then(
          () => true,
          () => false,
        ),
      { what: 'acks=all to succeed after SIGCONT', timeoutMs: 30000 },
    );
    await until(async () => (await cluster.metadata(TOPIC))?.isr.length === 3, {
      what: 'the ISR to be whole again',
      timeoutMs: 30000,
    });
    await producer.disconnect();
  } finally {
    spoofer.stop = true;
    for (const id of paused) cluster.resume(id);
    await cluster.stopAll();
  }
});

test.run();
