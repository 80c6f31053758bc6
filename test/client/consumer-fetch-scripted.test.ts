// How the consumer fetches, against two scripted nodes: partition 0 leads on node 1, which
// has six records and answers at once; partition 1 leads on node 2, which holds every fetch
// for its full long poll. Records of node 1 must be handed out while node 2's poll is open
// (one fetch per leader, each on its own), a partition is fetched again only once what it
// fetched is handed out, and a paused partition's fetched records wait for resume().

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { Consumer, ConsumerRecord } from '../../src/client/consumer';
import { scriptedNode, ScriptedNode, ScriptedRequest } from '../helpers/scripted-node';

const VERSIONS = [
  { apiKey: 1, minVersion: 4, maxVersion: 12 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
];
const RECORDS = 6;
const PER_FETCH = 3;
const LONG_POLL_MS = 4000;

let nodes: ScriptedNode[] = [];

function metadata(): unknown {
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
        partitions: [0, 1].map((p) => ({
          errorCode: 0,
          partitionIndex: p,
          leaderId: p + 1,
          leaderEpoch: 0,
          replicaNodes: [p + 1],
          isrNodes: [p + 1],
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
  };
}

function fetchAnswer(partition: number, records: Buffer | null): unknown {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 't',
        partitions: [
          {
            partitionIndex: partition,
            errorCode: 0,
            highWatermark: BigInt(RECORDS),
            lastStableOffset: BigInt(RECORDS),
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          },
        ],
      },
    ],
  };
}

/** Node `leader` (1 or 2): metadata, and fetches of its one partition. */
function script(leader: number) {
  return (request: ScriptedRequest): unknown => {
    if (request.apiKey === 3) return metadata();
    if (request.apiKey !== 1) return 'drop';
    const asked = request.body.topics[0].partitions[0];
    const from = Number(asked.fetchOffset);
    if (leader === 1 && from < RECORDS) {
      const count = Math.min(PER_FETCH, RECORDS - from);
      const batch = encodeRecordBatchSync({
        baseOffset: from,
        records: Array.from({ length: count }, (_, i) => ({ value: `r${from + i}` })),
      });
      return fetchAnswer(asked.partition, batch);
    }
    // Nothing new: hold the fetch for its long poll, as a broker does.
    return new Promise((resolve) =>
      setTimeout(
        () => resolve(fetchAnswer(asked.partition, null)),
        Math.min(request.body.maxWaitMs, LONG_POLL_MS),
      ).unref(),
    );
  };
}

function fetchesTo(node: ScriptedNode): number[] {
  return node.seen.filter((r) => r.apiKey === 1).map((r) => Number(r.body.topics[0].partitions[0].fetchOffset));
}

test.before.each(async () => {
  nodes = [];
  nodes.push(await scriptedNode(VERSIONS, script(1)));
  nodes.push(await scriptedNode(VERSIONS, script(2)));
});

test.after.each(() => {
  for (const node of nodes) node.close();
});

test("one leader's records are handed out while another leader's long poll is open", async () => {
  const consumer = new Consumer({ bootstrap: [`127.0.0.1:${nodes[0].port}`], maxWaitMs: LONG_POLL_MS });
  consumer.assign([
    { topic: 't', partition: 0, offset: 0 },
    { topic: 't', partition: 1, offset: 0 },
  ]);
  try {
    const started = Date.now();
    const got: ConsumerRecord[] = [];
    for (let i = 0; i < RECORDS; i++) got.push((await consumer.next())!);
    const elapsed = Date.now() - started;
    assert.equal(
      got.map((r) => r.value!.toString()),
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'],
    );
    assert.ok(
      elapsed < LONG_POLL_MS / 2,
      `six records of node 1 took ${elapsed} ms, behind node 2's ${LONG_POLL_MS} ms long poll`,
    );
    assert.equal(fetchesTo(nodes[1]).slice(0, 1), [0], 'node 2 was asked too');
    assert.equal(
      fetchesTo(nodes[0]).slice(0, 2),
      [0, 3],
      'node 1 asked from 0, then from 3 once the first three were handed out',
    );
  } finally {
    await consumer.close();
  }
});

test('a partition is not fetched again while its fetched records wait, and a paused one hands out nothing until resumed', async () => {
  const consumer = new Consumer({ bootstrap: [`127.0.0.1:${nodes[0].port}`], maxWaitMs: 200 });
  consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
  try {
    assert.is((await consumer.next())!.value!.toString(), 'r0');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fetchesTo(nodes[0]), [0], 'no second fetch while r1 and r2 wait');
    assert.is(consumer.bufferedCount, 2);
    consumer.pause([{ topic: 't', partition: 0 }]);
    let handed: string | null = null;
    const pending = consumer.next().then((r) => (handed = r?.value?.toString() ?? null));
    await new Promise((r) => setTimeout(r, 600));
    assert.is(handed, null, 'a paused partition hands out nothing');
    consumer.resume([{ topic: 't', partition: 0 }]);
    await pending;
    assert.is(handed, 'r1');
    assert.is((await consumer.next())!.value!.toString(), 'r2');
    assert.is(consumer.position('t', 0), 3);
  } finally {
    await consumer.close();
  }
});

test.run();
