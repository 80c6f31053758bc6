// kafka-python 2.0.2 (Debian's python3-kafka) against a real Brook process, through
// test/clients/kafka_python_client.py: admin topic, config and group calls, a keyed producer
// with acks=all, a gzip producer whose batches are read back from the broker's segment files
// for their codec bits, and a consumer group with manual commits whose second member resumes
// exactly where the first one's commits left off.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pythonClientSuite } from '../helpers/python';
import { Compression, storedBatches } from '../helpers/stored-batches';

/** A consumed record: key, value, partition, offset. */
type Consumed = [string, string, number, number];
interface Member {
  processed: Consumed[];
  /** Partition to committed offset, null for a partition without one. */
  committed: Record<string, number | null>;
}
interface Output {
  admin: {
    duplicate: string;
    listed: boolean;
    described: { topic: string; error: number; partitions: number[]; leaders: number[] }[];
    cleanupPolicy: string[];
  };
  /** Key to [partition, offset]. */
  produced: Record<string, [number, number]>;
  gzipOffsets: number[];
  first: Member;
  /** Partition to [offset, metadata], from the admin client's ListConsumerGroupOffsets. */
  groupOffsetsAfterFirst: Record<string, [number, string]>;
  second: Member;
  groups: {
    /** [group, protocol type] */
    listed: [string, string][];
    /** [group, state, protocol type, members] */
    described: [string, string, string, number][];
    topicsAfterDelete: string[];
  };
}

const COUNT = 60;
const PARTITIONS = 3;
const { it, broker, output } = pythonClientSuite<Output>(
  'kafka-python',
  'kafka',
  'python3-kafka',
  'kafka_python_client.py',
);

it('admin: create_topics, a second create refused, create_partitions, describe_topics and _configs', () => {
  assert.is(output().admin.duplicate, 'TopicAlreadyExistsError');
  assert.ok(output().admin.listed, 'list_topics names the topic');
  assert.equal(output().admin.described, [
    { topic: 'kp-grow', error: 0, partitions: [0, 1, 2], leaders: [1] },
    { topic: 'kp-orders', error: 0, partitions: [0, 1, 2], leaders: [1] },
  ]);
  assert.equal(output().admin.cleanupPolicy, ['delete']);
});

it('acks=all: every keyed record is acknowledged at a distinct offset, dense per partition', () => {
  const byPartition = new Map<number, number[]>();
  for (const [partition, offset] of Object.values(output().produced))
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), offset]);
  assert.is(Object.keys(output().produced).length, COUNT);
  assert.ok(byPartition.size > 1, 'keys spread over several partitions');
  for (const [partition, offsets] of byPartition)
    assert.equal(
      offsets.sort((a, b) => a - b),
      offsets.map((_, i) => i),
      `partition ${partition} offsets`,
    );
});

it('gzip: acknowledged in order and stored gzip-compressed', () => {
  assert.is(output().gzipOffsets.length, 40);
  assert.equal(
    output().gzipOffsets,
    output().gzipOffsets.map((_, i) => i),
  );
  const batches = storedBatches(broker().dataDir, 'kp-gzip');
  assert.is(
    batches.reduce((sum, batch) => sum + batch.recordCount, 0),
    output().gzipOffsets.length,
  );
  for (const batch of batches) assert.is(batch.compression, Compression.Gzip, "a kp-gzip batch's codec bits");
});

it('the first member commits exactly what it processed', () => {
  assert.is(output().first.processed.length, COUNT / 2);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const offsets = output()
      .first.processed.filter((r) => r[2] === partition)
      .map((r) => r[3]);
    const expected = offsets.length ? Math.max(...offsets) + 1 : null;
    assert.is(output().first.committed[partition], expected, `committed offset of partition ${partition}`);
    if (expected === null) assert.is(output().groupOffsetsAfterFirst[partition], undefined);
    else assert.equal(output().groupOffsetsAfterFirst[partition], [expected, 'kp'], `admin view of ${partition}`);
  }
});

it('the second member resumes at those commits: every record read once in all', () => {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const offsets = output()
      .second.processed.filter((r) => r[2] === partition)
      .map((r) => r[3]);
    if (offsets.length)
      assert.is(offsets[0], output().first.committed[partition] ?? 0, `partition ${partition} resumes`);
  }
  const all = [...output().first.processed, ...output().second.processed];
  assert.is(all.length, COUNT);
  for (const [key, value, partition, offset] of all) {
    assert.equal(output().produced[key], [partition, offset], `${key} read where it was written`);
    assert.is(value, key.replace('key', 'value'));
  }
  assert.is(new Set(all.map((r) => r[0])).size, COUNT, 'no record read twice');
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const end = Object.values(output().produced).filter(([p]) => p === partition).length;
    assert.is(output().second.committed[partition], end, `partition ${partition} committed to its end`);
  }
});

it('admin: list_consumer_groups and describe_consumer_groups after both members left; delete_topics', () => {
  assert.equal(output().groups.listed, [['kp-group', 'consumer']]);
  assert.equal(output().groups.described, [['kp-group', 'Empty', 'consumer', 0]]);
  assert.not.ok(output().groups.topicsAfterDelete.includes('kp-grow'), 'kp-grow is deleted');
  assert.ok(output().groups.topicsAfterDelete.includes('kp-orders'));
});

test.run();
