// Fault-injection soak (npm run soak:faults -- --duration SECONDS --seed N [--runs N]
// [--kinds a,b]): runs after runs, each a fresh 3-node cluster behind a FaultProxy with an
// idempotent acks=all writer and a kcat observer, injecting faults at seeded random times:
// kill -9 of the partition leader (then a restart), SIGSTOP/SIGCONT of the leader, network
// isolation of the leader (then a heal), SIGTERM of a random node (a clean shutdown, then a
// restart), slow links of the leader (every byte 50-300 ms late), lossy links of the leader
// (stalls of up to a second as a lost packet's retransmission, and now and then a reset),
// a full disk on the leader (its own tmpfs filled; freed after; skipped where mounting
// is not allowed), and a power cut of the leader (kill -9, then what no fsync made durable
// is cut from its partition logs: see ProxiedCluster.cutPower), and a step of the leader's
// wall clock 60 or 120 s forward (test/helpers/clock-jump-hook.ts), each held for a few
// seconds. A node that stopped itself meanwhile (a
// fail-stop on storage) is started again, as a supervisor would. After every run the same verification as the replication tests: every
// acknowledged record once at its offset, nothing a consumer saw changed, identical
// replicas. Prints a line per run and a summary; exits non-zero when a record was lost or
// moved, something seen changed, or the replicas diverged. The seed is printed first; the
// fault schedule (kinds, targets chosen by role, timings) follows from it, process timing
// does not.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { seededRandom } from '../../src/controller/controller';
import {
  delay,
  describe,
  Observer,
  ProxiedCluster,
  verify,
  Verification,
  Writer,
} from '../helpers/replication-scenario';
import { until } from '../helpers/wait';

const TOPIC = 'soak';
const FAULT_KINDS = [
  'kill9',
  'pause',
  'isolate',
  'sigterm',
  'slow',
  'lossy',
  'diskfull',
  'powerloss',
  'clockjump',
] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

