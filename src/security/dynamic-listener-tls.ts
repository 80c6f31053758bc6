// Dynamic update of the TLS listeners' key and trust stores (Kafka's KIP-226 listener
// keystore update): the per-broker dynamic keys listener.name.<listener>.ssl.keystore.* /
// ssl.truststore.* / ssl.key.password override the config file's keys of that listener. A
// change is validated on the broker that owns the listener before it is committed (the new
// material must load, and keep the certificate's subject DN and SANs unless
// ssl.allow.dn.changes / ssl.allow.san.changes), and applied when its Config record is:
// new handshakes use the new certificate, established connections keep theirs. The values
// are secrets or name files: they are never logged.

import { ConfigError } from '../config/config';
import { resolvedListenerKeys } from '../config/listeners';
import { Logger } from '../logger';
import { parseTlsSettings, TlsMaterial } from './tls';

/** The keys of a listener's TLS material that a dynamic config may replace (mirrors broker-configs). */
const SSL_STORE_KEYS = [
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.truststore.certificates',
];

const LISTENER_KEY = /^listener\.name\.([^.]*)\.(.*)$/;

export interface TlsListener {
  name: string;
  material: TlsMaterial;
}

/** The change of a broker resource: SET (0) and DELETE (1); APPEND and SUBTRACT are refused before. */
export interface DynamicChange {
  name: string;
  op: number;
  value: string | null;
}

function isDynamicSslKey(name: string): boolean {
  const match = LISTENER_KEY.exec(name);
  return match !== null && SSL_STORE_KEYS.includes(match[2]);
}

function isTrue(value: string | undefined): boolean {
  return (value ?? '').trim().toLowerCase() === 'true';
}

export class DynamicListenerTls {
  /** What each listener's material was last built from (its resolved keys), to skip no-ops. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly staticKeys: Record<string, string>,
    private readonly listeners: TlsListener[],
    private readonly logger: Logger,
  ) {
    for (const l of listeners) this.applied.set(l.name, this.fingerprint(this.resolved(l.name, {})));
  }

  /** The listener's ssl.* keys: the config file's, with the dynamic listener SSL keys over them. */
  private resolved(listener: string, dynamic: Record<string, string>): Record<string, string> {
    const keys = { ...this.staticKeys };
    for (const [name, value] of Object.entries(dynamic)) if (isDynamicSslKey(name)) keys[name] = value;
    return resolvedListenerKeys(keys, listener);
  }

  private fingerprint(keys: Record<string, string>): string {
    return JSON.stringify(SSL_STORE_KEYS.map((k) => keys[k] ?? null));
  }

  /**
   * Checks a change of this broker's dynamic configs (`current`: its per-broker values now):
   * every TLS listener whose store keys it changes must accept the new material. Returns
   * Kafka's message (INVALID_REQUEST) or null.
   */
  validate(current: Record<string, string>, changes: DynamicChange[]): string | null {
    if (!changes.some((c) => isDynamicSslKey(c.name))) return null;
    const next = { ...current };
    for (const c of changes) {
      if (c.op === 1 || c.value === null) delete next[c.name];
      else next[c.name] = c.value;
    }
    for (const l of this.listeners) {
      const before = this.resolved(l.name, current);
      const after = this.resolved(l.name, next);
      if (this.fingerprint(before) === this.fingerprint(after)) continue;
      try {
        const settings = parseTlsSettings(after, `listener ${l.name}`);
        l.material.checkReconfiguration(settings, {
          dnChanges: isTrue(after['ssl.allow.dn.changes']),
          sanChanges: isTrue(after['ssl.allow.san.changes']),
        });
      } catch (error) {
        const reason =
          error instanceof ConfigError ? error.message : `listener ${l.name}: the new material cannot be used`;
        return `Validation of dynamic config update of SSLFactory failed: ${reason}`;
      }
    }
    return null;
  }

  /**
   * Brings every TLS listener in line with this broker's dynamic configs (at start, after
   * the metadata replay, and at each change). Material that no longer loads (a file since
   * removed) leaves the listener's current material in place, with one warning.
   */
  apply(perBroker: Record<string, string>): void {
    for (const l of this.listeners) {
      const keys = this.resolved(l.name, perBroker);
      const fingerprint = this.fingerprint(keys);
      if (this.applied.get(l.name) === fingerprint) continue;
      this.applied.set(l.name, fingerprint);
      try {
        l.material.reconfigure(parseTlsSettings(keys, `listener ${l.name}`));
      } catch (error) {
        // Applied from the metadata log: whatever fails, the listener keeps its material.
        this.logger.warn('dynamic TLS material not applied; the previous certificate stays in use', {
          listener: l.name,
          error: error instanceof ConfigError ? error.message : 'unexpected error',
        });
      }
    }
  }
}
