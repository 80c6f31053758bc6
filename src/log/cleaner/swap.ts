// Finishing what a crash interrupted in the cleaner's segment swap, when a partition opens
// (Kafka's LogLoader rules). The swap writes `<base>.log.cleaned` and fsyncs it, renames it
// to `<base>.log.swap` and fsyncs the directory, deletes the segments it replaces, renames
// the swap file to `<base>.log` and fsyncs the directory again. So at open:
// - a `.cleaned` file is an unfinished pass: it is deleted (the old segments are whole);
// - a `.swap` file is a finished one: the segments whose base offsets fall in its range
//   [base, offset after its last batch) are deleted, and it is renamed into place.

import * as path from 'node:path';
import { FileSystem } from '../file-system';
import { scanBatches } from '../batch-scan';
import {
  INDEX_SUFFIX,
  isSegmentLogName,
  LOG_SUFFIX,
  offsetFileName,
  offsetOfFileName,
  TIME_INDEX_SUFFIX,
  CLEANED_SUFFIX,
  SWAP_SUFFIX,
} from '../on-disk-names';

export { SWAP_SUFFIX };
const SWAP_LOG_NAME = /^\d{20}\.log\.swap$/;

/** The name a cleaned segment has between its fsync and its rename into place. */
export function swapFileName(baseOffset: number): string {
  return offsetFileName(baseOffset, LOG_SUFFIX) + SWAP_SUFFIX;
}

/** Applies the rules above to one partition directory; returns what it did (for logs and tests). */
export function completeInterruptedSwaps(
  fs: FileSystem,
  dir: string,
): { deletedCleaned: number; completedSwaps: number } {
  const names = fs.readdir(dir);
  let deletedCleaned = 0;
  let completedSwaps = 0;
  for (const name of names) {
    if (!name.endsWith(CLEANED_SUFFIX)) continue;
    fs.unlink(path.join(dir, name));
    deletedCleaned++;
  }
  for (const name of names.filter((n) => SWAP_LOG_NAME.test(n)).sort()) {
    const base = offsetOfFileName(name);
    const swap = path.join(dir, name);
    const handle = fs.open(swap);
    let next = base;
    try {
      const scan = scanBatches(handle, 0, handle.size(), base, () => undefined);
      next = scan.nextOffset ?? base;
    } finally {
      handle.close();
    }
    for (const other of fs.readdir(dir)) {
      if (!isSegmentLogName(other)) continue;
      const offset = offsetOfFileName(other);
      if (offset < base || offset >= Math.max(next, base + 1)) continue;
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX])
        fs.unlink(path.join(dir, offsetFileName(offset, suffix)));
    }
    fs.rename(swap, path.join(dir, offsetFileName(base, LOG_SUFFIX)));
    completedSwaps++;
  }
  if (deletedCleaned + completedSwaps > 0) fs.syncDir(dir);
  return { deletedCleaned, completedSwaps };
}
