// brook.log.cleaner.inline: on the real file system a pass runs on the cleaner's worker
// pool by default, and on the event loop with the switch; both compact alike.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatch, RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { realFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { PartitionLog } from '../../src/log/partition-log';

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '300' };

async function fill(log: PartitionLog, rounds: number, keys: number): Promise<void> {
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < keys; k++) {
      const batch = await encodeRecordBatch({ records: [{ key: `k${k}`, value: `v${round}`, timestamp: Date.now() }] });
      assert.is(log.append([batch], { leaderEpoch: 0 }).errorCode, ErrorCode.NONE);
    }
}

async function records(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    if (read.bytes === 0) break;
    for (const chunk of read.chunks)
      for (const bytes of splitBatches(chunk).batches) {
        const view = new RecordBatchView(bytes);
        for (const r of await view.records()) out.push(`${r.offset}:${r.key}:${r.value}`);
        offset = view.lastOffset + 1;
      }
  }
  return out;
}

async function cleanOnce(inline: boolean | undefined): Promise<{ records: string[]; pooled: boolean }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-cleaner-inline-'));
  const logs = new LogManager({
    dataDir,
    fs: realFileSystem,
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 0,
    cleaner: { dedupeBufferBytes: 1 << 16 },
    cleanerInline: inline,
  });
  logs.open();
  try {
    const log = logs.getOrCreate('compacted', 0, COMPACT);
    await fill(log, 4, 4);
    const result = await logs.cleaner!.cleanNow(log);
    assert.ok(result && result.groups.length > 0, 'a pass ran');
    const pooled = (logs as unknown as { cleanerPool: unknown }).cleanerPool !== null;
    return { records: await records(log), pooled };
  } finally {
    logs.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

test('passes run on the pool by default and on the event loop with brook.log.cleaner.inline', async () => {
  const pool = await cleanOnce(undefined);
  const inline = await cleanOnce(true);
  assert.ok(pool.pooled, 'the default runs passes on the worker pool');
  assert.not.ok(inline.pooled, 'inline starts no pool');
  assert.equal(inline.records, pool.records, 'both compact alike');
  assert.ok(pool.records.length < 16, `compacted (${pool.records.length} records left of 16)`);
});

test.run();
