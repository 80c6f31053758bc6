// The shell commands that README.md and docs/*.md show, run as written against a real
// broker: every ```sh block preceded by a `<!-- test:commands -->` line is run line by
// line, in order, and a line that exits non-zero fails the test. Only the addresses are
// pointed at the test's broker (its free ports stand in for 9092, 9093 and 8080), and
// `npx brook` runs this checkout's scripts/brook.js; a client command that names no
// --bootstrap (or `cluster` no --controller) gets the test broker's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
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

interface Command {
  file: string;
  line: string;
}

/** The commands of every marked block, continuation lines joined and comments dropped. */
function documentedCommands(file: string, text: string): Command[] {
  const commands: Command[] = [];
  for (const match of text.matchAll(MARKER)) {
    const joined = match[1].replace(/\\\r?\n\s*/g, ' ');
    for (const raw of joined.split(/\r?\n/)) {
      // A trailing comment is set off by at least two spaces; '#' inside arguments is not.
      const line = raw.replace(/\s{2,}#\s.*$/, '').trim();
      if (line !== '' && !line.startsWith('#')) commands.push({ file, line });
    }
  }
  return commands;
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

test('every marked command in README.md and docs/ runs against a broker and exits 0', () => {
  const files = [path.join(ROOT, 'README.md')];
  const docsDir = path.join(ROOT, 'docs');
  if (fs.existsSync(docsDir))
    for (const name of fs.readdirSync(docsDir).sort()) if (name.endsWith('.md')) files.push(path.join(docsDir, name));
  const commands = files.flatMap((file) =>
    documentedCommands(path.relative(ROOT, file), fs.readFileSync(file, 'utf8')),
  );
  assert.ok(
    commands.some((c) => c.file === 'README.md' && /^npx brook /.test(c.line)),
    'the README has marked brook commands',
  );

  const kcat = commandAvailable('kcat');
  const cwd = tempDir('brook-doc-commands-');
  const prelude = `set -o pipefail\n${brookFunction()}\n`;
  let skipped = 0;
  for (const { file, line } of commands) {
    // kcat is installed by .ci/run; a developer without it still gets the brook lines checked.
    if (!kcat && /\bkcat\b/.test(line)) {
      skipped++;
      continue;
    }
    const run = spawnSync('bash', ['-c', prelude + pointAtTestBroker(line)], {
      cwd,
      encoding: 'utf8',
      timeout: COMMAND_TIMEOUT_MS,
    });
    const outcome = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
    assert.is(run.status, 0, `${file}: \`${line}\` failed (${outcome})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  if (skipped > 0) process.stdout.write(`skipped ${skipped} kcat line(s): kcat is not on the PATH\n`);
});

test.run();
