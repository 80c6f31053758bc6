// `brook configs describe|alter`: broker configs from the command line, in the manner of
// `kafka-configs --entity-type brokers`. A broker id names one broker (its own dynamic
// values, and every key it has when described); --broker-defaults names the cluster-wide
// default that every broker without its own value uses. Changes go through
// IncrementalAlterConfigs and are applied live by every broker. Exit codes: 0 done, 1 broker
// or Kafka error, 2 bad usage.

import { errorInfo } from '../../protocol/errors';
import { ApiKey } from '../../protocol/api-keys';
import { parseArgs, UsageError } from './args';
import { CliClient, cliError, CliError, connectBootstrap, table } from './admin-client';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const CONFIGS_HELP = `Usage:
  brook configs describe (--broker N|--broker-defaults) [--all] [--bootstrap HOST:PORT] [--json]
  brook configs alter (--broker N|--broker-defaults) [--add KEY=VALUE ...] [--delete KEY ...]
                      [--validate-only] [--bootstrap HOST:PORT] [--json]

describe lists a broker's configs with their values and sources (dynamic-broker,
dynamic-default-broker, static-broker, default); without --all only those not at their
default. Sensitive configs (passwords, keys, secrets) show as (sensitive), never their value.
--broker-defaults lists the cluster-wide dynamic defaults.

alter sets (--add, repeatable; a value may hold commas) and removes (--delete, repeatable)
dynamic configs of one broker (--broker N) or the cluster-wide default (--broker-defaults).
Precedence: a broker's own value, then the cluster default, then the config file, then the
default. Only configs Kafka updates at runtime that Brook applies live are accepted: the
broker keys of topic defaults (log.retention.ms, log.segment.bytes, log.cleanup.policy ...),
message.max.bytes and log.cleaner.threads, .dedupe.buffer.size, .io.buffer.load.factor and
.io.max.bytes.per.second; others are refused. --bootstrap defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
const RESOURCE_BROKER = 4;
const SOURCES = ['unknown', 'topic', 'dynamic-broker', 'dynamic-default-broker', 'static-broker', 'default', 'logger'];
const SOURCE_DEFAULT = 5;

interface Options {
  flags: Record<string, string>;
  add: { name: string; value: string }[];
  remove: string[];
}

/** Takes the repeatable --add and --delete out; the rest goes through parseArgs. */
function parseOptions(argv: string[], switches: string[]): Options {
  const add: { name: string; value: string }[] = [];
  const remove: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)) : '';
    if (name !== 'add' && name !== 'delete') {
      rest.push(arg);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (name === 'add') {
      const at = value.indexOf('=');
      if (at <= 0) throw new UsageError(`--add: expected KEY=VALUE, got "${value}"`);
      add.push({ name: value.slice(0, at), value: value.slice(at + 1) });
    } else {
      if (value === '' || value.includes('=')) throw new UsageError(`--delete: expected a config name, got "${value}"`);
      remove.push(value);
    }
  }
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'broker', ...CONNECTION_FLAGS],
    ['json', 'help', 'all', 'broker-defaults', 'validate-only', ...switches],
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return { flags, add, remove };
}

/** The broker resource's name: the id of --broker, or '' for --broker-defaults. */
function resourceName(flags: Record<string, string>): string {
  const defaults = flags['broker-defaults'] === 'true';
  if (defaults && flags.broker !== undefined) throw new UsageError('give --broker N or --broker-defaults, not both');
  if (defaults) return '';
  if (flags.broker === undefined) throw new UsageError('give --broker N or --broker-defaults');
  if (!/^\d{1,10}$/.test(flags.broker) || Number(flags.broker) > 2147483647)
    throw new UsageError(`--broker: expected a broker id, got "${flags.broker}"`);
  return flags.broker;
}

function kafkaError(what: string, errorCode: number, errorMessage: string | null): CliError {
  const info = errorInfo(errorCode);
  return new CliError(`${what}: ${info.name} (${errorCode}): ${errorMessage || info.message}`);
}

async function withClient<T>(flags: Record<string, string>, work: (client: CliClient) => Promise<T>): Promise<T> {
  const bootstrap = flags.bootstrap ?? DEFAULT_BOOTSTRAP;
  const client = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  try {
    return await work(client);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    client.close();
  }
}

const label = (name: string) => (name === '' ? 'the cluster-wide broker default' : `broker ${name}`);

async function describe(argv: string[]): Promise<number> {
  const { flags } = parseOptions(argv, []);
  const name = resourceName(flags);
  return withClient(flags, async (client) => {
    const body = {
      resources: [{ resourceType: RESOURCE_BROKER, resourceName: name, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    };
    // A broker answers for itself only, as in Kafka: the request goes to that broker.
    let answer;
    if (name === '') answer = await client.request(ApiKey.DescribeConfigs, 4, body);
    else {
      await client.admin.connect();
      const target = await client.admin.cluster.broker(Number(name));
      answer = await target.request(ApiKey.DescribeConfigs, body, { cap: 4 });
    }
    const result = answer.results[0];
    if (!result) throw new CliError(`configs of ${label(name)}: the broker gave no answer`);
    if (result.errorCode !== 0) throw kafkaError(`configs of ${label(name)}`, result.errorCode, result.errorMessage);
    const all = flags.all === 'true' || name === '';
    const configs = result.configs
      .filter((c) => all || c.configSource !== SOURCE_DEFAULT)
      .map((c) => ({
        name: c.name,
        value: c.isSensitive ? null : c.value,
        source: SOURCES[c.configSource] ?? `source ${c.configSource}`,
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (flags.json === 'true') process.stdout.write(`${JSON.stringify({ broker: name, configs }, null, 2)}\n`);
    else if (configs.length === 0) process.stdout.write(`${label(name)}: no configs set\n`);
    else
      process.stdout.write(
        table(
          ['NAME', 'VALUE', 'SOURCE', 'DYNAMIC'],
          configs.map((c) => [
            c.name,
            c.sensitive ? '(sensitive)' : (c.value ?? '(null)'),
            c.source,
            c.readOnly ? 'no' : 'yes',
          ]),
        ),
      );
    return 0;
  });
}

async function alter(argv: string[]): Promise<number> {
  const { flags, add, remove } = parseOptions(argv, []);
  const name = resourceName(flags);
  if (add.length === 0 && remove.length === 0) throw new UsageError('alter needs at least one --add k=v or --delete k');
  return withClient(flags, async (client) => {
    const answer = await client.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: RESOURCE_BROKER,
          resourceName: name,
          configs: [
            ...add.map((c) => ({ name: c.name, configOperation: 0, value: c.value })),
            ...remove.map((key) => ({ name: key, configOperation: 1, value: null })),
          ],
        },
      ],
      validateOnly: flags['validate-only'] === 'true',
    });
    const result = answer.responses[0];
    if (!result) throw new CliError(`alter ${label(name)}: the broker gave no answer`);
    if (result.errorCode !== 0) throw kafkaError(`alter ${label(name)}`, result.errorCode, result.errorMessage);
    const summary = {
      broker: name,
      set: add.map((c) => c.name),
      deleted: remove,
      validateOnly: flags['validate-only'] === 'true',
    };
    // Names only: a value may be a secret.
    if (flags.json === 'true') process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      process.stdout.write(
        `${summary.validateOnly ? 'valid for' : 'altered'} ${label(name)}: ${[
          ...add.map((c) => `${c.name} set`),
          ...remove.map((k) => `${k} deleted`),
        ].join(', ')}\n`,
      );
    return 0;
  });
}

export async function configsCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined) {
    process.stderr.write(CONFIGS_HELP);
    return 2;
  }
  if (verb === '--help' || verb === 'help' || rest.includes('--help')) {
    process.stdout.write(CONFIGS_HELP);
    return 0;
  }
  switch (verb) {
    case 'describe':
      return describe(rest);
    case 'alter':
      return alter(rest);
    default:
      throw new UsageError(`unknown configs verb "${verb}" (describe, alter)`);
  }
}
