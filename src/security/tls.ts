// TLS settings and key material for one listener (or one client): Kafka's ssl.* keys,
// PEM keystores and truststores (inline or in files), node:tls options built from them,
// the principal of a client certificate (ssl.principal.mapping.rules), and reloading of
// the PEM files when they change, so certificates rotate without a restart. A reload that
// fails keeps the material in use.

import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { ConfigError } from '../config/config';
import { Logger } from '../logger';
import { subjectRfc2253 } from './certs';
import { ANONYMOUS, KafkaPrincipal, userPrincipal } from './principal';
import { MappingRuleError, SslPrincipalMapper } from './principal-mapper';

export { mapPrincipal, NoMatchingRuleError } from './principal-mapper';

export type SslClientAuth = 'none' | 'requested' | 'required';

/** A PEM source: the text itself (inline config) or a file holding it. */
export type PemSource = { pem: string } | { location: string };

export interface TlsSettings {
  /** Names the listener or client in messages ("listener SSL"). */
  what: string;
  /** Private key and certificate chain; required to serve TLS, optional for clients. */
  keystore: { key: PemSource; certificateChain: PemSource } | null;
  /** ssl.key.password: decrypts an encrypted PKCS#8 key. Never logged. */
  keyPassword: string | null;
  /** Trusted CA certificates; null means Node's bundled root CAs. */
  truststore: PemSource | null;
  clientAuth: SslClientAuth;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  /** OpenSSL cipher list built from ssl.cipher.suites, or null for Node's defaults. */
  ciphers: string | null;
  /** ssl.principal.mapping.rules, checked to parse. */
  principalMappingRules: string;
  /** ssl.endpoint.identification.algorithm=https (the default): clients check the server's name. */
  endpointIdentification: boolean;
  /** brook.security.tls.reload.interval.ms: how often watch() looks at the PEM files. */
  reloadIntervalMs: number;
  /** brook.security.tls.handshake.timeout.ms: a TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 5000;
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Bounds a PEM file read from disk (a keystore or truststore is a few KB). */
export const PEM_BYTES_MAX = 1 << 20;

const SUPPORTED_PROTOCOLS: readonly tls.SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** JSSE (IANA) cipher suite names as Kafka configures them, and OpenSSL's names for them. */
const CIPHER_SUITES: Record<string, string> = {
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
};

/** Kafka keys this module does not implement; setting them is refused rather than ignored. */
const UNSUPPORTED_KEYS = ['ssl.engine.factory.class', 'ssl.provider'];

/**
 * Reads Kafka's ssl.* keys, already resolved for one listener or client (listener.name.*
 * overrides applied by the caller). Only PEM key and trust stores are supported: JKS and
 * PKCS12 are refused with a hint to convert them. Throws ConfigError naming `what`.
 */
export function parseTlsSettings(keys: Record<string, string>, what: string): TlsSettings {
  const get = (key: string): string | undefined => {
    const value = keys[key];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  for (const key of UNSUPPORTED_KEYS) {
    if (get(key) !== undefined) throw new ConfigError(`${what}: ${key} is not supported by Brook`);
  }

  const keystoreType = (get('ssl.keystore.type') ?? 'PEM').trim().toUpperCase();
  const keystoreLocation = get('ssl.keystore.location');
  const inlineKey = get('ssl.keystore.key');
  const inlineChain = get('ssl.keystore.certificate.chain');
  const anyKeystore = keystoreLocation !== undefined || inlineKey !== undefined || inlineChain !== undefined;
  if (anyKeystore && keystoreType !== 'PEM') refuseStoreType(what, 'ssl.keystore.type', keystoreType);
  if (keys['ssl.keystore.password'] !== undefined && anyKeystore) {
    throw new ConfigError(
      `${what}: ssl.keystore.password cannot be used with PEM key stores; set ssl.key.password for an encrypted key`,
    );
  }
  let keystore: TlsSettings['keystore'] = null;
  if (inlineKey !== undefined || inlineChain !== undefined) {
    if (keystoreLocation !== undefined) {
      throw new ConfigError(`${what}: set either ssl.keystore.location or ssl.keystore.key, not both`);
    }
    if (inlineKey === undefined)
      throw new ConfigError(`${what}: ssl.keystore.certificate.chain needs ssl.keystore.key`);
    if (inlineChain === undefined)
      throw new ConfigError(`${what}: ssl.keystore.key needs ssl.keystore.certificate.chain`);
    keystore = { key: { pem: inlineKey }, certificateChain: { pem: inlineChain } };
  } else if (keystoreLocation !== undefined) {
    keystore = { key: { location: keystoreLocation }, certificateChain: { location: keystoreLocation } };
  }

  const truststoreType = (get('ssl.truststore.type') ?? 'PEM').trim().toUpperCase();
  const truststoreLocation = get('ssl.truststore.location');
  const inlineTrust = get('ssl.truststore.certificates');
  const anyTruststore = truststoreLocation !== undefined || inlineTrust !== undefined;
  if (anyTruststore && truststoreType !== 'PEM') refuseStoreType(what, 'ssl.truststore.type', truststoreType);
  if (keys['ssl.truststore.password'] !== undefined && anyTruststore) {
    throw new ConfigError(`${what}: ssl.truststore.password cannot be used with PEM trust stores`);
  }
  if (truststoreLocation !== undefined && inlineTrust !== undefined) {
    throw new ConfigError(`${what}: set either ssl.truststore.location or ssl.truststore.certificates, not both`);
  }
  const truststore: PemSource | null =
    inlineTrust !== undefined
      ? { pem: inlineTrust }
      : truststoreLocation !== undefined
        ? { location: truststoreLocation }
        : null;

  const clientAuthText = (get('ssl.client.auth') ?? 'none').trim().toLowerCase();
  if (clientAuthText !== 'none' && clientAuthText !== 'requested' && clientAuthText !== 'required') {
    throw new ConfigError(`${what}: ssl.client.auth must be none, requested or required, got "${clientAuthText}"`);
  }

  const protocols = (get('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (protocols.length === 0) throw new ConfigError(`${what}: ssl.enabled.protocols is empty`);
  for (const protocol of protocols) {
    if (!(SUPPORTED_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ConfigError(
        `${what}: ssl.enabled.protocols: "${protocol}" is not supported (use ${SUPPORTED_PROTOCOLS.join(', ')})`,
      );
    }
  }
  const enabled = SUPPORTED_PROTOCOLS.filter((p) => protocols.includes(p));
  const sslProtocol = get('ssl.protocol');
  if (sslProtocol !== undefined && !['TLS', 'TLSv1.2', 'TLSv1.3'].includes(sslProtocol.trim())) {
    throw new ConfigError(`${what}: ssl.protocol must be TLS, TLSv1.2 or TLSv1.3, got "${sslProtocol}"`);
  }

  const ciphers = parseCipherSuites(get('ssl.cipher.suites'), what);

  const principalMappingRules = get('ssl.principal.mapping.rules') ?? 'DEFAULT';
  try {
    new SslPrincipalMapper(principalMappingRules);
  } catch (error) {
    if (error instanceof MappingRuleError) {
      throw new ConfigError(`${what}: ssl.principal.mapping.rules: ${error.message}`);
    }
    throw error;
  }

  const algorithm = keys['ssl.endpoint.identification.algorithm'] ?? 'https';
  if (algorithm.trim() !== '' && algorithm.trim().toLowerCase() !== 'https') {
    throw new ConfigError(`${what}: ssl.endpoint.identification.algorithm must be https or empty, got "${algorithm}"`);
  }

  return {
    what,
    keystore,
    keyPassword: keys['ssl.key.password'] ?? null,
    truststore,
    clientAuth: clientAuthText,
    minVersion: enabled[0],
    maxVersion: enabled[enabled.length - 1],
    ciphers,
    principalMappingRules,
    endpointIdentification: algorithm.trim() !== '',
    reloadIntervalMs: boundedInteger(
      keys,
      'brook.security.tls.reload.interval.ms',
      DEFAULT_TLS_RELOAD_INTERVAL_MS,
      50,
      3_600_000,
      what,
    ),
    handshakeTimeoutMs: boundedInteger(
      keys,
      'brook.security.tls.handshake.timeout.ms',
      DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
      100,
      600_000,
      what,
    ),
  };
}

function refuseStoreType(what: string, key: string, type: string): never {
  const hint =
    type === 'JKS' || type === 'PKCS12'
      ? ` Brook reads PEM only: convert with \`keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype PKCS12\`` +
        ` then \`openssl pkcs12 -in store.p12 -nodes -out store.pem\`, and set ${key}=PEM`
      : '';
  throw new ConfigError(`${what}: ${key}=${type} is not supported (only PEM).${hint}`);
}

function parseCipherSuites(value: string | undefined, what: string): string | null {
  if (value === undefined) return null;
  const available = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const openssl = names.map((name) => {
    const mapped = CIPHER_SUITES[name] ?? name;
    if (!available.has(mapped.toUpperCase())) {
      throw new ConfigError(`${what}: ssl.cipher.suites: unknown or unavailable cipher suite "${name}"`);
    }
    return mapped;
  });
  return openssl.length > 0 ? openssl.join(':') : null;
}

function boundedInteger(
  keys: Record<string, string>,
  key: string,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  const text = keys[key];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${what}: ${key} must be an integer ${min}-${max}, got "${text}"`);
  }
  return value;
}

// ---- material --------------------------------------------------------------------------

interface LoadedMaterial {
  /** Decrypted private key, PKCS#8 PEM (kept in memory only). */
  key: string | null;
  certificateChain: string | null;
  trusted: string[] | null;
  leaf: X509Certificate | null;
  serverContext: tls.SecureContext | null;
  clientContext: tls.SecureContext;
  /** Hash of the bytes read, so an unchanged file does not reload. */
  fingerprint: string;
}

/** What TLS sockets need from a listener's (or client's) TLS settings; reloadable. */
export class TlsMaterial {
  private material: LoadedMaterial;
  private current: TlsSettings;
  private readonly mapper: SslPrincipalMapper;
  private watched: string[] = [];
  private watchListener: (() => void) | null = null;
  private reloadTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  /** Throws ConfigError when the PEM material cannot be read or does not fit together. */
  constructor(
    settings: TlsSettings,
    private readonly logger?: Logger,
  ) {
    this.current = settings;
    this.mapper = new SslPrincipalMapper(settings.principalMappingRules);
    this.material = loadMaterial(settings);
    this.warnIfExpiring();
  }

  /** The settings in use (replaced by reconfigure). */
  get settings(): TlsSettings {
    return this.current;
  }

  /**
   * Checks that `next` may replace the settings in use, as Kafka's SslFactory validates a
   * dynamic keystore update: the new material must load and fit together, a key store cannot
   * be added or removed, nor a trust store added, and the new certificate must keep the
   * subject DN (compared in RFC 2253 form, case-insensitively) and every subject alternative
   * name of the one in use, unless ssl.allow.dn.changes / ssl.allow.san.changes. Throws
   * ConfigError with the reason; the messages carry no key material nor password.
   */
  checkReconfiguration(next: TlsSettings, allow: { dnChanges: boolean; sanChanges: boolean }): void {
    checkCompatible(this.current, this.material, next, loadMaterial(next), allow);
  }

  /**
   * Replaces the settings and material: new handshakes use the new certificate, established
   * connections keep theirs. Throws ConfigError (the material in use stays) when the new
   * material does not load. The files watched follow the new settings.
   */
  reconfigure(next: TlsSettings): void {
    if (this.current.keystore && !next.keystore)
      throw new ConfigError(`${next.what}: a TLS listener needs a key store; the one in use stays`);
    const material = loadMaterial(next);
    const watching = this.watchListener !== null;
    this.close();
    this.current = next;
    this.material = material;
    this.logger?.info('TLS material reconfigured', { listener: next.what, ...this.certificateInfo });
    this.warnIfExpiring();
    if (watching) this.watch();
  }

  /** The secure context new server-side handshakes use (swapped by reload). */
  get serverContext(): tls.SecureContext {
    if (!this.material.serverContext) {
      throw new ConfigError(
        `${this.settings.what}: a TLS listener needs a key store (ssl.keystore.location, or ssl.keystore.key and ssl.keystore.certificate.chain)`,
      );
    }
    return this.material.serverContext;
  }

  /** The subject and expiry of the certificate in use (for logs and status). */
  get certificateInfo(): { subject: string; notAfter: string } | null {
    const leaf = this.material.leaf;
    return leaf ? { subject: subjectRfc2253(leaf.raw), notAfter: leaf.validTo } : null;
  }

  /**
   * Options for a server-side tls.TLSSocket (secureContext, client certificate policy) and
   * for tls.createServer (key, cert, ca and versions, since tls.Server ignores secureContext).
   */
  serverOptions(): tls.TlsOptions {
    const { settings, material } = this;
    return {
      secureContext: this.serverContext,
      key: material.key ?? undefined,
      cert: material.certificateChain ?? undefined,
      ca: material.trusted ?? undefined,
      minVersion: settings.minVersion,
      maxVersion: settings.maxVersion,
      ciphers: settings.ciphers ?? undefined,
      requestCert: settings.clientAuth !== 'none',
      // 'requested' lets a client without a certificate in; one whose certificate fails
      // verification is still refused, by principalOf (as a JSSE server with wantClientAuth).
      rejectUnauthorized: settings.clientAuth === 'required',
      handshakeTimeout: settings.handshakeTimeoutMs,
    };
  }

  /** Options for tls.connect to a server with these settings (a client certificate if a key store is set). */
  clientOptions(servername?: string): tls.ConnectionOptions {
    const { settings, material } = this;
    const options: tls.ConnectionOptions = {
      secureContext: material.clientContext,
      key: material.key ?? undefined,
      cert: material.certificateChain ?? undefined,
      ca: material.trusted ?? undefined,
      minVersion: settings.minVersion,
      maxVersion: settings.maxVersion,
      ciphers: settings.ciphers ?? undefined,
      rejectUnauthorized: true,
    };
    // SNI carries host names only (RFC 6066); an address is checked against IP SANs.
    if (servername !== undefined && isIP(servername) === 0) options.servername = servername;
    if (!settings.endpointIdentification) options.checkServerIdentity = () => undefined;
    return options;
  }

  /**
   * The principal of a handshaken server-side socket: ANONYMOUS without a client
   * certificate, else the mapping rules applied to its subject. Throws when the client's
   * certificate did not verify against the trust store (the connection must be closed)
   * or when no mapping rule applies (Kafka fails the authentication then too).
   */
  principalOf(socket: tls.TLSSocket): KafkaPrincipal {
    const peer = socket.getPeerX509Certificate();
    if (!peer) return ANONYMOUS;
    const failure = peerVerificationError(socket);
    if (failure !== null) throw new Error(`client certificate refused: ${failure}`);
    return userPrincipal(this.mapper.getName(subjectRfc2253(peer.raw)));
  }

  /**
   * Reads the PEM material again. New handshakes use it; established connections keep
   * theirs. On failure the material in use stays and one line is logged.
   */
  reload(): void {
    let next: LoadedMaterial;
    try {
      next = loadMaterial(this.settings);
    } catch (error) {
      this.logger?.warn('TLS material not reloaded; the previous certificate stays in use', {
        listener: this.settings.what,
        error: (error as Error).message,
      });
      return;
    }
    if (next.fingerprint === this.material.fingerprint) return;
    this.material = next;
    this.logger?.info('TLS material reloaded', { listener: this.settings.what, ...this.certificateInfo });
    this.warnIfExpiring();
  }

  /**
   * Watches the key store and trust store files (polling their status every
   * reloadIntervalMs, which also sees files replaced by rename) and reloads after a change.
   */
  watch(): void {
    if (this.watchListener) return;
    const files = new Set<string>();
    const { keystore, truststore } = this.settings;
    if (keystore && 'location' in keystore.key) files.add(keystore.key.location);
    if (keystore && 'location' in keystore.certificateChain) files.add(keystore.certificateChain.location);
    if (truststore && 'location' in truststore) files.add(truststore.location);
    this.watched = [...files];
    if (this.watched.length === 0) return;
    const interval = this.settings.reloadIntervalMs;
    // A rotation often writes the key and the certificate one after the other: wait a
    // moment after the last change so that both are read together.
    this.watchListener = () => {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => this.reload(), Math.min(interval, 200));
      this.reloadTimer.unref();
    };
    // The files' identity, size and modification time, taken now, before any change can
    // slip in (fs.watchFile takes its first look later, and would miss a change before it).
    const look = () =>
      this.watched
        .map((file) => {
          try {
            const stat = fs.statSync(file);
            return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
          } catch {
            return 'missing';
          }
        })
        .join('|');
    let last = look();
    this.pollTimer = setInterval(() => {
      const now = look();
      if (now === last) return;
      last = now;
      this.watchListener?.();
    }, interval);
    this.pollTimer.unref();
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    clearInterval(this.pollTimer);
    this.watchListener = null;
    this.watched = [];
  }

  private warnIfExpiring(): void {
    const leaf = this.material.leaf;
    if (!leaf || !this.logger) return;
    const now = Date.now();
    if (Date.parse(leaf.validTo) < now) {
      this.logger.warn('TLS certificate has expired', { listener: this.settings.what, notAfter: leaf.validTo });
    } else if (Date.parse(leaf.validFrom) > now) {
      this.logger.warn('TLS certificate is not valid yet', { listener: this.settings.what, notBefore: leaf.validFrom });
    }
  }
}

/**
 * Why the peer's certificate failed verification, or null when it passed. A server-side
 * TLSSocket made outside tls.Server does not set `authorized`, so the verification result
 * OpenSSL recorded during the handshake is asked of the socket's handle, as tls.Server
 * itself does. If that is unavailable the certificate counts as unverified (fail closed).
 */
function peerVerificationError(socket: tls.TLSSocket): string | null {
  if (socket.authorized) return null;
  if (socket.authorizationError) return String(socket.authorizationError);
  const handle = (socket as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })
    ._handle;
  if (!handle || typeof handle.verifyError !== 'function') return 'verification result unavailable';
  const error = handle.verifyError();
  return error ? (error.code ?? error.message) : null;
}

function readPem(source: PemSource, what: string, key: string): string {
  if ('pem' in source) return normalizePem(source.pem);
  let size: number;
  try {
    size = fs.statSync(source.location).size;
  } catch (error) {
    throw new ConfigError(
      `${what}: ${key} ${source.location}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  if (size > PEM_BYTES_MAX)
    throw new ConfigError(`${what}: ${key} ${source.location} is larger than ${PEM_BYTES_MAX} bytes`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(source.location);
  } catch (error) {
    throw new ConfigError(
      `${what}: ${key} ${source.location}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN ')) {
    throw new ConfigError(
      `${what}: ${key} ${source.location} holds no PEM block (JKS and PKCS12 stores are not supported; convert them to PEM)`,
    );
  }
  return normalizePem(text);
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * PEM blocks rebuilt with 64-character lines. Inline values from a properties file often
 * lose their line breaks (continuation lines join with spaces); Kafka accepts that, so
 * whitespace inside a block's base64 is dropped.
 */
function normalizePem(text: string): string {
  let out = '';
  for (const match of text.replace(/\\n/g, '\n').matchAll(PEM_BLOCK)) {
    const body = match[2].replace(/\s+/g, '').replace(/(.{64})/g, '$1\n');
    out += `-----BEGIN ${match[1]}-----\n${body.replace(/\n$/, '')}\n-----END ${match[1]}-----\n`;
  }
  return out;
}

function pemBlocks(pem: string, labels: string[]): string[] {
  const blocks: string[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) if (labels.includes(match[1])) blocks.push(match[0] + '\n');
  return blocks;
}

const KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

function loadMaterial(settings: TlsSettings): LoadedMaterial {
  const { what } = settings;
  const hash = createHash('sha256');
  let key: string | null = null;
  let certificateChain: string | null = null;
  let leaf: X509Certificate | null = null;
  if (settings.keystore) {
    const keyText = readPem(settings.keystore.key, what, 'ssl.keystore');
    const { key: keySource, certificateChain: chainSource } = settings.keystore;
    const sameFile =
      'location' in keySource && 'location' in chainSource && keySource.location === chainSource.location;
    const chainText = sameFile ? keyText : readPem(chainSource, what, 'ssl.keystore.certificate.chain');
    hash.update(keyText).update(chainText);
    const keys = pemBlocks(keyText, KEY_LABELS);
    if (keys.length !== 1)
      throw new ConfigError(`${what}: expected one private key in the key store, found ${keys.length}`);
    const certs = pemBlocks(chainText, ['CERTIFICATE']);
    if (certs.length === 0) throw new ConfigError(`${what}: the key store holds no certificate`);
    let privateKey;
    try {
      privateKey = createPrivateKey({ key: keys[0], passphrase: settings.keyPassword ?? undefined });
    } catch {
      throw new ConfigError(
        `${what}: the private key cannot be read` +
          (keys[0].includes('ENCRYPTED') ? ' (wrong or missing ssl.key.password?)' : ''),
      );
    }
    try {
      leaf = new X509Certificate(certs[0]);
    } catch (error) {
      throw new ConfigError(`${what}: the key store's first certificate cannot be read: ${(error as Error).message}`);
    }
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new ConfigError(`${what}: the private key does not match the key store's first certificate`);
    }
    key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    certificateChain = certs.join('');
  }
  let trusted: string[] | null = null;
  if (settings.truststore) {
    const text = readPem(settings.truststore, what, 'ssl.truststore');
    hash.update(text);
    trusted = pemBlocks(text, ['CERTIFICATE']);
    if (trusted.length === 0) throw new ConfigError(`${what}: the trust store holds no certificate`);
    for (const cert of trusted) {
      try {
        new X509Certificate(cert);
      } catch (error) {
        throw new ConfigError(`${what}: a trust store certificate cannot be read: ${(error as Error).message}`);
      }
    }
  }
  const common: tls.SecureContextOptions = {
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
    ciphers: settings.ciphers ?? undefined,
    ca: trusted ?? undefined,
  };
  let serverContext: tls.SecureContext | null = null;
  let clientContext: tls.SecureContext;
  try {
    if (key && certificateChain) serverContext = tls.createSecureContext({ ...common, key, cert: certificateChain });
    clientContext = tls.createSecureContext(
      key && certificateChain ? { ...common, key, cert: certificateChain } : common,
    );
  } catch (error) {
    throw new ConfigError(`${what}: TLS context: ${(error as Error).message}`);
  }
  return { key, certificateChain, trusted, leaf, serverContext, clientContext, fingerprint: hash.digest('hex') };
}

/** The subject alternative names of a certificate, as a set of "DNS:x" / "IP Address:y" entries. */
function subjectAltNames(cert: X509Certificate): Set<string> {
  return new Set(
    (cert.subjectAltName ?? '')
      .split(/,\s*/)
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
}

function checkCompatible(
  old: TlsSettings,
  oldMaterial: LoadedMaterial,
  next: TlsSettings,
  nextMaterial: LoadedMaterial,
  allow: { dnChanges: boolean; sanChanges: boolean },
): void {
  if (!old.keystore && next.keystore)
    throw new ConfigError('Cannot add SSL keystore to an existing listener for which no keystore was configured.');
  if (old.keystore && !next.keystore)
    throw new ConfigError(
      'Cannot remove the SSL keystore from an existing listener for which a keystore was configured.',
    );
  if (!old.truststore && next.truststore)
    throw new ConfigError('Cannot add SSL truststore to an existing listener for which no truststore was configured.');
  const before = oldMaterial.leaf;
  const after = nextMaterial.leaf;
  if (!before || !after) return;
  if (!allow.dnChanges) {
    const oldDn = subjectRfc2253(before.raw);
    const newDn = subjectRfc2253(after.raw);
    if (oldDn.toLowerCase() !== newDn.toLowerCase())
      throw new ConfigError(`Keystore DistinguishedName does not match:  existing={DN=${oldDn}}, new={DN=${newDn}}`);
  }
  if (!allow.sanChanges) {
    const oldNames = subjectAltNames(before);
    const newNames = subjectAltNames(after);
    if ([...oldNames].some((name) => !newNames.has(name)))
      throw new ConfigError(
        `Keystore SubjectAltNames do not match:  existing={SAN=[${[...oldNames].join(', ')}]}, new={SAN=[${[...newNames].join(', ')}]}`,
      );
  }
}
