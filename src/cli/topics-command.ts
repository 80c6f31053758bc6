// `brook topics create|list|describe|delete|alter-config|delete-records`: topics from the
// command line, in the manner of kafka-topics.sh, kafka-delete-records.sh and rpk. Tables by default, --json for scripts. Exit
// codes: 0 done, 1 broker or Kafka error, 2 bad usage.

import { errorInfo, ErrorCode } from '../../protocol/errors';
import { ZERO_UUID } from '../../protocol/primitives';
import { ListedOffset } from '../client/cluster';
import { parseArgs, UsageError } from './args';
import { CliClient, cliError, CliError, connectBootstrap, table } from './admin-client';
import { ApiKey } from '../../protocol/api-keys';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';
import * as fs from 'node:fs';
import type { RecordsToDelete } from '../client/admin';

export const TOPICS_HELP = `Usage:
  brook topics create <topic> [--partitions N] [--replication-factor N] [--config k=v ...] [--bootstrap HOST:PORT] [--json]
  brook topics list [--all] [--bootstrap HOST:PORT] [--json]
  brook topics describe <topic> [--all-configs] [--bootstrap HOST:PORT] [--json]
  brook topics delete <topic> [--bootstrap HOST:PORT] [--json]
  brook topics alter-config <topic> [--set k=v ...] [--delete k ...] [--bootstrap HOST:PORT] [--json]
  brook topics delete-records --topic T --partition P --offset O [--timeout-ms N] [--bootstrap HOST:PORT] [--json]
  brook topics delete-records --offset-json-file FILE [--timeout-ms N] [--bootstrap HOST:PORT] [--json]

create leaves out --partitions and --replication-factor to take the broker's defaults
(num.partitions, default.replication.factor); --config may be repeated. list hides
internal topics (such as __consumer_offsets) unless --all is given. describe shows each
partition's leader, replicas, in-sync replicas, offline replicas and log start and end
offsets (asked of the partition's leader), then the topic configs that differ from
Kafka's defaults (all of them with --all-configs). alter-config sets (--set k=v) or resets
to the default (--delete k) topic configs with IncrementalAlterConfigs; every broker applies
them to its open logs. delete-records deletes a partition's records below --offset (-1: below
the high watermark) with DeleteRecords: its log start offset moves there, on every replica,
and consumers start there; it prints each partition's new low watermark. The JSON file is
kafka-delete-records.sh's: {"partitions": [{"topic": "t", "partition": 0, "offset": 5}],
"version": 1}. --bootstrap defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
const RESOURCE_TOPIC = 2;
const EARLIEST = -2;
const LATEST = -1;

/** DescribeConfigs config sources, by the number Kafka gives them. */
const CONFIG_SOURCES = [
  'unknown',
  'topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'broker-logger',
];
const SOURCE_DEFAULT = 5;

interface MetadataPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

interface MetadataTopic {
  errorCode: number;
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: MetadataPartition[];
}

interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
}

interface Options {
  positionals: string[];
  flags: Record<string, string>;
  /** Values of flags that may be repeated (`--config a=1 --config b=2`). */
  repeated: Record<string, string[]>;
}

/**
 * The shared parser keeps only the last value of a flag, so the repeatable ones are taken
 * out first; the rest goes through parseArgs and its checks.
 */
function parseOptions(argv: string[], valued: string[], switches: string[], repeatable: string[] = []): Options {
  const repeated: Record<string, string[]> = Object.fromEntries(repeatable.map((name) => [name, []]));
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)) : '';
    if (!repeatable.includes(name)) {
      rest.push(arg);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    repeated[name].push(value);
  }
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', ...CONNECTION_FLAGS, ...valued],
    ['json', 'help', ...switches],
  );
  return { positionals, flags, repeated };
}

function oneTopic(verb: string, positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '')
    throw new UsageError(`topics ${verb} needs exactly one <topic>`);
  return positionals[0];
}

/** A count flag: a positive integer up to `max`, or -1 for the broker's default. */
function parseCount(flag: string, value: string | undefined, max: number): number {
  if (value === undefined) return -1;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || (n < 1 && n !== -1) || n > max) {
    throw new UsageError(`--${flag}: expected a positive integer (or -1 for the broker default), got "${value}"`);
  }
  return n;
}

function parseKeyValues(flag: string, values: string[]): { name: string; value: string }[] {
  return values.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag}: expected key=value, got "${entry}"`);
    return { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
  });
}

