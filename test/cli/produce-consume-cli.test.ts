// `brook produce` and `brook consume` against a real broker: lines with keys and headers
// in, the same records out as text and JSON, from an offset and a timestamp, in a group
// that resumes where it stopped; kcat reads what brook produced and brook reads what kcat
// produced; wrong arguments exit 2, an unknown topic or unreachable broker exits 1;
// progress lines never reach pipes, and on a terminal are drawn and cleared.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';
import { BROOK, runBrook } from '../helpers/brook-cli';
import { kcat } from '../helpers/kcat';

let broker: BrokerProcess;

const brook = (args: string[], input?: string) => runBrook(args, { input: input ?? '' });

const at = () => ['--bootstrap', `127.0.0.1:${broker.port}`];

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3', 'num.partitions': '2' },
  });
});

test.after(async () => {
  await broker?.stop();
});

test('produce lines with keys and headers; consume them as text and JSON; kcat agrees', async () => {
  const before = Date.now();
  const produced = await brook(
    [
      'produce',
      ...at(),
      '--topic',
      'lines',
      '--key-separator',
      ':',
      '--header',
      'src=cli',
      '--header',
      'n=1',
      '--json',
    ],
    'k1:one\nk2:two\nk3:three\nk1:four\n',
  );
  assert.is(produced.code, 0, produced.stderr);
  const summary = JSON.parse(produced.stdout);
  assert.equal([summary.records, summary.stored, summary.failed], [4, 4, 0]);
  const text = await brook([
    'consume',
    ...at(),
    '--topic',
    'lines',
    '--from',
    'beginning',
    '--exit',
    '--format',
    '%k=%v %h\\n',
  ]);
  assert.is(text.code, 0, text.stderr);
  assert.equal(text.stdout.trim().split('\n').sort(), [
    'k1=four src=cli,n=1',
    'k1=one src=cli,n=1',
    'k2=two src=cli,n=1',
    'k3=three src=cli,n=1',
  ]);
  const json = await brook(['consume', ...at(), '--topic', 'lines', '--from', 'beginning', '--exit', '--json']);
  const records = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.is(records.length, 4);
  const k1 = records.filter((r) => r.key === 'k1');
  assert.equal(
    k1.map((r) => r.value),
    ['one', 'four'],
    'one key, one partition, in order',
  );
  assert.is(k1[0].partition, k1[1].partition);
  assert.equal(records[0].headers, { src: 'cli', n: '1' });
  assert.ok(records.every((r) => r.timestamp >= before - 1000));
  const read = await kcat(broker.port, ['-C', '-t', 'lines', '-o', 'beginning', '-e', '-q', '-f', '%k:%s\n']);
  assert.equal(read.stdout.trim().split('\n').sort(), ['k1:four', 'k1:one', 'k2:two', 'k3:three']);
});

test('offsets, timestamps, a file, compression, what kcat wrote, and a group that resumes', async () => {
  const file = path.join(tempDir(), 'input.txt');
  fs.writeFileSync(file, Array.from({ length: 10 }, (_, i) => `f${i}`).join('\n') + '\n');
  const fromFile = await brook([
    'produce',
    ...at(),
    '--topic',
    'filed',
    '--partition',
    '1',
    '--file',
    file,
    '--compression',
    'zstd',
  ]);
  assert.is(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stderr, /10 of 10 records stored in filed/);
  const fromSix = await brook([
    'consume',
    ...at(),
    '--topic',
    'filed',
    '--partition',
    '1',
    '--from',
    '6',
    '--exit',
    '--format',
    '%o:%v\\n',
  ]);
  assert.equal(fromSix.stdout.trim().split('\n'), ['6:f6', '7:f7', '8:f8', '9:f9']);
  const byTime = await brook([
    'consume',
    ...at(),
    '--topic',
    'filed',
    '--partition',
    '1',
    '--from',
    '@0',
    '--count',
    '2',
  ]);
  assert.equal(byTime.stdout.trim().split('\n'), ['f0', 'f1']);
  await kcat(broker.port, ['-P', '-t', 'filed', '-p', '0'], 'x\ny\n');
  const group1 = await brook([
    'consume',
    ...at(),
    '--topic',
    'filed',
    '--group',
    'readers',
    '--from',
    'beginning',
    '--exit',
  ]);
  assert.equal(
    group1.stdout.trim().split('\n').sort(),
    [...Array.from({ length: 10 }, (_, i) => `f${i}`), 'x', 'y'].sort(),
  );
  await brook(['produce', ...at(), '--topic', 'filed', '--partition', '0'], 'z\n');
  const group2 = await brook([
    'consume',
    ...at(),
    '--topic',
    'filed',
    '--group',
    'readers',
    '--from',
    'beginning',
    '--exit',
  ]);
  assert.is(group2.stdout.trim(), 'z', 'the group resumes after what it printed');
  const cooperative = await brook([
    'consume',
    ...at(),
    '--topic',
    'filed',
    '--group',
    'cooperative-readers',
    '--assignor',
    'cooperative-sticky',
    '--from',
    'beginning',
    '--exit',
  ]);
  assert.is(cooperative.code, 0, cooperative.stderr);
  assert.equal(
    cooperative.stdout.trim().split('\n').sort(),
    [...Array.from({ length: 10 }, (_, i) => `f${i}`), 'x', 'y', 'z'].sort(),
  );
  const described = JSON.parse((await brook(['groups', 'describe', 'cooperative-readers', ...at(), '--json'])).stdout);
  assert.equal(
    described.partitions.map((p: { committed: number }) => p.committed).sort((a: number, b: number) => a - b),
    [3, 10],
    'the cooperative member committed what it printed',
  );
});

