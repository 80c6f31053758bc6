// The work a pool thread can do: pure functions of bytes (CRC-32C, batch scans for
// recovery, decompression). The same functions run inline; bench/worker-pool.ts measures
// which is faster for each size on this machine.

import * as fs from 'node:fs';
import { crc32c } from '../../protocol/crc32c';
import { Compression, decompress } from '../../protocol/compression';
import { scanBuffer } from '../log/batch-scan';

export type PoolTask =
  | { kind: 'crc32c'; bytes: Uint8Array }
  | { kind: 'scan'; bytes: Uint8Array; position: number; expectedOffset: number }
  | { kind: 'decompress'; codec: Compression; bytes: Uint8Array; limit: number }
  /** Reads a byte range of a segment file and scans it: nothing crosses threads but numbers. */
  | { kind: 'scan-file'; file: string; position: number; length: number; expectedOffset: number; bytes: { byteLength: number } };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function runTask(task: PoolTask): Promise<unknown> {
  switch (task.kind) {
    case 'crc32c':
      return crc32c(asBuffer(task.bytes));
    case 'scan': {
      const result = scanBuffer(asBuffer(task.bytes), task.position, task.expectedOffset);
      return { validBytes: result.validBytes, stop: result.stop, reason: result.reason, nextOffset: result.nextOffset, batches: result.batches.length };
    }
    case 'decompress':
      return decompress(task.codec, asBuffer(task.bytes), task.limit);
    case 'scan-file': {
      const fd = fs.openSync(task.file, 'r');
      try {
        const buf = Buffer.allocUnsafe(task.length);
        const got = fs.readSync(fd, buf, 0, task.length, task.position);
        const result = scanBuffer(buf.subarray(0, got), task.position, task.expectedOffset);
        return { validBytes: result.validBytes, stop: result.stop, reason: result.reason, nextOffset: result.nextOffset, batches: result.batches.length };
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}
