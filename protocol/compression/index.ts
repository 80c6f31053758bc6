// Record batch compression codecs with Kafka's formats: gzip (zlib), snappy (xerial
// framing as the Java client writes it; raw snappy accepted on decode, as librdkafka may
// send), lz4 (the standard LZ4 frame format used from magic v1 on) and zstd. Every decode
// is bounded by an output size limit, so a compression bomb is an error, not an OOM.

import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import * as zstd from '@mongodb-js/zstd';
import {
  lz4DecompressedBytesBound,
  SizeBound,
  snappyDecompressedBytesBound,
  zstdDecompressedBytesBound,
} from './size-bound';

export enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export const COMPRESSION_NAMES: Record<number, string> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

export function compressionByName(name: string): Compression | undefined {
  const index = Object.values(COMPRESSION_NAMES).indexOf(name.toLowerCase());
  return index >= 0 ? (index as Compression) : undefined;
}

export const DECOMPRESSED_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

export class CompressionError extends Error {
  override name = 'CompressionError';
}

/**
 * The zstd binding itself: the package's wrapper (1.2) drops the level argument, the native
 * compress takes it.
 */
const zstdNative = require('@mongodb-js/zstd/bindings') as {
  compress(data: Buffer, level: number): Promise<Buffer>;
};

async function zstdCompress(input: Buffer, level: number): Promise<Buffer> {
  try {
    return await zstdNative.compress(input, level);
  } catch (error) {
    throw new CompressionError(`zstd compression failed: ${(error as Error).message}`);
  }
}

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

function isXerial(buf: Buffer): boolean {
  return buf.length >= XERIAL_HEADER_BYTES && buf.subarray(0, 8).equals(XERIAL_MAGIC);
}

function snappyEncodeXerial(input: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  const parts: Buffer[] = [header];
  for (let offset = 0; offset < input.length || (offset === 0 && input.length === 0); offset += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(input.subarray(offset, offset + XERIAL_BLOCK_BYTES));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    if (input.length === 0) break;
  }
  return Buffer.concat(parts);
}

/**
 * The native codecs inflate a whole input before the size can be checked, so the bound
 * read from the frame headers is checked first: a bomb is refused before it allocates.
 */
function checkBound(bound: SizeBound, limit: number): void {
  if (bound.error !== undefined) throw new CompressionError(bound.error);
  if (bound.bytesMax > limit) throw new CompressionError(`decompressed size exceeds ${limit} bytes`);
}

function snappyDecode(input: Buffer, limit: number): Buffer {
  checkBound(snappyDecompressedBytesBound(input, isXerial(input)), limit);
  if (!isXerial(input)) return checkLimit(snappy.uncompressSync(input, { asBuffer: true }) as Buffer, limit);
  const parts: Buffer[] = [];
  let total = 0;
  let offset = XERIAL_HEADER_BYTES;
  while (offset < input.length) {
    if (offset + 4 > input.length) throw new CompressionError('truncated xerial snappy block header');
    const length = input.readInt32BE(offset);
    offset += 4;
    if (length < 0 || offset + length > input.length)
      throw new CompressionError('xerial snappy block overruns the input');
    const block = snappy.uncompressSync(input.subarray(offset, offset + length), { asBuffer: true }) as Buffer;
    offset += length;
    total += block.length;
    if (total > limit) throw new CompressionError(`decompressed size exceeds ${limit} bytes`);
    parts.push(block);
  }
  return Buffer.concat(parts, total);
}

function checkLimit(out: Buffer, limit: number): Buffer {
  if (out.length > limit) throw new CompressionError(`decompressed size exceeds ${limit} bytes`);
  return out;
}

/** Kafka's default levels (CompressionType): zlib's own default for gzip, 3 for zstd. */
export const GZIP_LEVEL_DEFAULT = -1;
export const ZSTD_LEVEL_DEFAULT = 3;

/**
 * Compresses `input` with `codec`. `level` applies to gzip (1-9, -1 for zlib's default) and
 * zstd (-131072 to 22); snappy has no levels, and the lz4 binding writes frames at its one
 * fast level.
 */
export async function compress(codec: Compression, input: Buffer, level?: number): Promise<Buffer> {
  switch (codec) {
    case Compression.None:
      return input;
    case Compression.Gzip:
      return gzip(input, { level: level ?? GZIP_LEVEL_DEFAULT });
    case Compression.Snappy:
      return snappyEncodeXerial(input);
    case Compression.Lz4:
      return lz4.compressFrameSync(input);
    case Compression.Zstd:
      return zstdCompress(input, level ?? ZSTD_LEVEL_DEFAULT);
    default:
      throw new CompressionError(`unknown compression codec ${codec}`);
  }
}

export async function decompress(
  codec: Compression,
  input: Buffer,
  limit = DECOMPRESSED_BYTES_MAX_DEFAULT,
): Promise<Buffer> {
  try {
    switch (codec) {
      case Compression.None:
        return input;
      case Compression.Gzip:
        return await gunzip(input, { maxOutputLength: limit });
      case Compression.Snappy:
        return snappyDecode(input, limit);
      case Compression.Lz4:
        checkBound(lz4DecompressedBytesBound(input), limit);
        return checkLimit(lz4.decompressFrameSync(input), limit);
      case Compression.Zstd:
        checkBound(zstdDecompressedBytesBound(input), limit);
        return checkLimit(await zstd.decompress(input), limit);
      default:
        throw new CompressionError(`unknown compression codec ${codec}`);
    }
  } catch (error) {
    if (error instanceof CompressionError) throw error;
    throw new CompressionError(
      `${COMPRESSION_NAMES[codec] ?? codec} decompression failed: ${(error as Error).message}`,
    );
  }
}
