// confluent-kafka-python 1.7 on librdkafka 2.0 (Debian's python3-confluent-kafka) against a
// real Brook process, through test/clients/confluent_kafka_client.py: AdminClient topic and
// partition calls, an idempotent producer with headers in each codec whose stored batches
// are read back from the broker's segment files for their codec bits and producer id, and
// a group consumer that reads everything and commits.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pythonClientSuite } from '../helpers/python';
import { CODECS, storedBatches } from '../helpers/stored-batches';

interface Output {
  admin: {
    /** Topic to null (created) or the error's name. */
    created: Record<string, string | null>;
    createdAgain: string | null;
    grown: string | null;
    shrunk: string | null;
    partitions: number;
    leaders: number[];
    brokers: number[];
    controller: number;
    topics: string[];
    cleanupPolicy: string | null;
  };
  produce: { delivered: Record<string, number[]>; errors: string[] };
  consume: {
    /** topic, offset, key, value, headers */
    consumed: [string, number, string, string, Record<string, string>][];
    errors: string[];
    committed: Record<string, number>;
  };
  /** [group, state, protocol type] */
  groups: [string, string, string][];
  deleted: string | null;
  topicsAfterDelete: string[];
}

const PER_CODEC = 40;
const { it, broker, output } = pythonClientSuite<Output>(
  'confluent-kafka-python',
  'confluent_kafka',
  'python3-confluent-kafka',
  'confluent_kafka_client.py',
);

it('AdminClient: create_topics, create_partitions, list_topics, describe_configs', () => {
  const { admin } = output();
  assert.equal(admin.created, {
    'ck-admin': null,
    'ck-gzip': null,
    'ck-snappy': null,
    'ck-lz4': null,
    'ck-zstd': null,
  });
  assert.is(admin.createdAgain, 'TOPIC_ALREADY_EXISTS');
  assert.is(admin.grown, null, 'create_partitions 1 -> 4');
  assert.is(admin.shrunk, 'INVALID_PARTITIONS', 'create_partitions 4 -> 2 is refused');
  assert.is(admin.partitions, 4);
  assert.equal(admin.leaders, [1]);
  assert.equal(admin.brokers, [1]);
  assert.is(admin.controller, 1);
  assert.equal(admin.topics, ['ck-admin', 'ck-gzip', 'ck-lz4', 'ck-snappy', 'ck-zstd']);
  assert.is(admin.cleanupPolicy, 'delete');
});

it('the idempotent producer has every record acknowledged, in order', () => {
  assert.equal(output().produce.errors, []);
  for (const codec of Object.keys(CODECS))
    assert.equal(
      output().produce.delivered[codec],
      Array.from({ length: PER_CODEC }, (_, i) => i),
      `${codec} offsets`,
    );
});

// librdkafka before 2.11 sends gzip, snappy and lz4 batches uncompressed, without an error,
// when the broker's Produce range does not reach version 0: only the stored bytes tell.
for (const codec of Object.keys(CODECS)) {
  it(`${codec}: the stored batches are ${codec}-compressed and carry the producer id`, () => {
    const batches = storedBatches(broker().dataDir, `ck-${codec}`);
    assert.ok(batches.length > 0, `ck-${codec} has stored batches`);
    assert.is(
      batches.reduce((sum, batch) => sum + batch.recordCount, 0),
      PER_CODEC,
    );
    for (const batch of batches) {
      assert.is(batch.compression, CODECS[codec], `a ck-${codec} batch's codec bits`);
      assert.ok(batch.producerId >= 0, 'an idempotent batch carries its producer id');
      assert.ok(batch.baseSequence >= 0, 'an idempotent batch carries its sequence');
    }
  });
}

it('a group consumer reads every record with its headers and commits', () => {
  assert.equal(output().consume.errors, []);
  assert.is(output().consume.consumed.length, PER_CODEC * Object.keys(CODECS).length);
  for (const [topic, offset, key, value, headers] of output().consume.consumed) {
    const codec = topic.slice('ck-'.length);
    assert.is(key, `${codec}-${offset}`);
    assert.is(value, `${codec} value ${offset} ${'abc'.repeat(50)}`);
    assert.equal(headers, { codec, n: String(offset) });
  }
  for (const codec of Object.keys(CODECS)) assert.is(output().consume.committed[`ck-${codec}`], PER_CODEC);
});

it('AdminClient: list_groups names the group, empty once its consumer closed; delete_topics', () => {
  assert.equal(output().groups, [['ck-group', 'Empty', 'consumer']]);
  assert.is(output().deleted, null);
  assert.equal(output().topicsAfterDelete, ['ck-gzip', 'ck-lz4', 'ck-snappy', 'ck-zstd']);
});

test.run();
