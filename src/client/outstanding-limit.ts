// A bound on sends awaiting their answer, for loops that feed a producer as fast as it
// takes records (`brook produce`, the benches). At the limit the loop waits for room, and
// is woken once half the limit is free again (or nothing is left), not at every answer: a
// wake per answer would cost the loop a promise per record.

export class OutstandingLimit {
  private count = 0;
  private waiter: (() => void) | null = null;

  constructor(private readonly max: number) {}

  get outstanding(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.max;
  }

  /** One more send is out. */
  add(): void {
    this.count++;
  }

  /** A send has its answer. */
  done(): void {
    this.count--;
    if (this.waiter === null || (this.count > this.max / 2 && this.count > 0)) return;
    const wake = this.waiter;
    this.waiter = null;
    wake();
  }

  /** Resolves at once when not full, else once half the limit is free. */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Resolves once every send has its answer. */
  async drained(): Promise<void> {
    while (this.count > 0) await new Promise<void>((resolve) => (this.waiter = resolve));
  }
}
