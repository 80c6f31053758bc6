// The default partitioner, as the Java client has it: a record with a key goes to
// toPositive(murmur2(key)) % partitions, so the same key lands on the same partition as
// with the Java producer; a record without a key goes to a sticky partition (KIP-480) that
// changes only when a batch for it is sent, so keyless records still fill whole batches.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const left = length & 3;
  if (left === 3) h ^= data[whole + 2] << 16;
  if (left >= 2) h ^= data[whole + 1] << 8;
  if (left >= 1) {
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Utils.toPositive: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

export function partitionForKey(key: Buffer, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}

/** Chooses partitions for records: by key hash, or sticky for keyless records. */
export class DefaultPartitioner {
  private readonly sticky = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, key: Buffer | null, partitions: number, available: number[] = []): number {
    if (key !== null) return partitionForKey(key, partitions);
    let chosen = this.sticky.get(topic);
    if (chosen === undefined || chosen >= partitions) chosen = this.pick(topic, partitions, available, -1);
    return chosen;
  }

  /** A batch of keyless records for `partition` was sent: the next ones go elsewhere. */
  onNewBatch(topic: string, partition: number, partitions: number, available: number[] = []): void {
    if (this.sticky.get(topic) === partition) this.pick(topic, partitions, available, partition);
  }

  private pick(topic: string, partitions: number, available: number[], previous: number): number {
    // Prefer partitions with a leader; never the one just used when there is a choice.
    const pool = (available.length > 0 ? available : [...Array(partitions).keys()]).filter(
      (p) => p !== previous || partitions === 1,
    );
    const chosen = pool.length > 0 ? pool[Math.floor(this.random() * pool.length)] : Math.max(0, previous);
    this.sticky.set(topic, chosen);
    return chosen;
  }
}
