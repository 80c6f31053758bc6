// Brook side by side with peers, measured in one run: producer throughput and latency
// (publish to acknowledgement, HDR percentiles) for 100 B, 1 KiB and 16 KiB records, one
// and four producers, against NATS JetStream (file storage) and Redis Streams (AOF on),
// each driven by a lean client written here that speaks its protocol directly; Brook
// through the same kind of lean client (pre-encoded Produce frames), through the bundled
// client (src/client Producer), and through kcat (librdkafka) as an independent client.
// Consumer throughput: after each one-producer sample, one consumer reads the stream back
// from its start (Brook's bundled Consumer, a JetStream pull consumer, Redis XREAD). An
// end-to-end row per phase adds a consumer: one producer paced at a fixed rate, latency
// from each record's due time to its acknowledgement and to its consumption. Two phases:
//   single:     Brook one node (RF1, acks=1 and acks=all, and the bundled producer with
//               acks=1), JetStream one server (R1), Redis (appendonly yes, appendfsync
//               everysec), kcat into Brook (1 KiB).
//   replicated: Brook three nodes (RF3, acks=all and acks=1, and the bundled producer
//               with acks=all; min.insync.replicas 2), JetStream three clustered servers (R3).
// Within a round every row runs each system once, in an order that rotates; rows run
// forwards in odd rounds and backwards in even ones, so noise on this shared machine
// weighs on all systems alike. Every server starts here on 127.0.0.1 with free ports and
// its data in a temporary directory, and is stopped by PID at the end.
// Usage: node dist/bench/peers/run.js [--quick] [--rounds N] [--duration-ms N]

import { execSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environment, uncommittedChanges, writeResult } from '../lib/env';
import { Brook, BrookBatching } from './brook';
import { JetStream } from './jetstream';
import { CpuMeter, killAllOnExit, printLogTails, stopAll } from '../lib/process';
import { REDIS_SETTINGS, Redis } from './redis';
import { EndToEndOutcome, EndToEndWorkload } from './end-to-end';
import {
  Collector,
  ConsumeCollector,
  consumeTable,
  EndToEndCollector,
  endToEndRatios,
  endToEndTable,
  Ratio,
  ratiosTable,
  rowsTable,
} from './report';
import { ConsumeOutcome, ProduceOutcome, ProduceWorkload } from './workload';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const ROUNDS = option('--rounds', quick ? 2 : 3);
const DURATION_MS = option('--duration-ms', quick ? 1000 : 4000);
const WARMUP_MS = quick ? 300 : 1500;
const listOption = (name: string, fallback: number[]) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1].split(',').map(Number) : fallback;
};
/** Record sizes to run (--record-sizes 100,1024,16384 runs them all). */
const RECORD_SIZES = listOption('--record-sizes', quick ? [1024] : [100, 1024, 16_384]);
const PRODUCER_COUNTS = [1, 4];
/** Peers publish record by record: this many in flight per producer. */
const peerWindow = (recordBytes: number) => (recordBytes >= 16_384 ? 256 : 1024);
/**
 * Brook's producers send record batches, as every Kafka client does: 512 KiB of values per
 * batch, half the broker's max.message.bytes (librdkafka's own batch.size default is
 * 1,000,000 bytes). With 64 KiB batches, 16 KiB records were only 4 per request and the
 * producer was bound by round trips, not by the broker.
 */
