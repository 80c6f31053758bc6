// Runs the Python client scripts in test/clients/ with Debian's interpreter (/usr/bin/python3,
// where apt installs python3-kafka and python3-confluent-kafka; a python3 earlier on the PATH
// may lack them), with a bounded time, and hands back the JSON object the script prints last.
// A script that exits non-zero, prints no JSON or runs out of time fails with its stderr.

import { test } from 'uvu';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker } from './broker-process';

export const PYTHON = process.env.BROOK_PYTHON ?? '/usr/bin/python3';
const SCRIPTS = path.join(__dirname, '..', '..', '..', 'test', 'clients');

/**
 * Why `module` cannot be imported by PYTHON, or null when it can. With
 * BROOK_REQUIRE_PYTHON_CLIENTS=1 (CI) a missing one throws instead, so a run that would skip
 * the Python client tests fails.
 */
export function pythonModuleMissing(module: string, apt: string): string | null {
  let reason: string | null = null;
  if (!fs.existsSync(PYTHON)) reason = `${PYTHON} is absent (apt-get install -y ${apt})`;
  else {
    const probe = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 10000 });
    if (probe.status !== 0) reason = `${PYTHON} cannot import ${module} (apt-get install -y ${apt})`;
  }
  if (reason && process.env.BROOK_REQUIRE_PYTHON_CLIENTS === '1') throw new Error(reason);
  return reason;
}

export interface ScriptRun<T> {
  result: T;
  stderr: string;
}

/**
 * Runs test/clients/<script> with `args` and returns the JSON object on the last line of its
 * stdout. Rejects when the script fails, prints no JSON or outlives `timeoutMs` (then it is
 * killed), with its exit status and stderr in the message.
 */
export function runPythonScript<T>(script: string, args: string[], timeoutMs = 25000): Promise<ScriptRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-u', path.join(SCRIPTS, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const fail = (why: string) =>
        reject(
          new Error(`${script} ${why}\n--- stderr ---\n${stderr.slice(-6000)}\n--- stdout ---\n${stdout.slice(-2000)}`),
        );
      if (timedOut) return fail(`did not finish within ${timeoutMs} ms`);
      if (code !== 0) return fail(`exited with ${code ?? signal}`);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ result: JSON.parse(last) as T, stderr });
      } catch {
        fail('printed no JSON object on its last line');
      }
    });
  });
}

/**
 * The shared frame of a Python client's test file: one line and every test skipped when
 * `module` is missing; a broker started before the tests (no auto-creation, groups without
 * the initial rebalance delay) and stopped after; and a first test that runs `script`
 * against it. The later tests read the script's JSON through `output()`.
 */
export function pythonClientSuite<T>(
  what: string,
  module: string,
  apt: string,
  script: string,
): { it: typeof test | typeof test.skip; broker: () => BrokerProcess; output: () => T } {
  const missing = pythonModuleMissing(module, apt);
  if (missing) process.stdout.write(`skipped: ${what} tests: ${missing}\n`);
  const it = missing ? test.skip : test;
  let broker: BrokerProcess | undefined;
  let ran: T | undefined;
  test.before(async () => {
    if (missing) return;
    broker = await startBroker({
      config: {
        'auto.create.topics.enable': 'false',
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '3',
      },
    });
  });
  test.after(async () => {
    await broker?.stop();
  });
  it('the script runs to its end against Brook', async () => {
    ran = (await runPythonScript<T>(script, [`127.0.0.1:${broker!.port}`])).result;
  });
  return {
    it,
    broker: () => broker!,
    output: () => {
      // Without an output, the first test's failure says why.
      if (ran === undefined) throw new Error('the script did not finish: see the first test');
      return ran;
    },
  };
}
