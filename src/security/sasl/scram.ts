// SCRAM-SHA-256 and SCRAM-SHA-512 servers (RFC 5802, RFC 7677) over Kafka's stored
// credentials (salt, iterations, StoredKey, ServerKey; never the password):
//   client-first  n,[a=authzid],n=user,r=cnonce[,ext...]
//   server-first  r=cnonce+snonce,s=salt,i=iterations
//   client-final  c=base64(gs2 header),r=cnonce+snonce[,ext...],p=ClientProof
//   server-final  v=ServerSignature
// Channel binding is refused (gs2 flag "p=", and "y," too, as Kafka accepts only "n,").
// Kafka's extension tokenauth=true asks for delegation-token authentication, which Brook
// does not have, so it is refused. An unknown user gets a salt and iteration count like a
// real one (the salt derived from the name with a per-process key, so it is stable across
// attempts), and the exchange fails only at the proof: the first answer does not tell
// whether a user exists.

import * as crypto from 'node:crypto';
import {
  CredentialStore,
  hash,
  hmac,
  SCRAM_ITERATIONS_MIN,
  SCRAM_SALT_BYTES,
  ScramCredential,
  ScramMechanism,
  scramKeyBytes,
} from '../scram';
import { challenge, decodeUtf8, failure, SaslServerMechanism, SaslStep } from './mechanism';

/** Bytes of server nonce (base64-encoded into the exchange). */
const SERVER_NONCE_BYTES = 24;
/** A client nonce longer than this is refused (Kafka's clients send 20-40 characters). */
export const CLIENT_NONCE_CHARS_MAX = 256;
/** Extensions (key=value pairs) in one client message, at most. */
const EXTENSIONS_MAX = 16;

/** Keys for the fake credentials of unknown users; new per process. */
const fakeSaltKey = crypto.randomBytes(32);

function fakeCredential(mechanism: ScramMechanism, user: string): ScramCredential {
  const salt = crypto.createHmac('sha256', fakeSaltKey).update(`${mechanism}\0${user}`).digest();
  const bytes = scramKeyBytes(mechanism);
  return {
    mechanism,
    salt: salt.subarray(0, SCRAM_SALT_BYTES),
    iterations: SCRAM_ITERATIONS_MIN,
    storedKey: crypto.randomBytes(bytes),
    serverKey: crypto.randomBytes(bytes),
  };
}

