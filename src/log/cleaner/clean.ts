// One cleaning pass over one partition's log (Kafka's Cleaner.doClean), written against
// the FileSystem interface so it runs inline on the in-memory file system of the crash
// tests and on a worker thread against the real one. It reads only sealed segments and
// writes only `<base>.log.cleaned` files; swapping them in is the log's job.
//
// 1. The offset map: every keyed record of the dirty section [firstDirtyOffset,
//    firstUncleanableOffset) maps its key to its offset, until the map holds
//    slots x load factor keys; the pass then cleans only up to the last offset mapped.
// 2. The segments from the log start up to that offset are grouped (a group's log bytes stay
//    within segment.bytes, its offsets within 2^31 of its base) and each group is copied
//    into one cleaned segment keeping, per key, only the record with the latest offset;
//    records past the mapped range are kept as they are.
// 3. A tombstone (a key with a null value) is kept until its batch's delete horizon has
//    passed: the first pass that keeps it stamps the horizon now + delete.retention.ms.
//    Records without a key are dropped (a compacted topic refuses them on produce).
// 4. Batches of control records stay whole. A batch that loses every record still stays as
//    an empty header when it is the last batch of an idempotent producer still known to
//    the log (its sequence and epoch survive a restart), or the last batch of its group
//    (the cleaned segment ends where the old ones ended: segments stay contiguous).

import * as path from 'node:path';
import { FileHandle, FileSystem } from '../file-system';
import { SCAN_BATCH_BYTES_MAX } from '../batch-scan';
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, offsetFileName, TIME_INDEX_SUFFIX } from '../on-disk-names';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from '../segment';
import { crc32c } from '../../../protocol/crc32c';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_MIN,
  CRC_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  Record,
  RecordBatchView,
} from '../../../protocol/record-batch';
import { OffsetMap } from './offset-map';
import { deleteHorizonMs, emptyBatch, rebuildBatch } from './records';

export { CLEANED_SUFFIX };

export interface CleanSegment {
  baseOffset: number;
  /** Offset after its last batch (the next segment's base). */
  nextOffset: number;
  sizeBytes: number;
}

export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  /** Last offset of its last batch in the log. */
  lastDataOffset: number;
}

export interface CleanInput {
  dir: string;
  /** The sealed segments from the log start, in order, each wholly below firstUncleanableOffset. */
  segments: CleanSegment[];
  /** Where the dirty section starts (the cleaner checkpoint, at least the log start). */
  firstDirtyOffset: number;
  /** The end of what may be cleaned (a segment base). */
  firstUncleanableOffset: number;
  nowMs: number;
  /** delete.retention.ms of the topic. */
  deleteRetentionMs: number;
  /** index.interval.bytes of the topic: the cleaned segment's offset index density. */
  indexIntervalBytes: number;
  /** segment.bytes of the topic: a cleaned group's log stays within it. */
  segmentBytes: number;
  /** Keys the map may hold: its slots times log.cleaner.io.buffer.load.factor. */
  mapEntriesMax: number;
  /** The offset map's memory (this cleaner's share of log.cleaner.dedupe.buffer.size). */
  mapMemoryBytes: number;
  /** Largest batch believed while reading (max.message.bytes and more). */
  decompressedBytesMax: number;
  activeProducers: ActiveProducer[];
  /** log.cleaner.io.max.bytes.per.second (read and write together); Infinity for none. */
  ioBytesPerSecondMax: number;
}

export interface CleanedGroup {
  /** Base offset of the cleaned segment (the group's first segment's). */
  baseOffset: number;
  /** Base offsets of the segments it replaces. */
  replaced: number[];
  /** Offset after its last batch: the base of the segment after the group. */
  nextOffset: number;
  /** File name of the cleaned segment in the partition directory (`<base>.log.cleaned`). */
  file: string;
  sizeBytes: number;
}

export interface CleanStats {
  bytesRead: number;
  bytesWritten: number;
  messagesRead: number;
  messagesWritten: number;
  /** Keyless records dropped (Kafka counts them as invalid). */
  keylessDropped: number;
  mapUtilization: number;
  mapBytesRead: number;
}

