// `brook topics ...` against a real broker: create (checked with kcat -L), list with and
// without internal topics, describe with offsets and configs, delete, alter-config;
// exit codes and one-line errors.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');
let broker: BrokerProcess;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `brook topics VERB ...` against the test broker unless the args name a --bootstrap. */
function topics([verb, ...rest]: string[]): Promise<Run> {
  const bootstrap = rest.some((a) => a.startsWith('--bootstrap')) ? [] : ['--bootstrap', `127.0.0.1:${broker.port}`];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BROOK, 'topics', verb, ...bootstrap, ...rest]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function failsWithOneLine(result: Run, code: number, pattern: RegExp, what: string): void {
  assert.is(result.code, code, `${what}: exit code (stderr: ${result.stderr})`);
  assert.match(result.stderr, pattern, what);
  assert.is(result.stderr.trim().split('\n').length, 1, `${what}: one line on stderr`);
  assert.not.match(result.stderr, /\n\s+at /, `${what}: no stack trace`);
}

test.before(async () => {
  broker = await startBroker({ config: { 'num.partitions': '2', 'offsets.topic.num.partitions': '3' } });
});

test.after(async () => {
  await broker.stop();
});

test('create: the partitions asked (seen by kcat -L), broker defaults, configs, duplicates', async () => {
  const created = await topics([
    'create',
    'orders',
    '--partitions',
    '3',
    '--config',
    'retention.ms=3600000',
    '--config=cleanup.policy=delete,compact',
  ]);
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stdout, /created topic orders \(id \S+\): 3 partition\(s\), replication factor 1/);
  assert.match(created.stdout, /cleanup\.policy\s+delete,compact/);
  const listing = await kcat(broker.port, ['-L', '-t', 'orders']);
  assert.is(listing.code, 0, listing.stderr);
  assert.match(listing.stdout, /topic "orders" with 3 partitions/);

  const defaults = await topics(['create', 'plain', '--json']);
  assert.is(defaults.code, 0, defaults.stderr);
  const plain = JSON.parse(defaults.stdout);
  assert.equal(
    [plain.name, plain.partitions, plain.replicationFactor, plain.configs],
    ['plain', 2, 1, {}],
    'num.partitions=2 applies with -1',
  );
  assert.match((await kcat(broker.port, ['-L', '-t', 'plain'])).stdout, /topic "plain" with 2 partitions/);

  failsWithOneLine(
    await topics(['create', 'orders']),
    1,
    /create topic orders: TOPIC_ALREADY_EXISTS \(36\)/,
    'duplicate',
  );
  failsWithOneLine(
    await topics(['create', 'wide', '--replication-factor', '3']),
    1,
    /INVALID_REPLICATION_FACTOR/,
    'too many replicas',
  );
  failsWithOneLine(
    await topics(['create', 'odd', '--config', 'no.such.config=1']),
    1,
    /INVALID_CONFIG .*no\.such\.config/,
    'unknown config',
  );
});

test('list: aligned table, internal topics only with --all, --json', async () => {
  const list = await topics(['list']);
  assert.is(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^TOPIC\s+PARTITIONS\s+REPLICATION FACTOR\s+INTERNAL$/);
  assert.match(list.stdout, /\norders\s+3\s+1\n/);
  assert.not.match(list.stdout, /__consumer_offsets/);
  const column = lines[0].indexOf('PARTITIONS');
  for (const line of lines.slice(1)) assert.match(line.slice(column), /^\d/, `aligned: ${line}`);

  const all = JSON.parse((await topics(['list', '--all', '--json'])).stdout);
  assert.equal(
    all.map((t: { name: string }) => t.name),
    ['__consumer_offsets', 'orders', 'plain'],
  );
  assert.equal(all[0], {
    name: '__consumer_offsets',
    topicId: all[0].topicId,
    partitions: 3,
    replicationFactor: 1,
    internal: true,
  });
  assert.match((await topics(['list', '--all'])).stdout, /__consumer_offsets\s+3\s+1\s+yes/);
});

test('describe: leaders, replicas, ISR, log offsets from the leader, non-default configs', async () => {
  // Keyed: the topic is compacted, which refuses records without a key (as Kafka).
  const produced = await kcat(broker.port, ['-P', '-t', 'orders', '-p', '1', '-K:'], 'k1:a\nk2:b\nk3:c\n');
  assert.is(produced.code, 0, produced.stderr);
  const described = await topics(['describe', 'orders', '--json']);
  assert.is(described.code, 0, described.stderr);
  const d = JSON.parse(described.stdout);
  assert.is(d.name, 'orders');
  assert.is(d.internal, false);
  assert.equal(
    d.partitions.map(
      (p: {
        partition: number;
        leader: number;
        replicas: number[];
        isr: number[];
        offlineReplicas: number[];
        logStartOffset: number;
        logEndOffset: number;
      }) => [p.partition, p.leader, p.replicas, p.isr, p.offlineReplicas, p.logStartOffset, p.logEndOffset],
    ),
    [
      [0, 1, [1], [1], [], 0, 0],
      [1, 1, [1], [1], [], 0, 3],
      [2, 1, [1], [1], [], 0, 0],
    ],
  );
  const overrides = d.configs
    .filter((c: { source: string }) => c.source === 'topic')
    .map((c: { name: string; value: string }) => [c.name, c.value]);
  assert.equal(overrides, [
    ['cleanup.policy', 'delete,compact'],
    ['retention.ms', '3600000'],
  ]);
  assert.ok(
    d.configs.every((c: { source: string }) => c.source !== 'default'),
    'defaults hidden without --all-configs',
  );

  const all = JSON.parse((await topics(['describe', 'orders', '--all-configs', '--json'])).stdout);
  assert.ok(
    all.configs.some((c: { name: string; source: string }) => c.name === 'segment.bytes' && c.source === 'default'),
    'defaults shown with --all-configs',
  );

  const text = await topics(['describe', 'orders']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^topic orders \(id \S+\): 3 partition\(s\), replication factor 1\n/);
  assert.match(text.stdout, /PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+OFFLINE\s+LOG START\s+LOG END\n/);
  assert.match(text.stdout, /\n1\s+1\s+\d+\s+1\s+1\s+-\s+0\s+3\n/);
  assert.match(text.stdout, /retention\.ms\s+3600000\s+topic/);

  failsWithOneLine(await topics(['describe', 'missing']), 1, /^brook: topic missing does not exist$/m, 'unknown topic');
});

