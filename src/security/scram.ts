// SCRAM credentials (RFC 5802, RFC 7677) as Kafka stores them: a salt, an iteration count
// and the derived StoredKey and ServerKey, never the password. Shared by the SASL
// mechanism, the credential records of the metadata log and the HTTP API's Basic auth.

import * as crypto from 'node:crypto';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Kafka's bounds on the iteration count (ScramMechanism.minIterations, and AlterUserScramCredentials' maximum). */
export const SCRAM_ITERATIONS_MIN = 4096;
export const SCRAM_ITERATIONS_MAX = 16384;
/** Salt bytes Brook generates (a CSPRNG), as Kafka's ScramFormatter does. */
export const SCRAM_SALT_BYTES = 32;

export function isScramMechanism(value: string): value is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(value);
}

export interface ScramCredential {
  mechanism: ScramMechanism;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramDigest(mechanism: ScramMechanism): 'sha256' | 'sha512' {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

/** The digest length of the mechanism's hash, in bytes. */
export function scramKeyBytes(mechanism: ScramMechanism): number {
  return mechanism === 'SCRAM-SHA-256' ? 32 : 64;
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC of the mechanism's hash. */
export function saltedPassword(
  mechanism: ScramMechanism,
  password: Buffer | string,
  salt: Buffer,
  iterations: number,
): Buffer {
  return crypto.pbkdf2Sync(password, salt, iterations, scramKeyBytes(mechanism), scramDigest(mechanism));
}

export function hmac(mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return crypto.createHmac(scramDigest(mechanism), key).update(data).digest();
}

export function hash(mechanism: ScramMechanism, data: Buffer): Buffer {
  return crypto.createHash(scramDigest(mechanism)).update(data).digest();
}

/** A credential from a salted password (what a client computes, and what the broker keeps parts of). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salted: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return {
    mechanism,
    salt,
    iterations,
    storedKey: hash(mechanism, clientKey),
    serverKey: hmac(mechanism, salted, 'Server Key'),
  };
}

/** A new credential for a password, with a fresh random salt unless one is given. */
export function deriveScramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_ITERATIONS_MIN,
  salt: Buffer = crypto.randomBytes(SCRAM_SALT_BYTES),
): ScramCredential {
  if (!Number.isInteger(iterations) || iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
    throw new RangeError(`iterations must be ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX}, got ${iterations}`);
  return credentialFromSaltedPassword(
    mechanism,
    saltedPassword(mechanism, password, salt, iterations),
    salt,
    iterations,
  );
}

/** Whether a password matches a stored credential, compared in constant time. */
export function verifyScramPassword(credential: ScramCredential, password: string): boolean {
  const derived = credentialFromSaltedPassword(
    credential.mechanism,
    saltedPassword(credential.mechanism, password, credential.salt, credential.iterations),
    credential.salt,
    credential.iterations,
  );
  return (
    derived.storedKey.length === credential.storedKey.length &&
    crypto.timingSafeEqual(derived.storedKey, credential.storedKey)
  );
}

/** Where the SASL mechanisms and the HTTP API look users up (the metadata image implements it). */
export interface CredentialStore {
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
}
