// Progress lines for long CLI runs (produce, consume, bench): a pure renderer of one line
// from counters, and a bar that redraws it on stderr at most ten times a second and clears
// it at the end. It draws only on a terminal: never into a pipe, a file, or a test's
// captured output, never with --json, and not with --no-progress.

/** Redraws per second are capped by this interval. */
export const PROGRESS_REDRAW_INTERVAL_MS = 100;
/** Width used when the terminal does not say how wide it is (a pseudo-terminal may say 0). */
const DEFAULT_COLUMNS = 80;
/** Kept short so label, counters, MB and rate fit in 80 columns even at millions of records. */
const BAR_WIDTH = 10;

export interface ProgressState {
  label: string;
  /** Records handled so far (sent, read). */
  records: number;
  /** Records acknowledged, when that differs from `records` (produce). */
  acknowledged?: number;
  /** Payload bytes so far. */
  bytes: number;
  elapsedMs: number;
  /** Known end, for a bar and a percentage: `done` of `total` in `unit`. */
  total?: { done: number; total: number };
}

/** The minimal surface of process.stderr the bar needs (a fake one in tests). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return `${mb < 10 ? mb.toFixed(2) : mb < 100 ? mb.toFixed(1) : Math.round(mb).toString()} MB`;
}

function clock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const mm = String(minutes % 60).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${minutes}:${ss}`;
}

/**
 * One progress line, no wider than `columns`: label, bar and percentage (with a known end),
 * counts, MB and rate, then the clock when it fits. Pure: same input, same text.
 */
export function renderProgress(state: ProgressState, columns = DEFAULT_COLUMNS): string {
  const seconds = state.elapsedMs / 1000;
  const rate = seconds > 0 ? state.records / seconds : 0;
  const parts: string[] = [state.label];
  if (state.total && state.total.total > 0) {
    const fraction = Math.min(1, Math.max(0, state.total.done / state.total.total));
    const filled = Math.round(fraction * BAR_WIDTH);
    parts.push(
      `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`,
      `${Math.floor(fraction * 100)}%`.padStart(4),
    );
  }
  if (state.acknowledged !== undefined)
    parts.push(`${count(state.records)} sent`, `${count(state.acknowledged)} acked`);
  else parts.push(`${count(state.records)} records`);
  parts.push(megabytes(state.bytes), `${count(rate)} rec/s`);
  let line = parts.join(' ');
  const clockText = clock(state.elapsedMs);
  if (line.length + 1 + clockText.length <= columns - 1) line += ` ${clockText}`;
  // The last column stays free: writing into it makes some terminals wrap the line.
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** Whether a command should draw progress: a terminal on stderr, no --json, no --no-progress. */
export function progressWanted(flags: Record<string, string>, stream: ProgressStream = process.stderr): boolean {
  return stream.isTTY === true && !flags.json && !flags['no-progress'];
}

/** Redraws `state()` on a terminal line every PROGRESS_REDRAW_INTERVAL_MS until finish(). */
export class ProgressBar {
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly state: () => ProgressState,
    private readonly enabled: boolean,
  ) {}

  /** Draws at once (so even a short run shows where it stood), then on every interval. */
  start(): this {
    if (!this.enabled || this.timer) return this;
    this.draw();
    this.timer = setInterval(() => this.draw(), PROGRESS_REDRAW_INTERVAL_MS);
    this.timer.unref();
    return this;
  }

  /** Draws the current line over the previous one (carriage return, clear to end of line). */
  draw(): void {
    if (!this.enabled) return;
    this.stream.write(`\r\x1b[K${renderProgress(this.state(), this.stream.columns || DEFAULT_COLUMNS)}`);
    this.drawn = true;
  }

  /** Stops redrawing and leaves the line empty for the summary that follows. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
