// Hostile and broken input against a real broker: each gets a Kafka error code or a closed
// connection, the process stays up, and other connections and stored data are unaffected.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { API_VERSIONS_V0, BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    config: { 'socket.request.max.bytes': '1048576', 'brook.max.partitions.per.request': '50' },
  });
});

test.after(async () => {
  assert.ok(broker.alive(), 'broker still alive after everything');
  await broker.stop();
});

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

async function stillServing() {
  const { frame } = await rawRequest(broker.port, API_VERSIONS_V0);
  assert.ok(frame, 'a new connection still gets ApiVersions answered');
}

function decode(apiKey: number, version: number, frame: Buffer, headerVersion = 0) {
  const reader = new Reader(frame);
  decodeResponseHeader(reader, headerVersion);
  return responseCodec(apiKey, version).decode(reader);
}

test('garbage header closes the connection', async () => {
  const result = await rawRequest(broker.port, hex('00000003 ffffff'));
  assert.ok(result.closed);
  await stillServing();
});

test('absurd and negative frame sizes close before allocation', async () => {
  assert.ok((await rawRequest(broker.port, hex('7fffffff 0012'))).closed);
  assert.ok((await rawRequest(broker.port, hex('ffffff00 0012'))).closed);
  // Just over socket.request.max.bytes (1 MiB here).
  assert.ok((await rawRequest(broker.port, hex('00100001 0012'))).closed);
  await stillServing();
});

