// Client quotas enforced by a broker in this process, with quota values committed through
// its metadata quorum: without quotas nothing is recorded; a kafkajs producer and a kafkajs
// consumer under a 1 MB/s client-id quota are held near 1 MB/s while unthrottled ones on the
// same broker go much faster; a throttled response carries throttle_time_ms and the
// connection reads nothing more for that long (KIP-219); controller mutations over their
// rate are refused with THROTTLING_QUOTA_EXCEEDED from CreateTopics v6, DeleteTopics v5 and
// CreatePartitions v3 and throttled below (KIP-599); connections over their IP's
// connection_creation_rate are closed unanswered (KIP-612); and /metrics shows the rates.
// Quota windows are 2 samples of 1 s, so rates settle within a second or two.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { ExpositionWriter } from '../../src/http/exposition';
import { renderQuotaMetrics } from '../../src/http/quota-metrics';
import { freePort } from '../helpers/ports';
import { rawRequest, API_VERSIONS_V0 } from '../helpers/broker-process';
import { setClientQuota } from '../helpers/quota-records';
import { kcat } from '../helpers/kcat';
import { spawnSync } from 'node:child_process';

const MB = 1_000_000;
let running: RunningBroker;
let dataDir: string;
const connections: KafkaConnection[] = [];

async function connect(clientId: string): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: running.kafkaPort,
    clientId,
    requestTimeoutMs: 15_000,
  });
  await connection.connect();
  connections.push(connection);
  return connection;
}

function kafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [`127.0.0.1:${running.kafkaPort}`], logLevel: logLevel.NOTHING });
}

function produceRequest(topic: string, value: Buffer) {
  return {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [
      { name: topic, partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value }] }) }] },
    ],
  };
}

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-quotas-'));
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': dataDir,
    'log-level': 'error',
  });
  config.quotaWindowNum = 2;
  config.groupInitialRebalanceDelayMs = 0;
  running = await startBroker(config, silentLogger);
  const admin = kafka('setup').admin();
  await admin.connect();
  await admin.createTopics({
    topics: ['produced', 'consumed', 'raw'].map((topic) => ({ topic, numPartitions: 1 })),
  });
  await admin.disconnect();
});

