// Offsets compaction soak (npm run soak:offsets -- [--days D] [--partitions N]
// [--commit-interval-s S] [--segment-bytes B] [--keys K]): a week (by default) of
// simulated time on the real file system, compressed into minutes. A group commits N
// partitions every S simulated seconds; every simulated hour a short-lived group is
// created and deleted (DeleteGroups) and another is left to expire (offsets.retention.ms,
// scaled to 6 hours); a consumer group with a member rebalances every hour. Beside it an
// ordinary compacted topic takes as many records, over a bounded set of K keys. The log
// cleaner does its own periodic step (the filthiest log past min.cleanable.dirty.ratio)
// every simulated ten minutes. Every simulated half day it prints the on-disk bytes of
// both partitions and what was written so far; at the end a new coordinator loads the
// compacted offsets log and must rebuild the same groups and offsets. Exits non-zero when
// either partition's size kept growing (the second half's largest more than the first
// half's largest by half again plus two segments) or the reload differs.
// `runOffsetsSoak` is also the bounded check in test/soak/offsets-compaction-bound.test.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeSubscriptionBytes } from '../../protocol/consumer-protocol';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { GroupCoordinator } from '../../src/group/coordinator';
import type { CommittedOffset } from '../../src/group/offset-store';
import { LogManager } from '../../src/log/log-manager';
import type { PartitionLog } from '../../src/log/partition-log';
import { silentLogger } from '../../src/logger';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface SoakOptions {
  days: number;
  partitions: number;
  commitIntervalS: number;
  segmentBytes: number;
  keys: number;
  /** Simulated hours between samples (default 12). */
  sampleEveryHours?: number;
  /** Called with each sample line (default: printed). */
  report?: (line: string) => void;
}

export interface SoakSample {
  simHours: number;
  offsetsBytes: number;
  keyedBytes: number;
  offsetsWritten: number;
  keyedWritten: number;
  /** Bytes appended so far (what the partition would hold without compaction). */
  offsetsBytesWritten: number;
  keyedBytesWritten: number;
}

export interface SoakResult {
  samples: SoakSample[];
  final: SoakSample;
  cleanerRuns: number;
  reloadMatches: boolean;
  /** Problems found (empty: bounded and reloaded the same). */
  problems: string[];
  wallMs: number;
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, name)).size;
  return total;
}

function stateOf(groups: GroupCoordinator): string {
  const out: unknown[] = [];
  for (const { groupId, state, protocolType } of groups.listGroups().sort((a, b) => (a.groupId < b.groupId ? -1 : 1))) {
    const offsets = [...groups.fetchOffsets(groupId)]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([topic, partitions]) => [topic, [...partitions].sort((a, b) => a[0] - b[0])]);
    out.push([groupId, state, protocolType, groups.describe(groupId)?.generationId, offsets]);
  }
  return JSON.stringify(out);
}

