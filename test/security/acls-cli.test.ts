// `brook acls add|list|remove` against a node in this process with a SASL_PLAINTEXT listener
// and StandardAuthorizer, connecting with --command-config (SCRAM-SHA-512 as "admin", a
// super user): kafka-acls' flags create, list (table, JSON, by principal, MATCH) and remove
// ACLs; a user that is not a super user gets CLUSTER_AUTHORIZATION_FAILED in one line (exit
// 1), as any user of a node without an authorizer gets SECURITY_DISABLED; bad flags fail
// with one line and exit 2 before anything connects. One run is the real
// executable; the others call the CLI's main() in this process (the same code, no start-up).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { BrookRun, runBrook, runBrookInProcess } from '../helpers/brook-cli';
import { freePort } from '../helpers/ports';

let running: RunningBroker;
let dir: string;
let bootstrap: string;
const commandConfig = (user: string) => path.join(dir, `${user}.properties`);

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-acls-cli-'));
  const file = path.join(dir, 'node.properties');
  fs.writeFileSync(
    file,
    [
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-512=[name=alice,password=alice-secret]',
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users=User:admin',
    ].join('\n'),
  );
  for (const user of ['admin', 'alice'])
    fs.writeFileSync(
      commandConfig(user),
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.username=${user}`,
        `sasl.password=${user}-secret`,
      ].join('\n'),
    );
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': path.join(dir, 'data'),
      'log-level': 'error',
      config: file,
    }),
    silentLogger,
    { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } },
  );
  bootstrap = `127.0.0.1:${running.kafkaPort}`;
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `brook acls ...` run in this process (the first test runs the real executable once). */
function acls(args: string[], user = 'admin'): Promise<BrookRun> {
  return runBrookInProcess(['acls', ...args, '--bootstrap', bootstrap, '--command-config', commandConfig(user)]);
}

function ok(run: BrookRun, what: string): string {
  assert.is(run.code, 0, `${what}: ${run.stderr}`);
  return run.stdout;
}

function failsWithOneLine(run: BrookRun, code: number, pattern: RegExp, what: string): void {
  assert.is(run.code, code, `${what}: exit code (stderr: ${run.stderr})`);
  assert.match(run.stderr, pattern, what);
  assert.is(run.stderr.trim().split('\n').length, 1, `${what}: one line on stderr`);
}

/** The image's ACLs as "TYPE name PATTERN principal host op PERMISSION" lines, sorted. */
function stored(): string[] {
  return [...running.broker.quorum.image.acls.values()]
    .map((a) =>
      [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permissionType].join(' '),
    )
    .sort();
}

test('add: kafka-acls flags become ACLs (hosts default to *, the cluster is kafka-cluster)', async () => {
  const added = ok(
    await runBrook([
      'acls',
      'add',
      '--bootstrap',
      bootstrap,
      '--command-config',
      commandConfig('admin'),
      '--allow-principal',
      'User:alice',
      '--allow-host',
      '10.0.0.1',
      '--operation',
      'Read',
      '--operation',
      'write',
      '--topic',
      'orders',
    ]),
    'add topic',
  );
  assert.match(added, /added 2 ACLs/);
  assert.match(added, /TOPIC\s+orders\s+LITERAL\s+User:alice\s+10\.0\.0\.1\s+Read\s+ALLOW/);
  ok(
    await acls([
      'add',
      '--deny-principal',
      'User:bob',
      '--operation',
      'Read',
      '--group',
      'team-',
      '--resource-pattern-type',
      'prefixed',
    ]),
    'add group',
  );
  ok(
    await acls(['add', '--allow-principal', 'User:carol', '--operation', 'DescribeConfigs', '--cluster', '--json']),
    'add cluster',
  );
  assert.equal(stored(), [
    '2 orders 3 User:alice 10.0.0.1 3 3',
    '2 orders 3 User:alice 10.0.0.1 4 3',
    '3 team- 4 User:bob * 3 2',
    '4 kafka-cluster 3 User:carol * 10 3',
  ]);
});

test('list: every ACL, one resource, one principal as JSON, MATCH', async () => {
  const all = ok(await acls(['list']), 'list');
  assert.match(all, /^4 ACLs:/);
  assert.match(all, /CLUSTER\s+kafka-cluster\s+LITERAL\s+User:carol\s+\*\s+DescribeConfigs\s+ALLOW/);
  const orders = ok(await acls(['list', '--topic', 'orders']), 'list topic');
  assert.match(orders, /^2 ACLs:/);
  const bob = JSON.parse(ok(await acls(['list', '--principal', 'User:bob', '--json']), 'list principal'));
  assert.equal(bob, [
    {
      resourceType: 'GROUP',
      resourceName: 'team-',
      patternType: 'PREFIXED',
      principal: 'User:bob',
      host: '*',
      operation: 'Read',
      permissionType: 'DENY',
    },
  ]);
  const match = ok(await acls(['list', '--group', 'team-blue', '--resource-pattern-type', 'match']), 'list match');
  assert.match(match, /team-\s+PREFIXED/);
  const literal = ok(await acls(['list', '--group', 'team-blue']), 'list literal');
  assert.match(literal, /^no ACLs/);
});

test('remove: by operation, by resource, by principal; prints what it removed', async () => {
  const write = ok(await acls(['remove', '--topic', 'orders', '--operation', 'Write']), 'remove write');
  assert.match(write, /removed 1 ACL:/);
  assert.match(write, /orders\s+LITERAL\s+User:alice\s+10\.0\.0\.1\s+Write/);
  ok(await acls(['remove', '--group', 'team-', '--resource-pattern-type', 'prefixed']), 'remove group');
  const none = ok(await acls(['remove', '--cluster', '--principal', 'User:nobody']), 'remove nothing');
  assert.match(none, /no ACLs matched/);
  ok(await acls(['remove', '--cluster', '--principal', 'User:carol']), 'remove cluster');
  assert.equal(stored(), ['2 orders 3 User:alice 10.0.0.1 3 3']);
});

test('a user that is not a super user: CLUSTER_AUTHORIZATION_FAILED in one line, exit 1', async () => {
  failsWithOneLine(
    await acls(['add', '--allow-principal', 'User:alice', '--operation', 'All', '--topic', '*'], 'alice'),
    1,
    /CLUSTER_AUTHORIZATION_FAILED/,
    'add as alice',
  );
  failsWithOneLine(await acls(['list'], 'alice'), 1, /CLUSTER_AUTHORIZATION_FAILED/, 'list as alice');
  assert.is(stored().length, 1);
});

test('bad flags: one line, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['add', '--allow-principal', 'User:a', '--operation', 'Fly', '--topic', 't'],
      /--operation: unknown operation "Fly"/,
    ],
    [['add', '--allow-principal', 'User:a', '--topic', 't'], /needs --operation/],
    [['add', '--operation', 'Read', '--topic', 't'], /needs --allow-principal or --deny-principal/],
    [['add', '--allow-principal', 'alice', '--operation', 'Read', '--topic', 't'], /TYPE:NAME/],
    [['add', '--allow-principal', 'User:a', '--operation', 'Read'], /needs a resource/],
    [
      ['add', '--allow-principal', 'User:a', '--operation', 'Read', '--topic', 't', '--resource-pattern-type', 'match'],
      /--resource-pattern-type: expected literal, prefixed/,
    ],
    [['add', '--allow-principal', 'User:a', '--operation', 'Write', '--group', 'g'], /GROUP resources only support/],
    [
      ['add', '--allow-host', '10.0.0.1', '--deny-principal', 'User:a', '--operation', 'Read', '--topic', 't'],
      /--allow-host needs --allow-principal/,
    ],
    [['remove', '--principal', 'User:a'], /needs a resource/],
    [['list', '--operation', 'Read'], /does not take --operation/],
    [['list', '--topic', ''], /--topic needs a non-empty value/],
    [['list', '--hostname', 'x'], /unknown option --hostname/],
    [['grant'], /unknown acls command "grant"/],
  ];
  for (const [args, pattern] of cases) failsWithOneLine(await acls(args), 2, pattern, args.join(' '));
  assert.is(stored().length, 1, 'nothing changed');
  const help = await runBrookInProcess(['acls', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /brook acls add --allow-principal/);
  assert.match(help.stdout, /--command-config FILE/);
});

test('a broker without an authorizer: SECURITY_DISABLED in one line, exit 1', async () => {
  const plain = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': path.join(dir, 'plain'),
      'log-level': 'error',
    }),
    silentLogger,
  );
  try {
    const at = ['--bootstrap', `127.0.0.1:${plain.kafkaPort}`];
    failsWithOneLine(await runBrookInProcess(['acls', 'list', ...at]), 1, /SECURITY_DISABLED/, 'list');
    failsWithOneLine(
      await runBrookInProcess([
        'acls',
        'add',
        '--allow-principal',
        'User:a',
        '--operation',
        'Read',
        '--topic',
        't',
        ...at,
      ]),
      1,
      /SECURITY_DISABLED \(54\): No Authorizer is configured\./,
      'add',
    );
  } finally {
    await plain.close();
  }
});

test.run();
