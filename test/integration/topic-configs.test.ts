// Kafka's topic configs through real clients against a broker whose config file sets topic
// defaults with Kafka's server.properties keys: kafkajs creates topics with many Kafka
// names and reads them back with synonyms; invalid values and unknown names are refused
// with Kafka's INVALID_CONFIG messages; IncrementalAlterConfigs checks the same way and
// across configs; DescribeConfigs v3 gives types and documentation.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel, ConfigResourceTypes } from 'kafkajs';
import { Admin } from '../../src/client/admin';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { TOPIC_CONFIGS } from '../../src/broker/topic-config';

const TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

let broker: BrokerProcess;
let kafka: Kafka;

test.before(async () => {
  broker = await startBroker({
    config: {
      'log.retention.hours': '24',
      'log.roll.hours': '2',
      'log.segment.bytes': '2097152',
      'log.message.timestamp.type': 'CreateTime',
      'compression.zstd.level': '5',
    },
  });
  kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'topic-configs', logLevel: logLevel.NOTHING });
});

test.after(async () => {
  await broker?.stop();
});

type Described = { configName: string; configValue: string; configSource: number; configSynonyms: any[] };

async function describe(topic: string): Promise<Map<string, Described>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: true,
    });
    return new Map(result.resources[0].configEntries.map((e: any) => [e.configName, e]));
  } finally {
    await admin.disconnect();
  }
}

/** CreateTopics (validateOnly) with one config entry: the error code and message Brook answers. */
async function createError(name: string, value: string | null): Promise<string> {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    const broker1 = await admin.cluster.broker(1);
    const answer = await broker1.request(19, {
      topics: [
        { name: 'checked', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name, value }] },
      ],
      timeoutMs: 5000,
      validateOnly: true,
    });
    const topic = answer.topics[0];
    assert.is(topic.errorCode, 40, `${name}=${value} is INVALID_CONFIG`);
    return topic.errorMessage ?? '';
  } finally {
    admin.close();
  }
}

test('kafkajs creates a topic with many Kafka config names; every config is described with its source', async () => {
  const given: Record<string, string> = {
    'cleanup.policy': 'compact,delete',
    'compression.type': 'zstd',
    'compression.gzip.level': '6',
    'compression.lz4.level': '12',
    'compression.zstd.level': '-5',
    'delete.retention.ms': '1000',
    'file.delete.delay.ms': '0',
    'flush.messages': '1000',
    'flush.ms': '5000',
    'follower.replication.throttled.replicas': '0:1,1:1',
    'leader.replication.throttled.replicas': '*',
    'index.interval.bytes': '8192',
    'local.retention.bytes': '-2',
    'local.retention.ms': '-2',
    'max.compaction.lag.ms': '600000',
    'min.compaction.lag.ms': '1000',
    'max.message.bytes': '2000000',
    'message.downconversion.enable': 'false',
    'message.timestamp.type': 'LogAppendTime',
    'message.timestamp.before.max.ms': '86400000',
    'message.timestamp.after.max.ms': '60000',
    'min.cleanable.dirty.ratio': '0.25',
    'min.insync.replicas': '1',
    preallocate: 'true',
    'remote.storage.enable': 'false',
    'retention.bytes': '1073741824',
    'segment.jitter.ms': '100',
    'segment.index.bytes': '4096',
    'unclean.leader.election.enable': 'true',
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        { topic: 'many', configEntries: Object.entries(given).map(([name, value]) => ({ name, value })) },
        { topic: 'plain' },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  const many = await describe('many');
  assert.is(many.size, TOPIC_CONFIGS.length, 'every Kafka topic config is described');
  for (const [name, value] of Object.entries(given)) {
    const entry = many.get(name)!;
    assert.is(entry.configValue, value, name);
    assert.is(entry.configSource, TOPIC_CONFIG, `${name} comes from the topic`);
    assert.is(entry.configSynonyms[0].configName, name);
  }
  // Broker keys from the config file, with Kafka's unit conversion and precedence.
  const plain = await describe('plain');
  const retention = plain.get('retention.ms')!;
  assert.is(retention.configValue, '86400000');
  assert.is(retention.configSource, STATIC_BROKER_CONFIG);
  assert.equal(
    retention.configSynonyms.map((s: any) => [s.configName, s.configValue, s.configSource]),
    [
      ['log.retention.hours', '24', STATIC_BROKER_CONFIG],
      ['log.retention.hours', '168', DEFAULT_CONFIG],
    ],
  );
  assert.is(plain.get('segment.ms')!.configValue, '7200000');
  assert.is(plain.get('segment.bytes')!.configValue, '2097152');
  assert.is(plain.get('segment.bytes')!.configSource, STATIC_BROKER_CONFIG);
  assert.is(plain.get('compression.zstd.level')!.configValue, '5');
  assert.is(plain.get('message.timestamp.type')!.configSource, STATIC_BROKER_CONFIG);
  assert.is(plain.get('min.cleanable.dirty.ratio')!.configValue, '0.5');
  assert.is(plain.get('min.cleanable.dirty.ratio')!.configSource, DEFAULT_CONFIG);
  assert.is(plain.get('remote.storage.enable')!.configSource, DEFAULT_CONFIG);
  assert.equal(plain.get('remote.storage.enable')!.configSynonyms, []);
});

test("the broker resource lists the broker keys of topic defaults: the file's values, else Kafka's defaults", async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }],
      includeSynonyms: false,
    });
    const entries = new Map(result.resources[0].configEntries.map((e: any) => [e.configName, e]));
    const row = (key: string) => [entries.get(key)?.configValue, entries.get(key)?.configSource];
    assert.equal(row('log.retention.hours'), ['24', STATIC_BROKER_CONFIG]);
    assert.equal(row('log.roll.hours'), ['2', STATIC_BROKER_CONFIG]);
    assert.equal(row('log.retention.ms'), [null, DEFAULT_CONFIG]);
    assert.equal(row('log.cleanup.policy'), ['delete', DEFAULT_CONFIG]);
    assert.equal(row('message.max.bytes'), ['1048588', DEFAULT_CONFIG]);
  } finally {
    await admin.disconnect();
  }
});

