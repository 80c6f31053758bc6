// A network partition of the partition leader, with real processes: three Brook nodes that
// reach each other only through a FaultProxy, a topic with replication factor 3 and
// min.insync.replicas 2, an idempotent kafkajs acks=all writer and a kcat observer that
// reach every node (the isolated one too: the hard case is a producer still talking to the
// old leader). The leader is cut off from the other two nodes; the seconds until produce
// succeeds again at a new leader are printed; the old leader must acknowledge nothing more
// (its high watermark stays where it was); after the heal the ISR is whole again, every
// acknowledged record is stored once at its acknowledged offset, nothing a consumer saw
// changed, and the replicas' segment files are byte-identical. The proxy itself is tested
// first against an echo server.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FaultProxy, initiatorOf } from '../helpers/fault-proxy';
import {
  delay,
  describe,
  highWatermark,
  Observer,
  ProxiedCluster,
  verify,
  Writer,
} from '../helpers/replication-scenario';
import { until } from '../helpers/wait';

const TOPIC = 'partitioned';

/** A Kafka request header frame (ApiVersions v0) with this client id (null: length -1). */
function frame(clientId: string | null): Buffer {
  const id = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId);
  const body = Buffer.alloc(10 + id.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(clientId === null ? -1 : id.length, 8);
  id.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** A socket to the proxy that counts what comes back from the echo server behind it. */
class Peer {
  received = 0;
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => (this.received += chunk.length));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }

  /** Sends `bytes`; true when they are echoed within `timeoutMs`. */
  async echoes(bytes: Buffer, timeoutMs = 1000): Promise<boolean> {
    const want = this.received + bytes.length;
    this.socket.write(bytes);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.received >= want) return true;
      await delay(10);
    }
    return false;
  }
}

test('fault proxy: tells nodes from clients by the first header; isolate cuts node-to-node links only; heal closes the cut ones', async () => {
  assert.is(initiatorOf(frame('replica-2')), 2);
  assert.is(initiatorOf(frame('raft-13')), 13);
  assert.is(initiatorOf(frame('rdkafka')), 'client');
  assert.is(initiatorOf(frame(null)), 'client');
  assert.is(initiatorOf(frame('broker-3').subarray(0, 16)), null, 'an incomplete header waits for more');

  const echo = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const proxy = new FaultProxy();
  const peers: Peer[] = [];
  const peer = (port: number) => {
    const p = new Peer(port);
    peers.push(p);
    return p;
  };
  try {
    const port = await proxy.listen(1, 'kafka', (echo.address() as net.AddressInfo).port);
    const follower = peer(port);
    const client = peer(port);
    assert.ok(await follower.echoes(frame('replica-2')), 'node 2 reaches node 1');
    assert.ok(await client.echoes(frame('rdkafka')), 'a client reaches node 1');

    proxy.isolate(1);
    assert.not.ok(await follower.echoes(Buffer.from('more'), 300), 'an open node-to-node link carries nothing');
    assert.not.ok(follower.closed, 'and stays open');
    assert.ok(await client.echoes(Buffer.from('more')), 'a client link still carries bytes');
    const raft = peer(port);
    assert.not.ok(await raft.echoes(frame('raft-3'), 300), 'a new node-to-node link is accepted and cut');
    assert.ok(await peer(port).echoes(frame('kafkajs')), 'a new client link works');
    assert.ok(await peer(port).echoes(frame('forward-1')), 'a node talking to itself is not cut');
    const cut = proxy
      .connections()
      .filter((l) => l.blackholed)
      .map((l) => l.from)
      .sort();
    assert.equal(cut, [2, 3]);

    proxy.heal();
    await until(async () => follower.closed && raft.closed, { what: 'the cut links closed', timeoutMs: 2000 });
    assert.not.ok(client.closed, 'client links survive the heal');
    const again = peer(port);
    assert.ok(await again.echoes(frame('replica-2')), 'node 2 reaches node 1 after the heal');

    proxy.isolate(2);
    assert.not.ok(await again.echoes(Buffer.from('x'), 300), 'isolating the initiator cuts its links too');
    assert.ok(await peer(port).echoes(frame('replica-3')), 'node 3 still reaches node 1');
    proxy.heal();
  } finally {
    for (const p of peers) p.socket.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  }
});

let cluster: ProxiedCluster | null = null;

test.after(async () => {
  await cluster?.close();
});

/** Keeps the nodes' output where a failed run can be read afterwards. */
function saveEvidence(c: ProxiedCluster, lines: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-partition-evidence-'));
  for (const id of c.ids) fs.writeFileSync(path.join(dir, `node-${id}.log`), c.logs(id));
  fs.writeFileSync(path.join(dir, 'scenario.txt'), lines.join('\n') + '\n');
  return dir;
}