export interface CleanResult {
  /** First offset not cleaned: the next pass's firstDirtyOffset. */
  endOffset: number;
  groups: CleanedGroup[];
  stats: CleanStats;
}

/** The files of a cleaned group: its log, then its two indexes. */
export function cleanedFileNames(group: { baseOffset: number }): string[] {
  return [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX].map(
    (suffix) => offsetFileName(group.baseOffset, suffix) + CLEANED_SUFFIX,
  );
}

/** Stops a pass from outside (the log was truncated, deleted or closed). */
export class CleaningAborted extends Error {
  override name = 'CleaningAborted';
}

/** Holds reads and writes to a byte rate (Kafka's Throttler for the cleaner's I/O). */
class Throttle {
  private readonly startMs = Date.now();
  private bytes = 0;
  constructor(private readonly bytesPerSecondMax: number) {}
  async add(bytes: number): Promise<void> {
    if (!Number.isFinite(this.bytesPerSecondMax) || this.bytesPerSecondMax <= 0) return;
    this.bytes += bytes;
    const dueMs = (this.bytes / this.bytesPerSecondMax) * 1000 - (Date.now() - this.startMs);
    if (dueMs > 5) await new Promise((resolve) => setTimeout(resolve, dueMs));
  }
}

interface Context {
  fs: FileSystem;
  input: CleanInput;
  map: OffsetMap;
  stats: CleanStats;
  throttle: Throttle;
  checkDone: () => void;
  /** Idempotent producers still known to the log, by producer id. */
  producers: Map<number, ActiveProducer>;
}

/**
 * A batch whose CRC-32C does not hold stops the pass: rewriting it would give damaged
 * records a fresh, valid checksum.
 */
function checkCrc(buf: Buffer, at: number, size: number, position: number): void {
  if (crc32c(buf, at + ATTRIBUTES_OFFSET, at + size) !== buf.readUInt32BE(at + CRC_OFFSET))
    throw new Error(`CRC-32C mismatch in the batch at position ${position}`);
}

/** How much of a segment a pass reads at once (a larger batch is read whole on its own). */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Whole batches of a segment file, in order, as views of chunked reads; a bad length or
 * checksum is an error, and a torn tail ends the walk.
 */
async function forEachBatchView(
  file: FileHandle,
  ctx: Context,
  visit: (view: RecordBatchView) => Promise<void> | void,
): Promise<void> {
  const size = file.size();
  let position = 0;
  while (position < size) {
    ctx.checkDone();
    const want = Math.min(READ_CHUNK_BYTES, size - position);
    const chunk = Buffer.allocUnsafe(want);
    const got = file.read(chunk, 0, want, position);
    const views: RecordBatchView[] = [];
    let at = 0;
    for (;;) {
      if (got - at < LOG_OVERHEAD) break;
      const length = chunk.readInt32BE(at + LENGTH_OFFSET);
      if (length < BATCH_LENGTH_MIN || length > SCAN_BATCH_BYTES_MAX)
        throw new Error(`bad batch length ${length} at position ${position + at}`);
      if (at + LOG_OVERHEAD + length > got) break;
      checkCrc(chunk, at, LOG_OVERHEAD + length, position + at);
      views.push(new RecordBatchView(chunk.subarray(at, at + LOG_OVERHEAD + length)));
      at += LOG_OVERHEAD + length;
    }
    if (at === 0) {
      // One batch larger than the chunk: read it whole, unless the file ends inside it.
      if (got < LOG_OVERHEAD) return;
      const batchSize = LOG_OVERHEAD + chunk.readInt32BE(LENGTH_OFFSET);
      if (position + batchSize > size) return;
      const whole = Buffer.allocUnsafe(batchSize);
      file.read(whole, 0, batchSize, position);
      checkCrc(whole, 0, batchSize, position);
      views.push(new RecordBatchView(whole));
      at = batchSize;
    }
    await ctx.throttle.add(at);
    for (const view of views) {
      ctx.checkDone();
      await visit(view);
    }
    position += at;
  }
}

function segmentPath(dir: string, baseOffset: number, suffix = ''): string {
  return path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX) + suffix);
}

