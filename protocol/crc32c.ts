// CRC-32C (Castagnoli), the checksum of record batch v2. Three implementations, the first
// that loads is used: Brook's own native one (protocol/native/crc32c.c: the SSE4.2 crc32
// instruction on three interleaved streams, built at npm install), @node-rs/crc32 (one
// stream), and the table-driven JavaScript version below, which stays as the reference
// in tests. bench/crc32c.ts measures all three. BROOK_CRC32C=node-rs|js picks one of those two.

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

/** crc32c(view, start, end): the CRC-32C of view[start, end). */
type RangeCrc = (buf: Uint8Array, start: number, end: number) => number;

const CHECK = Buffer.from('123456789');
const CHECK_VALUE = 0xe3069283;

/** Brook's own SSE4.2 version, when npm install built it and this CPU has the instruction. */
export function loadBrookNative(): RangeCrc | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const native = require('../../protocol/native/build/Release/brook_crc32c.node') as {
      crc32c: RangeCrc;
      hardware: boolean;
    };
    return native.hardware && native.crc32c(CHECK, 0, CHECK.length) === CHECK_VALUE ? native.crc32c : null;
  } catch {
    return null;
  }
}

/** @node-rs/crc32, through a view when a range is asked for. */
export function loadNodeRs(): RangeCrc | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { crc32c: whole } = require('@node-rs/crc32') as { crc32c: (input: Buffer) => number };
    if (whole(CHECK) >>> 0 !== CHECK_VALUE) return null;
    return (buf, start, end) => {
      const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
      return whole(view as Buffer) >>> 0;
    };
  } catch {
    return null;
  }
}

function choose(): { name: string; fn: RangeCrc | null } {
  const forced = process.env.BROOK_CRC32C;
  if (forced === 'js') return { name: 'js', fn: null };
  if (forced === 'node-rs') {
    const fn = loadNodeRs();
    return fn ? { name: 'node-rs', fn } : { name: 'js', fn: null };
  }
  const brook = loadBrookNative();
  if (brook) return { name: 'brook-native', fn: brook };
  const nodeRs = loadNodeRs();
  return nodeRs ? { name: 'node-rs', fn: nodeRs } : { name: 'js', fn: null };
}

const chosen = choose();
const native = chosen.fn;

/** Which implementation is in use: "brook-native", "node-rs" or "js". */
export const crc32cImplementation = chosen.name;

/** CRC-32C of buf[start, end), as an unsigned 32-bit number. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  if (native) return native(buf, start, end);
  return crc32cJs(buf, start, end);
}
