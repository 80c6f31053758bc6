// Seeded crash tests of a Raft node's durable state: a RaftDriver over QuorumStorage on the
// in-memory file system (renames volatile until the directory is synced), fed vote
// requests, appends with commits (so snapshots and log compaction run), the leader's
// snapshots, and its own campaigns, is crashed at a random file operation, then crash() drops what was not
// durable (torn tails included) and the node restarts from what is left. Every restart
// must come up; the node must never grant two candidates a vote in one term, across any
// number of crashes; and every entry it acknowledged must still be there.
// BROOK_RAFT_CRASH_SEEDS=N runs more seeds (soak); BROOK_RAFT_CRASH_SEED=S replays one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFileSystem } from '../../src/log/file-system';
import { silentLogger } from '../../src/logger';
import { Message } from '../../src/raft/core';
import { RaftDriver } from '../../src/raft/driver';
import { QuorumStorage } from '../../src/raft/quorum-storage';
import { CrashPoint, FaultyFileSystem } from './faulty-file-system';
import { mulberry32 } from './simulation';

const DIR = '/data/__cluster_metadata';
const replay = process.env.BROOK_RAFT_CRASH_SEED;
const SEEDS = replay ? 1 : Number(process.env.BROOK_RAFT_CRASH_SEEDS ?? 300);
const FIRST = replay ? Number(replay) : 1;
const VOTERS = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9000 + id }));

interface Run {
  seed: number;
  /** Granted votes that left the node: term -> candidate. */
  votes: Map<number, number>;
  /** The highest index the node acknowledged (append-response success). */
  acked: number;
}

function record(run: Run, messages: readonly Message[]): void {
  for (const m of messages) {
    let candidate = -1;
    if (m.type === 'vote-response' && m.granted && !m.preVote) candidate = m.to;
    if (m.type === 'vote' && !m.preVote) candidate = m.from;
    if (candidate >= 0) {
      const earlier = run.votes.get(m.term);
      if (earlier !== undefined && earlier !== candidate)
        assert.unreachable(
          `seed ${run.seed}: voted for ${earlier} and ${candidate} in term ${m.term} (replay with BROOK_RAFT_CRASH_SEED=${run.seed})`,
        );
      run.votes.set(m.term, candidate);
    }
    if (m.type === 'append-response' && m.success) run.acked = Math.max(run.acked, m.matchIndex);
  }
}

/** Opens node 1 on `fs`; throws if it does not come up. */
function openNode(run: Run, fs: FaultyFileSystem): RaftDriver {
  const storage = QuorumStorage.open(fs, DIR);
  const driver = new RaftDriver({
    id: 1,
    voters: VOTERS,
    tickMs: 10,
    electionTimeoutTicks: 10,
    heartbeatTicks: 2,
    random: mulberry32(run.seed),
    storage,
    transport: { send: (m) => record(run, [m]) },
    apply: () => undefined,
    restore: () => undefined,
    takeSnapshot: () => Buffer.from('image'),
    snapshotEveryEntries: 4,
    logger: silentLogger,
    onFatal: () => undefined,
  });
  driver.restoreLocal();
  return driver;
}

