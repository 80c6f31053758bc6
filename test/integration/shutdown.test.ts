// Clean shutdown and connection limits: SIGTERM answers a parked long-poll before the
// socket closes, exits 0 and leaves a log that reopens without recovery; max.connections
// refuses the extra connection while the others keep working.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { KafkaConnection } from '../../src/client/connection';
import { API_VERSIONS_V0, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

test('SIGTERM answers in-flight requests, flushes, exits 0', async () => {
  const broker = await startBroker();
  await kcat(broker.port, ['-P', '-t', 'parked'], 'one\n');
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 20000 });
  await connection.connect();
  const parked = connection.request(1, 11, {
    replicaId: -1,
    maxWaitMs: 15000,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    topics: [{ topic: 'parked', partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
  });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  const code = await broker.stop('SIGTERM');
  const response = await parked;
  assert.is(code, 0);
  assert.ok(Date.now() - started < 10000, 'did not wait out the long-poll');
  assert.is(response.responses[0].partitions[0].errorCode, 0, 'the parked fetch was answered');
  assert.is(response.responses[0].partitions[0].highWatermark, 1);
  connection.close();
  assert.match(broker.logs(), /shutdown complete/);

  const again = await startBroker({ dataDir: broker.dataDir });
  try {
    assert.not.match(again.logs(), /truncated a torn or corrupt tail/);
    const read = await kcat(again.port, ['-C', '-t', 'parked', '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
    assert.is(read.stdout.trim(), 'one');
  } finally {
    await again.stop();
  }
});

test('max.connections refuses the extra connection, the others keep working', async () => {
  const broker = await startBroker({ config: { 'max.connections': '3' } });
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(broker.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      sockets.push(socket);
    }
    await new Promise((r) => setTimeout(r, 100));
    const extra = await rawRequest(broker.port, API_VERSIONS_V0, 2000);
    assert.ok(extra.closed, 'fourth connection closed');
    sockets.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const fine = await rawRequest(broker.port, API_VERSIONS_V0, 2000);
    assert.ok(fine.frame, 'a slot freed up');
    assert.match(broker.logs(), /max.connections reached/);
  } finally {
    for (const socket of sockets) socket.destroy();
    await broker.stop();
  }
});

test.run();