test('a truncated frame followed by a client close leaves the broker fine', async () => {
  await new Promise<void>((resolve) => {
    const socket = net.connect(broker.port, '127.0.0.1', () => {
      socket.end(hex('00000020 0012 0000 0000'));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  await stillServing();
});

test('unknown API key closes the connection', async () => {
  const frame = hex('0000000a 03e7 0000 00000007 ffff');
  assert.ok((await rawRequest(broker.port, frame)).closed);
  await stillServing();
});

test('ApiVersions at an unsupported version is answered in v0 layout with UNSUPPORTED_VERSION', async () => {
  const frame = hex('0000000a 0012 0063 0000002a ffff');
  const { frame: response } = await rawRequest(broker.port, frame);
  assert.ok(response);
  const body = decode(18, 0, response!);
  assert.is(response!.readInt32BE(0), 42);
  assert.is(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  const produce = body.apiKeys.find((k: { apiKey: number }) => k.apiKey === ApiKey.Produce);
  // Produce is listed from 0 as on Kafka 4 (KAFKA-18659), though 3 is the first served.
  assert.equal([produce.minVersion, produce.maxVersion], [0, 13]);
});

test('Produce v0-2 (listed in ApiVersions, not served) closes the connection without an answer, as Kafka 4 does', async () => {
  for (const version of [0, 1, 2]) {
    const frame = encodeRequestFrame(
      { apiKey: ApiKey.Produce, apiVersion: version, correlationId: 5, clientId: 't' },
      requestCodec(ApiKey.Produce, version),
      {
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'x', partitionData: [{ index: 0, records: null }] }],
      },
    );
    const result = await rawRequest(broker.port, frame);
    assert.is(result.frame, null, `Produce v${version} gets no response`);
    assert.ok(result.closed, `Produce v${version} closes the connection`);
  }
  await stillServing();
});

test('a known API below the served range gets UNSUPPORTED_VERSION; beyond any schema, a close', async () => {
  const fetchV3 = encodeRequestFrame(
    { apiKey: ApiKey.Fetch, apiVersion: 3, correlationId: 5, clientId: 't' },
    requestCodec(ApiKey.Fetch, 3),
    {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1024,
      topics: [{ topic: 'x', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
    },
  );
  const { frame } = await rawRequest(broker.port, fetchV3);
  assert.ok(frame);
  const body = decode(ApiKey.Fetch, 3, frame!);
  assert.is(body.responses[0].partitions[0].errorCode, ErrorCode.UNSUPPORTED_VERSION);
  const fetchV40 = hex('0000000a 0001 0028 00000009 ffff');
  assert.ok((await rawRequest(broker.port, fetchV40)).closed);
  await stillServing();
});

test('absurd array length inside a body closes the connection', async () => {
  // Metadata v1 whose topics array claims 2^31-1 entries.
  const frame = hex('0000000e 0003 0001 0000000b ffff 7fffffff');
  assert.ok((await rawRequest(broker.port, frame)).closed);
  await stillServing();
});

test('a corrupt batch gets CORRUPT_MESSAGE and nothing is stored', async () => {
  await kcat(broker.port, ['-P', '-t', 'guarded'], 'good\n');
  const batch = encodeRecordBatchSync({ records: [{ key: 'k', value: 'evil' }] });
  batch[batch.length - 2] ^= 0xff; // inside the CRC-covered range
  const frame = encodeRequestFrame(
    { apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 9, clientId: 't' },
    requestCodec(ApiKey.Produce, 7),
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'guarded', partitionData: [{ index: 0, records: batch }] }],
    },
  );
  const { frame: response } = await rawRequest(broker.port, frame);
  const body = decode(0, 7, response!);
  assert.is(body.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
  const read = await kcat(broker.port, ['-C', '-t', 'guarded', '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
  assert.is(read.stdout.trim(), 'good');
});

test('a truncated record set and a batch with a lying length are refused', async () => {
  const batch = encodeRecordBatchSync({ records: [{ value: 'v' }] });
  for (const records of [batch.subarray(0, batch.length - 5), Buffer.concat([batch, batch.subarray(0, 20)])]) {
    const frame = encodeRequestFrame(
      { apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 10, clientId: 't' },
      requestCodec(ApiKey.Produce, 7),
      {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'guarded', partitionData: [{ index: 0, records }] }],
      },
    );
    const { frame: response } = await rawRequest(broker.port, frame);
    assert.is(decode(0, 7, response!).responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
  }
});

test('too many partitions in one request gets INVALID_REQUEST', async () => {
  const partitionData = Array.from({ length: 60 }, (_, index) => ({
    index,
    records: encodeRecordBatchSync({ records: [{ value: 'v' }] }),
  }));
  const frame = encodeRequestFrame(
    { apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 11, clientId: 't' },
    requestCodec(ApiKey.Produce, 7),
    {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'guarded', partitionData }],
    },
  );
  const { frame: response } = await rawRequest(broker.port, frame);
  assert.is(decode(0, 7, response!).responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUEST);
});

test('unknown topic and partition get UNKNOWN_TOPIC_OR_PARTITION; bad acks get INVALID_REQUIRED_ACKS', async () => {
  const records = encodeRecordBatchSync({ records: [{ value: 'v' }] });
  const build = (acks: number, name: string, index: number) =>
    encodeRequestFrame(
      { apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 12, clientId: 't' },
      requestCodec(ApiKey.Produce, 7),
      {
        transactionalId: null,
        acks,
        timeoutMs: 1000,
        topicData: [{ name, partitionData: [{ index, records }] }],
      },
    );
  const code = async (frame: Buffer) =>
    decode(0, 7, (await rawRequest(broker.port, frame)).frame!).responses[0].partitionResponses[0].errorCode;
  assert.is(await code(build(1, 'no-such-topic', 0)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.is(await code(build(1, 'guarded', 7)), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.is(await code(build(2, 'guarded', 0)), ErrorCode.INVALID_REQUIRED_ACKS);
});

test('hundreds of pipelined requests are all answered, in order', async () => {
  const count = 500;
  const frames = Array.from({ length: count }, (_, i) => {
    const frame = Buffer.from(API_VERSIONS_V0);
    frame.writeInt32BE(i + 1, 8);
    return frame;
  });
  const ids = await new Promise<number[]>((resolve, reject) => {
    const socket = net.connect(broker.port, '127.0.0.1', () => socket.write(Buffer.concat(frames)));
    let data = Buffer.alloc(0);
    const seen: number[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} answers`)), 10000);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        seen.push(data.readInt32BE(4));
        data = data.subarray(4 + data.readInt32BE(0));
      }
      if (seen.length === count) {
        clearTimeout(timer);
        socket.destroy();
        resolve(seen);
      }
    });
    socket.on('error', reject);
  });
  assert.equal(
    ids,
    Array.from({ length: count }, (_, i) => i + 1),
  );
});

test.run();
