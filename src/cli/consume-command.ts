// `brook consume`: records of a topic to stdout through the bundled consumer, from the
// beginning, the end, an offset or a timestamp, alone or in a group, as text (a kcat-like
// format string) or JSON lines; --exit stops at the end offsets seen at start.

import { Consumer, ConsumerRecord, TopicPartitionOffset } from '../client/consumer';
import { Cluster } from '../client/cluster';
import { parseHostPort } from '../config/config';
import { optionalPartition, parseArgs, topicAndBootstrap, UsageError } from './args';
import { CliError } from './admin-client';

export const CONSUME_HELP = `Usage:
  brook consume --topic T [--bootstrap HOST:PORT] [--partition N]
                [--from beginning|end|OFFSET|@TIMESTAMP_MS] [--group G]
                [--format FORMAT | --json] [--count N] [--exit]

Without --group every partition (or --partition N) is read, from --from (default end).
With --group the consumer joins the group, starts from its committed offsets (else from
--from beginning or end) and commits what it printed. --exit stops at the end offsets
seen at start; --count N stops after N records.

FORMAT (default "%v\\n") takes: %t topic, %p partition, %o offset, %k key, %v value,
%T timestamp (ms), %h headers (k=v,...), \\n, \\t. --json prints one JSON object per
record with topic, partition, offset, timestamp, key, value and headers (text as UTF-8).
`;

function render(format: string, r: ConsumerRecord): string {
  return format.replace(/%[tpokvTh%]|\\n|\\t/g, (token) => {
    switch (token) {
      case '%t': return r.topic;
      case '%p': return String(r.partition);
      case '%o': return String(r.offset);
      case '%k': return r.key?.toString() ?? '';
      case '%v': return r.value?.toString() ?? '';
      case '%T': return String(r.timestamp);
      case '%h': return r.headers.map((h) => `${h.key}=${h.value?.toString() ?? ''}`).join(',');
      case '%%': return '%';
      case '\\n': return '\n';
      default: return '\t';
    }
  });
}

export async function consumeCommand(argv: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(argv, ['bootstrap', 'topic', 'partition', 'from', 'group', 'format', 'count'], ['json', 'exit', 'help']);
  if (flags.help) {
    process.stdout.write(CONSUME_HELP);
    return 0;
  }
  const { topic, bootstrap } = topicAndBootstrap(positionals, flags, parseHostPort);
  const only = optionalPartition(flags);
  const from = flags.from ?? 'end';
  let start: TopicPartitionOffset['offset'];
  if (from === 'beginning') start = 'earliest';
  else if (from === 'end') start = 'latest';
  else if (/^@\d+$/.test(from)) start = { timestamp: Number(from.slice(1)) };
  else if (/^\d+$/.test(from)) start = Number(from);
  else throw new UsageError(`--from: expected beginning, end, an offset or @TIMESTAMP_MS, got "${from}"`);
  let count = Infinity;
  if (flags.count !== undefined) {
    count = Number(flags.count);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count: expected a positive integer, got "${flags.count}"`);
  }
  if (flags.group && typeof start === 'number') throw new UsageError('--from OFFSET cannot be used with --group (the group has its own offsets)');
  const format = flags.format ?? '%v\\n';

  const cluster = new Cluster({ bootstrap: [bootstrap], clientId: 'brook-cli', connectTimeoutMs: 5000 });
  let partitions: number[];
  try {
    const [meta] = await cluster.refreshMetadata([topic]);
    if (!meta || meta.errorCode !== 0) throw new CliError(`topic ${topic} does not exist`);
    partitions = meta.partitions.map((p) => p.partition);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  } finally {
    cluster.close();
  }
  if (only !== undefined && !partitions.includes(only)) throw new CliError(`topic ${topic} has no partition ${only}`);

  const consumer = new Consumer({ bootstrap: [bootstrap], clientId: 'brook-cli', groupId: flags.group, autoOffsetReset: start === 'earliest' ? 'earliest' : 'latest', connectTimeoutMs: 5000 });
  const stop = () => void consumer.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let printed = 0;
  try {
    if (flags.group) await consumer.subscribe([topic]);
    else consumer.assign((only === undefined ? partitions : [only]).map((partition) => ({ topic, partition, offset: start })));
    const ends = flags.exit ? await consumer.endOffsets() : null;
    const done = () => ends !== null && consumer.bufferedCount === 0 && consumer.assignment().every((p) => {
      const end = ends.get(`${p.topic}-${p.partition}`) ?? 0;
      const at = consumer.position(p.topic, p.partition);
      return at >= 0 && at >= end;
    });
    while (printed < count && !done()) {
      const record = await Promise.race([consumer.next(), new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200))]);
      if (record === null) break;
      if (record === 'tick') continue;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null, headers: Object.fromEntries(record.headers.map((h) => [h.key, h.value?.toString() ?? null])) })}\n`);
      } else process.stdout.write(render(format, record));
      printed++;
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await consumer.close();
  }
  return 0;
}