test('delete: removes the topic; unknown and internal topics are errors', async () => {
  const deleted = await topics(['delete', 'plain', '--json']);
  assert.is(deleted.code, 0, deleted.stderr);
  assert.is(JSON.parse(deleted.stdout).deleted, 'plain');
  assert.not.match((await topics(['list'])).stdout, /plain/);
  failsWithOneLine(await topics(['delete', 'plain']), 1, /topic plain does not exist/, 'delete twice');
  failsWithOneLine(await topics(['delete', '__consumer_offsets']), 1, /internal topic/, 'delete internal');
});

test('alter-config sets and deletes topic configs (IncrementalAlterConfigs); bad names and values are refused', async () => {
  const altered = await topics([
    'alter-config',
    'orders',
    '--set',
    'retention.ms=1000',
    '--set',
    'cleanup.policy=compact',
    '--json',
  ]);
  assert.is(altered.code, 0, altered.stderr);
  assert.equal(JSON.parse(altered.stdout).set, { 'retention.ms': '1000', 'cleanup.policy': 'compact' });
  let described = await topics(['describe', 'orders', '--json']);
  let configs = JSON.parse(described.stdout).configs as { name: string; value: string }[];
  assert.is(configs.find((c) => c.name === 'retention.ms')?.value, '1000');
  assert.is(configs.find((c) => c.name === 'cleanup.policy')?.value, 'compact');
  const reset = await topics(['alter-config', 'orders', '--delete', 'cleanup.policy']);
  assert.is(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /cleanup.policy \(default\)/);
  described = await topics(['describe', 'orders', '--json', '--all-configs']);
  configs = JSON.parse(described.stdout).configs;
  assert.is(configs.find((c) => c.name === 'cleanup.policy')?.value, 'delete');
  failsWithOneLine(
    await topics(['alter-config', 'orders', '--set', 'retention.ms=soon']),
    1,
    /INVALID_CONFIG.*Invalid value soon for configuration retention.ms: Not a number of type LONG/,
    'bad value',
  );
  failsWithOneLine(
    await topics(['alter-config', 'orders', '--set', 'no.such.config=1']),
    1,
    /Unknown topic config name: no.such.config/,
    'unknown config',
  );
  failsWithOneLine(await topics(['alter-config', 'nope', '--set', 'retention.ms=1']), 1, /nope/, 'unknown topic');
  failsWithOneLine(
    await topics(['alter-config', 'orders']),
    2,
    /needs at least one --set/,
    'alter-config without changes',
  );
  failsWithOneLine(
    await topics(['alter-config', 'orders', '--set', 'retention.ms']),
    2,
    /--set: expected key=value/,
    '--set without =',
  );
});

test('usage errors exit 2, an unreachable broker exits 1, help exits 0', async () => {
  const usage: [string[], RegExp][] = [
    [['create', 'x', '--partitions', 'abc'], /--partitions: expected a positive integer/],
    [['create', 'x', '--partitions', '0'], /--partitions: expected a positive integer/],
    [['create', 'x', '--replication-factor', '1.5'], /--replication-factor: expected a positive integer/],
    [['create', 'x', '--config', 'retention.ms'], /--config: expected key=value, got "retention\.ms"/],
    [['create', 'x', '--config'], /--config needs a value/],
    [['create'], /topics create needs exactly one <topic>/],
    [['describe', 'a', 'b'], /topics describe needs exactly one <topic>/],
    [['list', '--bogus'], /unknown option --bogus/],
    [['explode'], /unknown topics verb "explode"/],
    [['list', '--bootstrap', 'nowhere'], /--bootstrap: expected HOST:PORT/],
  ];
  for (const [args, pattern] of usage) failsWithOneLine(await topics(args), 2, pattern, args.join(' '));
  failsWithOneLine(
    await topics(['list', '--bootstrap', '127.0.0.1:1']),
    1,
    /cannot reach a broker at 127\.0\.0\.1:1/,
    'unreachable',
  );

  const help = await topics(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /brook topics create <topic>/);
  const bare = await new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [BROOK, 'help']);
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
  assert.match(bare.stdout, /\n {2}topics\s+create, list, describe/);
});

test.run();
