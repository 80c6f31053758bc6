// The active controller's fast failure detection (brook.broker.disconnect.grace.ms): a
// broker whose heartbeat connection closed and that does not heartbeat on a new one within
// the grace is fenced and loses its leaderships, exactly as on session expiry; one that
// reconnects within the grace keeps everything; a controlled shutdown is not handled twice;
// a controller that is activated again forgets closes seen before; a fenced broker that
// comes back is unfenced by the normal catch-up path; a new controller gives the previous
// one's broker (no connection of which can close here) an interval plus the grace.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecordInput } from '../../protocol/metadata/records';
import { Controller, seededRandom } from '../../src/controller/controller';
import { MetadataImage } from '../../src/controller/metadata-image';

const SESSION_MS = 9000;
const GRACE_MS = 1000;

/** Three unfenced brokers and one topic of three partitions, replicated on all, led by 1, 2, 3. */
/** `graceMs` null: the setting is absent. */
function cluster(graceMs: number | null = GRACE_MS) {
  const image = new MetadataImage();
  let ids = 0;
  const controller = new Controller(
    image,
    {
      brokerSessionTimeoutMs: SESSION_MS,
      defaultPartitions: 1,
      defaultReplicationFactor: 1,
      brokerDisconnectGraceMs: graceMs ?? undefined,
    },
    seededRandom(3),
    () => Buffer.alloc(16, ++ids).toString('base64url'),
  );
  let offset = 0;
  const commit = (records: MetadataRecordInput[]) => {
    for (const record of records) image.apply(decodeMetadataRecord(encodeMetadataRecord(record)), offset++);
  };
  let now = 0;
  const epochs = new Map<number, number>();
  const heartbeat = (id: number, wantShutDown = false) => {
    const d = controller.heartbeat(
      { brokerId: id, brokerEpoch: epochs.get(id)!, currentMetadataOffset: offset, wantFence: false, wantShutDown },
      now,
    );
    commit(d.records);
    return d.result;
  };
  const register = (id: number) => {
    const reg = controller.registerBroker(
      {
        brokerId: id,
        incarnationId: Buffer.alloc(16, id + now).toString('base64url'),
        endPoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + id, securityProtocol: 0 }],
        rack: null,
      },
      now,
    );
    commit(reg.records);
    epochs.set(id, reg.result.brokerEpoch);
  };
  for (let id = 1; id <= 3; id++) {
    register(id);
    heartbeat(id);
  }
  const created = controller.createTopics(
    [
      {
        name: 't',
        partitions: 3,
        replicationFactor: 3,
        configs: {},
        assignments: [
          [1, 2, 3],
          [2, 3, 1],
          [3, 1, 2],
        ],
      },
    ],
    false,
  );
  commit(created.records);
  const partitions = () => [...image.topicsByName.get('t')!.partitions.values()];
  return {
    image,
    controller,
    commit,
    register,
    heartbeat,
    /** Moves the clock; every live broker except `silent` heartbeats; the controller ticks. */
    advance(ms: number, silent: number[] = []) {
      for (let step = 0; step < ms; step += 100) {
        now += 100;
        for (let id = 1; id <= 3; id++)
          if (!silent.includes(id) && image.brokers.get(id)?.fenced === false && step % 1000 === 0) heartbeat(id);
        commit(controller.tick(now));
      }
    },
    now: () => now,
    fenced: (id: number) => image.brokers.get(id)!.fenced,
    leaders: () => partitions().map((p) => p.leader),
    isrs: () => partitions().map((p) => p.isr),
  };
}

test('a closed heartbeat connection: fenced once the grace expires, leaderships moved as on session expiry', () => {
  const c = cluster();
  assert.equal(c.leaders(), [1, 2, 3]);
  c.controller.brokerDisconnected(1, c.now());
  assert.is(c.controller.disconnectDeadline(1), c.now() + GRACE_MS);
  c.advance(GRACE_MS - 100, [1]);
  assert.is(c.fenced(1), false, 'still within the grace');
  assert.equal(c.leaders(), [1, 2, 3]);
  c.advance(100, [1]);
  assert.is(c.fenced(1), true, 'fenced when the grace expires, long before the 9 s session');
  assert.equal(c.leaders(), [2, 2, 3]);
  assert.equal(c.isrs(), [
    [2, 3],
    [2, 3],
    [3, 2],
  ]);
  assert.is(c.controller.disconnectDeadline(1), undefined, 'nothing left pending');
  // The same records session expiry gives: compare with a twin whose broker 1 just went silent.
  const twin = cluster(0);
  twin.advance(SESSION_MS + 1000, [1]);
  assert.is(twin.fenced(1), true);
  assert.equal(twin.leaders(), c.leaders());
  assert.equal(twin.isrs(), c.isrs());
});

