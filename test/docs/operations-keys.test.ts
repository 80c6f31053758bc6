// docs/operations.md describes every broker setting: each key in src/config/limits.ts
// (and each broker-level topic default) appears there with its current default, so a new
// or changed setting cannot land without its line in the operations guide.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SETTINGS, TOPIC_DEFAULT_KEYS } from '../../src/config/limits';

const OPERATIONS = path.join(__dirname, '..', '..', '..', 'docs', 'operations.md');

test('every broker setting is in docs/operations.md with its default', () => {
  const text = fs.readFileSync(OPERATIONS, 'utf8');
  for (const setting of SETTINGS) {
    const row = text.split('\n').find((line) => line.startsWith(`| \`${setting.key}\` |`));
    assert.ok(row, `docs/operations.md has a row for ${setting.key}`);
    assert.ok(row!.includes(`| ${String(setting.defaultValue)} |`), `docs/operations.md gives ${setting.key} its default ${setting.defaultValue}: ${row}`);
  }
});

test('every broker-level topic default is in docs/operations.md', () => {
  const text = fs.readFileSync(OPERATIONS, 'utf8');
  for (const key of TOPIC_DEFAULT_KEYS) assert.ok(text.includes(`\`${key}\``), `docs/operations.md names ${key}`);
});

test.run();
