// Byte work any layer may hand to the pool: CRC-32C, decompression and recompression (a
// records section from one codec to another), pure functions of bytes from protocol/. The same functions run inline; bench/worker-pool.ts measures which
// is faster for each size (figures in docs/benchmarks.md).

import { crc32c } from '../../protocol/crc32c';
import { Compression, compress, decompress } from '../../protocol/compression';
import type { TaskModule } from './worker-pool';

export type ByteTask =
  | { kind: 'crc32c'; bytes: Uint8Array }
  | { kind: 'decompress'; codec: Compression; bytes: Uint8Array; limit: number }
  | {
      kind: 'recompress';
      from: Compression;
      to: Compression;
      level: number | undefined;
      bytes: Uint8Array;
      limit: number;
    };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function runTask(task: ByteTask): Promise<unknown> {
  switch (task.kind) {
    case 'crc32c':
      return crc32c(asBuffer(task.bytes));
    case 'decompress':
      return decompress(task.codec, asBuffer(task.bytes), task.limit);
    case 'recompress':
      return compress(task.to, await decompress(task.from, asBuffer(task.bytes), task.limit), task.level);
  }
}

export const byteTasks: TaskModule<ByteTask> = { filename: __filename, runTask };