const BROOK_BATCHING: BrookBatching = { batchBytes: option('--brook-batch-bytes', 524_288), inflightPerConnection: 8 };
const KCAT_RECORDS = quick ? 50_000 : 400_000;
const KCAT_RECORD_BYTES = 1024;
const KCAT_SETTINGS = ['linger.ms=5', 'batch.num.messages=10000'];
const INSTALL_TIMEOUT_MS = 600_000;
/** End-to-end rows: one producer at this offered rate, one consumer. */
const END_TO_END_RATE_PER_SECOND = 10_000;
const END_TO_END_RECORD_BYTES = 1024;
const END_TO_END_ROW = `1 KiB at ${END_TO_END_RATE_PER_SECOND.toLocaleString('en')} msgs/s, 1 producer + 1 consumer`;
const SYSTEM_ORDER = [
  'Brook acks=1 RF1',
  'Brook acks=all RF1',
  'Brook bundled acks=1 RF1',
  'Brook via kcat acks=1 RF1',
  'JetStream R1',
  'Redis XADD',
  'Brook acks=all RF3',
  'Brook acks=1 RF3',
  'Brook bundled acks=all RF3',
  'JetStream R3',
  'Brook bundled Consumer RF1',
  'JetStream R1 pull consumer',
  'Redis XREAD',
  'Brook bundled Consumer RF3',
  'JetStream R3 pull consumer',
];

interface SystemUnderTest {
  name: string;
  pids: () => (number | undefined)[];
  hasLatency: boolean;
  /** Rows this system runs; all when absent. */
  runsRow?: (recordBytes: number, producers: number) => boolean;
  /** Reads back what it stored, on one-producer rows, with this consumer (its name in the tables). */
  consumer?: string;
  produce: (
    workload: ProduceWorkload,
    readBack: boolean,
  ) => Promise<ProduceOutcome & { detail?: Record<string, unknown>; consumed?: ConsumeOutcome }>;
  endToEnd?: (workload: EndToEndWorkload) => Promise<EndToEndOutcome>;
}

