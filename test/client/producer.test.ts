// The bundled producer. Against a scripted broker: a Produce whose connection breaks
// before the answer is sent again with the same bytes and sequence number, a retriable
// error is retried after a metadata refresh, and the next batch of the partition carries
// the next sequence. Against a real Brook process: keyed records land on the Java
// client's partitions with consecutive offsets, every compression codec reads back with
// kcat, acks 0 and 1 work without idempotence, and a full buffer.memory makes send() fail
// after max.block.ms while the broker is paused, and recover once it resumes. A batch
// refused for good frees its sequence numbers for the batches behind it; records are
// copied when send() takes them, and batch buffers are reused without mixing bytes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordBatchView } from '../../protocol/record-batch';
import { BufferExhaustedError, Producer } from '../../src/client/producer';
import { partitionForKey } from '../../src/client/partitioner';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { scriptedNode, ScriptedNode } from '../helpers/scripted-node';

/** A one-broker Kafka stand-in answering from a script; `produce` decides each Produce. */
async function scriptedBroker(
  produce: (body: any, n: number) => 'drop' | { errorCode: number; baseOffset: number },
  topicKnown: (name: string, metadataRequests: number) => boolean = (name) => name === 't',
): Promise<ScriptedNode> {
  let produces = 0;
  let metadataRequests = 0;
  const versions = [
    { apiKey: 0, minVersion: 3, maxVersion: 9 },
    { apiKey: 3, minVersion: 0, maxVersion: 12 },
    { apiKey: 18, minVersion: 0, maxVersion: 3 },
    { apiKey: 22, minVersion: 0, maxVersion: 4 },
  ];
  return scriptedNode(versions, ({ apiKey, body }, port) => {
    if (apiKey === 3) {
      return {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
        clusterId: 'scripted',
        controllerId: 1,
        topics: ((body.topics as { name: string }[] | null) ?? [{ name: 't' }]).map(({ name }) =>
          topicKnown(name, ++metadataRequests)
            ? {
                errorCode: 0,
                name,
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
              }
            : {
                errorCode: 3,
                name,
                topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
                isInternal: false,
                partitions: [],
                topicAuthorizedOperations: -2147483648,
              },
        ),
        clusterAuthorizedOperations: -2147483648,
      };
    }
    if (apiKey === 22) return { throttleTimeMs: 0, errorCode: 0, producerId: 4242n, producerEpoch: 3 };
    if (apiKey !== 0) return 'drop';
    const decision = produce(body, produces++);
    if (decision === 'drop') return 'drop';
    return {
      responses: [
        {
          name: body.topicData[0].name,
          partitionResponses: [
            {
              index: 0,
              errorCode: decision.errorCode,
              baseOffset: BigInt(decision.baseOffset),
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
    };
  });
}

function producedBatch(body: any): { bytes: Buffer; view: RecordBatchView } {
  const records = body.topicData[0].partitionData[0].records;
  const bytes = Array.isArray(records) ? Buffer.concat(records) : (records as Buffer);
  return { bytes, view: new RecordBatchView(bytes) };
}

test('a retried batch goes out byte for byte with its sequence; the next batch gets the next sequence', async () => {
  const broker = await scriptedBroker((_body, n) =>
    n === 0 ? 'drop' : n === 1 ? { errorCode: 6, baseOffset: -1 } : { errorCode: 0, baseOffset: 100 + n },
  );
  const producer = new Producer({
    bootstrap: [`127.0.0.1:${broker.port}`],
    lingerMs: 0,
    retryBackoffMs: 10,
    requestTimeoutMs: 2000,
  });
  try {
    await producer.connect();
    const first = await Promise.all([
      producer.send({ topic: 't', value: 'a' }),
      producer.send({ topic: 't', value: 'b' }),
    ]);
    const produces = broker.seen.filter((s) => s.apiKey === 0);
    assert.is(produces.length, 3, 'dropped, NOT_LEADER_OR_FOLLOWER, then stored');
    const [a, b, c] = produces.map((p) => producedBatch(p.body));
    assert.ok(a.bytes.equals(b.bytes) && b.bytes.equals(c.bytes), 'the same bytes each time');
    assert.is(a.view.producerId, 4242);
    assert.is(a.view.producerEpoch, 3);
    assert.is(a.view.baseSequence, 0);
    assert.is(produces[0].body.acks, -1, 'idempotence sends acks=all');
    assert.equal(
      first.map((m) => m.offset),
      [102, 103],
    );
    assert.ok(
      broker.seen.some((s) => s.apiKey === 3 && s !== broker.seen[0]),
      'metadata refreshed after the retriable error',
    );
    const next = await producer.send({ topic: 't', value: 'c' });
    assert.is(next.offset, 103);
    const d = producedBatch(broker.seen.filter((s) => s.apiKey === 0).at(-1)!.body);
    assert.is(d.view.baseSequence, a.view.recordsCount, 'the next batch continues the sequence');
  } finally {
    await producer.close();
    broker.close();
  }
});

test('a non-retriable error fails the records of that batch', async () => {
  const broker = await scriptedBroker(() => ({ errorCode: 10, baseOffset: -1 }));
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 0 });
  try {
    await producer.connect();
    const error = await producer.send({ topic: 't', value: 'x' }).then(
      () => null,
      (e: Error) => e,
    );
    assert.match(String(error?.message), /MESSAGE_TOO_LARGE/);
  } finally {
    await producer.close();
    broker.close();
  }
});

test('a batch refused for good frees its sequence numbers: later batches are sent again renumbered, with a valid CRC', async () => {
  // Three one-record batches go out at once; the first is refused (MESSAGE_TOO_LARGE), the
  // broker refuses the two behind it as out of sequence, and their retries must start at 0.
  const broker = await scriptedBroker((_body, n) =>
    n === 0
      ? { errorCode: 10, baseOffset: -1 }
      : n <= 2
        ? { errorCode: 45, baseOffset: -1 }
        : { errorCode: 0, baseOffset: 50 + n },
  );
  const producer = new Producer({
    bootstrap: [`127.0.0.1:${broker.port}`],
    lingerMs: 0,
    batchSize: 1,
    retryBackoffMs: 10,
  });
  try {
    await producer.connect();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((value) =>
        producer.send({ topic: 't', value }).then(
          (m) => m.offset,
          (e: Error) => e.message,
        ),
      ),
    );
    assert.match(String(results[0]), /MESSAGE_TOO_LARGE/);
    const produced = broker.seen.filter((s) => s.apiKey === 0).map((s) => producedBatch(s.body));
    assert.equal(
      produced.slice(0, 3).map((b) => b.view.baseSequence),
      [0, 1, 2],
      'first sends',
    );
    const retries = produced.slice(3);
    assert.equal(
      retries.map((b) => b.view.baseSequence),
      [0, 1],
      'renumbered from the refused batch',
    );
    for (const b of retries) assert.is(b.view.validate(), null, 'CRC right after renumbering');
    assert.equal(
      (await Promise.all(retries.map((b) => b.view.records()))).map((r) => r[0].value!.toString()),
      ['b', 'c'],
    );
    assert.equal(results.slice(1), [53, 54]);
  } finally {
    await producer.close();
    broker.close();
  }
});

test('send() copies a record when it takes it, refuses wrong types with a rejected promise, and reused batch buffers carry the right bytes', async () => {
  const broker = await scriptedBroker((_body, n) => ({ errorCode: 0, baseOffset: n * 10 }));
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 0, batchSize: 64 });
  try {
    await producer.connect();
    const value = Buffer.from('original');
    const sent = producer.send({ topic: 't', value });
    value.write('MUTATED!');
    await sent;
    assert.is(
      (await producedBatch(broker.seen.filter((s) => s.apiKey === 0)[0].body).view.records())[0].value!.toString(),
      'original',
    );
    for (const bad of [42, { a: 1 }, true]) {
      const outcome = await Promise.resolve()
        .then(() => producer.send({ topic: 't', value: bad as any }))
        .then(
          () => 'stored',
          (e: Error) => e,
        );
      assert.instance(outcome, TypeError);
    }
    assert.instance(
      await producer.send({ topic: 't', value: 'v', headers: [{ key: 1 as any, value: 'x' }] }).then(
        () => null,
        (e: Error) => e,
      ),
      TypeError,
    );
    // One batch at a time, so each new batch can take the previous one's buffer.
    for (let i = 0; i < 20; i++) await producer.send({ topic: 't', key: `k${i}`, value: `value-${i}`.repeat(i + 1) });
    const later = broker.seen
      .filter((s) => s.apiKey === 0)
      .slice(-20)
      .map((s) => producedBatch(s.body).view);
    for (const [i, view] of later.entries()) {
      assert.is(view.validate(), null);
      const [record] = await view.records();
      assert.equal([record.key!.toString(), record.value!.toString()], [`k${i}`, `value-${i}`.repeat(i + 1)]);
    }
  } finally {
    await producer.close();
    broker.close();
  }
});

