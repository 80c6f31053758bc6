// The server's process guards: an uncaught exception or unhandled rejection is logged as
// one error line, flushed before the exit, and the process exits non-zero.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAULT_EXIT_CODE, installProcessGuards } from '../../src/cli/server-command';
import { createLogger } from '../../src/logger';
import { tempDir } from '../helpers/broker-process';

class FakeProcess extends EventEmitter {
  exits: number[] = [];
  exit(code: number): never {
    this.exits.push(code);
    return undefined as never;
  }
}

for (const [event, thrown] of [
  ['uncaughtException', new Error('boom in a timer')],
  ['unhandledRejection', new Error('rejected write')],
] as const) {
  test(`${event}: one error line, on disk before the exit, then a non-zero exit`, () => {
    const file = path.join(tempDir(), 'server.log');
    const fake = new FakeProcess();
    let linesAtExit = -1;
    fake.exit = (code: number) => {
      // The line is written synchronously: it is in the file when exit is called.
      linesAtExit = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
      fake.exits.push(code);
      return undefined as never;
    };
    // A file descriptor, as the server's stderr is.
    installProcessGuards(createLogger({ destination: fs.openSync(file, 'a') }), fake);
    fake.emit(event, thrown);
    assert.equal(fake.exits, [FAULT_EXIT_CODE]);
    assert.is.not(FAULT_EXIT_CODE as number, 0);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.is(linesAtExit, 1);
    assert.is(lines.length, 1);
    const entry = JSON.parse(lines[0]);
    assert.is(entry.level, 'error');
    assert.match(entry.error, thrown.message);
  });
}

test.run();
