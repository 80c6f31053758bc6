// The server process is fail-stop: a start that fails (the Kafka port taken, a data
// directory that is a file, a corrupt meta.properties) ends the process with a non-zero
// code and one error line, within a bound, instead of leaving it up and not listening.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BrokerProcess, freePort, startBroker, tempDir } from '../helpers/broker-process';
import { until } from '../helpers/wait';

const EXIT_BOUND_MS = 15_000;

async function exitCodeOf(node: BrokerProcess, timeoutMs = EXIT_BOUND_MS): Promise<number | null> {
  await until(() => !node.alive(), { what: () => `the failed broker to exit:\n${node.logs()}`, timeoutMs });
  return node.stop();
}

function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => line.includes('"level":"error"'));
}

test('a broker whose Kafka port is taken exits non-zero', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const node = await startBroker({ port, awaitKafka: false });
    const code = await exitCodeOf(node);
    assert.ok(code !== 0 && code !== null, `exit code ${code}`);
    assert.match(node.logs(), 'startup failed');
    assert.match(node.logs(), 'EADDRINUSE');
  } finally {
    blocker.close();
  }
});

test('a broker whose controller port is taken exits non-zero', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const controllerPort = (blocker.address() as net.AddressInfo).port;
  try {
    const node = await startBroker({ controllerPort, awaitKafka: false });
    const code = await exitCodeOf(node);
    assert.ok(code !== 0 && code !== null, `exit code ${code}`);
    assert.match(node.logs(), 'startup failed');
  } finally {
    blocker.close();
  }
});

test('a broker whose HTTP port is taken exits non-zero', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const httpPort = (blocker.address() as net.AddressInfo).port;
  try {
    const node = await startBroker({ awaitKafka: false, extraArgs: ['--http', `127.0.0.1:${httpPort}`] });
    const code = await exitCodeOf(node);
    assert.ok(code !== 0 && code !== null, `exit code ${code}`);
    assert.match(node.logs(), 'startup failed');
  } finally {
    blocker.close();
  }
});

test('a start that fails after the quorum started (no leader within 30 s) exits non-zero', async () => {
  // The other voter never comes up: the quorum keeps campaigning, and before the fix its
  // timers and port kept the process up, not listening, after "startup failed".
  const controllerPort = await freePort();
  const absentVoterPort = await freePort();
  const voters = `1@127.0.0.1:${controllerPort},2@127.0.0.1:${absentVoterPort}`;
  const node = await startBroker({
    controllerPort,
    awaitKafka: false,
    extraArgs: ['--node-id', '1', '--voters', voters],
  });
  const code = await exitCodeOf(node, 30_000 + EXIT_BOUND_MS);
  assert.ok(code !== 0 && code !== null, `exit code ${code}`);
  assert.match(node.logs(), 'did not elect a leader');
});

test('a data directory that is a file: non-zero exit and one error line', async () => {
  const file = path.join(tempDir(), 'data');
  fs.writeFileSync(file, 'not a directory');
  const node = await startBroker({ dataDir: file, awaitKafka: false });
  const code = await exitCodeOf(node);
  assert.ok(code !== 0 && code !== null, `exit code ${code}`);
  assert.is(errorLines(node.logs()).length, 1, node.logs());
});

test('a corrupt meta.properties: non-zero exit and one error line', async () => {
  const dataDir = tempDir();
  fs.writeFileSync(path.join(dataDir, 'meta.properties'), 'node.id=banana\ncluster.id=\u0000\u0001\n');
  const node = await startBroker({ dataDir, awaitKafka: false });
  const code = await exitCodeOf(node);
  assert.ok(code !== 0 && code !== null, `exit code ${code}`);
  assert.is(errorLines(node.logs()).length, 1, node.logs());
});

test.run();
