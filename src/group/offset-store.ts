// Committed offsets and group metadata, kept in memory and written through the normal log
// to the internal topic __consumer_offsets, one record per change. The topic is compacted:
// a key per group or group/topic/partition (Kafka's key layouts), the latest value wins,
// a tombstone (null value) deletes. Loading replays every partition of the topic in order
// and so reads a compacted log the same way: offset gaps, and tombstones whose key may
// have no earlier value left.
//
// Record keys (Kafka's OffsetCommitKey version 1 and GroupMetadataKey version 2):
//   offset:   int16 1 | string group | string topic | int32 partition
//   metadata: int16 2 | string group
// Values: offset: int16 3 | int64 offset | int32 leader epoch | nullable string metadata |
// int64 commit time, or int16 4 with the same fields and then int64 expire time (a commit
// at OffsetCommit v2-4 that set a retention time; readers of version 3 ignore the extra
// bytes); group: int16 3 | JSON snapshot (buffers in base64).

import { Reader, Writer } from '../../protocol/primitives';
import { encodeRecordBatchSync, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import type { PartitionLog } from '../log/partition-log';
import type { GroupSnapshot } from './group';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
  /** Set by an OffsetCommit v2-4 retention time: the offset expires then, not by offsets.retention.minutes. */
  expireTimestampMs?: number | null;
}

export interface OffsetsLog {
  /** The group's offsets partition, if this broker leads it (and so coordinates the group). */
  partitionFor(groupId: string): PartitionLog | undefined;
  /** The offsets partitions this broker leads. */
  all(): PartitionLog[];
  /** Leader epoch stamped on appends to the group's partition (default 0). */
  leaderEpochFor?(groupId: string): number;
  /** After an append to the group's partition: replication moves its high watermark. */
  appended?(groupId: string): void;
}

const OFFSET_KEY = 1;
const GROUP_KEY = 2;
const VALUE_VERSION = 3;
const OFFSET_VALUE_WITH_EXPIRY = 4;

function offsetKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(64).int16(OFFSET_KEY).string(group).string(topic).int32(partition).toBuffer();
}

function groupKey(group: string): Buffer {
  return new Writer(32).int16(GROUP_KEY).string(group).toBuffer();
}

function offsetValue(value: CommittedOffset): Buffer {
  const expires = value.expireTimestampMs !== undefined && value.expireTimestampMs !== null;
  const writer = new Writer(64)
    .int16(expires ? OFFSET_VALUE_WITH_EXPIRY : VALUE_VERSION)
    .int64(value.offset)
    .int32(value.leaderEpoch)
    .nullableString(value.metadata)
    .int64(value.commitTimestampMs);
  if (expires) writer.int64(value.expireTimestampMs!);
  return writer.toBuffer();
}

function groupValue(snapshot: GroupSnapshot): Buffer {
  const json = JSON.stringify(snapshot, (_key, v) =>
    v && v.type === 'Buffer' && Array.isArray(v.data) ? { base64: Buffer.from(v.data).toString('base64') } : v,
  );
  return Buffer.concat([new Writer(2).int16(VALUE_VERSION).toBuffer(), Buffer.from(json)]);
}

function parseGroupValue(value: Buffer): GroupSnapshot {
  return JSON.parse(value.subarray(2).toString('utf8'), (_key, v) =>
    v && typeof v === 'object' && typeof v.base64 === 'string' ? Buffer.from(v.base64, 'base64') : v,
  );
}

export class OffsetStore {
  /** Whether this broker hosts the group's offsets partition (and so coordinates it). */
  hosts(groupId: string): boolean {
    return this.log.partitionFor(groupId) !== undefined;
  }

  private readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  /**
   * Groups whose latest group metadata record in the log is a value, not a tombstone: only
   * they need a metadata tombstone when deleted (Kafka writes none for a group that only
   * stored offsets, whose generation is 0).
   */
  private readonly withMetadata = new Set<string>();
  /** Records that could not be read at load (reported by the coordinator's log line). */
  readonly skipped: string[] = [];

  constructor(private readonly log: OffsetsLog) {}

  groupIds(): string[] {
    return [...this.offsets.keys()];
  }

  offsetsOf(groupId: string): Map<string, Map<number, CommittedOffset>> {
    return this.offsets.get(groupId) ?? new Map();
  }

  /** Appends to the group's partition; returns the log end offset after the write (-1: nothing). */
  private append(groupId: string, records: { key: Buffer; value: Buffer | null }[]): number {
    if (records.length === 0) return -1;
    const batch = encodeRecordBatchSync({ records: records.map((r) => ({ key: r.key, value: r.value })) });
    const partition = this.log.partitionFor(groupId);
    if (!partition) throw new Error(`the offsets partition of group ${groupId} is not hosted here`);
    // Replicated like any partition: the high watermark waits for the ISR.
    const result = partition.append([batch], {
      leaderEpoch: this.log.leaderEpochFor?.(groupId) ?? 0,
      holdHighWatermark: this.log.appended !== undefined,
    });
    if (result.errorCode !== 0) throw new Error(`offsets topic append failed with error ${result.errorCode}`);
    this.log.appended?.(groupId);
    return result.lastOffset + 1;
  }

  private set(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    let topics = this.offsets.get(groupId);
    if (!topics) {
      if (value === null) return;
      topics = new Map();
      this.offsets.set(groupId, topics);
    }
    let partitions = topics.get(topic);
    if (!partitions) {
      if (value === null) return;
      partitions = new Map();
      topics.set(topic, partitions);
    }
    if (value === null) {
      partitions.delete(partition);
      if (partitions.size === 0) topics.delete(topic);
      if (topics.size === 0) this.offsets.delete(groupId);
    } else partitions.set(partition, value);
  }

