// The SCRAM users a new cluster starts with, from brook.security.bootstrap.scram.users:
// Kafka's `kafka-storage format --add-scram` arguments, separated by ';':
//   SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=alice,iterations=8192,salt=<base64>,saltedpassword=<base64>]
// Each entry is hashed here, at start-up (a fresh random salt when none is given); the
// password itself goes no further than this file and never appears in an error message.

import { ConfigError } from '../config/config';
import { SCRAM_USER_NAME_BYTES_MAX, SCRAM_SALT_BYTES_MAX, BootstrapScramUser } from '../controller/scram-users';
import {
  credentialFromSaltedPassword,
  deriveScramCredential,
  isScramMechanism,
  scramKeyBytes,
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
} from '../security/scram';

export const BOOTSTRAP_SCRAM_USERS_KEY = 'brook.security.bootstrap.scram.users';
/** Most entries the key may hold (each costs a PBKDF2 at start-up). */
const BOOTSTRAP_ENTRIES_MAX = 100;

const KEYS = new Set(['name', 'password', 'salt', 'saltedpassword', 'iterations']);

function fail(message: string): never {
  throw new ConfigError(`${BOOTSTRAP_SCRAM_USERS_KEY}: ${message}`);
}

/** Strict base64 (Java's Base64.getDecoder refuses what Node's decoder would skip). */
function decodeBase64(value: string, what: string): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value))
    fail(`the ${what} is not valid base64`);
  return Buffer.from(value, 'base64');
}

/** One `MECHANISM=[key=value,...]` argument, as Kafka's ScramParser reads it. */
function parseEntry(input: string): BootstrapScramUser {
  const argument = input.trim();
  const equals = argument.indexOf('=');
  if (equals < 0) fail('an entry has no "=" after its mechanism');
  const mechanism = argument.slice(0, equals);
  if (!isScramMechanism(mechanism)) fail(`the mechanism ${JSON.stringify(mechanism.slice(0, 40))} is not supported`);
  const body = argument.slice(equals + 1);
  if (!body.startsWith('[') || !body.endsWith(']')) fail(`the ${mechanism} entry must be enclosed in [ and ]`);
  const components = new Map<string, string>();
  for (const component of body.slice(1, -1).split(',')) {
    const at = component.indexOf('=');
    // Only the key is named in messages: a value may be a password.
    if (at < 0) fail(`a component of the ${mechanism} entry has no "="`);
    const key = component.slice(0, at);
    let value = component.slice(at + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!KEYS.has(key)) fail(`unknown SCRAM configuration ${JSON.stringify(key.slice(0, 40))}`);
    components.set(key, value);
  }
  const name = components.get('name');
  if (name === undefined) fail(`the ${mechanism} entry must give name`);
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > SCRAM_USER_NAME_BYTES_MAX)
    fail(`a user name must be 1-${SCRAM_USER_NAME_BYTES_MAX} bytes`);
  let iterations = SCRAM_ITERATIONS_MIN;
  const iterationsText = components.get('iterations');
  if (iterationsText !== undefined) {
    if (!/^\d{1,9}$/.test(iterationsText)) fail(`iterations of ${name} is not a number`);
    iterations = Number(iterationsText);
  }
  if (iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
    fail(`iterations of ${name} must be ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX}`);
  const saltText = components.get('salt');
  const salt = saltText === undefined ? undefined : decodeBase64(saltText, `salt of ${name}`);
  if (salt !== undefined && (salt.length === 0 || salt.length > SCRAM_SALT_BYTES_MAX))
    fail(`the salt of ${name} must be 1-${SCRAM_SALT_BYTES_MAX} bytes`);
  const password = components.get('password');
  const saltedText = components.get('saltedpassword');
  if (password !== undefined && saltedText !== undefined)
    fail(`give ${name} either password or saltedpassword, not both`);
  if (password !== undefined) {
    if (password.length === 0) fail(`the password of ${name} must not be empty`);
    return { name, credential: deriveScramCredential(mechanism, password, iterations, salt) };
  }
  if (saltedText === undefined) fail(`give ${name} one of password or saltedpassword`);
  if (salt === undefined) fail(`give ${name} salt with saltedpassword`);
  const salted = decodeBase64(saltedText, `salted password of ${name}`);
  if (salted.length !== scramKeyBytes(mechanism))
    fail(`the salted password of ${name} must be ${scramKeyBytes(mechanism)} bytes for ${mechanism}`);
  return { name, credential: credentialFromSaltedPassword(mechanism, salted, salt, iterations) };
}

/**
 * The bootstrap users of a brook.security.bootstrap.scram.users value (none for an empty
 * or absent one). Throws ConfigError naming the entry's user or key, never a value.
 */
export function parseBootstrapScramUsers(value: string | undefined): BootstrapScramUser[] {
  if (value === undefined || value.trim() === '') return [];
  // Entries end at "]" followed by ";" (a "]" inside a password is kept).
  const entries = value.split(/\]\s*;/).map((part, i, all) => (i < all.length - 1 ? `${part}]` : part));
  if (entries.length > BOOTSTRAP_ENTRIES_MAX) fail(`at most ${BOOTSTRAP_ENTRIES_MAX} entries`);
  const users = entries.filter((e) => e.trim() !== '').map(parseEntry);
  const seen = new Set<string>();
  for (const { name, credential } of users) {
    const key = `${credential.mechanism} ${name}`;
    if (seen.has(key)) fail(`${name} is given twice for ${credential.mechanism}`);
    seen.add(key);
  }
  return users;
}
