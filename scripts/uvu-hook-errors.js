// Preloaded by scripts/run-tests.js into every test process: uvu 0.5 runs a suite's
// before/after hooks inside a try/finally that drops their exceptions, so a failed setup
// shows as "(0 / N)" with no reason. This wraps the hook registrars of the default suite
// and of suite() so a hook's error is printed (then rethrown, so the suite still fails).
'use strict';
const uvu = require('uvu');

function wrapHook(register, label) {
  return (fn) =>
    register(async (state) => {
      try {
        return await fn(state);
      } catch (error) {
        process.stderr.write(`\n${label} hook failed: ${error && error.stack ? error.stack : String(error)}\n`);
        throw error;
      }
    });
}

function wrapSuite(suite) {
  const before = suite.before;
  const after = suite.after;
  suite.before = Object.assign(wrapHook(before, 'before'), { each: wrapHook(before.each, 'before.each') });
  suite.after = Object.assign(wrapHook(after, 'after'), { each: wrapHook(after.each, 'after.each') });
  return suite;
}

wrapSuite(uvu.test);
const makeSuite = uvu.suite;
uvu.suite = (...args) => wrapSuite(makeSuite(...args));
