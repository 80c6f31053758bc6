// What every benchmark result records about where it ran, and the result-file writer.

import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function environment() {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // Not a git checkout: the result says so.
  }
  return {
    commit,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

/** Files that differ from the recorded commit: the figures are for the tree as built. */
export function uncommittedChanges(): string[] {
  try {
    return execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
  } catch {
    return [];
  }
}

export function writeResult(name: string, result: unknown): string {
  // The test suite's smoke run checks the benchmarks work without leaving files behind.
  if (process.env.BROOK_BENCH_NO_WRITE === '1') return '(not written: BROOK_BENCH_NO_WRITE)';
  const dir = path.join(__dirname, '..', '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/**
 * Writes the page cache's dirty pages to disk before a row. The rows write gigabytes each;
 * without this, a row starts with the previous row's unwritten data and its writes are
 * throttled by the kernel to the disk's pace, so each row's figure would depend on the row
 * before it. Each row measures from a clean page cache instead.
 */
export function writeBackDirtyPages(): void {
  try {
    execSync('sync', { stdio: 'ignore', timeout: 120_000 });
  } catch (error) {
    process.stderr.write(`sync before the row failed: ${(error as Error).message}\n`);
  }
}
