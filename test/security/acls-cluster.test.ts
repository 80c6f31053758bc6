// ACLs on a three-node cluster in this process (StandardAuthorizer; the PLAINTEXT principal
// ANONYMOUS is the super user, as the nodes forward as it): ACLs created and deleted
// through a node that is not the active controller are answered once that node applied
// them, and every node describes the same ACLs; they survive the active controller being
// stopped (another takes over and takes new ACLs; the stopped node catches up when it
// returns) and a full restart of every node from its data directory (replayed from the
// metadata log and snapshots, taken every few entries here).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { userPrincipal } from '../../src/security/principal';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { CLUSTER_SECRET_KEY, TEST_RAFT_CONFIG } from '../helpers/broker-process';
import { freePorts } from '../helpers/ports';
import { until } from '../helpers/wait';

const IDS = [1, 2, 3];
const nodes = new Map<number, RunningBroker>();
let dir: string;
let voters: string;
let controllerPorts: number[];

async function start(id: number): Promise<RunningBroker> {
  const running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${controllerPorts[id - 1]}`,
      http: 'off',
      'node-id': String(id),
      voters,
      'data-dir': path.join(dir, `node${id}`),
      'log-level': 'error',
      config: path.join(dir, 'node.properties'),
    }),
    silentLogger,
  );
  nodes.set(id, running);
  return running;
}

async function stop(id: number): Promise<void> {
  const running = nodes.get(id);
  nodes.delete(id);
  await running?.close();
}

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-acls-cluster-'));
  controllerPorts = await freePorts(IDS.length);
  voters = IDS.map((id) => `${id}@127.0.0.1:${controllerPorts[id - 1]}`).join(',');
  fs.writeFileSync(
    path.join(dir, 'node.properties'),
    Object.entries({
      ...TEST_RAFT_CONFIG,
      [CLUSTER_SECRET_KEY]: randomBytes(24).toString('hex'),
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:ANONYMOUS',
      'brook.metadata.snapshot.interval.entries': '4',
      // A restarted node registers again once its old session has expired.
      'broker.session.timeout.ms': '2000',
    })
      .map(([key, value]) => `${key}=${value}`)
      .join('\n'),
  );
  await Promise.all(IDS.map(start));
});

test.after(async () => {
  await Promise.all([...nodes.keys()].map(stop));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function connectionTo(id: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: nodes.get(id)!.kafkaPort,
    requestTimeoutMs: 20_000,
    connectTimeoutMs: 2000,
  });
  await connection.connect();
  return connection;
}

async function request<T>(id: number, work: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = await connectionTo(id);
  try {
    return await work(connection);
  } finally {
    connection.close();
  }
}

/** The active controller, once one running node is it and every running node agrees. */
function controllerId(): Promise<number> {
  return until(
    () => {
      const leaders = [...nodes.values()].map((n) => n.broker.quorum.leaderId);
      const id = leaders[0];
      return id > 0 && nodes.get(id)?.broker.quorum.isLeader && leaders.every((l) => l === id) ? id : null;
    },
    { what: 'an active controller every node knows', timeoutMs: 20_000 },
  );
}

const FILTER = {
  resourceTypeFilter: 1,
  resourceNameFilter: null,
  patternTypeFilter: 1,
  principalFilter: null,
  hostFilter: null,
  operation: 1,
  permissionType: 1,
};

/** DescribeAcls at node `id`: "name principal operation" of each ACL, sorted. */
async function describedAt(id: number): Promise<string[]> {
  const answer = await request(id, (c) => c.request(ApiKey.DescribeAcls, 3, FILTER));
  assert.is(answer.errorCode, ErrorCode.NONE, `DescribeAcls at node ${id}: ${answer.errorMessage}`);
  return answer.resources.flatMap((r) => r.acls.map((a) => `${r.resourceName} ${a.principal} ${a.operation}`)).sort();
}

/** Waits until every running node describes exactly `expected`. */
async function everyNodeDescribes(expected: string[]): Promise<void> {
  await until(
    async () => {
      for (const id of nodes.keys())
        if (JSON.stringify(await describedAt(id).catch(() => null)) !== JSON.stringify(expected)) return false;
      return true;
    },
    { what: () => `every node to describe ${expected.join(', ')}`, timeoutMs: 20_000 },
  );
}

function creation(resourceName: string, principal: string, operation = 3) {
  return {
    resourceType: 2,
    resourceName,
    resourcePatternType: 3,
    principal,
    host: '*',
    operation,
    permissionType: 3,
  };
}

async function create(id: number, creations: ReturnType<typeof creation>[]): Promise<void> {
  const answer = await request(id, (c) => c.request(ApiKey.CreateAcls, 3, { creations }));
  assert.equal(
    answer.results.map((r) => r.errorCode),
    creations.map(() => ErrorCode.NONE),
    JSON.stringify(answer.results),
  );
}

test('created and deleted through a non-controller: applied there when answered, seen by every node', async () => {
  const controller = await controllerId();
  const other = IDS.find((id) => id !== controller)!;
  await create(other, [creation('orders', 'User:alice'), creation('orders', 'User:bob', 4), creation('tmp', 'User:x')]);
  assert.equal(
    await describedAt(other),
    ['orders User:alice 3', 'orders User:bob 4', 'tmp User:x 3'],
    'the forwarding node answered once it had applied them',
  );
  const deleted = await request(other, (c) =>
    c.request(ApiKey.DeleteAcls, 3, {
      filters: [{ ...FILTER, resourceTypeFilter: 2, resourceNameFilter: 'tmp', patternTypeFilter: 3 }],
    }),
  );
  assert.equal(
    deleted.filterResults.map((r) => [r.errorCode, r.matchingAcls.map((m) => m.principal)]),
    [[ErrorCode.NONE, ['User:x']]],
  );
  assert.equal(await describedAt(other), ['orders User:alice 3', 'orders User:bob 4']);
  await everyNodeDescribes(['orders User:alice 3', 'orders User:bob 4']);
});

test('the active controller stopped: the others keep the ACLs and take new ones; it catches up', async () => {
  const controller = await controllerId();
  await stop(controller);
  await everyNodeDescribes(['orders User:alice 3', 'orders User:bob 4']);
  const next = await controllerId();
  assert.is.not(next, controller);
  const other = IDS.find((id) => id !== next && id !== controller)!;
  await create(other, [creation('payments', 'User:carol')]);
  await start(controller);
  await everyNodeDescribes(['orders User:alice 3', 'orders User:bob 4', 'payments User:carol 3']);
  // The authorizer of the returned node decides by them.
  const authorizer = nodes.get(controller)!.broker.authorizer!;
  const carol = userPrincipal('carol');
  assert.ok(authorizer.authorize(carol, '127.0.0.1', 3, 2, 'payments'));
  assert.not.ok(authorizer.authorize(carol, '127.0.0.1', 3, 2, 'orders'));
});

test('a full restart of every node from its data directory keeps the ACLs', async () => {
  // The active controller last, so that the others' controlled shutdowns find it.
  const controller = await controllerId();
  for (const id of IDS.filter((id) => id !== controller)) await stop(id);
  await stop(controller);
  await Promise.all(IDS.map(start));
  await controllerId();
  await everyNodeDescribes(['orders User:alice 3', 'orders User:bob 4', 'payments User:carol 3']);
});

test.run();
