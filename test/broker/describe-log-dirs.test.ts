// DescribeLogDirs' per-partition offset lag (Kafka's max(high watermark - log end, 0), with a
// follower measured against the leader's high watermark from its last fetch) and the
// volume's bytes from statfs (-1 when the directory cannot be asked).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { offsetLag, volumeBytes } from '../../src/broker/apis/35-describe-log-dirs';
import type { Broker } from '../../src/broker/broker';
import type { PartitionLog } from '../../src/log/partition-log';

function brokerWith(replica: { leading: unknown; leaderHighWatermark: number } | undefined): Broker {
  return { replicas: { get: () => replica } } as unknown as Broker;
}

const log = (logEndOffset: number) => ({ topic: 't', partition: 0, logEndOffset }) as PartitionLog;

test('a leader has no lag; a follower lags by the leader high watermark above its log end', () => {
  assert.is(offsetLag(brokerWith({ leading: {}, leaderHighWatermark: -1 }), log(10)), 0);
  assert.is(offsetLag(brokerWith({ leading: null, leaderHighWatermark: 25 }), log(10)), 15);
  assert.is(
    offsetLag(brokerWith({ leading: null, leaderHighWatermark: 8 }), log(10)),
    0,
    'ahead of the high watermark',
  );
  assert.is(offsetLag(brokerWith({ leading: null, leaderHighWatermark: -1 }), log(10)), 0, 'before a first fetch');
  assert.is(offsetLag(brokerWith(undefined), log(10)), 0, 'a log no replica follows');
});

test('volume bytes come from statfs, -1 when the directory cannot be asked', async () => {
  const here = await volumeBytes(os.tmpdir());
  assert.ok(here.totalBytes > 0 && here.usableBytes >= 0 && here.usableBytes <= here.totalBytes);
  assert.equal(await volumeBytes(path.join(os.tmpdir(), 'no-such-directory-here', 'logs')), {
    totalBytes: -1,
    usableBytes: -1,
  });
});

test.run();
