// The one bounded wait for tests: polls a predicate until it returns something truthy and
// hands that back, or throws after the timeout naming what was awaited. A predicate that
// throws fails the wait at once (catch inside it to mean "not yet").

export interface UntilOptions {
  /** What is awaited, for the timeout message ("the leader to move"); a function is asked at the timeout. */
  what: string | (() => string);
  /** Default 30000. */
  timeoutMs?: number;
  /** Pause between polls; default 100. */
  intervalMs?: number;
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until<T>(
  predicate: () => T | Promise<T>,
  options: UntilOptions,
): Promise<Exclude<T, null | undefined | false | 0 | ''>> {
  const timeoutMs = options.timeoutMs ?? 30000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as Exclude<T, null | undefined | false | 0 | ''>;
    if (Date.now() >= deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}