export async function runOffsetsSoak(options: SoakOptions): Promise<SoakResult> {
  const report = options.report ?? ((line: string) => console.log(line));
  const started = Date.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-offsets-soak-'));
  const clock = { now: 1_700_000_000_000 };
  const logs = new LogManager({
    dataDir,
    tailCacheBytes: 0,
    housekeepingIntervalMs: 0,
    clock: () => clock.now,
    cleaner: { enable: false, dedupeBufferBytes: 16 << 20 },
  });
  const topicConfig = {
    'cleanup.policy': 'compact',
    'segment.bytes': String(options.segmentBytes),
    'delete.retention.ms': String(HOUR_MS),
    'min.compaction.lag.ms': '0',
  };
  const coordinatorOptions = {
    offsetsRetentionMs: 6 * HOUR_MS,
    offsetsRetentionCheckIntervalMs: 10 * MINUTE_MS,
    offsetMetadataMaxBytes: 4096,
    tickIntervalMs: 3_600_000,
    limits: { initialRebalanceDelayMs: 0 },
    clock: () => clock.now,
  };
  const problems: string[] = [];
  const samples: SoakSample[] = [];
  let cleanerRuns = 0;
  let reloadMatches = false;
  try {
    logs.open();
    const offsetsLog = logs.getOrCreate('__consumer_offsets', 0, topicConfig);
    const keyedLog = logs.getOrCreate('keyed', 0, topicConfig);
    const offsetsOf = (log: PartitionLog) => ({ partitionFor: () => log, all: () => [log] });
    const groups = new GroupCoordinator(offsetsOf(offsetsLog), silentLogger, coordinatorOptions);
    await groups.start();
    groups.stop();

    const commit = (groupId: string, entries: { topic: string; partition: number; offset: CommittedOffset }[]) => {
      const group = groups.describe(groupId);
      if (!group || group.state !== 'Stable') {
        const code = groups.commitCheck(groupId, '', null, -1, 9);
        if (code !== ErrorCode.NONE) throw new Error(`commit to ${groupId} refused with ${code}`);
      }
      groups.commit(groupId, entries);
    };
    const committed = (value: number): CommittedOffset => ({
      offset: value,
      leaderEpoch: 0,
      metadata: '',
      commitTimestampMs: clock.now,
    });
    let memberId = '';
    const rebalance = async () => {
      if (memberId) groups.leave('consumers', [{ memberId, groupInstanceId: null }]);
      const joined = await groups.join('consumers', {
        memberId: '',
        groupInstanceId: null,
        clientId: 'soak',
        clientHost: '127.0.0.1',
        sessionTimeoutMs: 1_800_000,
        rebalanceTimeoutMs: 60_000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscriptionBytes({ version: 0, topics: ['events'] }) }],
        requireKnownMemberId: false,
      });
      memberId = joined.memberId;
      await groups.sync('consumers', {
        memberId,
        groupInstanceId: null,
        generationId: joined.generationId,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId, assignment: Buffer.alloc(64, 1) }],
      });
    };

    const endMs = clock.now + options.days * 24 * HOUR_MS;
    const stepMs = options.commitIntervalS * 1000;
    const sampleMs = (options.sampleEveryHours ?? 12) * HOUR_MS;
    const keyedValue = Buffer.alloc(40, 7);
    let offsetsWritten = 0;
    let keyedWritten = 0;
    let offsetsBytesWritten = 0;
    let keyedBytesWritten = 0;
    let position = 0;
    let nextHour = clock.now;
    let nextClean = clock.now + 10 * MINUTE_MS;
    let nextSample = clock.now;
    let hour = 0;
    let random = 12345;
    const nextRandom = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0);
    const sample = () => {
      const s: SoakSample = {
        simHours: Math.round((clock.now - (endMs - options.days * 24 * HOUR_MS)) / HOUR_MS),
        offsetsBytes: dirBytes(offsetsLog.dir),
        keyedBytes: dirBytes(keyedLog.dir),
        offsetsWritten,
        keyedWritten,
        offsetsBytesWritten,
        keyedBytesWritten,
      };
      samples.push(s);
      report(
        `t=${String(s.simHours).padStart(4)}h  __consumer_offsets ${s.offsetsBytes} bytes on disk ` +
          `(${s.offsetsWritten} records, ${mb(s.offsetsBytesWritten)} written)  keyed ${s.keyedBytes} bytes on disk ` +
          `(${s.keyedWritten} records, ${mb(s.keyedBytesWritten)} written)`,
      );
      return s;
    };
    while (clock.now < endMs) {
      clock.now += stepMs;
      position++;
      const before = offsetsLog.logEndOffset;
      const sizeBefore = offsetsLog.sizeBytes;
      commit(
        'hot',
        Array.from({ length: options.partitions }, (_, p) => ({
          topic: 'events',
          partition: p,
          offset: committed(position * 10 + p),
        })),
      );
      offsetsWritten += offsetsLog.logEndOffset - before;
      offsetsBytesWritten += offsetsLog.sizeBytes - sizeBefore;
      const records = Array.from({ length: options.partitions }, () => ({
        key: Buffer.from(`key-${nextRandom() % options.keys}`),
        value: keyedValue,
      }));
      const batch = encodeRecordBatchSync({ records });
      const result = keyedLog.append([batch], { leaderEpoch: 0 });
      keyedBytesWritten += batch.length;
      if (result.errorCode !== ErrorCode.NONE) throw new Error(`keyed append failed with ${result.errorCode}`);
      keyedWritten += records.length;
      if (clock.now >= nextHour) {
        nextHour += HOUR_MS;
        hour++;
        await rebalance();
        commit('consumers', [{ topic: 'events', partition: 0, offset: committed(position) }]);
        // A group made and deleted within the hour, and one left to expire.
        if (hour > 1) groups.deleteGroup(`short-${hour - 1}`);
        commit(
          `short-${hour}`,
          Array.from({ length: 10 }, (_, p) => ({ topic: 'events', partition: p, offset: committed(position) })),
        );
        commit(`expiring-${hour}`, [{ topic: 'events', partition: 0, offset: committed(position) }]);
      }
      if (clock.now >= nextClean) {
        nextClean += 10 * MINUTE_MS;
        groups.tick();
        while (await logs.cleaner!.cleanFilthiest(clock.now)) cleanerRuns++;
      }
      if (clock.now >= nextSample) {
        nextSample += sampleMs;
        sample();
      }
    }
    const last = samples[samples.length - 1];
    const final = last && clock.now < nextSample - sampleMs + stepMs ? last : sample();
    // A new coordinator (a restart or a failover) loads the compacted log.
    const reloaded = new GroupCoordinator(offsetsOf(offsetsLog), silentLogger, coordinatorOptions);
    await reloaded.start();
    reloaded.stop();
    reloadMatches = stateOf(reloaded) === stateOf(groups);
    if (!reloadMatches) problems.push('the coordinator loaded from the compacted log holds other groups or offsets');
    const half = Math.floor(samples.length / 2);
    for (const [name, field] of [
      ['__consumer_offsets', 'offsetsBytes'],
      ['keyed', 'keyedBytes'],
    ] as const) {
      const firstMax = Math.max(...samples.slice(1, half + 1).map((s) => s[field]));
      const secondMax = Math.max(...samples.slice(half + 1).map((s) => s[field]));
      if (secondMax > firstMax * 1.5 + 2 * options.segmentBytes)
        problems.push(`${name} grew: largest ${firstMax} bytes in the first half, ${secondMax} in the second`);
    }
    report(
      `end: ${options.days} simulated days in ${((Date.now() - started) / 1000).toFixed(1)} s, ${cleanerRuns} cleaner passes; ` +
        `__consumer_offsets ${final.offsetsBytes} bytes on disk for ${offsetsWritten} records (${mb(offsetsBytesWritten)}) written; ` +
        `keyed ${final.keyedBytes} bytes for ${keyedWritten} (${mb(keyedBytesWritten)}); reload ${reloadMatches ? 'matches' : 'DIFFERS'}`,
    );
    return { samples, final, cleanerRuns, reloadMatches, problems, wallMs: Date.now() - started };
  } finally {
    logs.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const options: SoakOptions = {
    days: flag(args, 'days', 7),
    partitions: flag(args, 'partitions', 100),
    commitIntervalS: flag(args, 'commit-interval-s', 10),
    segmentBytes: flag(args, 'segment-bytes', 64 * 1024),
    keys: flag(args, 'keys', 1000),
  };
  console.log(`offsets compaction soak: ${JSON.stringify(options)}`);
  runOffsetsSoak(options).then(
    (result) => {
      for (const problem of result.problems) console.log(`PROBLEM: ${problem}`);
      process.exitCode = result.problems.length === 0 ? 0 : 1;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