test('network partition of the leader: a new leader takes acks=all writes, the isolated one acknowledges nothing more; after the heal the ISR is whole and the replicas identical', async () => {
  const c = (cluster = await ProxiedCluster.start());
  await c.createTopic(TOPIC);
  const initial = await until(
    async () => {
      const m = await c.metadata(TOPIC);
      return m && m.leader > 0 && m.isr.length === 3 ? m : null;
    },
    { what: 'a leader with a full ISR' },
  );
  // Every node is a seed: a replacement producer may well ask the isolated node first.
  const writer = new Writer({ topic: TOPIC, newProducer: () => c.newProducer() });
  await writer.connect();
  const observer = new Observer({ topic: TOPIC, committed: () => writer.acked.size, ports: () => c.clientPorts() });
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(`${new Date().toISOString()} ${line}`);
    if (process.env.BROOK_DEBUG) process.stderr.write(`${line}\n`);
  };
  writer.run();
  observer.run();
  let old = initial.leader;
  try {
    await until(async () => writer.acked.size >= 50, { what: 'some acknowledged records' });
    const before = (await c.metadata(TOPIC))!;
    old = before.leader;
    const others = c.ids.filter((id) => id !== old);
    const oldPort = c.kafkaProxyPorts.get(old)!;
    const isolatedAt = Date.now();
    c.proxy.isolate(old);
    note(
      `isolated node ${old} (partition leader, epoch ${before.leaderEpoch}; active controller ${before.controller}) with ${writer.acked.size} acknowledged`,
    );

    const failover = await until(
      async () => {
        const m = await c.metadata(TOPIC, others);
        return m && m.leader > 0 && m.leader !== old && m.leaderEpoch > before.leaderEpoch ? m : null;
      },
      { what: 'a new leader on the majority side', timeoutMs: 30000 },
    );
    const electedAt = Date.now();
    note(
      `majority side: leader ${failover.leader}, epoch ${failover.leaderEpoch}, ISR ${failover.isr}, controller ${failover.controller} after ${Date.now() - isolatedAt} ms`,
    );
    // Nothing reaches the old leader's followers any more, so its high watermark is final
    // by now (it can only have moved on fetches that arrived before the cut).
    const frozen = await highWatermark(oldPort, TOPIC);
    assert.ok(frozen !== null, 'the isolated leader still answers clients');
    // What a client still talking to the isolated node is told (stale: it cannot learn more).
    const stale = await c.metadata(TOPIC, [old]);
    note(
      `isolated node ${old}: high watermark ${frozen}; it names leader ${stale?.leader} (epoch ${stale?.leaderEpoch}), controller ${stale?.controller}`,
    );
    // Acknowledgements at or past the old leader's final high watermark come from the new leader.
    await until(async () => writer.acks.filter((a) => a.atMs >= isolatedAt && a.offset >= frozen!).length >= 5, {
      what: 'produce to succeed again at the new leader',
      timeoutMs: 40000,
    });
    const resumedAt = writer.firstAckAfter(isolatedAt, frozen!)!;
    process.stdout.write(
      `isolation of leader ${old}: leader ${failover.leader} in the majority's metadata after ${((electedAt - isolatedAt) / 1000).toFixed(1)} s, produce succeeded again there after ${((resumedAt - isolatedAt) / 1000).toFixed(1)} s (epoch ${before.leaderEpoch} -> ${failover.leaderEpoch}, controller ${before.controller} -> ${failover.controller}, session timeout 3 s; producers replaced ${writer.producersReplaced}, failed sends ${writer.failures}; the isolated node still names leader ${stale?.leader}, controller ${stale?.controller})\n`,
    );

    // The cut-off leader keeps its clients a while longer: it must not acknowledge anything.
    const partitioned = writer.acked.size;
    await until(async () => writer.acked.size >= partitioned + 20, {
      what: 'more acknowledged records during the partition',
      timeoutMs: 20000,
    });
    const stillFrozen = await highWatermark(oldPort, TOPIC);
    note(`isolated node ${old} before the heal: high watermark ${stillFrozen}`);
    assert.is(stillFrozen, frozen, 'the isolated old leader committed nothing after it was cut off');

    c.proxy.heal();
    const healedAt = Date.now();
    const whole = await until(
      async () => {
        const m = await c.metadata(TOPIC, others);
        return m && m.isr.length === 3 ? m : null;
      },
      { what: 'the ISR whole again after the heal', timeoutMs: 30000 },
    );
    note(`healed: ISR ${whole.isr} (leader ${whole.leader}) after ${Date.now() - healedAt} ms`);
    process.stdout.write(`heal: node ${old} back in the ISR after ${((Date.now() - healedAt) / 1000).toFixed(1)} s\n`);
    const healed = writer.acked.size;
    await until(async () => writer.acked.size >= healed + 20, {
      what: 'more records after the heal',
      timeoutMs: 20000,
    });
  } catch (error) {
    process.stdout.write(`evidence kept in ${saveEvidence(c, notes)}\n`);
    throw error;
  } finally {
    await writer.stop();
    await observer.stop();
  }

  const result = await verify(c.kafkaProxyPorts.get(c.ids.find((id) => id !== old)!)!, TOPIC, writer, observer);
  process.stdout.write(`${describe(result)} (send failures retried: ${writer.failures})\n`);
  for (const line of result.problems.slice(0, 20)) process.stdout.write(`  ${line}\n`);
  if (result.problems.length > 0)
    process.stdout.write(`evidence kept in ${saveEvidence(c, [...notes, ...result.problems])}\n`);
  assert.is(result.lost, 0, 'no acknowledged record lost');
  assert.is(result.moved, 0, 'every acknowledged record at its acknowledged offset');
  assert.is(result.duplicates, 0, 'no record twice');
  assert.is(result.changed, 0, 'nothing a consumer saw changed or disappeared');

  await until(async () => c.replicasIdentical(TOPIC), { what: 'identical replicas', timeoutMs: 20000 }).catch(
    (error) => {
      process.stdout.write(`evidence kept in ${saveEvidence(c, notes)}\n`);
      throw error;
    },
  );
});

test.run();
