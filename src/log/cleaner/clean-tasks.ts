// The cleaner's work for the worker pool: one cleaning pass of one partition on the real
// file system, run by a pool thread so decompression, key hashing and recompression stay
// off the event loop. Only numbers and names cross threads: the thread opens the segment
// files itself, and the abort flag is a shared Int32Array the manager sets. Each thread
// keeps its offset map between passes (allocated once, as Kafka's cleaner threads do).

import type { TaskModule } from '../../pool/worker-pool';
import { realFileSystem } from '../file-system';
import { CleaningAborted, CleanInput, cleanLog } from './clean';
import { OffsetMap } from './offset-map';

export interface CleanTask {
  kind: 'clean';
  input: CleanInput;
  abort: Int32Array;
  bytes: { byteLength: number };
}

let map: OffsetMap | null = null;

export async function runTask(task: CleanTask): Promise<unknown> {
  if (!map || map.slots !== Math.floor(task.input.mapMemoryBytes / 24)) {
    map = null;
    map = new OffsetMap(task.input.mapMemoryBytes);
  }
  try {
    return await cleanLog(
      realFileSystem,
      task.input,
      () => {
        if (Atomics.load(task.abort, 0) !== 0) throw new CleaningAborted('cleaning aborted');
      },
      map,
    );
  } catch (error) {
    // Errors cross the thread as plain objects: the name and code say what happened.
    const e = error as NodeJS.ErrnoException;
    throw Object.assign(new Error(e?.message ?? String(error)), { name: e?.name, code: e?.code });
  }
}

export const cleanTasks: TaskModule<CleanTask> = { filename: __filename, runTask };
