// Who is on the other end of a connection: Kafka's KafkaPrincipal ("User:alice"), the
// security protocol of the listener it came in on, and where its authentication stands.
// Authorization (ACLs, quotas) builds on these names, as Kafka's does.

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export function isSecurityProtocol(value: string): value is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(value);
}

/** SSL and SASL_SSL run over TLS. */
export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

/** SASL_PLAINTEXT and SASL_SSL authenticate with SASL before any other request. */
export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

export interface KafkaPrincipal {
  /** "User" for every principal Brook builds (Kafka's KafkaPrincipal.USER_TYPE). */
  readonly type: string;
  readonly name: string;
}

/** The principal of an unauthenticated connection (PLAINTEXT, or SSL without a client certificate). */
export const ANONYMOUS: KafkaPrincipal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string): KafkaPrincipal {
  return { type: 'User', name };
}

/** Kafka's string form, "User:alice". */
export function principalToString(principal: KafkaPrincipal): string {
  return `${principal.type}:${principal.name}`;
}

/** What one Kafka connection knows about its peer; the listener sets it, SASL updates it. */
export interface ConnectionSecurity {
  /** The listener's name (PLAINTEXT for the single listener of `--listen`). */
  listenerName: string;
  securityProtocol: SecurityProtocol;
  principal: KafkaPrincipal;
  /** False on a SASL listener until SaslAuthenticate succeeds; true elsewhere. */
  authenticated: boolean;
  /** The SASL mechanism the connection authenticated with, if any. */
  saslMechanism: string | null;
  /** Wall-clock ms after which the connection must re-authenticate (KIP-368), or null. */
  sessionExpiresAtMs: number | null;
}

export function plaintextSecurity(listenerName = 'PLAINTEXT'): ConnectionSecurity {
  return {
    listenerName,
    securityProtocol: 'PLAINTEXT',
    principal: ANONYMOUS,
    authenticated: true,
    saslMechanism: null,
    sessionExpiresAtMs: null,
  };
}
