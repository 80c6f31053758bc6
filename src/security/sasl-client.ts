// The client side of the SASL mechanisms Kafka clients speak: PLAIN (RFC 4616), SCRAM-SHA-256
// and SCRAM-SHA-512 (RFC 5802, RFC 7677) and OAUTHBEARER (RFC 7628). Each mechanism is a small
// state machine over byte strings with no I/O: the connection sends what `start` and
// `evaluate` return as SaslAuthenticate bodies and feeds back the broker's answers.

import * as crypto from 'node:crypto';
import { SCRAM_ITERATIONS_MAX, SCRAM_ITERATIONS_MIN } from './scram';

export const CLIENT_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type ClientSaslMechanismName = (typeof CLIENT_SASL_MECHANISMS)[number];

export function isClientSaslMechanism(value: string): value is ClientSaslMechanismName {
  return (CLIENT_SASL_MECHANISMS as readonly string[]).includes(value);
}

/** Where an OAUTHBEARER token comes from: a fixed value or a callback asked at every (re)authentication. */
export type OAuthBearerTokenSource = string | (() => string | Promise<string>);

/** What a client authenticates with. Secrets stay in here; nothing prints them. */
export type ClientSasl =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; token: OAuthBearerTokenSource; extensions?: Record<string, string> };

/**
 * The broker's data broke the mechanism (a bad nonce, a wrong server signature) or the broker
 * refused the credentials. The message never holds a secret.
 */
export class SaslAuthenticationError extends Error {
  override name = 'SaslAuthenticationError';
}

/** One authentication exchange of one mechanism; a fresh one is made for every (re)authentication. */
export interface SaslClientExchange {
  readonly mechanism: ClientSaslMechanismName;
  /** The client's first message. */
  start(): Promise<Buffer>;
  /**
   * The broker's answer to the last message: the next message to send, or null when the
   * exchange is complete from the client's side. Throws SaslAuthenticationError.
   */
  evaluate(challenge: Buffer): Buffer | null;
}

export function createSaslExchange(sasl: ClientSasl): SaslClientExchange {
  switch (sasl.mechanism) {
    case 'PLAIN':
      return new PlainExchange(sasl.username, sasl.password);
    case 'SCRAM-SHA-256':
      return new ScramExchange(SCRAM_SHA_256, sasl.username, sasl.password);
    case 'SCRAM-SHA-512':
      return new ScramExchange(SCRAM_SHA_512, sasl.username, sasl.password);
    case 'OAUTHBEARER':
      return new OAuthBearerExchange(sasl.token, sasl.extensions ?? {});
  }
}

// ---------------------------------------------------------------------------------------
// PLAIN: one message, authzid empty, "\0username\0password"; the broker answers nothing.

class PlainExchange implements SaslClientExchange {
  readonly mechanism = 'PLAIN';
  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  async start(): Promise<Buffer> {
    return Buffer.from(`\0${this.username}\0${this.password}`, 'utf8');
  }

