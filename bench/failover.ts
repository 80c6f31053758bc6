// Failover with real processes: three Brook nodes on 127.0.0.1 with default settings.
// Quorum part: the controller (quorum) leader is killed with SIGKILL, and the bench times
// how long until a survivor reports a new leader with a higher term, and how long until a
// topic can be created again. It also measures end-to-end topic creation latency through a
// broker that is not the quorum leader (so every CreateTopics is forwarded).
// Partition part: one partition with replication factor 3 and min.insync.replicas 2, one
// acks=all producer sending one record at a time to the leader Metadata names; the
// partition leader is killed with SIGKILL and the bench times kill to the first
// acknowledgement by the new leader (the killed broker is then restarted and waited for
// in the ISR). Runs where the killed broker also led the quorum are reported apart.
// Usage: node dist/bench/failover.js [--quick] [--quorum-only | --partition-only]
//        [--set KEY=VALUE ...]   (broker settings, e.g. brook.broker.disconnect.grace.ms=-1)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiKey } from '../protocol/api-keys';
import { errorName } from '../protocol/errors';
import { encodeRecordBatchSync } from '../protocol/record-batch';
import { KafkaConnection } from '../src/net/kafka-connection';
import { connectController } from '../src/raft/handshake';
import { BrokerCluster, BrokerNode } from './lib/cluster';
import { environment, uncommittedChanges, writeResult } from './lib/env';
import { LatencySummary, newHistogram, summarise } from './lib/load';
import { killAllOnExit, sleep, stopAll } from './lib/process';

const quick = process.argv.includes('--quick');
const quorumOnly = process.argv.includes('--quorum-only');
const partitionOnly = process.argv.includes('--partition-only');
/** Broker settings given with --set KEY=VALUE. */
const overrides: Record<string, string> = {};
process.argv.forEach((arg, i) => {
  if (arg !== '--set') return;
  const [key, ...value] = (process.argv[i + 1] ?? '').split('=');
  if (!key || value.length === 0) throw new Error('--set takes KEY=VALUE');
  overrides[key] = value.join('=');
});
const RUNS = quick ? 2 : 20;
const CREATIONS = quick ? 20 : 200;
const WARMUP_CREATIONS = 5;
const POLL_MS = 20;
const READY_DEADLINE_MS = 40_000;
const STABLE_DEADLINE_MS = 30_000;
const ELECTION_DEADLINE_MS = 15_000;
const CREATE_DEADLINE_MS = 30_000;
const CREATE_TIMEOUT_MS = 10_000;

interface QuorumView {
  errorCode: number;
  leaderId: number;
  term: number;
  commitIndex: bigint | number;
  voters: { nodeId: number; matchIndex: bigint | number }[];
}

type Node = BrokerNode;
type Which = 'quorumConnection' | 'adminConnection';

/** Lazily (re)connected clients per node: one to the controller port, one to the Kafka port. */
const connections = new Map<string, KafkaConnection>();

/** The cluster's controller-port secret (the controller port answers only after the handshake). */
let clusterSecret: Buffer | null = null;

async function connected(node: Node, which: Which): Promise<KafkaConnection> {
  const existing = connections.get(`${node.id} ${which}`);
  if (existing) return existing;
  const port = which === 'quorumConnection' ? node.controllerPort : node.port;
  const requestTimeoutMs = which === 'quorumConnection' ? 1000 : CREATE_TIMEOUT_MS + 5000;
  const options = { host: '127.0.0.1', port, requestTimeoutMs, connectTimeoutMs: 1000, clientId: 'bench-failover' };
  let connection: KafkaConnection;
  if (which === 'quorumConnection')
    connection = await connectController(options, clusterSecret && { secret: clusterSecret, nodeId: -1 }, {
      clusterId: null,
      nodeId: node.id,
    });
  else {
    connection = new KafkaConnection(options);
    await connection.connect();
  }
  connections.set(`${node.id} ${which}`, connection);
  return connection;
}

function drop(node: Node, which: Which): void {
  connections.get(`${node.id} ${which}`)?.close();
  connections.delete(`${node.id} ${which}`);
}

/** RaftDescribeQuorum on the node's controller port; null when it does not answer. */
async function describeQuorum(node: Node): Promise<QuorumView | null> {
  try {
    const view = await (await connected(node, 'quorumConnection')).request(ApiKey.RaftDescribeQuorum, 0, {});
    return view.errorCode === 0 ? view : null;
  } catch {
    drop(node, 'quorumConnection');
    return null;
  }
}

