// What the leader does to validated produced batches before it appends them, as Kafka's
// LogValidator does: a batch in another codec than the topic's compression.type is
// recompressed (records, offsets, producer fields and timestamps kept), and a
// LogAppendTime topic's batches are stamped with the append time. Followers copy the
// leader's bytes and never convert.

import { Compression, compressionByName, compress, decompress } from '../../protocol/compression';
import {
  RecordBatchView,
  RECORD_BATCH_OVERHEAD,
  stampLogAppendTime,
  withRecordsPayload,
} from '../../protocol/record-batch';
import { byteTasks, ByteTask } from '../pool/byte-tasks';
import { WorkerPool } from '../pool/worker-pool';

export interface BatchConversion {
  /** The codec batches are stored in; null for compression.type=producer (as produced). */
  codec: Compression | null;
  /** The topic's level for that codec (compression.gzip.level, compression.zstd.level). */
  level: number | undefined;
  /** The append time stamped on every batch (LogAppendTime topics), else null. */
  logAppendTimeMs: number | null;
  /** The bound on a decompressed payload (brook.message.decompressed.max.bytes). */
  decompressedMaxBytes: number;
}

/** The conversion a topic's effective config asks for, with `nowMs` as the append time. */
export function batchConversion(
  config: Record<string, string>,
  nowMs: number,
  decompressedMaxBytes: number,
): BatchConversion {
  const type = config['compression.type'] ?? 'producer';
  const codec =
    type === 'producer' ? null : type === 'uncompressed' ? Compression.None : (compressionByName(type) ?? null);
  const level =
    codec === Compression.Gzip
      ? Number(config['compression.gzip.level'])
      : codec === Compression.Zstd
        ? Number(config['compression.zstd.level'])
        : undefined;
  return {
    codec,
    level: level !== undefined && Number.isInteger(level) ? level : undefined,
    logAppendTimeMs: config['message.timestamp.type'] === 'LogAppendTime' ? nowMs : null,
    decompressedMaxBytes,
  };
}

/**
 * Records sections at least this large are recompressed on the worker pool when snappy is
 * on either side. bench/worker-pool.ts (docs/architecture.md, the worker pool): snappy,
 * which runs synchronously here in 32 KiB blocks, is 2-3x faster on the pool from 256 KiB;
 * lz4 is fast enough inline (the pool was 0.45-0.63x of it), and gzip and zstd already run
 * on libuv's threads, off the event loop (0.4-1.0x on the pool).
 */
export const RECOMPRESS_POOL_MIN_BYTES = 256 * 1024;
const POOLED_CODECS: ReadonlySet<Compression> = new Set([Compression.Snappy]);

/** A worker pool started on first use (most brokers never recompress a large batch). */
export class LazyWorkerPool {
  private pool: WorkerPool | null = null;

  get(): WorkerPool {
    this.pool ??= new WorkerPool({ threads: 2 });
    return this.pool;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.close();
  }
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Decompresses a records section from one codec and compresses it in another. */
export async function recompressPayload(
  from: Compression,
  to: Compression,
  level: number | undefined,
  payload: Buffer,
  decompressedMaxBytes: number,
): Promise<Buffer> {
  const plain = await decompress(from, payload, decompressedMaxBytes);
  return compress(to, plain, level);
}

/**
 * Applies `conversion` to validated batches; returns the batches to append (recompressed
 * ones are new buffers, stamped ones are changed in place). `decompressed` holds records
 * sections validation already decompressed, by batch. With a pool, large snappy records
 * sections are recompressed on it.
 */
export async function convertBatches(
  batches: Buffer[],
  conversion: BatchConversion,
  pool: LazyWorkerPool | null = null,
  decompressed: ReadonlyMap<Buffer, Buffer> = new Map(),
): Promise<Buffer[]> {
  if (conversion.codec === null && conversion.logAppendTimeMs === null) return batches;
  const out: Buffer[] = [];
  for (const batch of batches) {
    let converted = batch;
    const view = new RecordBatchView(batch);
    if (conversion.codec !== null && view.compression !== conversion.codec) {
      // A records section validation already decompressed is only compressed again.
      const plain = decompressed.get(batch);
      const from = plain ? Compression.None : view.compression;
      const source = plain ?? batch.subarray(RECORD_BATCH_OVERHEAD, view.totalSize);
      const task: ByteTask = {
        kind: 'recompress',
        from,
        to: conversion.codec,
        level: conversion.level,
        bytes: source,
        limit: conversion.decompressedMaxBytes,
      };
      const pooled =
        pool !== null &&
        source.length >= RECOMPRESS_POOL_MIN_BYTES &&
        (POOLED_CODECS.has(from) || POOLED_CODECS.has(conversion.codec));
      const recompressed = pooled
        ? asBuffer(await pool.get().run<Uint8Array, ByteTask>(byteTasks, task, true))
        : await recompressPayload(from, conversion.codec, conversion.level, source, task.limit);
      converted = withRecordsPayload(batch, conversion.codec, recompressed);
    }
    if (conversion.logAppendTimeMs !== null) stampLogAppendTime(converted, conversion.logAppendTimeMs);
    out.push(converted);
  }
  return out;
}
