// The log cleaner's manager (Kafka's LogCleaner and LogCleanerManager): every
// log.cleaner.backoff.ms, or at once after a pass, it picks the compacted logs whose dirty
// section is worth cleaning (min.cleanable.dirty.ratio, or max.compaction.lag.ms overdue),
// dirtiest first, runs up to log.cleaner.threads passes at a time (on the worker pool when
// the log is on the real file system, inline on the in-memory one), swaps the cleaned
// segments in, and records where each log's dirty section now starts in
// logs/cleaner-offset-checkpoint (Kafka's format, replaced crash-safely). A pass reads
// only segments wholly below the high watermark and min.compaction.lag.ms old.

import * as path from 'node:path';
import { FileSystem } from '../file-system';
import { CLEANER_CHECKPOINT_FILE } from '../on-disk-names';
import { formatOffsetCheckpoint, readOffsetCheckpoint, writeOffsetCheckpoint } from '../offset-checkpoint';
import type { PartitionLog } from '../partition-log';
import {
  CleanedGroup,
  cleanedFileNames,
  CleaningAborted,
  CleanInput,
  cleanLog,
  CleanResult,
  CleanSegment,
} from './clean';
import { OffsetMap } from './offset-map';

export { CLEANER_CHECKPOINT_FILE };

export interface CleanerSettings {
  /** log.cleaner.enable */
  enable: boolean;
  /** log.cleaner.threads: passes at a time, each with its share of memory and I/O. */
  threads: number;
  /** log.cleaner.dedupe.buffer.size: offset map memory of all passes together. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.load.factor: how full an offset map may get. */
  loadFactor: number;
  /** log.cleaner.io.max.bytes.per.second: read and write I/O of all passes together. */
  ioBytesPerSecondMax: number;
  /** log.cleaner.backoff.ms: wait between checks (read before each wait, so it may change live). */
  backoffMs: number;
}

/** Kafka's defaults (CleanerConfig). */
export const DEFAULT_CLEANER_SETTINGS: CleanerSettings = {
  enable: true,
  threads: 1,
  dedupeBufferBytes: 128 * 1024 * 1024,
  loadFactor: 0.9,
  ioBytesPerSecondMax: Number.POSITIVE_INFINITY,
  backoffMs: 15_000,
};

/** Runs one pass somewhere (inline or on a pool thread); `abort[0] !== 0` stops it. */
export type CleanRunner = (input: CleanInput, abort: Int32Array) => Promise<CleanResult | null>;

/** What the metrics show of one compacted log. */
export interface CleanableLogState {
  topic: string;
  partition: number;
  dirtyRatio: number;
  /** How long past max.compaction.lag.ms its oldest dirty segment is (0: not overdue). */
  compactionDelayMs: number;
  /** Wall-clock time of its last finished pass, or -1. */
  lastCleanMs: number;
}

export interface CleanerTotals {
  runs: number;
  aborted: number;
  failures: number;
  bytesRead: number;
  bytesWritten: number;
  messagesRead: number;
  messagesWritten: number;
  /** Longest max.compaction.lag.ms overrun seen at the last check (Kafka's max-compaction-delay-secs). */
  maxCompactionDelayMs: number;
  /** Offset-map use of the last pass (Kafka's max-buffer-utilization-percent). */
  lastMapUtilization: number;
}

interface Plan {
  log: PartitionLog;
  key: string;
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  segments: CleanSegment[];
  generation: number;
  activeProducers: CleanInput['activeProducers'];
  dirtyBytes: number;
  ratio: number;
  delayMs: number;
}

function configNumber(config: Record<string, string>, name: string, fallback: number): number {
  const value = Number(config[name]);
  return config[name] !== undefined && Number.isFinite(value) ? value : fallback;
}

export function isCompacted(config: Record<string, string>): boolean {
  return (config['cleanup.policy'] ?? 'delete')
    .split(',')
    .map((p) => p.trim())
    .includes('compact');
}

export interface LogCleanerOptions {
  fs: FileSystem;
  /** The log directory (`data/logs`), where the checkpoint lives. */
  root: string;
  logs: () => PartitionLog[];
  settings?: Partial<CleanerSettings>;
  clock?: () => number;
  /** Runs passes off the event loop (the worker pool); without it they run inline. */
  runner?: CleanRunner;
  /** Largest batch decompressed while cleaning. */
  decompressedBytesMax?: number;
  onCleaned?: (info: { topic: string; partition: number; result: CleanResult; swapped: number }) => void;
  onError?: (info: { topic: string; partition: number; error: unknown }) => void;
}

