// The metadata quorum's snapshots and membership with real processes on loopback: a node
// that was down while the others snapshotted and compacted their logs catches up through
// the leader's snapshot (and drops a topic deleted meanwhile); a fourth node started with
// the three voters follows the log as an observer, is promoted with `brook cluster
// add-voter`, a voter is demoted with `remove-voter`, and the promoted node stays a voter
// across a restart (the voter set lives in the log, not in its --voters flag). Producer ids
// come from per-broker blocks committed through the quorum.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { Cluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { until } from '../helpers/wait';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
let cluster: Cluster;
const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
  'brook.metadata.snapshot.interval.entries': '20',
};

async function describeQuorum(id: number): Promise<any> {
  // The controller port answers only after the handshake with the cluster secret.
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

function leaderId(): Promise<number> {
  return until(
    async () => {
      for (const id of cluster.aliveIds()) {
        const view = await describeQuorum(id);
        if (view && view.leaderId > 0 && view.leaderId === id) return id;
      }
      return null;
    },
    { what: 'a quorum leader', timeoutMs: 15000 },
  );
}

async function admin<K extends ApiKey>(
  id: number,
  apiKey: K,
  version: number,
  body: RequestInput<K>,
): Promise<Response<K>> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 20000,
  });
  await connection.connect();
  try {
    return await connection.request(apiKey, version, body);
  } finally {
    connection.close();
  }
}