test("invalid values and unknown names are refused with Kafka's messages", async () => {
  const cases: [string, string | null, string][] = [
    ['retention.ms', '-5', 'Invalid value -5 for configuration retention.ms: Value must be at least -1'],
    ['retention.ms', 'soon', 'Invalid value soon for configuration retention.ms: Not a number of type LONG'],
    [
      'segment.bytes',
      '2147483648',
      'Invalid value 2147483648 for configuration segment.bytes: Not a number of type INT',
    ],
    [
      'cleanup.policy',
      'delete,tidy',
      'Invalid value tidy for configuration cleanup.policy: String must be one of: compact, delete',
    ],
    [
      'compression.type',
      'brotli',
      'Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer',
    ],
    [
      'message.timestamp.type',
      'Now',
      'Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime',
    ],
    [
      'compression.gzip.level',
      '0',
      'Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1',
    ],
    [
      'compression.lz4.level',
      '18',
      'Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17',
    ],
    [
      'compression.zstd.level',
      '23',
      'Invalid value 23 for configuration compression.zstd.level: Value must be no more than 22',
    ],
    [
      'min.cleanable.dirty.ratio',
      '1.5',
      'Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1',
    ],
    [
      'min.cleanable.dirty.ratio',
      'half',
      'Invalid value half for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE',
    ],
    [
      'preallocate',
      'yes',
      'Invalid value yes for configuration preallocate: Expected value to be either true or false',
    ],
    ['min.insync.replicas', '0', 'Invalid value 0 for configuration min.insync.replicas: Value must be at least 1'],
    [
      'message.timestamp.after.max.ms',
      '-1',
      'Invalid value -1 for configuration message.timestamp.after.max.ms: Value must be at least 0',
    ],
    [
      'leader.replication.throttled.replicas',
      '0:1,x',
      "Invalid value [0:1, x] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
    ],
    [
      'remote.storage.enable',
      'true',
      'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
    ],
    ['max.compaction.lag.ms', '0', 'Invalid value 0 for configuration max.compaction.lag.ms: Value must be at least 1'],
    ['no.such.config', '1', 'Unknown topic config name: no.such.config'],
    ['retention.ms', null, 'Null value not supported for topic configs: retention.ms'],
  ];
  for (const [name, value, message] of cases) assert.is(await createError(name, value), message, `${name}=${value}`);
  // kafkajs reports the code (it drops the message).
  const admin = kafka.admin();
  await admin.connect();
  try {
    const refused = await admin
      .createTopics({ topics: [{ topic: 'refused', configEntries: [{ name: 'retention.ms', value: '-5' }] }] })
      .then(
        () => null,
        (error: any) => error.errors?.[0] ?? error,
      );
    assert.is(refused?.type, 'INVALID_CONFIG');
  } finally {
    await admin.disconnect();
  }
});

