// The README's client example, run as written against a real broker (only the bootstrap
// address and the package name are pointed at the test's broker and this build).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker, tempDir } from '../helpers/broker-process';

const ROOT = path.join(__dirname, '..', '..', '..');
let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '3' },
  });
});

test.after(async () => {
  await broker?.stop();
});

test('the README client example runs and prints what it says', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /<!-- example:client -->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has the example');
  const code = match![1]
    .replace("require('brook')", `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))})`)
    .replace("'127.0.0.1:9092'", `'127.0.0.1:${broker.port}'`);
  const file = path.join(tempDir(), 'example.js');
  fs.writeFileSync(file, code);
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60000 });
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.match(lines[0], /^\d@0 \d@\d \d@\d$/);
  const greetings = lines.slice(1, 4).sort();
  assert.equal(
    greetings.map((l) => l.replace(/ \(partition.*$/, '')),
    ['ada -> hello ada', 'grace -> hello grace', 'linus -> hello linus'],
  );
  assert.match(lines[4], /^\d:\d( \d:\d)*$/, `committed offsets: ${lines[4]}`);
});

test.run();
