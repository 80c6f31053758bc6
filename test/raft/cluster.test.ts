// Three Raft nodes in one process over real TCP on loopback, with durable storage on
// disk: they elect a leader, replicate and apply proposals identically, elect a new leader
// when the old one stops (timed), catch a restarted node up, and refuse or drop bad input
// on the controller port without harm.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { QuorumStorage } from '../../src/raft/quorum-storage';
import { realFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { RaftDriver } from '../../src/raft/driver';
import { RaftDispatcher, TcpRaftTransport } from '../../src/raft/tcp-transport';
import { KafkaListener } from '../../src/net/kafka-listener';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { freePort, rawRequest } from '../helpers/broker-process';
import { mulberry32 } from './simulation';
import { until } from '../helpers/wait';

const CLUSTER = 'test-cluster';
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-raft-'));

interface Running {
  id: number;
  driver: RaftDriver;
  transport: TcpRaftTransport;
  listener: KafkaListener;
  applied: string[];
  restored: number;
}

const SNAPSHOT_EVERY = 25;

let ports: number[] = [];
const nodes = new Map<number, Running>();

async function startNode(id: number): Promise<Running> {
  const voters = [1, 2, 3].map((p) => ({ id: p, host: '127.0.0.1', port: ports[p - 1] }));
  const transport = new TcpRaftTransport(id, CLUSTER, (peer) => voters.find((v) => v.id === peer), silentLogger);
  const running = { id, applied: [] as string[], restored: 0 } as Running;
  const storage = QuorumStorage.open(realFileSystem, path.join(base, `node-${id}`));
  const driver = new RaftDriver({
    id,
    voters,
    tickMs: 20,
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(id * 7919 + Date.now()),
    storage,
    transport,
    apply: (entry) => {
      if (entry.data.length > 0) running.applied.push(entry.data.toString());
    },
    // The state machine is the list of applied strings; a snapshot is that list.
    restore: (snapshot) => {
      running.applied = snapshot.data.length > 0 ? snapshot.data.toString().split(',') : [];
      running.restored++;
    },
    takeSnapshot: () => Buffer.from(running.applied.join(',')),
    snapshotEveryEntries: SNAPSHOT_EVERY,
    logger: silentLogger,
  });
  transport.attach(driver);
  const current: RaftDriver | null = driver;
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: ports[id - 1],
      maxConnections: 100,
      socketRequestMaxBytes: 8 * 1024 * 1024,
      maxInflightRequests: 100,
    },
    new RaftDispatcher(
      () => current,
      CLUSTER,
      (peer) => peer >= 1 && peer <= 3,
      silentLogger,
    ),
    silentLogger,
  );
  await listener.listen();
  Object.assign(running, { driver, transport, listener });
  driver.restoreLocal();
  driver.start();
  nodes.set(id, running);
  return running;
}

async function stopNode(id: number): Promise<void> {
  const node = nodes.get(id)!;
  node.driver.stop();
  node.transport.close();
  await node.listener.close(100);
  nodes.delete(id);
}

const leader = () => [...nodes.values()].find((n) => n.driver.node.role === 'leader');

test.before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  for (const id of [1, 2, 3]) await startNode(id);
});

test.after(async () => {
  for (const id of [...nodes.keys()]) await stopNode(id);
  fs.rmSync(base, { recursive: true, force: true });
});

