// Failed SASL authentications counted per client address in one-minute windows: an
// address past its budget has its next attempts refused without the credentials being
// looked at, so passwords cannot be guessed at wire speed (each failure also costs the
// client connection.failed.authentication.delay.ms and a new connection). The map is
// bounded: past its size the address seen least recently is forgotten first.

const WINDOW_MS = 60_000;

export class FailedAuthenticationLimiter {
  private readonly failures = new Map<string, { windowStartMs: number; count: number }>();

  constructor(
    /** Failures allowed per address per minute; 0 means no limit. */
    private readonly perMinute: number,
    private readonly trackedMax: number,
  ) {}

  /** Whether `address` may try to authenticate now. */
  allows(address: string, nowMs: number): boolean {
    if (this.perMinute === 0) return true;
    const entry = this.failures.get(address);
    if (!entry || nowMs - entry.windowStartMs >= WINDOW_MS) return true;
    return entry.count < this.perMinute;
  }

  recordFailure(address: string, nowMs: number): void {
    if (this.perMinute === 0) return;
    let entry = this.failures.get(address);
    if (entry) this.failures.delete(address);
    if (!entry || nowMs - entry.windowStartMs >= WINDOW_MS) entry = { windowStartMs: nowMs, count: 0 };
    entry.count++;
    // Re-inserted so that Map order is least recently failed first.
    this.failures.set(address, entry);
    while (this.failures.size > this.trackedMax) this.failures.delete(this.failures.keys().next().value!);
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}