/** One input chosen by the seed: a vote request, an append that commits, or our own campaign. */
function stepOnce(driver: RaftDriver, run: Run, random: () => number): void {
  const node = driver.node;
  const roll = random();
  if (roll < 0.3) {
    // Out of the leader lease first, so the vote is judged on its merits.
    for (let i = 0; i < 25; i++) node.tick();
    const candidate = random() < 0.5 ? 2 : 3;
    const term = node.term + (random() < 0.5 ? 0 : 1);
    record(
      run,
      driver.receive({
        type: 'vote',
        from: candidate,
        to: 1,
        term,
        lastLogIndex: node.lastIndex + 10,
        lastLogTerm: term,
        preVote: false,
        transfer: false,
      }),
    );
  } else if (roll < 0.85) {
    const count = 1 + Math.floor(random() * 3);
    const term = Math.max(1, node.term);
    const prevLogIndex = node.lastIndex;
    const entries = Array.from({ length: count }, (_, i) => ({
      index: prevLogIndex + 1 + i,
      term,
      data: Buffer.from(`e${prevLogIndex + 1 + i}`),
    }));
    record(
      run,
      driver.receive({
        type: 'append',
        from: 2,
        to: 1,
        term,
        prevLogIndex,
        prevLogTerm: node.termAt(prevLogIndex),
        entries,
        leaderCommit: prevLogIndex + count,
      }),
    );
  } else if (roll < 0.9) {
    // The leader's snapshot, ahead of our log: installed, then acknowledged.
    const term = Math.max(1, node.term, node.termAt(node.lastIndex));
    const index = node.lastIndex + 1 + Math.floor(random() * 4);
    record(
      run,
      driver.receive({
        type: 'snapshot',
        from: 2,
        to: 1,
        term,
        snapshot: { index, term, voters: VOTERS, data: Buffer.from(`image-${index}`) },
      }),
    );
  } else {
    // Our own campaign: the pre-vote passes, and we vote for ourselves in the new term.
    for (let i = 0; i < 25 && node.role !== 'pre-candidate'; i++) node.tick();
    if (node.role === 'pre-candidate')
      record(
        run,
        driver.receive({ type: 'vote-response', from: 2, to: 1, term: node.term + 1, granted: true, preVote: true }),
      );
  }
}

function checkAfterRestart(driver: RaftDriver, run: Run, cycle: number): void {
  const { term, votedFor } = driver.node;
  for (const [votedTerm, candidate] of run.votes) {
    if (term > votedTerm || (term === votedTerm && votedFor === candidate)) continue;
    assert.unreachable(
      `seed ${run.seed}, restart ${cycle}: voted for ${candidate} in term ${votedTerm} but came back with term ${term}, vote ${votedFor} (replay with BROOK_RAFT_CRASH_SEED=${run.seed})`,
    );
  }
  const held = Math.max(driver.node.lastIndex, driver.node.snapshotIndex);
  if (held < run.acked)
    assert.unreachable(
      `seed ${run.seed}, restart ${cycle}: acknowledged entry ${run.acked} but holds only up to ${held} (replay with BROOK_RAFT_CRASH_SEED=${run.seed})`,
    );
}

test(`${SEEDS} seeds: crashes at any file operation never cost a vote or an acknowledged entry`, () => {
  const started = Date.now();
  let crashes = 0;
  let operations = 0;
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    const random = mulberry32(seed * 7919);
    const memory = new MemoryFileSystem({ volatileRenames: true });
    const run: Run = { seed, votes: new Map(), acked: 0 };
    for (let cycle = 0; cycle < 4; cycle++) {
      const fs = new FaultyFileSystem(memory);
      let driver: RaftDriver;
      try {
        driver = openNode(run, fs);
      } catch (error) {
        assert.unreachable(
          `seed ${seed}, restart ${cycle}: the node did not come up: ${(error as Error).message} (replay with BROOK_RAFT_CRASH_SEED=${seed})`,
        );
      }
      checkAfterRestart(driver!, run, cycle);
      // The crash point: somewhere in the next few dozen file operations.
      fs.opsLeft = Math.floor(random() * 80);
      for (let step = 0; step < 40 && !fs.crashed; step++) {
        try {
          stepOnce(driver!, run, random);
        } catch (error) {
          if (!(error instanceof CrashPoint)) throw error;
        }
      }
      operations += fs.mutations;
      if (fs.crashed) {
        crashes++;
        assert.ok(driver!.fatalError, `seed ${seed}: the driver stopped on the failed write`);
      }
      memory.crash(random);
    }
  }
  process.stdout.write(
    `raft crash test: ${SEEDS} seeds from ${FIRST}, ${crashes} crashes over ${operations} file operations, ${Date.now() - started} ms\n`,
  );
});

test.run();
