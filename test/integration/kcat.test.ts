// kcat (librdkafka 2.0) against a real Brook process: metadata, keyed produce and
// consume, every compression codec, headers, offsets, empty and null fields.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { Compression } from '../../protocol/compression';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { LOGS_DIR, partitionDirName, segmentLogNames } from '../../src/log/on-disk-names';

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker();
});

test.after(async () => {
  await broker.stop();
});

/** The compression codec of every batch stored in partition 0 of `topic`, read from its segment files. */
function storedCodecs(topic: string): Compression[] {
  const dir = path.join(broker.dataDir, LOGS_DIR, partitionDirName(topic, 0));
  const codecs: Compression[] = [];
  for (const name of segmentLogNames(fs.readdirSync(dir))) {
    const split = splitBatches(fs.readFileSync(path.join(dir, name)));
    assert.is(split.error, undefined, `segment ${name} of ${topic} splits into whole batches`);
    for (const batch of split.batches) codecs.push(new RecordBatchView(batch).compression);
  }
  return codecs;
}

const CODECS: Record<string, Compression> = {
  gzip: Compression.Gzip,
  snappy: Compression.Snappy,
  lz4: Compression.Lz4,
  zstd: Compression.Zstd,
};

test('kcat -L lists the broker as controller and the topics', async () => {
  await kcat(broker.port, ['-P', '-t', 'listed', '-K:'], 'a:1\n');
  const result = await kcat(broker.port, ['-L']);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /1 brokers:/);
  assert.match(result.stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${broker.port}`));
  assert.match(result.stdout, /topic "listed" with 1 partitions/);
});

test('keyed messages come back exactly, in order', async () => {
  const lines = Array.from({ length: 200 }, (_, i) => `key-${i}:value-${i}`);
  const produced = await kcat(broker.port, ['-P', '-t', 'keyed', '-K:'], `${lines.join('\n')}\n`);
  assert.is(produced.code, 0, produced.stderr);
  const consumed = await kcat(broker.port, ['-C', '-t', 'keyed', '-o', 'beginning', '-e', '-q', '-f', '%k:%s\n']);
  assert.is(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stdout.trim().split('\n'), lines);
});

// librdkafka up to 2.11.0 compresses with gzip, snappy and lz4 only when the broker's
// Produce range reaches version 0; otherwise it sends the batch uncompressed without a
// word. So the round trip alone proves nothing: the stored batches must carry the codec.
for (const codec of Object.keys(CODECS)) {
  test(`produce and consume with ${codec}, stored compressed`, async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `k${i}:${codec}-${'x'.repeat(i * 10)}`);
    // One batch (linger 500 ms) of compressible lines: librdkafka sends a batch that its
    // codec does not make smaller uncompressed, which a small batch can be.
    const produced = await kcat(
      broker.port,
      ['-P', '-t', `codec-${codec}`, '-K:', '-z', codec, '-X', 'linger.ms=500'],
      `${lines.join('\n')}\n`,
    );
    assert.is(produced.code, 0, produced.stderr);
    const consumed = await kcat(broker.port, [
      '-C',
      '-t',
      `codec-${codec}`,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k:%s\n',
    ]);
    assert.equal(consumed.stdout.trim().split('\n'), lines);
    const codecs = storedCodecs(`codec-${codec}`);
    assert.ok(codecs.length > 0, `codec-${codec} has stored batches`);
    assert.equal(
      codecs,
      codecs.map(() => CODECS[codec]),
      `every stored batch of codec-${codec} is ${codec}-compressed`,
    );
  });
}

test('headers survive the round trip', async () => {
  await kcat(broker.port, ['-P', '-t', 'headers', '-H', 'trace=abc', '-H', 'n=1'], 'payload\n');
  const consumed = await kcat(broker.port, ['-C', '-t', 'headers', '-o', 'beginning', '-e', '-q', '-f', '%h|%s\n']);
  assert.is(consumed.stdout.trim(), 'trace=abc,n=1|payload');
});

test('consume from a given offset', async () => {
  await kcat(broker.port, ['-P', '-t', 'offsets'], 'm0\nm1\nm2\nm3\nm4\n');
  const consumed = await kcat(broker.port, ['-C', '-t', 'offsets', '-o', '2', '-e', '-q', '-f', '%o=%s\n']);
  assert.equal(consumed.stdout.trim().split('\n'), ['2=m2', '3=m3', '4=m4']);
});

test('empty value and null key', async () => {
  // -Z sends empty values as NULL; without it an empty line is an empty value.
  await kcat(broker.port, ['-P', '-t', 'empties', '-K:'], 'k1:\n');
  await kcat(broker.port, ['-P', '-t', 'empties'], 'no-key\n');
  const consumed = await kcat(broker.port, [
    '-C',
    '-t',
    'empties',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '[%k][%s][%K][%S]\n',
  ]);
  assert.equal(consumed.stdout.trim().split('\n'), ['[k1][][2][0]', '[][no-key][-1][6]']);
});

test('offsets for times (-o s@ts) use ListOffsets by timestamp', async () => {
  const before = Date.now() - 1000;
  await kcat(broker.port, ['-P', '-t', 'timed'], 'first\nsecond\n');
  const consumed = await kcat(broker.port, ['-C', '-t', 'timed', '-o', `s@${before}`, '-e', '-q', '-f', '%s\n']);
  assert.equal(consumed.stdout.trim().split('\n'), ['first', 'second']);
  const future = await kcat(broker.port, ['-Q', '-t', `timed:0:${Date.now() + 3_600_000}`]);
  assert.match(future.stdout, /offset -1/);
});

test.run();
