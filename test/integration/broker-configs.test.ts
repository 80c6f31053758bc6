// Broker configs through real clients: kafkajs describes a BROKER resource (every key Brook
// has, with its source; sensitive keys with a null value, never on the wire or in the log),
// alterConfigs and IncrementalAlterConfigs change broker keys at runtime (per broker and as
// the cluster-wide default, with Kafka's precedence), the change reaches the topics at once
// (a dynamic log.retention.bytes deletes old segments without a restart), survives a
// restart, and keys Kafka cannot update dynamically are refused with Kafka's message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel, ConfigResourceTypes } from 'kafkajs';
import { Admin } from '../../src/client/admin';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';
import { until } from '../helpers/wait';

const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="jaas-secret-8d1f";';
const KEYSTORE_PASSWORD = 'keystore-secret-77ab';
const CLUSTER_SECRET = 'cluster-secret-0123456789abcdef';

let broker: BrokerProcess;
let kafka: Kafka;
const dataDir = tempDir();
const config = {
  'log.retention.hours': '24',
  'log.segment.bytes': '1024',
  'log.retention.check.interval.ms': '200',
  'num.partitions': '1',
  'sasl.jaas.config': JAAS,
  'ssl.keystore.password': KEYSTORE_PASSWORD,
  'brook.controller.cluster.secret': CLUSTER_SECRET,
};

async function start(port?: number) {
  broker = await startBroker({ dataDir, port, config });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'broker-configs', logLevel: logLevel.NOTHING });
}

test.before(async () => {
  await start();
});

test.after(async () => {
  await broker?.stop();
});

type Entry = {
  configName: string;
  configValue: string | null;
  configSource: number;
  readOnly: boolean;
  isSensitive: boolean;
  configSynonyms: { configName: string; configValue: string | null; configSource: number }[];
};

async function describe(type: number, name: string): Promise<Map<string, Entry>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({ resources: [{ type, name }], includeSynonyms: true });
    return new Map(result.resources[0].configEntries.map((e: any) => [e.configName, e]));
  } finally {
    await admin.disconnect();
  }
}

/** IncrementalAlterConfigs on one broker resource: error code and message. */
async function incremental(
  name: string,
  configs: { name: string; configOperation: number; value: string | null }[],
): Promise<{ errorCode: number; errorMessage: string | null }> {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    const broker1 = await admin.cluster.broker(1);
    const answer = await broker1.request(44, {
      resources: [{ resourceType: 4, resourceName: name, configs }],
      validateOnly: false,
    });
    return answer.responses[0];
  } finally {
    admin.close();
  }
}

