// TLS of the HTTP listener: the brook.http.tls.* keys are Kafka's ssl.* settings under that
// prefix (brook.http.tls.ssl.keystore.location, ...), read by the same parser as the Kafka
// listeners' once the prefix is stripped. Without any of them the listener is plain HTTP.

import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { ConfigError } from '../config/config';

export const HTTP_TLS_PREFIX = 'brook.http.tls.';

/** The certificate material of the listener: options for https.createServer. */
export interface HttpTlsMaterial {
  serverOptions(): tls.TlsOptions;
  close(): void;
}

/** The brook.http.tls.* keys without their prefix (ssl.keystore.location, ...). */
export function httpTlsKeys(keys: Record<string, string>): Record<string, string> {
  const stripped: Record<string, string> = {};
  for (const [key, value] of Object.entries(keys))
    if (key.startsWith(HTTP_TLS_PREFIX)) stripped[key.slice(HTTP_TLS_PREFIX.length)] = value;
  return stripped;
}

/** The listener's TLS material, or null when no brook.http.tls.* key is set. */
export function httpTlsMaterial(keys: Record<string, string>): HttpTlsMaterial | null {
  const ssl = httpTlsKeys(keys);
  if (Object.keys(ssl).length === 0) return null;
  return pemMaterial(ssl);
}

/** Longest PEM file read. */
const PEM_FILE_BYTES_MAX = 1024 * 1024;

/**
 * PEM key stores as Kafka's KIP-651 names them: the key and chain inline
 * (ssl.keystore.key, ssl.keystore.certificate.chain) or one PEM file holding both
 * (ssl.keystore.location with ssl.keystore.type=PEM), ssl.key.password for an encrypted
 * key; ssl.truststore.certificates or ssl.truststore.location with ssl.client.auth for
 * client certificates.
 */
function pemMaterial(ssl: Record<string, string>): HttpTlsMaterial {
  const what = (key: string) => `${HTTP_TLS_PREFIX}${key}`;
  const type = ssl['ssl.keystore.type'] ?? 'PEM';
  if (type !== 'PEM') throw new ConfigError(`${what('ssl.keystore.type')}: only PEM is supported, got "${type}"`);
  let key = ssl['ssl.keystore.key'];
  let cert = ssl['ssl.keystore.certificate.chain'];
  const location = ssl['ssl.keystore.location'];
  if (location !== undefined) {
    if (key !== undefined || cert !== undefined)
      throw new ConfigError(`${what('ssl.keystore.location')}: set it or the inline PEM keys, not both`);
    const text = readPem(location, what('ssl.keystore.location'));
    key = pemBlocks(text, /PRIVATE KEY/).join('\n');
    cert = pemBlocks(text, /^CERTIFICATE$/).join('\n');
  }
  if (!key || !cert)
    throw new ConfigError(
      `${what('ssl.keystore.location')}: the HTTP listener's TLS needs a private key and its certificate chain`,
    );
  const options: tls.TlsOptions = { key, cert, minVersion: 'TLSv1.2' };
  if (ssl['ssl.key.password'] !== undefined) options.passphrase = ssl['ssl.key.password'];
  const trust =
    ssl['ssl.truststore.certificates'] ??
    (ssl['ssl.truststore.location'] !== undefined
      ? readPem(ssl['ssl.truststore.location'], what('ssl.truststore.location'))
      : undefined);
  const clientAuth = ssl['ssl.client.auth'] ?? 'none';
  if (!['none', 'requested', 'required'].includes(clientAuth))
    throw new ConfigError(`${what('ssl.client.auth')}: expected none, requested or required, got "${clientAuth}"`);
  if (clientAuth !== 'none') {
    if (!trust) throw new ConfigError(`${what('ssl.client.auth')}=${clientAuth} needs a trust store`);
    options.ca = trust;
    options.requestCert = true;
    options.rejectUnauthorized = clientAuth === 'required';
  }
  return { serverOptions: () => options, close: () => undefined };
}

function readPem(file: string, what: string): string {
  try {
    if (fs.statSync(file).size > PEM_FILE_BYTES_MAX)
      throw new ConfigError(`${what}: ${file} is too large for a PEM file`);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${what}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function pemBlocks(text: string, label: RegExp): string[] {
  const blocks: string[] = [];
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g))
    if (label.test(match[1])) blocks.push(match[0]);
  return blocks;
}
