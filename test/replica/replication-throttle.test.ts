// The replication throttle's pieces: which partitions a replica list throttles on a broker
// (Kafka's parseThrottledPartitions) and the quota's bound and measure.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  isThrottled,
  LEADER_THROTTLED_REPLICAS,
  ReplicationQuota,
  throttledPartitions,
  UNTHROTTLED_RATE,
} from '../../src/replica/replication-throttle';
import { describeBrokerConfigs, validateBrokerConfigChange } from '../../src/broker/broker-configs';

test('a replica list throttles the partitions it names for this broker, "*" all of them', () => {
  assert.equal([...(throttledPartitions('0:1,1:2, 2:1', 1) as Set<number>)], [0, 2]);
  assert.equal([...(throttledPartitions('0:1,1:2', 3) as Set<number>)], []);
  assert.is(throttledPartitions(' * ', 7), 'all');
  assert.equal([...(throttledPartitions('', 1) as Set<number>)], []);
  assert.equal([...(throttledPartitions(undefined, 1) as Set<number>)], []);
  // Hostile text throttles nothing rather than throwing.
  assert.equal([...(throttledPartitions('x:y,:,1:', 1) as Set<number>)], []);
  assert.ok(isThrottled({ [LEADER_THROTTLED_REPLICAS]: '3:5' }, LEADER_THROTTLED_REPLICAS, 3, 5));
  assert.not.ok(isThrottled({ [LEADER_THROTTLED_REPLICAS]: '3:5' }, LEADER_THROTTLED_REPLICAS, 3, 4));
  assert.not.ok(isThrottled({}, LEADER_THROTTLED_REPLICAS, 0, 1));
});

test('Long.MAX_VALUE or no value leaves the quota off; a bound is exceeded once the rate is over it', () => {
  const quota = new ReplicationQuota({ samples: 2, windowMs: 1000 }, 0);
  quota.setRate(UNTHROTTLED_RATE, 0);
  assert.not.ok(quota.enabled);
  quota.record(10_000_000, 0);
  assert.not.ok(quota.isExceeded(0));
  quota.setRate('1000', 0);
  assert.ok(quota.enabled);
  quota.record(500, 10);
  assert.not.ok(quota.isExceeded(20));
  quota.record(1000, 30);
  assert.ok(quota.isExceeded(40));
  // The measure moves on: after the windows expire the rate is back under.
  assert.not.ok(quota.isExceeded(5000));
  quota.setRate(undefined, 5000);
  assert.not.ok(quota.enabled);
  assert.is(quota.recordedBytes, 10_001_500);
});

test('the rates are dynamic broker configs, Long.MAX_VALUE by default, at least 0', () => {
  const rate = (value: string) => [{ name: 'leader.replication.throttled.rate', op: 0, value }];
  assert.is(validateBrokerConfigChange('1', rate('500000')), null);
  assert.is(validateBrokerConfigChange('', rate('0')), null);
  assert.equal(validateBrokerConfigChange('1', rate('-1')), {
    error: 'INVALID_REQUEST',
    message: 'Invalid value -1 for configuration leader.replication.throttled.rate: Value must be at least 0',
  });
  assert.ok(validateBrokerConfigChange('1', rate('99999999999999999999')));
  const entries = describeBrokerConfigs(
    {},
    { clusterDefault: {}, perBroker: { 'follower.replication.throttled.rate': '42' } },
    true,
  );
  const leader = entries.find((e) => e.name === 'leader.replication.throttled.rate')!;
  assert.is(leader.value, UNTHROTTLED_RATE);
  assert.is(leader.readOnly, false);
  const follower = entries.find((e) => e.name === 'follower.replication.throttled.rate')!;
  assert.is(follower.value, '42');
  assert.is(follower.source, 'dynamic-broker');
});

test.run();
