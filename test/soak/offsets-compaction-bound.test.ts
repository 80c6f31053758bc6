// The short run of the offsets compaction soak (test/soak/offsets-compaction.ts; the long
// one is npm run soak:offsets): a simulated day of a group committing 20 partitions every
// 60 s, groups created, deleted and expiring, and a compacted topic over 200 keys, all
// with small segments and the cleaner stepping every ten simulated minutes. Both
// partitions must stay within a bound that does not grow with the data written, and a
// coordinator loading the compacted offsets log must rebuild the same state.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runOffsetsSoak } from './offsets-compaction';

test('__consumer_offsets and a compacted topic stay bounded over a simulated day', async () => {
  const segmentBytes = 16 * 1024;
  const lines: string[] = [];
  const result = await runOffsetsSoak({
    days: 1,
    partitions: 20,
    commitIntervalS: 60,
    segmentBytes,
    keys: 200,
    sampleEveryHours: 2,
    report: (line) => lines.push(line),
  });
  const detail = lines.join('\n');
  assert.equal(result.problems, [], detail);
  assert.ok(result.reloadMatches, detail);
  assert.ok(result.cleanerRuns > 10, `the cleaner ran (${result.cleanerRuns} passes)\n${detail}`);
  // About 28,800 records of 30-50 bytes were written to each: without compaction over 1 MB.
  // Compacted, each holds its live keys, tombstones younger than delete.retention.ms, the
  // dirty share min.cleanable.dirty.ratio allows and the active segment.
  for (const sample of result.samples) {
    assert.ok(sample.offsetsBytes < 12 * segmentBytes, `__consumer_offsets bounded\n${detail}`);
    assert.ok(sample.keyedBytes < 12 * segmentBytes, `keyed topic bounded\n${detail}`);
  }
  assert.ok(result.final.offsetsWritten > 25_000, detail);
});

test.run();
