// Failures the client recovers from by itself are reported, not swallowed: against a
// scripted node that answers metadata but drops every fetch, a standalone consumer keeps
// trying, and each dropped fetch reaches the onError option and the logger (at warn
// level) with what was being done. Without the options nothing is reported (silent), and
// a reporter that throws does not stop the consumer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Consumer } from '../../src/client/consumer';
import { scriptedNode, ScriptedRequest } from '../helpers/scripted-node';
import { until } from '../helpers/wait';

const VERSIONS = [
  { apiKey: 1, minVersion: 4, maxVersion: 12 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
];

function metadata(port: number): unknown {
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
    clusterId: 'scripted',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 0,
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
  };
}

const script = (request: ScriptedRequest, port: number): unknown => (request.apiKey === 3 ? metadata(port) : 'drop');

test('a dropped fetch reaches onError and the logger; a throwing reporter does not stop the consumer', async () => {
  const node = await scriptedNode(VERSIONS, script);
  const reported: string[] = [];
  const warned: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (msg: string, fields?: Record<string, unknown>) => warned.push({ msg, fields }),
  };
  const consumer = new Consumer({
    bootstrap: [`127.0.0.1:${node.port}`],
    maxWaitMs: 50,
    logger,
    onError: (error, context) => {
      reported.push(`${context}: ${(error as Error).message}`);
      throw new Error('a reporter that throws');
    },
  });
  try {
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const polling = consumer.next();
    await until(() => reported.length >= 2, { what: 'two reported fetch failures', timeoutMs: 5000, intervalMs: 20 });
    assert.match(reported[0], /^fetch from broker 1: /);
    assert.ok(
      warned.some((w) => /fetch from broker 1 failed/.test(w.msg)),
      JSON.stringify(warned),
    );
    assert.ok(node.seen.filter((r) => r.apiKey === 1).length >= 2, 'the consumer kept fetching');
    await consumer.close();
    assert.is(await polling, null);
  } finally {
    await consumer.close();
    node.close();
  }
});

test('without a logger or onError the same failures are silent', async () => {
  const node = await scriptedNode(VERSIONS, script);
  const consumer = new Consumer({ bootstrap: [`127.0.0.1:${node.port}`], maxWaitMs: 50 });
  try {
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    const polling = consumer.next();
    await until(() => node.seen.filter((r) => r.apiKey === 1).length >= 2, {
      what: 'two fetches at the node',
      timeoutMs: 5000,
      intervalMs: 20,
    });
    await consumer.close();
    assert.is(await polling, null);
  } finally {
    await consumer.close();
    node.close();
  }
});

test.run();
