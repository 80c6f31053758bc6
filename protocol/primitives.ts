// The wire primitives: a bounds-checked Reader and a growable Writer for every Kafka type,
// including the flexible-version encodings (unsigned varints, compact strings, bytes and
// arrays, tagged fields). Nothing here allocates on the say-so of a length field before
// checking that the bytes are actually there.

/** Thrown for truncated or malformed input; the connection layer closes the socket on it. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const UUID_BYTES = 16;

/** Kafka's zero UUID, printed the way Kafka prints UUIDs (URL-safe base64, no padding). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Fails fast when fewer than `n` bytes remain; every read goes through here. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  uint16(): number {
    this.need(2);
    const value = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  /** int64 as a JS number: offsets, timestamps and producer ids stay far below 2^53. */
  int64(): number {
    this.need(8);
    const high = this.buf.readInt32BE(this.pos);
    const low = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return high * 0x100000000 + low;
  }

  float64(): number {
    this.need(8);
    const value = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return value;
  }

  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1);
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolError('unsigned varint exceeds 32 bits');
        return result;
      }
      shift += 7;
    }
    throw new ProtocolError('unsigned varint longer than 5 bytes');
  }

  /** Zig-zag signed 32-bit varint. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zig-zag signed 64-bit varint, as a number (exact up to 2^53). */
  varlong(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      shift += 7;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  uuid(): string {
    this.need(UUID_BYTES);
    const text = this.buf.toString('base64url', this.pos, this.pos + UUID_BYTES);
    this.pos += UUID_BYTES;
    return text;
  }

  /** A slice of `length` bytes sharing memory with the frame (no copy). */
  raw(length: number): Buffer {
    this.need(length);
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  private text(length: number): string {
    this.need(length);
    const value = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new ProtocolError('null in a non-nullable string');
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolError(`bad string length ${length}`);
    return this.text(length);
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new ProtocolError('null in a non-nullable compact string');
    return value;
  }

  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    return this.text(lengthPlusOne - 1);
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolError(`bad bytes length ${length}`);
    return this.raw(length);
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    return this.raw(lengthPlusOne - 1);
  }

  /**
   * Array length for classic arrays; -1 is null. Each element takes at least
   * `minElementBytes`, so a count the remaining bytes cannot hold is refused before
   * anything is allocated for it.
   */
  arrayLength(minElementBytes = 1): number | null {
    const length = this.int32();
    if (length === -1) return null;
    return this.checkCount(length, minElementBytes);
  }

  compactArrayLength(minElementBytes = 1): number | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    return this.checkCount(lengthPlusOne - 1, minElementBytes);
  }

  private checkCount(count: number, minElementBytes: number): number {
    if (count < 0) throw new ProtocolError(`bad array length ${count}`);
    if (count * minElementBytes > this.remaining) {
      throw new ProtocolError(`array length ${count} exceeds the ${this.remaining} bytes left`);
    }
    return count;
  }
}

const INITIAL_CAPACITY = 256;
/** Record sets at least this large are referenced, not copied, into the output. */
const REFERENCE_THRESHOLD_BYTES = 512;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Finished pieces of output, in order; the live buffer follows them. */
  private chunks: Buffer[] = [];
  private chunkedBytes = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkedBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const capacity = Math.max(this.buf.length * 2, this.pos + n);
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int8(value: number): this {
    this.ensure(1);
    this.buf.writeInt8(value, this.pos);
    this.pos += 1;
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(value, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(value: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.pos);
    this.pos += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(value: number | bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(value), this.pos);
    this.pos += 8;
    return this;
  }

  float64(value: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(value, this.pos);
    this.pos += 8;
    return this;
  }

  uvarint(value: number): this {
    if (value < 0 || value > 0xffffffff || !Number.isInteger(value)) {
      throw new RangeError(`uvarint out of range: ${value}`);
    }
    this.ensure(5);
    let rest = value;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.pos++] = rest;
    return this;
  }

  varint(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  varlong(value: number): this {
    this.ensure(10);
    let rest = value >= 0 ? value * 2 : -value * 2 - 1;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.pos++] = rest;
    return this;
  }

  uuid(value: string | null | undefined): this {
    const bytes = Buffer.from(value ?? ZERO_UUID, 'base64url');
    if (bytes.length !== UUID_BYTES) throw new RangeError(`bad uuid: ${value}`);
    return this.raw(bytes);
  }

  /** Copies `bytes` into the output. */
  raw(bytes: Buffer): this {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** Appends `bytes` by reference when large enough to be worth not copying. */
  reference(bytes: Buffer): this {
    if (bytes.length < REFERENCE_THRESHOLD_BYTES) return this.raw(bytes);
    this.sealLive();
    this.chunks.push(bytes);
    this.chunkedBytes += bytes.length;
    return this;
  }

  private sealLive(): void {
    if (this.pos === 0) return;
    const sealed = this.buf.subarray(0, this.pos);
    this.chunks.push(sealed);
    this.chunkedBytes += sealed.length;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
    if (this.buf.length < 64) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  string(value: string): this {
    const length = Buffer.byteLength(value);
    if (length > 0x7fff) throw new RangeError('string longer than 32767 bytes');
    this.int16(length);
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
    return this;
  }

  nullableString(value: string | null | undefined): this {
    if (value === null || value === undefined) return this.int16(-1);
    return this.string(value);
  }

  compactString(value: string): this {
    const length = Buffer.byteLength(value);
    this.uvarint(length + 1);
    this.ensure(length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
    return this;
  }

  compactNullableString(value: string | null | undefined): this {
    if (value === null || value === undefined) return this.uvarint(0);
    return this.compactString(value);
  }

  nullableBytes(value: Buffer | null | undefined): this {
    if (value === null || value === undefined) return this.int32(-1);
    this.int32(value.length);
    return this.raw(value);
  }

  compactNullableBytes(value: Buffer | null | undefined): this {
    if (value === null || value === undefined) return this.uvarint(0);
    this.uvarint(value.length + 1);
    return this.raw(value);
  }

  /** A record set given as one or more buffers, written by reference (no copy). */
  records(value: Buffer | Buffer[] | null | undefined, compact: boolean): this {
    if (value === null || value === undefined) return compact ? this.uvarint(0) : this.int32(-1);
    const parts = Array.isArray(value) ? value : [value];
    let total = 0;
    for (const part of parts) total += part.length;
    if (compact) this.uvarint(total + 1);
    else this.int32(total);
    for (const part of parts) this.reference(part);
    return this;
  }

  /** Writes the big-endian int32 `value` at absolute output position `at` (< live start). */
  patchInt32(at: number, value: number): void {
    let base = 0;
    for (const chunk of this.chunks) {
      if (at < base + chunk.length) {
        chunk.writeInt32BE(value, at - base);
        return;
      }
      base += chunk.length;
    }
    this.buf.writeInt32BE(value, at - base);
  }

  /** The output as a list of buffers, suitable for socket writev. */
  toBuffers(): Buffer[] {
    if (this.pos === 0) return this.chunks.slice();
    return [...this.chunks, this.buf.subarray(0, this.pos)];
  }

  /** The output as one contiguous buffer (copies when referenced parts exist). */
  toBuffer(): Buffer {
    const parts = this.toBuffers();
    if (parts.length === 1) return parts[0];
    return Buffer.concat(parts, this.length);
  }
}
