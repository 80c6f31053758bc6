// SCRAM user credentials at the active controller, as Kafka's ScramControlManager decides
// them: AlterUserScramCredentials checked against the image and turned into
// UserScramCredential / RemoveUserScramCredential records, and the bootstrap users of the
// config file written once when absent. Pure: the image in, records and answers out (the
// salted password arrives from the client; StoredKey and ServerKey are derived here).

import { ErrorCode } from '../../protocol/errors';
import { MetadataRecordInput } from '../../protocol/metadata/records';
import {
  credentialFromSaltedPassword,
  ScramCredential,
  ScramMechanism,
  scramKeyBytes,
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
} from '../security/scram';
import type { MetadataImage } from './metadata-image';

/** Longest user name accepted, in UTF-8 bytes (Kafka has no bound; names reach logs and principals). */
export const SCRAM_USER_NAME_BYTES_MAX = 1024;
/** Longest salt accepted, in bytes (Brook and Kafka generate 32). */
export const SCRAM_SALT_BYTES_MAX = 1024;
/** Defaults of brook.max.scram.users and brook.max.scram.credentials.per.request. */
export const DEFAULT_SCRAM_USERS_MAX = 10_000;
export const DEFAULT_SCRAM_CREDENTIALS_PER_REQUEST_MAX = 1000;

/** The mechanism numbers of the protocol and the metadata records (Kafka's ScramMechanism.type). */
const MECHANISM_TYPES: Record<number, ScramMechanism> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' };

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  return MECHANISM_TYPES[type];
}

export function scramMechanismType(mechanism: ScramMechanism): number {
  return mechanism === 'SCRAM-SHA-256' ? 1 : 2;
}

export interface ScramSettings {
  /** brook.max.scram.users: users with credentials in the whole cluster. */
  usersMax: number;
  /** brook.max.scram.credentials.per.request: deletions plus upsertions (or users described) in one request. */
  credentialsPerRequestMax: number;
  /** brook.security.bootstrap.scram.users, already hashed: written when the user has no credential for the mechanism. */
  bootstrapUsers: BootstrapScramUser[];
}

export interface BootstrapScramUser {
  name: string;
  credential: ScramCredential;
}

export interface ScramDeletion {
  name: string;
  mechanism: number;
}

export interface ScramUpsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

export interface AlterScramResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

interface ApiError {
  errorCode: number;
  errorMessage: string;
}

const TWICE: ApiError = {
  errorCode: ErrorCode.DUPLICATE_RESOURCE,
  errorMessage: 'A user credential cannot be altered twice in the same request',
};

/** The name and mechanism checks that deletions and upsertions share (Kafka's validateScramUsernameAndMechanism). */
function checkNameAndMechanism(name: string, mechanism: number): ApiError | null {
  if (name.length === 0)
    return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' };
  if (Buffer.byteLength(name, 'utf8') > SCRAM_USER_NAME_BYTES_MAX)
    return {
      errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
      errorMessage: `Username must be at most ${SCRAM_USER_NAME_BYTES_MAX} bytes`,
    };
  if (!scramMechanismOfType(mechanism))
    return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' };
  return null;
}

function checkUpsertion(upsertion: ScramUpsertion): ApiError | null {
  const error = checkNameAndMechanism(upsertion.name, upsertion.mechanism);
  if (error) return error;
  if (upsertion.iterations < SCRAM_ITERATIONS_MIN)
    return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' };
  if (upsertion.iterations > SCRAM_ITERATIONS_MAX)
    return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations' };
  // Kafka takes any salt and salted password; Brook refuses what no SCRAM client computes:
  // an empty or oversized salt, and a salted password that is not one digest long.
  if (upsertion.salt.length === 0 || upsertion.salt.length > SCRAM_SALT_BYTES_MAX)
    return {
      errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
      errorMessage: `The salt must be 1-${SCRAM_SALT_BYTES_MAX} bytes`,
    };
  const keyBytes = scramKeyBytes(scramMechanismOfType(upsertion.mechanism)!);
  if (upsertion.saltedPassword.length !== keyBytes)
    return {
      errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
      errorMessage: `The salted password must be ${keyBytes} bytes for this mechanism`,
    };
  return null;
}

