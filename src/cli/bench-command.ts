// `brook bench produce|consume`: a quick throughput check from the command line with the
// bundled client (a full, repeatable comparison is `npm run bench`). Shows a progress line
// on stderr while it runs (a terminal only, not with --json or --no-progress) and prints records/s, MB/s and latency percentiles (HDR
// histogram) at the end, or JSON with --json.

import * as hdr from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import { Consumer } from '../client/consumer';
import { Producer } from '../client/producer';
import { parseHostPort } from '../config/config';
import { parseArgs, topicAndBootstrap, UsageError } from './args';
import { CliError } from './admin-client';
import { ProgressBar, progressWanted } from './progress';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const BENCH_HELP = `Usage:
  brook bench produce --topic T [--records N] [--record-size BYTES] [--acks 0|1|all]
                      [--batch-size BYTES] [--linger-ms N] [--compression C] [--bootstrap HOST:PORT] [--json]
                      [--no-progress]
  brook bench consume --topic T [--records N] [--timeout-ms N] [--bootstrap HOST:PORT] [--json]
                      [--no-progress]

produce sends N records (default 100000) of --record-size bytes (default 1024) with the
bundled producer and reports records/s, MB/s and send-to-acknowledgement latency (p50,
p99, p99.9, max). consume reads N records of the topic from the beginning and reports the
rate; with fewer than N in the topic it stops after --timeout-ms (default 120000) and
exits 1. A progress line (done of N, MB, rate) is redrawn on stderr when it is a terminal,
at most ten times a second, and cleared before the results; --no-progress turns it off.

${CONNECTION_HELP}`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a positive integer, got "${value}"`);
  return n;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    // Without a verb the help is a usage error: it goes to stderr, as other usage errors do.
    (verb === undefined ? process.stderr : process.stdout).write(BENCH_HELP);
    return verb === undefined ? 2 : 0;
  }
  if (verb !== 'produce' && verb !== 'consume') throw new UsageError(`unknown bench verb "${verb}" (produce, consume)`);
  const { positionals, flags } = parseArgs(
    rest,
    [
      'bootstrap',
      'topic',
      'records',
      'record-size',
      'acks',
      'batch-size',
      'linger-ms',
      'compression',
      'timeout-ms',
      ...CONNECTION_FLAGS,
    ],
    ['json', 'help', 'no-progress'],
  );
  if (flags.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  const { topic, bootstrap } = topicAndBootstrap(positionals, flags, parseHostPort);
  const records = positiveInt('records', flags.records, 100_000);
  const timeoutMs = positiveInt('timeout-ms', flags['timeout-ms'], 120_000);
  if (flags['timeout-ms'] !== undefined && verb !== 'consume')
    throw new UsageError('--timeout-ms is for bench consume');
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let bytes = 0;
  let done = 0;
  let sent = 0;
  const started = performance.now();
  const bar = new ProgressBar(
    process.stderr,
    () => ({
      label: verb,
      records: verb === 'produce' ? sent : done,
      acknowledged: verb === 'produce' ? done : undefined,
      bytes,
      elapsedMs: performance.now() - started,
      total: { done, total: records },
    }),
    progressWanted(flags),
  );
  try {
    if (verb === 'produce') {
      const size = positiveInt('record-size', flags['record-size'], 1024);
      const acksFlag = flags.acks ?? 'all';
      if (!['0', '1', 'all'].includes(acksFlag))
        throw new UsageError(`--acks: expected 0, 1 or all, got "${acksFlag}"`);
      const acks = acksFlag === 'all' ? 'all' : (Number(acksFlag) as 0 | 1);
      const compression = flags.compression ?? 'none';
      if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(compression))
        throw new UsageError(`--compression: expected none, gzip, snappy, lz4 or zstd, got "${compression}"`);
      const producer = new Producer({
        bootstrap: [bootstrap],
        clientId: 'brook-bench',
        security: clientSecurity(flags),
        acks,
        idempotent: acks === 'all',
        compression: compression as 'none',
        batchSize: positiveInt('batch-size', flags['batch-size'], 256 * 1024),
        lingerMs: flags['linger-ms'] === undefined ? 5 : positiveInt('linger-ms', flags['linger-ms'], 5),
        bufferMemory: 64 * 1024 * 1024,
        connectTimeoutMs: 5000,
      });
      try {
        await producer.connect();
      } catch (error) {
        throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
      }
      const value = Buffer.alloc(size, 0x78);
      let failed: Error | null = null;
      bar.start();
      const window: Promise<unknown>[] = [];
      for (let i = 0; i < records && !failed; i++) {
        const sentAt = performance.now();
        sent++;
        window.push(
          producer.send({ topic, value }).then(
            () => {
              done++;
              bytes += size;
              histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
            },
            (error: Error) => (failed ??= error),
          ),
        );
        if (window.length >= 8192) await Promise.all(window.splice(0, 4096));
      }
      await Promise.all(window);
      // Every record's failure was caught above (failed); close only flushes what is left.
      await producer.close().catch(() => undefined);
      if (failed) throw new CliError(`produce failed: ${(failed as Error).message}`);
      bytes = records * size;
    } else {
      const consumer = new Consumer({
        bootstrap: [bootstrap],
        clientId: 'brook-bench',
        connectTimeoutMs: 5000,
        security: clientSecurity(flags),
      });
      try {
        const meta = await consumer.cluster.refreshMetadata([topic]);
        if (!meta[0] || meta[0].errorCode !== 0) throw new CliError(`topic ${topic} does not exist`);
        consumer.assign(
          meta[0].partitions.map((p) => ({ topic, partition: p.partition, offset: 'earliest' as const })),
        );
      } catch (error) {
        await consumer.close();
        if (error instanceof CliError) throw error;
        throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
      }
      bar.start();
      let last = performance.now();
      // next() waits for records as long as it takes; at the deadline the consumer is closed,
      // and next() answers null.
      const deadline = setTimeout(() => void consumer.close(), timeoutMs);
      while (done < records) {
        const record = await consumer.next();
        if (!record) break;
        const now = performance.now();
        histogram.recordValue(Math.max(1, Math.round((now - last) * 1000)));
        last = now;
        bytes += (record.value?.length ?? 0) + (record.key?.length ?? 0);
        done++;
      }
      clearTimeout(deadline);
      await consumer.close();
      if (done < records) throw new CliError(`only ${done} of ${records} records in ${topic} within ${timeoutMs} ms`);
    }
  } finally {
    bar.finish();
  }
  const seconds = (performance.now() - started) / 1000;
  const result = {
    verb,
    topic,
    records,
    seconds,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    latencyMs: {
      p50: histogram.getValueAtPercentile(50) / 1000,
      p99: histogram.getValueAtPercentile(99) / 1000,
      p999: histogram.getValueAtPercentile(99.9) / 1000,
      max: histogram.maxValue / 1000,
    },
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const what = verb === 'produce' ? 'send to acknowledgement' : 'between records';
    process.stdout.write(
      `${records} records in ${seconds.toFixed(2)} s: ${Math.round(result.recordsPerSecond).toLocaleString('en-US')} records/s, ${result.megabytesPerSecond.toFixed(1)} MB/s\n`,
    );
    process.stdout.write(
      `latency (${what}): p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, p99.9 ${result.latencyMs.p999.toFixed(2)} ms, max ${result.latencyMs.max.toFixed(2)} ms\n`,
    );
  }
  return 0;
}
