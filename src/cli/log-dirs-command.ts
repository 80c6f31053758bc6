// `brook log-dirs`: each broker's log directory with its volume's size and free space and the
// partitions it holds, with their size on disk and offset lag (DescribeLogDirs, as
// kafka-log-dirs.sh --describe); --topic narrows the partitions, --by-topic sums them per topic.

import { parseArgs, UsageError } from './args';
import { table, withAdmin } from './admin-client';
import { errorInfo } from '../../protocol/errors';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const LOG_DIRS_HELP = `Usage:
  brook log-dirs [--broker ID,ID,...] [--topic T] [--by-topic] [--bootstrap HOST:PORT] [--json]

Asks each broker (or those given) for its log directory: the volume's total and usable
bytes, and every partition replica there with its size on disk and offset lag (how far a
follower is behind the leader's high watermark; 0 on a leader). --by-topic sums the sizes
per topic and broker. --bootstrap defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

function parseBrokers(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((part) => {
    const id = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(id) || id < 0)
      throw new UsageError(`--broker: "${part}" is not a broker id (a non-negative integer)`);
    return id;
  });
}

const bytes = (n: number) => (n < 0 ? '-' : String(n));

export async function logDirsCommand(argv: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(
    argv,
    ['bootstrap', 'broker', 'topic', ...CONNECTION_FLAGS],
    ['by-topic', 'json', 'help'],
  );
  if (flags.help || positionals[0] === 'help') {
    process.stdout.write(LOG_DIRS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const brokerIds = parseBrokers(flags.broker);
  const described = await withAdmin(flags.bootstrap ?? '127.0.0.1:9092', clientSecurity(flags), (admin) =>
    admin.describeLogDirs(brokerIds),
  );
  const topic = flags.topic;
  for (const broker of described)
    for (const dir of broker.logDirs)
      if (topic !== undefined) dir.partitions = dir.partitions.filter((p) => p.topic === topic);
  const failed = described.some((b) => b.error !== null || b.logDirs.some((d) => d.errorCode !== 0));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(described, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  let text = table(
    ['BROKER', 'LOG DIR', 'STATUS', 'TOTAL BYTES', 'USABLE BYTES', 'PARTITIONS'],
    described.flatMap((b) =>
      b.logDirs.map((d) => [
        b.brokerId,
        d.path,
        d.errorCode === 0 ? 'online' : errorInfo(d.errorCode).name,
        bytes(d.totalBytes),
        bytes(d.usableBytes),
        d.partitions.length,
      ]),
    ),
  );
  text += '\n';
  for (const b of described) if (b.error !== null) text += `broker ${b.brokerId}: ${b.error}\n`;
  if (flags['by-topic'] === 'true') {
    const sums = new Map<string, { broker: number; topic: string; partitions: number; size: number }>();
    for (const b of described)
      for (const d of b.logDirs)
        for (const p of d.partitions) {
          const key = `${b.brokerId}\u0000${p.topic}`;
          const entry = sums.get(key) ?? { broker: b.brokerId, topic: p.topic, partitions: 0, size: 0 };
          entry.partitions++;
          entry.size += p.sizeBytes;
          sums.set(key, entry);
        }
    text += table(
      ['BROKER', 'TOPIC', 'PARTITIONS', 'SIZE BYTES'],
      [...sums.values()]
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.broker - b.broker)
        .map((s) => [s.broker, s.topic, s.partitions, s.size]),
    );
  } else {
    const rows = described.flatMap((b) =>
      b.logDirs.flatMap((d) =>
        d.partitions
          .slice()
          .sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition)
          .map((p) => [b.brokerId, p.topic, p.partition, p.sizeBytes, p.offsetLag]),
      ),
    );
    text +=
      rows.length === 0 ? 'no partitions\n' : table(['BROKER', 'TOPIC', 'PARTITION', 'SIZE BYTES', 'OFFSET LAG'], rows);
  }
  process.stdout.write(text);
  return failed ? 1 : 0;
}
