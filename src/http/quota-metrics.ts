// Client quota metric families for /metrics, named after Kafka's per user/client-id quota
// metrics (kafka.server:type=Produce|Fetch|Request|ControllerMutation, byte-rate,
// request-time, mutation-rate, throttle-time). Series exist only for the sensors the quota
// manager keeps, which brook.quota.max.sensors bounds per quota type.

import type { Broker } from '../broker/broker';
import { QUOTA_TYPE_NAMES } from '../broker/quota-manager';
import type { ClientQuotaType } from '../security/quotas';
import type { ExpositionWriter } from './exposition';

export function renderQuotaMetrics(w: ExpositionWriter, broker: Broker): void {
  const quotas = broker.quotas;
  const nowMs = quotas.clock();
  const sensorsOf = (type: ClientQuotaType) =>
    [...quotas.sensors.get(type)!.values()].sort(
      (a, b) => a.user.localeCompare(b.user) || a.clientId.localeCompare(b.clientId),
    );
  const labels = (type: ClientQuotaType, user: string, clientId: string) => ({
    quota: QUOTA_TYPE_NAMES[type],
    user,
    client_id: clientId,
  });
  w.family(
    'brook_quota_byte_rate',
    'gauge',
    'Bytes per second over the quota window, by quota (Produce: request bytes; Fetch: consumer record bytes), user and client id (Kafka byte-rate).',
  );
  for (const type of ['producer_byte_rate', 'consumer_byte_rate'] as const)
    for (const s of sensorsOf(type))
      w.sample('brook_quota_byte_rate', labels(type, s.user, s.clientId), s.rate.rate(nowMs));
  w.family(
    'brook_quota_request_time_percent',
    'gauge',
    'Request handler time as a percentage of one thread over the quota window, by user and client id (Kafka request-time).',
  );
  for (const s of sensorsOf('request_percentage'))
    w.sample('brook_quota_request_time_percent', { user: s.user, client_id: s.clientId }, s.rate.rate(nowMs));
  w.family(
    'brook_quota_mutation_rate',
    'gauge',
    'Partition mutations per second over the quota window, by user and client id (Kafka mutation-rate).',
  );
  for (const s of sensorsOf('controller_mutation_rate'))
    w.sample('brook_quota_mutation_rate', { user: s.user, client_id: s.clientId }, s.rate.rate(nowMs));
  w.family(
    'brook_quota_throttle_time_ms',
    'gauge',
    'Average throttle time over the quota window, by quota, user and client id (Kafka throttle-time).',
  );
  const types = Object.keys(QUOTA_TYPE_NAMES) as ClientQuotaType[];
  for (const type of types)
    for (const s of sensorsOf(type))
      w.sample('brook_quota_throttle_time_ms', labels(type, s.user, s.clientId), s.throttleTimeAvgMs(nowMs));
  w.family('brook_quota_throttled_total', 'counter', 'Responses throttled, by quota, user and client id.');
  for (const type of types)
    for (const s of sensorsOf(type))
      w.sample('brook_quota_throttled_total', labels(type, s.user, s.clientId), s.throttledTotal);
  const connections = broker.connectionQuotas;
  w.family(
    'brook_connection_creation_throttled_total',
    'counter',
    'New connections delayed by max.connection.creation.rate (scope broker) or held and closed by an IP connection_creation_rate (scope ip).',
  );
  w.sample('brook_connection_creation_throttled_total', { scope: 'broker' }, connections?.brokerThrottles ?? 0);
  w.sample('brook_connection_creation_throttled_total', { scope: 'ip' }, connections?.ipThrottles ?? 0);
}