test('a topic the node does not know yet is waited for up to max.block.ms, as Kafka does; one never known fails with a clear message', async () => {
  // 'late' is unknown for the first three metadata requests that name it.
  let lateAsked = 0;
  const broker = await scriptedBroker(
    () => ({ errorCode: 0, baseOffset: 7 }),
    (name) => name === 't' || (name === 'late' && ++lateAsked > 3),
  );
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 0, maxBlockMs: 1500 });
  try {
    await producer.connect();
    const [a, b] = await Promise.all([
      producer.send({ topic: 'late', value: 'a' }),
      producer.send({ topic: 'late', value: 'b' }),
    ]);
    assert.equal([a.topic, a.offset, b.offset], ['late', 7, 8]);
    assert.ok(lateAsked >= 4 && lateAsked <= 6, `metadata asked ${lateAsked} times for two sends sharing the wait`);
    const started = Date.now();
    const error = await producer.send({ topic: 'never', value: 'x' }).then(
      () => null,
      (e: Error) => e,
    );
    assert.match(
      String(error?.message),
      /topic never not present in metadata after 1500 ms \(max.block.ms\): UNKNOWN_TOPIC_OR_PARTITION/,
    );
    assert.ok(Date.now() - started >= 1000, 'it waited');
  } finally {
    await producer.close();
    broker.close();
  }
});