/** CreateTopics v4 of one single-partition topic; the error code, or -1 if the request failed. */
async function createTopic(node: Node, name: string): Promise<number> {
  try {
    const connection = await connected(node, 'adminConnection');
    const response = await connection.request(19, 4, {
      topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: CREATE_TIMEOUT_MS,
      validateOnly: false,
    });
    return response.topics[0].errorCode;
  } catch {
    drop(node, 'adminConnection');
    return -1;
  }
}

/**
 * Waits until every node agrees on one leader and term, and the leader reports every
 * voter caught up to its commit index: the state each failover run starts from.
 */
async function waitStable(nodes: Node[]): Promise<{ leaderId: number; term: number }> {
  const deadline = Date.now() + STABLE_DEADLINE_MS;
  while (Date.now() < deadline) {
    const views = await Promise.all(nodes.map(describeQuorum));
    const first = views[0];
    if (
      first &&
      first.leaderId > 0 &&
      views.every((v) => v && v.leaderId === first.leaderId && v.term === first.term)
    ) {
      const leaderView = views[first.leaderId - 1]!;
      const commitIndex = BigInt(leaderView.commitIndex);
      const caughtUp = nodes.every((n) =>
        leaderView.voters.some((v) => v.nodeId === n.id && BigInt(v.matchIndex) >= commitIndex),
      );
      if (caughtUp) return { leaderId: first.leaderId, term: first.term };
    }
    await sleep(50);
  }
  throw new Error(`the quorum did not settle within ${STABLE_DEADLINE_MS} ms`);
}

interface RunResult {
  run: number;
  killedLeader: number;
  newLeader: number;
  termBefore: number;
  termAfter: number;
  electionMs: number;
  createAfterKillMs: number;
  createAttempts: number;
  /** Error codes answered before the first success (-1: the request itself failed). */
  createErrors: Record<string, number>;
  /** Restart to the Kafka listener answering ApiVersions. */
  readyMs: number;
  /** Restart to the node following the leader and caught up to its commit index. */
  rejoinMs: number;
}

async function failoverRun(run: number, nodes: Node[]): Promise<RunResult> {
  const before = await waitStable(nodes);
  const victim = nodes[before.leaderId - 1];
  const survivors = nodes.filter((n) => n !== victim);
  drop(victim, 'quorumConnection');
  drop(victim, 'adminConnection');
  const killedAt = performance.now();
  victim.kill();

  // Election: a survivor reports another leader in a higher term.
  let newLeader = -1;
  let termAfter = -1;
  let electedAt = 0;
  while (newLeader < 0) {
    if (performance.now() - killedAt > ELECTION_DEADLINE_MS)
      throw new Error(`run ${run}: no new leader within ${ELECTION_DEADLINE_MS} ms`);
    await Promise.all(
      survivors.map(async (node) => {
        const view = await describeQuorum(node);
        if (newLeader < 0 && view && view.leaderId > 0 && view.leaderId !== victim.id && view.term > before.term) {
          electedAt = performance.now();
          newLeader = view.leaderId;
          termAfter = view.term;
        }
      }),
    );
    if (newLeader < 0) await sleep(POLL_MS);
  }

  // Topic creation through the survivor that does not lead, so the request is forwarded.
  const via = survivors.find((n) => n.id !== newLeader)!;
  const createErrors: Record<string, number> = {};
  let attempts = 0;
  for (;;) {
    if (performance.now() - killedAt > CREATE_DEADLINE_MS)
      throw new Error(`run ${run}: topic creation did not succeed within ${CREATE_DEADLINE_MS} ms`);
    attempts++;
    const code = await createTopic(via, `failover-${run}-${attempts}`);
    if (code === 0) break;
    createErrors[code] = (createErrors[code] ?? 0) + 1;
    await sleep(POLL_MS);
  }
  const createdAt = performance.now();

  // Restart the killed node on the same ports and data and wait until it follows again.
  await victim.exited;
  const restartedAt = performance.now();
  victim.start();
  await victim.waitReady();
  const readyAt = performance.now();
  const after = await waitStable(nodes);
  if (after.leaderId !== newLeader)
    process.stdout.write(`run ${run}: leadership moved again during the rejoin (${newLeader} -> ${after.leaderId})\n`);
  return {
    run,
    killedLeader: victim.id,
    newLeader,
    termBefore: before.term,
    termAfter,
    electionMs: electedAt - killedAt,
    createAfterKillMs: createdAt - killedAt,
    createAttempts: attempts,
    createErrors,
    readyMs: readyAt - restartedAt,
    rejoinMs: performance.now() - restartedAt,
  };
}

