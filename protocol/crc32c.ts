// CRC-32C (Castagnoli), the checksum of record batch v2. The native SIMD implementation
// from @node-rs/crc32 is used when it loads (bench/crc32c.ts measures it against the
// table-driven JavaScript version below, which stays as the fallback and the reference).

const POLY = 0x82f63b78;

/** Slice-by-8 lookup tables for the JavaScript fallback. */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
})();

/** Pure-JavaScript CRC-32C over buf[start, end). */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = 0xffffffff;
  let i = start;
  while (end - i >= 8) {
    const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ crc;
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[buf[i + 4]] ^
      t2[buf[i + 5]] ^
      t1[buf[i + 6]] ^
      t0[buf[i + 7]];
    i += 8;
  }
  while (i < end) crc = t0[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

type NativeCrc = (input: Buffer, initial?: number) => number;

function loadNative(): NativeCrc | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const native = require('@node-rs/crc32') as { crc32c: NativeCrc };
    return native.crc32c(Buffer.from('123456789')) >>> 0 === 0xe3069283 ? native.crc32c : null;
  } catch {
    return null;
  }
}

const native = process.env.BROOK_CRC32C === 'js' ? null : loadNative();

/** Which implementation is in use: "native" or "js". */
export const crc32cImplementation = native ? 'native' : 'js';

/** CRC-32C of buf[start, end), as an unsigned 32-bit number. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  if (native) {
    const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    return native(view) >>> 0;
  }
  return crc32cJs(buf, start, end);
}
