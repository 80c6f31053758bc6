// Kafka's offset checkpoint files, kept per log directory (data-dir/logs/):
//   recovery-point-offset-checkpoint   per partition, the offset below which the log is
//                                      known durable (flushed); after an unclean stop only
//                                      the segments from the one holding it are recovered
//   replication-offset-checkpoint      per partition, the high watermark, so a restarted
//                                      replica does not start from 0 (or from its log end)
//   log-start-offset-checkpoint        per partition whose log start is above its first
//                                      segment's base offset (records deleted by offset), the
//                                      log start, so a restart does not serve them again
// Format (Kafka's): a version line "0", a count line, then one "topic partition offset"
// line per partition. Written crash-safely (temporary file, fsync, rename, directory
// fsync), so a crash leaves the old file or the new one; a file that does not parse is
// treated as missing (every segment recovered, high watermarks from the log start).

import { FileSystem, readWholeFile, writeFileDurable } from './file-system';
import {
  HIGH_WATERMARK_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  RECOVERY_POINT_CHECKPOINT_FILE,
  TEMPORARY_SUFFIX,
} from './on-disk-names';

export { HIGH_WATERMARK_CHECKPOINT_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, RECOVERY_POINT_CHECKPOINT_FILE };

const VERSION = 0;
/** More lines than this is not a checkpoint Brook wrote (bounds the parse). */
const ENTRIES_MAX = 10_000_000;
/** A count, partition or offset: plain decimal digits only. */
const DECIMAL = /^\d{1,16}$/;

export interface CheckpointEntry {
  topic: string;
  partition: number;
  offset: number;
}

/** The entries of a checkpoint file, or null when it is missing or does not parse. */
export function readOffsetCheckpoint(fs: FileSystem, file: string): CheckpointEntry[] | null {
  if (!fs.exists(file)) return null;
  const lines = readWholeFile(fs, file).toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2 || lines[0] !== String(VERSION)) return null;
  const count = DECIMAL.test(lines[1]) ? Number(lines[1]) : -1;
  if (count < 0 || count > ENTRIES_MAX || count !== lines.length - 2) return null;
  const entries: CheckpointEntry[] = [];
  for (const line of lines.slice(2)) {
    const fields = line.split(' ');
    if (fields.length !== 3 || fields[0].length === 0 || !DECIMAL.test(fields[1]) || !DECIMAL.test(fields[2]))
      return null;
    const partition = Number(fields[1]);
    const offset = Number(fields[2]);
    if (!Number.isSafeInteger(partition) || !Number.isSafeInteger(offset)) return null;
    entries.push({ topic: fields[0], partition, offset });
  }
  return entries;
}

/** The checkpoint file's text for `entries` (sorted, so equal contents give equal text). */
export function formatOffsetCheckpoint(entries: CheckpointEntry[]): string {
  const lines = entries
    .slice()
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((e) => `${e.topic} ${e.partition} ${e.offset}`);
  return `${VERSION}\n${lines.length}\n${lines.map((line) => `${line}\n`).join('')}`;
}

/** Replaces the checkpoint file crash-safely. */
export function writeOffsetCheckpoint(fs: FileSystem, file: string, text: string): void {
  writeFileDurable(fs, file, Buffer.from(text), TEMPORARY_SUFFIX);
}
