// The listener's memory budget: bytes of requests being handled plus bytes of responses
// written but not yet taken by the kernel, over all connections of a listener (the idea of
// Kafka's queued.max.request.bytes, which bounds its request memory pool). While the budget
// is spent, connections that still owe their client something do not start new requests;
// a connection with nothing in flight and nothing unsent may always start one, so clients
// that read their answers keep being served one request at a time while slow ones wait.

export class MemoryBudget {
  private used = 0;
  private readonly waiters = new Set<() => void>();

  /** `limitBytes` <= 0 means unbounded (Kafka's -1). */
  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  get exhausted(): boolean {
    return this.limitBytes > 0 && this.used >= this.limitBytes;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
    if (this.used < 0) this.used = 0;
    if (this.waiters.size > 0 && !this.exhausted) {
      const waiting = [...this.waiters];
      this.waiters.clear();
      for (const wake of waiting) wake();
    }
  }

  /** Calls `wake` once, the next time bytes are given back while the budget is not spent. */
  wait(wake: () => void): void {
    this.waiters.add(wake);
  }

  cancel(wake: () => void): void {
    this.waiters.delete(wake);
  }
}
