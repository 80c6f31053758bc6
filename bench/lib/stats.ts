// Summaries of a row measured over several rounds: the median, and the spread (lowest and
// highest round) that says how much the shared machine moved the figure.

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median: 0.1 means the rounds lie within 10% of the median's size. */
  relative: number;
}

export function spread(values: number[]): Spread {
  const middle = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: middle, min, max, relative: middle > 0 ? (max - min) / middle : 0 };
}
