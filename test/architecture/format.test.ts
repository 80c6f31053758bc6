// One formatter for the tree: Prettier with the settings in .prettierrc.json (120 columns).
// This fails, naming the files, when a source file is not as Prettier would write it;
// `npm run format` rewrites them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
/** What Prettier keeps: TypeScript and JavaScript under these folders. */
export const FORMATTED = '{src,protocol,test,bench,scripts}/**/*.{ts,js}';

test('every source file is formatted by Prettier with the project settings', () => {
  const cli = path.join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  const result = spawnSync(process.execPath, [cli, '--list-different', FORMATTED], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(result.error, undefined, String(result.error));
  const unformatted = result.stdout.split('\n').filter(Boolean);
  assert.equal(unformatted, [], `not formatted (run npm run format): ${unformatted.join(', ')}\n${result.stderr}`);
  assert.is(result.status, 0, result.stderr);
});

test.run();
