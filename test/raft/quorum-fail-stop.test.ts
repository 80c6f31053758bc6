// Fail-stop wiring of a node's metadata quorum: when its Raft storage fails (EIO on every
// write), the quorum stops leading, closes its controller port and tells its owner once
// (the server's owner rethrows it to the process guards, which log one line and exit
// non-zero); the write that hit the failure is never acknowledged.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { MemoryFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { MetadataQuorum } from '../../src/controller/quorum';
import { QuorumStorageError } from '../../src/raft/driver';
import { freePort } from '../helpers/broker-process';
import { until } from '../helpers/wait';
import { FaultyFileSystem } from './faulty-file-system';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

test('a storage failure stops the quorum: no acknowledgement, no leadership, port closed, owner told once', async () => {
  const fs = new FaultyFileSystem(new MemoryFileSystem());
  const port = await freePort();
  const fatal: Error[] = [];
  const quorum = new MetadataQuorum({
    nodeId: 1,
    clusterId: 'fail-stop',
    voters: [{ id: 1, host: '127.0.0.1', port }],
    controllerListen: { host: '127.0.0.1', port },
    dataDir: '/data',
    fs,
    tickMs: 10,
    electionTimeoutTicks: 10,
    controller: { brokerSessionTimeoutMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1 },
    snapshotEveryEntries: 0,
    logger: silentLogger,
    onRecord: () => undefined,
    onRestore: () => undefined,
    onFatal: (error) => fatal.push(error),
  });
  await quorum.start();
  try {
    await until(() => quorum.isLeader, { what: 'the single voter to lead', timeoutMs: 5000, intervalMs: 10 });
    const registration = (brokerId: number) =>
      quorum.register({
        brokerId,
        incarnationId: Buffer.alloc(16, brokerId).toString('base64url'),
        host: '127.0.0.1',
        port: 9092,
        rack: null,
        controllerHost: '',
        controllerPort: 0,
      });
    assert.is((await registration(1)).errorCode, 0);
    fs.failing = true;
    const answer = await registration(2).then(
      (a) => a.errorCode,
      (error: Error) => error,
    );
    assert.is.not(answer, 0, 'the write that failed is not acknowledged');
    assert.is(fatal.length, 1);
    assert.instance(fatal[0], QuorumStorageError);
    assert.not.ok(quorum.isLeader, 'a stopped quorum does not lead');
    await until(() => refused(port), { what: 'the controller port to close', timeoutMs: 5000, intervalMs: 20 });
    assert.is.not((await registration(3)).errorCode, 0);
    assert.is(fatal.length, 1, 'told once');
  } finally {
    await quorum.stop();
  }
});

test.run();