test.after(async () => {
  for (const c of connections) c.close();
  await running?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('without quotas nothing is recorded and nothing throttled; the check is a version compare', async () => {
  const connection = await connect('plain');
  const answer = await connection.request(ApiKey.Produce, 7, produceRequest('raw', Buffer.alloc(200_000)));
  assert.is(answer.throttleTimeMs, 0);
  const quotas = running.broker.quotas;
  assert.not.ok(quotas.active);
  for (const sensors of quotas.sensors.values()) assert.is(sensors.size, 0);
  const started = process.hrtime.bigint();
  let active = false;
  for (let i = 0; i < 1_000_000; i++) active ||= quotas.active;
  const nanosPerCheck = Number(process.hrtime.bigint() - started) / 1_000_000;
  assert.not.ok(active);
  assert.ok(nanosPerCheck < 500, `${nanosPerCheck} ns per check`);
});

/** Sends 100 KB messages one at a time for `ms`; returns the bytes acknowledged per second. */
async function produceFor(clientId: string, ms: number): Promise<number> {
  const producer = kafka(clientId).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(100_000, 7);
  let bytes = 0;
  const started = Date.now();
  try {
    while (Date.now() - started < ms) {
      await producer.send({ topic: 'produced', acks: 1, messages: [{ value }] });
      bytes += value.length;
    }
    return bytes / ((Date.now() - started) / 1000);
  } finally {
    await producer.disconnect();
  }
}

test('producer_byte_rate: a kafkajs producer is held near 1 MB/s while an unthrottled one is not', async () => {
  await setClientQuota(running.broker, [['client-id', 'slow-producer']], 'producer_byte_rate', MB);
  assert.ok(running.broker.quotas.active);
  const [slow, fast] = await Promise.all([produceFor('slow-producer', 5000), produceFor('fast-producer', 5000)]);
  if (process.env.QUOTA_TEST_VERBOSE) console.log({ slow, fast });
  assert.ok(slow > 0.5 * MB && slow < 2 * MB, `throttled producer: ${(slow / MB).toFixed(2)} MB/s`);
  assert.ok(fast > 3 * slow, `unthrottled ${(fast / MB).toFixed(2)} MB/s vs throttled ${(slow / MB).toFixed(2)} MB/s`);

  const w = new ExpositionWriter();
  renderQuotaMetrics(w, running.broker);
  const text = w.text();
  assert.match(text, /brook_quota_byte_rate\{quota="Produce",user="",client_id="slow-producer"\} \d/);
  assert.match(text, /brook_quota_throttled_total\{quota="Produce",user="",client_id="slow-producer"\} [1-9]/);
  assert.match(text, /brook_quota_throttled_total\{quota="Produce",user="",client_id="fast-producer"\} 0\n/);
});

test('consumer_byte_rate: a kafkajs consumer is held near 1 MB/s while an unthrottled one is not', async () => {
  const producer = kafka('loader').producer();
  await producer.connect();
  for (let i = 0; i < 8; i++)
    await producer.send({
      topic: 'consumed',
      messages: Array.from({ length: 10 }, () => ({ value: Buffer.alloc(100_000, i) })),
    });
  await producer.disconnect();
  const total = 8 * MB;
  await setClientQuota(running.broker, [['client-id', 'slow-consumer']], 'consumer_byte_rate', MB);

  /** Consumes until `until` bytes or `ms` pass; returns bytes and the time taken from the start of run(). */
  async function consume(clientId: string, until: number, ms: number): Promise<{ bytes: number; seconds: number }> {
    const consumer = kafka(clientId).consumer({ groupId: `group-${clientId}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'consumed', fromBeginning: true });
    let bytes = 0;
    const firstMs = Date.now();
    let doneMs = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(finish, ms);
    await consumer.run({
      eachMessage: async ({ message }) => {
        bytes += message.value?.length ?? 0;
        if (bytes >= until && doneMs === 0) {
          doneMs = Date.now();
          finish();
        }
      },
    });
    await finished;
    clearTimeout(timer);
    const endMs = doneMs || Date.now();
    await consumer.disconnect();
    return { bytes, seconds: Math.max(0.001, (endMs - firstMs) / 1000) };
  }
  const [slow, fast] = await Promise.all([
    consume('slow-consumer', total, 5000),
    consume('fast-consumer', total, 8000),
  ]);
  const slowRate = slow.bytes / slow.seconds;
  const fastRate = fast.bytes / fast.seconds;
  if (process.env.QUOTA_TEST_VERBOSE) console.log({ slow, fast, slowRate, fastRate });
  assert.is(fast.bytes, total, 'the unthrottled consumer read everything');
  assert.ok(slow.bytes < total, `the throttled consumer read ${slow.bytes} bytes`);
  assert.ok(slowRate > 0.4 * MB && slowRate < 2.2 * MB, `throttled consumer: ${(slowRate / MB).toFixed(2)} MB/s`);
  assert.ok(fastRate > 3 * slowRate, `unthrottled ${(fastRate / MB).toFixed(2)} MB/s vs ${(slowRate / MB).toFixed(2)}`);
});

test('a consumer Fetch asks for no more than its consumer_byte_rate allows over the window, so it is answered', async () => {
  const loader = await connect('capped-loader');
  await loader.request(ApiKey.CreateTopics, 7, {
    topics: [{ name: 'capped', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  for (let i = 0; i < 20; i++) await loader.request(ApiKey.Produce, 7, produceRequest('capped', Buffer.alloc(10_000)));
  // 20 KB/s over a 2-sample window: at most 20 KB a fetch (plus the first batch whole).
  await setClientQuota(running.broker, [['client-id', 'capped-consumer']], 'consumer_byte_rate', 20_000);
  const consumer = await connect('capped-consumer');
  const fetched = await consumer.request(ApiKey.Fetch, 4, {
    replicaId: -1,
    maxWaitMs: 100,
    minBytes: 1,
    maxBytes: 10_000_000,
    isolationLevel: 0,
    topics: [{ topic: 'capped', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 10_000_000 }] }],
  });
  const bytes = (fetched.responses[0]?.partitions[0]?.records as Buffer | null)?.length ?? 0;
  assert.is(fetched.throttleTimeMs, 0);
  assert.ok(bytes > 0 && bytes <= 21_000, `${bytes} bytes`);
});

test('kcat (librdkafka) under a consumer_byte_rate reads everything, at the quota', async () => {
  if (spawnSync('kcat', ['-V']).error) {
    console.log('  kcat not installed: skipped');
    return;
  }
  // 200 KB in 10 KB batches (the test above) at 100 KB/s: about two seconds, not at once.
  await setClientQuota(running.broker, [['client-id', 'kcat-consumer']], 'consumer_byte_rate', 100_000);
  const started = Date.now();
  const result = await kcat(running.kafkaPort, [
    '-C',
    '-t',
    'capped',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%S\\n',
    '-X',
    'client.id=kcat-consumer',
  ]);
  const elapsedMs = Date.now() - started;
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout.trim().split('\n').length, 20, result.stdout);
  assert.ok(elapsedMs >= 700, `read in ${elapsedMs} ms`);
  const sensors = running.broker.quotas.sensors.get('consumer_byte_rate')!;
  assert.ok(sensors.get('\u0000kcat-consumer')!.throttledTotal > 0, 'throttled on the way');
});

test('a throttled response carries throttle_time_ms and the connection reads nothing more for that long', async () => {
  await setClientQuota(running.broker, [['client-id', 'raw-client']], 'producer_byte_rate', 50_000);
  const throttled = await connect('raw-client');
  const other = await connect('raw-other');
  const answer = await throttled.request(ApiKey.Produce, 7, produceRequest('raw', Buffer.alloc(100_000)));
  const answeredAt = Date.now();
  // 100 KB against 50 KB/s over a one-second window: about one second to get back.
  assert.ok(answer.throttleTimeMs >= 900 && answer.throttleTimeMs <= 1500, String(answer.throttleTimeMs));
  assert.is(answer.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE, 'the data was taken');
  // Another connection is answered at once; the throttled one only after its throttle time.
  const otherStarted = Date.now();
  await other.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
  assert.ok(Date.now() - otherStarted < 500, 'an unthrottled connection is not held');
  await throttled.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
  const heldMs = Date.now() - answeredAt;
  assert.ok(heldMs >= answer.throttleTimeMs - 150, `held ${heldMs} ms for a ${answer.throttleTimeMs} ms throttle`);
  assert.ok(heldMs < answer.throttleTimeMs + 2000, `held ${heldMs} ms`);
});

test('controller_mutation_rate: strict versions refuse with THROTTLING_QUOTA_EXCEEDED, older ones throttle', async () => {
  // One partition per second, a burst of two (2 samples x 1 s x 1).
  await setClientQuota(running.broker, [['client-id', 'admin']], 'controller_mutation_rate', 1);
  const topic = (name: string, numPartitions: number) => ({
    name,
    numPartitions,
    replicationFactor: 1,
    assignments: [],
    configs: [],
  });
  const first = await connect('admin');
  const created = await first.request(ApiKey.CreateTopics, 7, {
    topics: [topic('m1', 3), topic('m2', 1)],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(
    created.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode]),
    [
      ['m1', ErrorCode.NONE],
      ['m2', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
    ],
  );
  assert.is(created.topics[1].errorMessage, 'The throttling quota has been exceeded.');
  assert.ok(created.throttleTimeMs >= 800 && created.throttleTimeMs <= 1000, String(created.throttleTimeMs));
  assert.ok(running.broker.topics.get('m1'));
  assert.not.ok(running.broker.topics.get('m2'));

  // Still over: strict DeleteTopics v5 and CreatePartitions v3 refuse; permissive versions take it and throttle.
  const second = await connect('admin');
  const refusedDelete = await second.request(ApiKey.DeleteTopics, 5, { topicNames: ['m1'], timeoutMs: 5000 });
  assert.is(refusedDelete.responses[0].errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  const third = await connect('admin');
  const refusedPartitions = await third.request(ApiKey.CreatePartitions, 3, {
    topics: [{ name: 'm1', count: 4, assignments: null }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.is(refusedPartitions.results[0].errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  const fourth = await connect('admin');
  const permissive = await fourth.request(ApiKey.CreateTopics, 5, {
    topics: [topic('m3', 2)],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.is(permissive.topics[0].errorCode, ErrorCode.NONE);
  assert.ok(permissive.throttleTimeMs > 0, String(permissive.throttleTimeMs));
  // Other clients are not limited.
  const other = await connect('someone-else');
  const free = await other.request(ApiKey.CreateTopics, 7, {
    topics: [topic('m4', 5)],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.is(free.topics[0].errorCode, ErrorCode.NONE);
  assert.is(free.throttleTimeMs, 0);
});

test('connection_creation_rate: connections over the default IP rate are closed unanswered', async () => {
  await setClientQuota(running.broker, [['ip', null]], 'connection_creation_rate', 2);
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 4 }, () => rawRequest(running.kafkaPort, API_VERSIONS_V0, 3000)),
  );
  const answered = answers.filter((a) => a.frame !== null).length;
  const closed = answers.filter((a) => a.frame === null && a.closed).length;
  assert.ok(answered >= 1 && answered <= 2, `${answered} answered`);
  assert.is(answered + closed, 4, 'the others were closed, not left hanging');
  assert.ok(Date.now() - started < 2500, 'closed within the throttle time (at most one window)');
  assert.ok(running.broker.connectionQuotas!.ipThrottles >= 2);
  // An IP's own entity overrides the default.
  await setClientQuota(running.broker, [['ip', '127.0.0.1']], 'connection_creation_rate', 1000);
  const again = await Promise.all(
    Array.from({ length: 4 }, () => rawRequest(running.kafkaPort, API_VERSIONS_V0, 3000)),
  );
  assert.ok(
    again.every((a) => a.frame !== null),
    'all answered under the higher rate',
  );
  await setClientQuota(running.broker, [['ip', '127.0.0.1']], 'connection_creation_rate', null);
  await setClientQuota(running.broker, [['ip', null]], 'connection_creation_rate', null);
});

test('request_percentage under a user quota: handler time counts, every client of the user shares it, one window at most', async () => {
  await setClientQuota(running.broker, [['user', 'ANONYMOUS']], 'request_percentage', 0.0001);
  const versions = { clientSoftwareName: 't', clientSoftwareVersion: '1' };
  const first = await connect('one-client');
  const answer = await first.request(ApiKey.ApiVersions, 3, versions);
  assert.ok(answer.throttleTimeMs > 0 && answer.throttleTimeMs <= 1000, String(answer.throttleTimeMs));
  // The user's sensor (tags user=ANONYMOUS, client-id empty) counts for every client id.
  const sensors = running.broker.quotas.sensors.get('request_percentage')!;
  assert.ok(sensors.has('ANONYMOUS\u0000'), [...sensors.keys()].join(','));
  const second = await connect('another-client');
  assert.ok((await second.request(ApiKey.ApiVersions, 3, versions)).throttleTimeMs > 0);
  await setClientQuota(running.broker, [['user', 'ANONYMOUS']], 'request_percentage', null);
  const third = await connect('third-client');
  assert.is((await third.request(ApiKey.ApiVersions, 3, versions)).throttleTimeMs, 0);
});

test.run();
