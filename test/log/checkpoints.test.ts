// The log directory's offset checkpoints and the producer snapshots: the high watermark
// survives a restart (not reset to 0, not raised to the log end); after an unclean stop
// every segment from the recovery point on is checked batch by batch and cut at the first
// bad one (later segments dropped), while a clean stop checks nothing; the checkpoint files
// parse strictly (hostile contents are treated as missing) and are replaced crash-safely;
// producer snapshots carry a CRC, and a damaged one is rebuilt from the log.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MemoryFileSystem, readWholeFile } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import {
  formatOffsetCheckpoint,
  HIGH_WATERMARK_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
  writeOffsetCheckpoint,
} from '../../src/log/offset-checkpoint';
import { ProducerStateTable } from '../../src/log/producer-state';

const DATA = '/data';
const LOGS = '/data/logs';

function manager(fs: MemoryFileSystem): LogManager {
  const logs = new LogManager({ dataDir: DATA, fs, tailCacheBytes: 0, housekeepingIntervalMs: 0 });
  logs.open();
  return logs;
}

function batch(value: string, producer?: { seq: number }) {
  return encodeRecordBatchSync({
    records: [{ key: null, value, timestamp: 1_700_000_000_000 }],
    ...(producer ? { producerId: 11, producerEpoch: 0, baseSequence: producer.seq } : {}),
  });
}

test('the high watermark comes back from its checkpoint after a crash, within the log', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('t', 0, { 'flush.messages': '1' });
  for (let i = 0; i < 5; i++) log.append([batch(`v${i}`)], { leaderEpoch: 0, holdHighWatermark: true });
  log.highWatermark = 3;
  logs.checkpoint();
  log.highWatermark = 4;
  fs.crash(() => 0);
  const reopened = manager(fs).getOrCreate('t', 0, { 'flush.messages': '1' });
  assert.is(reopened.logEndOffset, 5);
  assert.is(reopened.highWatermark, 3, 'the checkpointed high watermark, not the log end');
  // A checkpoint past the log end (the tail was lost) is held at the log end.
  const text = formatOffsetCheckpoint([{ topic: 't', partition: 0, offset: 99 }]);
  writeOffsetCheckpoint(fs, `${LOGS}/${HIGH_WATERMARK_CHECKPOINT_FILE}`, text);
  assert.is(manager(fs).getOrCreate('t', 0, {}).highWatermark, 5);
});

test('clean shutdown checkpoints both files; a log not opened keeps its entries', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  logs.getOrCreate('a', 0, {}).append([batch('x')], { leaderEpoch: 0 });
  logs.getOrCreate('b', 1, {}).append([batch('y'), batch('z')], { leaderEpoch: 0 });
  logs.close();
  const expected = [
    { topic: 'a', partition: 0, offset: 1 },
    { topic: 'b', partition: 1, offset: 2 },
  ];
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${RECOVERY_POINT_CHECKPOINT_FILE}`), expected);
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${HIGH_WATERMARK_CHECKPOINT_FILE}`), expected);
  const again = manager(fs);
  again.getOrCreate('a', 0, {}).append([batch('w')], { leaderEpoch: 0 });
  again.checkpoint();
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${HIGH_WATERMARK_CHECKPOINT_FILE}`), [
    { topic: 'a', partition: 0, offset: 2 },
    { topic: 'b', partition: 1, offset: 2 },
  ]);
  again.deletePartition('b', 1);
  again.checkpoint();
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${HIGH_WATERMARK_CHECKPOINT_FILE}`), [
    { topic: 'a', partition: 0, offset: 2 },
  ]);
});

test('after an unclean stop, segments from the recovery point on are checked and cut at the first bad batch', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  // Every batch indexed: a trusted segment is only scanned after its last index entry, so
  // damage in its first batch is found only by a recovery scan.
  const config = { 'segment.bytes': '400', 'flush.messages': '1', 'index.interval.bytes': '1' };
  const log = logs.getOrCreate('t', 0, config);
  for (let i = 0; i < 20; i++) log.append([batch(`value-${i}`.padEnd(60, '.'))], { leaderEpoch: 0 });
  assert.ok(log.segmentCount >= 4, `${log.segmentCount} segments`);
  // The checkpoint says the log was durable up to offset 2 only.
  writeOffsetCheckpoint(
    fs,
    `${LOGS}/${RECOVERY_POINT_CHECKPOINT_FILE}`,
    formatOffsetCheckpoint([{ topic: 't', partition: 0, offset: 2 }]),
  );
  log.abandon();
  // A bad byte in a sealed segment above the recovery point (the second-to-last one).
  const segments = fs.readdir(`${LOGS}/t-0`).filter((name) => name.endsWith('.log'));
  const damaged = segments[segments.length - 2];
  fs.corrupt(`${LOGS}/t-0/${damaged}`, 70);
  const recovered = manager(fs).getOrCreate('t', 0, config);
  const damagedBase = Number(damaged.slice(0, 20));
  assert.is(recovered.logEndOffset, damagedBase, 'cut at the bad batch; the later segment dropped');
  assert.is(fs.readdir(`${LOGS}/t-0`).filter((name) => name.endsWith('.log')).length, segments.length - 1);
  assert.is(recovered.append([batch('next')], { leaderEpoch: 1 }).baseOffset, damagedBase);
});

