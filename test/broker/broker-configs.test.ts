// The broker config catalogue without a broker: which keys are sensitive, which may change
// at runtime, Kafka's messages for refused changes (bad names, hostile values), precedence
// of per-broker over cluster-default over static over default, and the cluster-default
// resource listing only its own keys.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describeBrokerConfigs,
  DYNAMIC_BROKER_KEYS,
  effectiveTopicDefaults,
  isSensitiveBrokerKey,
  validateBrokerConfigChange,
} from '../../src/broker/broker-configs';
import { SETTINGS } from '../../src/config/limits';

test('sensitive keys: passwords, keys, JAAS, secrets; plain keys are not', () => {
  for (const key of [
    'ssl.keystore.password',
    'ssl.key.password',
    'ssl.truststore.password',
    'ssl.keystore.key',
    'ssl.keystore.certificate.chain',
    'ssl.truststore.certificates',
    'sasl.jaas.config',
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config',
    'listener.name.client.ssl.key.password',
    'brook.controller.cluster.secret',
    'brook.controller.cluster.secret.file',
    'brook.sasl.oauthbearer.hmac.secret.file',
    'brook.security.bootstrap.scram.users',
  ])
    assert.ok(isSensitiveBrokerKey(key), key);
  for (const key of ['ssl.keystore.location', 'log.retention.ms', 'listeners', 'sasl.enabled.mechanisms', 'node.id'])
    assert.not.ok(isSensitiveBrokerKey(key), key);
  // The dynamic listener SSL keys Kafka types PASSWORD.
  for (const key of [
    'ssl.keystore.password',
    'ssl.key.password',
    'ssl.truststore.password',
    'ssl.keystore.certificate.chain',
    'ssl.keystore.key',
    'ssl.truststore.certificates',
  ])
    assert.ok(isSensitiveBrokerKey(`listener.name.ssl.${key}`), key);
  assert.not.ok(isSensitiveBrokerKey('listener.name.ssl.ssl.truststore.location'));
});

test("refused changes: Kafka's messages, names and values checked", () => {
  const set = (name: string, value: string | null) => [{ name, op: 0, value }];
  assert.equal(validateBrokerConfigChange('1', set('num.partitions', '2')), {
    error: 'INVALID_REQUEST',
    message: 'Cannot update these configs dynamically: Set(num.partitions)',
  });
  assert.equal(validateBrokerConfigChange('1', set('ssl.keystore.password', 'x')), {
    error: 'INVALID_REQUEST',
    message:
      'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.password)',
  });
  assert.equal(validateBrokerConfigChange('', set('listener.name.ssl.ssl.keystore.location', '/k.pem')), {
    error: 'INVALID_REQUEST',
    message:
      'Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.ssl.ssl.keystore.location)',
  });
  assert.is(validateBrokerConfigChange('1', set('listener.name.ssl.ssl.keystore.location', '/k.pem')), null);
  assert.is(validateBrokerConfigChange('1', set('listener.name.ssl.ssl.truststore.certificates', 'x')), null);
  assert.match(
    String(
      validateBrokerConfigChange('1', set('listener.name.ssl.ssl.keystore.key', 'k'.repeat((1 << 20) + 1)))?.message,
    ),
    /longer than 1048576 characters/,
  );
  assert.match(
    String(validateBrokerConfigChange('1', set('listener.name.ssl.ssl.cipher.suites', 'x'))?.message),
    /^Cannot update these configs dynamically/,
  );
  assert.is(
    validateBrokerConfigChange('1', [{ name: 'listener.name.ssl.ssl.key.password', op: 2, value: 'x' }])?.error,
    'INVALID_CONFIG',
  );
  assert.equal(
    validateBrokerConfigChange('x1', set('log.retention.ms', '1'))?.message,
    'Unable to parse broker name as a base 10 number.',
  );
  assert.equal(validateBrokerConfigChange('99999999999', set('log.retention.ms', '1'))?.error, 'INVALID_REQUEST');
  assert.equal(validateBrokerConfigChange('-1', set('log.retention.ms', '1'))?.error, 'INVALID_REQUEST');
  assert.match(String(validateBrokerConfigChange('', set('log.segment.bytes', '13'))?.message), /at least 14/);
  assert.match(
    String(validateBrokerConfigChange('', set('log.retention.ms', 'x'.repeat(5000)))?.message),
    /longer than/,
  );
  assert.match(String(validateBrokerConfigChange('', set('log.cleaner.threads', '17'))?.message), /no more than 16/);
  assert.match(String(validateBrokerConfigChange('', set('log.cleanup.policy', 'shred'))?.message), /one of/);
  assert.equal(
    validateBrokerConfigChange('', set('log.retention.ms', null))?.message,
    'Null value not supported for : log.retention.ms',
  );
  assert.equal(
    validateBrokerConfigChange('', [
      { name: 'log.retention.ms', op: 0, value: '1' },
      { name: 'log.retention.ms', op: 1, value: null },
    ])?.message,
    'Error due to duplicate config keys',
  );
  assert.equal(
    validateBrokerConfigChange('', [{ name: 'log.retention.ms', op: 7, value: '1' }])?.message,
    'Unknown operations type 7',
  );
  assert.equal(
    validateBrokerConfigChange('', [{ name: 'log.retention.ms', op: 2, value: '1' }])?.error,
    'INVALID_CONFIG',
  );
  assert.is(validateBrokerConfigChange('', [{ name: 'log.cleanup.policy', op: 2, value: 'compact' }]), null);
  assert.match(
    String(validateBrokerConfigChange('', [{ name: 'log.cleanup.policy', op: 2, value: 'shred' }])?.message),
    /one of/,
  );
  assert.is(validateBrokerConfigChange('3', set('message.max.bytes', '2000000')), null);
  assert.is(validateBrokerConfigChange('', set('log.cleaner.io.buffer.load.factor', '0.75')), null);
});

