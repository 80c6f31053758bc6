// The shell commands that README.md and docs/*.md show, run as written against a real
// broker: every ```sh block preceded by a `<!-- test:commands -->` line is run line by
// line, in order, and a line that exits non-zero fails the test. Blocks are independent of
// each other (each uses its own topics), so they run side by side. Only the addresses are
// pointed at the test's broker (its free ports stand in for 9092, 9093 and 8080), and
// `npx brook` runs this checkout's scripts/brook.js; a client command that names no
// --bootstrap (or `cluster` no --controller) gets the test broker's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';

const ROOT = path.join(__dirname, '..', '..', '..');
const BROOK = path.join(ROOT, 'scripts', 'brook.js');
const MARKER = /<!-- test:commands -->\r?\n```sh\r?\n([\s\S]*?)```/g;
/** One command of a block; bounded so a command that waits for ever fails instead. */
const COMMAND_TIMEOUT_MS = 20_000;
/** Client commands of `brook` that talk to a Kafka listener. */
const CLIENT_COMMANDS = ['topics', 'produce', 'consume', 'groups', 'bench', 'partitions', 'cluster'];

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    http: true,
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' },
  });
});

test.after(async () => {
  await broker?.stop();
});

interface Block {
  file: string;
  lines: string[];
}

/** The marked blocks of one file: their commands, continuation lines joined, comments dropped. */
function documentedBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  for (const match of text.matchAll(MARKER)) {
    const joined = match[1].replace(/\\\r?\n\s*/g, ' ');
    const lines: string[] = [];
    for (const raw of joined.split(/\r?\n/)) {
      // A trailing comment is set off by at least two spaces; '#' inside arguments is not.
      const line = raw.replace(/\s{2,}#\s.*$/, '').trim();
      if (line !== '' && !line.startsWith('#')) lines.push(line);
    }
    blocks.push({ file, lines });
  }
  return blocks;
}

function commandAvailable(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`]).status === 0;
}

/** A bash function standing in for `npx brook`, adding the test broker's addresses. */
function brookFunction(): string {
  const bootstrap = `127.0.0.1:${broker.port}`;
  const controller = `127.0.0.1:${broker.controllerPort}`;
  return [
    'brook() {',
    `  local extra=()`,
    `  case "$1" in ${CLIENT_COMMANDS.join('|')})`,
    `    case " $* " in *" --bootstrap "*|*" --bootstrap="*) ;; *) extra+=(--bootstrap ${bootstrap}) ;; esac`,
    `    if [ "$1" = cluster ]; then case " $* " in *" --controller "*|*" --controller="*) ;; *) extra+=(--controller ${controller}) ;; esac; fi`,
    '    ;;',
    '  esac',
    `  ${JSON.stringify(process.execPath)} ${JSON.stringify(BROOK)} "$@" "\${extra[@]}"`,
    '}',
  ].join('\n');
}

function pointAtTestBroker(line: string): string {
  return line
    .replace(/\bnpx brook\b/g, 'brook')
    .replace(/127\.0\.0\.1:9092\b/g, `127.0.0.1:${broker.port}`)
    .replace(/127\.0\.0\.1 9092\b/g, `127.0.0.1 ${broker.port}`)
    .replace(/127\.0\.0\.1:9093\b/g, `127.0.0.1:${broker.controllerPort}`)
    .replace(/(127\.0\.0\.1|localhost):8080\b/g, `127.0.0.1:${broker.httpPort}`);
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs one line in bash with the `brook` function defined; bounded by COMMAND_TIMEOUT_MS. */
function runLine(script: string, cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

test('every marked command in README.md and docs/ runs against a broker and exits 0', async () => {
  const files = [path.join(ROOT, 'README.md')];
  const docsDir = path.join(ROOT, 'docs');
  if (fs.existsSync(docsDir))
    for (const name of fs.readdirSync(docsDir).sort()) if (name.endsWith('.md')) files.push(path.join(docsDir, name));
  const blocks = files.flatMap((file) => documentedBlocks(path.relative(ROOT, file), fs.readFileSync(file, 'utf8')));
  assert.ok(
    blocks.some((b) => b.file === 'README.md' && b.lines.some((line) => /^npx brook /.test(line))),
    'the README has marked brook commands',
  );

  // kcat is installed by .ci/run; a developer without it still gets the brook lines checked.
  const kcat = commandAvailable('kcat');
  const prelude = `set -o pipefail\n${brookFunction()}\n`;
  let skipped = 0;
  const failures: string[] = [];
  await Promise.all(
    blocks.map(async ({ file, lines }) => {
      const cwd = tempDir('brook-doc-commands-');
      for (const line of lines) {
        if (!kcat && /\bkcat\b/.test(line)) {
          skipped++;
          continue;
        }
        const run = await runLine(prelude + pointAtTestBroker(line), cwd);
        if (run.code !== 0) {
          const outcome = run.timedOut ? `no exit within ${COMMAND_TIMEOUT_MS} ms` : `exit ${run.code}`;
          failures.push(`${file}: \`${line}\` failed (${outcome})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
          return; // the rest of this block depends on the line that failed
        }
      }
    }),
  );
  if (skipped > 0) process.stdout.write(`skipped ${skipped} kcat line(s): kcat is not on the PATH\n`);
  assert.equal(failures, [], failures.join('\n'));
});

test.run();
