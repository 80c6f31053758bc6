// A piscina worker-thread pool for byte work that can leave the event loop: recovery
// scans, decompression, large CRC checks. Whether a task goes to the pool or runs inline
// is decided by size thresholds that bench/worker-pool.ts measured (see README).

import * as path from 'node:path';
import Piscina from 'piscina';
import { PoolTask, runTask } from './tasks';

export interface PoolOptions {
  threads?: number;
  /** Tasks on fewer bytes than this run inline (the hand-off costs more than it saves). */
  inlineBelowBytes?: number;
}

export class WorkerPool {
  private readonly piscina: Piscina;
  private readonly inlineBelowBytes: number;

  constructor(options: PoolOptions = {}) {
    const threads = options.threads ?? 2;
    this.piscina = new Piscina({ filename: path.join(__dirname, 'worker.js'), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
    this.inlineBelowBytes = options.inlineBelowBytes ?? Number.MAX_SAFE_INTEGER;
  }

  /** Runs a task in the pool (or inline when below the threshold). */
  run<T>(task: PoolTask, forcePool = false): Promise<T> {
    if (!forcePool && task.bytes.byteLength < this.inlineBelowBytes) return runTask(task) as Promise<T>;
    return this.piscina.run(task) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
