// The SASL settings of one listener, from Kafka's keys (already resolved for the listener,
// listener.name.<l>.* over the plain key) and Brook's brook.sasl.* keys:
//   sasl.enabled.mechanisms                   PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
//   sasl.server.max.receive.size              524288: bound on each frame before authentication
//   connection.failed.authentication.delay.ms 100: a failed authentication is answered (and
//                                             the connection closed) only after this delay
//   connections.max.reauth.ms                 0 (off): KIP-368 session lifetime; Kafka's
//                                             per-mechanism form <mechanism>.connections.max.reauth.ms
//                                             (e.g. oauthbearer.connections.max.reauth.ms,
//                                             listener.name.<l>. stripped) overrides it
//   brook.sasl.plain.users.file               PLAIN's users (see plain-users.ts); default:
//                                             the SCRAM credentials
//   brook.sasl.failed.authentications.per.minute.per.ip   20 (0: no limit)
//   brook.sasl.failed.authentication.tracked.ips          10000 addresses remembered at most

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

/** Kafka's BrokerSecurityConfigs.DEFAULT_SASL_SERVER_MAX_RECEIVE_SIZE. */
export const SASL_SERVER_MAX_RECEIVE_SIZE_DEFAULT = 524288;
/** Kafka's default connection.failed.authentication.delay.ms. */
export const FAILED_AUTHENTICATION_DELAY_MS_DEFAULT = 100;
export const FAILED_AUTHENTICATIONS_PER_MINUTE_PER_IP_DEFAULT = 20;
export const FAILED_AUTHENTICATION_TRACKED_IPS_DEFAULT = 10_000;

export class SaslConfigError extends Error {
  override readonly name = 'SaslConfigError';
}

export interface SaslSettings {
  enabledMechanisms: SaslMechanismName[];
  maxReceiveBytes: number;
  failedAuthenticationDelayMs: number;
  /** connections.max.reauth.ms; 0 means sessions do not expire (except with their token). */
  maxReauthMs: number;
  /** <mechanism>.connections.max.reauth.ms where given (lower-case mechanism in the key). */
  maxReauthMsByMechanism: Partial<Record<SaslMechanismName, number>>;
  plainUsersFile: string | null;
  failedAuthenticationsPerMinutePerIp: number;
  failedAuthenticationTrackedIps: number;
}

function integer(keys: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  const raw = keys[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new SaslConfigError(`${name}: expected an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return value;
}

export function isSaslMechanismName(value: string): value is SaslMechanismName {
  return (SASL_MECHANISMS as readonly string[]).includes(value);
}

/** Parses the SASL keys of one listener; throws SaslConfigError naming the key. */
export function parseSaslSettings(keys: Record<string, string>): SaslSettings {
  const listed = (keys['sasl.enabled.mechanisms'] ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (listed.length === 0)
    throw new SaslConfigError(`sasl.enabled.mechanisms: name at least one of ${SASL_MECHANISMS.join(', ')}`);
  const enabled: SaslMechanismName[] = [];
  for (const name of listed) {
    if (!isSaslMechanismName(name))
      throw new SaslConfigError(`sasl.enabled.mechanisms: ${name} is not supported (${SASL_MECHANISMS.join(', ')})`);
    if (!enabled.includes(name)) enabled.push(name);
  }
  const file = keys['brook.sasl.plain.users.file']?.trim();
  const maxReauthMsByMechanism: Partial<Record<SaslMechanismName, number>> = {};
  for (const mechanism of enabled) {
    const key = `${mechanism.toLowerCase()}.connections.max.reauth.ms`;
    if (keys[key] !== undefined) maxReauthMsByMechanism[mechanism] = integer(keys, key, 0, 0, Number.MAX_SAFE_INTEGER);
  }
  return {
    enabledMechanisms: enabled,
    maxReceiveBytes: integer(keys, 'sasl.server.max.receive.size', SASL_SERVER_MAX_RECEIVE_SIZE_DEFAULT, 64, 2 ** 30),
    failedAuthenticationDelayMs: integer(
      keys,
      'connection.failed.authentication.delay.ms',
      FAILED_AUTHENTICATION_DELAY_MS_DEFAULT,
      0,
      60_000,
    ),
    maxReauthMs: integer(keys, 'connections.max.reauth.ms', 0, 0, Number.MAX_SAFE_INTEGER),
    maxReauthMsByMechanism,
    plainUsersFile: file ? file : null,
    failedAuthenticationsPerMinutePerIp: integer(
      keys,
      'brook.sasl.failed.authentications.per.minute.per.ip',
      FAILED_AUTHENTICATIONS_PER_MINUTE_PER_IP_DEFAULT,
      0,
      1_000_000,
    ),
    failedAuthenticationTrackedIps: integer(
      keys,
      'brook.sasl.failed.authentication.tracked.ips',
      FAILED_AUTHENTICATION_TRACKED_IPS_DEFAULT,
      1,
      10_000_000,
    ),
  };
}
