// The log manager's periodic steps run from a timer: an I/O error in one partition's flush,
// roll or retention is reported for that partition and the others still run, instead of
// being thrown from the timer (which ends the process).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogManager } from '../../src/log/log-manager';
import { MemoryFileSystem } from '../../src/log/file-system';
import { until } from '../helpers/wait';

test('an I/O error in one partition housekeeping is reported and the others go on', async () => {
  const failures: { topic: string; partition: number; step: string; code?: string }[] = [];
  const logs = new LogManager({
    dataDir: '/data',
    fs: new MemoryFileSystem(),
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 5,
    retentionCheckIntervalMs: 5,
    onHousekeepingError: ({ topic, partition, step, error }) =>
      failures.push({ topic, partition, step, code: (error as NodeJS.ErrnoException).code }),
  });
  logs.open();
  try {
    const broken = logs.getOrCreate('broken', 0, {});
    const healthy = logs.getOrCreate('healthy', 0, {});
    const eio = () => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    // Stand-ins for a disk that fails under this one partition.
    broken.maybeFlushByTime = () => {
      throw eio();
    };
    broken.applyRetention = () => {
      throw eio();
    };
    let healthyChecks = 0;
    const flush = healthy.maybeFlushByTime.bind(healthy);
    healthy.maybeFlushByTime = (now: number) => {
      healthyChecks++;
      flush(now);
    };
    await until(() => healthyChecks >= 3 && failures.some((f) => f.step === 'retention'), {
      what: 'several housekeeping rounds',
      timeoutMs: 5000,
      intervalMs: 5,
    });
    assert.ok(failures.every((f) => f.topic === 'broken' && f.partition === 0 && f.code === 'EIO'));
    assert.ok(failures.some((f) => f.step === 'flush and roll by time'));
  } finally {
    logs.close();
  }
});

test.run();
