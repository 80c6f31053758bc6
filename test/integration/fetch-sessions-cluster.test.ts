// Three nodes, one RF3 partition: the two followers replicate through incremental fetch
// sessions with the leader (the leader holds a session for each), acks=all goes on being
// acknowledged record after record (each needs both followers' next incremental fetch to
// carry their new positions), and after the leader stops a follower leads with every
// acknowledged record. A consumer's Fetch v16 sent to a follower learns the leader and where
// it listens (KIP-951); at v15 it does not. A replica id in ReplicaState passes the same
// follower guard as the top-level one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Consumer } from '../../src/client/consumer';
import { Cluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const TOPIC = 'replicated-in-sessions';
const RECORDS = 30;

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

test('followers replicate in fetch sessions: acks=all keeps working and a follower takes over with every record', async () => {
  const cluster = await Cluster.create({ size: 3, http: true });
  try {
    const state = await cluster.createTopicInSync(TOPIC, 3, { 'min.insync.replicas': '3' });
    const leader = state.leader;
    const producer = new Kafka({
      brokers: cluster.bootstrap(),
      clientId: 'sessions-producer',
      logLevel: logLevel.NOTHING,
    }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // One at a time: each acknowledgement needs both followers' fetch past the record.
    for (let i = 0; i < RECORDS; i++)
      await producer.send({ topic: TOPIC, acks: -1, timeout: 10000, messages: [{ value: `r${i}` }] });
    await producer.disconnect();

    const httpPort = cluster.node(leader).httpPort!;
    // Both followers fetch in a session of their own (they may also hold one for the offsets topic).
    assert.ok((await metric(httpPort, 'brook_fetch_sessions')) >= 2, 'a session per follower');
    assert.ok((await metric(httpPort, 'brook_fetch_session_partitions')) >= 2);
    assert.equal((await cluster.metadata(TOPIC))?.isr.length, 3);

    const follower = state.replicas.find((id) => id !== leader)!;
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: cluster.kafkaPorts.get(follower)!,
      requestTimeoutMs: 5000,
    });
    await connection.connect();
    try {
      const described = await connection.request(ApiKey.Metadata, 12, {
        topics: [{ topicId: ZERO_UUID, name: TOPIC }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const topicId = described.topics[0].topicId;
      for (const version of [15, 16]) {
        const answer = await connection.request(ApiKey.Fetch, version, {
          clusterId: null,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topicId,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: -1,
                  fetchOffset: 0,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1,
                  partitionMaxBytes: 1024,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
        const p = answer.responses[0].partitions[0];
        assert.is(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `v${version}`);
        if (version === 15) {
          assert.equal(p.currentLeader, { leaderId: -1, leaderEpoch: -1 });
          assert.equal(answer.nodeEndpoints, []);
        } else {
          assert.equal(p.currentLeader, { leaderId: leader, leaderEpoch: state.leaderEpoch });
          assert.equal(
            answer.nodeEndpoints.map((e) => [e.nodeId, e.host, e.port]),
            [[leader, '127.0.0.1', cluster.kafkaPorts.get(leader)]],
          );
        }
      }
    } finally {
      connection.close();
    }

    // The follower guard reads the replica id from ReplicaState (v18) as from the top-level
    // field: an unregistered id is refused, a real follower's id with a position past the
    // leader's log end is OFFSET_OUT_OF_RANGE, and neither moves anything.
    const spoofer = new KafkaConnection({
      host: '127.0.0.1',
      port: cluster.kafkaPorts.get(leader)!,
      requestTimeoutMs: 5000,
    });
    await spoofer.connect();
    try {
      const topicId = (
        await spoofer.request(ApiKey.Metadata, 12, {
          topics: [{ topicId: ZERO_UUID, name: TOPIC }],
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: false,
        })
      ).topics[0].topicId;
      const spoof = (replicaId: number) =>
        spoofer.request(ApiKey.Fetch, 18, {
          clusterId: null,
          replicaState: { replicaId, replicaEpoch: -1 },
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topicId,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: -1,
                  fetchOffset: 1_000_000,
                  lastFetchedEpoch: -1,
                  logStartOffset: 0,
                  partitionMaxBytes: 1024,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
      const unknown = await spoof(99);
      assert.is(unknown.responses[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const posing = await spoof(follower);
      assert.is(posing.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    } finally {
      spoofer.close();
    }

    await cluster.stop(leader);
    const next = await until(
      async () => {
        const s = await cluster.metadata(TOPIC);
        return s && s.leader > 0 && s.leader !== leader ? s : null;
      },
      { what: 'a new leader', timeoutMs: 30000 },
    );
    const consumer = new Consumer({ bootstrap: cluster.bootstrap([next.leader]), maxWaitMs: 100 });
    try {
      consumer.assign([{ topic: TOPIC, partition: 0, offset: 'earliest' }]);
      const values: string[] = [];
      await until(
        async () => {
          const record = await consumer.next();
          if (record) values.push(String(record.value));
          return values.length >= RECORDS;
        },
        { what: `${RECORDS} records from the new leader`, timeoutMs: 20000 },
      );
      assert.equal(
        values,
        Array.from({ length: RECORDS }, (_, i) => `r${i}`),
      );
    } finally {
      await consumer.close();
    }
  } finally {
    await cluster.stopAll();
  }
});

test.run();
