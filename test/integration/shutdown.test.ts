// Clean shutdown and connection limits: SIGTERM answers a parked long-poll before the
// socket closes, exits 0 and leaves a log that reopens without recovery; max.connections
// refuses the extra connection while the others keep working.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { API_VERSIONS_V0, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

test('SIGTERM answers in-flight requests, flushes, exits 0', async () => {
  const broker = await startBroker();
  await kcat(broker.port, ['-P', '-t', 'parked'], 'one\n');
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 20000 });
  await connection.connect();
  const parked = connection.request(ApiKey.Fetch, 11, {
    replicaId: -1,
    maxWaitMs: 15000,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    topics: [
      {
        topic: 'parked',
        partitions: [
          { partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 },
        ],
      },
    ],
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

test('a corrupt quorum-state refuses to start with a clear message; a torn metadata log tail is cut', async () => {
  const broker = await startBroker();
  await kcat(broker.port, ['-P', '-t', 'kept'], 'v\n');
  await broker.stop();
  const metadataDir = path.join(broker.dataDir, '__cluster_metadata');
  const state = path.join(metadataDir, 'quorum-state');
  const original = fs.readFileSync(state);
  fs.writeFileSync(state, original.toString().replace(/"term":(\d+)/, '"term":9$1'));
  const refused = await startBroker({ dataDir: broker.dataDir }).then(
    (b) => b,
    (error: Error) => error,
  );
  assert.instance(refused, Error);
  assert.match((refused as Error).message, /quorum-state is corrupt .*refusing to start/);
  fs.writeFileSync(state, original);
  // A torn tail (half an entry appended after the last fsync'd one) is cut at start.
  fs.appendFileSync(path.join(metadataDir, 'raft.log'), Buffer.from('000000ff1234', 'hex'));
  const again = await startBroker({ dataDir: broker.dataDir });
  try {
    assert.match(again.logs(), /metadata log: cut a torn or corrupt tail/);
    const read = await kcat(again.port, ['-C', '-t', 'kept', '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
    assert.is(read.stdout.trim(), 'v', 'metadata and data intact');
  } finally {
    await again.stop();
  }
});

test('the metadata image starts from its snapshot; with that snapshot damaged and the log compacted, the node refuses to start', async () => {
  const config = { 'brook.metadata.snapshot.interval.entries': '5' };
  const broker = await startBroker({ config });
  for (let i = 0; i < 8; i++) assert.is((await kcat(broker.port, ['-P', '-t', `snap-${i}`], 'v\n')).code, 0);
  await broker.stop();
  const metadataDir = path.join(broker.dataDir, '__cluster_metadata');
  const checkpoints = fs
    .readdirSync(metadataDir)
    .filter((n) => n.endsWith('.checkpoint'))
    .sort();
  assert.ok(checkpoints.length > 0, 'snapshots were taken');
  const restarted = await startBroker({ dataDir: broker.dataDir, config });
  try {
    assert.match(restarted.logs(), /metadata image restored from snapshot/);
    const listing = (await kcat(restarted.port, ['-L'])).stdout;
    for (let i = 0; i < 8; i++) assert.match(listing, new RegExp(`topic "snap-${i}"`));
  } finally {
    await restarted.stop();
  }
  // Damage every snapshot: the compacted log alone cannot rebuild the image.
  for (const name of fs.readdirSync(metadataDir).filter((n) => n.endsWith('.checkpoint'))) {
    const file = path.join(metadataDir, name);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
  }
  const refused = await startBroker({ dataDir: broker.dataDir, config }).then(
    (b) => b,
    (error: Error) => error,
  );
  if (!(refused instanceof Error)) await refused.stop();
  assert.instance(refused, Error);
  assert.match(
    (refused as Error).message,
    /snapshot .*missing or damaged\. Refusing to start rather than serve wrong metadata/,
  );
});

test('a partition directory the metadata does not know is set aside, not read or deleted', async () => {
  const broker = await startBroker();
  await broker.stop();
  const stray = path.join(broker.dataDir, 'logs', 'ghost-0');
  fs.mkdirSync(stray, { recursive: true });
  fs.writeFileSync(path.join(stray, '00000000000000000000.log'), Buffer.alloc(10));
  const again = await startBroker({ dataDir: broker.dataDir });
  try {
    assert.not.ok(fs.existsSync(stray));
    assert.ok(
      fs
        .readdirSync(path.join(broker.dataDir, 'logs'))
        .some((name) => name.startsWith('ghost-0.') && name.endsWith('-stray')),
    );
    // The log line is written before the listener answers, but stderr is read by this
    // process in its own time: wait for it rather than read it once.
    await until(() => /set aside/.test(again.logs()), {
      what: () => `the 'set aside' log line:\n${again.logs()}`,
      timeoutMs: 10_000,
    });
  } finally {
    await again.stop();
  }
});

test.run();