test('consume without --exit prints every record that arrives after quiet spells, in order', async () => {
  // It waits in 200 ms steps; before, each step left a next() behind that later took a
  // record and dropped it, so a tail started on an idle topic printed nothing.
  await brook(['topics', 'create', 'tailed', ...at(), '--partitions', '1']);
  const child = spawn(process.execPath, [BROOK, 'consume', ...at(), '--topic', 'tailed', '--format', '%o:%v\\n']);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const lines = () => stdout.split('\n').filter((l) => l.length > 0);
  const waitFor = async (n: number) => {
    for (let i = 0; i < 150 && lines().length < n; i++) await new Promise((r) => setTimeout(r, 100));
  };
  try {
    await new Promise((r) => setTimeout(r, 1200)); // several quiet steps first
    const first = await brook(
      ['produce', ...at(), '--topic', 'tailed'],
      Array.from({ length: 10 }, (_, i) => `a${i}`).join('\n') + '\n',
    );
    assert.is(first.code, 0, first.stderr);
    await waitFor(10);
    await new Promise((r) => setTimeout(r, 700)); // quiet again
    const second = await brook(['produce', ...at(), '--topic', 'tailed'], 'b0\nb1\nb2\n');
    assert.is(second.code, 0, second.stderr);
    await waitFor(13);
    assert.equal(lines(), [...Array.from({ length: 10 }, (_, i) => `${i}:a${i}`), '10:b0', '11:b1', '12:b2'], stderr);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, 'SIGTERM ends the tail cleanly');
});

test('--encoding base64 or hex writes binary keys and values intact', async () => {
  const binary = Buffer.from([0xff, 0x00, 0x80, 0x41]);
  const wrote = await kcat(
    broker.port,
    ['-P', '-t', 'binary', '-p', '0', '-K', ':'],
    Buffer.concat([Buffer.from('k\x01:'), binary, Buffer.from('\n')]),
  );
  assert.is(wrote.code, 0, wrote.stderr);
  const json = await brook([
    'consume',
    ...at(),
    '--topic',
    'binary',
    '--from',
    'beginning',
    '--exit',
    '--json',
    '--encoding',
    'base64',
  ]);
  assert.is(json.code, 0, json.stderr);
  const record = JSON.parse(json.stdout.trim());
  assert.is(record.value, binary.toString('base64'));
  assert.is(record.key, Buffer.from('k\x01').toString('base64'));
  const hex = await brook([
    'consume',
    ...at(),
    '--topic',
    'binary',
    '--from',
    'beginning',
    '--exit',
    '--format',
    '%k %v\\n',
    '--encoding',
    'hex',
  ]);
  assert.is(hex.stdout, '6b01 ff008041\n');
  const wrong = await brook(['consume', ...at(), '--topic', 'binary', '--encoding', 'utf16']);
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, /--encoding: expected text, base64 or hex, got "utf16"/);
});

test('brook bench produce and consume report rates and latency percentiles', async () => {
  const produced = await brook([
    'bench',
    'produce',
    ...at(),
    '--topic',
    'benched',
    '--records',
    '3000',
    '--record-size',
    '200',
    '--json',
  ]);
  assert.is(produced.code, 0, produced.stderr);
  const p = JSON.parse(produced.stdout);
  assert.is(p.records, 3000);
  assert.ok(
    p.recordsPerSecond > 0 && p.megabytesPerSecond > 0 && p.latencyMs.p50 > 0 && p.latencyMs.p99 >= p.latencyMs.p50,
  );
  const consumed = await brook(['bench', 'consume', ...at(), '--topic', 'benched', '--records', '3000']);
  assert.is(consumed.code, 0, consumed.stderr);
  assert.match(consumed.stdout, /^3000 records in [\d.]+ s: [\d,]+ records\/s, [\d.]+ MB\/s\n/);
  const tooMany = await brook(['bench', 'consume', ...at(), '--topic', 'missing-bench-topic', '--records', '10']);
  assert.is(tooMany.code, 1);
  // Fewer records than asked for: it gives up at --timeout-ms (it used to wait on the
  // next record past its deadline, for ever).
  const started = Date.now();
  const short = await brook([
    'bench',
    'consume',
    ...at(),
    '--topic',
    'benched',
    '--records',
    '3001',
    '--timeout-ms',
    '1500',
  ]);
  assert.is(short.code, 1, short.stderr);
  assert.match(short.stderr, /only 3000 of 3001 records in benched within 1500 ms/);
  assert.ok(Date.now() - started < 15000, 'stopped near its deadline');
});

