// A small, strict argument parser: `--name value`, `--name=value` and boolean flags.
// Unknown flags and missing values are UsageError, which the CLI prints in one line.

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string>;
  /** Every value of the `repeatable` flags, in order (`--header a=1 --header b=2`). */
  lists: Record<string, string[]>;
}

/**
 * `valued` flags take a value; `switches` are booleans ("true" when present);
 * `repeatable` flags take a value and may be given many times.
 */
export function parseArgs(
  argv: string[],
  valued: string[],
  switches: string[] = [],
  repeatable: string[] = [],
): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  const lists: Record<string, string[]> = Object.fromEntries(repeatable.map((name) => [name, []]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (switches.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = 'true';
      continue;
    }
    if (!valued.includes(name) && !repeatable.includes(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (repeatable.includes(name)) lists[name].push(value);
    else flags[name] = value;
  }
  return { positionals, flags, lists };
}

/**
 * The flags every client command shares: no stray positionals, a --topic, and a
 * --bootstrap HOST:PORT (default 127.0.0.1:9092), checked before anything connects.
 */
export function topicAndBootstrap(
  positionals: string[],
  flags: Record<string, string>,
  parseHostPort: (value: string, what: string) => unknown,
): { topic: string; bootstrap: string } {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const topic = flags.topic;
  if (!topic) throw new UsageError('--topic is required');
  const bootstrap = flags.bootstrap ?? '127.0.0.1:9092';
  parseHostPort(bootstrap, '--bootstrap');
  return { topic, bootstrap };
}

/** An optional --partition N (a non-negative integer). */
export function optionalPartition(flags: Record<string, string>): number | undefined {
  if (flags.partition === undefined) return undefined;
  const partition = Number(flags.partition);
  if (!Number.isInteger(partition) || partition < 0)
    throw new UsageError(`--partition: expected a partition number, got "${flags.partition}"`);
  return partition;
}

/**
 * Runs a command's verb: `help`, `--help` (anywhere) prints `help` to stdout (exit 0), no
 * verb prints it to stderr (exit 2), an unknown verb is a usage error naming the command.
 */
export async function runVerb(
  command: string,
  help: string,
  verbs: Record<string, (args: string[]) => Promise<number>>,
  argv: string[],
): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined) {
    process.stderr.write(help);
    return 2;
  }
  if (verb === 'help' || verb === '--help' || rest.includes('--help')) {
    process.stdout.write(help);
    return 0;
  }
  const run = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!run) throw new UsageError(`unknown ${command} command "${verb}" (try: brook ${command} --help)`);
  return run(rest);
}
