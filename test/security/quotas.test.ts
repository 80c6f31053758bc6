// Client quota resolution and arithmetic, without a broker: Kafka's eight levels of
// precedence (KIP-55), the windowed rate and its throttle time (QuotaUtils.throttleTime), the
// token bucket of controller mutations (strict and permissive, KIP-599), connection creation
// rates (KIP-612), and the bounds on what the quota manager keeps.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetadataImage, quotaEntityKey } from '../../src/controller/metadata-image';
import {
  entityKey,
  QuotaResolver,
  QuotaSource,
  RateSensor,
  resolveClientQuota,
  throttleTimeMs,
  THROTTLE_TIME_MS_MAX,
} from '../../src/security/quotas';
import { ConnectionQuotas, listenerConnectionRates } from '../../src/security/connection-quotas';
import { ConfigError } from '../../src/config/config';
import { ClientQuotaManager, INACTIVE_SENSOR_EXPIRATION_MS } from '../../src/broker/quota-manager';

type Pairs = [string, string | null][];

/** A quota source that tests fill directly. */
function source(
  entries: [Pairs, Record<string, number>][],
): QuotaSource & { set(p: Pairs, k: string, v: number | null): void } {
  const clientQuotas = new Map<string, { values: Map<string, number> }>();
  const s = {
    clientQuotas,
    quotaVersion: 0,
    set(pairs: Pairs, key: string, value: number | null) {
      const k = entityKey(pairs);
      let q = clientQuotas.get(k);
      if (!q) clientQuotas.set(k, (q = { values: new Map() }));
      if (value === null) q.values.delete(key);
      else q.values.set(key, value);
      s.quotaVersion++;
    },
  };
  for (const [pairs, values] of entries) for (const [k, v] of Object.entries(values)) s.set(pairs, k, v);
  return s;
}

const P = 'producer_byte_rate';
const WINDOW = { samples: 11, windowMs: 1000 };

test("entity keys are the metadata image's keys", () => {
  const cases: Pairs[] = [
    [['user', 'alice']],
    [['client-id', null]],
    [
      ['user', null],
      ['client-id', 'c1'],
    ],
    [
      ['client-id', 'c1'],
      ['user', 'alice'],
    ],
    [['ip', '10.0.0.1']],
  ];
  for (const pairs of cases)
    assert.is(entityKey(pairs), quotaEntityKey(pairs.map(([entityType, entityName]) => ({ entityType, entityName }))));
  // And the image's own map answers resolution.
  const image = new MetadataImage();
  image.apply(
    {
      type: 'ClientQuota',
      data: { entity: [{ entityType: 'client-id', entityName: 'c1' }], key: P, value: 5, remove: false },
    },
    1,
  );
  assert.equal(resolveClientQuota(image, P, 'alice', 'c1'), { bound: 5, user: '', clientId: 'c1' });
});

test('precedence: the eight levels of KIP-55, most specific first', () => {
  const levels: [Pairs, number, [string, string]][] = [
    [
      [
        ['user', 'alice'],
        ['client-id', 'c1'],
      ],
      1,
      ['alice', 'c1'],
    ],
    [
      [
        ['user', 'alice'],
        ['client-id', null],
      ],
      2,
      ['alice', 'c1'],
    ],
    [[['user', 'alice']], 3, ['alice', '']],
    [
      [
        ['user', null],
        ['client-id', 'c1'],
      ],
      4,
      ['alice', 'c1'],
    ],
    [
      [
        ['user', null],
        ['client-id', null],
      ],
      5,
      ['alice', 'c1'],
    ],
    [[['user', null]], 6, ['alice', '']],
    [[['client-id', 'c1']], 7, ['', 'c1']],
    [[['client-id', null]], 8, ['', 'c1']],
  ];
  const s = source(levels.map(([pairs, value]) => [pairs, { [P]: value }]));
  for (const [pairs, value, [user, clientId]] of levels) {
    assert.equal(resolveClientQuota(s, P, 'alice', 'c1'), { bound: value, user, clientId }, `level ${value}`);
    s.set(pairs, P, null);
  }
  assert.equal(resolveClientQuota(s, P, 'alice', 'c1'), { bound: null, user: '', clientId: 'c1' });
});

test('precedence: other users and clients fall to the defaults; keys are separate', () => {
  const s = source([
    [[['user', 'alice']], { [P]: 100, consumer_byte_rate: 7 }],
    [[['user', null]], { [P]: 50 }],
    [[['client-id', 'c1']], { [P]: 10 }],
  ]);
  assert.is(resolveClientQuota(s, P, 'alice', 'c1').bound, 100);
  assert.is(resolveClientQuota(s, P, 'bob', 'c1').bound, 50, '/users/<default> beats /clients/c1');
  assert.is(resolveClientQuota(s, 'consumer_byte_rate', 'bob', 'c1').bound, null);
  assert.is(resolveClientQuota(s, 'consumer_byte_rate', 'alice', 'x').bound, 7);
  // An empty client id matches no client-id entity, as in Kafka.
  const clients = source([[[['client-id', null]], { [P]: 10 }]]);
  assert.is(resolveClientQuota(clients, P, 'alice', '').bound, null);
  assert.is(resolveClientQuota(clients, P, 'alice', 'any').bound, 10);
});

