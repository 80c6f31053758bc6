// Bounded metadata entries: a decision whose records encode larger than the entry bound is
// written as an atomic group of part entries, each within the bound; appliers hand out a
// group's records only with its last part, drop a group cut short by a change of leader
// (every node alike, as they all apply the same committed log), and are never snapshotted
// inside a group. A single record larger than an entry is refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetadataRecordInput } from '../../protocol/metadata/records';
import {
  DecisionTooLargeError,
  decodeMetadataEntries,
  decodeMetadataPart,
  encodeDecision,
  ENTRY_METADATA_PART,
  GroupAssembler,
} from '../../src/controller/quorum';
import { Entry, Message, RaftNode } from '../../src/raft/core';
import { ENTRY_MEMBERSHIP } from '../../src/raft/membership';
import { mulberry32 } from '../raft/simulation';

const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** The records of a CreateTopics of `partitions` partitions at replication factor `rf`. */
function createTopicRecords(partitions: number, rf: number): MetadataRecordInput[] {
  const replicas = Array.from({ length: rf }, (_, i) => i + 1);
  const records: MetadataRecordInput[] = [{ type: 'Topic', data: { name: 'big', topicId: TOPIC_ID } }];
  for (let p = 0; p < partitions; p++)
    records.push({
      type: 'Partition',
      data: {
        partitionId: p,
        topicId: TOPIC_ID,
        replicas,
        isr: replicas,
        removingReplicas: [],
        addingReplicas: [],
        leader: 1,
        leaderEpoch: 0,
        partitionEpoch: 0,
      },
    });
  return records;
}

/** Entries at consecutive indexes of `term` from `first`. */
function asEntries(encoded: { data: Buffer; kind: number }[], first: number, term: number): Entry[] {
  return encoded.map((e, i) => ({ index: first + i, term, data: e.data, kind: e.kind === 0 ? undefined : e.kind }));
}

test('a decision that fits is one ordinary entry, as before', () => {
  const records = createTopicRecords(10, 3);
  const encoded = encodeDecision(records, 1024 * 1024);
  assert.is(encoded.length, 1);
  assert.is(encoded[0].kind, 0);
  assert.is(decodeMetadataEntries(encoded[0].data).length, records.length);
});

test('a larger decision is split into parts within the bound that reassemble in order', () => {
  const records = createTopicRecords(10_000, 3);
  const bound = 64 * 1024;
  const encoded = encodeDecision(records, bound);
  assert.ok(encoded.length > 5, `${encoded.length} parts`);
  for (const [i, e] of encoded.entries()) {
    assert.is(e.kind, ENTRY_METADATA_PART);
    assert.ok(e.data.length <= bound, `part ${i} has ${e.data.length} bytes`);
    const part = decodeMetadataPart(e.data);
    assert.is(part.part, i);
    assert.is(part.parts, encoded.length);
  }
  const groups = new GroupAssembler();
  const out = asEntries(encoded, 10, 2).map((entry) => groups.accept(entry));
  for (const step of out.slice(0, -1)) assert.is(step.records, null, 'nothing before the last part');
  const all = out[out.length - 1].records!;
  assert.is(all.length, records.length);
  assert.equal(
    all.map((r) => (r.type === 'Partition' ? r.data.partitionId : -1)),
    records.map((r) => (r.type === 'Partition' ? r.data.partitionId : -1)),
  );
  assert.not.ok(groups.inGroup);
});

test('a group cut short by the next leader (its no-op, a membership entry) is dropped, never applied', () => {
  const encoded = encodeDecision(createTopicRecords(3000, 3), 32 * 1024);
  assert.ok(encoded.length >= 4);
  for (const next of [
    { index: 12, term: 3, data: Buffer.alloc(0) },
    { index: 12, term: 3, data: Buffer.alloc(8), kind: ENTRY_MEMBERSHIP },
  ]) {
    const groups = new GroupAssembler();
    const parts = asEntries(encoded, 10, 2).slice(0, 2);
    for (const part of parts) assert.is(groups.accept(part).records, null);
    assert.ok(groups.inGroup, 'no snapshot while a group is open');
    const step = groups.accept(next);
    assert.ok(step.dropped > 0, 'the partial group is dropped');
    assert.equal(step.records, []);
    assert.not.ok(groups.inGroup);
    // The rest of the old group, should it ever follow, is passed over.
    for (const rest of asEntries(encoded, 13, 2).slice(2)) assert.is(groups.accept(rest).records, null);
    assert.not.ok(groups.inGroup);
  }
});

