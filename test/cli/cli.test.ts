// The brook command line as a user meets it: help, exit codes and one-line errors for
// wrong arguments, and the frame tools round-tripping bytes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseSummary } from '../../../scripts/test-summary';

const BROOK = path.join(__dirname, '..', '..', '..', 'scripts', 'brook.js');

function brook(args: string[], input?: string | Buffer) {
  const result = spawnSync(process.execPath, [BROOK, ...args], { input, timeout: 15000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

test('help and usage', () => {
  assert.is(brook(['--help']).code, 0);
  assert.match(brook(['server', '--help']).stdout.toString(), /--controller-listen HOST:PORT/);
  assert.match(brook(['frame', '--help']).stdout.toString(), /frame encode/);
  const none = brook([]);
  assert.is(none.code, 2);
  // A command group without its verb is a usage error: help on stderr, nothing on stdout, exit 2.
  for (const group of ['topics', 'groups', 'cluster', 'partitions', 'frame', 'bench']) {
    const bare = brook([group]);
    assert.is(bare.code, 2, group);
    assert.is(bare.stdout.length, 0, `${group}: nothing on stdout`);
    assert.match(bare.stderr, /Usage:/, group);
    const help = brook([group, '--help']);
    assert.is(help.code, 0, `${group} --help`);
    assert.match(help.stdout.toString(), /Usage:/);
  }
});

test('wrong arguments: exit 2 and one line, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['nonsense'], /unknown command "nonsense"/],
    [['server', '--bogus'], /unknown option --bogus/],
    [['server', '--node-id', 'abc'], /--node-id: expected an integer/],
    [['server', '--listen'], /--listen needs a value/],
    [['server', '--http', 'somewhere'], /--http: expected HOST:PORT/],
    [['frame', 'encode', 'NoSuchApi', '0', '{}'], /unknown api "NoSuchApi"/],
    [['frame', 'encode', 'Produce', '99', '{}'], /Produce has no version 99/],
    [['frame', 'encode', 'Metadata', '1', '{not json'], /not valid JSON/],
  ];
  for (const [args, pattern] of cases) {
    const result = brook(args);
    assert.is(result.code, 2, args.join(' '));
    assert.match(result.stderr, pattern);
    assert.is(result.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}`);
    assert.not.match(result.stderr, /at .*\.js:\d+/);
  }
});

test('frame encode writes the exact ApiVersions bytes; decode reads them back', () => {
  const encoded = brook(['frame', 'encode', 'ApiVersions', '0', '{}', '--client-id', 'nc']);
  assert.is(encoded.code, 0);
  assert.is(encoded.stdout.toString('hex'), '0000000c001200000000000100026e63');
  const decoded = brook(['frame', 'decode'], encoded.stdout);
  assert.is(decoded.code, 0, decoded.stderr);
  const json = JSON.parse(decoded.stdout.toString());
  assert.equal([json.api, json.version, json.header.correlationId, json.header.clientId], ['ApiVersions', 0, 1, 'nc']);
});

test('frame round trip of a flexible request with a record set, as hex', () => {
  const body = JSON.stringify({
    transactionalId: null,
    acks: -1,
    timeoutMs: 500,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: '00ff' }] }],
  });
  const encoded = brook(['frame', 'encode', 'Produce', '9', body, '--hex', '--correlation-id', '77']);
  assert.is(encoded.code, 0, encoded.stderr);
  const decoded = brook(['frame', 'decode', '--hex'], encoded.stdout);
  const json = JSON.parse(decoded.stdout.toString());
  assert.is(json.header.correlationId, 77);
  assert.is(json.header.headerVersion, 2);
  assert.is(json.body.topicData[0].partitionData[0].records, '00ff');
  assert.is(json.trailingBytes, 0);
});

test('frame decode of a response needs its api and version, and refuses junk', () => {
  const response = brook(['frame', 'encode', 'ApiVersions', '0', '{"errorCode":35,"apiKeys":[]}', '--response']);
  const decoded = brook(['frame', 'decode', '--response', 'ApiVersions', '0'], response.stdout);
  assert.is(JSON.parse(decoded.stdout.toString()).body.errorCode, 35);
  const junk = brook(['frame', 'decode', '--hex'], 'zz');
  assert.is(junk.code, 2);
  const short = brook(['frame', 'decode', '--hex'], '000000ff00');
  assert.is(short.code, 2);
  assert.match(short.stderr, /says 255 bytes/);
});

test('the test runner reads uvu summaries', () => {
  assert.equal(parseSummary('\u001b[2m  Total:     5\n  Passed:    4\n  Skipped:   0\n'), {
    total: 5,
    passed: 4,
    skipped: 0,
    failed: 1,
  });
  assert.is(parseSummary('no summary here'), null);
});

test.run();
