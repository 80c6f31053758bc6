// JSON Web Token validation (JWS compact serialization, RFC 7515/7519) for SASL/OAUTHBEARER
// and the HTTP API: signatures with RS256/384/512, PS256/384/512 and ES256/384/512 against
// public keys from a JWKS file, HS256/384/512 only when an HMAC secret is configured, and
// "none" never. The claims are checked as Kafka's OAuthBearerValidatorCallbackHandler
// checks them: exp required, nbf and iat not in the future, issuer and audience when
// expected, all within the allowed clock skew; the principal name comes from the subject
// claim (or the one configured) and the scopes from the scope claim.
// Keys come from `sasl.oauthbearer.jwks.endpoint.url`: a file: URL (Kafka allows those),
// read at start, or an https: URL, fetched and refreshed by jwks-endpoint.ts; plain http
// is refused at start (keys fetched in the clear could be swapped by anyone on the path).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Why a token was refused: short, fit for a log line, never holding the token. */
export class JwtError extends Error {
  override readonly name = 'JwtError';
}

/** A configuration that cannot work (a missing key file, an http JWKS endpoint). */
export class JwtConfigError extends Error {
  override readonly name = 'JwtConfigError';
}

export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Bounds on what a JWKS file may hold. */
export const JWKS_FILE_BYTES_MAX = 1024 * 1024;
export const JWKS_KEYS_MAX = 100;
/** Default bound on one token (brook.sasl.oauthbearer.token.max.bytes). */
export const JWT_TOKEN_BYTES_MAX_DEFAULT = 64 * 1024;
/** Claims or header names beyond which a token is refused before it is looked at further. */
const CLAIMS_KEYS_MAX = 256;
const SCOPES_MAX = 256;

export interface JwksEndpointSettings {
  url: string;
  /** sasl.oauthbearer.jwks.endpoint.refresh.ms (Kafka's default: one hour). */
  refreshMs: number;
  /** PEM file of the CAs to trust for the endpoint (brook.sasl.oauthbearer.jwks.endpoint.ca.file); the system's when null. */
  caFile: string | null;
}

export interface JwtSettings {
  /** Public keys from the JWKS file (those of an https endpoint arrive later, see setKeys). */
  keys: JwtKey[];
  /** The https JWKS endpoint to fetch keys from, or null. */
  jwksEndpoint: JwksEndpointSettings | null;
  /** The HMAC secret that allows HS* tokens, or null (HS* refused). */
  hmacSecret: Buffer | null;
  expectedIssuer: string | null;
  /** Any one of these must appear in the token's aud; no check when empty. */
  expectedAudience: string[];
  clockSkewMs: number;
  subClaimName: string;
  scopeClaimName: string;
  tokenBytesMax: number;
}

export interface JwtKey {
  kid: string | null;
  /** The JWK's alg, when it names one: the key is used for that algorithm only. */
  alg: string | null;
  key: crypto.KeyObject;
}

export interface ValidatedToken {
  principalName: string;
  expiresAtMs: number;
  scopes: string[];
}

const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function isAlgorithm(value: unknown): value is JwtAlgorithm {
  return typeof value === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(value);
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new JwtError(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JwtError(`${what} is not a JSON object`);
  if (Object.keys(value).length > CLAIMS_KEYS_MAX) throw new JwtError(`${what} has too many members`);
  return value as Record<string, unknown>;
}

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtError(`${name} is not a number`);
  return value * 1000;
}

/** Whether `key` can verify `alg` (its type, and its curve for ECDSA). */
function keyFits(key: JwtKey, alg: JwtAlgorithm): boolean {
  if (key.alg !== null && key.alg !== alg) return false;
  const type = key.key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg.startsWith('ES')) {
    const curve = (key.key.export({ format: 'jwk' }) as { crv?: string }).crv;
    return type === 'ec' && curve === CURVES[alg];
  }
  return false;
}

