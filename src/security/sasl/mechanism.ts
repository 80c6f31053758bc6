// The server side of one SASL mechanism as a pure, bounded state machine: each client
// token goes in, and out comes a challenge for the client, success with the authenticated
// user name, or failure. No I/O and no clock of its own (time is passed in), so each
// mechanism is tested token by token.

/** What one client token leads to. */
export type SaslStep =
  | { kind: 'challenge'; token: Buffer }
  | {
      kind: 'success';
      /** The final server token (SCRAM's server signature; empty for PLAIN and OAUTHBEARER). */
      token: Buffer;
      principalName: string;
      /** When the credential stops being valid (an OAUTHBEARER token's exp), if it does. */
      credentialExpiresAtMs?: number;
    }
  | {
      kind: 'failure';
      /** For the server log only: never sent to the client, never holds a secret. */
      reason: string;
      /** The user the client named, when it named one (for the log line). */
      user?: string;
    };

export interface SaslServerMechanism {
  readonly name: string;
  /** Evaluates the client's next token; `nowMs` is wall-clock time (token expiry checks). */
  evaluate(token: Buffer, nowMs: number): SaslStep;
}

export function challenge(token: Buffer | string): SaslStep {
  return { kind: 'challenge', token: typeof token === 'string' ? Buffer.from(token, 'utf8') : token };
}

export function failure(reason: string, user?: string): SaslStep {
  return user === undefined ? { kind: 'failure', reason } : { kind: 'failure', reason, user };
}

/** Bytes that are not valid UTF-8 do not make a user name or a password. */
export function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
