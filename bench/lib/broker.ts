// One Brook broker process for the single-node benches: a free port on 127.0.0.1, ready
// once it answers ApiVersions, stopped by its PID by the caller.

import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { freePort } from './process';

/** `httpPort`: serve the HTTP listener there (default off). */
export async function startBroker(dataDir: string, port: number, httpPort?: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js'),
      'server',
      '--listen',
      `127.0.0.1:${port}`,
      '--controller-listen',
      `127.0.0.1:${await freePort()}`,
      '--http',
      httpPort ? `127.0.0.1:${httpPort}` : 'off',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  for (let i = 0; i < 200; i++) {
    try {
      const probe = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 1000 });
      await probe.connect();
      await probe.request(18, 0, {});
      probe.close();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error('broker did not start');
}