function verifySignature(alg: JwtAlgorithm, key: crypto.KeyObject, signed: Buffer, signature: Buffer): boolean {
  const digest = HASHES[alg.slice(2)];
  if (alg.startsWith('RS')) return crypto.verify(digest, signed, key, signature);
  if (alg.startsWith('PS'))
    return crypto.verify(
      digest,
      signed,
      { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST },
      signature,
    );
  return crypto.verify(digest, signed, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

export class JwtValidator {
  private keys: JwtKey[];
  /** Called when a token names a kid no key has (an https JWKS may have rotated). */
  onUnknownKid: (() => void) | null = null;

  constructor(private readonly settings: JwtSettings) {
    this.keys = settings.keys;
  }

  /** Replaces the verification keys (a refreshed JWKS). */
  setKeys(keys: JwtKey[]): void {
    this.keys = keys;
  }

  /** The token's principal, expiry and scopes; throws JwtError with a short reason. */
  validate(token: string, nowMs: number): ValidatedToken {
    const s = this.settings;
    if (token.length > s.tokenBytesMax) throw new JwtError('token too large');
    const parts = token.split('.');
    if (parts.length !== 3) throw new JwtError('not a JWS compact token');
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = decodeJson(headerPart, 'header');
    const alg = header.alg;
    if (alg === 'none' || alg === 'None' || alg === 'NONE') throw new JwtError('alg none is refused');
    if (!isAlgorithm(alg)) throw new JwtError('unsupported alg');
    if (header.crit !== undefined) throw new JwtError('crit header parameters are not understood');
    if (!BASE64URL.test(signaturePart)) throw new JwtError('signature is not base64url');
    const signature = Buffer.from(signaturePart, 'base64url');
    const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
    if (alg.startsWith('HS')) {
      if (!s.hmacSecret) throw new JwtError('HMAC-signed tokens are not allowed');
      const expected = crypto.createHmac(HASHES[alg.slice(2)], s.hmacSecret).update(signed).digest();
      if (expected.length !== signature.length || !crypto.timingSafeEqual(expected, signature))
        throw new JwtError('bad signature');
    } else {
      const kid = header.kid;
      if (kid !== undefined && typeof kid !== 'string') throw new JwtError('kid is not a string');
      const candidates = this.keys.filter((k) => (kid === undefined || k.kid === kid) && keyFits(k, alg));
      if (candidates.length === 0) {
        if (kid !== undefined && !this.keys.some((k) => k.kid === kid)) this.onUnknownKid?.();
        throw new JwtError(kid === undefined ? 'no key fits the token' : 'unknown kid');
      }
      let verified = false;
      for (const candidate of candidates) {
        try {
          if (verifySignature(alg, candidate.key, signed, signature)) {
            verified = true;
            break;
          }
        } catch {
          // A signature of the wrong size for the key: not verified.
        }
      }
      if (!verified) throw new JwtError('bad signature');
    }
    const claims = decodeJson(payloadPart, 'payload');
    const expMs = numericDate(claims, 'exp');
    if (expMs === undefined) throw new JwtError('exp is missing');
    if (nowMs - s.clockSkewMs >= expMs) throw new JwtError('token expired');
    const nbfMs = numericDate(claims, 'nbf');
    if (nbfMs !== undefined && nowMs + s.clockSkewMs < nbfMs) throw new JwtError('token not yet valid (nbf)');
    const iatMs = numericDate(claims, 'iat');
    if (iatMs !== undefined && nowMs + s.clockSkewMs < iatMs) throw new JwtError('token issued in the future (iat)');
    if (s.expectedIssuer !== null && claims.iss !== s.expectedIssuer) throw new JwtError('unexpected issuer');
    if (s.expectedAudience.length > 0) {
      const aud = claims.aud;
      const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!audiences.some((a) => typeof a === 'string' && s.expectedAudience.includes(a)))
        throw new JwtError('unexpected audience');
    }
    const sub = claims[s.subClaimName];
    if (typeof sub !== 'string' || sub.trim() === '') throw new JwtError(`${s.subClaimName} claim missing or empty`);
    const scopeClaim = claims[s.scopeClaimName];
    let scopes: string[] = [];
    if (typeof scopeClaim === 'string') scopes = scopeClaim.split(' ').filter((x) => x !== '');
    else if (Array.isArray(scopeClaim)) scopes = scopeClaim.filter((x): x is string => typeof x === 'string');
    if (scopes.length > SCOPES_MAX) throw new JwtError('too many scopes');
    return { principalName: sub, expiresAtMs: expMs, scopes };
  }
}

/** Reads a JWKS document's public signing keys. */
export function parseJwks(text: string): JwtKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new JwtConfigError('JWKS is not JSON');
  }
  const list = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new JwtConfigError('JWKS has no "keys" array');
  if (list.length > JWKS_KEYS_MAX) throw new JwtConfigError(`JWKS holds more than ${JWKS_KEYS_MAX} keys`);
  const keys: JwtKey[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const jwk = entry as Record<string, unknown>;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    let key: crypto.KeyObject;
    try {
      key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
    } catch {
      throw new JwtConfigError(
        `JWKS key ${typeof jwk.kid === 'string' ? jwk.kid : '(no kid)'} is not a valid public key`,
      );
    }
    keys.push({
      kid: typeof jwk.kid === 'string' ? jwk.kid : null,
      alg: typeof jwk.alg === 'string' ? jwk.alg : null,
      key,
    });
  }
  return keys;
}

