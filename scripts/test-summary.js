// Parses uvu's summary lines ("Total: N", "Passed: N", "Skipped: N") from one test file's
// output, after stripping ANSI colours. Kept separate so it can be unit-tested.
'use strict';

function stripAnsi(text) {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

function parseSummary(output) {
  const text = stripAnsi(output);
  const number = (label) => {
    const matches = [...text.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : null;
  };
  const total = number('Total');
  const passed = number('Passed');
  if (total === null || passed === null) return null;
  const skipped = number('Skipped') ?? 0;
  return { total, passed, skipped, failed: Math.max(0, total - passed - skipped) };
}

module.exports = { parseSummary, stripAnsi };
