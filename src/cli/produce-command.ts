// `brook produce`: lines from stdin or a file become records, through the bundled
// producer (batched, idempotent with acks=all). A key separator splits each line into key
// and value; headers, a fixed partition, acks and compression are flags. Prints a summary
// (records, partitions, seconds) on stderr, or JSON on stdout with --json; on a terminal a
// progress line (sent, acknowledged, MB, rate, and how much of --file is read) meanwhile.

import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { OutstandingLimit } from '../client/outstanding-limit';
import { Producer } from '../client/producer';
import { parseHostPort } from '../config/config';
import { optionalPartition, parseArgs, topicAndBootstrap, UsageError } from './args';
import { CliError } from './admin-client';
import { ProgressBar, progressWanted } from './progress';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

/** Sends awaiting their answer at most; reading the input pauses there. */
const OUTSTANDING_MAX = 10_000;

export const PRODUCE_HELP = `Usage:
  brook produce --topic T [--bootstrap HOST:PORT] [--file F] [--key-separator SEP]
                [--header K=V ...] [--partition N] [--acks 0|1|all]
                [--compression none|gzip|snappy|lz4|zstd] [--linger-ms N] [--json]
                [--no-progress]

Each line of stdin (or of --file) is one record. With --key-separator the text before the
first separator is the key and the rest the value. Records without a partition go by key
hash (the Java client's partitioner) or, keyless, to a sticky partition. acks=all (the
default) is idempotent: a retried batch is not stored twice. Exit code 0 when every record
was stored, 1 otherwise (the first error is printed). When stderr is a terminal (and
without --json or --no-progress) a progress line shows records sent and acknowledged, MB,
the rate and, with --file, how much of the file is read; it is cleared at the end.

${CONNECTION_HELP}`;

export async function produceCommand(argv: string[]): Promise<number> {
  const { positionals, flags, lists } = parseArgs(
    argv,
    [
      'bootstrap',
      'topic',
      'file',
      'key-separator',
      'partition',
      'acks',
      'compression',
      'linger-ms',
      ...CONNECTION_FLAGS,
    ],
    ['json', 'help', 'no-progress'],
    ['header'],
  );
  if (flags.help) {
    process.stdout.write(PRODUCE_HELP);
    return 0;
  }
  const { topic, bootstrap } = topicAndBootstrap(positionals, flags, parseHostPort);
  const partition = optionalPartition(flags);
  const acksFlag = flags.acks ?? 'all';
  if (!['0', '1', 'all', '-1'].includes(acksFlag))
    throw new UsageError(`--acks: expected 0, 1 or all, got "${acksFlag}"`);
  const acks = acksFlag === 'all' || acksFlag === '-1' ? 'all' : (Number(acksFlag) as 0 | 1);
  const compression = flags.compression ?? 'none';
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(compression))
    throw new UsageError(`--compression: expected none, gzip, snappy, lz4 or zstd, got "${compression}"`);
  const lingerMs = flags['linger-ms'] === undefined ? 5 : Number(flags['linger-ms']);
  if (!Number.isInteger(lingerMs) || lingerMs < 0)
    throw new UsageError(`--linger-ms: expected a non-negative integer, got "${flags['linger-ms']}"`);
  const headers = lists.header.map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header: expected KEY=VALUE, got "${h}"`);
    return { key: h.slice(0, eq), value: h.slice(eq + 1) };
  });
  const separator = flags['key-separator'];
  if (separator === '') throw new UsageError('--key-separator must not be empty');
  if (flags.file && !fs.existsSync(flags.file)) throw new CliError(`--file: ${flags.file} does not exist`);

  const producer = new Producer({
    bootstrap: [bootstrap],
    clientId: 'brook-cli',
    security: clientSecurity(flags),
    acks,
    idempotent: acks === 'all',
    compression: compression as 'none',
    lingerMs,
    maxBlockMs: 30_000,
    deliveryTimeoutMs: 60_000,
    connectTimeoutMs: 5000,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  }
  const started = Date.now();
  const file = flags.file ? fs.createReadStream(flags.file) : null;
  const fileBytes = flags.file ? fs.statSync(flags.file).size : 0;
  const input = file ?? process.stdin;
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  // Counted, not kept: a big input never holds more than OUTSTANDING_MAX sends at once.
  let records = 0;
  let failed = 0;
  const outstanding = new OutstandingLimit(OUTSTANDING_MAX);
  const partitions = new Set<number>();
  let firstError: Error | null = null;
  let acknowledged = 0;
  let bytes = 0;
  const bar = new ProgressBar(
    process.stderr,
    () => ({
      label: 'produce',
      records,
      acknowledged,
      bytes,
      elapsedMs: Date.now() - started,
      total: file ? { done: file.bytesRead, total: fileBytes } : undefined,
    }),
    progressWanted(flags),
  ).start();
  try {
    for await (const line of lines) {
      let key: string | null = null;
      let value = line;
      if (separator !== undefined) {
        const at = line.indexOf(separator);
        if (at >= 0) {
          key = line.slice(0, at);
          value = line.slice(at + separator.length);
        }
      }
      records++;
      outstanding.add();
      producer.send({ topic, key, value, headers, partition }).then(
        (metadata) => {
          acknowledged++;
          partitions.add(metadata.partition);
          outstanding.done();
        },
        (error: Error) => {
          failed++;
          firstError ??= error;
          outstanding.done();
        },
      );
      bytes += Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key));
      if (outstanding.full) await outstanding.room();
    }
  } finally {
    await outstanding.drained();
    bar.finish();
  }
  // Every record's failure was reported where it was sent; close only flushes what is left.
  await producer.close().catch(() => undefined);
  const seconds = (Date.now() - started) / 1000;
  const sorted = [...partitions].sort((a, b) => a - b);
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ topic, records, stored: acknowledged, failed, partitions: sorted, seconds, error: (firstError as Error | null)?.message ?? null }, null, 2)}\n`,
    );
  else
    process.stderr.write(
      `${acknowledged} of ${records} records stored in ${topic} (partitions ${sorted.join(',') || '-'}) in ${seconds.toFixed(2)} s\n`,
    );
  if (firstError) {
    if (!flags.json) process.stderr.write(`brook produce: ${(firstError as Error).message}\n`);
    return 1;
  }
  return 0;
}