test('values that are not finite numbers >= 0 are no quota; zero is a quota that throttles everything', () => {
  for (const bad of [NaN, Infinity, -1]) {
    const s = source([[[['client-id', 'c']], { [P]: bad, connection_creation_rate: bad }]]);
    assert.is(resolveClientQuota(s, P, 'u', 'c').bound, null, String(bad));
    assert.is(new QuotaResolver(() => s).connectionRate('10.0.0.1'), null);
  }
  const zero = source([[[['client-id', 'c']], { [P]: 0 }]]);
  const manager = new ClientQuotaManager(
    () => zero,
    { window: WINDOW, sensorsMax: 10 },
    () => 0,
  );
  assert.is(manager.record(P, 'u', 'c', 1), 10_000);
});

test('the resolver caches by quota version and knows which keys are in use', () => {
  const s = source([[[['client-id', 'c1']], { [P]: 10 }]]);
  const resolver = new QuotaResolver(() => s, 2);
  assert.ok(resolver.enabled(P));
  assert.not.ok(resolver.enabled('request_percentage'));
  assert.ok(resolver.anyClientQuota);
  assert.is(resolver.resolve(P, 'u', 'c1').bound, 10);
  s.set([['client-id', 'c1']], P, 20);
  assert.is(resolver.resolve(P, 'u', 'c1').bound, 20, 'a new version is seen at once');
  for (let i = 0; i < 10; i++) resolver.resolve(P, 'u', `c${i}`);
  s.set([['client-id', 'c1']], P, null);
  assert.not.ok(resolver.anyClientQuota);
  const ips = source([[[['ip', null]], { connection_creation_rate: 3 }]]);
  const ipResolver = new QuotaResolver(() => ips);
  assert.is(ipResolver.connectionRate('10.0.0.1'), 3);
  ips.set([['ip', '10.0.0.1']], 'connection_creation_rate', 9);
  assert.is(ipResolver.connectionRate('10.0.0.1'), 9);
  assert.is(ipResolver.connectionRate('10.0.0.2'), 3);
  assert.not.ok(ipResolver.anyClientQuota);
});

test('the rate counts samples - 1 full windows at least, and the throttle brings it back to the quota', () => {
  const sensor = new RateSensor(WINDOW, 0);
  // 20 MB at once: over a 10 s window that is 2 MB/s, twice a 1 MB/s quota; it takes 10 s
  // more for the average to fall back to 1 MB/s: (2 - 1) / 1 * 10 s.
  const throttle = sensor.recordAndThrottleMs(20_000_000, 1_000_000, 0);
  assert.is(sensor.rate(0), 2_000_000);
  assert.is(throttle, 10_000);
  // Within the quota: no throttle.
  const calm = new RateSensor(WINDOW, 0);
  for (let t = 0; t < 20_000; t += 100) assert.is(calm.recordAndThrottleMs(90_000, 1_000_000, t), 0);
  assert.ok(Math.abs(calm.rate(20_000) - 900_000) < 50_000, String(calm.rate(20_000)));
  // Old samples fall out of the window.
  assert.is(sensor.rate(30_000), 0);
  assert.is(throttleTimeMs(3, 1, 1000), 2000);
  assert.is(throttleTimeMs(5, 0, 1000), 1000, 'a zero quota throttles for one window');
  assert.is(throttleTimeMs(1e30, 1, 1e6), THROTTLE_TIME_MS_MAX);
});

test('a steady producer over its quota is throttled to about the quota', () => {
  // A client that sends 100 KB whenever it is allowed and then waits out its throttle.
  const sensor = new RateSensor(WINDOW, 0);
  let t = 0;
  let sent = 0;
  while (t < 60_000) {
    const throttle = sensor.recordAndThrottleMs(100_000, 1_000_000, t);
    sent += 100_000;
    t += Math.max(10, throttle);
  }
  const rate = sent / (t / 1000);
  assert.ok(rate > 900_000 && rate < 1_300_000, `rate ${rate}`);
});