test('every dynamic key is one Brook knows', () => {
  const settings = new Set(SETTINGS.map((s) => s.key));
  for (const key of ['log.cleaner.threads', 'log.cleaner.dedupe.buffer.size', 'message.max.bytes'])
    assert.ok(settings.has(key) && DYNAMIC_BROKER_KEYS.has(key), key);
  assert.ok(DYNAMIC_BROKER_KEYS.has('log.cleaner.backoff.ms'), 'the next wait uses it');
});

test('precedence: per-broker > cluster default > static > default', () => {
  const dynamic = {
    clusterDefault: { 'log.retention.ms': '2000', 'log.segment.bytes': '4096' },
    perBroker: { 'log.retention.ms': '1000' },
  };
  const staticKeys = {
    'log.retention.hours': '24',
    'log.segment.bytes': '2048',
    'log.cleanup.policy': 'compact',
    'sasl.jaas.config': 'secret stuff',
  };
  const entries = new Map(describeBrokerConfigs(staticKeys, dynamic, true).map((e) => [e.name, e]));
  assert.equal(
    [entries.get('log.retention.ms')!.value, entries.get('log.retention.ms')!.source],
    ['1000', 'dynamic-broker'],
  );
  assert.equal(
    [entries.get('log.segment.bytes')!.value, entries.get('log.segment.bytes')!.source],
    ['4096', 'dynamic-default'],
  );
  const policy = entries.get('log.cleanup.policy')!;
  assert.equal([policy.value, policy.source], ['compact', 'static']);
  // Kafka lists a key's synonyms from its own first entry: log.retention.ms is not among those of .hours.
  const hours = entries.get('log.retention.hours')!;
  assert.equal([hours.value, hours.source], ['24', 'static']);
  assert.equal(
    hours.synonyms.map((s) => [s.name, s.source]),
    [
      ['log.retention.hours', 'static'],
      ['log.retention.hours', 'default'],
    ],
  );
  assert.equal([entries.get('num.partitions')!.value, entries.get('num.partitions')!.source], ['1', 'default']);
  const jaas = entries.get('sasl.jaas.config')!;
  assert.equal([jaas.value, jaas.sensitive, jaas.type, jaas.readOnly], [null, true, 'password', true]);
  assert.ok(jaas.synonyms.every((s) => s.value === null));
  const defaults = describeBrokerConfigs(staticKeys, dynamic, false);
  assert.equal(defaults.map((e) => e.name).sort(), ['log.retention.ms', 'log.segment.bytes']);
  assert.equal(effectiveTopicDefaults({ 'log.segment.bytes': '2048' }, dynamic), {
    'log.segment.bytes': '4096',
    'log.retention.ms': '1000',
  });
});

test.run();