/** Sequential topic creations through a broker that does not lead the quorum. */
async function createLatency(nodes: Node[]): Promise<{ viaNode: number; errors: number; latency: LatencySummary }> {
  const { leaderId } = await waitStable(nodes);
  const via = nodes.find((n) => n.id !== leaderId)!;
  for (let i = 0; i < WARMUP_CREATIONS; i++) await createTopic(via, `warmup-${i}`);
  const histogram = newHistogram();
  let errors = 0;
  for (let i = 0; i < CREATIONS; i++) {
    const started = process.hrtime.bigint();
    const code = await createTopic(via, `latency-${i}`);
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    if (code !== 0) errors++;
    else histogram.recordValue(Math.max(1, Math.round(micros)));
  }
  return { viaNode: via.id, errors, latency: summarise(histogram) };
}

// ---- Partition-leader failover under an acks=all producer. ----

const PARTITION_TOPIC = 'failover-partition';
const PRODUCE_TIMEOUT_MS = 3000;
const PRODUCE_BACKOFF_MS = 20;
const PARTITION_DEADLINE_MS = 30_000;

interface PartitionView {
  leaderId: number;
  leaderEpoch: number;
  isr: number[];
}

/** Partition 0 of the failover topic as `node` reports it, or null. */
async function partitionView(node: Node): Promise<PartitionView | null> {
  try {
    const answer = await (
      await connected(node, 'adminConnection')
    ).request(ApiKey.Metadata, 9, {
      topics: [{ name: PARTITION_TOPIC }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const p = answer.topics[0]?.partitions.find((q: { partitionIndex: number }) => q.partitionIndex === 0);
    return p ? { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, isr: p.isrNodes } : null;
  } catch {
    drop(node, 'adminConnection');
    return null;
  }
}

/** Waits until every live node names the same leader and epoch with a full ISR. */
async function partitionSettled(nodes: Node[]): Promise<PartitionView> {
  const deadline = Date.now() + STABLE_DEADLINE_MS;
  while (Date.now() < deadline) {
    const views = await Promise.all(nodes.filter((n) => n.isAlive).map(partitionView));
    const first = views[0];
    if (
      first &&
      first.leaderId > 0 &&
      first.isr.length === 3 &&
      views.every(
        (v) => v && v.leaderId === first.leaderId && v.leaderEpoch === first.leaderEpoch && v.isr.length === 3,
      )
    )
      return first;
    await sleep(50);
  }
  throw new Error(`partition ${PARTITION_TOPIC}-0 did not settle within ${STABLE_DEADLINE_MS} ms`);
}

/**
 * One acks=all Produce at a time to the leader Metadata names; on an error or a lost
 * connection it asks for the leader again after a short back-off.
 */
class AcksAllProducer {
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private readonly connections = new Map<number, KafkaConnection>();
  private readonly batch = encodeRecordBatchSync({ records: [{ value: Buffer.alloc(100, 0x62) }] });
  /** Each acknowledgement: when, and by which broker. */
  private listener: ((atMs: number, brokerId: number) => void) | null = null;
  errors: Record<string, number> = {};
  acknowledged = 0;

  constructor(private readonly nodes: Node[]) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    for (const connection of this.connections.values()) connection.close();
  }

  /** The first acknowledgement after now that `accept` takes. */
  next(what: string, accept: (brokerId: number) => boolean): Promise<{ atMs: number; brokerId: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = null;
        reject(new Error(`no ${what} within ${PARTITION_DEADLINE_MS} ms (errors ${JSON.stringify(this.errors)})`));
      }, PARTITION_DEADLINE_MS);
      this.listener = (atMs, brokerId) => {
        if (!accept(brokerId)) return;
        clearTimeout(timer);
        this.listener = null;
        resolve({ atMs, brokerId });
      };
    });
  }

  private async connection(id: number): Promise<KafkaConnection> {
    let connection = this.connections.get(id);
    if (!connection) {
      connection = new KafkaConnection({
        host: '127.0.0.1',
        port: this.nodes[id - 1].port,
        requestTimeoutMs: PRODUCE_TIMEOUT_MS + 2000,
        connectTimeoutMs: 1000,
        clientId: 'bench-failover-producer',
      });
      this.connections.set(id, connection);
      await connection.connect();
    }
    return connection;
  }

  private count(what: string): void {
    this.errors[what] = (this.errors[what] ?? 0) + 1;
  }

  private async run(): Promise<void> {
    let leaderId = -1;
    while (!this.stopped) {
      if (leaderId <= 0)
        for (const node of this.nodes.filter((n) => n.isAlive)) {
          const view = await partitionView(node);
          if (view && view.leaderId > 0) {
            leaderId = view.leaderId;
            break;
          }
        }
      if (leaderId > 0) {
        const id = leaderId;
        try {
          const response = await (
            await this.connection(id)
          ).request(ApiKey.Produce, 7, {
            transactionalId: null,
            acks: -1,
            timeoutMs: PRODUCE_TIMEOUT_MS,
            topicData: [{ name: PARTITION_TOPIC, partitionData: [{ index: 0, records: this.batch }] }],
          });
          const errorCode: number = response.responses[0].partitionResponses[0].errorCode;
          if (errorCode === 0) {
            this.acknowledged++;
            this.listener?.(performance.now(), id);
            continue;
          }
          this.count(errorName(errorCode));
        } catch (error) {
          this.count((error as NodeJS.ErrnoException).code ?? (error as Error).message);
          this.connections.get(id)?.close();
          this.connections.delete(id);
        }
      }
      leaderId = -1;
      await sleep(PRODUCE_BACKOFF_MS);
    }
  }
}

