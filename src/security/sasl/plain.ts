// SASL/PLAIN server (RFC 4616): one client token "authzid NUL authcid NUL password", checked
// against a password verifier. As in Kafka's PlainSaslServer, the authorization id must be
// empty or equal the user name, and neither user name nor password may be empty.

import { decodeUtf8, failure, SaslServerMechanism, SaslStep } from './mechanism';

/** Checks a password for a user; false for an unknown user (and then as slowly as for a known one). */
export type PasswordVerifier = (user: string, password: string) => boolean;

export class PlainServer implements SaslServerMechanism {
  readonly name = 'PLAIN';
  private done = false;

  constructor(private readonly verify: PasswordVerifier) {}

  evaluate(token: Buffer, _nowMs?: number): SaslStep {
    if (this.done) return failure('PLAIN takes a single token');
    this.done = true;
    const first = token.indexOf(0);
    const second = first < 0 ? -1 : token.indexOf(0, first + 1);
    if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0)
      return failure('invalid PLAIN token: expected 3 fields');
    const authzid = decodeUtf8(token.subarray(0, first));
    const user = decodeUtf8(token.subarray(first + 1, second));
    const password = decodeUtf8(token.subarray(second + 1));
    if (authzid === null || user === null || password === null) return failure('invalid PLAIN token: not UTF-8');
    if (user === '') return failure('user name not specified');
    if (password === '') return failure('password not specified', user);
    if (authzid !== '' && authzid !== user) return failure('authorization id differs from the user name', user);
    if (!this.verify(user, password)) return failure('invalid credentials', user);
    return { kind: 'success', token: Buffer.alloc(0), principalName: user };
  }
}