let broker: BrokerProcess;

test('against Brook: keyed records on the Java partitions, consecutive offsets, every codec readable by kcat', async () => {
  broker = await startBroker({ config: { 'num.partitions': '4' } });
  const producer = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], lingerMs: 2, batchSize: 4096 });
  await producer.connect();
  const sent = await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      producer.send({ topic: 'keyed', key: `k${i % 37}`, value: `v${i}`, headers: { n: String(i) } }),
    ),
  );
  for (const [i, meta] of sent.entries())
    assert.is(meta.partition, partitionForKey(Buffer.from(`k${i % 37}`), 4), `record ${i}`);
  const byPartition = new Map<number, number[]>();
  for (const meta of sent) byPartition.set(meta.partition, [...(byPartition.get(meta.partition) ?? []), meta.offset]);
  for (const offsets of byPartition.values())
    assert.equal(
      offsets,
      offsets.map((_, i) => i),
      'offsets 0.. in send order per partition',
    );
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const p = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], compression: codec, lingerMs: 1 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        p.send({ topic: `codec-${codec}`, partition: 0, value: `${codec}-${i}`.repeat(20) }),
      ),
    );
    await p.close();
    const read = await kcat(broker.port, [
      '-C',
      '-t',
      `codec-${codec}`,
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%s\n',
    ]);
    const lines = read.stdout.split('\n').filter(Boolean);
    assert.is(lines.length, 50, codec);
    assert.is(lines[49], `${codec}-49`.repeat(20));
  }
  for (const acks of [0, 1] as const) {
    // Idempotence left unset turns itself off with acks 0 or 1, as in Kafka's producer.
    const p = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], acks });
    const meta = await p.send({ topic: `acks-${acks}`, partition: 0, value: 'x' });
    await p.close();
    assert.is(meta.offset, acks === 0 ? -1 : 0);
  }
  await producer.close();
  for (const acks of [0, 1] as const) {
    assert.throws(
      () => new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], acks, idempotent: true }),
      /idempotent producer needs acks=all/,
    );
  }
});

test('against Brook: buffer.memory full while the broker is paused fails after max.block.ms, then recovers', async () => {
  const producer = new Producer({
    bootstrap: [`127.0.0.1:${broker.port}`],
    lingerMs: 0,
    bufferMemory: 64 * 1024,
    maxBlockMs: 300,
    requestTimeoutMs: 20000,
  });
  await producer.connect();
  await producer.send({ topic: 'pressure', partition: 0, value: 'warm' });
  process.kill(broker.pid, 'SIGSTOP');
  let settled: unknown[];
  try {
    const sends = Array.from({ length: 100 }, (_, i) =>
      producer.send({ topic: 'pressure', partition: 0, value: Buffer.alloc(1024, i) }).then(
        () => 'stored',
        (e: Error) => e,
      ),
    );
    await new Promise((r) => setTimeout(r, 800));
    process.kill(broker.pid, 'SIGCONT');
    settled = await Promise.all(sends);
  } finally {
    process.kill(broker.pid, 'SIGCONT');
  }
  const refused = settled.filter((r) => r instanceof BufferExhaustedError) as Error[];
  const stored = settled.filter((r) => r === 'stored');
  assert.ok(
    refused.length > 0 && stored.length > 0 && refused.length + stored.length === 100,
    `${stored.length} stored, ${refused.length} refused`,
  );
  assert.match(refused[0].message, /buffer.memory \(65536 bytes\) stayed full for max.block.ms \(300 ms\)/);
  assert.ok((await producer.send({ topic: 'pressure', partition: 0, value: 'after' })).offset > 0);
  await producer.close();
  const big = new Producer({ bootstrap: [`127.0.0.1:${broker.port}`], bufferMemory: 1000 });
  const tooBig = await big.send({ topic: 'pressure', value: Buffer.alloc(2000) }).then(
    () => null,
    (e: Error) => e,
  );
  assert.instance(tooBig, BufferExhaustedError);
  await big.close();
});

test.after(async () => {
  await broker?.stop();
});

test.run();
