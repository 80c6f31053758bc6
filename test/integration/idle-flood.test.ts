// Client connections cannot starve replication: with 2,000 idle sockets open on a partition
// leader's Kafka port (more than max.connections), a follower that restarts meanwhile
// reconnects on a reserved broker slot, catches up and rejoins the ISR, and an acks=all
// produce that needs all three replicas (min.insync.replicas=3) is acknowledged. The
// metadata quorum keeps working (the restarted node registers again through it).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { Cluster, partitionMetadata } from '../helpers/cluster';
import { delay, until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const TOPIC = 'flooded';
const FLOOD = 2000;

/** Opens `count` sockets to `port`, 100 at a time, and never writes to them. */
async function flood(port: number, count: number): Promise<{ sockets: net.Socket[]; refused: () => number }> {
  const sockets: net.Socket[] = [];
  let refused = 0;
  for (let opened = 0; opened < count; opened += 100) {
    const batch = Array.from({ length: Math.min(100, count - opened) }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => refused++);
      sockets.push(socket);
      return new Promise((resolve) => {
        socket.once('connect', resolve);
        socket.once('close', resolve);
      });
    });
    await Promise.all(batch);
  }
  return { sockets, refused: () => refused };
}

test('2,000 idle sockets on the leader do not keep a restarted follower out of the ISR', async () => {
  // max.connections.per.ip is raised so that max.connections (1000) is the limit the flood
  // fills, as in a flood from many hosts.
  const cluster = await Cluster.create({ size: 3, config: { 'max.connections.per.ip': '100000' } });
  let sockets: net.Socket[] = [];
  try {
    const state = await cluster.createTopicInSync(TOPIC, 3, { 'min.insync.replicas': '3' });
    const leader = state.leader;
    const follower = state.replicas.find((id) => id !== leader)!;
    const others = cluster.ids.filter((id) => id !== leader).map((id) => cluster.kafkaPorts.get(id)!);

    // The producer connects to the leader before the flood fills its slots.
    const producer = new Kafka({
      brokers: cluster.bootstrap([leader]),
      clientId: 'flood-producer',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, timeout: 10000, messages: [{ value: 'before' }] });

    const flooding = await flood(cluster.kafkaPorts.get(leader)!, FLOOD);
    sockets = flooding.sockets;
    await until(() => flooding.refused() >= FLOOD - 1000, {
      what: `the leader to refuse what passes max.connections (refused ${flooding.refused()})`,
      timeoutMs: 10000,
    });

    // The follower stops (its own connections to the leader close), the flood takes the
    // slots that freed, and the follower starts again.
    await cluster.stop(follower);
    await delay(300);
    const more = await flood(cluster.kafkaPorts.get(leader)!, 200);
    sockets.push(...more.sockets);
    await until(() => more.refused() >= 190, {
      what: `the leader to refuse the top-up (refused ${more.refused()})`,
      timeoutMs: 10000,
    });
    await cluster.start(follower);
    const rejoined = await until(
      async () => {
        const s = await partitionMetadata(others, TOPIC);
        return s && s.leader === leader && s.isr.length === 3 ? s : null;
      },
      { what: `node ${follower} to rejoin the ISR while the leader is flooded`, timeoutMs: 20000, intervalMs: 250 },
    );
    assert.equal([...rejoined.isr].sort(), [1, 2, 3]);
    await producer.send({ topic: TOPIC, acks: -1, timeout: 10000, messages: [{ value: 'during the flood' }] });
    await producer.disconnect();
    assert.ok(sockets.filter((s) => !s.destroyed).length >= 900, 'the flood still holds the client slots');
  } finally {
    for (const socket of sockets) socket.destroy();
    await cluster.stopAll();
  }
});

test.run();
