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
import { BrokerProcess, freePort, startBroker, tempDir } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { KafkaConnection } from '../../src/net/kafka-connection';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
const nodes = new Map<number, BrokerProcess>();
const kafkaPorts = new Map<number, number>();
const controllerPorts = new Map<number, number>();
const CONFIG = { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '1', 'brook.metadata.snapshot.interval.entries': '20' };
let initialVoters = '';

async function describeQuorum(id: number): Promise<any> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: controllerPorts.get(id)!, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    await connection.connect();
    return await connection.request(1004, 0, {});
  } catch {
    return null;
  } finally {
    connection.close();
  }
}

async function leaderId(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const id of nodes.keys()) {
      const view = await describeQuorum(id);
      if (view && view.leaderId > 0 && view.leaderId === id) return id;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no quorum leader');
}

async function admin(id: number, apiKey: number, version: number, body: unknown): Promise<any> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: kafkaPorts.get(id)!, requestTimeoutMs: 20000 });
  await connection.connect();
  try {
    return await connection.request(apiKey, version, body);
  } finally {
    connection.close();
  }
}

function createTopic(id: number, name: string, assignments: { partitionIndex: number; brokerIds: number[] }[] = []) {
  return admin(id, 19, 4, { topics: [{ name, numPartitions: assignments.length ? -1 : 1, replicationFactor: assignments.length ? -1 : 1, assignments, configs: [] }], timeoutMs: 10000, validateOnly: false });
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

async function start(id: number, dataDir = tempDir()): Promise<BrokerProcess> {
  const node = await startBroker({
    dataDir,
    port: kafkaPorts.get(id)!,
    readyTimeoutMs: 40000,
    config: CONFIG,
    extraArgs: ['--node-id', String(id), '--voters', initialVoters, '--controller-listen', `127.0.0.1:${controllerPorts.get(id)}`],
  });
  nodes.set(id, node);
  return node;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test.before(async () => {
  for (const id of [1, 2, 3, 4]) {
    kafkaPorts.set(id, await freePort());
    controllerPorts.set(id, await freePort());
  }
  initialVoters = [1, 2, 3].map((id) => `${id}@127.0.0.1:${controllerPorts.get(id)}`).join(',');
  await Promise.all([1, 2, 3].map((id) => start(id)));
});

test.after(async () => {
  for (const node of nodes.values()) await node.stop();
});

test('a node behind the compacted log catches up through the leader\'s snapshot and drops a topic deleted meanwhile', async () => {
  const leader = await leaderId();
  const lagging = [1, 2, 3].find((id) => id !== leader)!;
  const created = await createTopic(leader, 'doomed', [{ partitionIndex: 0, brokerIds: [lagging] }]);
  assert.is(created.topics[0].errorCode, 0);
  const laggingNode = nodes.get(lagging)!;
  await until('the doomed partition on the lagging node', async () => fs.existsSync(path.join(laggingNode.dataDir, 'logs', 'doomed-0')));
  await laggingNode.stop();
  nodes.delete(lagging);
  const deleted = await admin(leader, 20, 4, { topicNames: ['doomed'], timeoutMs: 10000 });
  assert.is(deleted.responses[0].errorCode, 0);
  // Each creation is one metadata entry: well past the snapshot interval of 20.
  for (let i = 0; i < 45; i++) assert.is((await createTopic(leader, `t${i}`)).topics[0].errorCode, 0);
  const back = await start(lagging, laggingNode.dataDir);
  await until('the snapshot install', async () => /installing a metadata snapshot from the leader/.test(back.logs()));
  let listing = '';
  await until('all topics on the returning node', async () => {
    listing = (await kcat(kafkaPorts.get(lagging)!, ['-L'])).stdout;
    return /topic "t44"/.test(listing);
  });
  assert.not.match(listing, /topic "doomed"/);
  assert.not.ok(fs.existsSync(path.join(laggingNode.dataDir, 'logs', 'doomed-0')), 'the deleted topic\'s log is gone from the returning node');
  assert.ok(fs.readdirSync(path.join(laggingNode.dataDir, '__cluster_metadata')).some((n) => n.endsWith('.checkpoint')), 'the snapshot is on its disk');
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
  const fourth = await start(4);
  let listing = '';
  await until('the observer to list four brokers and the topics', async () => {
    listing = (await kcat(kafkaPorts.get(4)!, ['-L'])).stdout;
    return /4 brokers:/.test(listing) && /topic "t44"/.test(listing);
  });
  assert.match(/not a voter: following the metadata log as an observer/.test(fourth.logs()) ? 'yes' : 'no', /yes/);
  const leader = await leaderId();
  const status = await cli(['cluster', 'status', '--bootstrap', `127.0.0.1:${kafkaPorts.get(leader)}`, '--controller', `127.0.0.1:${controllerPorts.get(leader)}`, '--json']);
  assert.is(status.code, 0, status.stderr);
  assert.ok(JSON.parse(status.stdout).quorum.observers.some((o: { nodeId: number }) => o.nodeId === 4), 'the leader lists node 4 as an observer');

  // Asked through a follower: the answer names the leader, which the CLI then asks.
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const added = await cli(['cluster', 'add-voter', '--node-id', '4', '--controller', `127.0.0.1:${controllerPorts.get(follower)}`]);
  assert.is(added.code, 0, added.stderr);
  await until('every node to see four voters', async () => {
    const views = await Promise.all([1, 2, 3, 4].map((id) => describeQuorum(id)));
    const view = await describeQuorum(await leaderId());
    return views.every((v) => v !== null) && view?.voters.length === 4;
  });
  const again = await cli(['cluster', 'add-voter', '--node-id', '4', '--controller', `127.0.0.1:${controllerPorts.get(leader)}`]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already a voter/);
  const unknown = await cli(['cluster', 'add-voter', '--node-id', '9', '--controller', `127.0.0.1:${controllerPorts.get(leader)}`]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /has not registered/);
  const wrongType = await cli(['cluster', 'remove-voter', '--node-id', 'two']);
  assert.is(wrongType.code, 2);
  assert.match(wrongType.stderr, /--node-id/);

  const removedId = [1, 2, 3].find((id) => id !== leader)!;
  const removed = await cli(['cluster', 'remove-voter', '--node-id', String(removedId), '--controller', `127.0.0.1:${controllerPorts.get(leader)}`]);
  assert.is(removed.code, 0, removed.stderr);
  const voterIds = async () => ((await describeQuorum(await leaderId()))?.voters ?? []).map((v: { nodeId: number }) => v.nodeId).sort();
  await until('three voters without the removed one', async () => JSON.stringify(await voterIds()) === JSON.stringify([1, 2, 3, 4].filter((id) => id !== removedId)));
  assert.is((await createTopic(removedId, 'after-membership')).topics[0].errorCode, 0, 'the demoted node still serves and forwards');

  // Node 4 restarts with the same --voters flag (1,2,3), yet stays a voter: the log says so.
  const dir = fourth.dataDir;
  await fourth.stop();
  nodes.delete(4);
  await start(4, dir);
  await until('node 4 back in the voter set', async () => (await voterIds()).includes(4));
  const view4 = await describeQuorum(4);
  assert.ok(view4 && view4.leaderId > 0, 'node 4 follows a leader');
  assert.is((await createTopic(4, 'after-restart')).topics[0].errorCode, 0);
});

test.run();
