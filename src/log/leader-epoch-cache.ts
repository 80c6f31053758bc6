// Which leader epoch wrote which part of a partition's log: (epoch, start offset) pairs in
// increasing order, the idea of Kafka's leader-epoch-checkpoint (KIP-101). A follower
// that comes back after leader changes asks the leader where its last epoch ended there
// (OffsetForLeaderEpoch) and cuts what it wrote past that point; the leader answers from
// this cache. Kept in memory and in `leader-epoch-checkpoint` (text: a version line, a
// count line, then "epoch startOffset" lines), rewritten crash-safely on each change (temporary file, fsync,
// rename, directory fsync).

import * as path from 'node:path';
import { FileSystem, readWholeFile, writeFileDurable } from './file-system';

import { LEADER_EPOCH_FILE, TEMPORARY_SUFFIX } from './on-disk-names';

export { LEADER_EPOCH_FILE };

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** Answer to "where does epoch E end?": the epoch found (at or below E) and its end offset. */
export interface EpochEnd {
  epoch: number;
  endOffset: number;
}

export const UNDEFINED_EPOCH_END: EpochEnd = { epoch: -1, endOffset: -1 };

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];

  constructor(
    private readonly fs: FileSystem | null,
    private readonly dir: string,
  ) {}

  /** Loads the checkpoint; false when missing or unreadable (the caller rebuilds from the log). */
  load(): boolean {
    if (!this.fs) return false;
    const file = path.join(this.dir, LEADER_EPOCH_FILE);
    if (!this.fs.exists(file)) return false;
    const raw = readWholeFile(this.fs, file);
    const lines = raw
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    if (lines[0] !== '0' || Number(lines[1]) !== lines.length - 2) return false;
    const entries: EpochEntry[] = [];
    for (const line of lines.slice(2)) {
      const [epoch, startOffset] = line.split(' ').map(Number);
      if (!Number.isInteger(epoch) || !Number.isInteger(startOffset)) return false;
      const previous = entries[entries.length - 1];
      if (previous && (epoch <= previous.epoch || startOffset < previous.startOffset)) return false;
      entries.push({ epoch, startOffset });
    }
    this.entries = entries;
    return true;
  }

  /**
   * Makes `entries` the cache's contents: written to the checkpoint first, so an I/O error
   * leaves the cache as it was.
   */
  private persist(entries: EpochEntry[] = this.entries): void {
    if (this.fs) {
      const file = path.join(this.dir, LEADER_EPOCH_FILE);
      const text = `0\n${entries.length}\n${entries.map((e) => `${e.epoch} ${e.startOffset}`).join('\n')}\n`;
      writeFileDurable(this.fs, file, Buffer.from(text), TEMPORARY_SUFFIX);
    }
    this.entries = entries;
  }
  all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].epoch : -1;
  }

  /**
   * Records that `epoch` starts writing at `startOffset`. Older or equal epochs are
   * ignored; an entry whose start is not below the new one is replaced (nothing was
   * written in it).
   */
  assign(epoch: number, startOffset: number, persist = true): void {
    if (epoch < 0 || epoch <= this.latestEpoch) return;
    const entries = this.entries.filter((e) => e.startOffset < startOffset);
    entries.push({ epoch, startOffset });
    if (persist) this.persist(entries);
    else this.entries = entries;
  }

  /** The log was cut at `endOffset`: epochs that started at or after it are forgotten. */
  truncateFromEnd(endOffset: number): void {
    const entries = this.entries.filter((e) => e.startOffset < endOffset);
    if (entries.length !== this.entries.length) this.persist(entries);
  }

  /**
   * The log now starts at `startOffset` (retention deleted what was before): epochs that
   * ended before it are forgotten, and the one in force there now starts there (Kafka's
   * truncateFromStart).
   */
  truncateFromStart(startOffset: number): void {
    let firstKept = 0;
    while (firstKept + 1 < this.entries.length && this.entries[firstKept + 1].startOffset <= startOffset) firstKept++;
    const head = this.entries[firstKept];
    if (firstKept === 0 && (!head || head.startOffset >= startOffset)) return;
    this.persist([
      { epoch: head.epoch, startOffset: Math.max(head.startOffset, startOffset) },
      ...this.entries.slice(firstKept + 1),
    ]);
  }

  /**
   * Puts back earlier contents (`all()` then) after a failed append, in memory only: the
   * checkpoint may keep an entry starting at the log end, which the next load drops
   * (truncateFromEnd), so undoing needs no write on a disk that just failed one.
   */
  restore(entries: readonly EpochEntry[]): void {
    this.entries = entries.slice();
  }

  /** Replaces everything (a rebuild from the log's batches). */
  reset(entries: EpochEntry[]): void {
    this.persist(entries.slice());
  }

  /**
   * Where `epoch` ends in this log, Kafka's rules: the latest epoch ends at the log end;
   * an older one ends where the next higher epoch starts, and the answer names the
   * largest epoch at or below the one asked for; an epoch below every known one gets
   * -1 and the start of the first.
   */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEnd {
    if (epoch < 0 || this.entries.length === 0) return UNDEFINED_EPOCH_END;
    if (epoch >= this.latestEpoch) return { epoch: this.latestEpoch, endOffset: logEndOffset };
    let floor: EpochEntry | undefined;
    let higher: EpochEntry | undefined;
    for (const entry of this.entries) {
      if (entry.epoch <= epoch) floor = entry;
      else {
        higher = entry;
        break;
      }
    }
    return { epoch: floor ? floor.epoch : -1, endOffset: higher!.startOffset };
  }
}