test('IncrementalAlterConfigs checks values and the compaction lags across configs; v3 describes types and docs', async () => {
  const admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
  await admin.connect();
  try {
    await admin.createTopics([{ name: 'altered', partitions: 1 }]);
    const broker1 = await admin.cluster.broker(1);
    const alter = async (configs: { name: string; configOperation: number; value: string | null }[]) =>
      (
        await broker1.request(44, {
          resources: [{ resourceType: 2, resourceName: 'altered', configs }],
          validateOnly: false,
        })
      ).responses[0];
    const ok = await alter([
      { name: 'min.compaction.lag.ms', configOperation: 0, value: '5000' },
      { name: 'message.timestamp.difference.max.ms', configOperation: 0, value: '1000' },
    ]);
    assert.is(ok.errorCode, 0, ok.errorMessage ?? undefined);
    // Values are kept in Kafka's printed form, so every reader compares them as text.
    const loose = await alter([
      { name: 'unclean.leader.election.enable', configOperation: 0, value: ' TRUE ' },
      { name: 'retention.ms', configOperation: 0, value: '+0100' },
    ]);
    assert.is(loose.errorCode, 0, loose.errorMessage ?? undefined);
    assert.equal(
      await admin
        .describeConfigs('altered')
        .then((c) => [c['unclean.leader.election.enable'].value, c['retention.ms'].value]),
      ['true', '100'],
    );
    const conflict = await alter([{ name: 'max.compaction.lag.ms', configOperation: 0, value: '100' }]);
    assert.is(conflict.errorCode, 40);
    assert.is(
      conflict.errorMessage,
      'conflict topic config setting min.compaction.lag.ms (5000) > max.compaction.lag.ms (100)',
    );
    const bad = await alter([{ name: 'segment.ms', configOperation: 0, value: '0' }]);
    assert.is(bad.errorMessage, 'Invalid value 0 for configuration segment.ms: Value must be at least 1');
    const unknown = await alter([{ name: 'retention.mss', configOperation: 0, value: '1' }]);
    assert.is(unknown.errorMessage, 'Unknown topic config name: retention.mss');

    const described = await broker1.request(32, {
      resources: [{ resourceType: 2, resourceName: 'altered', configurationKeys: ['retention.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
      includeDocumentation: true,
    });
    const configs = described.results[0].configs;
    assert.equal(
      configs.map((c: any) => [c.name, c.configType, typeof c.documentation]),
      [
        ['cleanup.policy', 7, 'string'],
        ['retention.ms', 5, 'string'],
      ],
    );
  } finally {
    admin.close();
  }
});

test('kafkajs alterConfigs (legacy AlterConfigs) replaces the overrides; a bad value is refused', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: 'legacy',
          configEntries: [
            { name: 'retention.ms', value: '1000' },
            { name: 'cleanup.policy', value: 'compact' },
          ],
        },
      ],
    });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'legacy',
          configEntries: [
            { name: 'retention.ms', value: '2000' },
            { name: 'message.timestamp.type', value: 'LogAppendTime' },
          ],
        },
      ],
    });
    const refused = await admin
      .alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: 'legacy', configEntries: [{ name: 'segment.ms', value: '0' }] },
        ],
      })
      .then(
        () => null,
        (error: any) => error,
      );
    assert.is(refused?.type, 'INVALID_CONFIG');
  } finally {
    await admin.disconnect();
  }
  const legacy = await describe('legacy');
  assert.is(legacy.get('retention.ms')!.configValue, '2000');
  assert.is(legacy.get('message.timestamp.type')!.configValue, 'LogAppendTime');
  // Not given again, so back to the broker default.
  assert.is(legacy.get('cleanup.policy')!.configValue, 'delete');
  assert.is(legacy.get('cleanup.policy')!.configSource, DEFAULT_CONFIG);
  assert.is(legacy.get('segment.ms')!.configValue, '7200000');
});

test('a broker with a bad topic default does not start, with Kafka message', async () => {
  await startBroker({ config: { 'log.retention.hours': 'a day' }, readyTimeoutMs: 10000 }).then(
    (started) => {
      void started.stop();
      assert.unreachable('started with a bad log.retention.hours');
    },
    (error: Error) =>
      assert.match(
        error.message,
        /Invalid value a day for configuration log.retention.hours: Not a number of type INT/,
      ),
  );
});

test.run();
