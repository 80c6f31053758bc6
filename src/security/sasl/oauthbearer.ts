// SASL/OAUTHBEARER server (RFC 7628) with Kafka's framing. The client's initial response is
//   n,[a=authzid],\x01auth=Bearer <jwt>\x01[key=value\x01]...\x01
// A valid token (src/security/jwt.ts) ends the exchange with an empty server token; its
// subject is the principal and its exp bounds the session (KIP-368). An invalid one is
// answered, as RFC 7628 and Kafka's OAuthBearerSaslServer do, with the JSON error challenge
// {"status":"invalid_token"}; the client then sends a single %x01 and the exchange fails.

import { JwtError, JwtValidator } from '../jwt';
import { challenge, decodeUtf8, failure, SaslServerMechanism, SaslStep } from './mechanism';

const SEPARATOR = '\x01';
/** Key=value pairs (the auth pair and SASL extensions) in one initial response, at most. */
const PAIRS_MAX = 32;
const KEY = /^[A-Za-z]+$/;
const AUTH = /^([A-Za-z]+) +([-_.A-Za-z0-9+/=~]+)$/;
export const OAUTHBEARER_ERROR_CHALLENGE = '{"status":"invalid_token"}';

type State = 'initial' | 'error-sent' | 'done';

export class OauthbearerServer implements SaslServerMechanism {
  readonly name = 'OAUTHBEARER';
  private state: State = 'initial';
  private reason = '';

  constructor(private readonly validator: JwtValidator) {}

  evaluate(token: Buffer, nowMs: number): SaslStep {
    const state = this.state;
    this.state = 'done';
    if (state === 'error-sent') {
      // The client's reply to the error challenge; anything else is as bad.
      return failure(this.reason);
    }
    if (state === 'done') return failure('OAUTHBEARER exchange already finished');
    const text = decodeUtf8(token);
    if (text === null) return failure('OAUTHBEARER response is not UTF-8');
    if (!text.startsWith('n,')) return failure('invalid OAUTHBEARER initial response (gs2 header)');
    const authzEnd = text.indexOf(',', 2);
    if (authzEnd < 0) return failure('invalid OAUTHBEARER initial response (gs2 header)');
    const authzPart = text.slice(2, authzEnd);
    if (authzPart !== '' && !authzPart.startsWith('a=')) return failure('invalid OAUTHBEARER initial response');
    const authzid = authzPart.slice(2);
    const rest = text.slice(authzEnd + 1);
    if (!rest.startsWith(SEPARATOR) || !rest.endsWith(SEPARATOR + SEPARATOR) || rest.length < 3)
      return failure('invalid OAUTHBEARER initial response (separators)');
    const pairs = rest.slice(1, -2).split(SEPARATOR);
    if (pairs.length > PAIRS_MAX) return failure('too many OAUTHBEARER key-value pairs');
    let auth: string | null = null;
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || !KEY.test(pair.slice(0, eq))) return failure('invalid OAUTHBEARER key-value pair');
      if (pair.slice(0, eq) === 'auth') {
        if (auth !== null) return failure('two auth values in the OAUTHBEARER response');
        auth = pair.slice(eq + 1);
      }
      // Other keys are SASL extensions; Brook validates none and ignores them, as Kafka
      // ignores extensions its callback handler does not validate.
    }
    if (auth === null) return failure('no auth value in the OAUTHBEARER response');
    const match = AUTH.exec(auth);
    if (!match || match[1].toLowerCase() !== 'bearer')
      return failure('the OAUTHBEARER auth value is not a bearer token');
    let validated;
    try {
      validated = this.validator.validate(match[2], nowMs);
    } catch (error) {
      if (!(error instanceof JwtError)) throw error;
      this.reason = `invalid token: ${error.message}`;
      this.state = 'error-sent';
      return challenge(OAUTHBEARER_ERROR_CHALLENGE);
    }
    if (authzid !== '' && authzid !== validated.principalName)
      return failure('authorization id differs from the token subject', validated.principalName);
    return {
      kind: 'success',
      token: Buffer.alloc(0),
      principalName: validated.principalName,
      credentialExpiresAtMs: validated.expiresAtMs,
    };
  }
}
