// The metadata quorum: three Raft nodes in one process over TCP on loopback with durable
// storage, measuring leader election time after the leader stops (median and max over
// repeated failovers), metadata write latency (propose to commit, p50/p99), and committed
// records per second with many writes in flight (group commit batches them into shared
// fsyncs and appends). Usage: node dist/bench/quorum.js [--quick]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QuorumStorage } from '../src/raft/quorum-storage';
import { encodeMetadataEntries } from '../src/controller/quorum';
import { realFileSystem } from '../src/log/file-system';
import { silentLogger } from '../src/logger';
import { RaftDriver } from '../src/raft/driver';
import { RaftDispatcher, TcpRaftTransport } from '../src/raft/tcp-transport';
import { KafkaListener } from '../src/net/kafka-listener';
import { seededRandom } from '../src/controller/controller';
import { environment, writeResult } from './lib/env';
import { newHistogram, summarise } from './lib/load';
import { freePort } from './lib/process';

const quick = process.argv.includes('--quick');
const CLUSTER = 'bench';

interface Node {
  id: number;
  driver: RaftDriver;
  transport: TcpRaftTransport;
  listener: KafkaListener;
}

export async function main(): Promise<Record<string, unknown>> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-quorum-bench-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes = new Map<number, Node>();
  const tickMs = 50;
  const electionTimeoutTicks = 20;
  let generation = 0;
  const start = async (id: number) => {
    const voters = [1, 2, 3].map((p) => ({ id: p, host: '127.0.0.1', port: ports[p - 1] }));
    const transport = new TcpRaftTransport(id, CLUSTER, (peer) => voters.find((v) => v.id === peer), silentLogger);
    const driver = new RaftDriver({
      id,
      voters,
      tickMs,
      electionTimeoutTicks,
      heartbeatTicks: 4,
      random: seededRandom(id * 31 + ++generation),
      storage: QuorumStorage.open(realFileSystem, path.join(base, `n${id}`)),
      transport,
      apply: () => undefined,
      restore: () => undefined,
      takeSnapshot: () => Buffer.alloc(0),
      snapshotEveryEntries: 0,
      logger: silentLogger,
    });
    transport.attach(driver);
    const listener = new KafkaListener(
      {
        host: '127.0.0.1',
        port: ports[id - 1],
        maxConnections: 50,
        socketRequestMaxBytes: 64 << 20,
        maxInflightRequests: 1000,
      },
      new RaftDispatcher(
        () => driver,
        CLUSTER,
        (peer) => peer >= 1 && peer <= 3,
        silentLogger,
      ),
      silentLogger,
    );
    await listener.listen();
    driver.start();
    nodes.set(id, { id, driver, transport, listener });
  };
  const stop = async (id: number) => {
    const node = nodes.get(id)!;
    node.driver.stop();
    node.transport.close();
    await node.listener.close(50);
    nodes.delete(id);
  };
  const leader = () => [...nodes.values()].find((n) => n.driver.node.role === 'leader');
  const waitLeader = async (not: number) => {
    const t = Date.now();
    while (!leader() || leader()!.id === not) {
      if (Date.now() - t > 20000) throw new Error('no leader');
      await new Promise((r) => setTimeout(r, 2));
    }
    return Date.now() - t;
  };
  const results: Record<string, unknown> = {
    environment: environment(),
    mode: quick ? 'quick' : 'full',
    electionTimeoutMs: `${tickMs * electionTimeoutTicks}-${2 * tickMs * electionTimeoutTicks}`,
  };
  try {
    for (const id of [1, 2, 3]) await start(id);
    await waitLeader(-1);
    // Write latency: one metadata record (a topic's worth) at a time.
    const record = encodeMetadataEntries([
      { type: 'Topic', data: { name: 'bench-topic', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' } },
    ]);
    const latency = newHistogram();
    const writes = quick ? 50 : 1000;
    for (let i = 0; i < writes; i++) {
      const t = process.hrtime.bigint();
      await leader()!.driver.propose(record);
      latency.recordValue(Math.max(1, Number(process.hrtime.bigint() - t) / 1000));
    }
    const writeLatency = summarise(latency);
    results['metadata write latency (propose to commit, one at a time)'] = writeLatency;
    process.stdout.write(
      `metadata write latency: p50 ${writeLatency.p50Ms.toFixed(2)} ms, p99 ${writeLatency.p99Ms.toFixed(2)} ms, max ${writeLatency.maxMs.toFixed(2)} ms (${writes} writes)\n`,
    );
    // Throughput with many writes in flight.
    const total = quick ? 2000 : 50000;
    const inflight = 500;
    const t0 = process.hrtime.bigint();
    let sent = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (sent < total) {
          sent++;
          await leader()!.driver.propose(record);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    results['committed records per second, 500 in flight'] = {
      records: total,
      seconds,
      recordsPerSecond: total / seconds,
    };
    process.stdout.write(
      `committed ${Math.round(total / seconds).toLocaleString('en')} metadata records/s with ${inflight} in flight (${total} records)\n`,
    );
    // Failover: stop the leader, time the next election, bring the node back.
    const runs = quick ? 3 : 20;
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const old = leader()!.id;
      await stop(old);
      times.push(await waitLeader(old));
      await start(old);
      await new Promise((r) => setTimeout(r, 300));
    }
    times.sort((a, b) => a - b);
    results['leader election after the leader stops (ms)'] = {
      runs,
      medianMs: times[Math.floor(runs / 2)],
      maxMs: times[runs - 1],
      all: times,
    };
    process.stdout.write(
      `leader election after the leader stops: median ${times[Math.floor(runs / 2)]} ms, max ${times[runs - 1]} ms over ${runs} runs\n`,
    );
  } finally {
    for (const id of [...nodes.keys()]) await stop(id);
    fs.rmSync(base, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  main().then((results) =>
    process.stdout.write(`written ${writeResult(quick ? 'quorum-quick' : 'quorum', results)}\n`),
  );
}
