// CRC-32C: Brook's native version (three interleaved SSE4.2 streams), @node-rs/crc32 (one
// stream) and the JavaScript slice-by-8 fallback, at the batch sizes the broker checks and
// the producer writes. An implementation that does not load on the host is reported
// as missing. Usage: node dist/bench/crc32c.js [--quick]

import { crc32cImplementation, crc32cJs, loadBrookNative, loadNodeRs } from '../protocol/crc32c';
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
  const brook = loadBrookNative();
  const nodeRs = loadNodeRs();
  const shown = (mbps: number | null) => (mbps === null ? 'missing' : mbps.toFixed(0)).padStart(7);
  process.stdout.write(`crc32c in use: ${crc32cImplementation}\n`);
  for (const size of [100, 1024, 16 * 1024, 256 * 1024, 1024 * 1024]) {
    const buf = Buffer.alloc(size, 0x5a);
    const brookMBps = brook ? rate((b) => brook(b, 0, b.length), buf, budget) : null;
    const nodeRsMBps = nodeRs ? rate((b) => nodeRs(b, 0, b.length), buf, budget) : null;
    const jsMBps = rate((b) => crc32cJs(b), buf, budget / 8);
    results[`${size} B`] = { brookNativeMBps: brookMBps, nodeRsMBps, jsMBps };
    const ratio =
      brookMBps !== null && nodeRsMBps !== null ? `   brook/node-rs ${(brookMBps / nodeRsMBps).toFixed(1)}x` : '';
    process.stdout.write(
      `crc32c ${String(size).padStart(8)} B   brook-native ${shown(brookMBps)} MB/s   node-rs ${shown(nodeRsMBps)} MB/s   js ${jsMBps.toFixed(0).padStart(5)} MB/s${ratio}\n`,
    );
  }
  return results;
}

if (require.main === module) {
  const results = main();
  process.stdout.write(`written ${writeResult(quick ? 'crc32c-quick' : 'crc32c', results)}\n`);
}