/** A Kafka error code from a response as one line, preferring the broker's own message. */
function kafkaError(what: string, errorCode: number, errorMessage?: string | null): CliError {
  const info = errorInfo(errorCode);
  return new CliError(`${what}: ${info.name} (${errorCode}): ${errorMessage || info.message}`);
}

/** As kafkaError, but an unknown topic is said plainly. */
function topicError(what: string, topic: string, errorCode: number, errorMessage?: string | null): CliError {
  if (errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return new CliError(`topic ${topic} does not exist`);
  return kafkaError(what, errorCode, errorMessage);
}

/** Connects, runs `work`, closes; failures other than CliError become one CliError line. */
async function withBroker<T>(
  bootstrap: string,
  flags: Record<string, string>,
  work: (connection: CliClient) => Promise<T>,
): Promise<T> {
  const connection = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  try {
    return await work(connection);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    connection.close();
  }
}

async function metadata(
  connection: CliClient,
  topics: string[] | null,
): Promise<{ brokers: MetadataBroker[]; topics: MetadataTopic[] }> {
  const answer = await connection.request(ApiKey.Metadata, 12, {
    topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  // Asked by name (or for all), every topic comes back named; a nameless one cannot be shown.
  const named = answer.topics.flatMap((t) => (t.name === null ? [] : [{ ...t, name: t.name }]));
  return { brokers: answer.brokers, topics: named };
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

async function create(argv: string[]): Promise<number> {
  const { positionals, flags, repeated } = parseOptions(argv, ['partitions', 'replication-factor'], [], ['config']);
  const name = oneTopic('create', positionals);
  const numPartitions = parseCount('partitions', flags.partitions, 2 ** 31 - 1);
  const replicationFactor = parseCount('replication-factor', flags['replication-factor'], 2 ** 15 - 1);
  const configs = parseKeyValues('config', repeated.config);
  return withBroker(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (connection) => {
    const response = await connection.request(ApiKey.CreateTopics, 7, {
      topics: [{ name, numPartitions, replicationFactor, assignments: [], configs }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    if (!result) throw new CliError(`create topic ${name}: the broker gave no answer for the topic`);
    if (result.errorCode !== 0) throw kafkaError(`create topic ${name}`, result.errorCode, result.errorMessage);
    const overrides = Object.fromEntries(configs.map((c) => [c.name, c.value]));
    const created = {
      name,
      topicId: result.topicId,
      partitions: result.numPartitions,
      replicationFactor: result.replicationFactor,
      configs: overrides,
    };
    let text = `created topic ${name} (id ${created.topicId}): ${created.partitions} partition(s), replication factor ${created.replicationFactor}\n`;
    if (configs.length > 0)
      text += table(
        ['CONFIG', 'VALUE'],
        configs.map((c) => [c.name, c.value]),
      );
    print(flags.json === 'true', created, text);
    return 0;
  });
}

async function list(argv: string[]): Promise<number> {
  const { positionals, flags } = parseOptions(argv, [], ['all']);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return withBroker(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (connection) => {
    const answer = await metadata(connection, null);
    const topics = answer.topics
      .filter((t) => flags.all === 'true' || !t.isInternal)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.length,
        replicationFactor: Math.max(0, ...t.partitions.map((p) => p.replicaNodes.length)),
        internal: t.isInternal,
      }));
    const text =
      topics.length === 0
        ? 'no topics\n'
        : table(
            ['TOPIC', 'PARTITIONS', 'REPLICATION FACTOR', 'INTERNAL'],
            topics.map((t) => [t.name, t.partitions, t.replicationFactor, t.internal ? 'yes' : '']),
          );
    print(flags.json === 'true', topics, text);
    return 0;
  });
}

interface Offsets {
  logStartOffset: number | null;
  logEndOffset: number | null;
  offsetError: string | null;
}

/** Log start and end offsets of each partition, asked of its leader by the client library. */
async function logOffsets(client: CliClient, topic: MetadataTopic): Promise<Map<number, Offsets>> {
  const out = new Map<number, Offsets>();
  const led = topic.partitions.filter((p) => p.leaderId >= 0).map((p) => p.partitionIndex);
  for (const p of topic.partitions)
    if (p.leaderId < 0)
      out.set(p.partitionIndex, { logStartOffset: null, logEndOffset: null, offsetError: 'no leader' });
  const ask = (timestamp: number) =>
    client.admin.cluster.listOffsets(led.map((partition) => ({ topic: topic.name, partition, timestamp })));
  let earliest: ListedOffset[];
  let latest: ListedOffset[];
  try {
    [earliest, latest] = await Promise.all([ask(EARLIEST), ask(LATEST)]);
  } catch (error) {
    for (const partition of led)
      out.set(partition, { logStartOffset: null, logEndOffset: null, offsetError: (error as Error).message });
    return out;
  }
  led.forEach((partition, i) => {
    const [start, end] = [earliest[i], latest[i]];
    out.set(
      partition,
      start.errorCode === ErrorCode.NONE && end.errorCode === ErrorCode.NONE
        ? { logStartOffset: start.offset, logEndOffset: end.offset, offsetError: null }
        : { logStartOffset: null, logEndOffset: null, offsetError: start.error ?? end.error },
    );
  });
  return out;
}

async function describe(argv: string[]): Promise<number> {
  const { positionals, flags } = parseOptions(argv, [], ['all-configs']);
  const name = oneTopic('describe', positionals);
  const bootstrap = flags.bootstrap ?? DEFAULT_BOOTSTRAP;
  return withBroker(bootstrap, flags, async (connection) => {
    const answer = await metadata(connection, [name]);
    const topic = answer.topics[0];
    if (!topic) throw new CliError(`topic ${name}: the broker gave no answer for the topic`);
    if (topic.errorCode !== 0) throw topicError(`describe topic ${name}`, name, topic.errorCode);
    const [offsets, described] = await Promise.all([
      logOffsets(connection, topic),
      connection.request(ApiKey.DescribeConfigs, 4, {
        resources: [{ resourceType: RESOURCE_TOPIC, resourceName: name, configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      }),
    ]);
    const result = described.results[0];
    if (!result) throw new CliError(`configs of ${name}: the broker gave no answer for the topic`);
    if (result.errorCode !== 0)
      throw topicError(`configs of topic ${name}`, name, result.errorCode, result.errorMessage);
    const allConfigs = flags['all-configs'] === 'true';
    const configs = (
      result.configs as {
        name: string;
        value: string | null;
        readOnly: boolean;
        configSource: number;
        isSensitive: boolean;
      }[]
    )
      .filter((c) => allConfigs || c.configSource !== SOURCE_DEFAULT)
      .map((c) => ({
        name: c.name,
        value: c.isSensitive ? null : c.value,
        source: CONFIG_SOURCES[c.configSource] ?? `source ${c.configSource}`,
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const partitions = [...topic.partitions]
      .sort((a, b) => a.partitionIndex - b.partitionIndex)
      .map((p) => ({
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
        error: p.errorCode === 0 ? null : errorInfo(p.errorCode).name,
        ...offsets.get(p.partitionIndex)!,
      }));
    const replicationFactor = Math.max(0, ...partitions.map((p) => p.replicas.length));
    const view = { name, topicId: topic.topicId, internal: topic.isInternal, replicationFactor, partitions, configs };
    const ids = (list: number[]) => list.join(',') || '-';
    let text = `topic ${name} (id ${topic.topicId}${topic.isInternal ? ', internal' : ''}): ${partitions.length} partition(s), replication factor ${replicationFactor}\n\n`;
    text += table(
      ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'OFFLINE', 'LOG START', 'LOG END'],
      partitions.map((p) => [
        p.partition,
        p.leader < 0 ? 'none' : p.leader,
        p.leaderEpoch,
        ids(p.replicas),
        ids(p.isr),
        ids(p.offlineReplicas),
        p.logStartOffset ?? '-',
        p.logEndOffset ?? (p.offsetError ? `- (${p.offsetError})` : '-'),
      ]),
    );
    if (configs.length === 0)
      text += `\nconfigs: all at Kafka's defaults${allConfigs ? '' : ' (--all-configs lists them)'}\n`;
    else {
      text += `\nconfigs${allConfigs ? '' : ' (non-default; --all-configs for all)'}:\n`;
      text += table(
        ['CONFIG', 'VALUE', 'SOURCE'],
        configs.map((c) => [c.name, c.sensitive ? '(sensitive)' : (c.value ?? '(null)'), c.source]),
      );
    }
    print(flags.json === 'true', view, text);
    return 0;
  });
}

async function remove(argv: string[]): Promise<number> {
  const { positionals, flags } = parseOptions(argv, [], []);
  const name = oneTopic('delete', positionals);
  return withBroker(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (connection) => {
    const response = await connection.request(ApiKey.DeleteTopics, 6, {
      topics: [{ name, topicId: ZERO_UUID }],
      timeoutMs: 30_000,
    });
    const result = response.responses[0];
    if (!result) throw new CliError(`delete topic ${name}: the broker gave no answer for the topic`);
    if (result.errorCode !== 0) throw topicError(`delete topic ${name}`, name, result.errorCode, result.errorMessage);
    print(flags.json === 'true', { deleted: name, topicId: result.topicId }, `deleted topic ${name}\n`);
    return 0;
  });
}

async function alterConfig(argv: string[]): Promise<number> {
  const { positionals, flags, repeated } = parseOptions(argv, [], [], ['set', 'delete']);
  const name = oneTopic('alter-config', positionals);
  const sets = parseKeyValues('set', repeated.set);
  for (const key of repeated.delete)
    if (key === '' || key.includes('=')) throw new UsageError(`--delete: expected a config name, got "${key}"`);
  if (sets.length === 0 && repeated.delete.length === 0)
    throw new UsageError('alter-config needs at least one --set k=v or --delete k');
  const bootstrap = flags.bootstrap ?? DEFAULT_BOOTSTRAP;
  return withBroker(bootstrap, flags, async (connection) => {
    const configs = [
      ...sets.map((c) => ({ name: c.name, configOperation: 0, value: c.value })),
      ...repeated.delete.map((key) => ({ name: key, configOperation: 1, value: null })),
    ];
    const answer = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: name, configs }],
      validateOnly: false,
    });
    const result = answer.responses[0];
    if (!result) throw new CliError('the broker gave no answer for the topic');
    if (result.errorCode !== 0) throw topicError('alter-config', name, result.errorCode, result.errorMessage);
    const summary = {
      topic: name,
      set: Object.fromEntries(sets.map((c) => [c.name, c.value])),
      deleted: repeated.delete,
    };
    print(
      flags.json === 'true',
      summary,
      `altered ${name}: ${[...sets.map((c) => `${c.name}=${c.value}`), ...repeated.delete.map((k) => `${k} (default)`)].join(', ')}\n`,
    );
    return 0;
  });
}

/** At most this many partitions in one delete-records run (the broker's brook.max.partitions.per.request default). */
const DELETE_RECORDS_PARTITIONS_MAX = 10_000;
/** An offset JSON file larger than this is refused before it is read. */
const OFFSET_JSON_FILE_BYTES_MAX = 4 * 1024 * 1024;

/** A non-negative integer flag (or -1 where `allowMinusOne`), up to 2^53 - 1. */
function parseInteger(flag: string, value: string | undefined, allowMinusOne = false): number {
  if (value === undefined) throw new UsageError(`delete-records needs --${flag}`);
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || (n < 0 && !(allowMinusOne && n === -1)))
    throw new UsageError(`--${flag}: expected a non-negative integer${allowMinusOne ? ' or -1' : ''}, got "${value}"`);
  return n;
}

/** kafka-delete-records.sh's --offset-json-file: {"partitions":[{"topic","partition","offset"}],"version":1}. */
function readOffsetJsonFile(file: string): RecordsToDelete[] {
  let text: string;
  try {
    if (fs.statSync(file).size > OFFSET_JSON_FILE_BYTES_MAX)
      throw new UsageError(`--offset-json-file: ${file} is larger than ${OFFSET_JSON_FILE_BYTES_MAX} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--offset-json-file: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--offset-json-file: ${file} is not JSON: ${(error as Error).message}`);
  }
  const partitions = (parsed as { partitions?: unknown } | null)?.partitions;
  if (!Array.isArray(partitions) || partitions.length === 0)
    throw new UsageError(`--offset-json-file: ${file} needs a non-empty "partitions" list`);
  if (partitions.length > DELETE_RECORDS_PARTITIONS_MAX)
    throw new UsageError(`--offset-json-file: more than ${DELETE_RECORDS_PARTITIONS_MAX} partitions`);
  return partitions.map((entry: unknown, i) => {
    const { topic, partition, offset } = (entry ?? {}) as Record<string, unknown>;
    const valid =
      typeof topic === 'string' &&
      topic !== '' &&
      Number.isSafeInteger(partition) &&
      (partition as number) >= 0 &&
      Number.isSafeInteger(offset) &&
      (offset as number) >= -1;
    if (!valid)
      throw new UsageError(
        `--offset-json-file: partitions[${i}] needs "topic" (a name), "partition" (>= 0) and "offset" (>= -1)`,
      );
    return { topic: topic as string, partition: partition as number, offset: offset as number };
  });
}

async function deleteRecordsVerb(argv: string[]): Promise<number> {
  const { positionals, flags } = parseOptions(
    argv,
    ['topic', 'partition', 'offset', 'offset-json-file', 'timeout-ms'],
    [],
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  let wanted: RecordsToDelete[];
  if (flags['offset-json-file'] !== undefined) {
    if (flags.topic !== undefined || flags.partition !== undefined || flags.offset !== undefined)
      throw new UsageError('delete-records takes --offset-json-file or --topic/--partition/--offset, not both');
    wanted = readOffsetJsonFile(flags['offset-json-file']);
  } else {
    if (flags.topic === undefined || flags.topic === '') throw new UsageError('delete-records needs --topic');
    wanted = [
      {
        topic: flags.topic,
        partition: parseInteger('partition', flags.partition),
        offset: parseInteger('offset', flags.offset, true),
      },
    ];
  }
  const timeoutMs =
    flags['timeout-ms'] === undefined ? 30_000 : Math.min(parseInteger('timeout-ms', flags['timeout-ms']), 2 ** 31 - 1);
  return withBroker(flags.bootstrap ?? DEFAULT_BOOTSTRAP, flags, async (connection) => {
    const results = await connection.admin.deleteRecords(wanted, { timeoutMs });
    const text = table(
      ['TOPIC', 'PARTITION', 'LOW WATERMARK', 'ERROR'],
      results.map((r) => [r.topic, r.partition, r.error === null ? r.lowWatermark : '-', r.error ?? '']),
    );
    print(flags.json === 'true', results, text);
    return results.every((r) => r.errorCode === ErrorCode.NONE) ? 0 : 1;
  });
}

export async function topicsCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined) {
    process.stderr.write(TOPICS_HELP);
    return 2;
  }
  if (verb === '--help' || verb === 'help' || rest.includes('--help')) {
    process.stdout.write(TOPICS_HELP);
    return 0;
  }
  switch (verb) {
    case 'create':
      return create(rest);
    case 'list':
      return list(rest);
    case 'describe':
      return describe(rest);
    case 'delete':
      return remove(rest);
    case 'delete-records':
      return deleteRecordsVerb(rest);
    case 'alter-config':
      return alterConfig(rest);
    default:
      throw new UsageError(
        `unknown topics verb "${verb}" (create, list, describe, delete, alter-config, delete-records)`,
      );
  }
}
