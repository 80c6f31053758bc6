declare module '*/test-summary' {
  export function parseSummary(
    output: string,
  ): { total: number; passed: number; skipped: number; failed: number } | null;
}
