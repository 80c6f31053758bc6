// The controller port takes only cluster members: a three-node cluster (real processes,
// a random cluster secret) elects and serves, while a forged RaftVote with the leadership
// transfer flag and term 2^31 - 1, sent to every node with the right cluster id from a
// socket that never authenticated, is not answered and moves no term (it once left the
// quorum leaderless for good). A wrong secret fails the handshake in both directions,
// DescribeQuorum is not answered before the handshake, a flood of idle sockets cannot hold
// the port's slots, a silent connection is closed at the handshake deadline, and after a
// restart of all three the quorum elects again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { KafkaConnection } from '../../src/net/kafka-connection';
import {
  connectController,
  HANDSHAKE_TIMEOUT_MS,
  HANDSHAKES_PENDING_MAX,
  HandshakeError,
} from '../../src/raft/handshake';
import { rawRequest } from '../helpers/broker-process';
import { Cluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

let cluster: Cluster;

async function describe(id: number): Promise<{ leaderId: number; term: number; clusterId: string } | null> {
  let connection: KafkaConnection | null = null;
  try {
    connection = await cluster.controllerConnection(id, 2000);
    return await connection.request(ApiKey.RaftDescribeQuorum, 0, {});
  } catch {
    return null;
  } finally {
    connection?.close();
  }
}

/** The leader every node agrees on, once they do. */
function agreedLeader(): Promise<{ leaderId: number; term: number; clusterId: string }> {
  return until(
    async () => {
      const views = await Promise.all(cluster.ids.map((id) => describe(id)));
      const first = views[0];
      if (!first || first.leaderId < 0) return null;
      return views.every((v) => v && v.leaderId === first.leaderId && v.term === first.term) ? first : null;
    },
    { what: 'every node to agree on a leader', timeoutMs: 30000 },
  );
}

async function createTopic(name: string): Promise<void> {
  const admin = new Kafka({ brokers: cluster.bootstrap(), clientId: 'auth-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    assert.ok(await admin.createTopics({ topics: [{ topic: name, numPartitions: 1, replicationFactor: 3 }] }));
  } finally {
    await admin.disconnect();
  }
}

test.before(async () => {
  cluster = await Cluster.create({ size: 3 });
});

test.after(async () => {
  await cluster?.stopAll();
});

test('a forged transfer vote with term 2^31 - 1 from an unauthenticated socket is not answered and moves no term', async () => {
  const before = await agreedLeader();
  for (const id of cluster.ids) {
    const candidate = cluster.ids.find((other) => other !== id)!;
    const frame = encodeRequestFrame(
      { apiKey: ApiKey.RaftVote, apiVersion: 0, correlationId: 7, clientId: 'attacker' },
      requestCodec(ApiKey.RaftVote, 0),
      {
        clusterId: before.clusterId,
        term: 2 ** 31 - 1,
        candidateId: candidate,
        lastLogIndex: 1_000_000,
        lastLogTerm: 2 ** 31 - 2,
        preVote: false,
        leadershipTransfer: true,
      },
    );
    const answer = await rawRequest(cluster.controllerPorts.get(id)!, frame);
    assert.ok(answer.closed && answer.frame === null, `node ${id} closed the connection without answering`);
  }
  const after = await agreedLeader();
  assert.is(after.term, before.term, 'no node moved its term');
  assert.is(after.leaderId, before.leaderId);
  await createTopic('after-forged-vote');
});

test('DescribeQuorum is not answered before the handshake', async () => {
  const frame = encodeRequestFrame(
    { apiKey: ApiKey.RaftDescribeQuorum, apiVersion: 0, correlationId: 1, clientId: 'nc' },
    requestCodec(ApiKey.RaftDescribeQuorum, 0),
    {},
  );
  const answer = await rawRequest(cluster.controllerPorts.get(1)!, frame);
  assert.ok(answer.closed && answer.frame === null);
});

test('a wrong secret is refused both ways', async () => {
  const options = { host: '127.0.0.1', port: cluster.controllerPorts.get(1)!, requestTimeoutMs: 2000 };
  // The client side notices first: the node cannot prove a secret the client does not share.
  const wrong = connectController(options, { secret: randomBytes(24), nodeId: -1 }, { clusterId: null, nodeId: 1 });
  await wrong.then(
    () => assert.unreachable('a wrong secret authenticated'),
    (error: Error) => {
      assert.instance(error, HandshakeError);
      assert.match(error.message, /could not prove/);
    },
  );
  // The server side: a client that answers the challenge with a wrong proof is cut off.
  const connection = new KafkaConnection(options);
  await connection.connect();
  const first = await connection.request(ApiKey.ControllerHandshake, 0, {
    step: 1,
    nodeId: 2,
    nonce: randomBytes(32),
    proof: Buffer.alloc(0),
  });
  assert.is(first.errorCode, 0);
  const second = connection.request(ApiKey.ControllerHandshake, 0, {
    step: 2,
    nodeId: 2,
    nonce: Buffer.alloc(0),
    proof: randomBytes(32),
  });
  await second.then(
    () => assert.unreachable('a wrong proof was answered'),
    (error: Error) => assert.match(error.message, /closed/),
  );
  connection.close();
  await until(() => /wrong cluster secret/.test(cluster.node(1).logs()), {
    what: 'the refusal in the log',
    timeoutMs: 5000,
  });
  assert.not.match(cluster.node(1).logs(), cluster.secret, 'the secret is never logged');
});

test('a flood of idle sockets cannot take the controller port from members', async () => {
  const port = cluster.controllerPorts.get(3)!;
  const sockets: net.Socket[] = [];
  let closedEarly = 0;
  await Promise.all(
    Array.from(
      { length: 120 },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          sockets.push(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => closedEarly++);
          socket.on('connect', () => resolve());
          socket.on('close', () => resolve());
        }),
    ),
  );
  try {
    // Past the handshake slots the oldest idle sockets give way; the port keeps room.
    const connection = await cluster.controllerConnection(3, 2000);
    const answer = await connection.request(ApiKey.RaftDescribeQuorum, 0, {});
    connection.close();
    assert.is(answer.errorCode, 0);
    await until(() => closedEarly >= 120 - HANDSHAKES_PENDING_MAX, {
      what: 'the idle sockets beyond the handshake slots to be closed',
      timeoutMs: 2000,
      intervalMs: 20,
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  assert.ok((await agreedLeader()).leaderId > 0);
});

test('a connection that never completes the handshake is closed at the deadline', async () => {
  const started = Date.now();
  const closed = await new Promise<number>((resolve) => {
    const socket = net.connect(cluster.controllerPorts.get(2)!, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Date.now() - started));
  });
  assert.ok(closed >= HANDSHAKE_TIMEOUT_MS - 100 && closed < HANDSHAKE_TIMEOUT_MS + 3000, `closed after ${closed} ms`);
});

test('after a restart of all three the quorum elects again and serves', async () => {
  await Promise.all(cluster.ids.map((id) => cluster.stop(id)));
  await Promise.all(cluster.ids.map((id) => cluster.start(id)));
  const leader = await agreedLeader();
  assert.ok(leader.leaderId > 0);
  await createTopic('after-restart');
});

test.run();
