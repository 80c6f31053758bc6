// Preloaded (node --require) into brokers the fault soak starts: SIGUSR2 steps this
// process's wall clock (Date.now) forward by BROOK_CLOCK_JUMP_MS (default 60 s), as an NTP
// step or an operator setting the time would; the monotonic clock (performance.now) is not
// touched. Test-only: the soak passes it through NODE_OPTIONS.

const realNow = Date.now;
let offsetMs = 0;
const stepMs = Number(process.env.BROOK_CLOCK_JUMP_MS ?? 60_000);
process.on('SIGUSR2', () => {
  offsetMs += stepMs;
});
Date.now = () => realNow() + offsetMs;
