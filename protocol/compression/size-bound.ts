// Upper bounds on decompressed size, read from frame and block headers without
// decompressing. The native zstd, lz4 and snappy bindings inflate a whole input before
// their caller can see the size, so a small hostile batch could allocate gigabytes before
// a limit check after the fact; checking these bounds first refuses such input up front.
//
// Formats (facts from the public format descriptions):
//   zstd (RFC 8878): frames of magic 0xFD2FB528, frame header, then blocks with a 3-byte
//     header (last flag, type raw/RLE/compressed, size); a compressed block regenerates at
//     most min(window size, 128 KiB). Skippable frames 0x184D2A50..5F carry a 4-byte size.
//   LZ4 frame: magic 0x184D2204, FLG and BD bytes, optional content size and dictionary
//     id, header checksum, then blocks of 4-byte size (high bit: stored uncompressed), each
//     regenerating at most the block maximum size from BD; size 0 ends the frame.
//   snappy: a raw stream opens with its uncompressed length as a uvarint; the xerial
//     framing is a 16-byte header then chunks of 4-byte big-endian length + raw stream.

export type SizeBound = { bytesMax: number; error?: undefined } | { bytesMax?: undefined; error: string };

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const ZSTD_BLOCK_BYTES_MAX = 128 * 1024;

const LZ4_MAGIC = 0x184d2204;
const LZ4_UNCOMPRESSED_FLAG = 0x80000000;
const LZ4_BLOCK_BYTES_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

const XERIAL_HEADER_BYTES = 16;

function fail(error: string): SizeBound {
  return { error };
}

/** Reads a little-endian unsigned integer of 1-8 bytes as a number (exact to 2^53). */
function readUIntLE(buf: Buffer, at: number, bytes: number): number {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + buf[at + i];
  return value;
}

/** Bound for one or more concatenated zstd frames (and skippable frames). */
export function zstdDecompressedBytesBound(buf: Buffer): SizeBound {
  let at = 0;
  let total = 0;
  if (buf.length === 0) return fail('empty zstd input');
  while (at < buf.length) {
    if (buf.length - at < 4) return fail('truncated zstd frame magic');
    const magic = buf.readUInt32LE(at);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (buf.length - at < 8) return fail('truncated zstd skippable frame');
      at += 8 + buf.readUInt32LE(at + 4);
      if (at > buf.length) return fail('zstd skippable frame overruns the input');
      continue;
    }
    if (magic !== ZSTD_MAGIC) return fail(`not a zstd frame (magic 0x${magic.toString(16)})`);
    at += 4;
    if (at >= buf.length) return fail('truncated zstd frame header');
    const descriptor = buf[at++];
    if (descriptor & 0x08) return fail('zstd frame header reserved bit set');
    const contentSizeFlag = descriptor >> 6;
    const singleSegment = (descriptor & 0x20) !== 0;
    const checksum = (descriptor & 0x04) !== 0;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03];
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag];
    let windowBytes = Infinity;
    if (!singleSegment) {
      if (at >= buf.length) return fail('truncated zstd window descriptor');
      const window = buf[at++];
      const base = 2 ** (10 + (window >> 3));
      windowBytes = base + (base / 8) * (window & 0x07);
    }
    if (buf.length - at < dictionaryIdBytes + contentSizeBytes) return fail('truncated zstd frame header');
    at += dictionaryIdBytes;
    let contentSize = -1;
    if (contentSizeBytes > 0) {
      contentSize = readUIntLE(buf, at, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
      at += contentSizeBytes;
      if (singleSegment) windowBytes = contentSize;
    }
    const blockBytesMax = Math.min(windowBytes, ZSTD_BLOCK_BYTES_MAX);
    let frameBound = 0;
    for (;;) {
      if (buf.length - at < 3) return fail('truncated zstd block header');
      const header = readUIntLE(buf, at, 3);
      at += 3;
      const last = (header & 1) !== 0;
      const type = (header >> 1) & 0x03;
      const size = header >>> 3;
      if (type === 3) return fail('reserved zstd block type');
      if (type === 1) {
        // RLE: one byte repeated size times.
        at += 1;
        frameBound += size;
      } else {
        at += size;
        frameBound += type === 0 ? size : blockBytesMax;
      }
      if (at > buf.length) return fail('zstd block overruns the input');
      if (last) break;
    }
    if (checksum) {
      at += 4;
      if (at > buf.length) return fail('truncated zstd content checksum');
    }
    // A frame that declares its size cannot decode to more than that; one that omits it is
    // bounded by its blocks. Both are honest upper bounds, so use the smaller, but a
    // declared size past the block bound is corrupt.
    if (contentSize > frameBound)
      return fail(`zstd frame declares ${contentSize} bytes but its blocks hold at most ${frameBound}`);
    total += contentSize >= 0 ? contentSize : frameBound;
  }
  return { bytesMax: total };
}

