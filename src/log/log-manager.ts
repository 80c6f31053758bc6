// All partition logs of one node: opens and recovers every `<topic>-<partition>` directory
// under the data directory at start, creates and deletes partitions, runs the periodic
// flush.ms / segment.ms checks and the retention checks (log.retention.check.interval.ms),
// and owns the shared tail-cache budget. At start it also scans the partition directories:
// which were left by an unclean shutdown with a large active segment (verified ahead on the
// worker pool), and which the metadata does not know (set aside as strays).

import * as path from 'node:path';
import { FileSystem, mkdirDurable, realFileSystem } from './file-system';
import {
  deletedDirName,
  isDeletedDirName,
  LOGS_DIR,
  parsePartitionDirName,
  partitionDirName,
  segmentLogNames,
  strayDirName,
} from './on-disk-names';
import {
  CheckpointEntry,
  formatOffsetCheckpoint,
  HIGH_WATERMARK_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  writeOffsetCheckpoint,
} from './offset-checkpoint';
import { isDiskFailure, isStorageError, isTransientStorageError, LogDirectory, OfflineInfo } from './log-directory';
import { needsRecovery, PreRecovery } from './parallel-recovery';
import { PartitionLog } from './partition-log';
import { TailCache } from './tail-cache';
import { CleanerSettings, LogCleaner } from './cleaner/log-cleaner';
import { CleanResult } from './cleaner/clean';
import { cleanTasks } from './cleaner/clean-tasks';
import { WorkerPool } from '../pool/worker-pool';

export interface LogManagerOptions {
  dataDir: string;
  fs?: FileSystem;
  clock?: () => number;
  tailCacheBytes: number;
  /** How often flush.ms and segment.ms are checked. */
  housekeepingIntervalMs?: number;
  /** How often retention.ms and retention.bytes are applied (log.retention.check.interval.ms). */
  retentionCheckIntervalMs?: number;
  /** How often the recovery points are checkpointed (log.flush.offset.checkpoint.interval.ms). */
  recoveryPointCheckpointIntervalMs?: number;
  /** How often the high watermarks are checkpointed (replica.high.watermark.checkpoint.interval.ms). */
  highWatermarkCheckpointIntervalMs?: number;
  /** producer.id.expiration.ms: an idempotent producer silent this long is forgotten. */
  producerIdExpirationMs?: number;
  /** producer.id.expiration.check.interval.ms: how often that is checked. */
  producerIdExpirationCheckIntervalMs?: number;
  /** brook.max.producer.ids.per.partition: producers one partition remembers at most. */
  maxProducerIdsPerPartition?: number;
  /** Segments deleted by retention (one call per partition and check that deleted any). */
  onRetention?: (info: { topic: string; partition: number; segmentsDeleted: number; logStartOffset: number }) => void;
  onRecovered?: (info: { topic: string; partition: number; truncatedBytes: number; logEndOffset: number }) => void;
  /**
   * A periodic flush, roll or retention step of one partition failed (an I/O error). The
   * other partitions' steps still run; the failed one is tried again at the next check.
   * Without it the error is thrown from the timer.
   */
  onHousekeepingError?: (info: { topic: string; partition: number; step: string; error: unknown }) => void;
  /**
   * A file-system error that is not transient (EIO, EROFS, ...) took the log directory
   * offline: its partitions answer KAFKA_STORAGE_ERROR and nothing more is written there
   * until a restart. Called once.
   */
  onLogDirectoryOffline?: (info: OfflineInfo) => void;
  /** An append or read of a partition failed on the file system (the append was undone). */
  onStorageError?: (info: OfflineInfo) => void;
  /** The log cleaner's settings (log.cleaner.*); Kafka's defaults when absent. */
  cleaner?: Partial<CleanerSettings>;
  /**
   * Cleaning passes on the event loop even on the real file system (brook.log.cleaner.inline;
   * benchmarks compare it with the pool).
   */
  cleanerInline?: boolean;
  /** Largest batch the cleaner decompresses (brook.message.decompressed.max.bytes). */
  cleanerDecompressedBytesMax?: number;
  /** A cleaning pass finished (swapped: groups swapped in; fewer than the groups when the log changed under it). */
  onCleaned?: (info: { topic: string; partition: number; result: CleanResult; swapped: number }) => void;
  /** A cleaning pass failed (an I/O error or a damaged batch); the log is tried again later. */
  onCleanerError?: (info: { topic: string; partition: number; error: unknown }) => void;
}

