// Moving partition leadership and replicas on a live 3-node cluster, with a kafkajs
// producer (acks=all, idempotent) writing all the while:
// - a clean stop (SIGTERM) of a partition leader is a controlled shutdown: its leaderships
//   move before it closes, and the producer sees no failed send (only retriable errors,
//   which kafkajs retries itself);
// - when it comes back and rejoins the ISR, leadership returns to it (it is the preferred,
//   first replica) through the automatic preferred-leader election;
// - `brook partitions reassign` moves a partition from brokers [1,2] to [3,2] while it is
//   written: the new replica copies the log, the old leader hands over and drops its copy,
//   and every acknowledged record is still there, once, at its offset.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { Cluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
const CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '1',
  'broker.session.timeout.ms': '3000',
  'replica.lag.time.max.ms': '2000',
  'leader.imbalance.check.interval.seconds': '1',
};
let cluster: Cluster;
let kafka: Kafka;

const partitionState = (topic: string) => cluster.metadata(topic);

/** One acks=all send at a time; every failure that reaches the caller is counted. */
class Writer {
  acked = new Map<string, number>();
  failures: string[] = [];
  private stopped = false;
  private done: Promise<void> | null = null;
  private next = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  run(): void {
    this.done = (async () => {
      while (!this.stopped) {
        const value = `${this.topic}-${this.next}`;
        try {
          const [meta] = await this.producer.send({
            topic: this.topic,
            acks: -1,
            timeout: 5000,
            messages: [{ value }],
          });
          this.acked.set(value, Number(meta.baseOffset));
          this.next++;
        } catch (error) {
          // The same value again: kafkajs kept its sequence number, so a stored batch is
          // answered with its offset rather than written twice.
          this.failures.push((error as Error).message);
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

async function verifyAcked(writer: Writer, topic: string, port: number): Promise<void> {
  const all = await kcat(port, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o:%s\n']);
  const stored = new Map<number, string>();
  const count = new Map<string, number>();
  for (const line of all.stdout.split('\n')) {
    const match = /^(\d+):(.+)$/.exec(line);
    if (!match) continue;
    stored.set(Number(match[1]), match[2]);
    count.set(match[2], (count.get(match[2]) ?? 0) + 1);
  }
  const wrong = [...writer.acked].filter(([value, offset]) => stored.get(offset) !== value);
  assert.equal(wrong, [], 'every acknowledged record at its acknowledged offset');
  assert.equal(
    [...count].filter(([, n]) => n > 1),
    [],
    'no record stored twice',
  );
}

function logBytes(id: number, topic: string): Buffer | null {
  const dir = path.join(cluster.dirs.get(id)!, 'logs', `${topic}-0`);
  if (!fs.existsSync(dir)) return null;
  return Buffer.concat(
    fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()
      .map((n) => fs.readFileSync(path.join(dir, n))),
  );
}

function brook(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BROOK, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function newProducer(): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

test.before(async () => {
  cluster = await Cluster.create({ size: 3, config: CONFIG });
  kafka = new Kafka({
    brokers: cluster.bootstrap(),
    clientId: 'partition-management-test',
    logLevel: logLevel.NOTHING,
    requestTimeout: 5000,
    connectionTimeout: 1000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: 'steady',
        replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }],
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      },
      { topic: 'moving', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
    ],
  });
  await admin.disconnect();
});

test.after(async () => {
  await cluster?.stopAll();
});

test('SIGTERM of a leader moves its leadership first (no failed send); back in the ISR, it leads again as the preferred replica', async () => {
  const initial = await until(
    async () => {
      const s = await partitionState('steady');
      return s && s.leader === 1 && s.isr.length === 3 ? s : null;
    },
    { what: 'partition steady led by 1 with a full ISR' },
  );
  assert.equal(initial.replicas, [1, 2, 3]);
  const producer = newProducer();
  await producer.connect();
  const writer = new Writer(producer, 'steady');
  writer.run();
  try {
    await until(async () => writer.acked.size >= 30, { what: 'some acknowledged records' });
    const stoppedAt = Date.now();
    const code = await cluster.stop(1, 'SIGTERM');
    const stopMs = Date.now() - stoppedAt;
    assert.is(code, 0, 'clean exit');
    assert.match(cluster.node(1).logs(), /controlled shutdown: leaderships moved/);
    // The controller moved the leadership before the process exited; the other brokers
    // learn it from the metadata log a moment later (longer on a loaded machine).
    let seen: Awaited<ReturnType<typeof partitionState>> = null;
    const moved = await until(
      async () => {
        seen = await partitionState('steady');
        return seen && seen.leader !== 1 && seen.leader > 0 && !seen.isr.includes(1) ? seen : null;
      },
      { what: () => `the leadership moved away from 1 (last seen ${JSON.stringify(seen)})`, timeoutMs: 10000 },
    );
    const before = writer.acked.size;
    await until(async () => writer.acked.size > before + 20, { what: 'produce to go on at the new leader' });
    process.stdout.write(
      `controlled shutdown of leader 1 took ${stopMs} ms; leader now ${moved!.leader}; failed sends: ${writer.failures.length}\n`,
    );
    assert.equal(writer.failures, [], 'no send failed through the controlled shutdown');

    // Back: it rejoins the ISR, then leadership returns to it within a few check intervals.
    await cluster.start(1);
    const back = await until(
      async () => {
        const s = await partitionState('steady');
        return s && s.leader === 1 && s.isr.length === 3 ? s : null;
      },
      { what: 'the preferred replica leading again', timeoutMs: 40000 },
    );
    assert.equal(back.replicas, [1, 2, 3]);
    const afterReturn = writer.acked.size;
    await until(async () => writer.acked.size > afterReturn + 20, { what: 'produce to go on at the preferred leader' });
    assert.equal(writer.failures, [], 'no send failed through the preferred-leader election');
  } finally {
    await writer.stop();
    await producer.disconnect();
  }
  await verifyAcked(writer, 'steady', cluster.kafkaPorts.get(2)!);
});

test('brook partitions reassign moves a written partition from [1,2] to [3,2]; the old copy is dropped, nothing acknowledged is lost', async () => {
  const bootstrap = cluster.bootstrap([2])[0];
  // Wrong arguments get a clear message and exit code 2; an unknown broker is refused by the controller.
  const wrongType = brook([
    'partitions',
    'reassign',
    '--bootstrap',
    bootstrap,
    '--topic',
    'moving',
    '--partition',
    '0',
    '--replicas',
    '3,x',
  ]);
  assert.is(wrongType.code, 2);
  assert.match(wrongType.stderr, /--replicas: "x" is not a broker id/);
  const unknown = brook([
    'partitions',
    'reassign',
    '--bootstrap',
    bootstrap,
    '--topic',
    'moving',
    '--partition',
    '0',
    '--replicas',
    '3,9',
  ]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /INVALID_REPLICA_ASSIGNMENT/);
  const none = brook([
    'partitions',
    'reassign',
    '--bootstrap',
    bootstrap,
    '--topic',
    'moving',
    '--partition',
    '0',
    '--cancel',
  ]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /NO_REASSIGNMENT_IN_PROGRESS/);

  await until(
    async () => {
      const s = await partitionState('moving');
      return s && s.leader === 1 && s.isr.length === 2 ? s : null;
    },
    { what: 'partition moving led by 1' },
  );
  const producer = newProducer();
  await producer.connect();
  const writer = new Writer(producer, 'moving');
  writer.run();
  let failures: string[] = [];
  try {
    await until(async () => writer.acked.size >= 200, { what: 'some acknowledged records' });
    assert.ok(logBytes(3, 'moving') === null, 'broker 3 holds no copy before the move');
    const moved = brook([
      'partitions',
      'reassign',
      '--bootstrap',
      bootstrap,
      '--topic',
      'moving',
      '--partition',
      '0',
      '--replicas',
      '3,2',
    ]);
    assert.is(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /accepted/);
    const done = await until(
      async () => {
        const s = await partitionState('moving');
        const listed = brook(['partitions', 'list-reassignments', '--bootstrap', bootstrap, '--json']);
        return s && s.replicas.join() === '3,2' && listed.code === 0 && JSON.parse(listed.stdout).length === 0
          ? s
          : null;
      },
      { what: 'the reassignment to complete', timeoutMs: 40000 },
    );
    assert.is(done.leader, 3, 'the first new replica in the ISR leads');
    const before = writer.acked.size;
    await until(async () => writer.acked.size > before + 20, { what: 'produce to go on after the move' });
  } finally {
    await writer.stop();
    await producer.disconnect();
    failures = writer.failures;
  }
  process.stdout.write(
    `reassignment under load: ${writer.acked.size} acknowledged, failed sends: ${failures.length}\n`,
  );
  await until(async () => logBytes(1, 'moving') === null, { what: 'broker 1 to drop its copy', timeoutMs: 10000 });
  await verifyAcked(writer, 'moving', cluster.kafkaPorts.get(3)!);
  await until(
    async () => {
      const [a, b] = [logBytes(2, 'moving'), logBytes(3, 'moving')];
      return a !== null && b !== null && a.length > 0 && a.equals(b);
    },
    { what: 'the two replicas to hold identical logs', timeoutMs: 20000 },
  );
});

test.run();