test('controller mutations: strict refuses once the bucket is empty, permissive admits and throttles', () => {
  let now = 1_000_000;
  const s = source([[[['client-id', 'admin']], { controller_mutation_rate: 2 }]]);
  const manager = new ClientQuotaManager(
    () => s,
    { window: WINDOW, sensorsMax: 10 },
    () => now,
  );
  // Burst: 11 windows * 1 s * 2 = 22 tokens. A 30-partition topic passes (the bucket is
  // not empty before it), the next is refused with the time to refill 8 tokens.
  const strict = manager.mutationQuota('ANONYMOUS', 'admin', true);
  assert.ok(strict.admit(30));
  assert.is(strict.throttleTimeMs(), 0);
  assert.not.ok(strict.admit(1));
  assert.is(strict.throttleTimeMs(), 4000);
  now += 1000;
  assert.is(strict.throttleTimeMs(), 3000, 'the throttle time shrinks as time passes');
  now += 3000;
  assert.ok(manager.mutationQuota('ANONYMOUS', 'admin', true).admit(1), 'refilled');
  const permissive = manager.mutationQuota('ANONYMOUS', 'admin', false);
  assert.ok(permissive.admit(9));
  assert.is(permissive.throttleTimeMs(), 5000);
  // Another client id has no quota.
  assert.ok(manager.mutationQuota('ANONYMOUS', 'other', true).admit(1000));
});

test('the quota manager records nothing without quotas, bounds its sensors and expires idle ones', () => {
  let now = 0;
  const s = source([]);
  const manager = new ClientQuotaManager(
    () => s,
    { window: WINDOW, sensorsMax: 3 },
    () => now,
  );
  assert.not.ok(manager.active);
  assert.is(manager.record(P, 'u', 'c', 1e9), 0);
  assert.is(manager.sensors.get(P)!.size, 0);
  s.set(
    [
      ['user', null],
      ['client-id', null],
    ],
    P,
    1000,
  );
  assert.ok(manager.active);
  for (let i = 0; i < 10; i++) manager.record(P, 'u', `c${i}`, 10);
  assert.is(manager.sensors.get(P)!.size, 3, 'bounded by sensorsMax');
  assert.ok(manager.sensors.get(P)!.has('u\u0000c9'));
  now = INACTIVE_SENSOR_EXPIRATION_MS + 1;
  manager.record(P, 'u', 'fresh', 10);
  assert.is(manager.sensors.get(P)!.size, 1, 'idle sensors expired');
  // request_percentage throttles at most one window.
  s.set(
    [
      ['user', null],
      ['client-id', null],
    ],
    'request_percentage',
    1,
  );
  assert.is(manager.recordRequestTime('u', 'c', 60e9), 1000);
});

test('connection creation rates: per IP held and closed, broker-wide delayed, both capped at a window', () => {
  let rate: number | null = 2;
  const quotas = new ConnectionQuotas({ window: WINDOW, maxConnectionCreationRate: 5, ipSensorsMax: 2 }, () => rate, 0);
  // 2/s over at least 10 s: 20 connections pass at once, the 21st is over.
  for (let i = 0; i < 20; i++) assert.is(quotas.recordIpConnection('10.0.0.1', 0, true), 0, `connection ${i}`);
  // Not counted for the broker-wide rate here (as on an exempt listener).
  const hold = quotas.recordIpConnection('10.0.0.1', 0, false);
  assert.ok(hold > 0 && hold <= 1000, String(hold));
  assert.is(quotas.ipThrottles, 1);
  // The refused one was taken back out of the count.
  assert.is(quotas.ipRate('10.0.0.1', 0), 2);
  // Other addresses have their own sensors, bounded in number.
  quotas.recordIpConnection('10.0.0.2', 0, true);
  quotas.recordIpConnection('10.0.0.3', 0, true);
  assert.is(quotas.ipSensorCount, 2);
  rate = null;
  assert.is(quotas.recordIpConnection('10.0.0.1', 0, true), 0, 'no quota: no throttle');
  // Broker-wide: 5/s over 10 s is 50 at once; the 51st pauses accepting, at most one window.
  for (let i = 0; i < 50; i++) assert.is(quotas.recordBrokerConnection(0), 0);
  const delay = quotas.recordBrokerConnection(0);
  assert.ok(delay > 0 && delay <= 1000, String(delay));
  const unlimited = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2147483647, ipSensorsMax: 2 },
    () => null,
    0,
  );
  assert.not.ok(unlimited.brokerRateLimited);
  for (let i = 0; i < 1000; i++) assert.is(unlimited.recordBrokerConnection(0), 0);
});

test('listener.name.<listener>.max.connection.creation.rate is read per listener and checked', () => {
  const keys = {
    'listener.name.external.max.connection.creation.rate': '5',
    'listener.name.other.max.connection.creation.rate': '7',
  };
  assert.equal([...listenerConnectionRates(keys, ['EXTERNAL', 'INTERNAL'])], [['EXTERNAL', 5]]);
  for (const bad of ['-1', '1.5', 'lots', '', '99999999999'])
    assert.throws(
      () => listenerConnectionRates({ 'listener.name.external.max.connection.creation.rate': bad }, ['EXTERNAL']),
      (error: Error) => error instanceof ConfigError && error.message.includes('max.connection.creation.rate'),
      bad,
    );
});

test.run();
