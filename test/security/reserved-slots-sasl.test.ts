// Reserved broker slots on a SASL inter-broker listener: a follower's first request there is
// ApiVersions and its SASL exchange, not a Fetch, so the slot stays on probation through the
// exchange and the first request after it is judged (a follower Fetch from a cluster
// principal). With the leader's INTERNAL listener full of idle sockets, a follower that
// restarts still gets back into the ISR.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { Cluster, startCluster } from '../helpers/cluster';
import { delay, until } from '../helpers/wait';

const TOPIC = 'reserved-sasl';

const CONFIG = {
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
  'listener.name.internal.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
  'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
  'listener.name.internal.scram-sha-512.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
  'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=broker,password=broker-secret]',
  'super.users': 'User:broker',
  // Small, so that a few hundred idle sockets fill the listener (limits count per listener).
  'max.connections': '20',
  'max.connections.per.ip': '100000',
};

/** Opens `count` idle sockets to `port`; counts those the broker closes. */
async function flood(port: number, count: number): Promise<{ sockets: net.Socket[]; refused: () => number }> {
  const sockets: net.Socket[] = [];
  let refused = 0;
  await Promise.all(
    Array.from({ length: count }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => refused++);
      sockets.push(socket);
      return new Promise((resolve) => {
        socket.once('connect', resolve);
        socket.once('close', resolve);
      });
    }),
  );
  return { sockets, refused: () => refused };
}

test('a follower authenticating with SASL takes a reserved slot on a flooded inter-broker listener', async () => {
  let cluster: Cluster | undefined;
  let sockets: net.Socket[] = [];
  try {
    cluster = await startCluster({ size: 3, internalListener: true, config: CONFIG });
    const c = cluster;
    const state = await c.createTopicInSync(TOPIC, 3);
    const leader = state.leader;
    const follower = state.replicas.find((id) => id !== leader)!;
    const internal = c.internalPorts.get(leader)!;

    const first = await flood(internal, 100);
    sockets = first.sockets;
    await until(() => (first.refused() >= 60 ? true : null), {
      what: `the leader's INTERNAL listener to refuse what passes max.connections (refused ${first.refused()})`,
      timeoutMs: 10000,
    });
    await c.stop(follower);
    await delay(300);
    const more = await flood(internal, 40);
    sockets.push(...more.sockets);
    await until(() => (more.refused() >= 30 ? true : null), {
      what: `the leader to refuse the top-up (refused ${more.refused()})`,
      timeoutMs: 10000,
    });
    await c.start(follower);
    const rejoined = await until(
      async () => {
        const s = await c.metadata(TOPIC);
        return s && s.leader === leader && s.isr.length === 3 ? s : null;
      },
      { what: `node ${follower} to rejoin the ISR while the leader's INTERNAL listener is full`, timeoutMs: 30000 },
    );
    assert.equal([...rejoined.isr].sort(), [1, 2, 3]);
    assert.ok(sockets.filter((s) => !s.destroyed).length >= 15, 'the flood still holds the ordinary slots');
  } finally {
    for (const socket of sockets) socket.destroy();
    await cluster?.stopAll();
  }
});

test.run();