/** DescribeConfigs of a broker resource sent to broker 1 (kafkajs refuses the empty name). */
async function describeRaw(name: string) {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    const broker1 = await admin.cluster.broker(1);
    const answer = await broker1.request(32, {
      resources: [{ resourceType: 4, resourceName: name, configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    return answer.results[0];
  } finally {
    admin.close();
  }
}

async function earliestOffset(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, 0);
    return Number(offsets[0].offset);
  } finally {
    await admin.disconnect();
  }
}

test('DescribeConfigs on the broker: every key with its source; sensitive values are null', async () => {
  const entries = await describe(ConfigResourceTypes.BROKER, '1');
  const hours = entries.get('log.retention.hours')!;
  assert.is(hours.configValue, '24');
  assert.is(hours.configSource, STATIC_BROKER_CONFIG);
  assert.is(hours.readOnly, false, 'a topic-default key is dynamic');
  const partitions = entries.get('num.partitions')!;
  assert.is(partitions.configSource, STATIC_BROKER_CONFIG);
  assert.is(partitions.readOnly, true);
  const fetchMax = entries.get('fetch.max.bytes')!;
  assert.is(fetchMax.configValue, '57671680');
  assert.is(fetchMax.configSource, DEFAULT_CONFIG);
  assert.is(entries.get('log.dirs')!.configSource, STATIC_BROKER_CONFIG, 'the --data-dir flag is static');
  assert.is(entries.get('node.id')!.configValue, '1');
  assert.is(entries.get('log.retention.ms')!.configValue, null, 'Kafka has no default for log.retention.ms');
  // Kafka's synonym chain starts at the key itself: log.retention.ms, unset, has none.
  assert.equal(entries.get('log.retention.ms')!.configSynonyms, []);
  assert.is(entries.get('log.retention.ms')!.configSource, DEFAULT_CONFIG);
  assert.equal(
    hours.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
    [
      ['log.retention.hours', '24', STATIC_BROKER_CONFIG],
      ['log.retention.hours', '168', DEFAULT_CONFIG],
    ],
  );
  for (const key of ['sasl.jaas.config', 'ssl.keystore.password', 'brook.controller.cluster.secret']) {
    const entry = entries.get(key)!;
    assert.ok(entry, `${key} is described`);
    assert.is(entry.isSensitive, true);
    assert.is(entry.configValue, null);
    assert.is(entry.configSource, STATIC_BROKER_CONFIG);
    for (const synonym of entry.configSynonyms) assert.is(synonym.configValue, null);
  }
  const wire = JSON.stringify([...entries.values()]);
  for (const secret of ['jaas-secret', KEYSTORE_PASSWORD, CLUSTER_SECRET])
    assert.not.ok(wire.includes(secret), 'no secret on the wire');

  // Another broker's id is answered as Kafka's ConfigHelper does.
  const other = await describeRaw('7');
  assert.is(other.errorCode, 42, 'INVALID_REQUEST');
  assert.is(other.errorMessage, 'Unexpected broker id, expected 1 or empty string, but received 7');
});

test('dynamic broker configs: cluster default and per-broker, applied live to topics', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 6; i++)
      await producer.send({
        topic: 'live',
        messages: Array.from({ length: 5 }, (_, j) => ({ value: `record-${i}-${j}-`.padEnd(200, 'x') })),
      });
    await producer.disconnect();
    assert.is(await earliestOffset('live'), 0);

    // IncrementalAlterConfigs on the cluster-wide default (kafkajs refuses the empty name).
    const set = await incremental('', [
      { name: 'log.retention.ms', configOperation: 0, value: '3600000' },
      { name: 'log.retention.bytes', configOperation: 0, value: '2048' },
    ]);
    assert.is(set.errorCode, 0, String(set.errorMessage));
    const topic = await describe(ConfigResourceTypes.TOPIC, 'live');
    assert.is(topic.get('retention.ms')!.configValue, '3600000');
    assert.is(topic.get('retention.ms')!.configSource, DYNAMIC_DEFAULT_BROKER_CONFIG);
    // Retention with the new default deletes old segments without a restart.
    await until(async () => (await earliestOffset('live')) > 0, { timeoutMs: 10_000, what: 'retention applied' });

    const described = await describeRaw('');
    assert.is(described.errorCode, 0);
    const defaults = described.configs;
    assert.equal(defaults.map((c) => c.name).sort(), ['log.retention.bytes', 'log.retention.ms']);
    assert.ok(defaults.every((c) => c.configSource === DYNAMIC_DEFAULT_BROKER_CONFIG));
  } finally {
    await admin.disconnect();
  }

  // Per-broker over the cluster default: kafkajs alterConfigs (AlterConfigs, key 33).
  const alterer = kafka.admin();
  await alterer.connect();
  try {
    await alterer.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: '1',
          configEntries: [{ name: 'log.retention.ms', value: '7200000' }],
        },
      ],
    });
  } finally {
    await alterer.disconnect();
  }
  const own = (await describe(ConfigResourceTypes.BROKER, '1')).get('log.retention.ms')!;
  assert.is(own.configValue, '7200000');
  assert.is(own.configSource, DYNAMIC_BROKER_CONFIG);
  assert.equal(
    own.configSynonyms.map((s) => [s.configName, s.configSource]),
    [
      ['log.retention.ms', DYNAMIC_BROKER_CONFIG],
      ['log.retention.ms', DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['log.retention.hours', STATIC_BROKER_CONFIG],
      ['log.retention.hours', DEFAULT_CONFIG],
    ],
  );
  const topic = await describe(ConfigResourceTypes.TOPIC, 'live');
  assert.is(topic.get('retention.ms')!.configValue, '7200000');
  assert.is(topic.get('retention.ms')!.configSource, DYNAMIC_BROKER_CONFIG);
});

