// The Raft core bounds each append to a follower in bytes as well as in entries: a
// follower that fell behind by many large entries is caught up in messages no larger than
// maxBytesPerMessage (plus one entry's worth when a single entry is larger than that on its
// own, which then travels alone), so the append always fits the follower's frame limit.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MAX_APPEND_BYTES, ENTRY_OVERHEAD_BYTES, Message, RaftNode } from '../../src/raft/core';
import { mulberry32 } from './simulation';

const MiB = 1024 * 1024;

class Net {
  nodes = new Map<number, RaftNode>();
  down = new Set<number>();
  /** Every append the leader sent to a node, as (entries, bytes). */
  appendsTo = new Map<number, { entries: number; bytes: number }[]>();

  constructor(ids: number[], maxBytesPerMessage?: number) {
    for (const id of ids) {
      this.nodes.set(
        id,
        new RaftNode({
          id,
          voters: ids,
          electionTimeoutTicks: 10,
          heartbeatTicks: 2,
          random: mulberry32(id * 31),
          maxBytesPerMessage,
        }),
      );
      this.appendsTo.set(id, []);
    }
  }

  settle(): void {
    for (let round = 0; round < 500; round++) {
      const messages: Message[] = [];
      for (const node of this.nodes.values()) {
        const ready = node.ready();
        node.advance(ready);
        messages.push(...ready.messages);
      }
      if (messages.length === 0) return;
      for (const m of messages) {
        if (this.down.has(m.to) || this.down.has(m.from)) continue;
        if (m.type === 'append' && m.entries.length > 0)
          this.appendsTo.get(m.to)!.push({
            entries: m.entries.length,
            bytes: m.entries.reduce((sum, e) => sum + e.data.length + ENTRY_OVERHEAD_BYTES, 0),
          });
        this.nodes.get(m.to)!.step(m);
      }
    }
  }

  tick(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick();
      this.settle();
    }
  }

  leader(): RaftNode {
    this.nodes.get(1)!.campaignNow();
    this.settle();
    const leader = this.nodes.get(1)!;
    assert.is(leader.role, 'leader');
    return leader;
  }
}

test('a follower behind by 30 entries of 600 KB gets them in appends of at most 4 MiB', () => {
  const net = new Net([1, 2, 3]);
  const leader = net.leader();
  net.down.add(3);
  for (let i = 0; i < 30; i++) assert.ok(leader.propose(Buffer.alloc(600_000, i)) > 0);
  net.settle();
  assert.is(leader.commitIndex, leader.lastIndex, 'committed by the other two');
  net.down.delete(3);
  net.tick(20);
  assert.is(net.nodes.get(3)!.lastIndex, leader.lastIndex, 'the follower caught up');
  const appends = net.appendsTo.get(3)!;
  assert.ok(appends.length >= 5, `several appends (${appends.length})`);
  for (const a of appends) {
    assert.ok(a.entries >= 1);
    assert.ok(a.bytes <= DEFAULT_MAX_APPEND_BYTES, `an append of ${a.bytes} bytes (${a.entries} entries)`);
  }
});

test('a bound set lower is kept, and one entry larger than the bound still travels, alone', () => {
  const net = new Net([1, 2, 3], 256 * 1024);
  const leader = net.leader();
  net.down.add(3);
  for (let i = 0; i < 10; i++) leader.propose(Buffer.alloc(100_000, i));
  leader.propose(Buffer.alloc(1 * MiB, 0xee));
  for (let i = 0; i < 10; i++) leader.propose(Buffer.alloc(100_000, i));
  net.settle();
  net.down.delete(3);
  net.tick(40);
  const follower = net.nodes.get(3)!;
  assert.is(follower.lastIndex, leader.lastIndex);
  assert.is(follower.commitIndex, leader.commitIndex);
  const appends = net.appendsTo.get(3)!;
  const big = appends.filter((a) => a.bytes > 256 * 1024);
  assert.ok(big.length >= 1, 'the large entry was sent');
  for (const a of big) assert.is(a.entries, 1, 'an entry over the bound travels alone');
  for (const a of appends) assert.ok(a.entries >= 1);
});

test.run();
