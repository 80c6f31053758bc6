// The flows the client's cluster layer owns for the consumer, Admin, the CLI and the HTTP
// API, against scripted nodes: FindCoordinator asked again while the answer is retriable
// (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE) and at the newest version both
// sides speak up to v3, thrown at once when it is not (GROUP_AUTHORIZATION_FAILED), and
// given up at its deadline; ListOffsets sent once to each partition's leader with only
// that leader's partitions, each partition answered in the order asked.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, KafkaError } from '../../src/client/cluster';
import { scriptedNode, ScriptedNode, ScriptedRequest } from '../helpers/scripted-node';

const VERSIONS = [
  { apiKey: 2, minVersion: 0, maxVersion: 7 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
  { apiKey: 10, minVersion: 0, maxVersion: 2 },
];

function metadata(nodes: ScriptedNode[], leaders: number[]): unknown {
  return {
    throttleTimeMs: 0,
    brokers: nodes.map((n, i) => ({ nodeId: i + 1, host: '127.0.0.1', port: n.port, rack: null })),
    clusterId: 'scripted',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        isInternal: false,
        partitions: leaders.map((leader, p) => ({
          errorCode: 0,
          partitionIndex: p,
          leaderId: leader,
          leaderEpoch: 0,
          replicaNodes: [Math.max(leader, 1)],
          isrNodes: [Math.max(leader, 1)],
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
  };
}

function coordinatorAnswer(errorCode: number, port: number): unknown {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage: null,
    nodeId: errorCode === 0 ? 1 : -1,
    host: errorCode === 0 ? '127.0.0.1' : '',
    port: errorCode === 0 ? port : -1,
  };
}

test('FindCoordinator: retriable answers are asked again until one names the coordinator', async () => {
  const codes = [14, 15, 0];
  const node = await scriptedNode(VERSIONS, (request: ScriptedRequest, port) =>
    request.apiKey === 10 ? coordinatorAnswer(codes.shift() ?? 0, port) : 'drop',
  );
  const cluster = new Cluster({ bootstrap: [`127.0.0.1:${node.port}`] });
  try {
    const found = await cluster.findCoordinator('g', 5000);
    assert.equal(found, { nodeId: 1, host: '127.0.0.1', port: node.port });
    const asked = node.seen.filter((r) => r.apiKey === 10);
    assert.is(asked.length, 3);
    assert.equal([...new Set(asked.map((r) => r.apiVersion))], [2], 'the newest version both sides speak');
  } finally {
    cluster.close();
    node.close();
  }
});

test('FindCoordinator: a non-retriable answer is thrown at once, a retriable one at the deadline', async () => {
  let code = 30;
  const node = await scriptedNode(VERSIONS, (request: ScriptedRequest, port) =>
    request.apiKey === 10 ? coordinatorAnswer(code, port) : 'drop',
  );
  const cluster = new Cluster({ bootstrap: [`127.0.0.1:${node.port}`] });
  try {
    const refused = await cluster.findCoordinator('g', 5000).catch((error: unknown) => error);
    assert.instance(refused, KafkaError);
    assert.is((refused as KafkaError).code, 30);
    assert.is(node.seen.filter((r) => r.apiKey === 10).length, 1, 'asked once');
    code = 15;
    const started = Date.now();
    const late = await cluster.findCoordinator('g', 400).catch((error: unknown) => error);
    assert.is((late as KafkaError).code, 15);
    const took = Date.now() - started;
    assert.ok(took >= 350 && took < 3000, `gave up at the deadline (${took} ms)`);
  } finally {
    cluster.close();
    node.close();
  }
});

test('ListOffsets: one request per leader with its own partitions; no leader and errors per partition', async () => {
  const nodes: ScriptedNode[] = [];
  // Partitions 0 and 2 lead on node 1, 1 on node 2, 3 has no leader.
  const leaders = [1, 2, 1, -1];
  const script = (request: ScriptedRequest): unknown => {
    if (request.apiKey === 3) return metadata(nodes, leaders);
    if (request.apiKey !== 2) return 'drop';
    return {
      throttleTimeMs: 0,
      topics: request.body.topics.map((t: any) => ({
        name: t.name,
        partitions: t.partitions.map((p: any) => ({
          partitionIndex: p.partitionIndex,
          errorCode: p.partitionIndex === 2 ? 6 : 0,
          oldStyleOffsets: [],
          timestamp: -1n,
          offset: BigInt(100 + p.partitionIndex),
          leaderEpoch: 0,
        })),
      })),
    };
  };
  nodes.push(await scriptedNode(VERSIONS, script), await scriptedNode(VERSIONS, script));
  const cluster = new Cluster({ bootstrap: [`127.0.0.1:${nodes[0].port}`] });
  try {
    const listed = await cluster.listOffsets(
      [3, 2, 1, 0].map((partition) => ({ topic: 't', partition, timestamp: -1 })),
    );
    assert.equal(
      listed.map((l) => [l.partition, l.errorCode, l.offset, l.error]),
      [
        [3, 5, -1, 'no leader'],
        [2, 6, -1, 'NOT_LEADER_OR_FOLLOWER'],
        [1, 0, 101, null],
        [0, 0, 100, null],
      ],
    );
    const asked = nodes.map((n) => n.seen.filter((r) => r.apiKey === 2));
    assert.is(asked[0].length, 1);
    assert.is(asked[1].length, 1);
    assert.equal(asked[0][0].body.topics[0].partitions.map((p: any) => p.partitionIndex).sort(), [0, 2]);
    assert.equal(
      asked[1][0].body.topics[0].partitions.map((p: any) => p.partitionIndex),
      [1],
    );
    assert.is(asked[0][0].apiVersion, 7);
  } finally {
    cluster.close();
    for (const node of nodes) node.close();
  }
});

test.run();