/** Runs brook with stdout and stderr on a pseudo-terminal (util-linux script); returns what the terminal got. */
function onTerminal(args: string[]): { code: number | null; screen: string } {
  const command = [process.execPath, BROOK, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const run = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    timeout: 20000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: run.status, screen: run.stdout };
}

const PROGRESS_MARK = '\r\x1b[K';

test('progress: none in pipes or with --json; drawn and cleared on a terminal unless --no-progress', async () => {
  const file = path.join(tempDir(), 'many.txt');
  fs.writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `line-${i}`).join('\n') + '\n');
  const piped = [
    await brook(['produce', ...at(), '--topic', 'progressed', '--file', file]),
    await brook(['consume', ...at(), '--topic', 'progressed', '--from', 'beginning', '--exit']),
    await brook(['consume', ...at(), '--topic', 'progressed', '--from', 'beginning', '--count', '5']),
    await brook([
      'bench',
      'produce',
      ...at(),
      '--topic',
      'progressed-bench',
      '--records',
      '2000',
      '--record-size',
      '100',
    ]),
    await brook(['bench', 'consume', ...at(), '--topic', 'progressed-bench', '--records', '2000']),
  ];
  for (const run of piped) {
    assert.is(run.code, 0, run.stderr);
    assert.not.ok(
      run.stderr.includes('\r') || run.stderr.includes('\x1b'),
      `no progress in a pipe: ${JSON.stringify(run.stderr.slice(0, 200))}`,
    );
  }
  assert.is(piped[1].stdout.trim().split('\n').length, 3000);

  const produced = onTerminal(['produce', ...at(), '--topic', 'progressed', '--file', file]);
  assert.is(produced.code, 0, produced.screen);
  assert.ok(
    produced.screen.includes(`${PROGRESS_MARK}produce [`),
    `a bar for --file: ${JSON.stringify(produced.screen.slice(0, 300))}`,
  );
  // The last progress line is cleared before the summary.
  assert.match(produced.screen, /\r\x1b\[K3000 of 3000 records stored in progressed/);
  const benched = onTerminal([
    'bench',
    'produce',
    ...at(),
    '--topic',
    'progressed-bench',
    '--records',
    '2000',
    '--record-size',
    '100',
  ]);
  assert.is(benched.code, 0, benched.screen);
  assert.ok(benched.screen.includes(`${PROGRESS_MARK}produce [`));
  assert.match(benched.screen, /\r\x1b\[K2000 records in [\d.]+ s/);
  for (const quiet of [['--no-progress'], ['--json']]) {
    const run = onTerminal(['bench', 'produce', ...at(), '--topic', 'progressed-bench', '--records', '500', ...quiet]);
    assert.is(run.code, 0, run.screen);
    assert.not.ok(run.screen.includes(PROGRESS_MARK), `${quiet}: no progress`);
  }
  // consume draws only when the records go elsewhere than the terminal.
  const consumedToTerminal = onTerminal([
    'consume',
    ...at(),
    '--topic',
    'progressed',
    '--from',
    'beginning',
    '--count',
    '3',
  ]);
  assert.not.ok(consumedToTerminal.screen.includes(PROGRESS_MARK), 'records on the terminal: no progress line');
});

test('wrong arguments exit 2, runtime failures exit 1, each with one clear line', async () => {
  const cases: [string[], number, RegExp][] = [
    [['produce', ...at()], 2, /--topic is required/],
    [['produce', ...at(), '--topic', 't', '--acks', '2'], 2, /--acks: expected 0, 1 or all/],
    [['produce', ...at(), '--topic', 't', '--header', 'nokey'], 2, /--header: expected KEY=VALUE/],
    [['produce', ...at(), '--topic', 't', '--compression', 'rar'], 2, /--compression/],
    [['consume', ...at(), '--topic', 't', '--from', 'yesterday'], 2, /--from: expected beginning, end/],
    [['consume', ...at(), '--topic', 't', '--count', '0'], 2, /--count/],
    [
      ['consume', ...at(), '--topic', 't', '--group', 'g', '--assignor', 'sticky'],
      2,
      /--assignor: expected range, roundrobin or cooperative-sticky/,
    ],
    [['consume', ...at(), '--topic', 't', '--assignor', 'range'], 2, /--assignor needs --group/],
    [['consume', ...at(), '--topic', 'missing-topic', '--exit'], 1, /topic missing-topic does not exist/],
    [['consume', '--bootstrap', '127.0.0.1:1', '--topic', 't'], 1, /cannot reach a broker at 127.0.0.1:1/],
    [['produce', '--bootstrap', '127.0.0.1:1', '--topic', 't'], 1, /cannot reach a broker at 127.0.0.1:1/],
  ];
  for (const [args, code, message] of cases) {
    const run = await brook(args, 'a\n');
    assert.is(run.code, code, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.is(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  }
});

test.run();
