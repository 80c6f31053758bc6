// Framing: every Kafka message is a 4-byte big-endian size followed by that many bytes.
// The assembler decides where each socket read lands, so a large frame (a produce request,
// a follower's fetch response) is read by the kernel straight into a buffer of its exact
// size: no per-read allocation and no joining copy. Small frames are read into one
// reusable scratch buffer and copied out whole. Sizes past the configured maximum are
// refused before any buffer is allocated for them.

import { Codec } from './codec';
import { encodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from './header';
import { ProtocolError, Writer } from './primitives';

export const SIZE_PREFIX_BYTES = 4;

/** The scratch buffer that small frames and frame headers are read into. */
const SCRATCH_BYTES = 64 * 1024;
/**
 * A read into the scratch buffer asks for at most this many bytes, so at most this much of
 * a large frame arrives in scratch (and is copied); the rest is read into the frame itself.
 */
const SCRATCH_READ_BYTES = 16 * 1024;
/** Frames at least this big get their own buffer and direct reads. */
export const DIRECT_FRAME_MIN_BYTES = 32 * 1024;
/**
 * Frames up to this size get their whole buffer when their size prefix arrives. Bigger
 * ones (up to the configured maximum) are read in pieces of this size and joined at the
 * end, so a peer that announces a huge frame and stalls holds little memory.
 */
const EAGER_FRAME_MAX_BYTES = 8 * 1024 * 1024;

export class FrameAssembler {
  private scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** First unparsed byte in scratch. */
  private start = 0;
  /** End of the bytes read into scratch. */
  private end = 0;
  /** The large frame being read: its size, pieces read so far and the piece being filled. */
  private frameBytes = 0;
  private pieces: Buffer[] = [];
  private piece: Buffer | null = null;
  private pieceFilled = 0;
  private frameFilled = 0;

  /** `maxFrameBytes` may be a function, asked at each frame (a bound that changes with the connection's state). */
  constructor(private readonly maxFrameBytes: number | (() => number)) {}

  /** Bytes received that are not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.piece ? this.frameFilled : this.end - this.start;
  }

  /** The buffer the next socket read should fill (no more than it returns). */
  nextReadBuffer(): Buffer {
    if (this.piece) return this.piece.subarray(this.pieceFilled);
    if (SCRATCH_BYTES - this.end < SCRATCH_READ_BYTES) {
      // The unparsed tail is a part of one small frame (< DIRECT_FRAME_MIN_BYTES + prefix),
      // so moving it to the front always leaves room for a full scratch read.
      this.scratch.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    return this.scratch.subarray(this.end, this.end + SCRATCH_READ_BYTES);
  }

  /** True while part of a frame (even of its size prefix) has arrived and the rest has not. */
  get partial(): boolean {
    return this.piece !== null || this.end > this.start;
  }

  /**
   * Records that `bytesRead` bytes arrived at the start of the buffer last returned by
   * nextReadBuffer; returns the frame bodies (without size prefix) completed by them.
   * Throws ProtocolError for a size outside 0..maxFrameBytes.
   */
  commit(bytesRead: number): Buffer[] {
    const frames: Buffer[] = [];
    if (this.piece) {
      this.pieceFilled += bytesRead;
      this.frameFilled += bytesRead;
      if (this.pieceFilled === this.piece.length) this.finishPiece(frames);
      return frames;
    }
    this.end += bytesRead;
    this.parseScratch(frames);
    return frames;
  }

  /** Feeds bytes that were read elsewhere (tests, scripted peers); returns complete frames. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    for (let offset = 0; offset < chunk.length;) {
      const target = this.nextReadBuffer();
      const count = Math.min(target.length, chunk.length - offset);
      chunk.copy(target, 0, offset, offset + count);
      offset += count;
      for (const frame of this.commit(count)) frames.push(frame);
    }
    return frames;
  }

  private parseScratch(frames: Buffer[]): void {
    while (this.end - this.start >= SIZE_PREFIX_BYTES) {
      const size = this.scratch.readInt32BE(this.start);
      const max = typeof this.maxFrameBytes === 'number' ? this.maxFrameBytes : this.maxFrameBytes();
      if (size < 0 || size > max) {
        throw new ProtocolError(`frame size ${size} outside 0..${max}`);
      }
      const available = this.end - this.start - SIZE_PREFIX_BYTES;
      if (available >= size) {
        const body = Buffer.allocUnsafe(size);
        this.scratch.copy(body, 0, this.start + SIZE_PREFIX_BYTES, this.start + SIZE_PREFIX_BYTES + size);
        frames.push(body);
        this.start += SIZE_PREFIX_BYTES + size;
        continue;
      }
      if (size >= DIRECT_FRAME_MIN_BYTES) {
        // Everything left in scratch belongs to this frame; later reads go into the frame.
        this.frameBytes = size;
        this.frameFilled = 0;
        this.pieces = [];
        this.startPiece();
        this.scratch.copy(this.piece!, 0, this.start + SIZE_PREFIX_BYTES, this.end);
        this.pieceFilled = available;
        this.frameFilled = available;
        this.start = 0;
        this.end = 0;
        return;
      }
      break;
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  private startPiece(): void {
    const remaining = this.frameBytes - this.frameFilled;
    const eager = this.frameBytes <= EAGER_FRAME_MAX_BYTES;
    this.piece = Buffer.allocUnsafeSlow(eager ? remaining : Math.min(remaining, EAGER_FRAME_MAX_BYTES));
    this.pieceFilled = 0;
  }

  private finishPiece(frames: Buffer[]): void {
    this.pieces.push(this.piece!);
    if (this.frameFilled < this.frameBytes) {
      this.startPiece();
      return;
    }
    frames.push(this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.frameBytes));
    this.pieces = [];
    this.piece = null;
    this.pieceFilled = 0;
    this.frameFilled = 0;
  }
}

/**
 * The `onread` option of a node:net socket that reads through an assembler: `onFrames`
 * gets each batch of complete frames and returns false to stop reading (backpressure);
 * `onError` gets a framing error, after which nothing more is delivered.
 */
export function frameReads(
  assembler: FrameAssembler,
  onFrames: (frames: Buffer[]) => boolean,
  onError: (error: Error) => void,
): { buffer: () => Buffer; callback: (bytesRead: number) => boolean } {
  let failed = false;
  return {
    buffer: () => assembler.nextReadBuffer(),
    callback: (bytesRead: number) => {
      if (failed) return false;
      let frames: Buffer[];
      try {
        frames = assembler.commit(bytesRead);
      } catch (error) {
        failed = true;
        onError(error as Error);
        return false;
      }
      return frames.length === 0 ? true : onFrames(frames);
    },
  };
}

/** As encodeRequestFrame, as a list of buffers: record sets stay referenced, not copied. */
export function encodeRequestFrameParts(
  header: { apiKey: number; apiVersion: number; correlationId: number; clientId?: string | null },
  codec: Codec,
  body: unknown,
): Buffer[] {
  const writer = new Writer();
  writer.int32(0);
  encodeRequestHeader(writer, header);
  codec.encode(writer, body);
  writer.patchInt32(0, writer.length - SIZE_PREFIX_BYTES);
  return writer.toBuffers();
}

/** Builds a whole request frame (size, header, body) as one buffer. */
export function encodeRequestFrame(
  header: { apiKey: number; apiVersion: number; correlationId: number; clientId?: string | null },
  codec: Codec,
  body: unknown,
): Buffer {
  const writer = new Writer();
  writer.int32(0);
  encodeRequestHeader(writer, header);
  codec.encode(writer, body);
  const out = writer.toBuffer();
  out.writeInt32BE(out.length - SIZE_PREFIX_BYTES, 0);
  return out;
}

/** Builds a response frame as a list of buffers (record sets stay referenced, not copied). */
export function encodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  codec: Codec,
  body: unknown,
): Buffer[] {
  const writer = new Writer();
  writer.int32(0);
  encodeResponseHeader(writer, correlationId, responseHeaderVersion(apiKey, apiVersion));
  codec.encode(writer, body);
  writer.patchInt32(0, writer.length - SIZE_PREFIX_BYTES);
  return writer.toBuffers();
}
