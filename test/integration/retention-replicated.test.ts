// Retention on a replicated partition: a follower that was stopped while the leader's
// retention deleted the segments it lacks comes back, finds its log ends before the
// leader's log start, starts over there (instead of asking for offsets that are gone,
// forever), rejoins the ISR, and ends with the same segments as the other replicas.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Admin } from '../../src/client/admin';
import { Producer } from '../../src/client/producer';
import { ProxiedCluster, REPLICATION_CONFIG } from '../helpers/replication-scenario';
import { until } from '../helpers/wait';

const TOPIC = 'kept';
const RECORDS = 300;

function firstSegmentBase(dataDir: string): number {
  const dir = path.join(dataDir, 'logs', `${TOPIC}-0`);
  const bases = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .map((n) => Number(n.slice(0, 20)));
  return Math.min(...bases);
}

test("a follower behind the leader's log start starts over there and rejoins the ISR", async () => {
  const cluster = await ProxiedCluster.start([1, 2, 3], {
    ...REPLICATION_CONFIG,
    'log.retention.check.interval.ms': '200',
  });
  let admin: Admin | null = null;
  let producer: Producer | null = null;
  try {
    await cluster.createTopic(TOPIC, 1);
    const bootstrap = () => cluster.clientPorts().map((port) => `127.0.0.1:${port}`);
    admin = new Admin({ bootstrap: bootstrap() });
    await admin.alterTopicConfigs(TOPIC, { set: { 'segment.bytes': '2048', 'retention.bytes': '8192' } });
    const before = await until(
      async () => {
        const state = await cluster.metadata(TOPIC);
        return state && state.leader > 0 && state.isr.length === 3 ? state : null;
      },
      { what: 'a leader with a full ISR' },
    );
    const away = [1, 2, 3].find((id) => id !== before.leader)!;
    await cluster.stopNode(away);

    producer = new Producer({ bootstrap: bootstrap(), lingerMs: 0, acks: 'all' });
    await producer.connect();
    for (let i = 0; i < RECORDS; i++)
      await producer.send({
        topic: TOPIC,
        partition: 0,
        value: Buffer.from(`record-${String(i).padStart(4, '0')}-${'x'.repeat(80)}`),
      });
    const leaderDir = cluster.dataDirs.get(before.leader)!;
    const leaderStart = await until(
      async () => {
        const base = firstSegmentBase(leaderDir);
        return base > 100 ? base : null;
      },
      { what: "the leader's retention to delete old segments" },
    );

    await cluster.startNode(away);
    await until(
      async () => {
        const state = await cluster.metadata(TOPIC);
        return state && state.isr.includes(away) ? state : null;
      },
      { what: 'the returning follower back in the ISR' },
    );
    assert.match(cluster.logs(away), /starting over there/);
    const awayStart = firstSegmentBase(cluster.dataDirs.get(away)!);
    assert.ok(awayStart >= leaderStart, `follower starts at ${awayStart}, leader at ${leaderStart}`);
    // Retention runs on every replica with the same settings and the same batches, so the
    // replicas end up holding the same segments, byte for byte.
    await until(async () => cluster.replicasIdentical(TOPIC) || null, {
      what: 'identical replicas',
      timeoutMs: 20_000,
    });
  } finally {
    await producer?.close().catch(() => undefined);
    admin?.close();
    await cluster.close();
  }
});

test.run();
