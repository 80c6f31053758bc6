// The only log directory failing (EIO on a write) stops the broker, as Kafka stops when all
// its log directories failed: the offline report leads to one bounded controlled shutdown
// (so the controller moves this node's leaderships at once), then to a failure thrown for
// the process guards, which exit non-zero. A transient error (ENOSPC) does not.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { LogDirectoryFailedError, stopOnLogDirectoryFailure } from '../../src/server/broker-server';

function setup() {
  const shutdowns: number[] = [];
  const failures: Error[] = [];
  const broker = {
    controlledShutdown: async (timeoutMs: number) => {
      shutdowns.push(timeoutMs);
    },
  };
  const fs = new MemoryFileSystem();
  const logs = new LogManager({
    dataDir: '/data',
    fs,
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 1 << 30,
    onLogDirectoryOffline: stopOnLogDirectoryFailure(
      undefined,
      () => broker,
      (error) => failures.push(error),
    ),
  });
  logs.open();
  const log = logs.getOrCreate('t', 0, {});
  const append = () => log.append([encodeRecordBatchSync({ records: [{ value: 'v' }] })], { leaderEpoch: 0 });
  return { fs, logs, append, shutdowns, failures };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('EIO on an append: KAFKA_STORAGE_ERROR, one controlled shutdown, then the fail-stop error', async () => {
  const { fs, logs, append, shutdowns, failures } = setup();
  assert.is(append().errorCode, ErrorCode.NONE);
  fs.injectFault({ code: 'EIO', operations: ['append'] });
  assert.is(append().errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.is(append().errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  await settle();
  assert.is(shutdowns.length, 1, 'one controlled shutdown');
  assert.is(failures.length, 1, 'one fail-stop');
  assert.ok(failures[0] instanceof LogDirectoryFailedError);
  assert.match(failures[0].message, /EIO/);
  logs.close();
});

test('ENOSPC fails only that append: no shutdown', async () => {
  const { fs, logs, append, shutdowns, failures } = setup();
  const heal = fs.injectFault({ code: 'ENOSPC', operations: ['append'] });
  assert.is(append().errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  heal();
  assert.is(append().errorCode, ErrorCode.NONE);
  await settle();
  assert.equal([shutdowns.length, failures.length], [0, 0]);
  logs.close();
});

test.run();
