// Inline versus piscina worker pool for the byte work the broker could hand off: CRC-32C
// checks of single batches, recovery scans of a segment's worth of batches (split in
// chunks across the pool's threads), decompression, and recompression to a topic's codec. Each case reports MB/s both ways
// and the ratio; the broker's size thresholds (docs/architecture.md) come from this run.
// Usage: node dist/bench/worker-pool.js [--quick]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Compression, compress } from '../protocol/compression';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { byteTasks, ByteTask } from '../src/pool/byte-tasks';
import { scanTasks, ScanTask } from '../src/log/scan-tasks';
import { PoolTask, TaskModule, WorkerPool } from '../src/pool/worker-pool';
import { environment, writeResult } from './lib/env';

const quick = process.argv.includes('--quick');

interface Case {
  name: string;
  bytes: number;
  /** The module that does the work: the pool's byte tasks or the log's scans. */
  module: TaskModule<PoolTask>;
  tasks: () => PoolTask[];
}

async function measure(label: string, bytes: number, iterations: number, run: () => Promise<unknown>): Promise<number> {
  await run(); // warm up
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  void label;
  return (bytes * iterations) / seconds / 1e6;
}

function segmentOfBatches(totalBytes: number): Buffer {
  const batch = encodeRecordBatchSync({
    records: Array.from({ length: 16 }, (_, i) => ({ value: Buffer.alloc(1000, i) })),
  });
  const count = Math.floor(totalBytes / batch.length);
  const out = Buffer.alloc(count * batch.length);
  for (let i = 0; i < count; i++) {
    batch.writeBigInt64BE(BigInt(i * 16), 0);
    batch.copy(out, i * batch.length);
  }
  return out;
}

export async function main(): Promise<Record<string, unknown>> {
  const pool = new WorkerPool({ threads: 2 });
  const segmentBytes = quick ? 4 * 1024 * 1024 : 64 * 1024 * 1024;
  const segment = segmentOfBatches(segmentBytes);
  const chunk = 4 * 1024 * 1024;
  const scanChunks: ScanTask[] = [];
  for (let at = 0; at < segment.length; at += chunk) {
    // Cut at whole batches: every batch here has the same size.
    const batchSize = 12 + segment.readInt32BE(8);
    const end = Math.min(segment.length, at + Math.floor(chunk / batchSize) * batchSize);
    scanChunks.push({ kind: 'scan', bytes: segment.subarray(at, end), position: at, expectedOffset: 0 });
    at = end - chunk;
  }
  const raw = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + (i >> 7)) & 0x3f;
  const gzipped = await compress(Compression.Gzip, raw);
  const zstded = await compress(Compression.Zstd, raw);
  const cases: Case[] = [16 * 1024, 256 * 1024, 1024 * 1024, 8 * 1024 * 1024].map((size) => ({
    name: `crc32c ${size / 1024} KiB`,
    bytes: size,
    module: byteTasks,
    tasks: (): ByteTask[] => [{ kind: 'crc32c', bytes: Buffer.alloc(size, 1) }],
  }));
  cases.push({
    name: `scan ${segmentBytes >> 20} MiB handed over in 4 MiB chunks`,
    bytes: segment.length,
    module: scanTasks,
    tasks: () => scanChunks,
  });
  // The realistic recovery shape: each thread reads its own file range and scans it.
  const file = path.join(os.tmpdir(), `brook-bench-segment-${process.pid}.log`);
  fs.writeFileSync(file, segment);
  const fileChunks: ScanTask[] = scanChunks.map((task) => {
    const t = task as unknown as { position: number; bytes: Buffer };
    return {
      kind: 'scan-file',
      file,
      position: t.position,
      length: t.bytes.length,
      expectedOffset: 0,
      bytes: { byteLength: t.bytes.length },
    };
  });
  cases.push({
    name: `recovery scan ${segmentBytes >> 20} MiB file, 4 MiB ranges`,
    bytes: segment.length,
    module: scanTasks,
    tasks: () => fileChunks,
  });
  cases.push({
    name: 'gzip decompress 1 MiB',
    bytes: raw.length,
    module: byteTasks,
    tasks: (): ByteTask[] => [{ kind: 'decompress', codec: Compression.Gzip, bytes: gzipped, limit: 1 << 24 }],
  });
  cases.push({
    name: 'zstd decompress 1 MiB',
    bytes: raw.length,
    module: byteTasks,
    tasks: (): ByteTask[] => [{ kind: 'decompress', codec: Compression.Zstd, bytes: zstded, limit: 1 << 24 }],
  });
  // Recompression of an uncompressed records section to a topic's codec (compression.type):
  // the broker's threshold for the pool (RECOMPRESS_POOL_MIN_BYTES) comes from these rows.
  for (const size of [16 * 1024, 256 * 1024, 1024 * 1024]) {
    for (const [codecName, to] of [
      ['zstd', Compression.Zstd],
      ['lz4', Compression.Lz4],
      ['snappy', Compression.Snappy],
      ['gzip', Compression.Gzip],
    ] as const) {
      const bytes = raw.subarray(0, size);
      cases.push({
        name: `recompress ${size / 1024} KiB to ${codecName}`,
        bytes: size,
        module: byteTasks,
        tasks: (): ByteTask[] => [
          { kind: 'recompress', from: Compression.None, to, level: undefined, bytes, limit: 1 << 24 },
        ],
      });
    }
  }

  const results: Record<string, unknown> = { environment: environment(), mode: quick ? 'quick' : 'full', threads: 2 };
  for (const c of cases) {
    const tasks = c.tasks();
    const iterations = quick ? 3 : Math.max(5, Math.min(2000, Math.floor(400e6 / c.bytes)));
    const inline = await measure('inline', c.bytes, iterations, async () => {
      for (const task of tasks) await c.module.runTask(task);
    });
    // The pool gets the tasks all at once, as a recovery or a batch of fetches would.
    const pooled = await measure('pool', c.bytes, iterations, () =>
      Promise.all(tasks.map((task) => pool.run(c.module, task, true))),
    );
    results[c.name] = { inlineMBps: inline, poolMBps: pooled, poolOverInline: pooled / inline, iterations };
    process.stdout.write(
      `${c.name.padEnd(40)} inline ${inline.toFixed(0).padStart(6)} MB/s   pool ${pooled.toFixed(0).padStart(6)} MB/s   pool/inline ${(pooled / inline).toFixed(2)}\n`,
    );
  }
  await pool.close();
  fs.rmSync(file, { force: true });
  return results;
}

if (require.main === module) {
  main().then((results) => {
    const file = writeResult(quick ? 'worker-pool-quick' : 'worker-pool', results);
    process.stdout.write(`written ${file}\n`);
  });
}
