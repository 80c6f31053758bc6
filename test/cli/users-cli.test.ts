// `brook users ...` against a broker in this process: set reads the password from piped
// stdin (and, under a pseudo-terminal from `script`, from a no-echo prompt asked twice),
// the stored credential verifies that password; list as a table and as JSON shows
// mechanisms and iteration counts only; delete one mechanism or all; a password given as
// an argument, bad flags, an empty password and unknown users fail with one line and the
// right exit code, and no output ever holds the password.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { verifyScramPassword } from '../../src/security/scram';
import { BROOK, BrookRun, runBrook } from '../helpers/brook-cli';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';

let running: RunningBroker;
let dataDir: string;
let bootstrap: string;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-users-cli-'));
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
    }),
    silentLogger,
  );
  bootstrap = `127.0.0.1:${running.kafkaPort}`;
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function users(args: string[], input?: string): Promise<BrookRun> {
  return runBrook(['users', ...args, '--bootstrap', bootstrap], { input });
}

function failsWithOneLine(result: BrookRun, code: number, pattern: RegExp, what: string): void {
  assert.is(result.code, code, `${what}: exit code (stderr: ${result.stderr})`);
  assert.match(result.stderr, pattern, what);
  assert.is(result.stderr.trim().split('\n').length, 1, `${what}: one line on stderr`);
  assert.not.match(result.stderr, /\n\s+at /, `${what}: no stack trace`);
}

const image = () => running.broker.quorum.image;

test('set from piped stdin; the stored credential verifies the password', async () => {
  const set = await users(
    ['set', 'alice', '--mechanism', 'scram-sha-256', '--iterations', '8192'],
    'alice-pw\nignored\n',
  );
  assert.is(set.code, 0, set.stderr);
  assert.match(set.stdout, /set the SCRAM-SHA-256 credential of user alice \(8192 iterations\)/);
  const credential = image().scramCredential('alice', 'SCRAM-SHA-256')!;
  assert.ok(credential, 'stored');
  assert.is(credential.iterations, 8192);
  assert.ok(verifyScramPassword(credential, 'alice-pw'), 'only the first line is the password');
  const second = await users(['set', 'alice', '--json'], 'other-pw\r\n');
  assert.is(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout), { user: 'alice', mechanism: 'SCRAM-SHA-512', iterations: 4096 });
  assert.ok(verifyScramPassword(image().scramCredential('alice', 'SCRAM-SHA-512')!, 'other-pw'));
  for (const run of [set, second]) assert.not.ok((run.stdout + run.stderr).includes('-pw'), 'no password echoed');
});

test('list: a table and JSON, mechanisms and iterations only', async () => {
  await users(['set', 'bob'], 'bob-pw');
  const listed = await users(['list']);
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /USER\s+MECHANISM\s+ITERATIONS/);
  assert.match(listed.stdout, /alice\s+SCRAM-SHA-256\s+8192/);
  assert.match(listed.stdout, /alice\s+SCRAM-SHA-512\s+4096/);
  assert.match(listed.stdout, /bob\s+SCRAM-SHA-512\s+4096/);
  const json = await users(['list', 'bob', '--json']);
  assert.is(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout), [
    { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
  ]);
  assert.not.match(listed.stdout + json.stdout, /salt|storedKey|serverKey/i);
  failsWithOneLine(await users(['list', 'nobody']), 1, /RESOURCE_NOT_FOUND/, 'unknown user listed');
});

test('delete one mechanism, then all that remain', async () => {
  const one = await users(['delete', 'alice', '--mechanism', 'SCRAM-SHA-256']);
  assert.is(one.code, 0, one.stderr);
  assert.match(one.stdout, /deleted the SCRAM-SHA-256 credential of user alice/);
  assert.is(image().scramCredential('alice', 'SCRAM-SHA-256'), undefined);
  assert.ok(image().scramCredential('alice', 'SCRAM-SHA-512'));
  await users(['set', 'alice', '--mechanism', 'SCRAM-SHA-256'], 'pw');
  const all = await users(['delete', 'alice', '--json']);
  assert.is(all.code, 0, all.stderr);
  assert.equal(JSON.parse(all.stdout), { user: 'alice', deleted: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] });
  assert.not.ok(image().scramUsers.has('alice'));
  failsWithOneLine(await users(['delete', 'alice']), 1, /user alice has no SCRAM credentials/, 'delete a gone user');
  failsWithOneLine(
    await users(['delete', 'bob', '--mechanism', 'SCRAM-SHA-256']),
    1,
    /user bob has no SCRAM-SHA-256 credential/,
    'delete a missing mechanism',
  );
});

test('bad usage: exit 2, one line, the password never taken from or shown in arguments', async () => {
  const cases: [string[], string | undefined, RegExp][] = [
    [['set', 'carol', 'hunter2'], 'x', /users set needs exactly one NAME/],
    [['set', 'carol', '--password', 'hunter2'], 'x', /unknown option --password/],
    [['set', 'carol', '--mechanism', 'MD5'], 'x', /--mechanism: expected SCRAM-SHA-256 or SCRAM-SHA-512/],
    [['set', 'carol', '--iterations', '100'], 'x', /--iterations: expected 4096-16384/],
    [['set', 'carol'], '', /the password must not be empty/],
    [['set', 'carol'], 'x'.repeat(2000), /the password must be at most 1024 bytes/],
    [['set'], 'x', /users set needs exactly one NAME/],
    [['rename', 'carol'], undefined, /unknown users command "rename"/],
  ];
  for (const [args, input, pattern] of cases) {
    const run = await users(args, input);
    failsWithOneLine(run, 2, pattern, args.join(' '));
    assert.not.ok(run.stderr.includes('hunter2'), 'the argument is not echoed');
  }
  assert.not.ok(image().scramUsers.has('carol'));
  const bare = await runBrook(['users']);
  assert.is(bare.code, 2);
  assert.match(bare.stderr, /Usage:/);
});

test('a no-echo prompt at a terminal, asked twice', async () => {
  const probe = spawnSync('script', ['-qec', 'true', '/dev/null']);
  if (probe.status !== 0) {
    console.log('skipped: no working `script` (util-linux) for a pseudo-terminal');
    return;
  }
  const command = [process.execPath, BROOK, 'users', 'set', 'dave', '--bootstrap', bootstrap]
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    await until(() => output.includes('Password for dave: '), { what: 'the first prompt', timeoutMs: 10_000 });
    child.stdin.write('dave-pw\r');
    await until(() => output.includes('Retype the password for dave: '), {
      what: 'the second prompt',
      timeoutMs: 10_000,
    });
    child.stdin.write('dave-pw\r');
    const code = await exited;
    assert.is(code, 0, output);
    assert.match(output, /set the SCRAM-SHA-512 credential of user dave/);
    assert.not.ok(output.includes('dave-pw'), 'the password was not echoed');
    assert.ok(verifyScramPassword(image().scramCredential('dave', 'SCRAM-SHA-512')!, 'dave-pw'));
  } finally {
    clearTimeout(killer);
    child.stdin.end();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
