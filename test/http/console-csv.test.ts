// The console's file reader for uploads (src/http/console/csv.js, a browser ES module loaded
// here as one): CSV quoting, line endings, byte-order mark and line breaks inside quotes,
// JSON lines, and the errors a person sees for a malformed file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const SOURCE = path.join(__dirname, '..', '..', '..', 'src', 'http', 'console', 'csv.js');
// TypeScript would turn import() into require(); the browser module must load as a module.
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<any>;
let csv: {
  parseCsv(text: string): { columns: string[]; rows: Record<string, unknown>[] };
  parseJsonLines(text: string): { columns: string[]; rows: Record<string, unknown>[] };
  FILE_ROWS_MAX: number;
};

test.before(async () => {
  csv = await importModule(`data:text/javascript;base64,${fs.readFileSync(SOURCE).toString('base64')}`);
});

test('CSV: header row names the columns; quotes, doubled quotes, commas and line breaks inside', () => {
  const text = '\ufeffid,item,note\r\n7,"coffee, dark","say ""hi"""\r\n8,tea,"two\nlines"\n9,,\n';
  const { columns, rows } = csv.parseCsv(text);
  assert.equal(columns, ['id', 'item', 'note']);
  assert.equal(rows, [
    { id: '7', item: 'coffee, dark', note: 'say "hi"' },
    { id: '8', item: 'tea', note: 'two\nlines' },
    { id: '9', item: '', note: '' },
  ]);
});

test('CSV: no trailing newline, blank lines skipped, unnamed columns get a name', () => {
  const { columns, rows } = csv.parseCsv('a,,c\n\n1,2,3');
  assert.equal(columns, ['a', 'column2', 'c']);
  assert.equal(rows, [{ a: '1', column2: '2', c: '3' }]);
});

test('CSV: malformed files are refused with the row named', () => {
  assert.throws(() => csv.parseCsv('a,b\n1,2\n3\n'), /Row 3 has 1 fields but the header names 2 columns/);
  assert.throws(() => csv.parseCsv('a,b\n1,"open\n'), /ends inside a quoted field/);
  assert.throws(() => csv.parseCsv(''), /empty/);
  const tooMany = 'a\n' + '1\n'.repeat(csv.FILE_ROWS_MAX + 2);
  assert.throws(() => csv.parseCsv(tooMany), /more than \d+ rows/);
});

test('JSON lines: one object per line, blank lines skipped, columns are every key seen', () => {
  const { columns, rows } = csv.parseJsonLines('{"id":1,"item":"tea"}\n\n  {"id":2,"tags":["a"]}  \r\n');
  assert.equal(columns, ['id', 'item', 'tags']);
  assert.equal(rows, [
    { id: 1, item: 'tea' },
    { id: 2, tags: ['a'] },
  ]);
});

test('JSON lines: a bad line is named; arrays and scalars are not rows', () => {
  assert.throws(() => csv.parseJsonLines('{"id":1}\n{"id":\n'), /Line 2 is not valid JSON/);
  assert.throws(() => csv.parseJsonLines('[1,2]'), /Line 1 is not a JSON object/);
  assert.throws(() => csv.parseJsonLines('\n\n'), /no JSON lines/);
});

test.run();
