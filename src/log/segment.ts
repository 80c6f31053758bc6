// One log segment: `<20-digit base offset>.log` holding whole record batches back to
// back, with a sparse offset index (`.index`: 4-byte offset relative to the base + 4-byte
// file position, one entry per index.interval.bytes) and a time index (`.timeindex`:
// 8-byte max timestamp so far + 4-byte relative offset). Indexes are kept in memory and
// mirrored to their files; they are rebuilt by scanning when missing or inconsistent.

import * as path from 'node:path';
import { FileHandle, FileSystem } from './file-system';
import { scanBatches } from './batch-scan';
import { INDEX_SUFFIX, LOG_SUFFIX, offsetFileName, SEGMENT_FILE_SUFFIXES, TIME_INDEX_SUFFIX } from './on-disk-names';

export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** A segment's state before an append, to undo it exactly when a write fails. */
export interface SegmentMark {
  logBytes: number;
  indexBytes: number;
  timeIndexBytes: number;
  offsetEntries: number;
  timeEntries: number;
  bytesSinceIndexEntry: number;
  nextOffset: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  firstAppendMs: number;
}

export interface SegmentLimits {
  indexIntervalBytes: number;
  segmentIndexBytes: number;
}

/** Growable parallel arrays: cheaper than objects for millions of index entries. */
class Entries {
  a: Float64Array = new Float64Array(64);
  b: Float64Array = new Float64Array(64);
  length = 0;

  push(x: number, y: number): void {
    if (this.length === this.a.length) {
      const a = new Float64Array(this.a.length * 2);
      const b = new Float64Array(this.b.length * 2);
      a.set(this.a);
      b.set(this.b);
      this.a = a;
      this.b = b;
    }
    this.a[this.length] = x;
    this.b[this.length] = y;
    this.length++;
  }

