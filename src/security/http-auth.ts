// Authentication of the HTTP listener: its settings (brook.http.auth.*), HTTP Basic checked
// against the SCRAM credentials Kafka clients use (the password is run through the stored
// credential's PBKDF2, and a success is remembered briefly so that a script polling the API
// does not pay that cost per request), Bearer tokens checked by the OAUTHBEARER validator,
// and the per-address limit on failed attempts. The HTTP layer (src/http/request-auth.ts)
// decides which requests need a principal; this file only says who one is.

import * as crypto from 'node:crypto';
import { ConfigError } from '../config/config';
import { JwtConfigError, JwtSettings, parseOauthbearerSettings } from './jwt';
import { KafkaPrincipal, userPrincipal } from './principal';
import {
  CredentialStore,
  deriveScramCredential,
  isScramMechanism,
  ScramCredential,
  ScramMechanism,
  verifyScramPassword,
} from './scram';

/** The keys of this file (all kept raw in BrokerConfig.securityKeys). */
export const HTTP_AUTH_KEYS = {
  enable: 'brook.http.auth.enable',
  metrics: 'brook.http.auth.metrics',
  basicEnable: 'brook.http.auth.basic.enable',
  basicMechanisms: 'brook.http.auth.basic.mechanisms',
  basicCacheMs: 'brook.http.auth.basic.cache.ms',
  basicCacheEntriesMax: 'brook.http.auth.basic.cache.entries.max',
  bearerEnable: 'brook.http.auth.bearer.enable',
  failureDelayMs: 'brook.http.auth.failure.delay.ms',
  failuresPerMinuteMax: 'brook.http.auth.failures.per.minute.max',
  failureAddressesMax: 'brook.http.auth.failure.addresses.max',
  sessionIdleMs: 'brook.http.auth.session.idle.ms',
  sessionMaxMs: 'brook.http.auth.session.max.ms',
  sessionsMax: 'brook.http.auth.sessions.max',
} as const;

export interface HttpAuthSettings {
  /** Whether requests other than /health, /ready (and /metrics) need a principal. */
  enabled: boolean;
  /** Whether /metrics needs one too (when enabled). */
  metrics: boolean;
  basic: boolean;
  /** SCRAM mechanisms a Basic password is checked against, the first one the user has. */
  basicMechanisms: ScramMechanism[];
  /** How long a verified user/password pair is remembered; 0 verifies every request. */
  basicCacheMs: number;
  basicCacheEntriesMax: number;
  /** Whether Bearer tokens are accepted (only when a validator is configured). */
  bearer: boolean;
  /** A failed attempt is answered after this long (Kafka's connection.failed.authentication.delay.ms). */
  failureDelayMs: number;
  /** Failed attempts from one address within a minute before it is answered 429 without a check. */
  failuresPerMinuteMax: number;
  /** Addresses whose failures are counted at once; the oldest are forgotten first. */
  failureAddressesMax: number;
  /** A console session not used for this long ends. */
  sessionIdleMs: number;
  /** A console session ends this long after the login, used or not. */
  sessionMaxMs: number;
  /** Console sessions held at once; a new login beyond it ends the least recently used. */
  sessionsMax: number;
}

/**
 * The HTTP auth settings from the raw security keys. brook.http.auth.enable decides; when it
 * is not set, authentication is on as soon as the Kafka side authenticates users (a SASL
 * listener, SCRAM or OAUTHBEARER among the enabled mechanisms, or OAUTHBEARER token
 * settings), so that the HTTP API is never an open side door to a cluster whose Kafka port
 * asks for credentials. `bearerConfigured` says whether a token validator exists.
 */