  evaluate(): Buffer | null {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// SCRAM (RFC 5802 section 5): client-first, server-first, client-final, server-final.

/** The hash a SCRAM mechanism is built on (SHA-1 exists here only for RFC 5802's own example). */
export interface ScramHash {
  name: ClientSaslMechanismName | 'SCRAM-SHA-1';
  digest: 'sha1' | 'sha256' | 'sha512';
  keyBytes: number;
}

export const SCRAM_SHA_256: ScramHash = { name: 'SCRAM-SHA-256', digest: 'sha256', keyBytes: 32 };
export const SCRAM_SHA_512: ScramHash = { name: 'SCRAM-SHA-512', digest: 'sha512', keyBytes: 64 };
export const SCRAM_SHA_1: ScramHash = { name: 'SCRAM-SHA-1', digest: 'sha1', keyBytes: 20 };

/** Random bytes in a client nonce (base64-encoded on the wire), from the CSPRNG. */
const SCRAM_NONCE_BYTES = 24;
/** Longest salt accepted from a server, in bytes; Kafka's are 32 (hostile input is bounded). */
const SCRAM_SALT_BYTES_MAX = 1024;
/** Longest server nonce accepted, in characters. */
const SCRAM_NONCE_CHARS_MAX = 1024;

/** RFC 5802's saslname: "=" and "," escaped. */
export function scramSaslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Parses "a=1,b=2" into its attributes; the first letter of each is its key. */
function scramAttributes(message: string, what: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0]))
      throw new SaslAuthenticationError(`the broker's SCRAM ${what} is malformed`);
    if (!attributes.has(part[0])) attributes.set(part[0], part.slice(2));
  }
  return attributes;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export class ScramExchange implements SaslClientExchange {
  readonly mechanism: ClientSaslMechanismName;
  private readonly clientFirstBare: string;
  private state: 'initial' | 'first-sent' | 'final-sent' | 'done' = 'initial';
  private expectedServerSignature: Buffer | null = null;

  /** `clientNonce` is for test vectors only; normally it comes from the CSPRNG. */
  constructor(
    private readonly hash: ScramHash,
    username: string,
    private readonly password: string,
    private readonly clientNonce = crypto.randomBytes(SCRAM_NONCE_BYTES).toString('base64'),
  ) {
    this.mechanism = hash.name as ClientSaslMechanismName;
    this.clientFirstBare = `n=${scramSaslName(username)},r=${clientNonce}`;
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'initial') throw new SaslAuthenticationError('SCRAM exchange started twice');
    this.state = 'first-sent';
    // GS2 header "n,,": no channel binding, no authorization identity.
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  evaluate(challenge: Buffer): Buffer | null {
    switch (this.state) {
      case 'first-sent':
        this.state = 'final-sent';
        return this.clientFinal(challenge.toString('utf8'));
      case 'final-sent':
        this.state = 'done';
        this.verifyServerFinal(challenge.toString('utf8'));
        return null;
      default:
        throw new SaslAuthenticationError('the broker sent SCRAM data after the exchange ended');
    }
  }

  private clientFinal(serverFirst: string): Buffer {
    const attributes = scramAttributes(serverFirst, 'server-first message');
    if (serverFirst.startsWith('m=')) throw new SaslAuthenticationError('the broker requires a SCRAM extension');
    const nonce = attributes.get('r');
    const saltText = attributes.get('s');
    const iterationsText = attributes.get('i');
    if (nonce === undefined || saltText === undefined || iterationsText === undefined)
      throw new SaslAuthenticationError("the broker's SCRAM server-first message lacks r, s or i");
    // The server's nonce must extend ours: otherwise this is a replay or another exchange.
    if (
      nonce.length > SCRAM_NONCE_CHARS_MAX ||
      !PRINTABLE_NONCE.test(nonce) ||
      nonce.length <= this.clientNonce.length ||
      !nonce.startsWith(this.clientNonce)
    )
      throw new SaslAuthenticationError("the broker's SCRAM nonce does not extend the client nonce");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(saltText) || saltText.length > ((SCRAM_SALT_BYTES_MAX + 2) / 3) * 4 + 4)
      throw new SaslAuthenticationError("the broker's SCRAM salt is not base64 of at most 1024 bytes");
    const salt = Buffer.from(saltText, 'base64');
    if (salt.length === 0) throw new SaslAuthenticationError("the broker's SCRAM salt is empty");
    if (!/^[1-9][0-9]{0,8}$/.test(iterationsText))
      throw new SaslAuthenticationError("the broker's SCRAM iteration count is not a number");
    const iterations = Number(iterationsText);
    // SHA-1's example uses 4096 as well; the bound keeps a hostile broker from making the
    // client spin on PBKDF2 (Kafka's own limits on stored credentials).
    if (iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
      throw new SaslAuthenticationError(
        `the broker's SCRAM iteration count ${iterations} is outside ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX}`,
      );
    const { digest, keyBytes } = this.hash;
    const salted = crypto.pbkdf2Sync(this.password, salt, iterations, keyBytes, digest);
    const clientKey = crypto.createHmac(digest, salted).update('Client Key').digest();
    const storedKey = crypto.createHash(digest).update(clientKey).digest();
    const clientFinalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = crypto.createHmac(digest, storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    const serverKey = crypto.createHmac(digest, salted).update('Server Key').digest();
    this.expectedServerSignature = crypto.createHmac(digest, serverKey).update(authMessage).digest();
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  private verifyServerFinal(serverFinal: string): void {
    const attributes = scramAttributes(serverFinal, 'server-final message');
    const error = attributes.get('e');
    if (error !== undefined)
      throw new SaslAuthenticationError(`the broker ended the SCRAM exchange: ${error.slice(0, 200)}`);
    const verifier = attributes.get('v');
    const expected = this.expectedServerSignature!;
    const given =
      verifier !== undefined && /^[A-Za-z0-9+/]*={0,2}$/.test(verifier) ? Buffer.from(verifier, 'base64') : null;
    // Compared in constant time: the signature proves the broker knows the credential.
    if (!given || given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
      throw new SaslAuthenticationError(
        "the broker's SCRAM server signature is wrong (it does not hold this credential)",
      );
  }
}

// ---------------------------------------------------------------------------------------
// OAUTHBEARER (RFC 7628 section 3.1): "n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01".
// A broker that refuses the token answers with a JSON error challenge; the client replies
// with a single \x01 and the broker then fails the authentication (section 3.2.3).

const OAUTH_KEY = /^[A-Za-z]+$/;
const OAUTH_VALUE = /^[\x21-\x7e \t\r\n]*$/;
/** The token syntax of RFC 6750's b64token. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

class OAuthBearerExchange implements SaslClientExchange {
  readonly mechanism = 'OAUTHBEARER';
  private sent = false;

  constructor(
    private readonly token: OAuthBearerTokenSource,
    private readonly extensions: Record<string, string>,
  ) {}

  async start(): Promise<Buffer> {
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    if (typeof token !== 'string' || !BEARER_TOKEN.test(token))
      throw new SaslAuthenticationError('the OAUTHBEARER token is empty or not a bearer token');
    let message = `n,,\x01auth=Bearer ${token}\x01`;
    for (const [key, value] of Object.entries(this.extensions)) {
      if (key === 'auth' || !OAUTH_KEY.test(key) || !OAUTH_VALUE.test(value))
        throw new SaslAuthenticationError(`the OAUTHBEARER extension "${key}" is not a valid key=value`);
      message += `${key}=${value}\x01`;
    }
    this.sent = true;
    return Buffer.from(`${message}\x01`, 'utf8');
  }

  evaluate(challenge: Buffer): Buffer | null {
    if (!this.sent || challenge.length === 0) return null;
    // An error challenge: acknowledge it so the broker finishes with its error.
    this.sent = false;
    return Buffer.from('\x01', 'utf8');
  }
}
