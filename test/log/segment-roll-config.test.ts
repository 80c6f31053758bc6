// Segment rolls by age as Kafka's topic configs set them: segment.jitter.ms rolls each
// segment up to that much before segment.ms (the jitter drawn from the segment's identity,
// so partitions spread their rolls), and a compacted topic rolls by max.compaction.lag.ms
// when that is shorter, as Kafka's LogConfig.maxSegmentMs does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem } from '../../src/log/file-system';
import { PartitionLog } from '../../src/log/partition-log';
import { TailCache } from '../../src/log/tail-cache';

const T0 = 1_700_000_000_000;

function openLog(topic: string, config: Record<string, string>, clock: () => number) {
  return PartitionLog.open({
    fs: new MemoryFileSystem(),
    dir: `/data/logs/${topic}-0`,
    topic,
    partition: 0,
    config,
    clock,
    tailCache: new TailCache(0),
  });
}

const batch = (value: string) => encodeRecordBatchSync({ records: [{ key: 'k', value, timestamp: T0 }] });

/** How long after its first append the first segment of `topic` rolls, to the second. */
function rollAgeMs(topic: string, config: Record<string, string>): number {
  let now = T0;
  const log = openLog(topic, config, () => now);
  log.append([batch('first')], { leaderEpoch: 0 });
  for (let age = 1000; age <= 120_000; age += 1000) {
    now = T0 + age;
    log.maybeRollByTime(now);
    if (log.segmentCount > 1) return age;
  }
  return -1;
}

test('without jitter a segment rolls at segment.ms', () => {
  assert.is(rollAgeMs('plain', { 'segment.ms': '60000' }), 60_000);
});

test('segment.jitter.ms rolls earlier, by up to the jitter, and differently per partition', () => {
  const ages = ['a', 'b', 'c', 'd', 'e', 'f'].map((topic) =>
    rollAgeMs(topic, { 'segment.ms': '60000', 'segment.jitter.ms': '30000' }),
  );
  for (const age of ages) assert.ok(age > 30_000 && age <= 60_000, `rolled at ${age} ms`);
  assert.ok(new Set(ages).size > 1, `spread: ${ages.join(', ')}`);
  assert.is(rollAgeMs('a', { 'segment.ms': '60000', 'segment.jitter.ms': '30000' }), ages[0], 'the same again');
});

test('a compacted topic rolls by max.compaction.lag.ms when it is shorter than segment.ms', () => {
  const config = { 'segment.ms': '60000', 'max.compaction.lag.ms': '20000' };
  assert.is(rollAgeMs('compacted', { ...config, 'cleanup.policy': 'compact' }), 20_000);
  assert.is(rollAgeMs('deleted', { ...config, 'cleanup.policy': 'delete' }), 60_000);
});

test.run();
