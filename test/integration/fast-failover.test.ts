// Fast failure detection with real processes: three Brook nodes with the default broker
// session timeout (9 s) and disconnect grace (1 s), one partition with replication factor 3
// and min.insync.replicas 2 led by a broker that is not the active controller, and an
// acks=all producer sending one record at a time. The leader is killed with SIGKILL: its
// heartbeat connection to the controller closes, so it is fenced after the grace and a new
// leader is elected within about 2 s, not after the session timeout; every acknowledged
// record is then readable at its acknowledged offset. Then the same with a leader that is
// also the active controller: the new controller expects its broker back within a
// heartbeat interval plus the grace, and fences it after that.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { delay, until } from '../helpers/wait';

/** Kill to a new leader, well under the 9 s session: the grace (1 s) plus slack for a loaded machine. */
const ELECTED_WITHIN_MS = 4000;
/**
 * The same when the victim also led the metadata quorum: a controller election (1-2 s), then
 * a heartbeat interval plus the grace (2.5 s), plus slack; the session alone would be 10 s and more.
 */
const ELECTED_CONTROLLER_WITHIN_MS = 7000;
let cluster: Cluster;

/** One acks=all record at a time to the leader; records each acknowledged (value, offset). */
class Producer {
  constructor(private readonly topic: string) {}

  readonly acked = new Map<string, number>();
  /** Time of the first acknowledgement by each broker. */
  readonly firstAckBy = new Map<number, number>();
  leaderId = -1;
  private next = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private readonly connections = new Map<number, KafkaConnection>();

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    for (const connection of this.connections.values()) connection.close();
  }

  private async connection(id: number): Promise<KafkaConnection> {
    let connection = this.connections.get(id);
    if (!connection) {
      connection = new KafkaConnection({
        host: '127.0.0.1',
        port: cluster.kafkaPorts.get(id)!,
        requestTimeoutMs: 5000,
        connectTimeoutMs: 1000,
        clientId: 'fast-failover',
      });
      this.connections.set(id, connection);
      await connection.connect();
    }
    return connection;
  }

  private drop(id: number): void {
    this.connections.get(id)?.close();
    this.connections.delete(id);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.leaderId <= 0) this.leaderId = (await cluster.metadata(this.topic))?.leader ?? -1;
      const id = this.leaderId;
      if (id > 0) {
        const value = `v${this.next++}`;
        try {
          const answer = await (
            await this.connection(id)
          ).request(0, 7, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 3000,
            topicData: [
              {
                name: this.topic,
                partitionData: [
                  { index: 0, records: encodeRecordBatchSync({ records: [{ value: Buffer.from(value) }] }) },
                ],
              },
            ],
          });
          const partition = answer.responses[0].partitionResponses[0];
          if (partition.errorCode === 0) {
            this.acked.set(value, Number(partition.baseOffset));
            if (!this.firstAckBy.has(id)) this.firstAckBy.set(id, Date.now());
            continue;
          }
        } catch {
          this.drop(id);
        }
      }
      // An error or a lost connection: ask for the leader again after a short pause. The
      // value that failed stays unacknowledged (it may or may not be stored).
      this.leaderId = -1;
      await delay(20);
    }
  }
}

test.before(async () => {
  cluster = await Cluster.create({ size: 3, config: { 'offsets.topic.num.partitions': '1' } });
});

test.after(async () => {
  await cluster?.stopAll();
});

/** The active controller as node 1 knows it (Metadata's controllerId), or null. */
async function activeController(): Promise<number | null> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(1)!,
    requestTimeoutMs: 2000,
    connectTimeoutMs: 1000,
  });
  try {
    await connection.connect();
    const answer = await connection.request(3, 9, {
      topics: [],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return answer.brokers.length === 3 && answer.controllerId > 0 ? answer.controllerId : null;
  } catch {
    return null;
  } finally {
    connection.close();
  }
}

/** CreateTopics v4 with the replicas of partition 0 in the order given (the first leads). */
async function createTopic(topic: string, replicas: number[]): Promise<void> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(1)!,
    requestTimeoutMs: 15000,
    connectTimeoutMs: 1000,
  });
  try {
    await connection.connect();
    const answer = await connection.request(19, 4, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: replicas }],
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      timeoutMs: 10000,
      validateOnly: false,
    });
    assert.is(answer.topics[0].errorCode, 0, answer.topics[0].errorMessage ?? 'CreateTopics');
  } finally {
    connection.close();
  }
}