/** Named bounds for the schedule and every wait. */
const LIMITS = {
  faultsPerRunMin: 2,
  faultsPerRunMax: 4,
  quietBeforeFaultMsMin: 1000,
  quietBeforeFaultMsMax: 4000,
  holdMsMin: 1000,
  holdMsMax: 8000,
  recoveryTimeoutMs: 45000,
  progressTimeoutMs: 30000,
  identicalTimeoutMs: 20000,
  /** A new run needs this much of the duration left (the first run always starts). */
  runRemainingMsMin: 40000,
  /** A new fault within a run needs this much left. */
  faultRemainingMsMin: 15000,
};

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a non-negative integer`);
  return value;
}

interface FaultRecord {
  kind: FaultKind;
  target: number;
  holdMs: number;
  /** Longest pause between two acknowledgements from the fault until recovery. */
  stallMs: number;
  recovered: boolean;
}

interface RunResult {
  run: number;
  faults: FaultRecord[];
  verification: Verification | null;
  identical: boolean;
  liveness: string | null;
  error: string | null;
  seconds: number;
}

const durationMs = option('duration', 300) * 1000;
const maxRuns = option('runs', Number.MAX_SAFE_INTEGER);
const kindsArg = process.argv.indexOf('--kinds');
const kinds: readonly FaultKind[] =
  kindsArg < 0
    ? FAULT_KINDS
    : process.argv[kindsArg + 1].split(',').map((kind) => {
        if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new Error(`--kinds: unknown fault ${kind}`);
        return kind as FaultKind;
      });
/** Each node's data directory on a tmpfs of this size, so that a disk can be filled. */
const NODE_DISK_MIB = 512;
const seed = option('seed', Date.now() % 2 ** 31);
const random = seededRandom(seed);
// The observer's choices depend on timing: a stream of their own keeps the schedule's fixed.
const observerRandom = seededRandom(seed ^ 0x5bd1e995);
const between = (min: number, max: number) => Math.floor(min + random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

let current: ProxiedCluster | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stdout.write(`\n${signal}: stopping the cluster\n`);
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

function saveEvidence(cluster: ProxiedCluster, run: number, lines: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `brook-soak-evidence-${seed}-${run}-`));
  for (const id of cluster.ids) fs.writeFileSync(path.join(dir, `node-${id}.log`), cluster.logs(id));
  fs.writeFileSync(path.join(dir, 'run.txt'), lines.join('\n') + '\n');
  return dir;
}

function longestStall(writer: Writer, fromMs: number, toMs: number): number {
  let previous = fromMs;
  let longest = 0;
  for (const ack of writer.acks) {
    if (ack.atMs < fromMs) continue;
    if (ack.atMs > toMs) break;
    longest = Math.max(longest, ack.atMs - previous);
    previous = ack.atMs;
  }
  return Math.max(longest, toMs - previous);
}

/** Bytes the power cuts took from partition logs (reported in the summary). */
let powerCutBytes = 0;

/** Injects one fault, holds it for `holdMs`, then reverts it (restart, SIGCONT, heal). */
async function inject(cluster: ProxiedCluster, kind: FaultKind, target: number, holdMs: number): Promise<void> {
  switch (kind) {
    case 'kill9':
      await cluster.kill9(target);
      await delay(holdMs);
      await cluster.startNode(target);
      return;
    case 'pause':
      cluster.pause(target);
      await delay(holdMs);
      cluster.resume(target);
      return;
    case 'isolate':
      cluster.proxy.isolate(target);
      await delay(holdMs);
      cluster.proxy.heal();
      return;
    case 'sigterm':
      await cluster.stopNode(target, 'SIGTERM');
      await delay(holdMs);
      await cluster.startNode(target);
      return;
    case 'slow':
      cluster.proxy.degrade(target, {
        delayMs: between(50, 300),
        jitterMs: 50,
        stallChance: 0,
        stallMs: 0,
        resetChance: 0,
      });
      await delay(holdMs);
      cluster.proxy.heal();
      return;
    case 'lossy':
      cluster.proxy.degrade(target, {
        delayMs: 2,
        jitterMs: 20,
        stallChance: 0.05,
        stallMs: between(200, 1000),
        resetChance: 0.002,
      });
      await delay(holdMs);
      cluster.proxy.heal();
      return;
    case 'clockjump':
      // The wall clock steps forward 60 s (once or twice); timers on the monotonic clock
      // must not care, the rest must recover (an ISR shrink at most).
      cluster.jumpClock(target);
      if (random() < 0.5) cluster.jumpClock(target);
      await delay(holdMs);
      return;
    case 'powerloss':
      await cluster.kill9(target);
      powerCutBytes += cluster.cutPower(target, random);
      await delay(holdMs);
      await cluster.startNode(target);
      return;
    case 'diskfull':
      cluster.fillDisk(target);
      await delay(holdMs);
      cluster.freeDisk(target);
      return;
  }
}

/** Starts again any node whose process ended by itself (a fail-stop), as a supervisor would. */
async function restartStopped(cluster: ProxiedCluster, note: (line: string) => void): Promise<void> {
  for (const id of cluster.ids) {
    const node = cluster.nodes.get(id);
    if (node && !node.alive()) {
      note(`node ${id} had stopped by itself; starting it again`);
      await cluster.stopNode(id).catch(() => null);
      await cluster.startNode(id);
    }
  }
}

async function wholeAgain(cluster: ProxiedCluster, writer: Writer, timeoutMs: number): Promise<void> {
  await until(
    async () => {
      const m = await cluster.metadata(TOPIC);
      return m && m.leader > 0 && m.isr.length === cluster.ids.length;
    },
    { what: 'the ISR whole again', timeoutMs: timeoutMs },
  );
  const acked = writer.acked.size;
  await until(async () => writer.acked.size >= acked + 5, {
    what: 'acknowledged writes again',
    timeoutMs: LIMITS.progressTimeoutMs,
  });
}

async function oneRun(run: number, deadline: number): Promise<RunResult> {
  const startedAt = Date.now();
  const result: RunResult = {
    run,
    faults: [],
    verification: null,
    identical: false,
    liveness: null,
    error: null,
    seconds: 0,
  };
  const notes: string[] = [];
  const note = (line: string) => notes.push(`${new Date().toISOString()} ${line}`);
  const cluster = (current = await ProxiedCluster.start(undefined, undefined, {
    tmpfsMiB: kinds.includes('diskfull') ? NODE_DISK_MIB : undefined,
    clockJumps: kinds.includes('clockjump'),
  }));
  let writer: Writer | null = null;
  let observer: Observer | null = null;
  try {
    await cluster.createTopic(TOPIC);
    await until(
      async () => {
        const m = await cluster.metadata(TOPIC);
        return m && m.leader > 0 && m.isr.length === 3;
      },
      { what: 'a leader with a full ISR' },
    );
    const w = (writer = new Writer({ topic: TOPIC, newProducer: () => cluster.newProducer() }));
    await w.connect();
    observer = new Observer({
      topic: TOPIC,
      committed: () => w.acked.size,
      ports: () => cluster.clientPorts(),
      random: observerRandom,
    });
    w.run();
    observer.run();
    await until(async () => w.acked.size >= 20, { what: 'some acknowledged records' });

    const faults = between(LIMITS.faultsPerRunMin, LIMITS.faultsPerRunMax);
    for (let i = 0; i < faults && (i === 0 || deadline - Date.now() > LIMITS.faultRemainingMsMin); i++) {
      await delay(between(LIMITS.quietBeforeFaultMsMin, LIMITS.quietBeforeFaultMsMax));
      let kind = pick(kinds);
      if (kind === 'diskfull' && !cluster.canFillDisk(1)) kind = 'slow'; // no tmpfs here
      const holdMs = between(LIMITS.holdMsMin, LIMITS.holdMsMax);
      const m = await cluster.metadata(TOPIC);
      const target =
        kind === 'sigterm' ? pick(cluster.ids) : kind === 'clockjump' ? (m?.controller ?? -1) : (m?.leader ?? -1);
      if (target <= 0) {
        result.liveness = 'no partition leader known before a fault';
        break;
      }
      note(
        `${kind} of node ${target} for ${holdMs} ms (leader ${m?.leader}, epoch ${m?.leaderEpoch}, controller ${m?.controller}, ${w.acked.size} acknowledged)`,
      );
      const faultAt = Date.now();
      const record: FaultRecord = { kind, target, holdMs, stallMs: 0, recovered: false };
      result.faults.push(record);
      await inject(cluster, kind, target, holdMs);
      await restartStopped(cluster, note);
      try {
        await wholeAgain(cluster, w, LIMITS.recoveryTimeoutMs);
        record.recovered = true;
      } catch (error) {
        result.liveness = `after ${kind} of node ${target}: ${(error as Error).message} (metadata ${JSON.stringify(await cluster.metadata(TOPIC))})`;
      }
      record.stallMs = longestStall(w, faultAt, Date.now());
      note(
        `${kind} of node ${target}: ${record.recovered ? 'recovered' : 'NOT recovered'}, writes stalled at most ${record.stallMs} ms`,
      );
      if (!record.recovered) break;
    }
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    // Whatever happened: no fault left standing, then stop the clients.
    cluster.proxy.heal();
    for (const id of [...cluster.paused]) cluster.resume(id);
    await writer?.stop();
    await observer?.stop();
  }

  try {
    for (const id of cluster.ids) if (!cluster.nodes.has(id)) await cluster.startNode(id);
    await restartStopped(cluster, note);
    if (writer && observer) {
      const w = writer;
      await until(
        async () => {
          const m = await cluster.metadata(TOPIC);
          return m && m.leader > 0 && m.isr.length === 3;
        },
        { what: 'a leader with a full ISR before the verification', timeoutMs: LIMITS.recoveryTimeoutMs },
      ).catch((error) => {
        result.liveness ??= (error as Error).message;
      });
      result.verification = await verify(cluster.clientPorts()[0], TOPIC, w, observer);
      result.identical = await until(async () => cluster.replicasIdentical(TOPIC), {
        what: 'identical replicas',
        timeoutMs: LIMITS.identicalTimeoutMs,
      }).then(
        () => true,
        () => false,
      );
    }
  } catch (error) {
    result.error ??= (error as Error).message;
  }
  const v = result.verification;
  const bad =
    !v ||
    v.lost > 0 ||
    v.moved > 0 ||
    v.changed > 0 ||
    v.duplicates > 0 ||
    !result.identical ||
    result.liveness ||
    result.error;
  if (bad) {
    const dir = saveEvidence(cluster, run, [
      ...notes,
      ...(v?.problems ?? []),
      `liveness: ${result.liveness}`,
      `error: ${result.error}`,
    ]);
    process.stdout.write(`  evidence kept in ${dir}\n`);
    for (const line of v?.problems.slice(0, 10) ?? []) process.stdout.write(`  ${line}\n`);
  }
  await cluster.close();
  current = null;
  result.seconds = (Date.now() - startedAt) / 1000;
  return result;
}

function quantiles(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000).toFixed(1);
  return `median ${at(0.5)} s, max ${at(1)} s`;
}

async function main(): Promise<number> {
  process.stdout.write(`fault-inject soak: seed ${seed}, duration ${durationMs / 1000} s, node ${process.version}\n`);
  const startedAt = Date.now();
  const deadline = startedAt + durationMs;
  const results: RunResult[] = [];
  while (results.length === 0 || (results.length < maxRuns && deadline - Date.now() > LIMITS.runRemainingMsMin)) {
    const r = await oneRun(results.length + 1, deadline);
    results.push(r);
    const faults = r.faults
      .map(
        (f) =>
          `${f.kind}(${f.target}, ${(f.holdMs / 1000).toFixed(1)} s, stall ${(f.stallMs / 1000).toFixed(1)} s${f.recovered ? '' : ', NOT recovered'})`,
      )
      .join(' ');
    const outcome = r.verification ? describe(r.verification) : 'not verified';
    process.stdout.write(
      `run ${r.run}: ${faults || 'no fault'}: ${outcome}; replicas ${r.identical ? 'identical' : 'DIFFER'}${r.liveness ? `; liveness: ${r.liveness}` : ''}${r.error ? `; error: ${r.error}` : ''} (${r.seconds.toFixed(1)} s)\n`,
    );
  }
  const sum = (f: (v: Verification) => number) =>
    results.reduce((n, r) => n + (r.verification ? f(r.verification) : 0), 0);
  const byKind = FAULT_KINDS.map((kind) => {
    const of = results.flatMap((r) => r.faults.filter((f) => f.kind === kind));
    return `${kind} ${of.length} (stall ${quantiles(of.map((f) => f.stallMs))})`;
  });
  const lost = sum((v) => v.lost);
  const moved = sum((v) => v.moved);
  const changed = sum((v) => v.changed);
  const unverified = results.filter((r) => !r.verification).length;
  const differ = results.filter((r) => r.verification && !r.identical).length;
  const stuck = results.filter((r) => r.liveness || r.error).length;
  process.stdout.write(
    `\nsummary (seed ${seed}, ${((Date.now() - startedAt) / 1000).toFixed(0)} s): runs ${results.length}; faults ${byKind.join(', ')}\n` +
      `acknowledged ${sum((v) => v.acknowledged)}, lost ${lost}, moved ${moved}, duplicates ${sum((v) => v.duplicates)}, seen-then-changed ${changed}; ` +
      `runs with divergent replicas ${differ}, unverified ${unverified}, with a liveness problem or error ${stuck}; ` +
      `bytes lost to power cuts ${powerCutBytes}\n`,
  );
  return lost > 0 || moved > 0 || changed > 0 || differ > 0 || unverified > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    await current?.close().catch(() => undefined);
    process.exit(2);
  },
);