interface PartitionRun {
  run: number;
  killedLeader: number;
  /** The killed broker also led the metadata quorum (a controller election came first). */
  killedController: boolean;
  newLeader: number;
  leaderEpochBefore: number;
  /** Kill to the first acks=all acknowledgement by the new leader. */
  firstAckMs: number;
  errors: Record<string, number>;
  /** Restart of the killed broker until it is back in the ISR everywhere. */
  rejoinMs: number;
}

async function partitionRun(run: number, nodes: Node[], producer: AcksAllProducer): Promise<PartitionRun> {
  const before = await partitionSettled(nodes);
  const { leaderId: controllerId } = await waitStable(nodes);
  const victim = nodes[before.leaderId - 1];
  // The producer is acknowledged by the settled leader before the kill.
  await producer.next('acknowledgement before the kill', (id) => id === victim.id);
  drop(victim, 'quorumConnection');
  drop(victim, 'adminConnection');
  producer.errors = {};
  const acked = producer.next('acknowledgement by a new leader', (id) => id !== victim.id);
  const killedAt = performance.now();
  victim.kill();
  const first = await acked;
  const errors = { ...producer.errors };
  await victim.exited;
  const restartedAt = performance.now();
  victim.start();
  await victim.waitReady();
  await partitionSettled(nodes);
  return {
    run,
    killedLeader: victim.id,
    killedController: victim.id === controllerId,
    newLeader: first.brokerId,
    leaderEpochBefore: before.leaderEpoch,
    firstAckMs: first.atMs - killedAt,
    errors,
    rejoinMs: performance.now() - restartedAt,
  };
}