test("keys Kafka cannot update dynamically are refused with Kafka's message; bad values too", async () => {
  const fixed = await incremental('1', [
    { name: 'num.partitions', configOperation: 0, value: '3' },
    { name: 'log.dirs', configOperation: 0, value: '/tmp/x' },
  ]);
  assert.is(fixed.errorCode, 42, 'INVALID_REQUEST');
  assert.is(fixed.errorMessage, 'Cannot update these configs dynamically: Set(num.partitions, log.dirs)');
  const bad = await incremental('', [{ name: 'log.segment.bytes', configOperation: 0, value: '10' }]);
  assert.is(bad.errorCode, 42);
  assert.match(String(bad.errorMessage), /Invalid value 10 for configuration log.segment.bytes/);
  const notNumber = await incremental('one', [{ name: 'log.retention.ms', configOperation: 0, value: '1' }]);
  assert.is(notNumber.errorCode, 42);
  assert.is(notNumber.errorMessage, 'Unable to parse broker name as a base 10 number.');
  const unknownBroker = await incremental('9', [{ name: 'log.retention.ms', configOperation: 0, value: '1' }]);
  assert.is(unknownBroker.errorCode, 102, 'BROKER_ID_NOT_REGISTERED');
  const append = await incremental('', [{ name: 'log.retention.ms', configOperation: 2, value: '1' }]);
  assert.is(append.errorCode, 40, 'INVALID_CONFIG');
  const backoff = await incremental('1', [{ name: 'log.cleaner.backoff.ms', configOperation: 0, value: '0' }]);
  assert.is(backoff.errorCode, 42, 'below its minimum');
  const cleanerBackoff = await incremental('1', [{ name: 'log.cleaner.backoff.ms', configOperation: 0, value: '500' }]);
  assert.is(cleanerBackoff.errorCode, 0, 'log.cleaner.backoff.ms is dynamic');
  const own = (await describe(ConfigResourceTypes.BROKER, '1')).get('log.cleaner.backoff.ms')!;
  assert.is(own.configValue, '500');
  assert.is(own.readOnly, false);
});

test('a dynamic message.max.bytes takes effect on produce at once', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'large', numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  try {
    const big = { value: Buffer.alloc(1_200_000, 7) };
    const refused = await producer.send({ topic: 'large', messages: [big] }).then(
      () => null,
      (error: { type?: string }) => error,
    );
    assert.is(refused?.type, 'MESSAGE_TOO_LARGE');
    const set = await incremental('', [{ name: 'message.max.bytes', configOperation: 0, value: '2000000' }]);
    assert.is(set.errorCode, 0, String(set.errorMessage));
    await producer.send({ topic: 'large', messages: [big] });
    const reset = await incremental('', [{ name: 'message.max.bytes', configOperation: 1, value: null }]);
    assert.is(reset.errorCode, 0);
  } finally {
    await producer.disconnect();
  }
});

test('dynamic broker configs survive a restart; the log never shows a secret', async () => {
  const port = broker.port;
  const logs = broker.logs();
  for (const secret of ['jaas-secret', KEYSTORE_PASSWORD, CLUSTER_SECRET])
    assert.not.ok(logs.includes(secret), 'no secret in the log');
  await broker.stop();
  await start(port);
  const entries = await describe(ConfigResourceTypes.BROKER, '1');
  assert.is(entries.get('log.retention.ms')!.configValue, '7200000');
  assert.is(entries.get('log.retention.bytes')!.configSource, DYNAMIC_DEFAULT_BROKER_CONFIG);
  const topic = await describe(ConfigResourceTypes.TOPIC, 'live');
  assert.is(topic.get('retention.ms')!.configValue, '7200000');
  // DELETE of the per-broker key falls back to the cluster default.
  const deleted = await incremental('1', [{ name: 'log.retention.ms', configOperation: 1, value: null }]);
  assert.is(deleted.errorCode, 0);
  const after = await describe(ConfigResourceTypes.TOPIC, 'live');
  assert.is(after.get('retention.ms')!.configValue, '3600000');
});

test.run();