export function readBoundedFile(file: string, maxBytes: number, what: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new JwtConfigError(`${what}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (stat.size > maxBytes) throw new JwtConfigError(`${what}: ${file} is larger than ${maxBytes} bytes`);
  return fs.readFileSync(file);
}

function positiveInteger(keys: Record<string, string>, name: string, fallback: number, min = 0): number {
  const raw = keys[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min) throw new JwtConfigError(`${name}: expected an integer >= ${min}`);
  return value;
}

/**
 * JwtSettings from Kafka's sasl.oauthbearer.* keys (already resolved for one listener):
 * sasl.oauthbearer.jwks.endpoint.url (a file: or https: URL), .jwks.endpoint.refresh.ms
 * (one hour), .expected.issuer, .expected.audience (comma-separated),
 * .clock.skew.seconds (30), .sub.claim.name (sub), .scope.claim.name (scope); and Brook's
 * brook.sasl.oauthbearer.jwks.endpoint.ca.file (PEM CAs for an https endpoint; the
 * system's by default), brook.sasl.oauthbearer.hmac.secret.file (allows HS256/384/512 with
 * the file's bytes as the secret, at least 32 of them) and
 * brook.sasl.oauthbearer.token.max.bytes (65536). Reads the key files (an https JWKS is
 * fetched by startJwtValidator in jwks-endpoint.ts); throws JwtConfigError.
 */
export function parseOauthbearerSettings(keys: Record<string, string>): JwtSettings {
  const url = keys['sasl.oauthbearer.jwks.endpoint.url']?.trim() ?? '';
  const secretFile = keys['brook.sasl.oauthbearer.hmac.secret.file']?.trim() ?? '';
  let jwks: JwtKey[] = [];
  let jwksEndpoint: JwksEndpointSettings | null = null;
  if (/^https:/i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new JwtConfigError('sasl.oauthbearer.jwks.endpoint.url: not a valid URL');
    }
    const caFile = keys['brook.sasl.oauthbearer.jwks.endpoint.ca.file']?.trim();
    jwksEndpoint = {
      url,
      refreshMs: positiveInteger(keys, 'sasl.oauthbearer.jwks.endpoint.refresh.ms', 3_600_000, 1000),
      caFile: caFile ? caFile : null,
    };
  } else if (url !== '') {
    if (/^http:/i.test(url))
      throw new JwtConfigError(
        'sasl.oauthbearer.jwks.endpoint.url: plain http JWKS endpoints are refused; give an https: or a file: URL',
      );
    if (!url.startsWith('file:'))
      throw new JwtConfigError('sasl.oauthbearer.jwks.endpoint.url: expected an https: or a file: URL');
    let file: string;
    try {
      file = fileURLToPath(url);
    } catch {
      throw new JwtConfigError('sasl.oauthbearer.jwks.endpoint.url: not a valid file: URL');
    }
    jwks = parseJwks(readBoundedFile(file, JWKS_FILE_BYTES_MAX, 'sasl.oauthbearer.jwks.endpoint.url').toString('utf8'));
    if (jwks.length === 0)
      throw new JwtConfigError('sasl.oauthbearer.jwks.endpoint.url: the JWKS holds no signing key');
  }
  let hmacSecret: Buffer | null = null;
  if (secretFile !== '') {
    hmacSecret = readBoundedFile(secretFile, 4096, 'brook.sasl.oauthbearer.hmac.secret.file');
    if (hmacSecret.length < 32)
      throw new JwtConfigError('brook.sasl.oauthbearer.hmac.secret.file: the secret must be at least 32 bytes');
  }
  if (url === '' && hmacSecret === null)
    throw new JwtConfigError(
      'OAUTHBEARER needs sasl.oauthbearer.jwks.endpoint.url (an https: or a file: URL of a JWKS)',
    );
  const audience = (keys['sasl.oauthbearer.expected.audience'] ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const issuer = keys['sasl.oauthbearer.expected.issuer']?.trim();
  return {
    keys: jwks,
    jwksEndpoint,
    hmacSecret,
    expectedIssuer: issuer ? issuer : null,
    expectedAudience: audience,
    clockSkewMs: positiveInteger(keys, 'sasl.oauthbearer.clock.skew.seconds', 30) * 1000,
    subClaimName: keys['sasl.oauthbearer.sub.claim.name']?.trim() || 'sub',
    scopeClaimName: keys['sasl.oauthbearer.scope.claim.name']?.trim() || 'scope',
    tokenBytesMax: positiveInteger(keys, 'brook.sasl.oauthbearer.token.max.bytes', JWT_TOKEN_BYTES_MAX_DEFAULT, 1),
  };
}
