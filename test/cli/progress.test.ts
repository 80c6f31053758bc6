// Progress lines of the CLI: the renderer as a pure function (bar, percentage, counters,
// rate, clock, fitting the terminal width), the bar's drawing and clearing on a fake
// terminal, and the rule for when it draws at all (a terminal, no --json, no --no-progress).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProgressBar, progressWanted, renderProgress } from '../../src/cli/progress';

test('renderProgress: bar, percentage, records, acknowledgements, MB, rate and clock', () => {
  const line = renderProgress(
    {
      label: 'produce',
      records: 50_000,
      acknowledged: 40_000,
      bytes: 12_345_678,
      elapsedMs: 10_000,
      total: { done: 25, total: 100 },
    },
    120,
  );
  assert.is(line, 'produce [###.......]  25% 50,000 sent 40,000 acked 12.3 MB 5,000 rec/s 0:10');
  const full = renderProgress(
    { label: 'consume', records: 7, bytes: 0, elapsedMs: 3_723_000, total: { done: 9, total: 9 } },
    120,
  );
  assert.is(full, 'consume [##########] 100% 7 records 0.00 MB 0 rec/s 1:02:03');
});

test('renderProgress: no bar without a known end; an overshoot or an empty total stays sane', () => {
  assert.is(
    renderProgress({ label: 'produce', records: 3, bytes: 2_000_000, elapsedMs: 0 }, 80),
    'produce 3 records 2.00 MB 0 rec/s 0:00',
  );
  assert.ok(
    renderProgress({ label: 'x', records: 1, bytes: 0, elapsedMs: 1000, total: { done: 5, total: 2 } }, 80).includes(
      '100%',
    ),
  );
  assert.not.ok(
    renderProgress({ label: 'x', records: 1, bytes: 0, elapsedMs: 1000, total: { done: 0, total: 0 } }, 80).includes(
      '[',
    ),
  );
});

test('renderProgress: never wider than the terminal; at 80 columns everything but the clock fits millions', () => {
  const state = {
    label: 'produce',
    records: 12_345_678,
    acknowledged: 12_345_000,
    bytes: 456_000_000,
    elapsedMs: 61_000,
    total: { done: 1, total: 2 },
  };
  for (const columns of [20, 40, 60, 75, 80, 200])
    assert.ok(renderProgress(state, columns).length < columns, `fits ${columns}`);
  assert.is(
    renderProgress(state, 80),
    'produce [#####.....]  50% 12,345,678 sent 12,345,000 acked 456 MB 202,388 rec/s',
  );
  assert.ok(renderProgress(state, 200).endsWith(' 1:01'));
});

function fakeTerminal(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) }, writes };
}

test('ProgressBar draws over one line and clears it; disabled, it writes nothing', () => {
  let records = 0;
  const { stream, writes } = fakeTerminal(true);
  const bar = new ProgressBar(stream, () => ({ label: 'produce', records, bytes: 0, elapsedMs: 1000 }), true);
  bar.draw();
  records = 5;
  bar.draw();
  bar.finish();
  assert.equal(writes, [
    '\r\x1b[Kproduce 0 records 0.00 MB 0 rec/s 0:01',
    '\r\x1b[Kproduce 5 records 0.00 MB 5 rec/s 0:01',
    '\r\x1b[K',
  ]);
  const off = fakeTerminal(true);
  const silent = new ProgressBar(off.stream, () => ({ label: 'x', records: 1, bytes: 0, elapsedMs: 0 }), false).start();
  silent.draw();
  silent.finish();
  assert.equal(off.writes, []);
});

test('progressWanted: only on a terminal, without --json or --no-progress', () => {
  assert.ok(progressWanted({}, fakeTerminal(true).stream));
  assert.not.ok(progressWanted({}, fakeTerminal(false).stream));
  assert.not.ok(progressWanted({ json: 'true' }, fakeTerminal(true).stream));
  assert.not.ok(progressWanted({ 'no-progress': 'true' }, fakeTerminal(true).stream));
});

test.run();
