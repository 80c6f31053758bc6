// Per-API request counters and latency totals, kept cheap enough for the hot path. The
// HTTP /metrics endpoint (issue 7) renders these; benchmarks read them too.

export class RequestMetrics {
  readonly started = new Map<number, number>();
  readonly finished = new Map<number, number>();
  readonly latencyNsTotal = new Map<number, bigint>();

  requestStarted(apiKey: number): void {
    this.started.set(apiKey, (this.started.get(apiKey) ?? 0) + 1);
  }

  requestFinished(apiKey: number, startedNs: bigint): void {
    this.finished.set(apiKey, (this.finished.get(apiKey) ?? 0) + 1);
    const elapsed = process.hrtime.bigint() - startedNs;
    this.latencyNsTotal.set(apiKey, (this.latencyNsTotal.get(apiKey) ?? 0n) + elapsed);
  }
}
