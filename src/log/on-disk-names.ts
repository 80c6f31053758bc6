// Every name Brook gives to what it keeps under a data directory, defined once: the
// partition directories and their deletion and stray forms, the segment files (a 20-digit
// zero-padded base offset and .log, .index or .timeindex), producer-state snapshots, the
// clean-shutdown marker, the leader-epoch and offset checkpoints, the log cleaner's files,
// and meta.properties. The
// names are Kafka's where Kafka has one, so an operator who knows Kafka's layout finds
// their way.
//
// data-dir/
//   meta.properties                     cluster and node the directory belongs to
//   __cluster_metadata/                 the metadata quorum's log, state and snapshots
//   logs/recovery-point-offset-checkpoint   per partition, the offset below which its log is flushed
//   logs/replication-offset-checkpoint      per partition, its high watermark
//   logs/log-start-offset-checkpoint        per partition whose log starts inside its first segment, the start
//   logs/cleaner-offset-checkpoint          per compacted partition, where its dirty (uncleaned) section starts
//   logs/<topic>-<partition>/           one directory per partition replica
//     00000000000000000000.log          record batches as produced
//     00000000000000000000.index        sparse offset index
//     00000000000000000000.timeindex    sparse time index
//     00000000000000001234.snapshot     producer state at offset 1234 (binary, CRC-32C)
//     leader-epoch-checkpoint           leader epochs and their start offsets
//     .clean-shutdown                   present only while the log is closed cleanly
//     00000000000000000000.log.cleaned  a cleaning pass's output (also .index.cleaned, .timeindex.cleaned);
//                                       deleted at open, the pass never finished
//     00000000000000000000.log.swap     a cleaned segment being swapped in; the swap is finished at open

import { randomUUID } from 'node:crypto';

export const META_PROPERTIES_FILE = 'meta.properties';
export const CLUSTER_METADATA_DIR = '__cluster_metadata';
export const LOGS_DIR = 'logs';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** A segment's files, in the order they are deleted: the log last, so a crash leaves it. */
export const SEGMENT_FILE_SUFFIXES = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX] as const;
export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
export const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';
/** In the log directory (`logs/`): Kafka's offset checkpoint files. */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** In the log directory: where each compacted partition's dirty section starts (Kafka's). */
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** A cleaning pass's output files: `<base>.log.cleaned` and its indexes. */
export const CLEANED_SUFFIX = '.cleaned';
/** A cleaned segment between its commit and its rename into place: `<base>.log.swap`. */
export const SWAP_SUFFIX = '.swap';
/** Written to a temporary name first, then renamed over the real one. */
export const TEMPORARY_SUFFIX = '.tmp';

const OFFSET_DIGITS = 20;
const SEGMENT_LOG_NAME = /^\d{20}\.log$/;

/** `<20-digit zero-padded offset><suffix>`: segment files and producer snapshots. */
export function offsetFileName(offset: number, suffix: string): string {
  return `${String(offset).padStart(OFFSET_DIGITS, '0')}${suffix}`;
}

/** The offset at the start of an offset file name (NaN when it has none). */
export function offsetOfFileName(name: string): number {
  return Number(name.slice(0, OFFSET_DIGITS));
}

/** A segment's .log file (`00000000000000001234.log`). */
export function isSegmentLogName(name: string): boolean {
  return SEGMENT_LOG_NAME.test(name);
}

/** The .log files among a directory's names, oldest segment first. */
export function segmentLogNames(names: string[]): string[] {
  return names.filter(isSegmentLogName).sort();
}

export function isProducerSnapshotName(name: string): boolean {
  return name.endsWith(PRODUCER_SNAPSHOT_SUFFIX);
}

/** `<topic>-<partition>`. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** `<topic>-<partition>`: the partition number is after the last dash. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (!match) return null;
  return { topic: match[1], partition: Number(match[2]) };
}

const DELETE_SUFFIX = '-delete';
const STRAY_SUFFIX = '-stray';
/** NAME_MAX of ext4, xfs, btrfs and tmpfs: the longest file name, in bytes. */
export const FILE_NAME_BYTES_MAX = 255;

/**
 * Whether a partition's directory name fits in a file name. A legal topic name (249
 * characters at most) leaves room for partition numbers up to 99999, as in Kafka; higher
 * partition numbers of a long name are refused before they reach the metadata log.
 */
export function partitionDirNameFits(topic: string, partition: number): boolean {
  return Buffer.byteLength(partitionDirName(topic, partition)) <= FILE_NAME_BYTES_MAX;
}

/**
 * `<topic>-<partition>.<32 hex digits><suffix>`, Kafka's form, with the topic shortened so
 * the whole stays within FILE_NAME_BYTES_MAX (a 249-character topic would otherwise pass
 * it). The random id keeps two deletions of the same partition (deleted, re-created,
 * deleted) apart; the name ends in a suffix, so it is never parsed as a partition.
 */
function asideDirName(topic: string, partition: number, suffix: string, uniqueId: string): string {
  const tail = `-${partition}.${uniqueId}${suffix}`;
  const room = FILE_NAME_BYTES_MAX - Buffer.byteLength(tail);
  let prefix = topic.length > room ? topic.slice(0, room) : topic;
  // Topic names are ASCII; this only matters for a name that is not, so no character is split.
  while (Buffer.byteLength(prefix) > room) prefix = prefix.slice(0, -1);
  return prefix + tail;
}

function uniqueDirId(): string {
  return randomUUID().replace(/-/g, '');
}

/** A partition directory renamed for deletion: finished at the next start if a crash cuts it short. */
export function deletedDirName(topic: string, partition: number, uniqueId = uniqueDirId()): string {
  return asideDirName(topic, partition, DELETE_SUFFIX, uniqueId);
}

export function isDeletedDirName(name: string): boolean {
  return name.endsWith(DELETE_SUFFIX);
}

/** A partition directory the metadata does not know, set aside (never read, never deleted). */
export function strayDirName(topic: string, partition: number, uniqueId = uniqueDirId()): string {
  return asideDirName(topic, partition, STRAY_SUFFIX, uniqueId);
}