/** Kafka's producer.id.expiration.ms and producer.id.expiration.check.interval.ms defaults. */
const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const DEFAULT_PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = 600_000;
/** Kafka's log.retention.check.interval.ms default. */
const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 300_000;
/** Kafka's log.flush.offset.checkpoint.interval.ms default. */
const DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000;
/** Kafka's replica.high.watermark.checkpoint.interval.ms default. */
const DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5_000;

/** One offset checkpoint file: the entries read at start (for logs not opened yet) and the text last written. */
interface Checkpoint {
  file: string;
  loaded: Map<string, CheckpointEntry>;
  written: string;
  lastMs: number;
  intervalMs: number;
  offsetOf: (log: PartitionLog) => number;
  /** Whether an open log has an entry (all do unless this says otherwise). */
  includes?: (log: PartitionLog) => boolean;
}

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  /** The file system every partition log (and the broker's own files) is written through. */
  readonly fs: FileSystem;
  private readonly clock: () => number;
  private readonly root: string;
  readonly tailCache: TailCache;
  private timer: NodeJS.Timeout | null = null;
  private lastRetentionCheckMs = 0;
  private lastProducerExpiryMs = 0;
  /** Recoveries already done (on the worker pool) for logs not opened yet, by partition. */
  private readonly preRecovered = new Map<string, PreRecovery>();
  private readonly recoveryPoints: Checkpoint;
  private readonly highWatermarks: Checkpoint;
  /**
   * Log start offsets above the first segment's base (records deleted by offset). Written
   * whenever one moves, before the move is acknowledged and before the segments below it
   * are deleted, so a start offset never goes back across a crash (Kafka writes it every
   * log.flush.start.offset.checkpoint.interval.ms; Brook at once, since moves are rare).
   */
  private readonly logStarts: Checkpoint;
  /** The health of the log directory, shared by every partition log in it. */
  readonly directory: LogDirectory;
  /** Compaction of the logs whose cleanup.policy has compact (null until open). */
  cleaner: LogCleaner | null = null;
  /** Worker threads for cleaning passes on the real file system, made at the first pass. */
  private cleanerPool: WorkerPool | null = null;

  constructor(private readonly options: LogManagerOptions) {
    this.fs = options.fs ?? realFileSystem;
    this.clock = options.clock ?? Date.now;
    this.root = path.join(options.dataDir, LOGS_DIR);
    this.tailCache = new TailCache(options.tailCacheBytes);
    this.directory = new LogDirectory(
      this.root,
      (info) => options.onLogDirectoryOffline?.(info),
      (info) => options.onStorageError?.(info),
    );
    const checkpoint = (file: string, intervalMs: number, offsetOf: (log: PartitionLog) => number): Checkpoint => ({
      file: path.join(this.root, file),
      loaded: new Map(),
      written: '',
      lastMs: 0,
      intervalMs,
      offsetOf,
    });
    this.recoveryPoints = checkpoint(
      RECOVERY_POINT_CHECKPOINT_FILE,
      options.recoveryPointCheckpointIntervalMs ?? DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS,
      (log) => log.recoveryPoint,
    );
    this.highWatermarks = checkpoint(
      HIGH_WATERMARK_CHECKPOINT_FILE,
      options.highWatermarkCheckpointIntervalMs ?? DEFAULT_HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS,
      (log) => log.highWatermark,
    );
    this.logStarts = {
      ...checkpoint(LOG_START_OFFSET_CHECKPOINT_FILE, 0, (log) => log.logStartOffset),
      includes: (log) => log.logStartOffset > log.firstSegmentBaseOffset,
    };
  }

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /**
   * Finishes interrupted deletions, then notes which partition directories exist. Each is
   * opened (and recovered) when the broker asks for it with its topic config.
   */
  open(): void {
    mkdirDurable(this.fs, this.root);
    for (const name of this.fs.readdir(this.root)) {
      if (isDeletedDirName(name)) this.fs.removeTree(path.join(this.root, name));
    }
    for (const checkpoint of [this.recoveryPoints, this.highWatermarks, this.logStarts]) {
      checkpoint.lastMs = this.clock();
      for (const entry of readOffsetCheckpoint(this.fs, checkpoint.file) ?? [])
        checkpoint.loaded.set(this.key(entry.topic, entry.partition), entry);
    }
    this.cleaner = new LogCleaner({
      fs: this.fs,
      root: this.root,
      logs: () => this.all(),
      settings: this.options.cleaner,
      clock: this.clock,
      decompressedBytesMax: this.options.cleanerDecompressedBytesMax,
      // On the real file system a pass runs on a pool thread, which opens the files itself.
      runner:
        this.fs === realFileSystem && !this.options.cleanerInline
          ? (input, abort) => {
              this.cleanerPool ??= new WorkerPool({ threads: Math.max(1, this.cleaner!.settings.threads) });
              return this.cleanerPool.run(cleanTasks, { kind: 'clean', input, abort, bytes: { byteLength: 0 } }, true);
            }
          : undefined,
      onCleaned: this.options.onCleaned,
      onError: this.options.onCleanerError,
    });
    this.cleaner.start();
    // The timer also runs the retention checks and the checkpoints, so it ticks at least
    // as often as they are due.
    const interval = Math.min(
      this.options.housekeepingIntervalMs ?? 1000,
      this.options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS,
      this.recoveryPoints.intervalMs,
      this.highWatermarks.intervalMs,
    );
    if (interval > 0) {
      this.timer = setInterval(() => this.housekeeping(), interval);
      this.timer.unref();
    }
  }

  /** Partition directories present on disk. */
  listOnDisk(): { topic: string; partition: number }[] {
    const out = [];
    for (const name of this.fs.readdir(this.root)) {
      const parsed = parsePartitionDirName(name);
      if (parsed && this.fs.isDirectory(path.join(this.root, name))) out.push(parsed);
    }
    return out;
  }

  /**
   * Partitions whose directory was left by an unclean shutdown (no clean-shutdown marker)
   * with an active segment of at least `minBytes`: worth verifying on the worker pool
   * before the metadata replay opens the logs. The rest recover inline as each log opens.
   */
  uncleanPartitions(minBytes: number): { topic: string; partition: number; dir: string }[] {
    return this.listOnDisk()
      .map(({ topic, partition }) => ({ topic, partition, dir: this.partitionDir(topic, partition) }))
      .filter(({ dir }) => needsRecovery(dir, this.fs) && this.activeSegmentBytes(dir) >= minBytes);
  }

  /** Size of the newest segment file in a partition directory (0 when none). */
  private activeSegmentBytes(dir: string): number {
    const logs = segmentLogNames(this.fs.readdir(dir));
    if (logs.length === 0) return 0;
    const handle = this.fs.open(path.join(dir, logs[logs.length - 1]));
    try {
      return handle.size();
    } finally {
      handle.close();
    }
  }

  /** A partition's active segment was verified ahead: its log opens without scanning it again. */
  notePreRecovered(topic: string, partition: number, recovery: PreRecovery): void {
    this.preRecovered.set(this.key(topic, partition), recovery);
  }

  /**
   * Partition directories that `known` does not claim and no open log uses (a deletion cut
   * short by a crash, or a damaged metadata log) are set aside as strays, never read and
   * never deleted. Returns what was moved where.
   */
  setAsideStrays(
    known: (topic: string, partition: number) => boolean,
  ): { topic: string; partition: number; movedTo: string | null; error?: string }[] {
    const moved = [];
    for (const { topic, partition } of this.listOnDisk()) {
      if (known(topic, partition) || this.get(topic, partition)) continue;
      // A directory that cannot be moved is reported and left; it must not stop the start.
      try {
        moved.push({ topic, partition, movedTo: this.setAsideStray(topic, partition) });
      } catch (error) {
        moved.push({ topic, partition, movedTo: null, error: String(error) });
      }
    }
    return moved;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(this.key(topic, partition));
  }

  /** Directory of a partition's log. */
  partitionDir(topic: string, partition: number): string {
    return path.join(this.root, partitionDirName(topic, partition));
  }

  getOrCreate(topic: string, partition: number, config: Record<string, string>, recovery?: PreRecovery): PartitionLog {
    const preRecovered = this.preRecovered.get(this.key(topic, partition));
    this.preRecovered.delete(this.key(topic, partition));
    recovery ??= preRecovered;
    const existing = this.get(topic, partition);
    if (existing) {
      existing.config = config;
      return existing;
    }
    if (this.directory.offline) throw this.directory.offlineError();
    let log: PartitionLog;
    try {
      log = this.openLog(topic, partition, config, recovery);
    } catch (error) {
      if (isDiskFailure(error)) this.directory.markOffline(topic, partition, error);
      throw error;
    }
    this.logs.set(this.key(topic, partition), log);
    this.options.onRecovered?.({
      topic,
      partition,
      truncatedBytes: log.recoveredTruncatedBytes,
      logEndOffset: log.logEndOffset,
    });
    return log;
  }

  private openLog(
    topic: string,
    partition: number,
    config: Record<string, string>,
    recovery: PreRecovery | undefined,
  ): PartitionLog {
    return PartitionLog.open(
      {
        fs: this.fs,
        dir: this.partitionDir(topic, partition),
        topic,
        partition,
        config,
        clock: this.clock,
        tailCache: this.tailCache,
        tailVerified: recovery?.verified ?? false,
        recoveryPoint: this.recoveryPoints.loaded.get(this.key(topic, partition))?.offset,
        // No checkpointed high watermark: from the log start, as Kafka does; the leader
        // moves it up as the in-sync replicas confirm their log ends.
        highWatermark: this.highWatermarks.loaded.get(this.key(topic, partition))?.offset ?? 0,
        logStartOffset: this.logStarts.loaded.get(this.key(topic, partition))?.offset,
        onRecoveryPointLowered: () => this.writeCheckpoint(this.recoveryPoints),
        onTruncated: (offset) => this.cleaner?.resetTo(topic, partition, offset),
        directory: this.directory,
        maxProducerIds: this.options.maxProducerIdsPerPartition,
      },
      recovery?.truncatedBytes ?? 0,
    );
  }

  all(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /** Removes a topic's partitions: renamed to `-delete` first, so a crash mid-way finishes later. */
  deleteTopic(topic: string): void {
    for (const log of this.all()) {
      if (log.topic !== topic) continue;
      log.abandon();
      this.logs.delete(this.key(topic, log.partition));
    }
    for (const name of this.fs.readdir(this.root)) {
      const parsed = parsePartitionDirName(name);
      if (!parsed || parsed.topic !== topic) continue;
      this.forgetCheckpoints(parsed.topic, parsed.partition);
      const from = path.join(this.root, name);
      const to = path.join(this.root, deletedDirName(parsed.topic, parsed.partition));
      this.fs.rename(from, to);
      this.fs.syncDir(this.root);
      this.fs.removeTree(to);
    }
  }

  /** Removes one partition's log (its replica moved to other brokers), the same way. */
  deletePartition(topic: string, partition: number): void {
    this.forgetCheckpoints(topic, partition);
    const log = this.logs.get(this.key(topic, partition));
    if (log) {
      log.abandon();
      this.logs.delete(this.key(topic, partition));
    }
    const from = this.partitionDir(topic, partition);
    if (!this.fs.exists(from)) return;
    const to = path.join(this.root, deletedDirName(topic, partition));
    this.fs.rename(from, to);
    this.fs.syncDir(this.root);
    this.fs.removeTree(to);
  }

  /**
   * A partition directory the metadata does not know (a stray) is renamed aside, not
   * deleted: if the metadata itself was damaged, the data can still be recovered by hand.
   */
  setAsideStray(topic: string, partition: number): string {
    const from = this.partitionDir(topic, partition);
    const to = path.join(this.root, strayDirName(topic, partition));
    this.fs.rename(from, to);
    this.fs.syncDir(this.root);
    return to;
  }

  private forgetCheckpoints(topic: string, partition: number): void {
    this.cleaner?.forget(topic, partition);
    this.recoveryPoints.loaded.delete(this.key(topic, partition));
    this.highWatermarks.loaded.delete(this.key(topic, partition));
    this.logStarts.loaded.delete(this.key(topic, partition));
  }

  /**
   * Rewrites a checkpoint file (crash-safely) when its contents changed: the open logs'
   * offsets, and the entries read at start for partitions on disk not opened yet.
   */
  private writeCheckpoint(checkpoint: Checkpoint): void {
    // A failed directory is not written to; the next start recovers from the old files.
    if (this.directory.offline) return;
    const entries = new Map<string, CheckpointEntry>();
    for (const [key, entry] of checkpoint.loaded)
      if (this.fs.isDirectory(this.partitionDir(entry.topic, entry.partition))) entries.set(key, entry);
    for (const [key, log] of this.logs) {
      if (checkpoint.includes && !checkpoint.includes(log)) entries.delete(key);
      else entries.set(key, { topic: log.topic, partition: log.partition, offset: checkpoint.offsetOf(log) });
    }
    const text = formatOffsetCheckpoint([...entries.values()]);
    checkpoint.lastMs = this.clock();
    if (text === checkpoint.written) return;
    try {
      writeOffsetCheckpoint(this.fs, checkpoint.file, text);
    } catch (error) {
      if (isStorageError(error) && !isTransientStorageError(error)) this.directory.markOffline('', -1, error);
      throw error;
    }
    checkpoint.written = text;
  }

  /** Writes the checkpoint files now (shutdown; tests). */
  checkpoint(): void {
    this.writeCheckpoint(this.recoveryPoints);
    this.writeCheckpoint(this.highWatermarks);
    this.writeCheckpoint(this.logStarts);
  }

  /**
   * Makes the partitions' log start offsets durable (log-start-offset-checkpoint, crash-safe);
   * called after a start moved and before the move is answered or acted on. Throws a
   * storage error (a non-transient one takes the directory offline).
   */
  checkpointLogStartOffsets(): void {
    if (this.directory.offline) throw this.directory.offlineError();
    this.writeCheckpoint(this.logStarts);
  }

  private housekeeping(): void {
    if (this.directory.offline) return;
    const now = this.clock();
    for (const log of this.logs.values()) {
      this.guarded(log, 'flush and roll by time', () => {
        log.maybeFlushByTime(now);
        log.maybeRollByTime(now);
      });
    }
    if (
      now - this.lastProducerExpiryMs >=
      (this.options.producerIdExpirationCheckIntervalMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS)
    ) {
      this.lastProducerExpiryMs = now;
      this.expireProducers(now);
    }
    if (
      now - this.lastRetentionCheckMs >=
      (this.options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS)
    ) {
      this.lastRetentionCheckMs = now;
      this.applyRetention(now);
    }
    for (const checkpoint of [this.recoveryPoints, this.highWatermarks]) {
      if (now - checkpoint.lastMs < checkpoint.intervalMs) continue;
      try {
        this.writeCheckpoint(checkpoint);
      } catch (error) {
        if (!this.options.onHousekeepingError) throw error;
        this.options.onHousekeepingError({ topic: '', partition: -1, step: `write ${checkpoint.file}`, error });
      }
    }
  }

  /** Runs one partition's periodic step; an error is that partition's, reported, not thrown from a timer. */
  private guarded(log: PartitionLog, step: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      if (!this.options.onHousekeepingError) throw error;
      this.options.onHousekeepingError({ topic: log.topic, partition: log.partition, step, error });
    }
  }

  /** Forgets, in every partition, idempotent producers silent for producer.id.expiration.ms. */
  expireProducers(nowMs = this.clock()): number {
    const expirationMs = this.options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    let removed = 0;
    for (const log of this.logs.values()) removed += log.expireProducers(nowMs, expirationMs);
    return removed;
  }

  /** Applies every partition's retention settings now (the periodic check; tests call it). */
  applyRetention(nowMs = this.clock()): void {
    // The segments below a moved log start go only once that start is durable.
    try {
      this.writeCheckpoint(this.logStarts);
    } catch (error) {
      if (!this.options.onHousekeepingError) throw error;
      this.options.onHousekeepingError({ topic: '', partition: -1, step: `write ${this.logStarts.file}`, error });
      return;
    }
    for (const log of this.logs.values()) {
      this.guarded(log, 'retention', () => {
        const segmentsDeleted = log.applyRetention(nowMs);
        if (segmentsDeleted > 0)
          this.options.onRetention?.({
            topic: log.topic,
            partition: log.partition,
            segmentsDeleted,
            logStartOffset: log.logStartOffset,
          });
      });
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A pass in flight stops at its next batch; its .cleaned files are removed at the next open.
    void this.cleaner?.stop();
    void this.cleanerPool?.close();
    this.cleanerPool = null;
    for (const log of this.logs.values()) log.close();
    // Every log is flushed now: the recovery points are the log ends.
    this.checkpoint();
    this.logs.clear();
  }
}
