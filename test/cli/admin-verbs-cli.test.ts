// The usage errors and help of `brook partitions elect-leaders`, `brook cluster
// unregister-broker`, `brook producers` and `brook log-dirs` (exit status 2, one line on
// stderr, nothing sent), and their text output against a single in-process node. The verbs
// on a cluster are in test/integration/elect-leaders-cluster.test.ts.

import * as fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { runBrookInProcess } from '../helpers/brook-cli';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { freePort, tempDir } from '../helpers/broker-process';

let node: RunningBroker;
let bootstrap: string;
const dataDir = tempDir();

test.before(async () => {
  node = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
    }),
    silentLogger,
  );
  bootstrap = `127.0.0.1:${node.kafkaPort}`;
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'verbs', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'verbs', numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'verbs', acks: -1, messages: [{ value: 'a', partition: 1 }] });
  await producer.disconnect();
});

test.after(async () => {
  await node?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('usage errors exit 2 with one line', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['partitions', 'elect-leaders', '--topic', 't', '--partition', '0'],
      /--election-type: expected preferred or unclean/,
    ],
    [['partitions', 'elect-leaders', '--election-type', 'clean', '--all-topic-partitions'], /--election-type/],
    [
      ['partitions', 'elect-leaders', '--election-type', 'preferred', '--all-topic-partitions', '--topic', 't'],
      /not both/,
    ],
    [['partitions', 'elect-leaders', '--election-type', 'preferred'], /--topic and --partition/],
    [
      ['partitions', 'elect-leaders', '--election-type', 'preferred', '--topic', 't', '--partition', '-1'],
      /--partition/,
    ],
    [['cluster', 'unregister-broker'], /--id: expected a broker id/],
    [['cluster', 'unregister-broker', '--id', '1.5'], /--id/],
    [['producers', 'describe'], /--topic is required/],
    [['producers', 'describe', '--topic', 't', '--partition', 'x'], /--partition/],
    [['producers', 'list'], /unknown producers verb/],
    [['log-dirs', '--broker', '1,,2'], /--broker/],
    [['log-dirs', 'extra'], /unexpected argument/],
  ];
  for (const [args, message] of cases) {
    const run = await runBrookInProcess(args);
    assert.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  const help = await runBrookInProcess(['help']);
  assert.match(help.stdout, /log-dirs/);
  assert.match(help.stdout, /producers/);
  assert.match((await runBrookInProcess(['producers', '--help'])).stdout, /brook producers describe --topic T/);
  assert.match((await runBrookInProcess(['log-dirs', '--help'])).stdout, /--by-topic/);
});

test('text output of log-dirs, producers describe and elect-leaders on one node', async () => {
  const dirs = await runBrookInProcess(['log-dirs', '--bootstrap', bootstrap, '--topic', 'verbs']);
  assert.is(dirs.code, 0, dirs.stderr);
  assert.match(dirs.stdout, /BROKER\s+LOG DIR\s+STATUS\s+TOTAL BYTES\s+USABLE BYTES\s+PARTITIONS/);
  assert.match(dirs.stdout, /\n1\s+\S+logs\s+online\s+\d+\s+\d+\s+2\n/);
  assert.match(dirs.stdout, /\n1\s+verbs\s+0\s+0\s+0\n1\s+verbs\s+1\s+\d+\s+0\n/);
  const producers = await runBrookInProcess(['producers', 'describe', '--topic', 'verbs', '--bootstrap', bootstrap]);
  assert.is(producers.code, 0, producers.stderr);
  assert.match(producers.stdout, /PARTITION\s+PRODUCER ID\s+EPOCH\s+LAST SEQUENCE/);
  assert.match(producers.stdout, /\n1\s+\d+\s+0\s+0\s+\d{4}-\d\d-\d\dT\S+\s+-1\s+-1\n/);
  const none = await runBrookInProcess([
    'producers',
    'describe',
    '--topic',
    'verbs',
    '--partition',
    '0',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(none.stdout, 'no active producers\n');
  const missing = await runBrookInProcess(['producers', 'describe', '--topic', 'nope', '--bootstrap', bootstrap]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);
  const elect = await runBrookInProcess([
    'partitions',
    'elect-leaders',
    '--election-type',
    'preferred',
    '--topic',
    'verbs',
    '--partition',
    '0',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(elect.code, 0, elect.stderr);
  assert.match(elect.stdout, /verbs-0: ELECTION_NOT_NEEDED \(84\)/);
  const unknown = await runBrookInProcess([
    'partitions',
    'elect-leaders',
    '--election-type',
    'preferred',
    '--topic',
    'nope',
    '--partition',
    '0',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stdout, /nope-0: UNKNOWN_TOPIC_OR_PARTITION/);
  const unregister = await runBrookInProcess(['cluster', 'unregister-broker', '--id', '7', '--bootstrap', bootstrap]);
  assert.is(unregister.code, 1);
  assert.match(unregister.stderr, /BROKER_ID_NOT_REGISTERED/);
});

test.run();
