// The leader's checks on a follower's Fetch before its position counts: the replica id
// must name a registered, unfenced broker whose registered host is the connection's peer,
// and a replica of the partition; a position past the log end is OFFSET_OUT_OF_RANGE and
// one past the end of its last fetched epoch is answered with the diverging epoch. Only a
// position that passes moves the follower's progress and the high watermark.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { MetadataImage } from '../../src/controller/metadata-image';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { silentLogger } from '../../src/logger';
import { ReplicaManager } from '../../src/replica/replica-manager';

function setup() {
  const image = new MetadataImage();
  const brokers = image.brokers as Map<number, unknown>;
  const broker = (brokerId: number, host: string, fenced = false) => ({
    brokerId,
    incarnationId: 'x',
    brokerEpoch: 1,
    endPoints: [{ name: 'PLAINTEXT', host, port: 9092, securityProtocol: 0 }],
    rack: null,
    fenced,
    registeredAtOffset: 0,
  });
  brokers.set(1, broker(1, '127.0.0.1'));
  brokers.set(2, broker(2, '10.0.0.2'));
  brokers.set(3, broker(3, '127.0.0.1', true));
  brokers.set(4, broker(4, 'localhost'));
  const logs = new LogManager({
    dataDir: '/data',
    fs: new MemoryFileSystem(),
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 0,
  });
  logs.open();
  const log = logs.getOrCreate('t', 0, {});
  const manager = new ReplicaManager(
    { nodeId: 1, lagTimeMaxMs: 30_000, fetchWaitMaxMs: 500, fetchMaxBytes: 1 << 20 },
    {
      image: () => image,
      logs,
      endpointOf: () => undefined,
      alterIsr: async () => ({ errorCode: ErrorCode.NONE }),
      clusterId: 'c',
    },
    silentLogger,
  );
  manager.onPartition('t', {
    topicId: 'id',
    partitionId: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    removingReplicas: [],
    addingReplicas: [],
    leader: 1,
    leaderEpoch: 5,
    partitionEpoch: 0,
  });
  const replica = manager.get('t', 0)!;
  for (let i = 0; i < 4; i++)
    log.append([encodeRecordBatchSync({ records: [{ value: `v${i}` }] })], { leaderEpoch: 5, holdHighWatermark: true });
  return { manager, replica, log, logs };
}

test('the replica id must be a registered, unfenced broker reached from its registered host', async () => {
  const { manager, logs } = setup();
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2'), ErrorCode.NONE);
  assert.is(await manager.checkFollowerIdentity(2, '::ffff:10.0.0.2'), ErrorCode.NONE);
  assert.is(await manager.checkFollowerIdentity(2, '127.0.0.1'), ErrorCode.NOT_LEADER_OR_FOLLOWER, 'another host');
  assert.is(await manager.checkFollowerIdentity(3, '127.0.0.1'), ErrorCode.NOT_LEADER_OR_FOLLOWER, 'fenced');
  assert.is(await manager.checkFollowerIdentity(9, '127.0.0.1'), ErrorCode.NOT_LEADER_OR_FOLLOWER, 'not registered');
  assert.is(
    await manager.checkFollowerIdentity(1, '127.0.0.1'),
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    'this broker itself',
  );
  assert.is(
    await manager.checkFollowerIdentity(4, '127.0.0.1'),
    ErrorCode.NONE,
    'a registered name resolving to the peer',
  );
  logs.close();
});

test('only a position within the log, on the leader history, from a replica moves the high watermark', () => {
  const { manager, replica, log, logs } = setup();
  assert.is(log.logEndOffset, 4);
  assert.is(log.highWatermark, 0);
  assert.equal(manager.recordFollowerFetch(replica, 2, 1_000_000), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
  assert.equal(manager.recordFollowerFetch(replica, 3, 1_000_000), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
  assert.is(log.highWatermark, 0, 'a position past the log end moves nothing');
  assert.equal(
    manager.recordFollowerFetch(replica, 7, 4),
    { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
    'not a replica',
  );
  // Epoch 5 ends at 4 here: a follower claiming 4 records of an epoch 2 that never was has diverged.
  const diverged = manager.recordFollowerFetch(replica, 2, 4, 2);
  assert.is(diverged.errorCode, ErrorCode.NONE);
  assert.ok(diverged.divergingEpoch && diverged.divergingEpoch.endOffset < 4);
  assert.is(log.highWatermark, 0);
  assert.equal(manager.recordFollowerFetch(replica, 2, 4, 5), { errorCode: ErrorCode.NONE });
  assert.equal(manager.recordFollowerFetch(replica, 3, 3, 5), { errorCode: ErrorCode.NONE });
  assert.is(log.highWatermark, 3);
  logs.close();
});

test.run();