test('a broker that heartbeats on a new connection within the grace keeps everything', () => {
  const c = cluster();
  c.controller.brokerDisconnected(2, c.now());
  c.advance(500, [2]);
  c.controller.brokerConnected(2);
  c.heartbeat(2);
  c.advance(5000);
  assert.is(c.fenced(2), false);
  assert.equal(c.leaders(), [1, 2, 3]);
  assert.equal(c.isrs(), [
    [1, 2, 3],
    [2, 3, 1],
    [3, 1, 2],
  ]);
  // A second close starts a fresh grace, not the first one's.
  c.controller.brokerDisconnected(2, c.now());
  c.advance(900, [2]);
  assert.is(c.fenced(2), false);
  c.advance(100, [2]);
  assert.is(c.fenced(2), true);
});

test('heartbeats alone do not cancel the grace: only a live connection does', () => {
  // The broker's process died after its last heartbeat was sent: that heartbeat, decided
  // after the close, must not keep the broker (the port tells the controller of live
  // connections, not the heartbeat decision).
  const c = cluster();
  c.controller.brokerDisconnected(3, c.now());
  c.heartbeat(3);
  c.advance(GRACE_MS, [3]);
  assert.is(c.fenced(3), true);
});

test('a controlled shutdown is not handled twice; a fenced broker that comes back is unfenced normally', () => {
  const c = cluster();
  const answer = c.heartbeat(1, true);
  assert.is(answer.shouldShutDown, true);
  assert.is(c.fenced(1), true);
  const leaders = c.leaders();
  c.controller.brokerDisconnected(1, c.now());
  assert.is(c.controller.disconnectDeadline(1), undefined, 'a fenced broker is not tracked');
  const before = c.image.topicsByName.get('t')!.partitions.get(0)!.partitionEpoch;
  c.advance(3000, [1]);
  assert.equal(c.leaders(), leaders);
  assert.is(c.image.topicsByName.get('t')!.partitions.get(0)!.partitionEpoch, before, 'no further change');
  // It restarts: registers again, catches up, is unfenced.
  c.register(1);
  c.controller.brokerConnected(1);
  assert.is(c.heartbeat(1).isFenced, false);
  c.advance(3000);
  assert.is(c.fenced(1), false);
});

test('a controller activated again forgets the closes it saw before; the grace can be turned off', () => {
  const c = cluster();
  c.controller.brokerDisconnected(1, c.now());
  c.controller.activate(c.now());
  c.advance(3000, [1]);
  assert.is(c.fenced(1), false, 'a close seen under an earlier leadership says nothing');
  for (const off of [0, -1, null]) {
    const d = cluster(off);
    d.controller.brokerDisconnected(1, d.now());
    assert.is(d.controller.disconnectDeadline(1), undefined);
    d.advance(SESSION_MS - 1000, [1]);
    assert.is(d.fenced(1), false, `grace ${off}: only the session timeout fences`);
    d.advance(2000, [1]);
    assert.is(d.fenced(1), true);
  }
});

test('on activation the previous controller must heartbeat within an interval plus the grace, or is fenced', () => {
  const c = cluster();
  c.controller.activate(c.now());
  c.controller.expectReconnect(3, c.now(), 1500);
  assert.is(c.controller.disconnectDeadline(3), c.now() + 1500 + GRACE_MS);
  c.advance(2400, [3]);
  assert.is(c.fenced(3), false);
  c.advance(100, [3]);
  assert.is(c.fenced(3), true, 'its process died with the old controller: fenced long before the session');
  assert.equal(c.leaders(), [1, 2, 1]);
  // Alive, it heartbeats here in time and keeps everything.
  const d = cluster();
  d.controller.activate(d.now());
  d.controller.expectReconnect(3, d.now(), 1500);
  d.advance(1000, [3]);
  d.controller.brokerConnected(3);
  d.heartbeat(3);
  d.advance(5000);
  assert.is(d.fenced(3), false);
  assert.equal(d.leaders(), [1, 2, 3]);
});

test.run();
