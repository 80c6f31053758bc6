// The bound on sends awaiting their answer: full at the limit, room again only once half
// of it is free, and drained once nothing is out.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutstandingLimit } from '../../src/client/outstanding-limit';

test('waits at the limit, resumes at half, drains to zero', async () => {
  const limit = new OutstandingLimit(4);
  for (let i = 0; i < 4; i++) limit.add();
  assert.ok(limit.full);
  let resumed = false;
  const room = limit.room().then(() => (resumed = true));
  limit.done();
  await Promise.resolve();
  assert.is(resumed, false, 'one free of four is not enough');
  limit.done();
  await room;
  assert.is(limit.outstanding, 2);
  let drained = false;
  const all = limit.drained().then(() => (drained = true));
  limit.done();
  await Promise.resolve();
  assert.is(drained, false);
  limit.done();
  await all;
  assert.is(limit.outstanding, 0);
  await limit.room(); // not full: at once
});

test.run();