test('elect, replicate, apply the same entries everywhere', async () => {
  await until(() => leader() !== undefined, { what: 'a leader', intervalMs: 10, timeoutMs: 10000 });
  const l = leader()!;
  for (let i = 0; i < 20; i++) await l.driver.propose(Buffer.from(`r${i}`));
  await until(() => [...nodes.values()].every((n) => n.applied.length >= 20), {
    what: 'every node applied 20',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  for (const n of nodes.values())
    assert.equal(
      n.applied.slice(0, 20),
      Array.from({ length: 20 }, (_, i) => `r${i}`),
    );
  assert.not.ok(
    await [...nodes.values()]
      .find((n) => n !== l)!
      .driver.propose(Buffer.from('x'))
      .then(
        () => true,
        () => false,
      ),
    'followers refuse proposals',
  );
});

test('the leader stops: a new one within a few election timeouts; it catches up when back', async () => {
  const old = leader()!;
  await stopNode(old.id);
  const stoppedAt = Date.now();
  await until(() => leader() !== undefined && leader()!.id !== old.id, {
    what: 'a new leader',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  const elapsed = Date.now() - stoppedAt;
  process.stdout.write(`new leader after ${elapsed} ms (election timeout 200-400 ms)\n`);
  const fresh = leader()!;
  await fresh.driver.propose(Buffer.from('after-failover'));
  const back = await startNode(old.id);
  await until(() => back.applied.includes('after-failover'), {
    what: 'the restarted node to catch up',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  assert.ok(back.applied.includes('r19'), 'it re-applies what it had persisted, then the rest');
});

test('a node far behind catches up through a snapshot sent in chunks, then by appends', async () => {
  const l = leader()!;
  const lagging = [...nodes.values()].find((n) => n !== l)!;
  await stopNode(lagging.id);
  // Enough entries for the two running nodes to snapshot and compact past the stopped one.
  for (let i = 0; i < 3 * SNAPSHOT_EVERY; i++) await l.driver.propose(Buffer.from(`s${i}`));
  await until(() => l.driver.node.snapshotIndex > 2 * SNAPSHOT_EVERY, {
    what: 'the leader to compact',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  const back = await startNode(lagging.id);
  await until(() => back.restored > 0 && back.applied.includes(`s${3 * SNAPSHOT_EVERY - 1}`), {
    what: 'the snapshot to be installed',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  await l.driver.propose(Buffer.from('after-snapshot'));
  await until(() => back.applied.includes('after-snapshot'), {
    what: 'appends after the snapshot',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  assert.equal(back.applied.slice(-5), l.applied.slice(-5));
  assert.ok(back.driver.node.snapshotIndex >= l.driver.node.snapshotIndex, 'the follower holds the snapshot');
});

test('membership: remove a voter, then add it back (one at a time, committed through the log)', async () => {
  const l = leader()!;
  const other = [...nodes.values()].find((n) => n !== l)!;
  const without = l.driver.node.membership().filter((v) => v.id !== other.id);
  await l.driver.changeMembership(without);
  await until(() => [...nodes.values()].every((n) => n.driver.node.membership().length === 2), {
    what: 'every node to see two voters',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  assert.not.ok(other.driver.node.isVoter);
  const all = [1, 2, 3].map((p) => ({ id: p, host: '127.0.0.1', port: ports[p - 1] }));
  await l.driver.changeMembership(all);
  await until(() => [...nodes.values()].every((n) => n.driver.node.membership().length === 3), {
    what: 'every node to see three voters',
    intervalMs: 10,
    timeoutMs: 10000,
  });
  await l.driver.propose(Buffer.from('after-membership'));
  await until(() => [...nodes.values()].every((n) => n.applied.includes('after-membership')), {
    what: 'all apply after the changes',
    intervalMs: 10,
    timeoutMs: 10000,
  });
});

test('bad input on the controller port: garbage closes, wrong cluster or node is refused', async () => {
  const port = ports[[...nodes.keys()][0] - 1];
  assert.ok((await rawRequest(port, Buffer.from('00000004deadbeef', 'hex'))).closed);
  assert.ok((await rawRequest(port, Buffer.from('7fffffff00', 'hex'))).closed);
  const connection = new KafkaConnection({ host: '127.0.0.1', port });
  await connection.connect();
  const wrongCluster = await connection.request(ApiKey.RaftVote, 0, {
    clusterId: 'other',
    term: 99,
    candidateId: 1,
    lastLogIndex: 999,
    lastLogTerm: 99,
    preVote: false,
    leadershipTransfer: false,
  });
  assert.is(wrongCluster.errorCode, 104);
  const stranger = await connection.request(ApiKey.RaftAppendEntries, 0, {
    clusterId: CLUSTER,
    term: 99,
    leaderId: 42,
    prevLogIndex: 0,
    prevLogTerm: 0,
    leaderCommit: 0,
    entries: [],
  });
  assert.is(stranger.errorCode, 94);
  connection.close();
  assert.ok(leader(), 'the cluster still has its leader');
  const term = leader()!.driver.node.term;
  assert.ok(term < 99, 'no term was raised by refused messages');
});

test.run();
