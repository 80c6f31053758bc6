// Compaction on a three-node cluster: every replica compacts its own log (as in Kafka),
// followers keep fetching from a compacted leader (offset gaps, empty batches) and stay in
// sync, and after compaction every replica holds the latest value of each key at its
// original offset, which kcat reads.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cluster, startCluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { storedBatches } from '../helpers/stored-batches';
import { until } from '../helpers/wait';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { LOGS_DIR, partitionDirName, segmentLogNames } from '../../src/log/on-disk-names';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat');
const TOPIC = 'compacted-replicated';
const KEYS = 6;
const ROUNDS = 5;
let cluster: Cluster;

/** The last offset stored in a replica's segment files. */
function lastStoredOffset(dataDir: string): number {
  const dir = path.join(dataDir, LOGS_DIR, partitionDirName(TOPIC, 0));
  let last = -1;
  for (const name of segmentLogNames(fs.readdirSync(dir)))
    for (const batch of splitBatches(fs.readFileSync(path.join(dir, name))).batches)
      last = new RecordBatchView(batch).lastOffset;
  return last;
}

test.before(async () => {
  if (!HAVE_KCAT) return;
  cluster = await startCluster({ size: 3, config: { 'log.cleaner.backoff.ms': '200' } });
});

test.after(async () => {
  await cluster?.stopAll();
});

test('each replica compacts its own log and the followers stay in sync with a compacted leader', async () => {
  if (!HAVE_KCAT) {
    console.log('skipped: kcat is not installed at /usr/bin/kcat');
    return;
  }
  const state = await cluster.createTopicInSync(TOPIC, 3, {
    'cleanup.policy': 'compact',
    'segment.bytes': '200',
    'min.cleanable.dirty.ratio': '0.01',
  });
  const leaderPort = cluster.kafkaPorts.get(state.leader)!;
  const produce = async (lines: string[]) => {
    const result = await kcat(
      leaderPort,
      ['-P', '-t', TOPIC, '-p', '0', '-K:', '-X', 'acks=all', '-X', 'linger.ms=0'],
      `${lines.join('\n')}\n`,
    );
    assert.is(result.code, 0, result.stderr);
  };
  for (let round = 0; round < ROUNDS; round++)
    await produce(Array.from({ length: KEYS }, (_, k) => `key-${k}:value-${round}-${k}`));
  await produce(['tail:1']);
  const written = ROUNDS * KEYS + 1;
  const dirs = cluster.ids.map((id) => cluster.dirs.get(id)!);
  const records = (dir: string) => storedBatches(dir, TOPIC).reduce((sum, b) => sum + b.recordCount, 0);
  await until(() => dirs.every((dir) => records(dir) < written), {
    what: () => `every replica to compact (records: ${dirs.map(records).join(', ')} of ${written})`,
    timeoutMs: 30000,
  });
  // Writes after compaction still reach every replica (acks=all answers only then).
  await produce(['key-0:after', 'tail:2']);
  const consumed = await kcat(leaderPort, ['-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%o %k %s\n']);
  assert.is(consumed.code, 0, consumed.stderr);
  const latest = new Map<string, string>();
  for (const line of consumed.stdout.trim().split('\n')) {
    const [offset, key, value] = line.split(' ');
    latest.set(key, `${offset} ${value}`);
  }
  for (let k = 1; k < KEYS; k++)
    assert.is(latest.get(`key-${k}`), `${(ROUNDS - 1) * KEYS + k} value-${ROUNDS - 1}-${k}`);
  assert.is(latest.get('key-0'), `${written} after`);
  assert.is(latest.get('tail'), `${written + 1} 2`);
  // Every replica's log ends at the same offset and keeps the same latest records.
  await until(() => dirs.every((dir) => lastStoredOffset(dir) === written + 1), {
    what: () => `every replica to end at ${written + 1} (${dirs.map(lastStoredOffset).join(', ')})`,
  });
});

test.run();