async function partitionFailover(nodes: Node[]): Promise<Record<string, unknown>> {
  const code = await (async () => {
    const response = await (
      await connected(nodes[0], 'adminConnection')
    ).request(19, 4, {
      topics: [
        {
          name: PARTITION_TOPIC,
          numPartitions: 1,
          replicationFactor: 3,
          assignments: [],
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      timeoutMs: CREATE_TIMEOUT_MS,
      validateOnly: false,
    });
    return response.topics[0].errorCode as number;
  })();
  if (code !== 0) throw new Error(`CreateTopics ${PARTITION_TOPIC}: ${errorName(code)}`);
  const producer = new AcksAllProducer(nodes);
  producer.start();
  const runs: PartitionRun[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const r = await partitionRun(run, nodes, producer);
      runs.push(r);
      process.stdout.write(
        `partition run ${run}: killed leader ${r.killedLeader}${r.killedController ? ' (also the active controller)' : ''}, first ack by ${r.newLeader} after ${r.firstAckMs.toFixed(0)} ms (${JSON.stringify(r.errors)}), back in the ISR ${r.rejoinMs.toFixed(0)} ms after the restart\n`,
      );
    }
  } finally {
    await producer.stop();
  }
  const summary = (values: number[]) =>
    values.length === 0 ? null : { runs: values.length, medianMs: median(values), maxMs: Math.max(...values) };
  return {
    all: summary(runs.map((r) => r.firstAckMs)),
    killedControllerToo: summary(runs.filter((r) => r.killedController).map((r) => r.firstAckMs)),
    killedOtherBroker: summary(runs.filter((r) => !r.killedController).map((r) => r.firstAckMs)),
    acknowledged: producer.acknowledged,
    runsDetail: runs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function main(): Promise<Record<string, unknown>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-failover-bench-'));
  let nodes: Node[] = [];
  // If the bench dies on an exception, the nodes it started die with it.
  const forgetKillOnExit = killAllOnExit();
  const results: Record<string, unknown> = {
    environment: environment(),
    uncommittedChanges: uncommittedChanges(),
    mode: quick ? 'quick' : 'full',
    nodes: 3,
    electionTimeoutMs: '1000-2000 (broker built-in: 50 ms tick, 20 ticks)',
    pollMs: POLL_MS,
    runs: RUNS,
    creations: CREATIONS,
    topic: '1 partition, replication factor 1, CreateTopics v4',
    parts: quorumOnly ? 'quorum' : partitionOnly ? 'partition' : 'quorum, partition',
    overrides,
  };
  try {
    const cluster = await BrokerCluster.start({
      dir: base,
      nodes: 3,
      config: overrides,
      logLevel: 'warn',
      readyDeadlineMs: READY_DEADLINE_MS,
    });
    nodes = cluster.nodes;
    clusterSecret = cluster.secret;

    if (!partitionOnly) {
      const creation = await createLatency(nodes);
      results['topic creation latency, forwarded, sequential (ms)'] = creation;

      const runs: RunResult[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const result = await failoverRun(run, nodes);
        runs.push(result);
        process.stdout.write(
          `run ${run}: killed ${result.killedLeader}, leader ${result.newLeader} (term ${result.termBefore} -> ${result.termAfter}) after ${result.electionMs.toFixed(0)} ms, create ok after ${result.createAfterKillMs.toFixed(0)} ms (${result.createAttempts} attempts), ready in ${result.readyMs.toFixed(0)} ms, rejoined in ${result.rejoinMs.toFixed(0)} ms\n`,
        );
      }
      const election = runs.map((r) => r.electionMs);
      const createAfterKill = runs.map((r) => r.createAfterKillMs);
      results['leader election after kill -9 of the leader (ms)'] = {
        runs: RUNS,
        medianMs: median(election),
        maxMs: Math.max(...election),
      };
      results['topic creation works again after kill -9 (ms)'] = {
        runs: RUNS,
        medianMs: median(createAfterKill),
        maxMs: Math.max(...createAfterKill),
      };
      results.runsDetail = runs;

      const ms = (value: number) => `${value.toFixed(value < 100 ? 2 : 0)} ms`.padStart(10);
      const lines = [
        `metadata quorum failover: 3 processes on 127.0.0.1, ${RUNS} kill -9 runs, ${CREATIONS} creations`,
        `${''.padEnd(44)}${'median'.padStart(10)}${'max'.padStart(10)}`,
        `${'leader election after kill -9'.padEnd(44)}${ms(median(election))}${ms(Math.max(...election))}`,
        `${'CreateTopics succeeds again after kill -9'.padEnd(44)}${ms(median(createAfterKill))}${ms(Math.max(...createAfterKill))}`,
        `${''.padEnd(44)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}`,
        `${`CreateTopics via follower (node ${creation.viaNode})`.padEnd(44)}${ms(creation.latency.p50Ms)}${ms(creation.latency.p99Ms)}${ms(creation.latency.maxMs)}`,
      ];
      if (creation.errors > 0)
        lines.push(`(${creation.errors} creations answered an error and are not in the histogram)`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (!quorumOnly) {
      const partition = await partitionFailover(nodes);
      results['partition leader killed under acks=all: kill -9 to first acknowledgement by the new leader (ms)'] =
        partition;
      const cell = (summary: unknown) => {
        const s = summary as { runs: number; medianMs: number; maxMs: number } | null;
        return s ? `${s.runs} runs: median ${s.medianMs.toFixed(0)} ms, max ${s.maxMs.toFixed(0)} ms` : 'no runs';
      };
      process.stdout.write(
        [
          `partition-leader failover: RF3, min.insync.replicas 2, one acks=all producer (one request at a time, ${PRODUCE_BACKOFF_MS} ms back-off), kill -9 of the leader, ${RUNS} runs, ${Object.keys(overrides).length === 0 ? 'default settings' : `settings ${JSON.stringify(overrides)}`}`,
          `kill -9 to the first acknowledgement by the new leader: ${cell(partition.all)}`,
          `  the killed broker was not the active controller: ${cell(partition.killedOtherBroker)}`,
          `  the killed broker was also the active controller: ${cell(partition.killedControllerToo)}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    for (const connection of connections.values()) connection.close();
    connections.clear();
    await stopAll();
    forgetKillOnExit();
    fs.rmSync(base, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  main().then(
    (results) => process.stdout.write(`written ${writeResult(quick ? 'failover-quick' : 'failover', results)}\n`),
    (error) => {
      process.stderr.write(`failover bench failed: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
