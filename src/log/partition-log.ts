// The log of one partition: its segments, offsets (log start, log end, high watermark),
// appends with offset assignment and idempotence checks, reads that hand out stored
// batches as byte ranges, timestamp lookups, the tail cache, flush policy and recovery.
// Appends are synchronous: the write reaches the kernel before the produce is answered,
// so a kill -9 loses nothing acknowledged.

import * as path from 'node:path';
import { ErrorCode } from '../../protocol/errors';
import {
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  RecordBatchView,
} from '../../protocol/record-batch';
import { FileSystem, mkdirDurable, readWholeFile, writeFileDurable } from './file-system';
import { ProducerEntry, ProducerStateTable } from './producer-state';
import { Segment, SegmentLimits } from './segment';
import {
  CLEAN_SHUTDOWN_FILE,
  INDEX_SUFFIX,
  isProducerSnapshotName,
  isSegmentLogName,
  LOG_SUFFIX,
  offsetFileName,
  offsetOfFileName,
  PRODUCER_SNAPSHOT_SUFFIX,
  SEGMENT_FILE_SUFFIXES,
  TEMPORARY_SUFFIX,
  TIME_INDEX_SUFFIX,
} from './on-disk-names';
import { scanBatches, scanBuffer, ScannedBatch } from './batch-scan';
import { completeInterruptedSwaps, swapFileName } from './cleaner/swap';
import { cleanedFileNames, type ActiveProducer, type CleanedGroup, type CleanSegment } from './cleaner/clean';
import { LeaderEpochCache } from './leader-epoch-cache';
import { isStorageError, isTransientStorageError, LogDirectory } from './log-directory';
import { TailCache, TailEntry } from './tail-cache';

export interface PartitionLogOptions {
  fs: FileSystem;
  dir: string;
  topic: string;
  partition: number;
  /** Effective topic configs by Kafka name (segment.bytes, segment.ms, flush.messages ...). */
  config: Record<string, string>;
  clock: () => number;
  tailCache: TailCache;
  /** The active segment was already verified (parallel recovery): trust its indexes. */
  tailVerified?: boolean;
  /**
   * From the recovery-point checkpoint: the log below this offset was durable when it was
   * written. After an unclean stop the segments from the one holding it on are recovered
   * (every batch checked); without it every segment is.
   */
  recoveryPoint?: number;
  /**
   * From the high-watermark checkpoint (kept between the log start and the log end).
   * Without it the high watermark starts at the log end, as for a log used on its own.
   */
  highWatermark?: number;
  /**
   * From the log-start-offset checkpoint: records below it were deleted (DeleteRecords, or
   * a leader's log start a follower took) though their segment may still be on disk. The
   * log starts at the larger of this and its first segment's base offset.
   */
  logStartOffset?: number;
  /**
   * The recovery point went down (a truncation): the checkpoint must not claim more than
   * is durable now, so the owner rewrites it at once.
   */
  onRecoveryPointLowered?: () => void;
  /** The log was cut back to `offset` (the cleaner cleans again from there). */
  onTruncated?: (offset: number) => void;
  /** The log directory's health, shared by its logs (a log used on its own gets its own). */
  directory?: LogDirectory;
  /** Idempotent producers remembered (brook.max.producer.ids.per.partition); unbounded when absent. */
  maxProducerIds?: number;
}

export interface AppendResult {
  errorCode: number;
  errorMessage?: string;
  baseOffset: number;
  lastOffset: number;
  logStartOffset: number;
  duplicate?: boolean;
}

export interface ReadResult {
  errorCode: number;
  chunks: Buffer[];
  bytes: number;
}

/**
 * How long the files of segments the cleaner replaced stay open (Kafka's
 * file.delete.delay.ms default): a read that took a segment before the swap finishes on it.
 */
const RETIRED_SEGMENT_CLOSE_MS = 60_000;

/** retention.ms when a config map has none (Kafka's log.retention.hours=168). */
const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Whether the whole batches in `buf[0, length)` hold no record at all. */
function onlyEmptyBatches(buf: Buffer, length: number): boolean {
  for (let at = 0; at < length; at += LOG_OVERHEAD + buf.readInt32BE(at + LENGTH_OFFSET))
    if (buf.readInt32BE(at + RECORDS_COUNT_OFFSET) !== 0) return false;
  return true;
}

/** One whole stored batch starting at an offset >= `expectedOffset`. */
function isWholeStoredBatch(batch: Buffer, expectedOffset: number): boolean {
  const scan = scanBuffer(batch, 0, expectedOffset);
  return scan.stop === 'end' && scan.batches.length === 1;
}

/** A jitter in [0, boundMs) drawn from a segment's identity (FNV-1a over topic, partition, base offset). */
function segmentJitterMs(topic: string, partition: number, baseOffset: number, boundMs: number): number {
  let hash = 0x811c9dc5;
  for (const ch of `${topic}-${partition}@${baseOffset}`) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, Math.floor(boundMs));
}