export class LogCleaner {
  readonly settings: CleanerSettings;
  private readonly clock: () => number;
  private readonly checkpointFile: string;
  private readonly firstDirty = new Map<string, number>();
  private checkpointWritten = '';
  private readonly running = new Map<string, { abort: Int32Array; done: Promise<void> }>();
  private readonly lastCleanMs = new Map<string, number>();
  /**
   * Logs whose pass failed (an I/O error, a batch that does not decode): skipped by the
   * periodic checks, as Kafka marks a partition uncleanable, until truncated or deleted.
   */
  private readonly uncleanable = new Set<string>();
  private readonly freeMaps: OffsetMap[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly totals: CleanerTotals = {
    runs: 0,
    aborted: 0,
    failures: 0,
    bytesRead: 0,
    bytesWritten: 0,
    messagesRead: 0,
    messagesWritten: 0,
    maxCompactionDelayMs: 0,
    lastMapUtilization: 0,
  };

  constructor(private readonly options: LogCleanerOptions) {
    this.settings = { ...DEFAULT_CLEANER_SETTINGS, ...options.settings };
    this.clock = options.clock ?? Date.now;
    this.checkpointFile = path.join(options.root, CLEANER_CHECKPOINT_FILE);
    for (const entry of readOffsetCheckpoint(options.fs, this.checkpointFile) ?? [])
      this.firstDirty.set(this.key(entry.topic, entry.partition), entry.offset);
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Starts the periodic checks (nothing when log.cleaner.enable is false). */
  start(): void {
    if (!this.settings.enable || this.timer) return;
    this.stopped = false;
    this.schedule();
  }

  /**
   * A new log.cleaner.backoff.ms: the pending wait is restarted with it (as Kafka restarts its
   * cleaner threads on a reconfiguration), so a long backoff shortened takes effect at once.
   */
  setBackoffMs(ms: number): void {
    if (ms === this.settings.backoffMs) return;
    this.settings.backoffMs = ms;
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.schedule();
  }

  /** The next periodic check, after the backoff as it is now (a dynamic change applies to the next wait). */
  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.fill();
      this.schedule();
    }, this.settings.backoffMs);
    this.timer.unref();
  }

  /** Starts passes on the dirtiest logs while threads are free. */
  private fill(): void {
    if (this.stopped) return;
    while (this.running.size < this.settings.threads) {
      const plan = this.grabFilthiest(this.clock());
      if (!plan) return;
      this.launch(plan).then(
        () => setImmediate(() => this.fill()),
        () => undefined,
      );
    }
  }

  /**
   * Where each compacted log stands: its cleanable section and dirty ratio. Logs in a pass
   * are skipped. The filthiest cleanable one is returned (Kafka's grabFilthiestCompactedLog).
   */
  private grabFilthiest(nowMs: number): Plan | null {
    let best: Plan | null = null;
    let maxDelay = 0;
    for (const log of this.options.logs()) {
      const key = this.key(log.topic, log.partition);
      if (!log.cleanable || !isCompacted(log.config) || this.running.has(key) || this.uncleanable.has(key)) continue;
      const plan = this.plan(log, nowMs);
      maxDelay = Math.max(maxDelay, plan.delayMs);
      const minRatio = configNumber(log.config, 'min.cleanable.dirty.ratio', 0.5);
      const eligible = plan.dirtyBytes > 0 && (plan.delayMs > 0 || plan.ratio > minRatio);
      if (eligible && (!best || plan.ratio > best.ratio)) best = plan;
    }
    this.totals.maxCompactionDelayMs = maxDelay;
    return best;
  }

  /** Kafka's cleanableOffsets and dirty ratio for one log. */
  plan(log: PartitionLog, nowMs: number): Plan {
    const view = log.cleanerView();
    const key = this.key(log.topic, log.partition);
    let firstDirtyOffset = this.firstDirty.get(key) ?? view.logStartOffset;
    // A checkpoint below the log start (retention) or past the log (a truncation) restarts it.
    if (firstDirtyOffset < view.logStartOffset || firstDirtyOffset > view.activeBaseOffset)
      firstDirtyOffset = view.logStartOffset;
    const minLagMs = configNumber(log.config, 'min.compaction.lag.ms', 0);
    const maxLagMs = configNumber(log.config, 'max.compaction.lag.ms', Number.MAX_SAFE_INTEGER);
    const segments: CleanSegment[] = [];
    let firstUncleanableOffset = view.activeBaseOffset;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let earliestDirtyMs = -1;
    for (const segment of view.segments) {
      const dirty = segment.nextOffset > firstDirtyOffset;
      const tooNew = dirty && minLagMs > 0 && segment.maxTimestamp > nowMs - minLagMs;
      if (segment.nextOffset > view.highWatermark || tooNew) {
        firstUncleanableOffset = segment.baseOffset;
        break;
      }
      segments.push(segment);
      if (dirty) {
        dirtyBytes += segment.sizeBytes;
        if (earliestDirtyMs < 0 && segment.maxTimestamp >= 0) earliestDirtyMs = segment.maxTimestamp;
      } else cleanBytes += segment.sizeBytes;
    }
    const total = cleanBytes + dirtyBytes;
    const cleanUntilMs = nowMs - maxLagMs;
    return {
      log,
      key,
      firstDirtyOffset,
      firstUncleanableOffset,
      segments,
      generation: view.generation,
      activeProducers: view.activeProducers,
      dirtyBytes,
      ratio: total > 0 ? dirtyBytes / total : 0,
      delayMs: earliestDirtyMs >= 0 && earliestDirtyMs < cleanUntilMs ? cleanUntilMs - earliestDirtyMs : 0,
    };
  }

  /** Logs skipped since their pass failed (Kafka's uncleanable-partitions-count). */
  get uncleanableCount(): number {
    return this.uncleanable.size;
  }

  /** The state of every compacted log (metrics). */
  states(nowMs = this.clock()): CleanableLogState[] {
    return this.options
      .logs()
      .filter((log) => log.cleanable && isCompacted(log.config))
      .map((log) => {
        const plan = this.plan(log, nowMs);
        return {
          topic: log.topic,
          partition: log.partition,
          dirtyRatio: plan.ratio,
          compactionDelayMs: plan.delayMs,
          lastCleanMs: this.lastCleanMs.get(plan.key) ?? -1,
        };
      });
  }

  /**
   * One round of the periodic check, awaited (tests): cleans the filthiest eligible log.
   * Returns whether a pass ran.
   */
  async cleanFilthiest(nowMs = this.clock()): Promise<boolean> {
    const plan = this.grabFilthiest(nowMs);
    if (!plan) return false;
    await this.launch(plan);
    return true;
  }

  /**
   * Cleans one log now whatever its dirty ratio (tests, tools); resolves when its pass is
   * done. Returns the pass's result, or null when there was nothing to clean.
   */
  async cleanNow(log: PartitionLog): Promise<CleanResult | null> {
    const key = this.key(log.topic, log.partition);
    await this.running.get(key)?.done;
    return this.launch(this.plan(log, this.clock()));
  }

  private launch(plan: Plan): Promise<CleanResult | null> {
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const run = this.run(plan, abort);
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.running.set(plan.key, { abort, done });
    void done.then(() => this.running.delete(plan.key));
    return run;
  }

  private async run(plan: Plan, abort: Int32Array): Promise<CleanResult | null> {
    const { log } = plan;
    if (plan.segments.every((s) => s.nextOffset <= plan.firstDirtyOffset)) return null;
    const threads = Math.max(1, this.settings.threads);
    const mapMemoryBytes = Math.floor(this.settings.dedupeBufferBytes / threads);
    const slots = Math.floor(mapMemoryBytes / 24);
    const input: CleanInput = {
      dir: log.dir,
      segments: plan.segments,
      firstDirtyOffset: plan.firstDirtyOffset,
      firstUncleanableOffset: plan.firstUncleanableOffset,
      nowMs: this.clock(),
      deleteRetentionMs: configNumber(log.config, 'delete.retention.ms', 86_400_000),
      segmentBytes: configNumber(log.config, 'segment.bytes', 1024 * 1024 * 1024),
      indexIntervalBytes: configNumber(log.config, 'index.interval.bytes', 4096),
      mapEntriesMax: Math.max(1, Math.floor(slots * this.settings.loadFactor)),
      mapMemoryBytes,
      decompressedBytesMax: this.options.decompressedBytesMax ?? 64 * 1024 * 1024,
      activeProducers: plan.activeProducers,
      ioBytesPerSecondMax: this.settings.ioBytesPerSecondMax / threads,
    };
    let result: CleanResult | null;
    try {
      result = await (this.options.runner ?? this.inlineRunner(log))(input, abort);
    } catch (error) {
      // A pass stopped from outside, or cut short by the shutdown of its pool, is no failure.
      // (A pass on a deleted partition may also fail on its vanished files first.)
      const aborted = error instanceof CleaningAborted || (error as Error)?.name === 'CleaningAborted';
      if (aborted || this.stopped || Atomics.load(abort, 0) !== 0 || !log.cleanable) {
        this.totals.aborted++;
        return null;
      }
      this.totals.failures++;
      this.uncleanable.add(plan.key);
      this.options.onError?.({ topic: log.topic, partition: log.partition, error });
      throw error;
    }
    if (!result) return null;
    let swapped = 0;
    try {
      for (const group of result.groups) {
        if (!log.replaceSegments(group, plan.generation)) break;
        swapped++;
      }
    } catch (error) {
      this.totals.failures++;
      this.uncleanable.add(plan.key);
      this.options.onError?.({ topic: log.topic, partition: log.partition, error });
    }
    this.discard(log, result.groups.slice(swapped));
    this.totals.runs++;
    this.totals.bytesRead += result.stats.bytesRead;
    this.totals.bytesWritten += result.stats.bytesWritten;
    this.totals.messagesRead += result.stats.messagesRead;
    this.totals.messagesWritten += result.stats.messagesWritten;
    this.totals.lastMapUtilization = result.stats.mapUtilization;
    if (swapped === result.groups.length) {
      this.firstDirty.set(plan.key, result.endOffset);
      this.lastCleanMs.set(plan.key, this.clock());
      this.writeCheckpoint();
    } else this.totals.aborted++;
    this.options.onCleaned?.({ topic: log.topic, partition: log.partition, result, swapped });
    return result;
  }

  /** Cleaned files of groups not swapped in (the log changed under the pass). */
  private discard(log: PartitionLog, groups: CleanedGroup[]): void {
    for (const group of groups)
      for (const name of cleanedFileNames(group)) {
        try {
          this.options.fs.unlink(path.join(log.dir, name));
        } catch {
          // The next open removes every .cleaned file.
        }
      }
  }

  private inlineRunner(log: PartitionLog): CleanRunner {
    return async (input, abort) => {
      const map = this.takeMap(input.mapMemoryBytes);
      try {
        return await cleanLog(
          this.options.fs,
          input,
          () => {
            if (Atomics.load(abort, 0) !== 0 || !log.cleanable) throw new CleaningAborted('cleaning aborted');
          },
          map,
        );
      } finally {
        this.freeMaps.push(map);
      }
    };
  }

  private takeMap(bytes: number): OffsetMap {
    const at = this.freeMaps.findIndex((m) => m.slots === Math.floor(bytes / 24));
    return at >= 0 ? this.freeMaps.splice(at, 1)[0] : new OffsetMap(bytes);
  }

  /** Rewrites the checkpoint when it changed (entries of logs not open are kept until forgotten). */
  private writeCheckpoint(): void {
    const entries = [...this.firstDirty].map(([key, offset]) => {
      const [topic, partition] = key.split('\u0000');
      return { topic, partition: Number(partition), offset };
    });
    const text = formatOffsetCheckpoint(entries);
    if (text === this.checkpointWritten) return;
    writeOffsetCheckpoint(this.options.fs, this.checkpointFile, text);
    this.checkpointWritten = text;
  }

  /** Forgets a deleted partition: its pass stops, its checkpoint entry goes. */
  forget(topic: string, partition: number): void {
    const key = this.key(topic, partition);
    this.uncleanable.delete(key);
    const running = this.running.get(key);
    if (running) Atomics.store(running.abort, 0, 1);
    if (this.firstDirty.delete(key)) {
      try {
        this.writeCheckpoint();
      } catch (error) {
        this.options.onError?.({ topic, partition, error });
      }
    }
  }

  /** A truncation below the cleaned offset: the log is cleaned again from its start. */
  resetTo(topic: string, partition: number, offset: number): void {
    const key = this.key(topic, partition);
    this.uncleanable.delete(key);
    const current = this.firstDirty.get(key);
    if (current !== undefined && current > offset) this.firstDirty.set(key, offset);
  }

  /** Stops the checks and asks running passes to stop; resolves when they have. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const { abort } of this.running.values()) Atomics.store(abort, 0, 1);
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
