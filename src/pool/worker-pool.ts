// A piscina worker-thread pool for byte work that can leave the event loop: recovery
// scans, decompression, large CRC checks. Whether a task goes to the pool or runs inline
// is decided by size thresholds that bench/worker-pool.ts measured (see docs/architecture.md).
// The pool knows no task itself: each run names the task module a pool thread loads (the
// log brings its segment scans, byte-tasks.ts the protocol's byte work), so the layers
// that own the work sit above the pool and the pool imports none of them.

import Piscina from 'piscina';

/** A task: `kind` picks the work, `bytes.byteLength` its size for the inline threshold. */
export interface PoolTask {
  kind: string;
  bytes: { byteLength: number };
}

/** Work a pool thread can do: a compiled module whose `runTask` export handles each task. */
export interface TaskModule<Task extends PoolTask> {
  /** The module's own compiled file (`__filename`), loaded by the pool's threads. */
  filename: string;
  runTask(task: Task): Promise<unknown> | unknown;
}

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
    this.piscina = new Piscina({ minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
    this.inlineBelowBytes = options.inlineBelowBytes ?? Number.MAX_SAFE_INTEGER;
  }

  /** Runs a task of `module` in the pool (or inline when below the threshold). */
  run<T, Task extends PoolTask = PoolTask>(module: TaskModule<Task>, task: Task, forcePool = false): Promise<T> {
    if (!forcePool && task.bytes.byteLength < this.inlineBelowBytes)
      return Promise.resolve(module.runTask(task)) as Promise<T>;
    return this.piscina.run(task, { filename: module.filename, name: 'runTask' }) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
