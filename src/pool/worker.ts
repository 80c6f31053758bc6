// Entry point of a pool thread (loaded by piscina): runs one task and returns its result.

import { PoolTask, runTask } from './tasks';

export default function handle(task: PoolTask): Promise<unknown> {
  return runTask(task);
}
