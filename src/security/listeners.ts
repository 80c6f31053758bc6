// The security side of the listener configuration (parsed in src/config/listeners.ts):
// Kafka's wire ids of the security protocols, each listener's resolved keys, and the SASL
// mechanisms of each SASL listener (sasl.enabled.mechanisms; Kafka's default, GSSAPI, is
// not served, so Brook's default is SCRAM-SHA-256,SCRAM-SHA-512).

import { ConfigError } from '../config/config';
import { ListenerConfig, resolvedListenerKeys } from '../config/listeners';
import { SECURITY_PROTOCOLS, SecurityProtocol, usesSasl } from './principal';
import { SASL_MECHANISMS } from './sasl/settings';

export { resolvedListenerKeys } from '../config/listeners';

/** SASL mechanisms Brook serves; Kafka's default (GSSAPI, Kerberos) is not among them. */
export const SUPPORTED_SASL_MECHANISMS: readonly string[] = SASL_MECHANISMS;
/** sasl.enabled.mechanisms when not set (Kafka's default is GSSAPI, which Brook does not serve). */
export const DEFAULT_SASL_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's wire ids of the security protocols, as RegisterBrokerRecord endpoints carry them. */
export const SECURITY_PROTOCOL_IDS: Record<SecurityProtocol, number> = {
  PLAINTEXT: 0,
  SSL: 1,
  SASL_PLAINTEXT: 2,
  SASL_SSL: 3,
};

export function securityProtocolOfId(id: number): SecurityProtocol | undefined {
  return SECURITY_PROTOCOLS.find((p) => SECURITY_PROTOCOL_IDS[p] === id);
}

/** sasl.enabled.mechanisms of one listener, from its resolved keys; ConfigError naming the listener. */
export function parseSaslMechanisms(resolved: Record<string, string>, listenerName: string): string[] {
  const value = resolved['sasl.enabled.mechanisms'];
  const what = `sasl.enabled.mechanisms (listener ${listenerName})`;
  if (value === undefined) return [...DEFAULT_SASL_MECHANISMS];
  const mechanisms = value
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '');
  if (mechanisms.length === 0) throw new ConfigError(`${what}: a SASL listener needs at least one mechanism`);
  for (const mechanism of mechanisms) {
    if (mechanism === 'GSSAPI')
      throw new ConfigError(
        `${what}: GSSAPI (Kerberos) is not supported by Brook; use ${SUPPORTED_SASL_MECHANISMS.join(', ')}`,
      );
    if (!SUPPORTED_SASL_MECHANISMS.includes(mechanism))
      throw new ConfigError(
        `${what}: unknown mechanism "${mechanism}" (Brook serves ${SUPPORTED_SASL_MECHANISMS.join(', ')})`,
      );
  }
  if (new Set(mechanisms).size !== mechanisms.length) throw new ConfigError(`${what}: a mechanism appears twice`);
  return mechanisms;
}

/** The enabled SASL mechanisms of every SASL listener, by name; ConfigError on a bad list. */
export function listenerSaslMechanisms(listeners: ListenerConfig, keys: Record<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const listener of listeners.broker)
    if (usesSasl(listener.securityProtocol))
      out.set(listener.name, parseSaslMechanisms(resolvedListenerKeys(keys, listener.name), listener.name));
  return out;
}