function configNumber(config: Record<string, string>, name: string, fallback: number): number {
  const value = Number(config[name]);
  return Number.isFinite(value) ? value : fallback;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  config: Record<string, string>;
  private readonly fs: FileSystem;
  private readonly clock: () => number;
  private readonly segments: Segment[] = [];
  private readonly producers: ProducerStateTable;
  private readonly listeners = new Set<() => void>();
  private readonly hwListeners = new Set<() => void>();
  private readonly cache: TailCache;
  private readonly cacheEntries: TailEntry[] = [];
  /** Which leader epoch wrote which offsets (replication: truncation after leader changes). */
  readonly epochs: LeaderEpochCache;
  logStartOffset = 0;
  logEndOffset = 0;
  private hw = 0;
  /** Every batch below this offset is durable (fsynced with its indexes). */
  private durableOffset = 0;
  private readonly onRecoveryPointLowered: () => void;
  private readonly onTruncated: (offset: number) => void;
  readonly directory: LogDirectory;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private closed = false;
  /** Bytes cut off the tail during recovery (for logs and tests). */
  readonly recoveredTruncatedBytes: number;
  /** Counts truncations: a cleaning pass started before one must not swap its segments in. */
  private truncations = 0;
  /** Segments the cleaner replaced, closed a while later so a reader mid-way can finish. */
  private readonly retired = new Set<Segment>();

  private constructor(options: PartitionLogOptions, producers: ProducerStateTable, truncated: number) {
    this.fs = options.fs;
    this.dir = options.dir;
    this.topic = options.topic;
    this.partition = options.partition;
    this.config = options.config;
    this.clock = options.clock;
    this.cache = options.tailCache;
    this.producers = producers;
    this.epochs = new LeaderEpochCache(options.fs, options.dir);
    this.recoveredTruncatedBytes = truncated;
    this.lastFlushMs = options.clock();
    this.onRecoveryPointLowered = options.onRecoveryPointLowered ?? (() => undefined);
    this.onTruncated = options.onTruncated ?? (() => undefined);
    this.directory = options.directory ?? new LogDirectory(path.dirname(options.dir));
  }

  private get limits(): SegmentLimits {
    return {
      indexIntervalBytes: configNumber(this.config, 'index.interval.bytes', 4096),
      segmentIndexBytes: configNumber(this.config, 'segment.index.bytes', 10 * 1024 * 1024),
    };
  }

  /** Opens (recovering if the last shutdown was not clean) or creates the partition. */
  static open(options: PartitionLogOptions, preTruncatedBytes = 0): PartitionLog {
    const { fs, dir } = options;
    mkdirDurable(fs, dir);
    const cleanMarker = path.join(dir, CLEAN_SHUTDOWN_FILE);
    const clean = fs.exists(cleanMarker);
    const names = fs.readdir(dir);
    // Temporary files of writes a crash cut short (checkpoints, snapshots) are dropped.
    for (const name of names) if (name.endsWith(TEMPORARY_SUFFIX)) fs.unlink(path.join(dir, name));
    // A cleaner swap a crash interrupted is rolled back (.cleaned) or completed (.swap).
    completeInterruptedSwaps(fs, dir);
    const bases = fs
      .readdir(dir)
      .filter(isSegmentLogName)
      .map(offsetOfFileName)
      .sort((a, b) => a - b);
    const producers = new ProducerStateTable(options.maxProducerIds);
    const log = new PartitionLog(options, producers, 0);
    let truncated = preTruncatedBytes;
    // After an unclean stop, the segment holding the recovery point and every later one
    // may hold batches that never reached the disk whole: each is checked batch by batch
    // and cut at the first bad one. The active segment is always checked.
    let firstToRecover = 0;
    while (firstToRecover + 1 < bases.length && bases[firstToRecover + 1] <= (options.recoveryPoint ?? 0))
      firstToRecover++;
    let recovered = false;
    let dropped = false;
    for (let i = 0; i < bases.length; i++) {
      const isActive = i === bases.length - 1;
      const recover = !clean && i >= firstToRecover && !(isActive && options.tailVerified);
      recovered ||= !clean && i >= firstToRecover;
      const { segment, truncatedBytes } = Segment.open(fs, dir, bases[i], log.limits, recover);
      truncated += truncatedBytes;
      log.segments.push(segment);
      if (!isActive && (truncatedBytes > 0 || segment.nextOffset !== bases[i + 1])) {
        // A cut (or a gap) inside the log: what follows cannot continue it, and goes.
        for (const later of bases.slice(i + 1)) {
          const handle = fs.open(path.join(dir, offsetFileName(later, LOG_SUFFIX)));
          truncated += handle.size();
          handle.close();
          log.deleteSegmentFiles(later);
        }
        dropped = true;
        break;
      }
    }
    if (dropped) fs.syncDir(dir);
    if (log.segments.length === 0) log.segments.push(Segment.create(fs, dir, 0, log.limits));
    log.logStartOffset = Math.max(log.segments[0].baseOffset, options.logStartOffset ?? 0);
    log.logEndOffset = log.active.nextOffset;
    // What recovery kept (and cut) is made durable before anything can read it: an offset
    // served once is never served again with other contents.
    if (recovered) for (const segment of log.segments.slice(firstToRecover)) segment.flush();
    log.durableOffset = log.logEndOffset;
    log.hw =
      options.highWatermark === undefined
        ? log.logEndOffset
        : Math.min(Math.max(options.highWatermark, log.logStartOffset), log.logEndOffset);
    (log as { recoveredTruncatedBytes: number }).recoveredTruncatedBytes = truncated;
    log.rebuildProducerState();
    if (!log.epochs.load()) {
      // No (readable) checkpoint: the epochs are in the batches themselves.
      const entries: { epoch: number; startOffset: number }[] = [];
      log.forEachBatch(log.logStartOffset, (batch) => {
        const last = entries[entries.length - 1];
        if (batch.leaderEpoch >= 0 && (!last || batch.leaderEpoch > last.epoch))
          entries.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset });
      });
      log.epochs.reset(entries);
    }
    log.epochs.truncateFromStart(log.logStartOffset);
    log.epochs.truncateFromEnd(log.logEndOffset);
    if (log.logStartOffset > log.logEndOffset) {
      // The log ends below its checkpointed start (its tail was lost): nothing in it may be
      // served again, so it starts over, empty, at the start (Kafka's LogLoader does so).
      log.truncateFullyUnguarded(log.logStartOffset);
    }
    if (clean) {
      // The marker must not come back after a crash: the next start would skip recovery.
      fs.unlink(cleanMarker);
      fs.syncDir(dir);
    }
    return log;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  get highWatermark(): number {
    return this.hw;
  }

  /**
   * Moves the high watermark (never past the log end); readers parked for data wake when it
   * advances. A replicated leader holds it at the smallest log end in the ISR; a follower
   * takes the leader's.
   */
  set highWatermark(offset: number) {
    const next = Math.min(offset, this.logEndOffset);
    const advanced = next > this.hw;
    this.hw = next;
    if (advanced) this.notify(this.hwListeners);
  }

  /** The offset below which every batch is durable: what the recovery-point checkpoint records. */
  get recoveryPoint(): number {
    return this.durableOffset;
  }

  /** A truncation took the log end below the durable point. */
  private lowerRecoveryPoint(): void {
    if (this.durableOffset <= this.logEndOffset) return;
    this.durableOffset = this.logEndOffset;
    this.onRecoveryPointLowered();
  }

  get lastStableOffset(): number {
    return this.hw;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Loads the newest valid producer snapshot at or below the log end, then replays the
   * batches after it. Snapshots past the log end (their batches were lost or cut) are
   * deleted, durably, before anything can be written at those offsets again; a torn or
   * corrupt one (bad CRC) is skipped and the replay starts from an older one or the log start.
   */
  private rebuildProducerState(): void {
    let from = this.logStartOffset;
    const snapshots = this.fs
      .readdir(this.dir)
      .filter(isProducerSnapshotName)
      .map(offsetOfFileName)
      .filter((offset) => Number.isFinite(offset))
      .sort((a, b) => b - a);
    let deleted = false;
    for (const offset of snapshots) {
      const file = path.join(this.dir, offsetFileName(offset, PRODUCER_SNAPSHOT_SUFFIX));
      if (offset > this.logEndOffset || offset < this.logStartOffset) {
        this.fs.unlink(file);
        deleted = true;
        continue;
      }
      const table = ProducerStateTable.decodeSnapshot(readWholeFile(this.fs, file));
      if (!table) continue;
      for (const entry of table.toJSON())
        for (const batch of entry.batches)
          this.producers.record(entry.producerId, entry.epoch, batch, entry.lastTimestamp);
      from = offset;
      break;
    }
    if (deleted) this.fs.syncDir(this.dir);
    this.forEachBatch(from, (batch) => this.recordProducerBatch(batch));
  }

  private recordProducerBatch(batch: ScannedBatch): void {
    if (batch.producerId < 0 || batch.baseSequence < 0) return;
    this.producers.record(
      batch.producerId,
      batch.producerEpoch,
      {
        firstSeq: batch.baseSequence,
        lastSeq: batch.lastSequence,
        firstOffset: batch.baseOffset,
        lastOffset: batch.lastOffset,
      },
      batch.maxTimestamp,
    );
  }

  /** Visits stored batch headers from `offset` on (no CRC check: used after recovery). */
  private forEachBatch(offset: number, visit: (batch: ScannedBatch) => void): void {
    for (const segment of this.segments) {
      if (segment.nextOffset <= offset) continue;
      const start = segment.lookup(offset);
      scanBatches(
        segment.logFile,
        start,
        segment.size,
        0,
        (batch) => {
          if (batch.lastOffset >= offset) visit(batch);
        },
        false,
      );
    }
  }

  /**
   * Forgets idempotent producers whose last batch is `expirationMs` old
   * (producer.id.expiration.ms); returns how many.
   */
  expireProducers(nowMs: number, expirationMs: number): number {
    return this.producers.expire(nowMs, expirationMs);
  }

  /** The idempotent producers this partition remembers (DescribeProducers), least recently written first. */
  activeProducers(): readonly ProducerEntry[] {
    return this.producers.toJSON();
  }

  /** Idempotent producers this partition remembers. */
  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * Writes the producer state at the log end crash-safely (temporary file, fsync, rename,
   * directory fsync). Called only when the log up to the log end is durable, so a snapshot
   * never describes batches a crash can take away.
   */
  private writeProducerSnapshot(): void {
    const file = path.join(this.dir, offsetFileName(this.logEndOffset, PRODUCER_SNAPSHOT_SUFFIX));
    writeFileDurable(this.fs, file, this.producers.encodeSnapshot(), TEMPORARY_SUFFIX);
    // Keep the two newest snapshots (an old one coming back after a crash is harmless).
    const snapshots = this.fs.readdir(this.dir).filter(isProducerSnapshotName).sort();
    for (const old of snapshots.slice(0, -2)) this.fs.unlink(path.join(this.dir, old));
  }

  private shouldRoll(incomingBytes: number, nowMs: number): boolean {
    const segment = this.active;
    if (segment.isEmpty) return false;
    const segmentBytes = configNumber(this.config, 'segment.bytes', 1024 * 1024 * 1024);
    if (segment.size + incomingBytes > segmentBytes) return true;
    if (segment.firstAppendMs >= 0 && nowMs - segment.firstAppendMs >= this.rollAfterMs(segment.baseOffset))
      return true;
    return segment.indexFull;
  }

  /**
   * How old the active segment may get, as Kafka's LogConfig.maxSegmentMs and its roll
   * jitter have it: segment.ms, or max.compaction.lag.ms when that is shorter on a
   * compacted topic (so the cleaner can reach every record in time), less the segment's
   * jitter. Kafka draws the jitter at random below min(segment.jitter.ms, segment.ms);
   * here it is drawn from the segment's base offset, so it spreads the partitions' rolls
   * as Kafka's does and is the same after a restart.
   */
  private rollAfterMs(baseOffset: number): number {
    let maxMs = configNumber(this.config, 'segment.ms', 7 * 24 * 3600 * 1000);
    const compacted = (this.config['cleanup.policy'] ?? '').split(',').includes('compact');
    const maxLagMs = configNumber(this.config, 'max.compaction.lag.ms', Number.MAX_SAFE_INTEGER);
    if (compacted && maxLagMs > 0) maxMs = Math.min(maxMs, maxLagMs);
    const jitterMs = Math.min(configNumber(this.config, 'segment.jitter.ms', 0), maxMs);
    if (jitterMs <= 0) return maxMs;
    return maxMs - segmentJitterMs(this.topic, this.partition, baseOffset, jitterMs);
  }

  /**
   * ListOffsets v0's "old-style" offsets: candidates are each segment's base offset (at
   * least the log start) dated by its last write, plus the log end offset dated now when
   * the active segment holds data. Latest starts from the newest candidate, earliest from
   * the oldest, a timestamp from the newest one dated at or before it; up to
   * `maxNumOffsets` of them are returned, going back, newest first. Kafka dates segments
   * by their file's modification time; Brook by the newest record timestamp in them.
   */
  legacyOffsetsBefore(timestamp: number, maxNumOffsets: number, nowMs = Date.now()): number[] {
    const candidates: { offset: number; dated: number }[] = this.segments.map((segment) => ({
      offset: Math.max(segment.baseOffset, this.logStartOffset),
      dated: segment.maxTimestamp,
    }));
    if (!this.active.isEmpty) candidates.push({ offset: this.logEndOffset, dated: nowMs });
    let start: number;
    if (timestamp === -1) start = candidates.length - 1;
    else if (timestamp === -2) start = 0;
    else {
      start = candidates.length - 1;
      while (start >= 0 && candidates[start].dated > timestamp) start--;
    }
    const out: number[] = [];
    for (let i = start; i >= 0 && out.length < Math.max(0, maxNumOffsets); i--) out.push(candidates[i].offset);
    return out.sort((a, b) => b - a);
  }

  private roll(): void {
    // The outgoing segment is complete: its data and indexes are made durable now, so
    // a sealed segment is never left with an unsynced tail.
    this.flush();
    this.writeProducerSnapshot();
    this.segments.push(Segment.create(this.fs, this.dir, this.logEndOffset, this.limits));
  }

  /**
   * Appends produced batches as the leader (one produce partition's validated record set):
   * idempotence checks, offsets assigned and `leaderEpoch` stamped by patching the batches
   * in place, segment write, index update; every batch is written or none. With
   * `holdHighWatermark` (a replicated partition) the high watermark stays where it is until
   * the followers have the batches.
   */
  append(batches: Buffer[], options: { leaderEpoch: number; holdHighWatermark?: boolean }): AppendResult {
    if (this.closed) return this.refuse(ErrorCode.KAFKA_STORAGE_ERROR, 'log is closed');
    if (this.directory.offline)
      return this.refuse(ErrorCode.KAFKA_STORAGE_ERROR, this.directory.offlineError().message);
    const views = batches.map((batch) => new RecordBatchView(batch));
    // Idempotence: check every batch before writing any.
    const pending = new Map<number, { epoch: number; lastSeq: number; firstOffset: number }>();
    for (let i = 0; i < views.length; i++) {
      const view = views[i];
      const producerId = view.producerId;
      if (producerId < 0) continue;
      const inRequest = pending.get(producerId);
      if (inRequest) {
        const expected = inRequest.lastSeq === 0x7fffffff ? 0 : inRequest.lastSeq + 1;
        if (view.producerEpoch !== inRequest.epoch || view.baseSequence !== expected) {
          return this.refuse(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'batches in one request out of sequence');
        }
      } else {
        const verdict = this.producers.check(producerId, view.producerEpoch, view.baseSequence, view.lastSequence);
        if (verdict.kind === 'error') return this.refuse(verdict.errorCode, verdict.message);
        if (verdict.kind === 'duplicate') {
          return {
            errorCode: ErrorCode.NONE,
            baseOffset: verdict.firstOffset,
            lastOffset: verdict.lastOffset,
            logStartOffset: this.logStartOffset,
            duplicate: true,
          };
        }
      }
      pending.set(producerId, { epoch: view.producerEpoch, lastSeq: view.lastSequence, firstOffset: 0 });
    }

    const nowMs = this.clock();
    const baseOffset = this.logEndOffset;
    let next = baseOffset;
    const meta = views.map((view) => {
      view.setBaseOffset(next);
      view.setPartitionLeaderEpoch(options.leaderEpoch);
      const entry = { baseOffset: next, lastOffset: next + view.lastOffsetDelta, maxTimestamp: view.maxTimestamp };
      next = entry.lastOffset + 1;
      return entry;
    });
    // Nothing below changes what readers see until every file is written.
    try {
      this.writeAll(batches, meta, nowMs, () => this.epochs.assign(options.leaderEpoch, baseOffset));
    } catch (error) {
      return this.refuse(ErrorCode.KAFKA_STORAGE_ERROR, this.storageFailure('append', error));
    }
    this.logEndOffset = next;
    const hwMoved = !options.holdHighWatermark;
    if (hwMoved) this.hw = next;
    views.forEach((view, i) => {
      if (view.producerId >= 0) {
        this.producers.record(
          view.producerId,
          view.producerEpoch,
          {
            firstSeq: view.baseSequence,
            lastSeq: view.lastSequence,
            firstOffset: meta[i].baseOffset,
            lastOffset: meta[i].lastOffset,
          },
          view.maxTimestamp,
        );
      }
      this.cacheBatch(batches[i], meta[i].baseOffset, meta[i].lastOffset);
    });
    this.notify();
    if (hwMoved) this.notify(this.hwListeners);
    return { errorCode: ErrorCode.NONE, baseOffset, lastOffset: next - 1, logStartOffset: this.logStartOffset };
  }

  /**
   * Appends batches fetched from the leader as they are (offsets and leader epochs already
   * set). They must continue this log exactly; returns false (and writes nothing) if not.
   */
  appendAsFollower(batches: Buffer[]): boolean {
    if (this.directory.offline) throw this.directory.offlineError();
    if (this.closed || batches.length === 0) return batches.length === 0;
    const views = batches.map((batch) => new RecordBatchView(batch));
    let expected = this.logEndOffset;
    for (const view of views) {
      // The leader's batches are checked as stored batches (length, magic, CRC-32C, offsets
      // moving forward), not as produced ones: a compacted log has offset gaps, batches that
      // kept some of their records and empty ones.
      if (view.baseOffset < expected || !isWholeStoredBatch(view.buf, expected)) return false;
      expected = view.baseOffset + view.lastOffsetDelta + 1;
    }
    const nowMs = this.clock();
    const meta = views.map((view) => ({
      baseOffset: view.baseOffset,
      lastOffset: view.baseOffset + view.lastOffsetDelta,
      maxTimestamp: view.maxTimestamp,
    }));
    try {
      this.writeAll(batches, meta, nowMs, () => {
        for (const [i, view] of views.entries()) this.epochs.assign(view.partitionLeaderEpoch, meta[i].baseOffset);
      });
    } catch (error) {
      // The fetcher retries (and stops retrying if the directory went offline).
      this.storageFailure('append as follower', error);
      throw error;
    }
    this.logEndOffset = expected;
    views.forEach((view, i) => {
      if (view.producerId >= 0 && view.baseSequence >= 0) {
        this.producers.record(
          view.producerId,
          view.producerEpoch,
          {
            firstSeq: view.baseSequence,
            lastSeq: view.lastSequence,
            firstOffset: meta[i].baseOffset,
            lastOffset: meta[i].lastOffset,
          },
          view.maxTimestamp,
        );
      }
      this.cacheBatch(batches[i], meta[i].baseOffset, meta[i].lastOffset);
    });
    this.notify();
    return true;
  }

  /**
   * The file side of an append, all or nothing: a roll if due, the leader-epoch entries
   * (`assignEpochs`), the batches and their index entries, and the fsync flush.messages
   * asks for. On an error everything is undone (a segment just rolled is removed, the
   * files are cut back) and the error is thrown: the log is as it was, no offset used. An
   * undo that fails takes the directory offline.
   */
  private writeAll(
    batches: Buffer[],
    meta: { baseOffset: number; lastOffset: number; maxTimestamp: number }[],
    nowMs: number,
    assignEpochs: () => void,
  ): void {
    const segmentCount = this.segments.length;
    const mark = this.active.mark();
    const epochs = this.epochs.all();
    const unflushed = this.unflushedMessages;
    try {
      let incomingBytes = 0;
      for (const batch of batches) incomingBytes += batch.length;
      if (this.shouldRoll(incomingBytes, nowMs)) this.roll();
      assignEpochs();
      if (batches.length === 0) return;
      this.active.append(batches, meta, nowMs);
      this.unflushedMessages += meta[meta.length - 1].lastOffset + 1 - meta[0].baseOffset;
      if (this.unflushedMessages >= configNumber(this.config, 'flush.messages', Number.MAX_SAFE_INTEGER)) {
        this.flush();
        this.durableOffset = meta[meta.length - 1].lastOffset + 1;
      }
    } catch (error) {
      this.unflushedMessages = unflushed;
      try {
        if (this.segments.length > segmentCount) {
          while (this.segments.length > segmentCount) {
            const segment = this.segments.pop()!;
            segment.close();
            this.deleteSegmentFiles(segment.baseOffset);
          }
          // The rolled segment may hold fsynced bytes of this append: its removal is made
          // durable, or a crash would bring the refused batch back.
          this.fs.syncDir(this.dir);
        }
        this.active.rollbackTo(mark);
        this.epochs.restore(epochs);
      } catch (undoError) {
        this.directory.markOffline(this.topic, this.partition, undoError);
      }
      throw error;
    }
  }

  /**
   * Notes a failed write or read: an error that is not a file-system one is a bug and is
   * thrown on; a transient one (no space, no file descriptors) leaves the directory
   * online; any other takes it offline. Returns the message for the client.
   */
  private storageFailure(what: string, error: unknown): string {
    if (!isStorageError(error)) throw error;
    this.directory.onError({ dir: this.directory.dir, topic: this.topic, partition: this.partition, error });
    if (!isTransientStorageError(error)) this.directory.markOffline(this.topic, this.partition, error);
    const offline = this.directory.offline ? ' (log directory offline)' : '';
    return `${what} failed: ${error.code}${offline}`;
  }

  /**
   * Cuts the log before the batch holding `offset` (a follower dropping what a deposed
   * leader wrote past the new leader's log). Returns the new log end offset.
   */
  truncateTo(offset: number): number {
    return this.failStop(() => this.truncateToUnguarded(offset));
  }

  /**
   * Runs a change that cannot be undone part-way (truncation, retention, a shutdown): a
   * file-system error in it takes the directory offline, and is thrown on. An offline
   * directory refuses the change.
   */
  private failStop<T>(change: () => T): T {
    if (this.directory.offline) throw this.directory.offlineError();
    try {
      return change();
    } catch (error) {
      if (isStorageError(error)) this.directory.markOffline(this.topic, this.partition, error);
      throw error;
    }
  }

  private truncateToUnguarded(offset: number): number {
    if (offset >= this.logEndOffset) return this.logEndOffset;
    this.truncations++;
    const target = Math.max(offset, this.logStartOffset);
    while (this.segments.length > 1 && this.active.baseOffset >= target) {
      const segment = this.segments.pop()!;
      segment.close();
      this.deleteSegmentFiles(segment.baseOffset);
    }
    // The deletions are durable before anything is written past the cut.
    this.fs.syncDir(this.dir);
    this.active.truncateTo(target);
    this.logEndOffset = this.active.nextOffset;
    if (this.logEndOffset < this.logStartOffset) {
      // The cut fell inside the batch holding the log start: what remains below the start
      // is deleted already, so the log starts over, empty, at its start.
      this.truncateFullyUnguarded(this.logStartOffset);
      return this.logEndOffset;
    }
    this.lowerRecoveryPoint();
    this.hw = Math.min(this.hw, this.logEndOffset);
    this.epochs.truncateFromEnd(this.logEndOffset);
    this.cache.dropAll(this.cacheEntries);
    // Producer state is rebuilt from what remains (snapshots past the new end are dropped).
    this.producers.clear();
    this.rebuildProducerState();
    this.onTruncated(this.logEndOffset);
    return this.logEndOffset;
  }

  /**
   * Kafka's delete cleanup policy: drops the oldest segments that retention.ms (age of the
   * newest record in the segment) or retention.bytes (the partition's size without them)
   * no longer keep. Only sealed segments go, and only those wholly below the high
   * watermark, so nothing is deleted that is not committed; the log start offset moves to
   * the first segment kept. A topic whose cleanup.policy lacks "delete" keeps everything.
   * Returns the number of segments deleted.
   */
  applyRetention(nowMs: number): number {
    if (this.closed || this.directory.offline) return 0;
    return this.failStop(() => this.applyRetentionUnguarded(nowMs));
  }

  private applyRetentionUnguarded(nowMs: number): number {
    // Segments wholly below the log start offset go whatever the cleanup policy (Kafka's
    // deleteLogStartOffsetBreachedSegments): their records were deleted already.
    let deleted = 0;
    while (this.segments.length > 1 && this.segments[1].baseOffset <= this.logStartOffset) {
      this.deleteOldestSegment();
      deleted++;
    }
    if (!this.deletePolicy) return deleted;
    const retentionMs = configNumber(this.config, 'retention.ms', DEFAULT_RETENTION_MS);
    const retentionBytes = configNumber(this.config, 'retention.bytes', -1);
    let size = this.sizeBytes;
    while (this.segments.length > 1 && this.segments[1].baseOffset <= this.hw) {
      const oldest = this.segments[0];
      // A segment whose records carry no timestamps is kept by time (only size removes it).
      const expired = retentionMs >= 0 && oldest.maxTimestamp >= 0 && nowMs - oldest.maxTimestamp > retentionMs;
      const oversized = retentionBytes >= 0 && size - oldest.size >= retentionBytes;
      if (!expired && !oversized) break;
      size -= oldest.size;
      this.deleteOldestSegment();
      deleted++;
    }
    return deleted;
  }

  /** Whether cleanup.policy includes "delete" (retention, and records deleted by offset). */
  get deletePolicy(): boolean {
    const policies = (this.config['cleanup.policy'] ?? 'delete').split(',').map((p) => p.trim());
    return policies.includes('delete');
  }

  /**
   * Kafka's maybeIncrementLogStartOffset: records below `offset` are deleted (DeleteRecords
   * on the leader, or the leader's log start a follower takes). The start never moves back
   * and never past the high watermark (OFFSET_OUT_OF_RANGE). Reads below it are refused at
   * once; the segments wholly below it go at the next retention check, after the owner has
   * made the new start durable (the log-start-offset checkpoint), so a crash cannot bring
   * the records back. Returns the error code and whether the start moved.
   */
  maybeIncrementLogStartOffset(offset: number): { errorCode: number; moved: boolean } {
    if (this.closed || this.directory.offline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, moved: false };
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.hw)
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, moved: false };
    if (offset <= this.logStartOffset) return { errorCode: ErrorCode.NONE, moved: false };
    this.logStartOffset = offset;
    this.cache.dropBefore(this.cacheEntries, offset);
    try {
      this.failStop(() => this.epochs.truncateFromStart(offset));
    } catch (error) {
      if (!isStorageError(error)) throw error;
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, moved: true };
    }
    return { errorCode: ErrorCode.NONE, moved: true };
  }

  /** The base offset of the oldest segment on disk (at or below the log start offset). */
  get firstSegmentBaseOffset(): number {
    return this.segments[0].baseOffset;
  }

  /**
   * Indexes first: a crash between the unlinks leaves a .log whose indexes are rebuilt at
   * start, never an index without its log.
   */
  private deleteSegmentFiles(baseOffset: number): void {
    for (const suffix of SEGMENT_FILE_SUFFIXES) this.fs.unlink(path.join(this.dir, offsetFileName(baseOffset, suffix)));
  }

  private deleteOldestSegment(): void {
    const segment = this.segments.shift()!;
    segment.close();
    this.deleteSegmentFiles(segment.baseOffset);
    this.logStartOffset = Math.max(this.logStartOffset, this.segments[0].baseOffset);
    this.epochs.truncateFromStart(this.logStartOffset);
    this.cache.dropBefore(this.cacheEntries, this.logStartOffset);
  }

  /**
   * Empties the log and restarts it at `offset` (a follower whose log ends before the
   * leader's log start: what it lacks was deleted by retention on the leader, so it starts
   * over where the leader's log starts, as Kafka's truncateFullyAndStartAt).
   */
  truncateFullyAndStartAt(offset: number): void {
    this.failStop(() => this.truncateFullyUnguarded(offset));
  }

  private truncateFullyUnguarded(offset: number): void {
    this.truncations++;
    while (this.segments.length > 0) {
      const segment = this.segments.pop()!;
      segment.close();
      this.deleteSegmentFiles(segment.baseOffset);
    }
    for (const name of this.fs.readdir(this.dir))
      if (isProducerSnapshotName(name)) this.fs.unlink(path.join(this.dir, name));
    // Segment.create syncs the directory: the old segments cannot come back after a crash.
    this.segments.push(Segment.create(this.fs, this.dir, offset, this.limits));
    this.logStartOffset = offset;
    this.logEndOffset = offset;
    this.hw = offset;
    if (this.durableOffset !== offset) {
      this.durableOffset = offset;
      this.onRecoveryPointLowered();
    }
    this.epochs.reset([]);
    this.cache.dropAll(this.cacheEntries);
    this.producers.clear();
    this.unflushedMessages = 0;
    this.onTruncated(offset);
  }

  private refuse(errorCode: number, message: string): AppendResult {
    return { errorCode, errorMessage: message, baseOffset: -1, lastOffset: -1, logStartOffset: this.logStartOffset };
  }

  private cacheBatch(batch: Buffer, baseOffset: number, lastOffset: number): void {
    // Small batches are copied so the cache does not pin whole socket read buffers.
    const bytes = batch.length < 16 * 1024 ? Buffer.from(batch) : batch;
    const entry: TailEntry = { baseOffset, lastOffset, bytes, owner: this.cacheEntries };
    this.cacheEntries.push(entry);
    this.cache.add(entry);
  }

  /** Called after each append (the log end moved): what followers' fetches wait for. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the high watermark advances: what consumers' fetches wait for. */
  onHighWatermark(listener: () => void): () => void {
    this.hwListeners.add(listener);
    return () => this.hwListeners.delete(listener);
  }

  private notify(listeners: Set<() => void> = this.listeners): void {
    if (listeners.size === 0) return;
    for (const listener of [...listeners]) listener();
  }

  /**
   * Reads whole batches from `fetchOffset` up to `maxBytes` (the first batch whole even if
   * larger, when `minOneBatch`), stopping before `upperBound` (the high watermark or last
   * stable offset). The bytes are the stored ones, from the tail cache or the segment file.
   */
  read(fetchOffset: number, maxBytes: number, options: { minOneBatch: boolean; upperBound?: number }): ReadResult {
    if (this.directory.offline) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, chunks: [], bytes: 0 };
    try {
      return this.readUnguarded(fetchOffset, maxBytes, options);
    } catch (error) {
      this.storageFailure('read', error);
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, chunks: [], bytes: 0 };
    }
  }

  private readUnguarded(
    fetchOffset: number,
    maxBytes: number,
    options: { minOneBatch: boolean; upperBound?: number },
  ): ReadResult {
    const upperBound = Math.min(options.upperBound ?? this.hw, this.logEndOffset);
    if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, chunks: [], bytes: 0 };
    }
    if (fetchOffset >= upperBound) return { errorCode: ErrorCode.NONE, chunks: [], bytes: 0 };
    const cached = this.readFromCache(fetchOffset, maxBytes, options.minOneBatch, upperBound);
    if (cached) return cached;
    return this.readFromSegment(fetchOffset, maxBytes, options.minOneBatch, upperBound);
  }

  private readFromCache(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    upperBound: number,
  ): ReadResult | null {
    const entries = this.cacheEntries;
    if (entries.length === 0 || entries[0].baseOffset > fetchOffset) return null;
    let lo = 0;
    let hi = entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid].lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (let i = lo; i < entries.length; i++) {
      const entry = entries[i];
      if (entry.lastOffset >= upperBound) break;
      if (bytes + entry.bytes.length > maxBytes && !(minOneBatch && chunks.length === 0)) break;
      chunks.push(entry.bytes);
      bytes += entry.bytes.length;
    }
    return { errorCode: ErrorCode.NONE, chunks, bytes };
  }

  private readFromSegment(fetchOffset: number, maxBytes: number, minOneBatch: boolean, upperBound: number): ReadResult {
    let index = this.segments.length - 1;
    while (index > 0 && this.segments[index].baseOffset > fetchOffset) index--;
    const segment = this.segments[index];
    const end = segment.size;
    const header = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
    // Skip from the indexed position to the batch holding fetchOffset, header by header.
    let position = segment.lookup(fetchOffset);
    while (position < end) {
      if (segment.read(header, position) < LOG_OVERHEAD + 15) break;
      const base = header.readInt32BE(0) * 0x100000000 + header.readUInt32BE(4);
      const last = base + header.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      if (last >= fetchOffset) break;
      position += LOG_OVERHEAD + header.readInt32BE(LENGTH_OFFSET);
    }
    if (position >= end) {
      // fetchOffset lies in a later segment (this one ended exactly before it).
      if (index + 1 < this.segments.length)
        return this.readFromSegment(this.segments[index + 1].baseOffset, maxBytes, minOneBatch, upperBound);
      return { errorCode: ErrorCode.NONE, chunks: [], bytes: 0 };
    }
    let want = Math.min(maxBytes, end - position);
    if (minOneBatch) {
      segment.read(header, position);
      want = Math.max(want, Math.min(LOG_OVERHEAD + header.readInt32BE(LENGTH_OFFSET), end - position));
    }
    if (want <= 0) return { errorCode: ErrorCode.NONE, chunks: [], bytes: 0 };
    const buf = Buffer.allocUnsafe(want);
    const got = segment.logFile.read(buf, 0, want, position);
    // Cut at the last whole batch below the upper bound.
    let at = 0;
    while (at + LOG_OVERHEAD <= got) {
      const size = LOG_OVERHEAD + buf.readInt32BE(at + LENGTH_OFFSET);
      if (at + size > got) break;
      const base = buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (last >= upperBound) break;
      at += size;
    }
    const chunks = at > 0 ? [buf.subarray(0, at)] : [];
    // A compacted segment may end in batches the cleaner kept without records. A reply made
    // of those alone gives a consumer no record to move past (kafkajs fetches the same offset
    // again), so the read goes on into the next segment until it has records.
    const next = this.segments[index + 1];
    if (at > 0 && position + at >= end && next && next.baseOffset < upperBound && onlyEmptyBatches(buf, at)) {
      const rest = this.readFromSegment(next.baseOffset, Math.max(0, maxBytes - at), minOneBatch, upperBound);
      return { errorCode: ErrorCode.NONE, chunks: [...chunks, ...rest.chunks], bytes: at + rest.bytes };
    }
    return { errorCode: ErrorCode.NONE, chunks, bytes: at };
  }

  /** Kafka's ListOffsets by time: the first offset whose record timestamp is >= `timestamp`. */
  async offsetForTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
    for (const segment of this.segments) {
      if (segment.maxTimestamp < timestamp || segment.nextOffset <= this.logStartOffset) continue;
      let position = segment.lookupTimestamp(timestamp);
      const header = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
      while (position < segment.size) {
        if (segment.read(header, position) < RECORD_BATCH_OVERHEAD) break;
        const view = new RecordBatchView(header);
        const size = LOG_OVERHEAD + view.batchLength;
        // Records below the log start were deleted (DeleteRecords) even if their batch remains.
        if (view.maxTimestamp >= timestamp && view.lastOffset >= this.logStartOffset) {
          const whole = Buffer.allocUnsafe(size);
          segment.read(whole, position);
          const found = new RecordBatchView(whole);
          if (found.lastOffset >= this.hw) return null;
          for (const record of await found.records()) {
            if (record.offset >= this.logStartOffset && record.timestamp >= timestamp)
              return { offset: record.offset, timestamp: record.timestamp };
          }
        }
        position += size;
      }
    }
    return null;
  }

  /** The offset and timestamp of the record with the largest timestamp (ListOffsets -3). */
  async offsetOfMaxTimestamp(): Promise<{ offset: number; timestamp: number } | null> {
    let best: Segment | null = null;
    for (const segment of this.segments)
      if (segment.maxTimestamp >= 0 && (!best || segment.maxTimestamp >= best.maxTimestamp)) best = segment;
    if (!best) return null;
    const result = await this.offsetForTimestamp(best.maxTimestamp);
    return result && result.timestamp === best.maxTimestamp ? result : null;
  }

  /** Forces written data to disk (flush policy, shutdown). */
  flush(): void {
    if (this.directory.offline) return;
    try {
      this.active.flush();
    } catch (error) {
      // An fsync that failed may have lost the written pages: nothing here is trusted.
      if (isStorageError(error)) this.directory.markOffline(this.topic, this.partition, error);
      throw error;
    }
    this.durableOffset = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = this.clock();
  }

  /** Called periodically by the manager to honour flush.ms. */
  maybeFlushByTime(nowMs: number): void {
    const flushMs = configNumber(this.config, 'flush.ms', Number.MAX_SAFE_INTEGER);
    if (this.unflushedMessages > 0 && nowMs - this.lastFlushMs >= flushMs) this.flush();
  }

  /** Rolls on age even without appends, so segment.ms holds for idle partitions too. */
  maybeRollByTime(nowMs: number): void {
    if (this.directory.offline || this.closed) return;
    if (this.shouldRoll(0, nowMs) && !this.active.isEmpty) {
      try {
        this.writeAll([], [], nowMs, () => undefined);
      } catch (error) {
        this.storageFailure('roll', error);
        throw error;
      }
    }
  }

  /**
   * What a cleaning pass needs to know of this log, taken at its start: the sealed
   * segments, the idempotent producers still known (their last batches stay), and a
   * token that replaceSegments checks (a truncation since makes the pass's work stale).
   */
  cleanerView(): {
    generation: number;
    logStartOffset: number;
    activeBaseOffset: number;
    highWatermark: number;
    segments: (CleanSegment & { maxTimestamp: number })[];
    activeProducers: ActiveProducer[];
  } {
    const sealed = this.segments.slice(0, -1);
    return {
      generation: this.truncations,
      logStartOffset: this.logStartOffset,
      activeBaseOffset: this.active.baseOffset,
      highWatermark: this.hw,
      segments: sealed.map((segment) => ({
        baseOffset: segment.baseOffset,
        nextOffset: segment.nextOffset,
        sizeBytes: segment.size,
        maxTimestamp: segment.maxTimestamp,
      })),
      activeProducers: this.producers.toJSON().flatMap((entry) => {
        const last = entry.batches[entry.batches.length - 1];
        return last
          ? [{ producerId: entry.producerId, producerEpoch: entry.epoch, lastDataOffset: last.lastOffset }]
          : [];
      }),
    };
  }

  /** Whether the log is closed, deleted or on a failed directory (a cleaning pass stops). */
  get cleanable(): boolean {
    return !this.closed && !this.directory.offline;
  }

  /**
   * Swaps a cleaned segment in for the segments it replaces (Kafka's replaceSegments),
   * crash-safely: the cleaned file (already fsynced) is renamed to `.swap` and the
   * directory fsynced, the old segments' files are deleted, the swap file is renamed into
   * place and the directory fsynced again; a crash anywhere is finished at the next open
   * (cleaner/swap.ts). All of it happens in one synchronous step, so no read sees half of
   * it; the old segments' files stay open a while for a reader that still holds one. Returns
   * false, and removes the cleaned file, when the log changed under the pass (a truncation,
   * retention took a replaced segment, or it closed).
   */
  replaceSegments(group: CleanedGroup, generation: number): boolean {
    const cleanedFile = path.join(this.dir, group.file);
    const first = this.segments.findIndex((segment) => segment.baseOffset === group.baseOffset);
    const count = group.replaced.length;
    const matches =
      this.cleanable &&
      generation === this.truncations &&
      first >= 0 &&
      first + count < this.segments.length &&
      group.replaced.every((base, i) => this.segments[first + i].baseOffset === base) &&
      this.segments[first + count].baseOffset === group.nextOffset;
    const [, cleanedIndex, cleanedTimeIndex] = cleanedFileNames(group).map((name) => path.join(this.dir, name));
    if (!matches) {
      if (!this.directory.offline)
        this.failStop(() => {
          for (const file of [cleanedFile, cleanedIndex, cleanedTimeIndex]) this.fs.unlink(file);
        });
      return false;
    }
    return this.failStop(() => {
      const swap = path.join(this.dir, swapFileName(group.baseOffset));
      this.fs.rename(cleanedFile, swap);
      this.fs.syncDir(this.dir);
      const old = this.segments.slice(first, first + count);
      for (const segment of old) this.deleteSegmentFiles(segment.baseOffset);
      // The indexes the pass wrote go into place first; a crash that loses them (or keeps
      // them without the log) costs only a rebuild, as a missing or inconsistent index does.
      const named = (suffix: string) => path.join(this.dir, offsetFileName(group.baseOffset, suffix));
      if (this.fs.exists(cleanedIndex)) this.fs.rename(cleanedIndex, named(INDEX_SUFFIX));
      if (this.fs.exists(cleanedTimeIndex)) this.fs.rename(cleanedTimeIndex, named(TIME_INDEX_SUFFIX));
      this.fs.rename(swap, named(LOG_SUFFIX));
      this.fs.syncDir(this.dir);
      const { segment } = Segment.open(this.fs, this.dir, group.baseOffset, this.limits, false);
      this.segments.splice(first, count, segment);
      for (const retired of old) this.retire(retired);
      // Cached batches of the cleaned range are the uncleaned ones: reads go to the segment.
      this.cache.dropBefore(this.cacheEntries, group.nextOffset);
      return true;
    });
  }

  private retire(segment: Segment): void {
    this.retired.add(segment);
    const timer = setTimeout(() => {
      if (this.retired.delete(segment)) segment.close();
    }, RETIRED_SEGMENT_CLOSE_MS);
    timer.unref();
  }

  private closeRetired(): void {
    for (const segment of this.retired) segment.close();
    this.retired.clear();
  }

  close(): void {
    if (this.closed) return;
    if (this.directory.offline) {
      // Nothing more is written to a failed directory: the next start recovers the log.
      this.abandon();
      return;
    }
    this.closed = true;
    for (const segment of this.segments) segment.flush();
    this.durableOffset = this.logEndOffset;
    this.writeProducerSnapshot();
    for (const segment of this.segments) segment.close();
    this.closeRetired();
    this.cache.dropAll(this.cacheEntries);
    const marker = this.fs.open(path.join(this.dir, CLEAN_SHUTDOWN_FILE));
    marker.sync();
    marker.close();
    this.fs.syncDir(this.dir);
  }

  /** Closes without the clean-shutdown marker (deletion, crash tests). */
  abandon(): void {
    this.closed = true;
    this.truncations++;
    for (const segment of this.segments) segment.close();
    this.closeRetired();
    this.cache.dropAll(this.cacheEntries);
  }
}