function credentialRecord(name: string, credential: ScramCredential): MetadataRecordInput {
  return {
    type: 'UserScramCredential',
    data: {
      name,
      mechanism: scramMechanismType(credential.mechanism),
      salt: credential.salt,
      storedKey: credential.storedKey,
      serverKey: credential.serverKey,
      iterations: credential.iterations,
    },
  };
}

/**
 * AlterUserScramCredentials, as Kafka's ScramControlManager.alterCredentials: each user
 * may be named once in the whole request (deletions and upsertions together), else
 * DUPLICATE_RESOURCE and neither change applies; a deletion of a credential the image does
 * not hold is RESOURCE_NOT_FOUND. Results: accepted deletions, accepted upsertions, then
 * refusals, each in request order. Every accepted change is written in one decision.
 */
export function alterScramCredentials(
  image: MetadataImage,
  settings: Pick<ScramSettings, 'usersMax'>,
  deletions: ScramDeletion[],
  upsertions: ScramUpsertion[],
): { records: MetadataRecordInput[]; result: AlterScramResult[] } {
  const toDelete = new Map<string, ScramDeletion>();
  const toUpsert = new Map<string, ScramUpsertion>();
  const refused = new Map<string, ApiError>();
  for (const deletion of deletions) {
    if (refused.has(deletion.name)) continue;
    if (toDelete.delete(deletion.name)) {
      refused.set(deletion.name, TWICE);
      continue;
    }
    let error = checkNameAndMechanism(deletion.name, deletion.mechanism);
    if (!error && !image.scramCredential(deletion.name, scramMechanismOfType(deletion.mechanism)!))
      error = {
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: 'Attempt to delete a user credential that does not exist',
      };
    if (error) refused.set(deletion.name, error);
    else toDelete.set(deletion.name, deletion);
  }
  for (const upsertion of upsertions) {
    if (refused.has(upsertion.name)) continue;
    if (toDelete.delete(upsertion.name) || toUpsert.delete(upsertion.name)) {
      refused.set(upsertion.name, TWICE);
      continue;
    }
    const error = checkUpsertion(upsertion);
    if (error) refused.set(upsertion.name, error);
    else toUpsert.set(upsertion.name, upsertion);
  }
  const records: MetadataRecordInput[] = [];
  const result: AlterScramResult[] = [];
  for (const deletion of toDelete.values()) {
    records.push({ type: 'RemoveUserScramCredential', data: { name: deletion.name, mechanism: deletion.mechanism } });
    result.push({ user: deletion.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  // brook.max.scram.users counts users; deletions in the same request are not counted off
  // (a user may keep another mechanism's credential), so the bound is never crossed.
  let users = image.scramUsers.size;
  for (const upsertion of toUpsert.values()) {
    if (!image.scramUsers.has(upsertion.name)) {
      if (users >= settings.usersMax) {
        refused.set(upsertion.name, {
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: `The cluster has ${users} SCRAM users, the most brook.max.scram.users allows.`,
        });
        continue;
      }
      users++;
    }
    const mechanism = scramMechanismOfType(upsertion.mechanism)!;
    const credential = credentialFromSaltedPassword(
      mechanism,
      upsertion.saltedPassword,
      upsertion.salt,
      upsertion.iterations,
    );
    records.push(credentialRecord(upsertion.name, credential));
    result.push({ user: upsertion.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const [user, error] of refused) result.push({ user, ...error });
  return { records, result };
}

/**
 * The bootstrap users that have no credential for their mechanism yet: written by a newly
 * active controller once its image holds everything committed before its term. A credential
 * already there (set by an earlier bootstrap or changed since) is never overwritten.
 */
export function bootstrapScramRecords(image: MetadataImage, users: BootstrapScramUser[]): MetadataRecordInput[] {
  const records: MetadataRecordInput[] = [];
  const written = new Set<string>();
  for (const { name, credential } of users) {
    const key = `${credential.mechanism}\u0000${name}`;
    if (written.has(key) || image.scramCredential(name, credential.mechanism)) continue;
    written.add(key);
    records.push(credentialRecord(name, credential));
  }
  return records;
}
