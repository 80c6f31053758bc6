// The cleaner's key -> latest offset map in a fixed amount of memory (Kafka's
// SkimpyOffsetMap): each key is stored as its 16-byte MD5 digest next to an 8-byte offset,
// in an open-addressing table sized once from log.cleaner.dedupe.buffer.size. Two keys
// whose digests collide count as one, as in Kafka (a 2^-128 chance per pair).

import { createHash } from 'node:crypto';

const HASH_BYTES = 16;
const OFFSET_BYTES = 8;
/** Bytes of one slot: a digest and an offset. */
export const OFFSET_MAP_SLOT_BYTES = HASH_BYTES + OFFSET_BYTES;

export class OffsetMap {
  readonly slots: number;
  private readonly hashes: Buffer;
  /** Offset per slot; -1 marks an empty slot. */
  private readonly offsets: Float64Array;
  private readonly digest = Buffer.alloc(HASH_BYTES);
  private entries = 0;
  /** The latest offset put (or noted) in the map; -1 when none. */
  latestOffset = -1;

  /** `memoryBytes` bounds the table (Kafka's dedupe buffer share of one cleaner). */
  constructor(memoryBytes: number) {
    this.slots = Math.floor(memoryBytes / OFFSET_MAP_SLOT_BYTES);
    if (this.slots < 1) throw new RangeError(`an offset map of ${memoryBytes} bytes holds no entry`);
    this.hashes = Buffer.alloc(this.slots * HASH_BYTES);
    this.offsets = new Float64Array(this.slots).fill(-1);
  }

  get size(): number {
    return this.entries;
  }

  /** Share of the slots in use (Kafka's buffer utilization). */
  get utilization(): number {
    return this.entries / this.slots;
  }

  clear(): void {
    if (this.entries > 0) this.offsets.fill(-1);
    this.entries = 0;
    this.latestOffset = -1;
  }

  private hash(key: Buffer): void {
    createHash('md5').update(key).digest().copy(this.digest);
  }

  /** The slot holding this digest, or the empty slot where it would go. */
  private find(): number {
    // The digest is uniformly spread: its first four bytes pick the first slot; probing is linear.
    let slot = this.digest.readUInt32BE(0) % this.slots;
    for (let probes = 0; probes < this.slots; probes++) {
      if (this.offsets[slot] < 0) return slot;
      if (this.hashes.compare(this.digest, 0, HASH_BYTES, slot * HASH_BYTES, slot * HASH_BYTES + HASH_BYTES) === 0)
        return slot;
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
    return -1;
  }

  /** Records `offset` as the latest for `key`. Throws when a new key finds the table full. */
  put(key: Buffer, offset: number): void {
    this.hash(key);
    const slot = this.find();
    if (slot < 0) throw new RangeError(`offset map full (${this.slots} slots)`);
    if (this.offsets[slot] < 0) {
      this.digest.copy(this.hashes, slot * HASH_BYTES);
      this.entries++;
    }
    this.offsets[slot] = offset;
    this.latestOffset = offset;
  }

  /** The latest offset recorded for `key`, or -1. */
  get(key: Buffer): number {
    this.hash(key);
    const slot = this.find();
    return slot < 0 ? -1 : this.offsets[slot];
  }
}