  /** Writes the commits durably (one batch), then makes them visible. */
  commit(groupId: string, entries: { topic: string; partition: number; offset: CommittedOffset }[]): number {
    const end = this.append(
      groupId,
      entries.map((e) => ({ key: offsetKey(groupId, e.topic, e.partition), value: offsetValue(e.offset) })),
    );
    for (const e of entries) this.set(groupId, e.topic, e.partition, e.offset);
    return end;
  }

  /** Forgets the offsets of the groups `belongs` names (their partition moved away). */
  unload(belongs: (groupId: string) => boolean): void {
    for (const groupId of [...this.offsets.keys()]) if (belongs(groupId)) this.offsets.delete(groupId);
    for (const groupId of [...this.withMetadata]) if (belongs(groupId)) this.withMetadata.delete(groupId);
  }

  /** Whether the log holds a live group metadata record for the group. */
  hasMetadata(groupId: string): boolean {
    return this.withMetadata.has(groupId);
  }

  deleteOffset(groupId: string, topic: string, partition: number): number {
    return this.deleteOffsets(groupId, [{ topic, partition }]);
  }

  /**
   * Tombstones, in one batch, those of the named offsets the group has (as Kafka, a
   * partition without a committed offset gets no tombstone); returns how many.
   */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): number {
    const committed = this.offsets.get(groupId);
    const seen = new Set<string>();
    const removed = partitions.filter(({ topic, partition }) => {
      const id = `${topic}\u0000${partition}`;
      if (seen.has(id) || !committed?.get(topic)?.has(partition)) return false;
      seen.add(id);
      return true;
    });
    this.append(
      groupId,
      removed.map(({ topic, partition }) => ({ key: offsetKey(groupId, topic, partition), value: null })),
    );
    for (const { topic, partition } of removed) this.set(groupId, topic, partition, null);
    return removed.length;
  }

  writeGroup(groupId: string, snapshot: GroupSnapshot): void {
    this.append(groupId, [{ key: groupKey(groupId), value: groupValue(snapshot) }]);
    this.withMetadata.add(groupId);
  }

  /**
   * Tombstones every offset the group has and, when the log holds its metadata, the
   * metadata too, in one batch (Kafka's cleanupGroupMetadata for a dead group).
   */
  deleteGroup(groupId: string): void {
    const records: { key: Buffer; value: Buffer | null }[] = [];
    for (const [topic, partitions] of this.offsetsOf(groupId))
      for (const partition of partitions.keys())
        records.push({ key: offsetKey(groupId, topic, partition), value: null });
    if (this.withMetadata.has(groupId)) records.push({ key: groupKey(groupId), value: null });
    this.append(groupId, records);
    this.offsets.delete(groupId);
    this.withMetadata.delete(groupId);
  }

  /** Replays the offsets topic; returns the latest metadata snapshot of each group. */
  async load(partitions: PartitionLog[] = this.log.all()): Promise<Map<string, GroupSnapshot>> {
    const groups = new Map<string, GroupSnapshot>();
    for (const partitionLog of partitions) {
      let offset = partitionLog.logStartOffset;
      while (offset < partitionLog.logEndOffset) {
        const read = partitionLog.read(offset, 4 * 1024 * 1024, {
          minOneBatch: true,
          upperBound: partitionLog.logEndOffset,
        });
        if (read.bytes === 0) break;
        for (const chunk of read.chunks) {
          for (const bytes of splitBatches(chunk).batches) {
            const view = new RecordBatchView(bytes);
            let records: Awaited<ReturnType<RecordBatchView['records']>> = [];
            try {
              records = await view.records();
            } catch (error) {
              this.skipped.push(
                `batch at ${view.baseOffset} of ${partitionLog.topic}-${partitionLog.partition}: ${(error as Error).message}`,
              );
            }
            for (const record of records) {
              if (record.offset < offset || record.key === null) continue;
              try {
                this.replay(record.key, record.value, groups);
              } catch (error) {
                // A record this version cannot read is skipped, not fatal: the rest loads.
                this.skipped.push(
                  `record at ${record.offset} of ${partitionLog.topic}-${partitionLog.partition}: ${(error as Error).message}`,
                );
              }
            }
            offset = view.lastOffset + 1;
          }
        }
      }
    }
    return groups;
  }

  private replay(key: Buffer, value: Buffer | null, groups: Map<string, GroupSnapshot>): void {
    const reader = new Reader(key);
    const kind = reader.int16();
    const group = reader.string();
    if (kind === OFFSET_KEY) {
      const topic = reader.string();
      const partition = reader.int32();
      if (value === null) return this.set(group, topic, partition, null);
      const v = new Reader(value);
      const version = v.int16();
      const committed: CommittedOffset = {
        offset: v.int64(),
        leaderEpoch: v.int32(),
        metadata: v.nullableString(),
        commitTimestampMs: v.int64(),
      };
      if (version >= OFFSET_VALUE_WITH_EXPIRY) committed.expireTimestampMs = v.int64();
      this.set(group, topic, partition, committed);
    } else if (kind === GROUP_KEY) {
      if (value === null) {
        groups.delete(group);
        this.withMetadata.delete(group);
      } else {
        groups.set(group, parseGroupValue(value));
        this.withMetadata.add(group);
      }
    }
  }
}