test('parts out of place: another term, a gap, or a new first part restart or drop the group', () => {
  const encoded = encodeDecision(createTopicRecords(3000, 3), 32 * 1024);
  const entries = asEntries(encoded, 10, 2);
  // Another term at the next index: not the same group.
  let groups = new GroupAssembler();
  groups.accept(entries[0]);
  assert.ok(groups.accept({ ...entries[1], term: 3 }).dropped > 0);
  assert.not.ok(groups.inGroup);
  // A gap in the indexes.
  groups = new GroupAssembler();
  groups.accept(entries[0]);
  assert.ok(groups.accept({ ...entries[1], index: entries[1].index + 1 }).dropped > 0);
  // A new first part: the old group is dropped, the new one proceeds and completes.
  groups = new GroupAssembler();
  groups.accept(entries[0]);
  const restarted = asEntries(encoded, 11, 3);
  assert.ok(groups.accept(restarted[0]).dropped > 0);
  let last = null;
  for (const entry of restarted.slice(1)) last = groups.accept(entry).records;
  assert.ok(last && last.length === 3001);
});

test('a single record larger than an entry refuses the decision', () => {
  const records: MetadataRecordInput[] = [
    { type: 'Topic', data: { name: 't', topicId: TOPIC_ID } },
    { type: 'Config', data: { resourceType: 2, resourceName: 't', name: 'retention.ms', value: '0'.repeat(70_000) } },
  ];
  assert.throws(
    () => encodeDecision(records, 64 * 1024),
    (e: Error) => e instanceof DecisionTooLargeError,
  );
});

test('malformed part headers are refused', () => {
  const bad = (part: number, parts: number) => Buffer.from([part, parts, 0]);
  assert.throws(() => decodeMetadataPart(bad(0, 1)));
  assert.throws(() => decodeMetadataPart(bad(3, 3)));
  assert.throws(() => decodeMetadataPart(Buffer.from([0, 2, 5])));
});

test('Raft and the applier together: a leader lost after sending one part leaves nothing applied anywhere', () => {
  const encoded = encodeDecision(createTopicRecords(3000, 3), 32 * 1024);
  assert.ok(encoded.length >= 3);
  const ids = [1, 2, 3];
  const nodes = new Map<number, RaftNode>();
  const groups = new Map<number, GroupAssembler>();
  const applied = new Map<number, { partitions: number; dropped: number }>();
  for (const id of ids) {
    nodes.set(
      id,
      new RaftNode({
        id,
        voters: ids,
        electionTimeoutTicks: 10,
        heartbeatTicks: 2,
        random: mulberry32(id * 17),
        // One part per append, so a follower can hold the first part alone.
        maxBytesPerMessage: 40 * 1024,
      }),
    );
    groups.set(id, new GroupAssembler());
    applied.set(id, { partitions: 0, dropped: 0 });
  }
  let up = new Set(ids);
  /** Delivers messages between running nodes until quiet; at most `rounds` rounds. */
  const settle = (rounds = 200) => {
    for (let round = 0; round < rounds; round++) {
      const messages: Message[] = [];
      for (const [id, node] of nodes) {
        if (!up.has(id)) continue;
        const ready = node.ready();
        node.advance(ready);
        messages.push(...ready.messages);
        for (const entry of ready.committed) {
          const step = groups.get(id)!.accept(entry);
          const a = applied.get(id)!;
          a.dropped += step.dropped;
          a.partitions += (step.records ?? []).filter((r) => r.type === 'Partition').length;
        }
      }
      if (messages.length === 0) return;
      for (const m of messages) if (up.has(m.to) && up.has(m.from)) nodes.get(m.to)!.step(m);
    }
  };
  const tick = (times: number) => {
    for (let i = 0; i < times; i++) {
      for (const id of up) nodes.get(id)!.tick();
      settle();
    }
  };
  nodes.get(1)!.campaignNow();
  settle();
  assert.is(nodes.get(1)!.role, 'leader');
  // Node 3 is down; the leader proposes the group and node 2 gets only the first part.
  up = new Set([1, 2]);
  const leader = nodes.get(1)!;
  const first = leader.lastIndex + 1;
  for (const e of encoded) assert.ok(leader.propose(e.data, e.kind) > 0);
  settle(1);
  assert.is(nodes.get(2)!.lastIndex, first, 'node 2 holds the first part only');
  // The leader is lost; node 2 (the longest log) leads with node 3, and its no-op commits
  // the lone first part behind it.
  up = new Set([2, 3]);
  tick(60);
  assert.is(nodes.get(2)!.role, 'leader');
  assert.ok(nodes.get(2)!.commitIndex > first);
  // The old leader returns: its other parts are cut from its log, and it applies the same.
  up = new Set(ids);
  tick(20);
  for (const id of ids) {
    assert.is(nodes.get(id)!.commitIndex, nodes.get(2)!.commitIndex);
    assert.is(applied.get(id)!.partitions, 0, `node ${id} applied no part of the group`);
    assert.ok(applied.get(id)!.dropped > 0, `node ${id} dropped the partial group`);
    assert.not.ok(groups.get(id)!.inGroup);
  }
  // The next group, whole, is applied everywhere.
  const next = nodes.get(2)!;
  for (const e of encoded) assert.ok(next.propose(e.data, e.kind) > 0);
  tick(20);
  for (const id of ids) assert.is(applied.get(id)!.partitions, 3000, `node ${id} applied the whole group`);
});

test.run();
