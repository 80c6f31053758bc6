// Fail-stop of the Raft driver: when the storage under it fails (every write and fsync
// throws EIO), the vote or entry it was persisting is never sent or acknowledged, the core
// does not believe it persisted (the next Ready still carries it), the driver stops for
// good (no more answers, proposals refused) and its owner hears of it once, as a
// QuorumStorageError naming what failed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { Message } from '../../src/raft/core';
import { QuorumStorageError, RaftDriver } from '../../src/raft/driver';
import { QuorumStorage } from '../../src/raft/quorum-storage';
import { FaultyFileSystem } from './faulty-file-system';
import { mulberry32 } from './simulation';

const DIR = '/data/__cluster_metadata';

function driverOn(fs: FaultyFileSystem, voters: number[], fatal: Error[], sent: Message[]): RaftDriver {
  return new RaftDriver({
    id: 1,
    voters: voters.map((id) => ({ id, host: '127.0.0.1', port: 9000 + id })),
    tickMs: 5,
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(1),
    storage: QuorumStorage.open(fs, DIR),
    transport: { send: (m) => sent.push(m) },
    apply: () => undefined,
    restore: () => undefined,
    takeSnapshot: () => Buffer.alloc(0),
    snapshotEveryEntries: 0,
    logger: silentLogger,
    onFatal: (error) => fatal.push(error),
  });
}

test('a vote that cannot be persisted is never granted, and the node stops', () => {
  const memory = new MemoryFileSystem({ volatileRenames: true });
  const fs = new FaultyFileSystem(memory);
  const fatal: Error[] = [];
  const sent: Message[] = [];
  const driver = driverOn(fs, [1, 2, 3], fatal, sent);
  fs.failing = true;
  const vote = (from: number): Message => ({
    type: 'vote',
    from,
    to: 1,
    term: 5,
    lastLogIndex: 10,
    lastLogTerm: 4,
    preVote: false,
    transfer: false,
  });
  assert.equal(driver.receive(vote(2)), [], 'no answer leaves before the vote is on disk');
  assert.equal(sent, []);
  assert.is(fatal.length, 1);
  assert.instance(fatal[0], QuorumStorageError);
  assert.match(fatal[0].message, /metadata quorum storage failed/);
  assert.match(fatal[0].message, /EIO/);
  assert.equal(driver.node.ready().hardState, { term: 5, votedFor: 2 }, 'the core still holds the vote as unpersisted');
  // Stopped for good: another candidate gets nothing, and nothing is reported twice.
  fs.failing = false;
  assert.equal(driver.receive(vote(3)), []);
  assert.is(fatal.length, 1);
  // Nothing reached the disk: a restart has no vote in term 5.
  memory.crash(() => 0);
  assert.equal(QuorumStorage.open(new FaultyFileSystem(memory), DIR).readHardState(), { term: 0, votedFor: -1 });
});

test('a proposal whose entry cannot be persisted is refused, never applied, and the driver stops ticking', async () => {
  const memory = new MemoryFileSystem({ volatileRenames: true });
  const fs = new FaultyFileSystem(memory);
  const fatal: Error[] = [];
  const driver = driverOn(fs, [1], fatal, []);
  driver.start(); // a single voter elects itself at once
  assert.is(driver.node.role, 'leader');
  assert.is(await driver.propose(Buffer.from('ok')), 2, 'after the no-op of the new term');
  fs.failing = true;
  const outcome = await driver.propose(Buffer.from('lost')).then(
    () => 'resolved',
    (error: Error) => error,
  );
  assert.instance(outcome, QuorumStorageError);
  assert.is(fatal.length, 1);
  assert.ok(driver.fatalError);
  const pending = driver.node.ready().entries.map((e) => e.data.toString());
  assert.equal(pending, ['lost'], 'the entry is still unpersisted in the core');
  await driver.propose(Buffer.from('after')).then(
    () => assert.unreachable('a stopped driver accepted a proposal'),
    (error: Error) => assert.instance(error, QuorumStorageError),
  );
  fs.failing = false;
  memory.crash(() => 0);
  const reopened = QuorumStorage.open(new FaultyFileSystem(memory), DIR);
  assert.equal(
    reopened.read(1, reopened.lastIndex).map((e) => e.data.toString()),
    ['', 'ok'],
  );
  driver.stop();
});

test.run();
