// Redis Streams as a peer: one redis-server on 127.0.0.1 with a free port, its data in the
// bench's temporary directory, the append-only file on with fsync once a second
// (appendonly yes, appendfsync everysec) and RDB snapshots off (save ''). Each sample
// XADDs to a fresh stream key; afterwards the key is deleted (synchronously, outside the
// timed region) and the AOF rewritten so the disk does not fill over the run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EndToEndOutcome, EndToEndRun, EndToEndWorkload } from './end-to-end';
import { freePort, Managed, sleep, until } from '../lib/process';
import { RedisConnection, RespValue } from './redis-client';
import {
  ConsumeOutcome,
  ProduceOutcome,
  ProduceWorkload,
  READ_BACK_DEADLINE_MS,
  readBackCount,
  runProducers,
} from './workload';
import { performance } from 'node:perf_hooks';

const READY_DEADLINE_MS = 20_000;
const REWRITE_DEADLINE_MS = 120_000;
/** Entries asked for per XREAD, and how long it blocks for them. */
const READ_COUNT = 512;
const READ_BLOCK_MS = 100;

export const REDIS_SETTINGS = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

export class Redis {
  private admin: RedisConnection | null = null;
  private keys = 0;

  private constructor(
    readonly port: number,
    readonly managed: Managed,
  ) {}

  static async start(base: string): Promise<Redis> {
    const dir = path.join(base, 'redis');
    fs.mkdirSync(dir);
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...REDIS_SETTINGS,
    ];
    const redis = new Redis(port, Managed.start('redis-server', 'redis-server', args, dir));
    await until(
      'redis-server to answer PING',
      READY_DEADLINE_MS,
      async () => {
        if (!redis.managed.isAlive) throw new Error('redis-server exited');
        try {
          const connection = await RedisConnection.connect('127.0.0.1', port);
          const pong = await connection.command(['PING'], 2000);
          connection.close();
          return pong === 'PONG' ? true : null;
        } catch {
          return null;
        }
      },
      100,
    );
    return redis;
  }

  get pids(): (number | undefined)[] {
    return [this.managed.pid];
  }

  private async api(): Promise<RedisConnection> {
    this.admin ??= await RedisConnection.connect('127.0.0.1', this.port);
    return this.admin;
  }

  async version(): Promise<string> {
    const info = String(await (await this.api()).command(['INFO', 'server']));
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  /**
   * One sample: `producers` connections XADD to one fresh stream; with `readBack`, one
   * more connection then reads the stream from its start; then the key is dropped.
   */
  async produce(
    workload: ProduceWorkload,
    window: number,
    readBack = false,
  ): Promise<ProduceOutcome & { consumed?: ConsumeOutcome }> {
    const key = `bench${++this.keys}`;
    const connections = await Promise.all(
      Array.from({ length: workload.producers }, () => RedisConnection.connect('127.0.0.1', this.port)),
    );
    const payload = Buffer.alloc(workload.recordBytes, 0x61);
    try {
      const outcome = await runProducers(workload, (index, deadlineMs, histogram, errors) =>
        connections[index].xaddWindow(key, payload, window, deadlineMs, histogram, errors),
      );
      return readBack
        ? { ...outcome, consumed: await this.readBack(key, outcome.records, workload.recordBytes) }
        : outcome;
    } finally {
      for (const connection of connections) connection.close();
      await this.reset(key);
    }
  }

  /**
   * One end-to-end sample: one connection XADDs as the schedule says (each reply is the
   * new entry's ID), another XREADs with BLOCK from the start of the stream.
   */
  async endToEnd(workload: EndToEndWorkload): Promise<EndToEndOutcome> {
    const key = `bench${++this.keys}`;
    const producer = await RedisConnection.connect('127.0.0.1', this.port);
    const consumer = await RedisConnection.connect('127.0.0.1', this.port);
    const payload = Buffer.alloc(workload.recordBytes, 0x61);
    const run = new EndToEndRun();
    let stopped = false;
    let consuming: Promise<void> = Promise.resolve();
    try {
      return await run.run(workload, {
        send: (dueMs) => {
          for (const due of dueMs) {
            producer.command(['XADD', key, '*', 'v', payload]).then(
              (id) => run.acknowledge(String(id), [due]),
              (error: Error) => run.fail(error.message, 1),
            );
          }
        },
        startConsumer: () => {
          consuming = (async () => {
            let lastId = '0-0';
            while (!stopped) {
              // The answer: nil on timeout, else [[key, [[id, [field, value]], ...]]].
              const answer = (await consumer.command([
                'XREAD',
                'COUNT',
                String(READ_COUNT),
                'BLOCK',
                String(READ_BLOCK_MS),
                'STREAMS',
                key,
                lastId,
              ])) as RespValue[][] | null;
              for (const entry of (answer?.[0]?.[1] ?? []) as RespValue[][]) {
                lastId = String(entry[0]);
                run.join.consume(lastId);
              }
            }
          })().catch((error: Error) => run.note(`consumer: ${error.message}`));
        },
        stop: async () => {
          stopped = true;
          await consuming;
        },
      });
    } finally {
      producer.close();
      consumer.close();
      await this.reset(key);
    }
  }

  /** XREAD from the start of the stream, COUNT entries a call, until every entry is in hand. */
  private async readBack(key: string, expected: number, recordBytes: number): Promise<ConsumeOutcome> {
    const consumer = await RedisConnection.connect('127.0.0.1', this.port);
    const count = String(readBackCount(recordBytes));
    const startedMs = performance.now();
    const deadlineMs = startedMs + READ_BACK_DEADLINE_MS;
    let records = 0;
    let lastId = '0-0';
    try {
      while (records < expected && performance.now() < deadlineMs) {
        const answer = (await consumer.command(['XREAD', 'COUNT', count, 'STREAMS', key, lastId])) as
          RespValue[][] | null;
        const entries = (answer?.[0]?.[1] ?? []) as RespValue[][];
        if (entries.length === 0) break;
        records += entries.length;
        lastId = String(entries[entries.length - 1][0]);
      }
      return { records, expected, seconds: (performance.now() - startedMs) / 1000 };
    } finally {
      consumer.close();
    }
  }

  /** Drops the stream and rewrites the AOF, waiting until no rewrite is running. */
  private async reset(key: string): Promise<void> {
    const admin = await this.api();
    await admin.command(['DEL', key], REWRITE_DEADLINE_MS);
    const rewriting = async () =>
      /aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(String(await admin.command(['INFO', 'persistence'])));
    // An automatic rewrite may be running already; the explicit one then waits its turn.
    await until(
      'a running AOF rewrite to finish',
      REWRITE_DEADLINE_MS,
      async () => ((await rewriting()) ? null : true),
      100,
    );
    await admin.command(['BGREWRITEAOF']);
    await sleep(50);
    await until('the AOF rewrite to finish', REWRITE_DEADLINE_MS, async () => ((await rewriting()) ? null : true), 100);
  }

  async stop(): Promise<void> {
    this.admin?.close();
    await this.managed.stop();
  }
}