function createTopic(id: number, name: string, assignments: { partitionIndex: number; brokerIds: number[] }[] = []) {
  return admin(id, 19, 4, {
    topics: [
      {
        name,
        numPartitions: assignments.length ? -1 : 1,
        replicationFactor: assignments.length ? -1 : 1,
        assignments,
        configs: [],
      },
    ],
    timeoutMs: 10000,
    validateOnly: false,
  });
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BROOK, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

test.before(async () => {
  // Node 4 starts later as an observer of the three initial voters.
  cluster = await Cluster.create({ size: 4, voterIds: [1, 2, 3], config: CONFIG, start: false });
  await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
});

test.after(async () => {
  await cluster?.stopAll();
});

test("a node behind the compacted log catches up through the leader's snapshot and drops a topic deleted meanwhile", async () => {
  const leader = await leaderId();
  const lagging = [1, 2, 3].find((id) => id !== leader)!;
  const created = await createTopic(leader, 'doomed', [{ partitionIndex: 0, brokerIds: [lagging] }]);
  assert.is(created.topics[0].errorCode, 0);
  const laggingNode = cluster.node(lagging);
  await until(async () => fs.existsSync(path.join(laggingNode.dataDir, 'logs', 'doomed-0')), {
    what: 'the doomed partition on the lagging node',
    timeoutMs: 20000,
  });
  await laggingNode.stop();
  const deleted = await admin(leader, 20, 4, { topicNames: ['doomed'], timeoutMs: 10000 });
  assert.is(deleted.responses[0].errorCode, 0);
  // Each creation is one metadata entry: well past the snapshot interval of 20.
  for (let i = 0; i < 45; i++) assert.is((await createTopic(leader, `t${i}`)).topics[0].errorCode, 0);
  const back = await cluster.start(lagging);
  await until(async () => /installing a metadata snapshot from the leader/.test(back.logs()), {
    what: 'the snapshot install',
    timeoutMs: 20000,
  });
  let listing = '';
  await until(
    async () => {
      listing = (await kcat(cluster.kafkaPorts.get(lagging)!, ['-L'])).stdout;
      return /topic "t44"/.test(listing);
    },
    { what: 'all topics on the returning node', timeoutMs: 20000 },
  );
  assert.not.match(listing, /topic "doomed"/);
  assert.not.ok(
    fs.existsSync(path.join(laggingNode.dataDir, 'logs', 'doomed-0')),
    "the deleted topic's log is gone from the returning node",
  );
  assert.ok(
    fs.readdirSync(path.join(laggingNode.dataDir, '__cluster_metadata')).some((n) => n.endsWith('.checkpoint')),
    'the snapshot is on its disk',
  );
});

test('producer ids come from blocks the controller commits: distinct across brokers', async () => {
  const ids: number[] = [];
  for (const id of [1, 2, 3]) {
    for (let i = 0; i < 2; i++) {
      const answer = await admin(id, 22, 0, { transactionalId: null, transactionTimeoutMs: 60000 });
      assert.is(answer.errorCode, 0);
      ids.push(Number(answer.producerId));
    }
  }
  assert.is(new Set(ids).size, ids.length, `no id handed out twice: ${ids.join(', ')}`);
  const blocks = new Set(ids.map((pid) => Math.floor(pid / 1000)));
  assert.is(blocks.size, 3, 'each broker draws from its own block');
});

test('a fourth node follows as an observer, is promoted with add-voter; a voter is removed; the set survives a restart', async () => {
  const fourth = await cluster.start(4);
  let listing = '';
  await until(
    async () => {
      listing = (await kcat(cluster.kafkaPorts.get(4)!, ['-L'])).stdout;
      return /4 brokers:/.test(listing) && /topic "t44"/.test(listing);
    },
    { what: 'the observer to list four brokers and the topics', timeoutMs: 20000 },
  );
  assert.match(/not a voter: following the metadata log as an observer/.test(fourth.logs()) ? 'yes' : 'no', /yes/);
  const leader = await leaderId();
  const status = await cli([
    'cluster',
    'status',
    '--bootstrap',
    `127.0.0.1:${cluster.kafkaPorts.get(leader)}`,
    '--controller',
    `127.0.0.1:${cluster.controllerPorts.get(leader)}`,
    '--config',
    cluster.secretConfigFile,
    '--json',
  ]);
  assert.is(status.code, 0, status.stderr);
  assert.ok(
    JSON.parse(status.stdout).quorum.observers.some((o: { nodeId: number }) => o.nodeId === 4),
    'the leader lists node 4 as an observer',
  );

  // Asked through a follower: the answer names the leader, which the CLI then asks.
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const added = await cli([
    'cluster',
    'add-voter',
    '--node-id',
    '4',
    '--controller',
    `127.0.0.1:${cluster.controllerPorts.get(follower)}`,
    '--config',
    cluster.secretConfigFile,
  ]);
  assert.is(added.code, 0, added.stderr);
  await until(
    async () => {
      const views = await Promise.all([1, 2, 3, 4].map((id) => describeQuorum(id)));
      const view = await describeQuorum(await leaderId());
      return views.every((v) => v !== null) && view?.voters.length === 4;
    },
    { what: 'every node to see four voters', timeoutMs: 20000 },
  );
  const again = await cli([
    'cluster',
    'add-voter',
    '--node-id',
    '4',
    '--controller',
    `127.0.0.1:${cluster.controllerPorts.get(leader)}`,
    '--config',
    cluster.secretConfigFile,
  ]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already a voter/);
  const unknown = await cli([
    'cluster',
    'add-voter',
    '--node-id',
    '9',
    '--controller',
    `127.0.0.1:${cluster.controllerPorts.get(leader)}`,
    '--config',
    cluster.secretConfigFile,
  ]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /has not registered/);
  const wrongType = await cli(['cluster', 'remove-voter', '--node-id', 'two']);
  assert.is(wrongType.code, 2);
  assert.match(wrongType.stderr, /--node-id/);

  const removedId = [1, 2, 3].find((id) => id !== leader)!;
  const removed = await cli([
    'cluster',
    'remove-voter',
    '--node-id',
    String(removedId),
    '--controller',
    `127.0.0.1:${cluster.controllerPorts.get(leader)}`,
    '--config',
    cluster.secretConfigFile,
  ]);
  assert.is(removed.code, 0, removed.stderr);
  const voterIds = async () =>
    ((await describeQuorum(await leaderId()))?.voters ?? []).map((v: { nodeId: number }) => v.nodeId).sort();
  await until(
    async () => JSON.stringify(await voterIds()) === JSON.stringify([1, 2, 3, 4].filter((id) => id !== removedId)),
    { what: 'three voters without the removed one', timeoutMs: 20000 },
  );
  assert.is(
    (await createTopic(removedId, 'after-membership')).topics[0].errorCode,
    0,
    'the demoted node still serves and forwards',
  );

  // Node 4 restarts with the same --voters flag (1,2,3), yet stays a voter: the log says so.
  await fourth.stop();
  await cluster.start(4);
  await until(async () => (await voterIds()).includes(4), { what: 'node 4 back in the voter set', timeoutMs: 20000 });
  const view4 = await describeQuorum(4);
  assert.ok(view4 && view4.leaderId > 0, 'node 4 follows a leader');
  assert.is((await createTopic(4, 'after-restart')).topics[0].errorCode, 0);
});

test.run();
