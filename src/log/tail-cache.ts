// The tail cache: recently appended batches kept in memory so that consumers reading at
// the head are served without touching the files. One global byte budget across all
// partitions; the oldest batches, whichever partition they belong to, leave first.

export interface TailEntry {
  baseOffset: number;
  lastOffset: number;
  bytes: Buffer;
  /** The owning partition's ordered entry list (evictions remove from its front). */
  owner: TailEntry[];
  evicted?: boolean;
}

/** Node's small-buffer pool slab: a slice of one of those pins at most this much. */
const POOL_SLACK_BYTES = 8192;

export class TailCache {
  private readonly queue: TailEntry[] = [];
  private head = 0;
  usedBytes = 0;

  constructor(readonly limitBytes: number) {}

  add(entry: TailEntry): void {
    // A batch sliced out of a much larger buffer (a produce frame of many partitions) would
    // keep all of that buffer alive while cached: cache a copy of its own bytes instead, so
    // the budget counts what is really pinned.
    if (entry.bytes.buffer.byteLength > 2 * entry.bytes.length + POOL_SLACK_BYTES)
      entry.bytes = Buffer.from(entry.bytes);
    this.queue.push(entry);
    this.usedBytes += entry.bytes.length;
    while (this.usedBytes > this.limitBytes && this.head < this.queue.length) this.evictOldest();
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private evictOldest(): void {
    const entry = this.queue[this.head++];
    if (entry.evicted) return;
    entry.evicted = true;
    this.usedBytes -= entry.bytes.length;
    // Entries of one partition are evicted in order, so this one is at its owner's front.
    if (entry.owner[0] === entry) entry.owner.shift();
    else {
      const index = entry.owner.indexOf(entry);
      if (index >= 0) entry.owner.splice(index, 1);
    }
  }

  /** Forgets a partition's entries that end before `offset` (retention moved its start). */
  dropBefore(entries: TailEntry[], offset: number): void {
    let count = 0;
    while (count < entries.length && entries[count].lastOffset < offset) {
      const entry = entries[count++];
      if (entry.evicted) continue;
      entry.evicted = true;
      this.usedBytes -= entry.bytes.length;
    }
    entries.splice(0, count);
  }

  /** Forgets a partition's entries (close, delete). */
  dropAll(entries: TailEntry[]): void {
    for (const entry of entries) {
      if (entry.evicted) continue;
      entry.evicted = true;
      this.usedBytes -= entry.bytes.length;
    }
    entries.length = 0;
  }
}