export function parseHttpAuthSettings(keys: Record<string, string>, bearerConfigured: boolean): HttpAuthSettings {
  const k = HTTP_AUTH_KEYS;
  const explicit = keys[k.enable];
  const enabled =
    explicit === undefined ? bearerConfigured || kafkaAuthenticatesUsers(keys) : parseBoolean(explicit, k.enable);
  const basicMechanisms = (keys[k.basicMechanisms] ?? 'SCRAM-SHA-512,SCRAM-SHA-256')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  for (const m of basicMechanisms)
    if (!isScramMechanism(m)) throw new ConfigError(`${k.basicMechanisms}: "${m}" is not a SCRAM mechanism`);
  if (basicMechanisms.length === 0) throw new ConfigError(`${k.basicMechanisms}: name at least one SCRAM mechanism`);
  const bearerWanted =
    keys[k.bearerEnable] === undefined ? bearerConfigured : parseBoolean(keys[k.bearerEnable], k.bearerEnable);
  if (bearerWanted && !bearerConfigured)
    throw new ConfigError(`${k.bearerEnable}: Bearer tokens need the sasl.oauthbearer.* token settings`);
  const settings: HttpAuthSettings = {
    enabled,
    metrics: parseBoolean(keys[k.metrics] ?? 'false', k.metrics),
    basic: parseBoolean(keys[k.basicEnable] ?? 'true', k.basicEnable),
    basicMechanisms: basicMechanisms as ScramMechanism[],
    basicCacheMs: parseInteger(keys, k.basicCacheMs, 60_000, 0, 3_600_000),
    basicCacheEntriesMax: parseInteger(keys, k.basicCacheEntriesMax, 1024, 1, 1_000_000),
    bearer: bearerWanted,
    failureDelayMs: parseInteger(keys, k.failureDelayMs, 500, 0, 60_000),
    failuresPerMinuteMax: parseInteger(keys, k.failuresPerMinuteMax, 20, 1, 1_000_000),
    failureAddressesMax: parseInteger(keys, k.failureAddressesMax, 4096, 1, 1_000_000),
    sessionIdleMs: parseInteger(keys, k.sessionIdleMs, 30 * 60_000, 1000, 30 * 24 * 3_600_000),
    sessionMaxMs: parseInteger(keys, k.sessionMaxMs, 12 * 3_600_000, 1000, 365 * 24 * 3_600_000),
    sessionsMax: parseInteger(keys, k.sessionsMax, 1000, 1, 1_000_000),
  };
  if (settings.enabled && !settings.basic && !settings.bearer)
    throw new ConfigError(`${k.enable}=true needs Basic (${k.basicEnable}) or Bearer tokens to log in with`);
  return settings;
}

/** Whether the Kafka configuration authenticates users (SASL listeners or mechanisms, token settings). */
function kafkaAuthenticatesUsers(keys: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(keys)) {
    if (key.startsWith('sasl.oauthbearer.')) return true;
    if (key === 'listeners' || key === 'listener.security.protocol.map' || key === 'security.inter.broker.protocol')
      if (/SASL_(PLAINTEXT|SSL)/.test(value)) return true;
    if (key === 'sasl.enabled.mechanisms' || /^listener\.name\.[^.]+\.sasl\.enabled\.mechanisms$/.test(key))
      if (/SCRAM-SHA-(256|512)|OAUTHBEARER/.test(value)) return true;
  }
  return false;
}