test('a truncation below the recovery point rewrites the checkpoint at once', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('t', 0, { 'flush.messages': '1' });
  for (let i = 0; i < 6; i++) log.append([batch(`v${i}`)], { leaderEpoch: 0 });
  logs.checkpoint();
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${RECOVERY_POINT_CHECKPOINT_FILE}`)![0].offset, 6);
  log.truncateTo(2);
  assert.equal(readOffsetCheckpoint(fs, `${LOGS}/${RECOVERY_POINT_CHECKPOINT_FILE}`)![0].offset, 2);
});

test('checkpoint files: hostile contents read as missing', () => {
  const fs = new MemoryFileSystem();
  const file = `${LOGS}/cp`;
  const put = (text: string) => writeOffsetCheckpoint(fs, file, text);
  assert.is(readOffsetCheckpoint(fs, file), null, 'missing');
  for (const bad of [
    '',
    '1\n0\n',
    '0\n2\nt 0 5\n',
    '0\n99999999999\n',
    '0\n-1\n',
    '0\n1\nt 0\n',
    '0\n1\nt -1 5\n',
    '0\n1\nt 0 -5\n',
    '0\n1\nt 0 1e3\n',
    '0\n1\nt 0 9007199254740993\n',
    '0\n1\n 0 5\n',
    '\u0000\u0001garbage',
  ]) {
    put(bad);
    assert.is(readOffsetCheckpoint(fs, file), null, JSON.stringify(bad));
  }
  put('0\n2\nb 1 7\na 0 3\n');
  assert.equal(readOffsetCheckpoint(fs, file), [
    { topic: 'b', partition: 1, offset: 7 },
    { topic: 'a', partition: 0, offset: 3 },
  ]);
  assert.is(
    formatOffsetCheckpoint([
      { topic: 'b', partition: 1, offset: 7 },
      { topic: 'a', partition: 0, offset: 3 },
    ]),
    '0\n2\na 0 3\nb 1 7\n',
  );
  assert.is(formatOffsetCheckpoint([]), '0\n0\n');
  assert.equal(readOffsetCheckpoint(fs, `${file}-empty`), null);
  put(formatOffsetCheckpoint([]));
  assert.equal(readOffsetCheckpoint(fs, file), []);
  assert.is(readWholeFile(fs, file).toString(), '0\n0\n');
});

test('producer snapshots: a CRC over the contents; any damage or truncation reads as no snapshot', () => {
  const table = new ProducerStateTable();
  table.record(5, 2, { firstSeq: 0, lastSeq: 4, firstOffset: 10, lastOffset: 14 });
  table.record(5, 2, { firstSeq: 5, lastSeq: 5, firstOffset: 20, lastOffset: 20 });
  table.record(2 ** 40, 0, { firstSeq: 0, lastSeq: 0, firstOffset: 21, lastOffset: 21 });
  const bytes = table.encodeSnapshot();
  assert.equal(ProducerStateTable.decodeSnapshot(bytes)!.toJSON(), table.toJSON());
  for (let at = 0; at < bytes.length; at++) {
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 0x10;
    assert.is(ProducerStateTable.decodeSnapshot(damaged), null, `byte ${at}`);
    assert.is(ProducerStateTable.decodeSnapshot(bytes.subarray(0, at)), null, `first ${at} bytes`);
  }
  assert.is(ProducerStateTable.decodeSnapshot(Buffer.from('[{"producerId":5}]')), null, 'the older JSON form');
  assert.equal(ProducerStateTable.decodeSnapshot(new ProducerStateTable().encodeSnapshot())!.toJSON(), []);
});

test('a damaged producer snapshot is rebuilt from the log: retries are still caught', () => {
  const fs = new MemoryFileSystem();
  const logs = manager(fs);
  const log = logs.getOrCreate('t', 0, {});
  for (let seq = 0; seq < 4; seq++) log.append([batch(`p${seq}`, { seq })], { leaderEpoch: 0 });
  logs.close();
  const snapshot = fs.readdir(`${LOGS}/t-0`).find((name) => name.endsWith('.snapshot'))!;
  fs.corrupt(`${LOGS}/t-0/${snapshot}`, 20);
  const reopened = manager(fs).getOrCreate('t', 0, {});
  const retry = reopened.append([batch('p3', { seq: 3 })], { leaderEpoch: 0 });
  assert.equal([retry.errorCode, retry.baseOffset, retry.duplicate], [ErrorCode.NONE, 3, true]);
  assert.is(reopened.append([batch('p4', { seq: 4 })], { leaderEpoch: 0 }).baseOffset, 4);
});

test.run();
