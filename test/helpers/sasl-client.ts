// The client side of SASL exchanges, for tests that drive Brook's SASL server token by
// token: a SCRAM client (RFC 5802) that can also get things wrong on purpose, PLAIN and
// OAUTHBEARER initial responses, a JWT signer, and an in-memory credential store.

import * as crypto from 'node:crypto';
import {
  CredentialStore,
  deriveScramCredential,
  hash,
  hmac,
  saltedPassword,
  ScramCredential,
  ScramMechanism,
} from '../../src/security/scram';

export class MemoryCredentialStore implements CredentialStore {
  private readonly credentials = new Map<string, ScramCredential>();

  add(user: string, password: string, mechanisms: ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512']): this {
    for (const mechanism of mechanisms)
      this.credentials.set(`${mechanism}\0${user}`, deriveScramCredential(mechanism, password));
    return this;
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.credentials.get(`${mechanism}\0${user}`);
  }
}

export function plainToken(user: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8');
}

export function oauthbearerToken(jwt: string, authzid = ''): Buffer {
  return Buffer.from(`n,${authzid ? `a=${authzid}` : ''},\x01auth=Bearer ${jwt}\x01\x01`, 'utf8');
}

export class ScramClient {
  readonly clientNonce = crypto.randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private serverFirst = '';
  private salted: Buffer | null = null;
  private authMessage = '';

  constructor(
    readonly mechanism: ScramMechanism,
    readonly user: string,
    readonly password: string,
    private readonly gs2Header = 'n,,',
  ) {}

  first(extensions = ''): Buffer {
    const name = this.user.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.clientFirstBare = `n=${name},r=${this.clientNonce}${extensions}`;
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  /** The client-final message for the server-first message; `tamper` changes the proof. */
  final(serverFirst: Buffer, options: { tamperProof?: boolean; channelBinding?: string; nonce?: string } = {}): Buffer {
    this.serverFirst = serverFirst.toString('utf8');
    const fields = Object.fromEntries(this.serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    const salt = Buffer.from(fields.s, 'base64');
    const iterations = Number(fields.i);
    this.salted = saltedPassword(this.mechanism, this.password, salt, iterations);
    const channel = options.channelBinding ?? Buffer.from(this.gs2Header).toString('base64');
    const withoutProof = `c=${channel},r=${options.nonce ?? fields.r}`;
    this.authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = hmac(this.mechanism, this.salted, 'Client Key');
    const signature = hmac(this.mechanism, hash(this.mechanism, clientKey), this.authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ signature[i];
    if (options.tamperProof) proof[0] ^= 1;
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Whether the server-final message carries the right server signature. */
  verifyServerFinal(serverFinal: Buffer): boolean {
    const serverKey = hmac(this.mechanism, this.salted!, 'Server Key');
    const expected = hmac(this.mechanism, serverKey, this.authMessage).toString('base64');
    return serverFinal.toString('utf8') === `v=${expected}`;
  }
}

export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'ES512' | 'HS256';

/** Signs a JWT (JWS compact) with `key`; `header` may override alg/kid or add members. */
export function signJwt(
  claims: Record<string, unknown>,
  key: crypto.KeyObject | Buffer,
  alg: JwsAlgorithm,
  header: Record<string, unknown> = {},
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg, typ: 'JWT', ...header })}.${encode(claims)}`;
  const digest = `sha${alg.slice(2)}`;
  let signature: Buffer;
  if (alg.startsWith('HS'))
    signature = crypto
      .createHmac(digest, key as Buffer)
      .update(signingInput)
      .digest();
  else if (alg.startsWith('PS'))
    signature = crypto.sign(digest, Buffer.from(signingInput), {
      key: key as crypto.KeyObject,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
    });
  else if (alg.startsWith('ES'))
    signature = crypto.sign(digest, Buffer.from(signingInput), {
      key: key as crypto.KeyObject,
      dsaEncoding: 'ieee-p1363',
    });
  else signature = crypto.sign(digest, Buffer.from(signingInput), key as crypto.KeyObject);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** A JWKS document for public keys, by kid. */
export function jwks(keys: Record<string, crypto.KeyObject>): string {
  return JSON.stringify({
    keys: Object.entries(keys).map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' })),
  });
}