function parseBoolean(value: string, what: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${what}: expected true or false, got "${value}"`);
}

function parseInteger(keys: Record<string, string>, key: string, fallback: number, min: number, max: number): number {
  const value = keys[key];
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(`${key}: expected an integer ${min}-${max}, got "${value}"`);
  return n;
}

/**
 * What checks a Bearer token: the OAUTHBEARER JWT validator of the SASL server
 * (src/security/jwt.ts) has this shape. It throws (or rejects) when the token is not valid
 * now; the message says why and never holds the token.
 */
export interface BearerValidator {
  validate(
    token: string,
    nowMs: number,
  ):
    | { principalName: string; expiresAtMs: number; scopes: string[] }
    | Promise<{ principalName: string; expiresAtMs: number; scopes: string[] }>;
}

/** Keys that configure OAUTHBEARER token validation (a JWKS file or endpoint, or an HMAC secret). */
const TOKEN_KEYS = ['sasl.oauthbearer.jwks.endpoint.url', 'brook.sasl.oauthbearer.hmac.secret.file'];

/**
 * The token settings of the HTTP listener's Bearer auth: the same JWT validation as the
 * Kafka listeners' OAUTHBEARER (sasl.oauthbearer.* keys), or null when no token keys are set.
 * Key files are read here; an https JWKS is fetched when the listener starts.
 */
export function bearerSettingsFromKeys(keys: Record<string, string>): JwtSettings | null {
  if (!TOKEN_KEYS.some((key) => (keys[key] ?? '').trim() !== '')) return null;
  try {
    return parseOauthbearerSettings(keys);
  } catch (error) {
    if (error instanceof JwtConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Who a request is, and how it proved it. */
export interface HttpIdentity {
  principal: KafkaPrincipal;
  /** 'anonymous' where no credentials were needed (authentication off, or an open path). */
  method: 'basic' | 'bearer' | 'session' | 'certificate' | 'anonymous';
  /** When the proof stops being valid (a token's expiry, a session's end), if it does. */
  expiresAtMs: number | null;
}

export type AuthOutcome =
  | { ok: true; identity: HttpIdentity }
  /** Wrong credentials (answered 401 after the failure delay) or too many failures (429). */
  | { ok: false; reason: 'invalid' | 'rate-limited'; retryAfterMs?: number };

/** Longest user name, password or token looked at; longer ones fail without a check. */
export const CREDENTIAL_BYTES_MAX = 8192;

interface CachedVerification {
  mechanism: ScramMechanism;
  storedKey: Buffer;
  expiresAtMs: number;
}

interface FailureWindow {
  startMs: number;
  count: number;
}

const FAILURE_WINDOW_MS = 60_000;

export class HttpAuthenticator {
  /** Verified user/password pairs by a keyed hash of both: the password itself is never kept. */
  private readonly verified = new Map<string, CachedVerification>();
  private readonly cacheKey = crypto.randomBytes(32);
  private readonly failures = new Map<string, FailureWindow>();
  /** Checked for unknown users, so an unknown name costs the same PBKDF2 as a wrong password. */
  private readonly decoy: ScramCredential;

  constructor(
    readonly settings: HttpAuthSettings,
    private readonly credentials: CredentialStore,
    private readonly bearer: BearerValidator | null,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.decoy = deriveScramCredential(settings.basicMechanisms[0], crypto.randomBytes(16).toString('hex'));
  }

  /** Whether this address has used up its failed attempts for now (then nothing is checked). */
  rateLimited(address: string): number | null {
    const window = this.failures.get(address);
    if (!window) return null;
    const now = this.nowMs();
    if (now - window.startMs >= FAILURE_WINDOW_MS) {
      this.failures.delete(address);
      return null;
    }
    return window.count >= this.settings.failuresPerMinuteMax ? window.startMs + FAILURE_WINDOW_MS - now : null;
  }

  /** Counts a failed attempt from this address (bounded: the oldest address is forgotten). */
  recordFailure(address: string): void {
    const now = this.nowMs();
    let window = this.failures.get(address);
    if (!window || now - window.startMs >= FAILURE_WINDOW_MS) {
      this.failures.delete(address);
      if (this.failures.size >= this.settings.failureAddressesMax)
        this.failures.delete(this.failures.keys().next().value!);
      window = { startMs: now, count: 0 };
      this.failures.set(address, window);
    }
    window.count++;
  }

  /** A user name and password (Basic, or the console's login form). */
  async password(address: string, user: string, password: string): Promise<AuthOutcome> {
    const retryAfterMs = this.rateLimited(address);
    if (retryAfterMs !== null) return { ok: false, reason: 'rate-limited', retryAfterMs };
    if (this.settings.basic && this.checkPassword(user, password))
      return { ok: true, identity: { principal: userPrincipal(user), method: 'basic', expiresAtMs: null } };
    this.recordFailure(address);
    return { ok: false, reason: 'invalid' };
  }

  /** A Bearer token. */
  async token(address: string, token: string): Promise<AuthOutcome> {
    const retryAfterMs = this.rateLimited(address);
    if (retryAfterMs !== null) return { ok: false, reason: 'rate-limited', retryAfterMs };
    if (this.bearer && this.settings.bearer && token.length > 0 && token.length <= CREDENTIAL_BYTES_MAX) {
      try {
        const valid = await this.bearer.validate(token, this.nowMs());
        if (valid.expiresAtMs > this.nowMs() && valid.principalName !== '')
          return {
            ok: true,
            identity: {
              principal: userPrincipal(valid.principalName),
              method: 'bearer',
              expiresAtMs: valid.expiresAtMs,
            },
          };
      } catch {
        // An invalid token is a failed attempt like a wrong password; why is not told to the client.
      }
    }
    this.recordFailure(address);
    return { ok: false, reason: 'invalid' };
  }

  /** Checks a password against the user's SCRAM credential, through the cache of recent successes. */
  private checkPassword(user: string, password: string): boolean {
    if (user.length === 0 || Buffer.byteLength(user) > CREDENTIAL_BYTES_MAX) return false;
    if (Buffer.byteLength(password) > CREDENTIAL_BYTES_MAX) return false;
    let credential: ScramCredential | undefined;
    for (const mechanism of this.settings.basicMechanisms) {
      credential = this.credentials.scramCredential(user, mechanism);
      if (credential) break;
    }
    if (!credential) {
      verifyScramPassword(this.decoy, password);
      return false;
    }
    const key = crypto.createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest('base64');
    const now = this.nowMs();
    const cached = this.verified.get(key);
    // A changed or removed credential invalidates what was remembered for the old one.
    if (
      cached &&
      cached.expiresAtMs > now &&
      cached.mechanism === credential.mechanism &&
      cached.storedKey.equals(credential.storedKey)
    )
      return true;
    if (cached) this.verified.delete(key);
    if (!verifyScramPassword(credential, password)) return false;
    if (this.settings.basicCacheMs > 0) {
      if (this.verified.size >= this.settings.basicCacheEntriesMax)
        this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, {
        mechanism: credential.mechanism,
        storedKey: credential.storedKey,
        expiresAtMs: now + this.settings.basicCacheMs,
      });
    }
    return true;
  }

  /** Remembered verifications (for tests and the cache bound). */
  get cachedVerifications(): number {
    return this.verified.size;
  }
}

/** user:password from a Basic Authorization value (RFC 7617), or null when it is not one. */
export function parseBasic(value: string): { user: string; password: string } | null {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(value);
  if (!match || match[1].length > (CREDENTIAL_BYTES_MAX * 4) / 3 + 4) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The token of a Bearer Authorization value (RFC 6750), or null. */
export function parseBearer(value: string): string | null {
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(value);
  if (!match || match[1].length > CREDENTIAL_BYTES_MAX) return null;
  return match[1];
}