  /** Index of the last entry whose `a` is <= key, or -1. */
  floor(key: number): number {
    let lo = 0;
    let hi = this.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.a[mid] <= key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

export class Segment {
  readonly logFile: FileHandle;
  private readonly indexFile: FileHandle;
  private readonly timeIndexFile: FileHandle;
  /** (offset, position) pairs; offsets are absolute batch base offsets. */
  private readonly offsetIndex = new Entries();
  /** (timestamp, offset) pairs with increasing timestamps. */
  private readonly timeIndex = new Entries();
  private bytesSinceIndexEntry = 0;
  /** Next offset after the last batch in this segment. */
  nextOffset: number;
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Wall-clock time of the first append, for segment.ms rolling; -1 while empty. */
  firstAppendMs = -1;

  private constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    private readonly limits: SegmentLimits,
  ) {
    const opened: FileHandle[] = [];
    try {
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX])
        opened.push(fs.open(path.join(dir, offsetFileName(baseOffset, suffix))));
    } catch (error) {
      for (const handle of opened) handle.close();
      throw error;
    }
    [this.logFile, this.indexFile, this.timeIndexFile] = opened;
    this.nextOffset = baseOffset;
  }

  /** A new empty segment; on an I/O error, what it created is removed again and the error thrown. */
  static create(fs: FileSystem, dir: string, baseOffset: number, limits: SegmentLimits): Segment {
    let segment: Segment | null = null;
    try {
      segment = new Segment(fs, dir, baseOffset, limits);
      segment.logFile.truncate(0);
      segment.indexFile.truncate(0);
      segment.timeIndexFile.truncate(0);
      // The new names are durable before anything is written to them.
      fs.syncDir(dir);
      return segment;
    } catch (error) {
      segment?.close();
      for (const suffix of SEGMENT_FILE_SUFFIXES) {
        try {
          fs.unlink(path.join(dir, offsetFileName(baseOffset, suffix)));
        } catch {
          // Left for the next start: an empty segment past the log end is dropped there.
        }
      }
      throw error;
    }
  }

  /**
   * Opens an existing segment. With `recover`, every batch is checked (length, magic,
   * CRC-32C, offsets) and the file is cut at the first bad one; otherwise the indexes are
   * trusted when consistent and only the region after the last index entry is scanned.
   * Returns the bytes truncated.
   */
  static open(
    fs: FileSystem,
    dir: string,
    baseOffset: number,
    limits: SegmentLimits,
    recover: boolean,
  ): { segment: Segment; truncatedBytes: number } {
    const segment = new Segment(fs, dir, baseOffset, limits);
    const truncatedBytes = segment.load(recover);
    return { segment, truncatedBytes };
  }

  get size(): number {
    return this.logFile.size();
  }

  get isEmpty(): boolean {
    return this.nextOffset === this.baseOffset;
  }

  get indexFull(): boolean {
    return (this.offsetIndex.length + 1) * OFFSET_INDEX_ENTRY_BYTES > this.limits.segmentIndexBytes;
  }

  private load(recover: boolean): number {
    const fileSize = this.logFile.size();
    let startPosition = 0;
    let startOffset = this.baseOffset;
    if (!recover) {
      const trusted = this.loadIndexes(fileSize);
      if (trusted) {
        startPosition = trusted.position;
        startOffset = trusted.offset;
        // The resumed batch had an index entry; make the scan give it one again.
        this.bytesSinceIndexEntry = this.limits.indexIntervalBytes;
      }
    }
    if (startPosition === 0) this.resetIndexes();
    const scan = scanBatches(this.logFile, startPosition, fileSize, startOffset, (batch) =>
      this.indexBatch(batch.baseOffset, batch.lastOffset, batch.position, batch.size, batch.maxTimestamp, false),
    );
    let truncated = 0;
    if (scan.validEnd < fileSize) {
      truncated = fileSize - scan.validEnd;
      this.logFile.truncate(scan.validEnd);
    }
    if (scan.nextOffset !== null) this.nextOffset = scan.nextOffset;
    this.rewriteIndexFiles();
    return truncated;
  }

  /**
   * Loads the index files if they are consistent with the log file. Returns where to
   * resume scanning (the last indexed batch), or null to rebuild from the start.
   */
  private loadIndexes(fileSize: number): { position: number; offset: number } | null {
    const indexSize = this.indexFile.size();
    if (indexSize === 0 || indexSize % OFFSET_INDEX_ENTRY_BYTES !== 0) return null;
    const raw = Buffer.alloc(indexSize);
    this.indexFile.read(raw, 0, indexSize, 0);
    let lastOffset = -1;
    let lastPosition = -1;
    for (let at = 0; at < indexSize; at += OFFSET_INDEX_ENTRY_BYTES) {
      const offset = this.baseOffset + raw.readUInt32BE(at);
      const position = raw.readUInt32BE(at + 4);
      // Entries past the end of the log (a tail cut at recovery) end the usable index.
      if (position >= fileSize) break;
      if (offset <= lastOffset || position <= lastPosition) return null;
      this.offsetIndex.push(offset, position);
      lastOffset = offset;
      lastPosition = position;
    }
    const timeSize = this.timeIndexFile.size();
    if (timeSize % TIME_INDEX_ENTRY_BYTES === 0) {
      const rawTime = Buffer.alloc(timeSize);
      this.timeIndexFile.read(rawTime, 0, timeSize, 0);
      let lastTimestamp = -Infinity;
      for (let at = 0; at < timeSize; at += TIME_INDEX_ENTRY_BYTES) {
        const timestamp = Number(rawTime.readBigInt64BE(at));
        const offset = this.baseOffset + rawTime.readUInt32BE(at + 8);
        if (timestamp <= lastTimestamp || offset >= lastOffset + 1) break;
        this.timeIndex.push(timestamp, offset);
        lastTimestamp = timestamp;
        this.maxTimestamp = timestamp;
        this.offsetOfMaxTimestamp = offset;
      }
    }
    if (this.offsetIndex.length === 0) return null;
    // Resume from the last indexed batch: drop that entry, the scan re-adds it.
    this.offsetIndex.length--;
    while (this.timeIndex.length > 0 && this.timeIndex.b[this.timeIndex.length - 1] >= lastOffset)
      this.timeIndex.length--;
    if (this.timeIndex.length > 0) {
      this.maxTimestamp = this.timeIndex.a[this.timeIndex.length - 1];
      this.offsetOfMaxTimestamp = this.timeIndex.b[this.timeIndex.length - 1];
    } else {
      this.maxTimestamp = -1;
      this.offsetOfMaxTimestamp = -1;
    }
    return { position: lastPosition, offset: lastOffset };
  }

  private resetIndexes(): void {
    this.offsetIndex.length = 0;
    this.timeIndex.length = 0;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceIndexEntry = 0;
  }

  private rewriteIndexFiles(): void {
    const index = Buffer.alloc(this.offsetIndex.length * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.offsetIndex.length; i++) {
      index.writeUInt32BE(this.offsetIndex.a[i] - this.baseOffset, i * OFFSET_INDEX_ENTRY_BYTES);
      index.writeUInt32BE(this.offsetIndex.b[i], i * OFFSET_INDEX_ENTRY_BYTES + 4);
    }
    this.indexFile.truncate(0);
    this.indexFile.append(index);
    const time = Buffer.alloc(this.timeIndex.length * TIME_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.timeIndex.length; i++) {
      time.writeBigInt64BE(BigInt(this.timeIndex.a[i]), i * TIME_INDEX_ENTRY_BYTES);
      time.writeUInt32BE(this.timeIndex.b[i] - this.baseOffset, i * TIME_INDEX_ENTRY_BYTES + 8);
    }
    this.timeIndexFile.truncate(0);
    this.timeIndexFile.append(time);
  }

  /** Index bookkeeping for one batch at `position` (append and recovery share it). */
  private indexBatch(
    baseOffset: number,
    lastOffset: number,
    position: number,
    size: number,
    maxTimestamp: number,
    persist: boolean,
  ): void {
    if (this.offsetIndex.length === 0 || this.bytesSinceIndexEntry >= this.limits.indexIntervalBytes) {
      this.offsetIndex.push(baseOffset, position);
      this.bytesSinceIndexEntry = 0;
      if (persist) {
        const entry = Buffer.alloc(OFFSET_INDEX_ENTRY_BYTES);
        entry.writeUInt32BE(baseOffset - this.baseOffset, 0);
        entry.writeUInt32BE(position, 4);
        this.indexFile.append(entry);
      }
    }
    this.bytesSinceIndexEntry += size;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = baseOffset;
      this.timeIndex.push(maxTimestamp, baseOffset);
      if (persist) {
        const entry = Buffer.alloc(TIME_INDEX_ENTRY_BYTES);
        entry.writeBigInt64BE(BigInt(maxTimestamp), 0);
        entry.writeUInt32BE(baseOffset - this.baseOffset, 8);
        this.timeIndexFile.append(entry);
      }
    }
    this.nextOffset = lastOffset + 1;
  }

  mark(): SegmentMark {
    return {
      logBytes: this.logFile.size(),
      indexBytes: this.indexFile.size(),
      timeIndexBytes: this.timeIndexFile.size(),
      offsetEntries: this.offsetIndex.length,
      timeEntries: this.timeIndex.length,
      bytesSinceIndexEntry: this.bytesSinceIndexEntry,
      nextOffset: this.nextOffset,
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
      firstAppendMs: this.firstAppendMs,
    };
  }

  /**
   * Undoes everything since `mark` (a failed append): the files are cut back to their
   * sizes then (whatever part of the write reached them goes) and the in-memory indexes
   * and offsets are restored. Throws when the files cannot be cut.
   */
  rollbackTo(mark: SegmentMark): void {
    this.offsetIndex.length = mark.offsetEntries;
    this.timeIndex.length = mark.timeEntries;
    this.bytesSinceIndexEntry = mark.bytesSinceIndexEntry;
    this.nextOffset = mark.nextOffset;
    this.maxTimestamp = mark.maxTimestamp;
    this.offsetOfMaxTimestamp = mark.offsetOfMaxTimestamp;
    this.firstAppendMs = mark.firstAppendMs;
    // Cut even when the size looks unchanged: a write that failed part-way may have put
    // bytes in the file that the handle's length does not count.
    this.logFile.truncate(mark.logBytes);
    this.indexFile.truncate(mark.indexBytes);
    this.timeIndexFile.truncate(mark.timeIndexBytes);
    // Part of the write may have been fsynced before the failure: the cut is made durable,
    // so a refused batch does not come back after a restart.
    this.flush();
  }

  /** Appends batches whose offsets are already assigned; `meta` describes each one. */
  append(
    buffers: Buffer[],
    meta: { baseOffset: number; lastOffset: number; maxTimestamp: number }[],
    nowMs: number,
  ): number {
    const position = this.logFile.size();
    this.logFile.append(buffers);
    let at = position;
    for (let i = 0; i < buffers.length; i++) {
      this.indexBatch(meta[i].baseOffset, meta[i].lastOffset, at, buffers[i].length, meta[i].maxTimestamp, true);
      at += buffers[i].length;
    }
    if (this.firstAppendMs < 0) this.firstAppendMs = nowMs;
    return position;
  }

  /**
   * Cuts this segment before the first batch that holds `offset` or anything after it
   * (a follower dropping a divergent suffix); rebuilds the indexes from what remains.
   */
  truncateTo(offset: number): void {
    if (offset >= this.nextOffset) return;
    let cut = -1;
    const from = this.lookup(offset);
    scanBatches(
      this.logFile,
      from,
      this.logFile.size(),
      this.baseOffset,
      (batch) => {
        if (cut < 0 && batch.lastOffset >= offset) cut = batch.position;
      },
      false,
    );
    if (cut < 0) cut = from;
    this.logFile.truncate(cut);
    this.logFile.sync();
    this.nextOffset = this.baseOffset;
    this.load(true);
    this.indexFile.sync();
    this.timeIndexFile.sync();
  }

  /** File position of the indexed batch at or before `offset` (a place to start scanning). */
  lookup(offset: number): number {
    const i = this.offsetIndex.floor(offset);
    return i < 0 ? 0 : this.offsetIndex.b[i];
  }

  /** First offset whose batch max timestamp is >= `timestamp`, as a scan start position. */
  lookupTimestamp(timestamp: number): number {
    // Time index entries are (max timestamp so far, offset); find the last entry below the
    // target and start from that batch's indexed position.
    let lo = 0;
    let hi = this.timeIndex.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeIndex.a[mid] < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.lookup(this.timeIndex.b[found]);
  }

  read(target: Buffer, position: number): number {
    return this.logFile.read(target, 0, target.length, position);
  }

  flush(): void {
    this.logFile.sync();
    this.indexFile.sync();
    this.timeIndexFile.sync();
  }

  close(): void {
    this.logFile.close();
    this.indexFile.close();
    this.timeIndexFile.close();
  }
}
