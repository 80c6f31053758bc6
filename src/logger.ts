// Structured JSON-lines logging on sonic-boom. One line per event:
// {"time":..., "level":"info", "msg":"...", ...fields}. Disabled levels cost one
// comparison. Logs go to stderr by default so stdout stays clean for command output.

import * as fs from 'node:fs';
import SonicBoom from 'sonic-boom';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.prototype.hasOwnProperty.call(LEVELS, value);
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
  flushSync(): void;
  /**
   * An error line that is written before this returns: the last words of a process about to
   * exit. (flushSync cannot finish a write the stream already handed to the thread pool.)
   */
  errorSync(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** A file descriptor or a path; default 2 (stderr). */
  destination?: number | string;
}

class JsonLogger implements Logger {
  constructor(
    private readonly stream: SonicBoom,
    private readonly threshold: number,
    private readonly bindings: string,
  ) {}

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.threshold) return;
    this.stream.write(this.format(level, msg, fields));
  }

  private format(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
    let line = `{"time":${Date.now()},"level":"${level}"${this.bindings},"msg":${JSON.stringify(msg)}`;
    if (fields) {
      for (const key of Object.keys(fields)) {
        const value = fields[key];
        if (value === undefined) continue;
        line += `,${JSON.stringify(key)}:${safeStringify(value)}`;
      }
    }
    return `${line}}\n`;
  }

  errorSync(msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS.error < this.threshold) return;
    const line = this.format('error', msg, fields);
    this.flushSync();
    const fd = (this.stream as unknown as { fd: number }).fd;
    if (typeof fd === 'number' && fd >= 0) fs.writeSync(fd, line);
    else this.stream.write(line);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  child(bindings: Record<string, unknown>): Logger {
    let extra = this.bindings;
    for (const key of Object.keys(bindings)) extra += `,${JSON.stringify(key)}:${safeStringify(bindings[key])}`;
    return new JsonLogger(this.stream, this.threshold, extra);
  }

  flushSync(): void {
    try {
      this.stream.flushSync();
    } catch {
      // Nothing buffered, or the destination is gone: nothing more to do.
    }
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
  } catch {
    return '"[unserialisable]"';
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 2;
  const stream =
    typeof destination === 'number'
      ? new SonicBoom({ fd: destination, sync: false })
      : new SonicBoom({ dest: destination, mkdir: true, sync: false });
  return new JsonLogger(stream, LEVELS[options.level ?? 'info'], '');
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  flushSync: () => undefined,
  errorSync: () => undefined,
};
