// Starts a real Brook broker process for integration tests: free ports on 127.0.0.1 (from
// ports.ts, never shared with another test process), a temporary data directory, short
// Raft timing (TEST_RAFT_CONFIG, overridable per test), readiness = an ApiVersions answer,
// and shutdown of exactly the PID started (SIGTERM, then SIGKILL after a bound). Anything
// still running when the test process exits is killed.

import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';

export { freePort, freePorts } from './ports';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
const live = new Set<ChildProcess>();
const temporary = new Set<string>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  // Temporary data directories go with the test process that made them.
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'brook-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporary.add(dir);
  return dir;
}

/** ApiVersions v0 request, correlation id 1, client id "probe". */
export const API_VERSIONS_V0 = Buffer.from(
  '0000000f' + '0012' + '0000' + '00000001' + '0005' + Buffer.from('probe').toString('hex'),
  'hex',
);

/** Sends raw bytes and collects the first response frame, or reports a close. */
export function rawRequest(
  port: number,
  bytes: Buffer,
  timeoutMs = 5000,
): Promise<{ frame: Buffer | null; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (frame: Buffer | null, closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ frame, closed });
    };
    const timer = setTimeout(() => finish(null, false), timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0))
        finish(data.subarray(4, 4 + data.readInt32BE(0)), false);
    });
    socket.on('error', () => finish(null, true));
    socket.on('close', () => finish(null, true));
  });
}

/**
 * Raft timing for test nodes: elections in 0.5-1 s instead of 1-2 s, still well above a
 * loaded machine's scheduling hiccups (heartbeats every 100 ms).
 */
/**
 * The controller-port cluster secret of nodes this test process starts with --voters (a
 * node that is not the sole voter needs one); random per test run. A test (or the Cluster
 * helper) may set its own with brook.controller.cluster.secret.
 */
export const TEST_CLUSTER_SECRET = randomBytes(24).toString('hex');
export const CLUSTER_SECRET_KEY = 'brook.controller.cluster.secret';

export const TEST_RAFT_CONFIG: Record<string, string> = {
  'brook.raft.tick.ms': '25',
  'controller.quorum.election.timeout.ms': '500',
};

export interface BrokerProcess {
  port: number;
  controllerPort: number;
  /** The HTTP listener's port when started with `http: true`, else null. */
  httpPort: number | null;
  pid: number;
  dataDir: string;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill9(): Promise<void>;
  alive(): boolean;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  /** The controller listener's port (default: a free one). */
  controllerPort?: number;
  /** Extra key=value settings written to a config file (on top of TEST_RAFT_CONFIG). */
  config?: Record<string, string>;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** Serve the HTTP listener (REST API, /metrics) on a free port instead of --http off. */
  http?: boolean;
  /** Extra environment for the process (on top of this one's). */
  env?: Record<string, string>;
  /** Return once the process runs, without waiting for the Kafka listener (default true: wait). */
  awaitKafka?: boolean;
  /**
   * Give a node started with --voters the test cluster secret (default true); false for
   * nodes that authenticate on the controller port by certificate alone.
   */
  clusterSecret?: boolean;
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const port = options.port ?? (await freePort());
  const controllerPort = options.controllerPort ?? (await freePort());
  const httpPort = options.http ? await freePort() : null;
  const args = [
    BROOK,
    'server',
    // A config that names its listeners (listeners=, controller.listener.names=) replaces the
    // shorthand flags; `port` is then the listener probed for readiness.
    ...(options.config?.listeners !== undefined ? [] : ['--listen', `127.0.0.1:${port}`]),
    ...(options.config?.['controller.listener.names'] !== undefined
      ? []
      : ['--controller-listen', `127.0.0.1:${controllerPort}`]),
    '--http',
    httpPort ? `127.0.0.1:${httpPort}` : 'off',
    '--data-dir',
    dataDir,
    '--log-level',
    'info',
  ];
  {
    const file = path.join(dataDir, '..', `${path.basename(dataDir)}.properties`);
    temporary.add(file);
    const multiNode = (options.extraArgs ?? []).includes('--voters') && options.clusterSecret !== false;
    const config = {
      ...TEST_RAFT_CONFIG,
      ...(multiNode ? { [CLUSTER_SECRET_KEY]: TEST_CLUSTER_SECRET } : {}),
      ...options.config,
    };
    fs.writeFileSync(
      file,
      Object.entries(config)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    args.push('--config', file);
  }
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  live.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      live.delete(child);
      resolve(code);
    }),
  );
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15000);
  for (;;) {
    if (options.awaitKafka === false) break;
    if (exitCode !== undefined) throw new Error(`broker exited with ${exitCode} before ready:\n${output}`);
    const { frame } = await rawRequest(port, API_VERSIONS_V0, 1000);
    if (frame) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`broker not ready within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    controllerPort,
    httpPort,
    pid: child.pid!,
    dataDir,
    logs: () => output,
    alive: () => exitCode === undefined,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
