// The facts docs/ states that code defines: every broker setting in src/config/limits.ts
// appears in docs/operations.md with its current default, and the API table in
// docs/compatibility.md gives each served API the version range its handler advertises, and
// every "yes" in its client feature table names a test file that exists.
// A new setting or a new version cannot land without its line in the documentation.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SETTINGS, TOPIC_DEFAULT_KEYS } from '../../src/config/limits';
import { handlers } from '../../src/broker/apis';

const DOCS = path.join(__dirname, '..', '..', '..', 'docs');
const read = (name: string) => fs.readFileSync(path.join(DOCS, name), 'utf8');

test('every broker setting is in docs/operations.md with its default', () => {
  const lines = read('operations.md').split('\n');
  for (const setting of SETTINGS) {
    const row = lines.find((line) => line.startsWith(`| \`${setting.key}\` |`));
    assert.ok(row, `docs/operations.md has a row for ${setting.key}`);
    assert.ok(
      row!.includes(`| ${String(setting.defaultValue)} |`),
      `docs/operations.md gives ${setting.key} its default ${setting.defaultValue}: ${row}`,
    );
  }
});

test('every broker-level topic default is in docs/operations.md', () => {
  const text = read('operations.md');
  for (const key of TOPIC_DEFAULT_KEYS) assert.ok(text.includes(`\`${key}\``), `docs/operations.md names ${key}`);
});

test('docs/compatibility.md lists every served API with its advertised versions, and no other', () => {
  const rows = read('compatibility.md')
    .split('\n')
    .map((line) => /^\| ([A-Za-z]+) \((\d+)\) \| ([\d-]+) \|/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null);
  const documented = new Map(rows.map((m) => [Number(m[2]), { name: m[1], versions: m[3] }]));
  for (const handler of handlers) {
    const row = documented.get(handler.apiKey);
    assert.ok(row, `docs/compatibility.md has a row for ${handler.name} (${handler.apiKey})`);
    const min = handler.advertisedMinVersion ?? handler.minVersion;
    const versions = min === handler.maxVersion ? `${min}` : `${min}-${handler.maxVersion}`;
    assert.is(row!.versions, versions, `${handler.name} (${handler.apiKey}) versions`);
    assert.is(row!.name, handler.name, `the name of API key ${handler.apiKey}`);
  }
  assert.is(documented.size, handlers.length, 'no API is documented that is not served');
});

test('docs/compatibility.md: every "yes" in the client feature table names a test file, and each exists', () => {
  const text = read('compatibility.md');
  const start = text.indexOf('### What each client is tested doing');
  assert.ok(start >= 0, 'docs/compatibility.md has the client feature table');
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const [header, , ...rows] = lines.slice(first, end < 0 ? undefined : end);
  const cells = (line: string) => line.split(' | ').map((cell) => cell.replace(/^\| | \|$/g, ''));
  const columns = cells(header).length;
  assert.ok(columns >= 7 && rows.length >= 9, `a feature column, six clients and nine features: ${header}`);
  let named = 0;
  for (const row of rows) {
    const [feature, ...answers] = cells(row);
    assert.is(answers.length, columns - 1, `the row "${feature}" has a cell per client`);
    for (const [i, answer] of answers.entries()) {
      const files = [...answer.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]);
      if (answer.startsWith('yes'))
        assert.ok(files.length > 0, `"${feature}" for ${cells(header)[i + 1]} names its test`);
      for (const file of files) {
        named++;
        assert.ok(fs.existsSync(path.join(DOCS, '..', file)), `${file}, named for "${feature}", exists`);
      }
    }
  }
  assert.ok(named > 0, 'the table names test files');
});

test("docs/compatibility.md compares with Kafka 4.1, and Brook advertises no version beyond Kafka 4.1's", () => {
  const lines = read('compatibility.md').split('\n');
  assert.ok(lines.includes('| API (key) | Brook | Kafka 4.1 | notes |'), 'the table header names Kafka 4.1');
  const rows = lines
    .map((line) => /^\| ([A-Za-z]+) \((\d+)\) \| ([\d-]+) \| ([\d-]+) \|/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null);
  assert.is(rows.length, handlers.length);
  for (const [, name, , brook, kafka] of rows) {
    const max = (range: string) => Number(range.split('-').pop());
    assert.ok(max(brook) <= max(kafka), `${name}: Brook's ${brook} stays within Kafka 4.1's ${kafka}`);
  }
});

test.run();
