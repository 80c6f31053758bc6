// The log's work for the worker pool: scanning batches (CRC-32C and structure) of a buffer
// or of a byte range of a segment file, for recovery. A pool thread loads this module and
// calls runTask; the same function runs inline.

import * as fs from 'node:fs';
import type { TaskModule } from '../pool/worker-pool';
import { scanBuffer } from './batch-scan';

export type ScanTask =
  | { kind: 'scan'; bytes: Uint8Array; position: number; expectedOffset: number }
  /** Reads a byte range of a segment file and scans it: nothing crosses threads but numbers. */
  | {
      kind: 'scan-file';
      file: string;
      position: number;
      length: number;
      expectedOffset: number;
      bytes: { byteLength: number };
    };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function runTask(task: ScanTask): Promise<unknown> {
  switch (task.kind) {
    case 'scan': {
      const result = scanBuffer(asBuffer(task.bytes), task.position, task.expectedOffset);
      return {
        validBytes: result.validBytes,
        stop: result.stop,
        reason: result.reason,
        nextOffset: result.nextOffset,
        batches: result.batches.length,
      };
    }
    case 'scan-file': {
      const fd = fs.openSync(task.file, 'r');
      try {
        const buf = Buffer.allocUnsafe(task.length);
        const got = fs.readSync(fd, buf, 0, task.length, task.position);
        const result = scanBuffer(buf.subarray(0, got), task.position, task.expectedOffset);
        return {
          validBytes: result.validBytes,
          stop: result.stop,
          reason: result.reason,
          nextOffset: result.nextOffset,
          batches: result.batches.length,
        };
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

export const scanTasks: TaskModule<ScanTask> = { filename: __filename, runTask };
