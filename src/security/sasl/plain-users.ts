// The users file of SASL/PLAIN (brook.sasl.plain.users.file), for deployments that keep
// PLAIN's users apart from the SCRAM credentials of the metadata log. One user a line:
//   <user>=<mechanism>:<iterations>:<salt>:<stored key>:<server key>
// e.g. alice=SCRAM-SHA-512:4096:3q2+7w==:...:...
// with SCRAM-SHA-256 or SCRAM-SHA-512, the iteration count, and the salt, StoredKey and
// ServerKey of RFC 5802 in base64: the password itself is never stored. Blank lines and
// lines starting with # are skipped; a user name may not contain "=". plainUserLine()
// makes a line from a password.

import * as fs from 'node:fs';
import {
  deriveScramCredential,
  isScramMechanism,
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
  ScramCredential,
  ScramMechanism,
  scramKeyBytes,
} from '../scram';
import { SaslConfigError } from './settings';

export const PLAIN_USERS_FILE_BYTES_MAX = 16 * 1024 * 1024;

export function plainUserLine(
  user: string,
  password: string,
  mechanism: ScramMechanism = 'SCRAM-SHA-512',
  iterations = SCRAM_ITERATIONS_MIN,
): string {
  if (user === '' || user.includes('=') || /[\r\n]/.test(user)) throw new RangeError('invalid user name');
  const c = deriveScramCredential(mechanism, password, iterations);
  return `${user}=${mechanism}:${iterations}:${c.salt.toString('base64')}:${c.storedKey.toString('base64')}:${c.serverKey.toString('base64')}`;
}

export function parsePlainUsers(text: string, source = 'brook.sasl.plain.users.file'): Map<string, ScramCredential> {
  const users = new Map<string, ScramCredential>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source} line ${i + 1}`;
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw new SaslConfigError(`${where}: expected user=<mechanism>:<iterations>:<salt>:<stored key>:<server key>`);
    const user = line.slice(0, eq);
    const fields = line.slice(eq + 1).split(':');
    if (fields.length !== 5 || !isScramMechanism(fields[0]))
      throw new SaslConfigError(`${where}: expected user=<mechanism>:<iterations>:<salt>:<stored key>:<server key>`);
    const mechanism = fields[0];
    const iterations = Number(fields[1]);
    if (!Number.isInteger(iterations) || iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
      throw new SaslConfigError(`${where}: iterations must be ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX}`);
    const [salt, storedKey, serverKey] = fields.slice(2).map((f) => Buffer.from(f, 'base64'));
    const bytes = scramKeyBytes(mechanism);
    if (salt.length === 0 || storedKey.length !== bytes || serverKey.length !== bytes)
      throw new SaslConfigError(`${where}: salt or keys of the wrong size`);
    if (users.has(user)) throw new SaslConfigError(`${where}: user ${user} given twice`);
    users.set(user, { mechanism, iterations, salt, storedKey, serverKey });
  }
  return users;
}

export function readPlainUsersFile(file: string): Map<string, ScramCredential> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new SaslConfigError(
      `brook.sasl.plain.users.file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (stat.size > PLAIN_USERS_FILE_BYTES_MAX)
    throw new SaslConfigError(
      `brook.sasl.plain.users.file: ${file} is larger than ${PLAIN_USERS_FILE_BYTES_MAX} bytes`,
    );
  return parsePlainUsers(fs.readFileSync(file, 'utf8'));
}
