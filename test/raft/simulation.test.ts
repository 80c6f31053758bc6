// Runs the deterministic Raft simulation over many seeds (3- and 5-node clusters) with
// message loss, delay, duplication, reordering, symmetric and one-way partitions, crashes,
// restarts and torn writes, storage failures that stop a node (fail-stop), snapshots with log compaction (lagging nodes catch up by
// snapshot transfer) and, on every fourth seed, voters added and removed one at a time;
// every step checks election safety, log matching, leader completeness and state machine
// safety, and each run ends by healing the cluster and requiring a new entry to commit. BROOK_RAFT_SEEDS=N runs more seeds (npm run soak:raft);
// BROOK_RAFT_SEED=S replays one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Simulation } from './simulation';

const replay = process.env.BROOK_RAFT_SEED;
const SEEDS = replay ? 1 : Number(process.env.BROOK_RAFT_SEEDS ?? 2000);
const FIRST = replay ? Number(replay) : Number(process.env.BROOK_RAFT_FIRST_SEED ?? 1);

test(`${SEEDS} seeds: safety on every step, liveness after healing`, () => {
  const started = Date.now();
  let commits = 0;
  let installs = 0;
  let changes = 0;
  let storageErrors = 0;
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    const membership = seed % 4 === 1;
    const sim = new Simulation(seed, {
      nodes: membership || seed % 3 === 0 ? 5 : 3,
      membership,
      snapshotRate: 0.03,
      steps: 300,
      lossRate: 0.1,
      duplicateRate: 0.05,
      crashRate: 0.01,
      partitionRate: 0.02,
      // Every other seed, the storage fails now and then too (fail-stop, as the driver does).
      storageErrorRate: seed % 2 === 0 ? 0.005 : 0,
    });
    for (let step = 0; step < sim.options.steps; step++) sim.step(false);
    const live = sim.liveness(400);
    if (!live)
      assert.unreachable(
        `seed ${seed}: nothing committed within 400 steps after healing (replay with BROOK_RAFT_SEED=${seed})`,
      );
    commits += sim.committed.size;
    installs += sim.snapshotsInstalled;
    changes += sim.membershipChanges;
    storageErrors += sim.storageErrors;
  }
  process.stdout.write(
    `raft simulation: ${SEEDS} seeds from ${FIRST}, ${commits} committed entries checked, ${installs} snapshots installed, ${changes} membership changes, ${storageErrors} storage failures, ${Date.now() - started} ms\n`,
  );
  if (SEEDS >= 100) {
    assert.ok(installs > 0, 'no lagging node ever needed a snapshot: the simulation does not exercise transfer');
    assert.ok(changes > 0, 'no membership change happened');
    assert.ok(storageErrors > 0, 'no storage failure was injected');
  }
});

test.run();
