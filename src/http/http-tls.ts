// TLS of the HTTP listener: the brook.http.tls.* keys are Kafka's ssl.* settings under that
// prefix (brook.http.tls.ssl.keystore.location, ...), read by the same parser and material
// as the Kafka listeners' once the prefix is stripped (src/security/tls.ts). Without any of
// them the listener is plain HTTP. A renewed certificate file is picked up without a restart.

import type * as https from 'node:https';
import type * as tls from 'node:tls';
import { ConfigError } from '../config/config';
import type { Logger } from '../logger';
import { parseTlsSettings, TlsMaterial } from '../security/tls';

export const HTTP_TLS_PREFIX = 'brook.http.tls.';

/** The brook.http.tls.* keys without their prefix (ssl.keystore.location, ...). */
export function httpTlsKeys(keys: Record<string, string>): Record<string, string> {
  const stripped: Record<string, string> = {};
  for (const [key, value] of Object.entries(keys))
    if (key.startsWith(HTTP_TLS_PREFIX)) stripped[key.slice(HTTP_TLS_PREFIX.length)] = value;
  return stripped;
}

/** The node-wide TLS timing keys, which the HTTP listener follows too unless set under its prefix. */
const SHARED_TLS_KEYS = ['brook.security.tls.reload.interval.ms', 'brook.security.tls.handshake.timeout.ms'];

/** The listener's TLS material, or null when no brook.http.tls.* key is set; throws ConfigError. */
export function httpTlsMaterial(keys: Record<string, string>, logger?: Logger): TlsMaterial | null {
  const ssl = httpTlsKeys(keys);
  if (Object.keys(ssl).length === 0) return null;
  for (const key of SHARED_TLS_KEYS) if (ssl[key] === undefined && keys[key] !== undefined) ssl[key] = keys[key];
  const settings = parseTlsSettings(ssl, HTTP_TLS_PREFIX.slice(0, -1));
  if (!settings.keystore)
    throw new ConfigError(
      `${HTTP_TLS_PREFIX}ssl.keystore.location (or ssl.keystore.key and ssl.keystore.certificate.chain): ` +
        'the HTTP listener needs a key store for TLS',
    );
  return new TlsMaterial(settings, logger);
}

/**
 * Serves the material on an HTTPS server as it changes: the files are watched, and once the
 * material reloads new handshakes use it (connections already open keep theirs). A client
 * certificate that did not verify (ssl.client.auth=requested lets the handshake finish) closes
 * the connection, as the Kafka listeners do. Returns the function that stops following.
 */
export function serveTlsMaterial(server: https.Server, material: TlsMaterial): () => void {
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    try {
      material.principalOf(socket);
    } catch {
      socket.destroy();
    }
  });
  material.watch();
  let current = material.serverContext;
  const timer = setInterval(() => {
    if (material.serverContext === current) return;
    current = material.serverContext;
    server.setSecureContext(material.serverOptions());
  }, material.settings.reloadIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    material.close();
  };
}
