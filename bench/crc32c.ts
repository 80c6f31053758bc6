// CRC-32C: the native implementation against the JavaScript slice-by-8 fallback, at the
// batch sizes the broker checks. Usage: node dist/bench/crc32c.js [--quick]

import { crc32c, crc32cImplementation, crc32cJs } from '../protocol/crc32c';
import { environment, writeResult } from './lib/env';

const quick = process.argv.includes('--quick');

function rate(fn: (b: Buffer) => number, buf: Buffer, budgetBytes: number): number {
  const iterations = Math.max(20, Math.floor(budgetBytes / buf.length));
  fn(buf);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(buf);
  return (buf.length * iterations) / (Number(process.hrtime.bigint() - started) / 1e9) / 1e6;
}

export function main(): Record<string, unknown> {
  const results: Record<string, unknown> = { environment: environment(), implementation: crc32cImplementation };
  const budget = quick ? 8e6 : 400e6;
  for (const size of [100, 1024, 16 * 1024, 1024 * 1024]) {
    const buf = Buffer.alloc(size, 0x5a);
    const native = rate((b) => crc32c(b), buf, budget);
    const js = rate((b) => crc32cJs(b), buf, budget / 8);
    results[`${size} B`] = { nativeMBps: native, jsMBps: js, ratio: native / js };
    process.stdout.write(`crc32c ${String(size).padStart(8)} B   native ${native.toFixed(0).padStart(6)} MB/s   js ${js.toFixed(0).padStart(5)} MB/s   ${(native / js).toFixed(1)}x\n`);
  }
  return results;
}

if (require.main === module) {
  const results = main();
  process.stdout.write(`written ${writeResult(quick ? 'crc32c-quick' : 'crc32c', results)}\n`);
}
