// `brook consume`: records of a topic to stdout through the bundled consumer, from the
// beginning, the end, an offset or a timestamp, alone or in a group, as text (a kcat-like
// format string) or JSON lines; --exit stops at the end offsets seen at start. With a known
// end (--exit or --count), records going to a file or pipe, and stderr a terminal, a
// progress line shows how far it has read.

import { AssignorName, Consumer, ConsumerRecord, TopicPartitionOffset } from '../client/consumer';
import { Cluster } from '../client/cluster';
import { parseHostPort } from '../config/config';
import { optionalPartition, parseArgs, topicAndBootstrap, UsageError } from './args';
import { CliError } from './admin-client';
import { ProgressBar, progressWanted, ProgressState } from './progress';
import { AuthenticationFailedError } from '../net/kafka-connection';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const CONSUME_HELP = `Usage:
  brook consume --topic T [--bootstrap HOST:PORT] [--partition N]
                [--from beginning|end|OFFSET|@TIMESTAMP_MS] [--group G]
                [--assignor range|roundrobin|cooperative-sticky]
                [--format FORMAT | --json] [--encoding text|base64|hex]
                [--count N] [--exit] [--no-progress]

Without --group every partition (or --partition N) is read, from --from (default end).
With --group the consumer joins the group, starts from its committed offsets (else from
--from beginning or end) and commits what it printed; --assignor picks the partition
assignor it proposes to the group (default range; cooperative-sticky rebalances
incrementally, so other members keep reading while one joins or leaves). --exit stops at the end offsets
seen at start; --count N stops after N records. With either, when the records go to a
file or a pipe and stderr is a terminal, a progress line (records, MB, rate, share of the
way to the end) is drawn on stderr and cleared at the end; --no-progress turns it off.

FORMAT (default "%v\\n") takes: %t topic, %p partition, %o offset, %k key, %v value,
%T timestamp (ms), %h headers (k=v,...), \\n, \\t. --json prints one JSON object per
record with topic, partition, offset, timestamp, key, value and headers. --encoding
says how keys, values and header values are written, in both: text (UTF-8, the default),
base64 or hex (for binary data, which UTF-8 would mangle).

${CONNECTION_HELP}`;

type Encoding = 'text' | 'base64' | 'hex';

function encode(bytes: Buffer | null, encoding: Encoding): string | null {
  if (bytes === null) return null;
  return encoding === 'text' ? bytes.toString('utf8') : bytes.toString(encoding);
}

function render(format: string, r: ConsumerRecord, encoding: Encoding): string {
  return format.replace(/%[tpokvTh%]|\\n|\\t/g, (token) => {
    switch (token) {
      case '%t':
        return r.topic;
      case '%p':
        return String(r.partition);
      case '%o':
        return String(r.offset);
      case '%k':
        return encode(r.key, encoding) ?? '';
      case '%v':
        return encode(r.value, encoding) ?? '';
      case '%T':
        return String(r.timestamp);
      case '%h':
        return r.headers.map((h) => `${h.key}=${encode(h.value, encoding) ?? ''}`).join(',');
      case '%%':
        return '%';
      case '\\n':
        return '\n';
      default:
        return '\t';
    }
  });
}

