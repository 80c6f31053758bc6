// `brook producers describe`: the active idempotent producers of a topic's partitions, asked
// of each partition's leader (DescribeProducers, as kafka-transactions.sh describe-producers).

import { parseArgs, UsageError } from './args';
import { nonNegativeInteger, table, withAdmin } from './admin-client';
import { errorInfo } from '../../protocol/errors';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const PRODUCERS_HELP = `Usage:
  brook producers describe --topic T [--partition N] [--bootstrap HOST:PORT] [--json]

Lists, per partition, the producers its leader remembers: producer id, epoch, last
sequence number, the time of its last batch, the coordinator epoch and the start offset of
an open transaction (-1: Brook has no transactions). --bootstrap defaults to
127.0.0.1:9092.

${CONNECTION_HELP}`;

async function describe(rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'topic', 'partition', ...CONNECTION_FLAGS],
    ['json', 'help'],
  );
  if (flags.help) {
    process.stdout.write(PRODUCERS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const topic = flags.topic;
  if (!topic) throw new UsageError('--topic is required');
  const partitions =
    flags.partition === undefined ? undefined : [nonNegativeInteger(flags, 'partition', 'a partition number')];
  const described = await withAdmin(flags.bootstrap ?? '127.0.0.1:9092', clientSecurity(flags), (admin) =>
    admin.describeProducers(topic, partitions),
  );
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(described, null, 2)}\n`);
  } else {
    const rows: (string | number)[][] = [];
    for (const p of described) {
      if (p.errorCode !== 0) rows.push([p.partition, errorInfo(p.errorCode).name, '-', '-', '-', '-', '-']);
      for (const s of p.producers)
        rows.push([
          p.partition,
          s.producerId,
          s.producerEpoch,
          s.lastSequence,
          s.lastTimestamp >= 0 ? new Date(s.lastTimestamp).toISOString() : '-',
          s.coordinatorEpoch,
          s.currentTxnStartOffset,
        ]);
    }
    process.stdout.write(
      rows.length === 0
        ? 'no active producers\n'
        : table(
            [
              'PARTITION',
              'PRODUCER ID',
              'EPOCH',
              'LAST SEQUENCE',
              'LAST TIMESTAMP',
              'COORDINATOR EPOCH',
              'TXN START OFFSET',
            ],
            rows,
          ),
    );
  }
  return described.some((p) => p.errorCode !== 0) ? 1 : 0;
}

export async function producersCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'describe':
      return describe(rest);
    case undefined:
    case 'help':
    case '--help':
      (verb === undefined ? process.stderr : process.stdout).write(PRODUCERS_HELP);
      return verb === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown producers verb "${verb}" (try: brook producers --help)`);
  }
}
