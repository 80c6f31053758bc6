// Framing: every Kafka message is a 4-byte big-endian size followed by that many bytes.
// The splitter hands out complete frames as slices of the bytes read (no copy when a
// frame lies inside one socket read), refusing sizes past the configured maximum before
// any buffer is allocated for them.

import { Codec } from './codec';
import { encodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from './header';
import { ProtocolError, Writer } from './primitives';

export const SIZE_PREFIX_BYTES = 4;

export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes buffered but not yet a whole frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds bytes; returns the complete frame bodies (without the size prefix). */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let data: Buffer;
    if (this.pendingBytes === 0) {
      data = chunk;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // Only join once the next frame is known to be complete, to avoid quadratic copying.
      const head = this.peekSize();
      if (head === null || this.pendingBytes < SIZE_PREFIX_BYTES + head) return frames;
      data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= SIZE_PREFIX_BYTES) {
      const size = data.readInt32BE(offset);
      this.checkSize(size);
      if (data.length - offset - SIZE_PREFIX_BYTES < size) break;
      frames.push(data.subarray(offset + SIZE_PREFIX_BYTES, offset + SIZE_PREFIX_BYTES + size));
      offset += SIZE_PREFIX_BYTES + size;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      if (rest.length >= SIZE_PREFIX_BYTES) this.checkSize(rest.readInt32BE(0));
    }
    return frames;
  }

  private peekSize(): number | null {
    if (this.pendingBytes < SIZE_PREFIX_BYTES) return null;
    const head = this.pending[0].length >= SIZE_PREFIX_BYTES ? this.pending[0] : Buffer.concat(this.pending);
    const size = head.readInt32BE(0);
    this.checkSize(size);
    return size;
  }

  private checkSize(size: number): void {
    if (size < 0 || size > this.maxFrameBytes) {
      throw new ProtocolError(`frame size ${size} outside 0..${this.maxFrameBytes}`);
    }
  }
}

/** Builds a whole request frame (size, header, body) as one buffer. */
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
