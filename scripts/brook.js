#!/usr/bin/env node
// The `brook` executable: runs the compiled CLI from dist/ (built by `npm install`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('brook: dist/ is missing; run `npm install` (it builds dist/) or `npm run build` first\n');
  process.exit(1);
}
// A closed pipe on stdout (brook ... | head) ends the command quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // A client command is done once its output is flushed: a connection left open by a
    // failure must not keep it running (the server keeps running until it is stopped).
    if (process.argv[2] !== 'server')
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
