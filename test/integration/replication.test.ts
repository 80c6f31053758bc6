// Replicated partitions with real processes: three Brook nodes, a topic with replication
// factor 3 and min.insync.replicas 2, an idempotent kafkajs producer with acks=all writing
// without pause and recording every acknowledged offset, a kcat consumer polling all the
// while (a send that fails on a broker error is resent with the same value and sequence;
// one whose connection is in doubt replaces the producer and moves on to a new value).
// The partition leader is killed with SIGKILL (the seconds until produce succeeds again
// are printed), then paused with SIGSTOP while the cluster moves on and resumed with
// SIGCONT. At the end every acknowledged record is readable exactly once at its
// acknowledged offset, no value is stored twice, nothing a consumer saw has changed or gone,
// and the three replicas' segment files are byte-identical.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { Cluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const TOPIC = 'acked';
let cluster: Cluster;
const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
  'broker.session.timeout.ms': '3000',
  'replica.lag.time.max.ms': '2000',
};

const metadata = () => cluster.metadata(TOPIC);

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stuck for ${ms} ms`)), ms);
  });
  return Promise.race([work, stuck]).finally(() => clearTimeout(timer));
}

/** Writes one record at a time with acks=all; records what was acknowledged where. */
class Writer {
  acked = new Map<string, number>();
  failures = 0;
  lastAckAt = Date.now();
  private stopped = false;
  private done: Promise<void> | null = null;
  private next = 0;

  constructor(private producer: Producer) {}

  run(): void {
    this.done = (async () => {
      while (!this.stopped) {
        const value = `m${this.next}`;
        try {
          // A send stuck on a paused broker's open socket is given up on (and the producer
          // replaced): whatever it did is then unacknowledged.
          const [meta] = await withTimeout(
            this.producer.send({ topic: TOPIC, acks: -1, timeout: 5000, messages: [{ value }] }),
            8000,
          );
          this.acked.set(value, Number(meta.baseOffset));
          this.lastAckAt = Date.now();
          this.next++;
        } catch (error) {
          const message = (error as Error).message;
          if (process.env.BROOK_DEBUG) process.stderr.write(`send of ${value} failed: ${message}\n`);
          this.failures++;
          if (/stuck|connect|ECONN|socket|closed/i.test(message)) {
            // The connection is in doubt: replace the producer (a new producer id). Whatever
            // the failed send did stays unacknowledged, and the next value is a new one, since
            // resending it under a new producer id could store it twice.
            this.next++;
            void this.producer.disconnect().catch(() => undefined);
            this.producer = newProducer();
            await withTimeout(this.producer.connect(), 5000).catch(() => undefined);
          }
          // Otherwise the same value is sent again by the same producer: kafkajs keeps its
          // sequence number after a failed send, so the broker answers a resend of a stored
          // batch with the offset it already has, and a different value under that sequence
          // would be taken for the stored one.
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Polls with kcat, remembering every (offset, value) a consumer was shown. */
class Observer {
  seen = new Map<number, string>();
  private stopped = false;
  private done: Promise<void> | null = null;

  constructor(private writer: Writer) {}

  run(): void {
    this.done = (async () => {
      while (!this.stopped) {
        // As many records as have been acknowledged (all below the high watermark): kcat's -e
        // never sees the end of a partition that is written without pause.
        const count = this.writer.acked.size;
        if (count === 0) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const live = cluster.aliveIds().filter((id) => id !== pausedNode);
        const port = cluster.kafkaPorts.get(live[Math.floor(Math.random() * live.length)])!;
        const read = await kcat(
          port,
          [
            '-C',
            '-t',
            TOPIC,
            '-p',
            '0',
            '-o',
            'beginning',
            '-c',
            String(count),
            '-q',
            '-u',
            '-f',
            '%o:%s\n',
            '-m',
            '5',
          ],
          undefined,
          8000,
        ).catch(() => null);
        for (const line of read?.stdout.split('\n') ?? []) {
          const match = /^(\d+):(m\d+)$/.exec(line);
          if (match) this.seen.set(Number(match[1]), match[2]);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

let kafka: Kafka;
let producer: Producer;

/** A paused node accepts TCP connections but never answers: a replacement producer is not
 * bootstrapped from it (kafkajs would wait on it as a seed broker). */
let pausedNode = 0;

function newProducer(): Producer {
  const seeds = cluster.aliveIds().filter((id) => id !== pausedNode);
  const client = new Kafka({
    brokers: cluster.bootstrap(seeds),
    clientId: 'replication-test',
    logLevel: logLevel.NOTHING,
    requestTimeout: 3000,
    connectionTimeout: 1000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  return client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

test.before(async () => {
  cluster = await Cluster.create({ size: 3, config: CONFIG });
  kafka = new Kafka({
    brokers: cluster.bootstrap(),
    clientId: 'replication-test',
    logLevel: logLevel.NOTHING,
    requestTimeout: 3000,
    connectionTimeout: 1000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: TOPIC,
        numPartitions: 1,
        replicationFactor: 3,
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      },
    ],
  });
  await admin.disconnect();
  producer = newProducer();
  await producer.connect();
});

test.after(async () => {
  await producer?.disconnect().catch(() => undefined);
  for (const node of cluster?.list() ?? []) {
    try {
      process.kill(node.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await node.stop();
  }
});

test('acks=all survives kill -9 and SIGSTOP of the leader: every acknowledged record once, at its offset; replicas identical', async () => {
  const initial = await until(
    async () => {
      const m = await metadata();
      return m && m.leader > 0 && m.isr.length === 3 ? m : null;
    },
    { what: 'a leader with a full ISR' },
  );
  const writer = new Writer(producer);
  const observer = new Observer(writer);
  writer.run();
  observer.run();
  let paused = 0;
  try {
    await until(async () => writer.acked.size >= 50, { what: 'some acknowledged records' });

    // 1. kill -9 of the leader.
    const killed = initial.leader;
    const killedAt = Date.now();
    await cluster.kill9(killed);
    const before = writer.acked.size;
    await until(async () => writer.acked.size > before + 5, {
      what: 'produce to succeed again after kill -9',
      timeoutMs: 40000,
    });
    const failover = await until(
      async () => {
        const m = await metadata();
        return m && m.leader > 0 && m.leader !== killed ? m : null;
      },
      { what: 'the new leader in the metadata' },
    );
    process.stdout.write(
      `kill -9 of leader ${killed}: produce succeeded again after ${((writer.lastAckAt - killedAt) / 1000).toFixed(1)} s (leader now ${failover.leader}, epoch ${failover.leaderEpoch}, session timeout 3 s)\n`,
    );
    assert.ok(failover.leaderEpoch > initial.leaderEpoch);
    await cluster.start(killed);
    await until(
      async () => {
        const m = await metadata();
        return m && m.isr.length === 3 ? m : null;
      },
      { what: 'the restarted replica back in the ISR' },
    );

    // 2. SIGSTOP of the leader: it is fenced and replaced; resumed, it must not take acks=all writes.
    paused = (await metadata())!.leader;
    pausedNode = paused;
    process.kill(cluster.node(paused).pid, 'SIGSTOP');
    const beforePause = writer.acked.size;
    const pausedAt = Date.now();
    await until(
      async () => {
        if (process.env.BROOK_DEBUG)
          process.stderr.write(
            `paused ${paused} ${Date.now() - pausedAt} ms: ${JSON.stringify(await metadata())} acked ${writer.acked.size}\n`,
          );
        return writer.acked.size > beforePause + 5;
      },
      { what: 'produce to succeed again with the leader paused', timeoutMs: 40000 },
    ).catch((error) => {
      if (process.env.BROOK_DEBUG)
        for (const [id, node] of cluster.nodes)
          if (id !== paused) process.stderr.write(`--- node ${id}\n${node.logs().split('\n').slice(-25).join('\n')}\n`);
      throw error;
    });
    process.kill(cluster.node(paused).pid, 'SIGCONT');
    pausedNode = 0;
    await until(
      async () => {
        const m = await metadata();
        return m && m.isr.length === 3 && m.leader !== paused ? m : null;
      },
      { what: 'the resumed replica back in the ISR' },
    );
    await until(async () => writer.acked.size > beforePause + 30, { what: 'more records after the resume' });
  } finally {
    await writer.stop();
    await observer.stop();
  }

  // Every acknowledged record exactly once, at its acknowledged offset.
  const all = await kcat(cluster.kafkaPorts.get(paused)!, [
    '-C',
    '-t',
    TOPIC,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%o:%s\n',
  ]);
  const stored = new Map<number, string>();
  const count = new Map<string, number>();
  for (const line of all.stdout.split('\n')) {
    const match = /^(\d+):(m\d+)$/.exec(line);
    if (!match) continue;
    stored.set(Number(match[1]), match[2]);
    count.set(match[2], (count.get(match[2]) ?? 0) + 1);
  }
  let lost = 0;
  let moved = 0;
  for (const [value, offset] of writer.acked) {
    if (!count.has(value)) lost++;
    else if (stored.get(offset) !== value) moved++;
    if (!count.has(value) || stored.get(offset) !== value)
      process.stdout.write(`acknowledged ${value} at ${offset}: stored there ${stored.get(offset) ?? 'nothing'}\n`);
  }
  const duplicates = [...count.values()].filter((n) => n > 1).length;
  let changed = 0;
  for (const [offset, value] of observer.seen) if (stored.get(offset) !== value) changed++;
  process.stdout.write(
    `acknowledged ${writer.acked.size} (send failures retried: ${writer.failures}), stored ${stored.size}, consumer observations ${observer.seen.size}: lost ${lost}, moved ${moved}, duplicates ${duplicates}, seen-then-changed ${changed}\n`,
  );
  assert.is(lost, 0, 'no acknowledged record lost');
  assert.is(moved, 0, 'every acknowledged record at its acknowledged offset');
  assert.is(duplicates, 0, 'no record twice');
  assert.is(changed, 0, 'nothing a consumer saw changed or disappeared');

  // The three replicas converge to byte-identical logs.
  const logBytes = (id: number) => {
    const dir = path.join(cluster.dirs.get(id)!, 'logs', `${TOPIC}-0`);
    return Buffer.concat(
      fs
        .readdirSync(dir)
        .filter((n) => n.endsWith('.log'))
        .sort()
        .map((n) => fs.readFileSync(path.join(dir, n))),
    );
  };
  await until(
    async () => {
      const [a, b, c] = [1, 2, 3].map(logBytes);
      return a.length > 0 && a.equals(b) && a.equals(c);
    },
    { what: 'identical replicas', timeoutMs: 20000 },
  );
});

test.run();
