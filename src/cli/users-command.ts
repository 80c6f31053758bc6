// `brook users list|set|delete`: SCRAM users from the command line, in the manner of
// `kafka-configs --alter --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users`.
// The password is read from stdin when it is piped, else asked at the terminal without
// echo; it is never taken from the arguments (they show in `ps` and shell history), and it
// leaves this process only salted and hashed (the admin client sends salt and salted
// password). Exit codes: 0 done, 1 broker or Kafka error, 2 bad usage.

import { errorInfo, ErrorCode } from '../../protocol/errors';
import type { Admin } from '../client/admin';
import { KafkaError } from '../client/cluster';
import { parseHostPort } from '../config/config';
import { isScramMechanism, ScramMechanism, SCRAM_ITERATIONS_MAX, SCRAM_ITERATIONS_MIN } from '../security/scram';
import { parseArgs, UsageError, runVerb } from './args';
import { cliError, CliError, connectBootstrap, table } from './admin-client';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const USERS_HELP = `Usage:
  brook users list [NAME ...] [--bootstrap HOST:PORT] [--json]
  brook users set NAME [--mechanism SCRAM-SHA-512|SCRAM-SHA-256] [--iterations N] [--bootstrap HOST:PORT] [--json]
  brook users delete NAME [--mechanism M] [--bootstrap HOST:PORT] [--json]

list shows each user's SCRAM mechanisms and iteration counts (never salts or keys); with
names, only those users. set creates or changes the user's credential for one mechanism
(default SCRAM-SHA-512, ${SCRAM_ITERATIONS_MIN} iterations; ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX} accepted): the password is read
from stdin when piped (its first line), else asked twice at the terminal without echo;
it is never an argument. delete removes the user's credential for --mechanism, or all of
the user's credentials without it. --bootstrap defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
const DEFAULT_MECHANISM: ScramMechanism = 'SCRAM-SHA-512';
/** Longest password read, in bytes (a bound on what stdin may hand over). */
const PASSWORD_BYTES_MAX = 1024;

function options(argv: string[], valued: string[]) {
  return parseArgs(argv, ['bootstrap', ...CONNECTION_FLAGS, ...valued], ['json', 'help']);
}

function oneUser(verb: string, positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError(`users ${verb} needs exactly one NAME`);
  return positionals[0];
}

function mechanismFlag(value: string | undefined): ScramMechanism | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!isScramMechanism(upper))
    throw new UsageError(`--mechanism: expected SCRAM-SHA-256 or SCRAM-SHA-512, got "${value}"`);
  return upper;
}

function iterationsFlag(value: string | undefined): number {
  if (value === undefined) return SCRAM_ITERATIONS_MIN;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < SCRAM_ITERATIONS_MIN || n > SCRAM_ITERATIONS_MAX)
    throw new UsageError(
      `--iterations: expected ${SCRAM_ITERATIONS_MIN}-${SCRAM_ITERATIONS_MAX}, got "${value.slice(0, 20)}"`,
    );
  return n;
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

/** The first line of piped stdin, at most PASSWORD_BYTES_MAX bytes. */
async function passwordFromPipe(): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    bytes += chunk.length;
    const newline = Buffer.concat(chunks).indexOf(0x0a);
    if (newline >= 0 || bytes > PASSWORD_BYTES_MAX + 2) break;
  }
  const all = Buffer.concat(chunks);
  const newline = all.indexOf(0x0a);
  const line = (newline >= 0 ? all.subarray(0, newline) : all).toString('utf8').replace(/\r$/, '');
  if (Buffer.byteLength(line, 'utf8') > PASSWORD_BYTES_MAX)
    throw new UsageError(`the password must be at most ${PASSWORD_BYTES_MAX} bytes`);
  return line;
}

/** Asks at the terminal with echo off (raw mode): Enter ends, Backspace erases, Ctrl-C or Ctrl-D aborts. */
function passwordFromTerminal(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(null);
        if (char === '\u0003' || char === '\u0004') return finish(new CliError('aborted: no password given'));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
        if (Buffer.byteLength(typed, 'utf8') > PASSWORD_BYTES_MAX)
          return finish(new UsageError(`the password must be at most ${PASSWORD_BYTES_MAX} bytes`));
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readPassword(user: string): Promise<string> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await passwordFromTerminal(`Password for ${user}: `);
    const again = await passwordFromTerminal(`Retype the password for ${user}: `);
    if (again !== password) throw new UsageError('the passwords do not match');
  } else {
    password = await passwordFromPipe();
  }
  if (password.length === 0) throw new UsageError('the password must not be empty');
  return password;
}

/** A per-user result that is not NONE, as one line. */
function resultError(what: string, errorCode: number, errorMessage: string | null): CliError {
  const info = errorInfo(errorCode);
  return new CliError(`${what}: ${info.name} (${errorCode}): ${errorMessage || info.message}`);
}

async function withAdmin<T>(
  bootstrap: string,
  flags: Record<string, string>,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const client = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  try {
    return await work(client.admin);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    client.close();
  }
}

async function list(argv: string[]): Promise<number> {
  const { positionals, flags } = options(argv, []);
  return withAdmin(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (admin) => {
    const users = await admin.describeUserScramCredentials(positionals);
    const rows = users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations]));
    print(
      flags.json === 'true',
      users,
      rows.length === 0 ? 'no SCRAM users\n' : table(['USER', 'MECHANISM', 'ITERATIONS'], rows),
    );
    return 0;
  });
}

async function set(argv: string[]): Promise<number> {
  const { positionals, flags } = options(argv, ['mechanism', 'iterations']);
  const user = oneUser('set', positionals);
  const mechanism = mechanismFlag(flags.mechanism) ?? DEFAULT_MECHANISM;
  const iterations = iterationsFlag(flags.iterations);
  const bootstrap = flags.bootstrap ?? DEFAULT_BOOTSTRAP;
  // Checked before the password is asked, so that a typo in --bootstrap costs no typing.
  parseHostPort(bootstrap, '--bootstrap');
  const password = await readPassword(user);
  return withAdmin(bootstrap, flags, async (admin) => {
    const [result] = await admin.alterUserScramCredentials([{ kind: 'upsert', user, mechanism, password, iterations }]);
    if (!result) throw new CliError(`set ${mechanism} credential of ${user}: the broker gave no answer`);
    if (result.errorCode !== ErrorCode.NONE)
      throw resultError(`set ${mechanism} credential of ${user}`, result.errorCode, result.errorMessage);
    print(
      flags.json === 'true',
      { user, mechanism, iterations },
      `set the ${mechanism} credential of user ${user} (${iterations} iterations)\n`,
    );
    return 0;
  });
}

async function remove(argv: string[]): Promise<number> {
  const { positionals, flags } = options(argv, ['mechanism']);
  const user = oneUser('delete', positionals);
  const only = mechanismFlag(flags.mechanism);
  return withAdmin(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (admin) => {
    let mechanisms: ScramMechanism[];
    if (only) mechanisms = [only];
    else {
      try {
        const [described] = await admin.describeUserScramCredentials([user]);
        mechanisms = (described?.credentials ?? []).map((c) => c.mechanism).filter(isScramMechanism);
      } catch (error) {
        if (error instanceof KafkaError && error.code === ErrorCode.RESOURCE_NOT_FOUND)
          throw new CliError(`user ${user} has no SCRAM credentials`);
        throw error;
      }
    }
    // One request per mechanism: Kafka refuses a user named twice in one request.
    for (const mechanism of mechanisms) {
      const [result] = await admin.alterUserScramCredentials([{ kind: 'delete', user, mechanism }]);
      if (result && result.errorCode === ErrorCode.RESOURCE_NOT_FOUND)
        throw new CliError(`user ${user} has no ${mechanism} credential`);
      if (!result || result.errorCode !== ErrorCode.NONE)
        throw resultError(
          `delete ${mechanism} credential of ${user}`,
          result?.errorCode ?? -1,
          result?.errorMessage ?? null,
        );
    }
    print(
      flags.json === 'true',
      { user, deleted: mechanisms },
      `deleted the ${mechanisms.join(' and ')} credential${mechanisms.length > 1 ? 's' : ''} of user ${user}\n`,
    );
    return 0;
  });
}

export function usersCommand(argv: string[]): Promise<number> {
  return runVerb('users', USERS_HELP, { list, set, delete: remove }, argv);
}
