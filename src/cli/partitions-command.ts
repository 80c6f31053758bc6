// `brook partitions reassign|list-reassignments|elect-leaders`: moves a partition's replicas
// between brokers while traffic continues (AlterPartitionReassignments), cancels a move,
// shows the moves in progress (ListPartitionReassignments), and elects leaders (preferred or
// unclean, ElectLeaders, as kafka-leader-election.sh). Any broker takes the request; a broker
// that is not the active controller forwards it.

import { parseArgs, UsageError } from './args';
import { check, CliError, connectBootstrap, nonNegativeInteger, table, withAdmin } from './admin-client';
import { errorInfo } from '../../protocol/errors';
import { ApiKey } from '../../protocol/api-keys';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const PARTITIONS_HELP = `Usage:
  brook partitions reassign --topic T --partition N --replicas ID,ID,... [--bootstrap HOST:PORT] [--json]
  brook partitions reassign --topic T --partition N --cancel [--bootstrap HOST:PORT] [--json]
  brook partitions list-reassignments [--topic T] [--bootstrap HOST:PORT] [--json]
  brook partitions elect-leaders --election-type preferred|unclean (--topic T --partition N | --all-topic-partitions)
                                [--bootstrap HOST:PORT] [--json]

reassign gives the partition a new replica list (the first is its preferred leader). New
replicas copy the log from the leader; once they are all in the ISR the old ones are
dropped, and a leader that is not in the new list hands over. The command returns when the
reassignment is accepted; list-reassignments shows those still copying. --cancel puts the
partition back on its original replicas. --bootstrap defaults to 127.0.0.1:9092.

elect-leaders, as kafka-leader-election.sh: preferred moves leadership back to the first
replica when it is in the ISR; unclean gives a partition without a leader one, from outside
the ISR if no ISR member is alive (records the others hold and it lacks are lost). With
--all-topic-partitions every partition is tried and only those that needed an election are
listed. Exit status 1 when an election failed.

${CONNECTION_HELP}`;

function parseReplicas(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '')
    throw new UsageError('--replicas: expected broker ids separated by commas, e.g. --replicas 1,2,3');
  return value.split(',').map((part) => {
    const id = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(id) || id < 0)
      throw new UsageError(`--replicas: "${part}" is not a broker id (a non-negative integer)`);
    return id;
  });
}

