// Memory stays bounded against clients that ask and never read. Each of several sockets
// pipelines 2,000 Fetches of data that is not in the tail cache (it is read from the
// segment files) and never reads an answer. The broker's resident memory must stay under a
// stated bound while that goes on, and another client keeps producing and fetching.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec } from '../../protocol/codec';
import { encodeRequestHeader } from '../../protocol/header';
import { Writer } from '../../protocol/primitives';
import { Admin } from '../../src/client/admin';
import { Producer } from '../../src/client/producer';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { delay } from '../helpers/wait';

const TOPIC = 'cold';
const SLOW_READERS = 8;
const FETCHES_EACH = 2000;
const MIB = 1024 * 1024;
/** What the slow readers may add to the broker's RSS, all of them together. */
const RSS_GROWTH_BOUND = 320 * MIB;

function rssBytes(pid: number): number {
  let status = '';
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0; // the process has gone
  }
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** One Fetch v4 frame (size prefix included) for the whole partition from offset 0. */
function fetchFrame(correlationId: number): Buffer {
  const writer = new Writer();
  encodeRequestHeader(writer, { apiKey: ApiKey.Fetch, apiVersion: 4, correlationId, clientId: 'slow' });
  requestCodec(ApiKey.Fetch, 4).encode(writer, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 * MIB,
    isolationLevel: 0,
    topics: [
      {
        topic: TOPIC,
        partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 8 * MIB }],
      },
    ],
  } as never);
  const body = writer.toBuffer();
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    // A small tail cache: the slow readers' data comes from the files.
    config: { 'brook.log.tail.cache.bytes': String(MIB) },
  });
});

test.after(async () => {
  await broker?.stop();
});

test('sockets that pipeline thousands of Fetches and never read keep the RSS bounded', async () => {
  const bootstrap = [`127.0.0.1:${broker.port}`];
  const admin = new Admin({ bootstrap });
  await admin.createTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1 }]);
  await admin.createTopics([{ name: 'live', partitions: 1, replicationFactor: 1 }]);
  admin.close();
  const producer = new Producer({ bootstrap, lingerMs: 5, batchSize: MIB });
  await producer.connect();
  const value = Buffer.alloc(64 * 1024, 0x61);
  // 32 MiB of cold data.
  for (let sent = 0; sent < 512; sent += 64) {
    await Promise.all(Array.from({ length: 64 }, () => producer.send({ topic: TOPIC, partition: 0, value })));
  }
  await delay(500);
  const before = rssBytes(broker.pid);

  const sockets: net.Socket[] = [];
  try {
    for (let s = 0; s < SLOW_READERS; s++) {
      const socket = net.connect(broker.port, '127.0.0.1');
      socket.on('error', () => undefined);
      // Never read: the kernel's receive buffer fills, then the broker's send side.
      socket.pause();
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      const frames: Buffer[] = [];
      for (let i = 0; i < FETCHES_EACH; i++) frames.push(fetchFrame(i + 1));
      socket.write(Buffer.concat(frames));
    }

    // Meanwhile another client is served: produce and read back, several times.
    const reader = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 5000 });
    await reader.connect();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(broker.pid))), 100);
    for (let round = 0; round < 12; round++) {
      await producer.send({ topic: 'live', partition: 0, value: Buffer.from(`live ${round}`) });
      const answer = await reader.request(ApiKey.Fetch, 4, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: MIB,
        isolationLevel: 0,
        topics: [{ topic: 'live', partitions: [{ partition: 0, fetchOffset: round, partitionMaxBytes: MIB }] }],
      } as never);
      const p = (answer as { responses: { partitions: { errorCode: number; records: Buffer | null }[] }[] })
        .responses[0].partitions[0];
      assert.is(p.errorCode, 0);
      assert.ok(p.records && p.records.length > 0, `round ${round}: the live client reads its record`);
      peak = Math.max(peak, rssBytes(broker.pid));
      await delay(250);
    }
    clearInterval(sampler);
    reader.close();
    const growth = peak - before;
    console.log(`RSS before ${(before / MIB).toFixed(0)} MiB, peak ${(peak / MIB).toFixed(0)} MiB`);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MIB).toFixed(0)} MiB`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await producer.close();
  }
});

test.run();