/** RFC 5802 saslname: "=2C" stands for ",", "=3D" for "="; any other "=" is invalid. */
export function decodeSaslName(name: string): string | null {
  if (/=(?!2C|3D)/.test(name)) return null;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** Printable ASCII except ",", as RFC 5802 defines a nonce. */
const NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Splits ",key=value" extensions; null when malformed or too many. */
function parseExtensions(parts: string[]): Map<string, string> | null {
  if (parts.length > EXTENSIONS_MAX) return null;
  const out = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

type State =
  | { step: 'client-first' }
  | {
      step: 'client-final';
      user: string;
      credential: ScramCredential;
      known: boolean;
      gs2Header: string;
      nonce: string;
      clientFirstBare: string;
      serverFirst: string;
    }
  | { step: 'done' };

export class ScramServer implements SaslServerMechanism {
  private state: State = { step: 'client-first' };

  constructor(
    readonly name: ScramMechanism,
    private readonly credentials: CredentialStore,
  ) {}

  evaluate(token: Buffer, _nowMs?: number): SaslStep {
    const state = this.state;
    this.state = { step: 'done' };
    const text = decodeUtf8(token);
    if (text === null) return failure('SCRAM message is not UTF-8');
    if (state.step === 'client-first') return this.clientFirst(text);
    if (state.step === 'client-final') return this.clientFinal(text, state);
    return failure('SCRAM exchange already finished');
  }

  private clientFirst(text: string): SaslStep {
    // gs2-header: "n," then an optional "a=authzid", then ",".
    if (text.startsWith('p=') || text.startsWith('y,')) return failure('SCRAM channel binding is not supported');
    if (!text.startsWith('n,')) return failure('invalid SCRAM client-first message');
    const authzEnd = text.indexOf(',', 2);
    if (authzEnd < 0) return failure('invalid SCRAM client-first message');
    const authzPart = text.slice(2, authzEnd);
    if (authzPart !== '' && !authzPart.startsWith('a=')) return failure('invalid SCRAM client-first message');
    const gs2Header = text.slice(0, authzEnd + 1);
    const clientFirstBare = text.slice(authzEnd + 1);
    const parts = clientFirstBare.split(',');
    if (parts.length < 2 || !parts[0].startsWith('n=') || !parts[1].startsWith('r='))
      return failure('invalid SCRAM client-first message');
    const user = decodeSaslName(parts[0].slice(2));
    if (user === null || user === '') return failure('invalid SCRAM user name');
    const clientNonce = parts[1].slice(2);
    if (clientNonce.length > CLIENT_NONCE_CHARS_MAX || !NONCE.test(clientNonce))
      return failure('invalid SCRAM client nonce', user);
    const extensions = parseExtensions(parts.slice(2));
    if (extensions === null) return failure('invalid SCRAM extensions', user);
    if (extensions.get('tokenauth')?.toLowerCase() === 'true')
      return failure('delegation token authentication is not supported', user);
    if (authzPart !== '') {
      const authzid = decodeSaslName(authzPart.slice(2));
      if (authzid !== user) return failure('authorization id differs from the user name', user);
    }
    const stored = this.credentials.scramCredential(user, this.name);
    const credential = stored ?? fakeCredential(this.name, user);
    const nonce = clientNonce + crypto.randomBytes(SERVER_NONCE_BYTES).toString('base64');
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = {
      step: 'client-final',
      user,
      credential,
      known: stored !== undefined,
      gs2Header,
      nonce,
      clientFirstBare,
      serverFirst,
    };
    return challenge(serverFirst);
  }

  private clientFinal(text: string, state: Extract<State, { step: 'client-final' }>): SaslStep {
    const { user, credential } = state;
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return failure('invalid SCRAM client-final message', user);
    const withoutProof = text.slice(0, proofAt);
    const proofText = text.slice(proofAt + 3);
    const parts = withoutProof.split(',');
    if (parts.length < 2 || !parts[0].startsWith('c=') || !parts[1].startsWith('r='))
      return failure('invalid SCRAM client-final message', user);
    if (parseExtensions(parts.slice(2)) === null) return failure('invalid SCRAM extensions', user);
    const channelBinding = parts[0].slice(2);
    if (!BASE64.test(channelBinding) || Buffer.from(channelBinding, 'base64').toString('latin1') !== state.gs2Header)
      return failure('SCRAM channel binding does not match the gs2 header', user);
    // As Kafka's ScramSaslServer: the nonce must end with the one the server sent (librdkafka
    // puts its own nonce in front once more); the server's random part is what counts.
    if (!parts[1].slice(2).endsWith(state.nonce)) return failure('SCRAM nonce does not match', user);
    const keyBytes = scramKeyBytes(this.name);
    if (!BASE64.test(proofText)) return failure('invalid SCRAM client proof', user);
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== keyBytes) return failure('invalid SCRAM client proof', user);
    const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.name, credential.storedKey, authMessage);
    const clientKey = Buffer.alloc(keyBytes);
    for (let i = 0; i < keyBytes; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    const matches =
      credential.storedKey.length === keyBytes &&
      crypto.timingSafeEqual(hash(this.name, clientKey), credential.storedKey);
    if (!matches || !state.known) return failure(state.known ? 'invalid credentials' : 'unknown user', user);
    const serverSignature = hmac(this.name, credential.serverKey, authMessage);
    return {
      kind: 'success',
      token: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      principalName: user,
    };
  }
}
