// Runs the `brook` command line as a child process with a time limit; resolves with its
// exit code and output (for CLI tests that need the event loop free while it runs).

import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');

export interface BrookRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBrook(
  args: string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<BrookRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BROOK, ...args], options.env ? { env: options.env } : {});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * Runs `brook` in this process (main() with stdout and stderr captured), for CLI tests of
 * verbs that read no stdin: no process start per run. Runs must not overlap.
 */
export async function runBrookInProcess(args: string[]): Promise<BrookRun> {
  const { main } = await import('../../src/cli/main');
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof out;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof err;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
