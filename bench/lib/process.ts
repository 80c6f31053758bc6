// The processes a benchmark starts (peer servers, Brook brokers): free ports on 127.0.0.1,
// each server's output tail kept for the error report, bounded waits, stop by PID
// (SIGTERM, then SIGKILL after a grace period), and the CPU accounting read from /proc.

import { ChildProcess, execSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

const OUTPUT_TAIL_BYTES = 16_384;
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 20;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than null, or throws after `deadlineMs`. */
export async function until<T>(
  what: string,
  deadlineMs: number,
  check: () => Promise<T | null>,
  pollMs = 50,
): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** One server process the bench started. */
export class Managed {
  output = '';
  readonly exited: Promise<void>;
  private alive = true;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.alive = false;
        resolve();
      }),
    );
    child.once('error', (error) => (this.output += `\nspawn error: ${error.message}\n`));
  }

  static start(name: string, command: string, args: string[], cwd?: string): Managed {
    const managed = new Managed(name, spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    running.add(managed);
    return managed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  async stop(): Promise<void> {
    running.delete(this);
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(): string {
    return this.output.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  }
}

/** Every server still running, so a failure can print their logs and stop them. */
export const running = new Set<Managed>();

export function printLogTails(): void {
  for (const managed of running)
    process.stderr.write(
      `--- ${managed.name} (pid ${managed.pid}), last ${LOG_TAIL_LINES} log lines:\n${managed.logTail()}\n`,
    );
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((m) => m.stop()));
}

/** On an unexpected exit of the bench, the servers it started are killed by PID. */
export function killAllOnExit(): () => void {
  const kill = () => running.forEach((m) => m.child.kill('SIGKILL'));
  process.on('exit', kill);
  return () => process.removeListener('exit', kill);
}

/** The unit of CPU times in /proc (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return (
      Number(
        execSync('getconf CLK_TCK', { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim(),
      ) || 100
    );
  } catch {
    return 100;
  }
})();

/**
 * User plus system CPU seconds of a process, its threads and the children it has waited
 * for (Redis forks to rewrite its AOF), from /proc.
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime and cstime are fields 14 to 17; the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // Fields 4 and 5 are idle and iowait.
  return { busy: (total - fields[3] - fields[4]) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/**
 * CPU use over a measured interval, 100 = one core: the servers of the system under test,
 * this client process, the whole machine, and what else ran on it.
 */
export class CpuMeter {
  private readonly serverBefore: number;
  private readonly clientBefore = process.cpuUsage();
  private readonly machineBefore = machineCpuSeconds();
  private readonly wallBefore = performance.now();

  constructor(private readonly pids: (number | undefined)[]) {
    this.serverBefore = pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  read(): { server: number; client: number; machine: number; others: number } {
    const wallSeconds = (performance.now() - this.wallBefore) / 1000;
    const serverSeconds = this.pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0) - this.serverBefore;
    const clientUsage = process.cpuUsage(this.clientBefore);
    const machineAfter = machineCpuSeconds();
    const cores =
      machineAfter.total > this.machineBefore.total ? (machineAfter.total - this.machineBefore.total) / wallSeconds : 1;
    const server = Math.round((100 * serverSeconds) / wallSeconds);
    const client = Math.round((clientUsage.user + clientUsage.system) / 1e4 / wallSeconds);
    const machine = Math.round(
      (100 * cores * (machineAfter.busy - this.machineBefore.busy)) /
        (machineAfter.total - this.machineBefore.total || 1),
    );
    return { server, client, machine, others: Math.max(0, machine - server - client) };
  }
}