/**
 * Topic `topic` led by `victim` (the active controller or not, as `alsoController` says),
 * an acks=all producer, kill -9 of the victim: a new leader within `withinMs`, and every
 * acknowledged record at its offset. The victim is started again at the end.
 */
async function failover(topic: string, victim: number, alsoController: boolean, withinMs: number): Promise<void> {
  await createTopic(topic, [victim, ...cluster.ids.filter((id) => id !== victim)]);
  const initial = await until(
    async () => {
      const m = await cluster.metadata(topic);
      return m && m.leader === victim && m.isr.length === 3 ? m : null;
    },
    { what: `broker ${victim} leading with a full ISR` },
  );
  const producer = new Producer(topic);
  producer.start();
  let stopped = false;
  try {
    await until(() => producer.acked.size >= 50, { what: 'some acknowledged records' });
    const current = await cluster.metadata(topic);
    assert.is(current?.leader, victim, 'the leader did not move before the kill');
    assert.is(current!.controller === victim, alsoController, 'the victim leads the quorum, or not, as meant');
    const killedAt = Date.now();
    await cluster.kill9(victim);
    const failover = await until(
      async () => {
        const m = await cluster.metadata(topic);
        return m && m.leader > 0 && m.leader !== victim ? m : null;
      },
      { what: 'a new leader', timeoutMs: 20000, intervalMs: 50 },
    );
    const electedMs = Date.now() - killedAt;
    await until(() => producer.firstAckBy.has(failover.leader), {
      what: 'an acknowledgement by the new leader',
      timeoutMs: 10000,
      intervalMs: 20,
    });
    const firstAckMs = producer.firstAckBy.get(failover.leader)! - killedAt;
    process.stdout.write(
      `kill -9 of leader ${victim}${alsoController ? ' (also the active controller)' : ''}: leader ${failover.leader} (epoch ${initial.leaderEpoch} -> ${failover.leaderEpoch}) after ${electedMs} ms, first acks=all acknowledgement after ${firstAckMs} ms (session timeout 9 s)\n`,
    );
    assert.ok(
      electedMs < withinMs,
      `new leader after ${electedMs} ms, expected under ${withinMs} ms (the session timeout is 9000 ms)`,
    );
    assert.ok(failover.leaderEpoch > initial.leaderEpoch);
    assert.not.ok(failover.isr.includes(victim), 'the fenced broker left the ISR');
    await until(() => producer.acked.size >= 100, { what: 'more acknowledged records at the new leader' });
    await producer.stop();
    stopped = true;

    // Every acknowledged record is at its acknowledged offset, read from the new leader.
    const last = Math.max(...producer.acked.values());
    const read = await kcat(cluster.kafkaPorts.get(failover.leader)!, [
      '-C',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      'beginning',
      '-c',
      String(last + 1),
      '-e',
      '-q',
      '-f',
      '%o:%s\n',
    ]);
    const stored = new Map<number, string>();
    for (const line of read.stdout.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) stored.set(Number(line.slice(0, colon)), line.slice(colon + 1));
    }
    const lost = [...producer.acked].filter(([value, offset]) => stored.get(offset) !== value);
    assert.equal(lost, [], `${lost.length} of ${producer.acked.size} acknowledged records not at their offsets`);
  } finally {
    if (!stopped) await producer.stop();
    // Back for the next case (also after a failure): restarted, it catches up and is
    // unfenced by the normal path.
    if (!cluster.node(victim).alive()) await cluster.start(victim);
  }
  await until(
    async () => {
      const m = await cluster.metadata(topic);
      return m && m.isr.length === 3 ? m : null;
    },
    { what: `broker ${victim} back in the ISR` },
  );
}

test('kill -9 of a partition leader: fenced on its closed connection, a new leader within ~2 s, nothing acknowledged lost', async () => {
  const controller = await until(activeController, { what: 'the active controller' });
  await failover(
    'fast',
    cluster.ids.find((id) => id !== controller)!,
    false,
    ELECTED_WITHIN_MS,
  );
});

test('kill -9 of a partition leader that is also the active controller: the new controller fences it soon', async () => {
  // Its broker heartbeated in process, so no connection closes; the new controller expects
  // it to heartbeat within an interval plus the grace after the election.
  const controller = await until(activeController, { what: 'the active controller' });
  await failover('fast-controller', controller, true, ELECTED_CONTROLLER_WITHIN_MS);
});

test.run();