/** Bound for one or more concatenated LZ4 frames (and skippable frames). */
export function lz4DecompressedBytesBound(buf: Buffer): SizeBound {
  let at = 0;
  let total = 0;
  if (buf.length === 0) return fail('empty lz4 input');
  while (at < buf.length) {
    if (buf.length - at < 4) return fail('truncated lz4 frame magic');
    const magic = buf.readUInt32LE(at);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (buf.length - at < 8) return fail('truncated lz4 skippable frame');
      at += 8 + buf.readUInt32LE(at + 4);
      if (at > buf.length) return fail('lz4 skippable frame overruns the input');
      continue;
    }
    if (magic !== LZ4_MAGIC) return fail(`not an lz4 frame (magic 0x${magic.toString(16)})`);
    at += 4;
    if (buf.length - at < 3) return fail('truncated lz4 frame descriptor');
    const flags = buf[at];
    const blockDescriptor = buf[at + 1];
    at += 2;
    if (flags >> 6 !== 1) return fail(`unsupported lz4 frame version ${flags >> 6}`);
    const blockChecksum = (flags & 0x10) !== 0;
    const hasContentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const hasDictionaryId = (flags & 0x01) !== 0;
    const blockBytesMax = LZ4_BLOCK_BYTES_MAX[(blockDescriptor >> 4) & 0x07];
    if (!blockBytesMax) return fail(`invalid lz4 block size code ${(blockDescriptor >> 4) & 0x07}`);
    let contentSize = -1;
    if (hasContentSize) {
      if (buf.length - at < 8) return fail('truncated lz4 content size');
      contentSize = readUIntLE(buf, at, 8);
      at += 8;
    }
    if (hasDictionaryId) at += 4;
    at += 1; // header checksum, verified by the decoder
    let frameBound = 0;
    for (;;) {
      if (buf.length - at < 4) return fail('truncated lz4 block size');
      const word = buf.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = (word & ~LZ4_UNCOMPRESSED_FLAG) >>> 0;
      if (size > blockBytesMax) return fail(`lz4 block of ${size} bytes exceeds the frame's ${blockBytesMax}`);
      at += size + (blockChecksum ? 4 : 0);
      if (at > buf.length) return fail('lz4 block overruns the input');
      frameBound += word & LZ4_UNCOMPRESSED_FLAG ? size : blockBytesMax;
    }
    if (contentChecksum) {
      at += 4;
      if (at > buf.length) return fail('truncated lz4 content checksum');
    }
    if (contentSize > frameBound)
      return fail(`lz4 frame declares ${contentSize} bytes but its blocks hold at most ${frameBound}`);
    total += contentSize >= 0 ? contentSize : frameBound;
  }
  return { bytesMax: total };
}

/** The uncompressed length a raw snappy stream declares in its uvarint preamble. */
function snappyPreamble(buf: Buffer, at: number, end: number): SizeBound {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= end) return fail('truncated snappy length preamble');
    const byte = buf[at + i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return value > 0xffffffff ? fail('snappy length preamble exceeds 32 bits') : { bytesMax: value };
  }
  return fail('snappy length preamble longer than 5 bytes');
}

/**
 * Exact decompressed size of a raw snappy stream or, with xerial framing, the sum over its
 * chunks (each chunk's raw stream declares its own length).
 */
export function snappyDecompressedBytesBound(buf: Buffer, xerial: boolean): SizeBound {
  if (!xerial) return snappyPreamble(buf, 0, buf.length);
  let at = XERIAL_HEADER_BYTES;
  let total = 0;
  if (buf.length < at) return fail('truncated xerial snappy header');
  while (at < buf.length) {
    if (buf.length - at < 4) return fail('truncated xerial snappy chunk length');
    const length = buf.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > buf.length) return fail('xerial snappy chunk overruns the input');
    const chunk = snappyPreamble(buf, at, at + length);
    if (chunk.error !== undefined) return chunk;
    total += chunk.bytesMax;
    at += length;
  }
  return { bytesMax: total };
}