async function reassign(rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'topic', 'partition', 'replicas', ...CONNECTION_FLAGS],
    ['cancel', 'json', 'help'],
  );
  if (flags.help) {
    process.stdout.write(PARTITIONS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const topic = flags.topic;
  if (!topic) throw new UsageError('--topic is required');
  const partition = Number(flags.partition);
  if (flags.partition === undefined || !Number.isInteger(partition) || partition < 0)
    throw new UsageError(`--partition: expected a partition number, got ${JSON.stringify(flags.partition ?? null)}`);
  if (flags.cancel && flags.replicas !== undefined)
    throw new UsageError('give either --replicas or --cancel, not both');
  const replicas = flags.cancel ? null : parseReplicas(flags.replicas as string | undefined);
  const connection = await connectBootstrap(
    (flags.bootstrap as string) ?? '127.0.0.1:9092',
    30_000,
    clientSecurity(flags),
  );
  try {
    const answer = await connection.request(ApiKey.AlterPartitionReassignments, 0, {
      timeoutMs: 30_000,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, replicas }] }],
    });
    check(answer.errorCode, 'reassignment refused');
    const result = answer.responses[0]?.partitions[0];
    if (!result) throw new CliError('the broker gave no answer for the partition');
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ topic, partition, replicas, errorCode: result.errorCode, message: result.errorMessage }, null, 2)}\n`,
      );
    if (result.errorCode !== 0 && !flags.json)
      check(result.errorCode, `${topic}-${partition}${result.errorMessage ? ` (${result.errorMessage})` : ''}`);
    if (result.errorCode !== 0) return 1;
    if (!flags.json)
      process.stdout.write(
        replicas
          ? `reassignment of ${topic}-${partition} to [${replicas.join(', ')}] accepted\n`
          : `reassignment of ${topic}-${partition} cancelled\n`,
      );
    return 0;
  } finally {
    connection.close();
  }
}

async function listReassignments(rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(rest, ['bootstrap', 'topic', ...CONNECTION_FLAGS], ['json', 'help']);
  if (flags.help) {
    process.stdout.write(PARTITIONS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const connection = await connectBootstrap(
    (flags.bootstrap as string) ?? '127.0.0.1:9092',
    undefined,
    clientSecurity(flags),
  );
  try {
    let topics = null;
    if (flags.topic) {
      const meta = await connection.request(ApiKey.Metadata, 9, {
        topics: [{ name: flags.topic }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      const found = meta.topics[0];
      check(found?.errorCode ?? 3, `topic ${flags.topic}`);
      topics = [
        {
          name: flags.topic,
          partitionIndexes: found.partitions.map((p: { partitionIndex: number }) => p.partitionIndex),
        },
      ];
    }
    const answer = await connection.request(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 30_000, topics });
    check(answer.errorCode, 'list-reassignments');
    const rows: { topic: string; partition: number; replicas: number[]; adding: number[]; removing: number[] }[] = [];
    for (const t of answer.topics)
      for (const p of t.partitions)
        rows.push({
          topic: t.name,
          partition: p.partitionIndex,
          replicas: p.replicas,
          adding: p.addingReplicas,
          removing: p.removingReplicas,
        });
    if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) process.stdout.write('no reassignments in progress\n');
    else
      process.stdout.write(
        table(
          ['TOPIC', 'PARTITION', 'REPLICAS', 'ADDING', 'REMOVING'],
          rows.map((r) => [
            r.topic,
            r.partition,
            r.replicas.join(','),
            r.adding.join(',') || '-',
            r.removing.join(',') || '-',
          ]),
        ),
      );
    return 0;
  } finally {
    connection.close();
  }
}

async function electLeaders(rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'topic', 'partition', 'election-type', ...CONNECTION_FLAGS],
    ['all-topic-partitions', 'json', 'help'],
  );
  if (flags.help) {
    process.stdout.write(PARTITIONS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const electionType = flags['election-type'];
  if (electionType !== 'preferred' && electionType !== 'unclean')
    throw new UsageError(`--election-type: expected preferred or unclean, got ${JSON.stringify(electionType ?? null)}`);
  const all = flags['all-topic-partitions'] === 'true';
  if (all && (flags.topic !== undefined || flags.partition !== undefined))
    throw new UsageError('give either --all-topic-partitions or --topic and --partition, not both');
  if (!all && flags.topic === undefined)
    throw new UsageError('--topic and --partition (or --all-topic-partitions) are required');
  const partitions = all
    ? null
    : [{ topic: flags.topic, partition: nonNegativeInteger(flags, 'partition', 'a partition number') }];
  const bootstrap = flags.bootstrap ?? '127.0.0.1:9092';
  const results = await withAdmin(bootstrap, clientSecurity(flags), (admin) =>
    admin.electLeaders(electionType, partitions),
  );
  if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (results.length === 0) process.stdout.write('no partition needed an election\n');
  else
    for (const r of results) {
      if (r.errorCode === 0)
        process.stdout.write(
          `Successfully completed leader election (${electionType}) for ${r.topic}-${r.partition}\n`,
        );
      else {
        const info = errorInfo(r.errorCode);
        process.stdout.write(
          `Election (${electionType}) for ${r.topic}-${r.partition}: ${info.name} (${r.errorCode}): ${r.errorMessage || info.message}\n`,
        );
      }
    }
  return results.some((r) => r.errorCode !== 0 && r.errorCode !== 84) ? 1 : 0;
}

export async function partitionsCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'reassign':
      return reassign(rest);
    case 'list-reassignments':
      return listReassignments(rest);
    case 'elect-leaders':
      return electLeaders(rest);
    case undefined:
    case 'help':
    case '--help':
      // Without a verb the help is a usage error: it goes to stderr, as other usage errors do.
      (verb === undefined ? process.stderr : process.stdout).write(PARTITIONS_HELP);
      return verb === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown partitions verb "${verb}" (try: brook partitions --help)`);
  }
}