/** Step 1; a map that fills up part-way ends the mapped range at its last key. */
async function buildOffsetMap(ctx: Context): Promise<void> {
  const { input, map } = ctx;
  map.clear();
  const start = input.firstDirtyOffset;
  const end = input.firstUncleanableOffset;
  for (const segment of input.segments) {
    if (segment.nextOffset <= start || segment.baseOffset >= end) continue;
    const file = ctx.fs.open(segmentPath(input.dir, segment.baseOffset));
    let full = false;
    try {
      await forEachBatchView(file, ctx, async (view) => {
        if (full || view.lastOffset < start) return;
        ctx.stats.mapBytesRead += view.totalSize;
        if (!view.isControl && view.recordsCount > 0) {
          for (const record of await view.records(input.decompressedBytesMax)) {
            if (record.key === null || record.offset < start) continue;
            if (map.size >= input.mapEntriesMax) {
              full = true;
              return;
            }
            map.put(record.key, record.offset);
          }
        }
        map.latestOffset = Math.max(map.latestOffset, view.lastOffset);
      });
    } finally {
      file.close();
    }
    if (full) return;
    // An offset gap at the end of the segment is covered too.
    map.latestOffset = Math.max(map.latestOffset, segment.nextOffset - 1);
  }
}

/** Kafka's groupSegmentsBySize: consecutive segments whose logs fit in one segment. */
export function groupSegments(segments: CleanSegment[], segmentBytes: number): CleanSegment[][] {
  const groups: CleanSegment[][] = [];
  let group: CleanSegment[] = [];
  let bytes = 0;
  for (const segment of segments) {
    const fits =
      group.length > 0 &&
      bytes + segment.sizeBytes <= segmentBytes &&
      segment.nextOffset - 1 - group[0].baseOffset <= 0x7fffffff;
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(segment);
    bytes += segment.sizeBytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Step 2-4 for one batch: what of it goes to the cleaned segment (null: nothing). */
async function cleanBatch(ctx: Context, view: RecordBatchView, groupEnd: number): Promise<Buffer | null> {
  const { input, map, stats } = ctx;
  stats.messagesRead += view.recordsCount;
  if (view.isControl) {
    stats.messagesWritten += view.recordsCount;
    return view.buf;
  }
  const producer = view.producerId >= 0 ? ctx.producers.get(view.producerId) : undefined;
  const retainEmpty =
    (producer !== undefined && producer.lastDataOffset === view.lastOffset) || view.lastOffset + 1 === groupEnd;
  const horizon = deleteHorizonMs(view);
  const records = view.recordsCount > 0 ? await view.records(input.decompressedBytesMax) : [];
  const retained: Record[] = [];
  let tombstones = false;
  for (const record of records) {
    let keep: boolean;
    if (record.offset > map.latestOffset) keep = true;
    else if (record.key === null) {
      stats.keylessDropped++;
      keep = false;
    } else {
      const latest = record.offset >= map.get(record.key);
      keep = latest && (record.value !== null || horizon === null || input.nowMs < horizon);
    }
    if (!keep) continue;
    retained.push(record);
    if (record.value === null) tombstones = true;
  }
  stats.messagesWritten += retained.length;
  const stampHorizon = tombstones && horizon === null;
  if (retained.length === records.length && records.length > 0 && !stampHorizon) return view.buf;
  if (retained.length > 0)
    return rebuildBatch(view, retained, stampHorizon ? input.nowMs + input.deleteRetentionMs : (horizon ?? -1));
  return retainEmpty ? emptyBatch(view) : null;
}

/**
 * The sparse indexes of a cleaned segment, built as Segment builds them while appending
 * (an offset entry for the first batch and then every index.interval.bytes; a time entry
 * whenever the max timestamp grows), so the swapped-in segment opens without a scan.
 */
class IndexWriter {
  private readonly offsets: Buffer[] = [];
  private readonly times: Buffer[] = [];
  private bytesSinceEntry = 0;
  private maxTimestamp = -1;
  constructor(
    private readonly baseOffset: number,
    private readonly intervalBytes: number,
  ) {}

  add(batch: Buffer, position: number): void {
    const view = new RecordBatchView(batch);
    if (this.offsets.length === 0 || this.bytesSinceEntry >= this.intervalBytes) {
      const entry = Buffer.alloc(OFFSET_INDEX_ENTRY_BYTES);
      entry.writeUInt32BE(view.baseOffset - this.baseOffset, 0);
      entry.writeUInt32BE(position, 4);
      this.offsets.push(entry);
      this.bytesSinceEntry = 0;
    }
    this.bytesSinceEntry += batch.length;
    if (view.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = view.maxTimestamp;
      const entry = Buffer.alloc(TIME_INDEX_ENTRY_BYTES);
      entry.writeBigInt64BE(BigInt(view.maxTimestamp), 0);
      entry.writeUInt32BE(view.baseOffset - this.baseOffset, 8);
      this.times.push(entry);
    }
  }

  write(fs: FileSystem, dir: string): void {
    for (const [suffix, entries] of [
      [INDEX_SUFFIX, this.offsets],
      [TIME_INDEX_SUFFIX, this.times],
    ] as const) {
      const handle = fs.open(path.join(dir, offsetFileName(this.baseOffset, suffix) + CLEANED_SUFFIX));
      try {
        handle.truncate(0);
        handle.append(Buffer.concat(entries));
        handle.sync();
      } finally {
        handle.close();
      }
    }
  }
}

/** Copies one group of segments into `<base>.log.cleaned` (and its indexes), fsynced and closed. */
async function cleanGroup(ctx: Context, group: CleanSegment[]): Promise<CleanedGroup> {
  const { fs, input } = ctx;
  const base = group[0].baseOffset;
  const groupEnd = group[group.length - 1].nextOffset;
  const file = path.basename(segmentPath(input.dir, base, CLEANED_SUFFIX));
  const out = fs.open(path.join(input.dir, file));
  const index = new IndexWriter(base, input.indexIntervalBytes);
  try {
    out.truncate(0);
    for (const segment of group) {
      const source = fs.open(segmentPath(input.dir, segment.baseOffset));
      try {
        await forEachBatchView(source, ctx, async (view) => {
          ctx.stats.bytesRead += view.totalSize;
          const kept = await cleanBatch(ctx, view, groupEnd);
          if (!kept) return;
          index.add(kept, out.size());
          out.append(kept);
          ctx.stats.bytesWritten += kept.length;
          await ctx.throttle.add(kept.length);
        });
      } finally {
        source.close();
      }
    }
    out.sync();
    index.write(fs, input.dir);
    return {
      baseOffset: base,
      replaced: group.map((s) => s.baseOffset),
      nextOffset: groupEnd,
      file,
      sizeBytes: out.size(),
    };
  } finally {
    out.close();
  }
}

/**
 * Runs one pass. `checkDone` throws CleaningAborted to stop it; whatever `.cleaned` files
 * it wrote are then removed. Returns null when the dirty section is empty.
 */
export async function cleanLog(
  fs: FileSystem,
  input: CleanInput,
  checkDone: () => void = () => undefined,
  map: OffsetMap = new OffsetMap(input.mapMemoryBytes),
): Promise<CleanResult | null> {
  const stats: CleanStats = {
    bytesRead: 0,
    bytesWritten: 0,
    messagesRead: 0,
    messagesWritten: 0,
    keylessDropped: 0,
    mapUtilization: 0,
    mapBytesRead: 0,
  };
  const ctx: Context = {
    fs,
    input,
    map,
    stats,
    throttle: new Throttle(input.ioBytesPerSecondMax),
    checkDone,
    producers: new Map(input.activeProducers.map((p) => [p.producerId, p])),
  };
  await buildOffsetMap(ctx);
  stats.mapUtilization = map.utilization;
  if (map.latestOffset < input.firstDirtyOffset) return null;
  const endOffset = map.latestOffset + 1;
  const segments = input.segments.filter((s) => s.baseOffset < endOffset && s.sizeBytes > 0);
  const groups: CleanedGroup[] = [];
  try {
    for (const group of groupSegments(segments, input.segmentBytes)) groups.push(await cleanGroup(ctx, group));
  } catch (error) {
    for (const name of segments.flatMap(cleanedFileNames)) {
      try {
        fs.unlink(path.join(input.dir, name));
      } catch {
        // Left for the next open, which removes every .cleaned file.
      }
    }
    throw error;
  }
  return { endOffset, groups, stats };
}
