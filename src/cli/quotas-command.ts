// `brook quotas describe|alter`: client quota configuration from the command line, in the
// manner of `kafka-configs --describe|--alter --entity-type users|clients|ips`. An entity is
// a user, a client id, a user and client id together, or an ip; each part either named or
// the type's default entity. Exit codes: 0 done, 1 broker or Kafka error, 2 bad usage.

import { errorInfo, ErrorCode } from '../../protocol/errors';
import type { Admin, ClientQuotaEntity, ClientQuotaFilterComponent } from '../client/admin';
import { parseHostPort } from '../config/config';
import { parseArgs, UsageError, runVerb } from './args';
import { cliError, CliError, connectBootstrap, table } from './admin-client';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const QUOTAS_HELP = `Usage:
  brook quotas describe [--user NAME|--user-default] [--client-id ID|--client-id-default]
                        [--ip ADDR|--ip-default] [--non-strict] [--bootstrap HOST:PORT] [--json]
  brook quotas alter (--user NAME|--user-default) [--client-id ID|--client-id-default]
                     [--add KEY=VALUE[,KEY=VALUE]] [--delete KEY[,KEY]] [--validate-only]
  brook quotas alter (--client-id ID|--client-id-default) [--add ...] [--delete ...]
  brook quotas alter (--ip ADDR|--ip-default) [--add ...] [--delete ...]

describe lists client quota entities and their values. Without entity flags it lists every
entity; with them, the entity they name (a default flag names the type's default entity,
which applies to every user, client id or ip without a quota of its own); --non-strict
adds the entities that have further types too (--user alice also lists alice's quotas per
client id).

alter sets (--add) and removes (--delete) quota values of one entity. Keys for users and
client ids: producer_byte_rate, consumer_byte_rate (bytes per second, whole numbers),
request_percentage, controller_mutation_rate; for ips: connection_creation_rate (whole
number). Values must be greater than 0. --validate-only checks without changing anything.
--bootstrap defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** The entity flags: each type named (--user NAME) or its default (--user-default). */
const ENTITY_FLAGS = [
  { type: 'user', named: 'user', fallback: 'user-default' },
  { type: 'client-id', named: 'client-id', fallback: 'client-id-default' },
  { type: 'ip', named: 'ip', fallback: 'ip-default' },
] as const;

function options(argv: string[], valued: string[], switches: string[]) {
  const parsed = parseArgs(
    argv,
    ['bootstrap', ...CONNECTION_FLAGS, ...ENTITY_FLAGS.map((f) => f.named), ...valued],
    ['json', 'help', ...ENTITY_FLAGS.map((f) => f.fallback), ...switches],
  );
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return parsed.flags;
}

/** The entity the flags name (types without a flag left out). */
function entityFlags(flags: Record<string, string>): ClientQuotaEntity {
  const entity: ClientQuotaEntity = {};
  for (const { type, named, fallback } of ENTITY_FLAGS) {
    if (flags[named] !== undefined && flags[fallback] !== undefined)
      throw new UsageError(`--${named} and --${fallback} exclude each other`);
    if (flags[named] !== undefined) {
      if (flags[named] === '') throw new UsageError(`--${named} needs a non-empty name`);
      entity[type] = flags[named];
    } else if (flags[fallback] !== undefined) entity[type] = null;
  }
  if ('ip' in entity && ('user' in entity || 'client-id' in entity))
    throw new UsageError('--ip cannot be combined with --user or --client-id');
  return entity;
}

function describeEntity(entity: ClientQuotaEntity): string {
  return Object.entries(entity)
    .map(([type, name]) => `${type}=${name ?? '<default>'}`)
    .join(',');
}

/** "a=1,b=2" as key/value pairs; every value a number. */
function addFlag(value: string | undefined): { key: string; value: number }[] {
  if (value === undefined) return [];
  return value.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    const text = eq > 0 ? pair.slice(eq + 1).trim() : '';
    const number = Number(text);
    if (key === '' || text === '' || !Number.isFinite(number))
      throw new UsageError(`--add: expected KEY=NUMBER[,KEY=NUMBER], got "${pair.slice(0, 60)}"`);
    return { key, value: number };
  });
}

function deleteFlag(value: string | undefined): string[] {
  if (value === undefined) return [];
  const keys = value.split(',').map((k) => k.trim());
  if (keys.some((k) => k === '')) throw new UsageError(`--delete: expected KEY[,KEY], got "${value.slice(0, 60)}"`);
  return keys;
}

async function withAdmin<T>(flags: Record<string, string>, work: (admin: Admin) => Promise<T>): Promise<T> {
  const bootstrap = flags.bootstrap ?? DEFAULT_BOOTSTRAP;
  parseHostPort(bootstrap, '--bootstrap');
  const client = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  try {
    return await work(client.admin);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    client.close();
  }
}

async function describe(argv: string[]): Promise<number> {
  const flags = options(argv, [], ['non-strict']);
  const entity = entityFlags(flags);
  const components: ClientQuotaFilterComponent[] = Object.entries(entity).map(([entityType, name]) =>
    name === null ? { entityType, match: 'default' } : { entityType, match: 'exact', name },
  );
  const strict = components.length > 0 && flags['non-strict'] === undefined;
  return withAdmin(flags, async (admin) => {
    const entries = await admin.describeClientQuotas(components, strict);
    const rows = entries.flatMap((e) =>
      Object.entries(e.values)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => [describeEntity(e.entity), key, value]),
    );
    if (flags.json === 'true') process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else process.stdout.write(rows.length === 0 ? 'no client quotas\n' : table(['ENTITY', 'KEY', 'VALUE'], rows));
    return 0;
  });
}

async function alter(argv: string[]): Promise<number> {
  const flags = options(argv, ['add', 'delete'], ['validate-only']);
  const entity = entityFlags(flags);
  if (Object.keys(entity).length === 0)
    throw new UsageError('quotas alter needs an entity: --user, --client-id or --ip (or their -default forms)');
  const sets = addFlag(flags.add);
  const removals = deleteFlag(flags.delete);
  if (sets.length + removals.length === 0) throw new UsageError('quotas alter needs --add or --delete');
  const keys = [...sets.map((s) => s.key), ...removals];
  const twice = keys.find((key, i) => keys.indexOf(key) !== i);
  if (twice !== undefined) throw new UsageError(`the key ${twice} is given twice`);
  const validateOnly = flags['validate-only'] === 'true';
  return withAdmin(flags, async (admin) => {
    const ops = [...sets, ...removals.map((key) => ({ key, value: null }))];
    const [result] = await admin.alterClientQuotas([{ entity, ops }], { validateOnly });
    const what = `alter quotas of ${describeEntity(entity)}`;
    if (!result) throw new CliError(`${what}: the broker gave no answer`);
    if (result.errorCode !== ErrorCode.NONE) {
      const info = errorInfo(result.errorCode);
      throw new CliError(`${what}: ${info.name} (${result.errorCode}): ${result.errorMessage || info.message}`);
    }
    const summary = { entity, set: Object.fromEntries(sets.map((s) => [s.key, s.value])), removed: removals };
    if (flags.json === 'true') process.stdout.write(`${JSON.stringify({ ...summary, validateOnly }, null, 2)}\n`);
    else
      process.stdout.write(
        `${validateOnly ? 'validated' : 'altered'} the quotas of ${describeEntity(entity)}` +
          (sets.length > 0 ? `; set ${sets.map((s) => `${s.key}=${s.value}`).join(', ')}` : '') +
          (removals.length > 0 ? `; removed ${removals.join(', ')}` : '') +
          '\n',
      );
    return 0;
  });
}

export function quotasCommand(argv: string[]): Promise<number> {
  return runVerb('quotas', QUOTAS_HELP, { describe, alter }, argv);
}
