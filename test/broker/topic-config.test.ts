// Topic config checks and broker synonyms as Kafka has them: values parsed and validated
// with Kafka's messages, the broker keys of server.properties with their precedence and
// unit conversion, and every broker key listed where the config file reader looks for it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BROKER_TOPIC_SYNONYMS,
  effectiveTopicConfig,
  timestampBoundsMs,
  topicConfigDef,
  topicLogConfig,
  validateBrokerTopicDefaults,
  validateTopicConfig,
} from '../../src/broker/topic-config';
import { TOPIC_DEFAULT_KEYS } from '../../src/config/limits';

test('every broker synonym is a key the config file reader passes through', () => {
  const keys = [...BROKER_TOPIC_SYNONYMS.keys()].filter((key) => key !== 'message.max.bytes').sort();
  assert.equal([...TOPIC_DEFAULT_KEYS].sort(), keys);
});

test("retention: log.retention.ms over minutes over hours, Kafka's units, negative means keep", () => {
  const retention = topicConfigDef('retention.ms')!;
  const value = (keys: Record<string, string>) => effectiveTopicConfig(retention, keys, {});
  assert.equal(value({}), { value: '604800000', source: 'default' });
  assert.equal(value({ 'log.retention.hours': '24' }), { value: '86400000', source: 'broker' });
  assert.equal(value({ 'log.retention.hours': '24', 'log.retention.minutes': '30' }).value, '1800000');
  assert.equal(value({ 'log.retention.minutes': '30', 'log.retention.ms': '1234' }).value, '1234');
  assert.equal(value({ 'log.retention.hours': '-3' }).value, '-1');
  assert.equal(
    effectiveTopicConfig(retention, { 'log.retention.hours': '24' }, { 'retention.ms': '5' }).source,
    'topic',
  );
  const roll = topicLogConfig({ 'log.roll.hours': '1', 'log.flush.scheduler.interval.ms': '3000' }, {});
  assert.is(roll['segment.ms'], '3600000');
  assert.is(roll['flush.ms'], '3000');
  assert.is(topicLogConfig({ 'log.roll.hours': '1', 'log.roll.ms': '500' }, {})['segment.ms'], '500');
});

test('values are trimmed and normalized as Kafka parses them', () => {
  assert.is(validateTopicConfig('retention.ms', ' +100 '), null);
  assert.is(topicLogConfig({}, { 'retention.ms': ' +100 ' })['retention.ms'], '100');
  assert.is(topicLogConfig({}, { 'cleanup.policy': 'delete , compact' })['cleanup.policy'], 'delete,compact');
  assert.is(topicLogConfig({}, { preallocate: 'TRUE' }).preallocate, 'true');
  assert.is(validateTopicConfig('cleanup.policy', ''), null);
  assert.is(validateTopicConfig('min.cleanable.dirty.ratio', '1'), null);
  assert.is(
    validateTopicConfig('min.cleanable.dirty.ratio', '-1'),
    'Invalid value -1.0 for configuration min.cleanable.dirty.ratio: Value must be at least 0',
  );
  assert.is(validateTopicConfig('compression.gzip.level', '-1'), null);
  assert.is(validateTopicConfig('leader.replication.throttled.replicas', ''), null);
});

test("broker keys are checked at start with Kafka's messages", () => {
  assert.is(validateBrokerTopicDefaults({ 'log.retention.hours': '24', 'log.roll.ms': '1000' }), null);
  assert.is(
    validateBrokerTopicDefaults({ 'log.roll.hours': '0' }),
    'Invalid value 0 for configuration log.roll.hours: Value must be at least 1',
  );
  assert.is(
    validateBrokerTopicDefaults({ 'log.cleanup.policy': 'shred' }),
    'Invalid value shred for configuration log.cleanup.policy: String must be one of: compact, delete',
  );
  assert.is(
    validateBrokerTopicDefaults({
      'log.cleaner.min.compaction.lag.ms': '10',
      'log.cleaner.max.compaction.lag.ms': '5',
    }),
    'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)',
  );
});

test('the deprecated difference key stands in for a timestamp bound left at its default', () => {
  const bounds = (overrides: Record<string, string>) => timestampBoundsMs(topicLogConfig({}, overrides));
  assert.equal(bounds({}), { beforeMs: Number.MAX_SAFE_INTEGER, afterMs: 3600000 });
  assert.equal(bounds({ 'message.timestamp.difference.max.ms': '1000' }), { beforeMs: 1000, afterMs: 3600000 });
  assert.equal(
    bounds({ 'message.timestamp.difference.max.ms': '1000', 'message.timestamp.after.max.ms': '9223372036854775807' }),
    { beforeMs: 1000, afterMs: 1000 },
  );
  assert.equal(bounds({ 'message.timestamp.before.max.ms': '50' }).beforeMs, 50);
});

test.run();