const rowName = (recordBytes: number, producers: number) =>
  `${recordBytes >= 1024 ? `${recordBytes / 1024} KiB` : `${recordBytes} B`} x ${producers} producer${producers > 1 ? 's' : ''}`;

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs missing peers from Debian packages when we are root; the commands still missing. */
function ensureInstalled(): string[] {
  const wanted = ['nats-server', 'redis-server', 'kcat'];
  const missing = wanted.filter((command) => !have(command));
  if (missing.length > 0 && process.getuid?.() === 0) {
    process.stdout.write(`installing ${missing.join(', ')} with apt-get\n`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', timeout: INSTALL_TIMEOUT_MS });
    spawnSync('apt-get', ['install', '-y', '-qq', ...missing], {
      stdio: 'inherit',
      timeout: INSTALL_TIMEOUT_MS,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  const still = wanted.filter((command) => !have(command));
  for (const command of still)
    process.stdout.write(
      `skipping ${command}: not installed${process.getuid?.() === 0 ? ' (apt-get install failed)' : ' and not root, so not installed here'}\n`,
    );
  return still;
}

/** The first line of a command's output that matches `pattern`. */
function versionOf(command: string, pattern = /./): string {
  try {
    return (
      execSync(command, { stdio: ['ignore', 'pipe', 'pipe'] })
        .toString()
        .split('\n')
        .find((line) => pattern.test(line))
        ?.trim() ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
}

async function runEndToEnd(
  phase: string,
  systems: SystemUnderTest[],
  round: number,
  collector: EndToEndCollector,
): Promise<void> {
  const eligible = systems.filter((s) => s.endToEnd);
  const shift = round % Math.max(1, eligible.length);
  for (const system of [...eligible.slice(shift), ...eligible.slice(0, shift)]) {
    const meter = new CpuMeter(system.pids());
    const outcome = await system.endToEnd!({
      recordBytes: END_TO_END_RECORD_BYTES,
      ratePerSecond: END_TO_END_RATE_PER_SECOND,
      durationMs: DURATION_MS,
    });
    if (outcome.consumed === 0)
      throw new Error(`${phase} end-to-end ${system.name}: nothing consumed (${JSON.stringify(outcome.errors)})`);
    const { ackHistogram, endToEndHistogram, ...counts } = outcome;
    const sample = collector.add(
      { phase, system: system.name, row: END_TO_END_ROW, round, ...counts, cpuPercent: meter.read() },
      ackHistogram,
      endToEndHistogram,
    );
    const errors = Object.keys(sample.errors).length > 0 ? `, errors ${JSON.stringify(sample.errors)}` : '';
    process.stdout.write(
      `${phase} round ${round} end-to-end ${system.name.padEnd(24)} consumed ${sample.consumed}/${sample.sent}, ack p50 ${sample.acknowledgement.p50Ms.toFixed(2)} ms p99 ${sample.acknowledgement.p99Ms.toFixed(2)} ms, end-to-end p50 ${sample.endToEnd.p50Ms.toFixed(2)} ms p99 ${sample.endToEnd.p99Ms.toFixed(2)} ms, CPU server ${sample.cpuPercent.server}% client ${sample.cpuPercent.client}% others ${sample.cpuPercent.others}%${errors}\n`,
    );
  }
}

async function runPhase(
  phase: string,
  systems: SystemUnderTest[],
  collector: Collector,
  endToEnd: EndToEndCollector,
  consumed: ConsumeCollector,
): Promise<void> {
  // Warmup, not measured: JIT, page cache and file creation paths for every system.
  for (const system of systems) {
    if (system.runsRow && !system.runsRow(1024, 1)) continue;
    if (system.name.includes('kcat')) continue;
    await system.produce({ recordBytes: 1024, producers: 1, durationMs: WARMUP_MS }, system.consumer !== undefined);
  }
  const rows = RECORD_SIZES.flatMap((recordBytes) => PRODUCER_COUNTS.map((producers) => ({ recordBytes, producers })));
  for (let round = 1; round <= ROUNDS; round++) {
    // The end-to-end row opens odd rounds and closes even ones, like the other rows' order.
    if (round % 2 === 1) await runEndToEnd(phase, systems, round, endToEnd);
    const order = round % 2 === 1 ? rows : [...rows].reverse();
    for (const [rowIndex, { recordBytes, producers }] of order.entries()) {
      const eligible = systems.filter((s) => !s.runsRow || s.runsRow(recordBytes, producers));
      const shift = (round + rowIndex) % eligible.length;
      for (const system of [...eligible.slice(shift), ...eligible.slice(0, shift)]) {
        const workload = { recordBytes, producers, durationMs: DURATION_MS };
        const meter = new CpuMeter(system.pids());
        const readBack = system.consumer !== undefined && producers === 1;
        const outcome = await system.produce(workload, readBack);
        // A system that acknowledges nothing is broken, not slow: stop and show its logs.
        if (outcome.records === 0)
          throw new Error(
            `${phase} ${system.name} ${rowName(recordBytes, producers)}: no record acknowledged (${JSON.stringify(outcome.errors)})`,
          );
        const sample = collector.add(
          {
            phase,
            system: system.name,
            row: rowName(recordBytes, producers),
            recordBytes,
            producers,
            round,
            records: outcome.records,
            seconds: outcome.seconds,
            errors: outcome.errors,
            cpuPercent: meter.read(),
            detail: outcome.detail ?? {},
          },
          outcome,
          system.hasLatency,
        );
        const latency = sample.latency
          ? `p50 ${sample.latency.p50Ms.toFixed(2)} ms, p99 ${sample.latency.p99Ms.toFixed(2)} ms`
          : 'no latency';
        const errors = Object.keys(sample.errors).length > 0 ? `, errors ${JSON.stringify(sample.errors)}` : '';
        process.stdout.write(
          `${phase} round ${round} ${sample.row.padEnd(22)} ${system.name.padEnd(24)} ${Math.round(sample.recordsPerSecond).toLocaleString('en').padStart(10)} msgs/s ${sample.megabytesPerSecond.toFixed(1).padStart(6)} MB/s, ${latency}, CPU server ${sample.cpuPercent.server}% client ${sample.cpuPercent.client}% others ${sample.cpuPercent.others}%${errors}\n`,
        );
        if (readBack && outcome.consumed) {
          const read = consumed.add({
            phase,
            system: system.consumer!,
            row: sample.row,
            recordBytes,
            round,
            ...outcome.consumed,
          });
          process.stdout.write(
            `${phase} round ${round} ${sample.row.padEnd(22)} ${`read back: ${system.consumer}`.padEnd(24)} ${Math.round(read.recordsPerSecond).toLocaleString('en').padStart(10)} msgs/s ${read.megabytesPerSecond.toFixed(1).padStart(6)} MB/s, ${read.records} of ${read.expected} records\n`,
          );
        }
      }
    }
    if (round % 2 === 0) await runEndToEnd(phase, systems, round, endToEnd);
  }
}

async function main(): Promise<void> {
  const missing = ensureInstalled();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-peers-bench-'));
  const unhook = killAllOnExit();
  const collector = new Collector();
  const endToEndCollector = new EndToEndCollector();
  const consumeCollector = new ConsumeCollector();
  /** Admin requests Brook answered with a retriable error and the bench sent again, per phase. */
  const brookAdminRetries: Record<string, Record<string, number>> = {};
  const skipped = missing.map((command) => `${command}: not installed`);
  const versions = {
    node: process.version,
    natsServer: missing.includes('nats-server')
      ? null
      : versionOf('nats-server --version').replace(/^nats-server: /, ''),
    redisServer: missing.includes('redis-server')
      ? null
      : versionOf('redis-server --version').replace(/^Redis server v=(\S+).*/, '$1'),
    kcat: missing.includes('kcat')
      ? null
      : versionOf('kcat -V', /Version/).replace(/^Version (\S+).*librdkafka (\S+).*/, 'kcat $1, librdkafka $2'),
  };
  try {
    // ---- Phase 1: one server each. ----
    const brook = await Brook.start(base, 1);
    const jetStream = missing.includes('nats-server') ? null : await JetStream.start(base, 1);
    const redis = missing.includes('redis-server') ? null : await Redis.start(base);
    const single: SystemUnderTest[] = [
      {
        name: 'Brook acks=1 RF1',
        consumer: 'Brook bundled Consumer RF1',
        pids: () => brook.pids,
        hasLatency: true,
        produce: async (w, readBack) => brook.produce(w, 1, 1, BROOK_BATCHING, readBack),
        endToEnd: async (w) => brook.endToEnd(w, 1, 1),
      },
      {
        name: 'Brook acks=all RF1',
        pids: () => brook.pids,
        hasLatency: true,
        produce: async (w) => brook.produce(w, 1, -1, BROOK_BATCHING),
        endToEnd: async (w) => brook.endToEnd(w, 1, -1),
      },
      {
        name: 'Brook bundled acks=1 RF1',
        pids: () => brook.pids,
        hasLatency: true,
        produce: async (w) => brook.produceBundled(w, 1, 1, BROOK_BATCHING.batchBytes),
      },
    ];
    if (jetStream)
      single.push({
        name: 'JetStream R1',
        consumer: 'JetStream R1 pull consumer',
        pids: () => jetStream.pids,
        hasLatency: true,
        produce: async (w, readBack) => jetStream.produce(w, peerWindow(w.recordBytes), readBack),
        endToEnd: async (w) => jetStream.endToEnd(w),
      });
    if (redis)
      single.push({
        name: 'Redis XADD',
        consumer: 'Redis XREAD',
        pids: () => redis.pids,
        hasLatency: true,
        produce: async (w, readBack) => redis.produce(w, peerWindow(w.recordBytes), readBack),
        endToEnd: async (w) => redis.endToEnd(w),
      });
    if (!missing.includes('kcat')) {
      const recordsFile = path.join(base, 'kcat-records.txt');
      const line = `${'k'.repeat(KCAT_RECORD_BYTES)}\n`;
      fs.writeFileSync(recordsFile, Buffer.alloc(line.length * KCAT_RECORDS, line));
      single.push({
        name: 'Brook via kcat acks=1 RF1',
        pids: () => brook.pids,
        hasLatency: false,
        runsRow: (recordBytes, producers) => recordBytes === KCAT_RECORD_BYTES && producers === 1,
        produce: async () => {
          const { exitCode, stderrTail, ...outcome } = await brook.produceWithKcat(
            recordsFile,
            KCAT_RECORDS,
            '1',
            KCAT_SETTINGS,
          );
          return { ...outcome, detail: { exitCode, stderrTail } };
        },
      });
    }
    brookAdminRetries.single = brook.adminRetries;
    await runPhase('single', single, collector, endToEndCollector, consumeCollector);
    await Promise.all([brook.stop(), jetStream?.stop(), redis?.stop()]);

    // ---- Phase 2: three nodes each, three replicas. ----
    const brookCluster = await Brook.start(base, 3);
    const jetStreamCluster = missing.includes('nats-server') ? null : await JetStream.start(base, 3);
    const replicated: SystemUnderTest[] = [
      {
        name: 'Brook acks=all RF3',
        consumer: 'Brook bundled Consumer RF3',
        pids: () => brookCluster.pids,
        hasLatency: true,
        produce: async (w, readBack) => brookCluster.produce(w, 3, -1, BROOK_BATCHING, readBack),
        endToEnd: async (w) => brookCluster.endToEnd(w, 3, -1),
      },
      {
        name: 'Brook acks=1 RF3',
        pids: () => brookCluster.pids,
        hasLatency: true,
        produce: async (w) => brookCluster.produce(w, 3, 1, BROOK_BATCHING),
      },
      {
        name: 'Brook bundled acks=all RF3',
        pids: () => brookCluster.pids,
        hasLatency: true,
        produce: async (w) => brookCluster.produceBundled(w, 3, -1, BROOK_BATCHING.batchBytes),
      },
    ];
    if (jetStreamCluster)
      replicated.push({
        name: 'JetStream R3',
        consumer: 'JetStream R3 pull consumer',
        pids: () => jetStreamCluster.pids,
        hasLatency: true,
        produce: async (w, readBack) => jetStreamCluster.produce(w, peerWindow(w.recordBytes), readBack),
        endToEnd: async (w) => jetStreamCluster.endToEnd(w),
      });
    brookAdminRetries.replicated = brookCluster.adminRetries;
    await runPhase('replicated', replicated, collector, endToEndCollector, consumeCollector);
    await Promise.all([brookCluster.stop(), jetStreamCluster?.stop()]);
  } catch (error) {
    printLogTails();
    throw error;
  } finally {
    await stopAll();
    unhook();
    fs.rmSync(base, { recursive: true, force: true });
  }

  // Rows in the order of the table: phase, record size, producers, then system.
  const rows = collector
    .rows()
    .sort(
      (a, b) =>
        (a.phase === b.phase ? 0 : a.phase === 'single' ? -1 : 1) ||
        a.recordBytes - b.recordBytes ||
        a.producers - b.producers ||
        SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system),
    );
  const ratios: Ratio[] = [];
  for (const recordBytes of RECORD_SIZES) {
    for (const producers of PRODUCER_COUNTS) {
      const row = rowName(recordBytes, producers);
      const pairs: [string, string][] = [
        ['Brook acks=1 RF1', 'JetStream R1'],
        ['Brook acks=1 RF1', 'Redis XADD'],
        ['Brook acks=all RF1', 'JetStream R1'],
        ['Brook acks=all RF1', 'Redis XADD'],
        ['Brook bundled acks=1 RF1', 'JetStream R1'],
        ['Brook bundled acks=1 RF1', 'Redis XADD'],
        ['Brook via kcat acks=1 RF1', 'JetStream R1'],
        ['Brook via kcat acks=1 RF1', 'Redis XADD'],
        ['Brook acks=all RF3', 'JetStream R3'],
        ['Brook bundled acks=all RF3', 'JetStream R3'],
      ];
      for (const [mine, theirs] of pairs) {
        const ratio = collector.ratio(row, mine, theirs);
        if (ratio) ratios.push(ratio);
      }
    }
  }
  const settings = [
    `${ROUNDS} rounds x ${DURATION_MS / 1000} s per sample (warmup ${WARMUP_MS} ms per system, not counted); msgs/s is the median over rounds, latency percentiles over all rounds merged`,
    `latency: publish (or Produce request) to acknowledgement, per message for peers and per request for Brook (all records of a batch share it); kcat reports none`,
    `Brook: one-partition topic per sample, ${BROOK_BATCHING.batchBytes / 1024} KiB record batches (one per Produce v7 request), ${BROOK_BATCHING.inflightPerConnection} requests in flight per producer, no fsync per write (log flush left to the OS, as Kafka's default); RF3: min.insync.replicas 2, producers connected to the partition leader`,
    `JetStream: nats-server ${versions.natsServer ?? '-'}, one stream per sample, file storage, R1 one server / R3 three clustered servers, publishers connected to the stream leader's server, ${peerWindow(1024)} messages in flight per producer (${peerWindow(16_384)} at 16 KiB), PubAck counted per message`,
    `Redis: redis-server ${versions.redisServer ?? '-'}, ${REDIS_SETTINGS.join(' ')} (AOF fsync once a second; automatic AOF rewrites left on), one stream key per sample, XADD <key> * v <value>, ${peerWindow(1024)} commands in flight per producer (${peerWindow(16_384)} at 16 KiB)`,
    `kcat: ${versions.kcat ?? '-'}, -P -l over a file of ${KCAT_RECORDS.toLocaleString('en')} records of ${KCAT_RECORD_BYTES} B, -X acks=1 ${KCAT_SETTINGS.map((s) => `-X ${s}`).join(' ')}; rate = records / wall time of the whole kcat run (process start to exit)`,
    'producers: connections from this one Node process (the servers get the other core); CPU % per sample: 100 = one core; "others" = the rest of the machine (other users of this shared host)',
    `end-to-end rows: ${END_TO_END_ROW}, open loop (records due every ${1000 / END_TO_END_RATE_PER_SECOND} ms, sent on 1 ms ticks; Brook sends the records due at a tick as one batch), latency from each record's due time to its acknowledgement and to the consumer holding it; consumers: Brook Fetch v11 long-poll (max wait 100 ms) at the leader, JetStream pull consumer (ack none, 512 per pull, 100 ms expiry), Redis XREAD COUNT 512 BLOCK 100`,
    `Brook admin requests retried (CreateTopics/DeleteTopics per sample): ${JSON.stringify(brookAdminRetries)}`,
    `bundled rows: Brook's own client (src/client Producer), record by record through send(), linger.ms 5, batch.size ${BROOK_BATCHING.batchBytes / 1024} KiB, up to 8 MiB of records outstanding per producer; latency of every 8th send() to its acknowledgement`,
    `consumer rows: after each one-producer sample of a system named below, one consumer reads the stream back from its start until it holds every acknowledged record (60 s at most), asking for about 4 MiB at a time: Brook's bundled Consumer (assign, Fetch long-poll, async next() per record, max.partition.fetch.bytes 4 MiB) on what the lean Brook producer stored; a JetStream pull consumer (ack none, one pull of up to 4 MiB worth of messages at a time); Redis XREAD COUNT (4 MiB worth) from the last ID`,
    `not measured: Redis replication${skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : ''}`,
  ];
  const endToEndRows = endToEndCollector
    .rows()
    .sort(
      (a, b) =>
        (a.phase === b.phase ? 0 : a.phase === 'single' ? -1 : 1) ||
        SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system),
    );
  const latencyRatios = endToEndRatios(endToEndRows, [
    ['Brook acks=1 RF1', 'JetStream R1'],
    ['Brook acks=1 RF1', 'Redis XADD'],
    ['Brook acks=all RF1', 'JetStream R1'],
    ['Brook acks=all RF1', 'Redis XADD'],
    ['Brook acks=all RF3', 'JetStream R3'],
  ]);
  const consumeRows = consumeCollector
    .rows()
    .sort(
      (a, b) =>
        (a.phase === b.phase ? 0 : a.phase === 'single' ? -1 : 1) ||
        a.recordBytes - b.recordBytes ||
        SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system),
    );
  const consumeRatios: Ratio[] = [];
  for (const recordBytes of RECORD_SIZES) {
    const row = rowName(recordBytes, 1);
    for (const [mine, theirs] of [
      ['Brook bundled Consumer RF1', 'JetStream R1 pull consumer'],
      ['Brook bundled Consumer RF1', 'Redis XREAD'],
      ['Brook bundled Consumer RF3', 'JetStream R3 pull consumer'],
    ] as [string, string][]) {
      const ratio = consumeCollector.ratio(row, mine, theirs);
      if (ratio) consumeRatios.push(ratio);
    }
  }
  const environmentInfo = environment();
  const markdown = [
    `# Brook and peers, produce and consume side by side (${quick ? 'quick' : 'full'} run)`,
    '',
    `commit ${environmentInfo.commit}${uncommittedChanges().length > 0 ? ' (with uncommitted changes in the tree)' : ''}, Node ${environmentInfo.node}, ${environmentInfo.cpu} x ${environmentInfo.cores}, ${environmentInfo.date}`,
    '',
    ...settings.map((s) => `- ${s}`),
    '',
    ...rowsTable(rows),
    '',
    '## Ratios Brook/peer (records/s; the same for MB/s at equal record size)',
    '',
    ...ratiosTable(ratios),
    '',
    '## Consumers: reading back what a one-producer sample stored',
    '',
    ...consumeTable(consumeRows),
    '',
    'Ratios Brook/peer (records/s read):',
    '',
    ...ratiosTable(consumeRatios),
    '',
    `## End-to-end (${END_TO_END_ROW})`,
    '',
    ...endToEndTable(endToEndRows),
    '',
    'End-to-end latency ratios peer/Brook (above 1: Brook delivers sooner):',
    '',
    '| Brook | peer | p50 | p99 | p99.9 |',
    '|---|---|---:|---:|---:|',
    ...latencyRatios.map(
      (r) => `| ${r.brook} | ${r.peer} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} |`,
    ),
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}`);
  const file = writeResult(quick ? 'peers-quick' : 'peers', {
    environment: environmentInfo,
    uncommittedChanges: uncommittedChanges(),
    mode: quick ? 'quick' : 'full',
    versions,
    parameters: {
      rounds: ROUNDS,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      recordSizes: RECORD_SIZES,
      producerCounts: PRODUCER_COUNTS,
      peerWindow: Object.fromEntries(RECORD_SIZES.map((b) => [b, peerWindow(b)])),
      brookBatching: BROOK_BATCHING,
      kcat: { records: KCAT_RECORDS, recordBytes: KCAT_RECORD_BYTES, settings: KCAT_SETTINGS },
      redisSettings: REDIS_SETTINGS,
      megabyte: '1e6 bytes of record values',
    },
    settings,
    skipped,
    brookAdminRetries,
    rows,
    ratios,
    consume: { rows: consumeRows, ratios: consumeRatios, samples: consumeCollector.samples },
    endToEnd: {
      row: END_TO_END_ROW,
      ratePerSecond: END_TO_END_RATE_PER_SECOND,
      recordBytes: END_TO_END_RECORD_BYTES,
      rows: endToEndRows,
      latencyRatios,
      samples: endToEndCollector.samples,
    },
    samples: collector.samples,
  });
  if (file.endsWith('.json')) fs.writeFileSync(file.replace(/\.json$/, '.md'), markdown);
  process.stdout.write(`written ${file}\n`);
}

main().catch((error) => {
  process.stderr.write(`peers bench failed: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