export async function consumeCommand(argv: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(
    argv,
    [
      'bootstrap',
      'topic',
      'partition',
      'from',
      'group',
      'format',
      'count',
      'assignor',
      'encoding',
      ...CONNECTION_FLAGS,
    ],
    ['json', 'exit', 'help', 'no-progress'],
  );
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
    if (!Number.isInteger(count) || count < 1)
      throw new UsageError(`--count: expected a positive integer, got "${flags.count}"`);
  }
  const assignor = flags.assignor ?? 'range';
  if (!['range', 'roundrobin', 'cooperative-sticky'].includes(assignor))
    throw new UsageError(`--assignor: expected range, roundrobin or cooperative-sticky, got "${assignor}"`);
  if (flags.assignor !== undefined && !flags.group) throw new UsageError('--assignor needs --group');
  if (flags.group && typeof start === 'number')
    throw new UsageError('--from OFFSET cannot be used with --group (the group has its own offsets)');
  const format = flags.format ?? '%v\\n';
  const encoding = (flags.encoding ?? 'text') as Encoding;
  if (!['text', 'base64', 'hex'].includes(encoding))
    throw new UsageError(`--encoding: expected text, base64 or hex, got "${flags.encoding}"`);

  const security = clientSecurity(flags);
  const cluster = new Cluster({ bootstrap: [bootstrap], clientId: 'brook-cli', connectTimeoutMs: 5000, security });
  let partitions: number[];
  try {
    const [meta] = await cluster.refreshMetadata([topic]);
    if (!meta || meta.errorCode !== 0) throw new CliError(`topic ${topic} does not exist`);
    partitions = meta.partitions.map((p) => p.partition);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof AuthenticationFailedError) throw new CliError(error.message);
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  } finally {
    cluster.close();
  }
  if (only !== undefined && !partitions.includes(only)) throw new CliError(`topic ${topic} has no partition ${only}`);

  const consumer = new Consumer({
    bootstrap: [bootstrap],
    clientId: 'brook-cli',
    security,
    groupId: flags.group,
    assignor: assignor as AssignorName,
    autoOffsetReset: start === 'earliest' ? 'earliest' : 'latest',
    connectTimeoutMs: 5000,
  });
  const stop = () => void consumer.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let printed = 0;
  let bytes = 0;
  const started = Date.now();
  let ends: Map<string, number> | null = null;
  // Where each partition stood when first known, so the --exit share counts from there.
  const startedAt = new Map<string, number>();
  const progress = (): ProgressState => {
    const state: ProgressState = { label: 'consume', records: printed, bytes, elapsedMs: Date.now() - started };
    if (ends) {
      let done = 0;
      let total = 0;
      for (const p of consumer.assignment()) {
        const id = `${p.topic}-${p.partition}`;
        const at = consumer.position(p.topic, p.partition);
        const end = ends.get(id) ?? 0;
        if (at >= 0 && !startedAt.has(id)) startedAt.set(id, Math.min(at, end));
        const from = startedAt.get(id) ?? end;
        done += Math.max(0, Math.min(at, end) - from);
        total += Math.max(0, end - from);
      }
      state.total = { done, total };
    } else if (count !== Infinity) state.total = { done: printed, total: count };
    return state;
  };
  // Records on the terminal would be torn by a progress line: only when they go elsewhere.
  const bar = new ProgressBar(
    process.stderr,
    progress,
    progressWanted(flags) && !process.stdout.isTTY && (flags.exit !== undefined || count !== Infinity),
  );
  try {
    if (flags.group) await consumer.subscribe([topic]);
    else
      consumer.assign(
        (only === undefined ? partitions : [only]).map((partition) => ({ topic, partition, offset: start })),
      );
    ends = flags.exit ? await consumer.endOffsets() : null;
    bar.start();
    const done = () =>
      ends !== null &&
      consumer.bufferedCount === 0 &&
      consumer.assignment().every((p) => {
        const end = ends!.get(`${p.topic}-${p.partition}`) ?? 0;
        const at = consumer.position(p.topic, p.partition);
        return at >= 0 && at >= end;
      });
    // One next() at a time, kept across ticks: a tick only looks at done() again. (A new
    // next() per tick would leave the old ones waiting, each to take a record unprinted.)
    let pending: Promise<ConsumerRecord | null> | null = null;
    while (printed < count) {
      if (pending === null) {
        if (done()) break;
        pending = consumer.next();
      }
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((r) => (timer = setTimeout(() => r('tick'), 200)));
      const record = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (record === 'tick') {
        // A pending next() that had its record would have won the race: none is lost here.
        if (done()) break;
        continue;
      }
      pending = null;
      if (record === null) break;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, key: encode(record.key, encoding), value: encode(record.value, encoding), headers: Object.fromEntries(record.headers.map((h) => [h.key, encode(h.value, encoding)])) })}\n`,
        );
      } else process.stdout.write(render(format, record, encoding));
      printed++;
      bytes += (record.value?.length ?? 0) + (record.key?.length ?? 0);
    }
  } finally {
    bar.finish();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await consumer.close();
  }
  return 0;
}
