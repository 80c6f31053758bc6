// A lean Redis client over node:net, written from the RESP2 protocol description, with
// what the peer benchmark needs: commands as RESP arrays of bulk strings, replies parsed
// in order (simple strings, errors, integers, bulk strings, arrays), and a windowed XADD
// publisher that sends one pre-built command frame over and over, `window` in flight.
//
// Wire format: a command is *<argc>\r\n then $<len>\r\n<arg>\r\n per argument; a reply
// starts with + (simple string), - (error), : (integer), $ (bulk, $-1 = nil) or * (array).

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { countError } from './workload';

const CRLF = Buffer.from('\r\n');
const CONNECT_TIMEOUT_MS = 10_000;
/** How long after the deadline the last replies may take before they count as lost. */
const DRAIN_TIMEOUT_MS = 30_000;

export class RespError extends Error {}

export type RespValue = string | number | Buffer | null | RespError | RespValue[];

/**
 * An incremental RESP reader. Arrays are built on a stack, so a large reply (an XREAD of
 * thousands of entries spans many socket reads) is parsed once, element by element, as
 * its bytes arrive: only an element cut by the end of a read is kept and joined with the
 * next read. (Parsing the whole reply again on every read, after joining every read so
 * far, made reading 4 MB replies quadratic.)
 */
class RespReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Arrays being filled: their items so far and how many they hold in all. */
  private readonly stack: { items: RespValue[]; count: number }[] = [];

  /** Feeds one read; calls `reply` for every complete top-level reply, in order. */
  push(chunk: Buffer, reply: (value: RespValue) => void): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    for (;;) {
      const element = this.element(data, at);
      if (element === null) break;
      at = element.next;
      let value: RespValue | undefined = element.value;
      if (element.arrayCount !== undefined) {
        if (element.arrayCount > 0) {
          this.stack.push({ items: [], count: element.arrayCount });
          continue;
        }
        value = [];
      }
      // A finished value goes into its array; a filled array is itself a finished value.
      while (this.stack.length > 0) {
        const top = this.stack[this.stack.length - 1];
        top.items.push(value!);
        if (top.items.length < top.count) break;
        this.stack.pop();
        value = top.items;
      }
      if (this.stack.length === 0) reply(value!);
    }
    // Copied: the rest may be a small piece of a large read, which must not stay alive.
    this.pending = at >= data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
  }

  /** One element at `at`: a value, or an array header (arrayCount); null if cut short. */
  private element(data: Buffer, at: number): { value?: RespValue; arrayCount?: number; next: number } | null {
    if (at >= data.length) return null;
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const type = data[at];
    const line = data.toString('latin1', at + 1, lineEnd);
    const next = lineEnd + 2;
    switch (type) {
      case 0x2b /* + */:
        return { value: line, next };
      case 0x2d /* - */:
        return { value: new RespError(line), next };
      case 0x3a /* : */:
        return { value: Number(line), next };
      case 0x24 /* $ */: {
        const length = Number(line);
        if (length < 0) return { value: null, next };
        if (data.length < next + length + 2) return null;
        // A view: it keeps alive only the read it came in (the reader joins no more than
        // an element cut by the end of a read with the next one).
        return { value: data.subarray(next, next + length), next: next + length + 2 };
      }
      case 0x2a /* * */: {
        const count = Number(line);
        return count < 0 ? { value: null, next } : { arrayCount: count, next };
      }
      default:
        throw new Error(`RESP: unexpected reply type byte ${type} at ${at}`);
    }
  }
}

export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

export class RedisConnection {
  private readonly reader = new RespReader();
  /** Replies are answered in order: one handler per command sent. */
  private readonly waiting: ((reply: RespValue) => void)[] = [];
  private waitingHead = 0;
  private failure: Error | null = null;
  private afterChunk: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {}

  static connect(host: string, port: number): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const connection = new RedisConnection(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to redis ${host}:${port} timed out`));
      }, CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(connection);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => connection.fail(new Error('redis connection closed')));
      socket.on('data', (chunk: Buffer) => connection.onData(chunk));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const waiting = this.waiting.splice(this.waitingHead);
    this.waitingHead = 0;
    this.waiting.length = 0;
    for (const handler of waiting) handler(new RespError(error.message));
    this.afterChunk?.();
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk, (reply) => {
      const handler = this.waiting[this.waitingHead++];
      // Compact the queue now and then instead of shifting it per reply.
      if (this.waitingHead > 4096 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      handler?.(reply);
    });
    this.afterChunk?.();
  }

  /** One command and its reply; a Redis error reply rejects. */
  command(args: (string | Buffer)[], timeoutMs = 60_000): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis ${args[0]} timed out after ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((reply) => {
        clearTimeout(timer);
        if (reply instanceof RespError) reject(reply);
        else resolve(reply);
      });
      this.socket.write(encodeCommand(args));
    });
  }

  /**
   * A closed-loop XADD publisher: `window` commands `XADD <key> * v <payload>` in flight,
   * a new one sent for every reply until `deadlineMs`; resolves with the count of entries
   * added once every reply is in. Latency per entry is send to reply, in microseconds.
   */
  xaddWindow(
    key: string,
    payload: Buffer,
    window: number,
    deadlineMs: number,
    histogram: hdr.Histogram,
    errors: Record<string, number>,
  ): Promise<number> {
    const frame = encodeCommand(['XADD', key, '*', 'v', payload]);
    // Replies come in order, so the send times form a FIFO ring of `window` slots.
    const sentAtMs = new Float64Array(window);
    let sentCount = 0;
    let repliedCount = 0;
    let added = 0;
    let toSend = 0;
    return new Promise((resolve) => {
      const drainTimer = setTimeout(
        () => {
          countError(errors, `no reply within ${DRAIN_TIMEOUT_MS} ms of the deadline`, sentCount - repliedCount);
          finish();
        },
        deadlineMs - performance.now() + DRAIN_TIMEOUT_MS,
      );
      const finish = () => {
        clearTimeout(drainTimer);
        this.afterChunk = null;
        resolve(added);
      };
      const onReply = (reply: RespValue) => {
        const now = performance.now();
        histogram.recordValue(Math.max(1, Math.round((now - sentAtMs[repliedCount % window]) * 1000)));
        repliedCount++;
        if (reply instanceof RespError) countError(errors, reply.message);
        else added++;
        if (now < deadlineMs) toSend++;
      };
      const flush = () => {
        if (toSend === 0) return;
        const now = performance.now();
        this.socket.cork();
        for (; toSend > 0; toSend--) {
          sentAtMs[sentCount++ % window] = now;
          this.waiting.push(onReply);
          this.socket.write(frame);
        }
        this.socket.uncork();
      };
      this.afterChunk = () => {
        if (this.failure) {
          finish();
          return;
        }
        flush();
        if (repliedCount === sentCount) finish();
      };
      toSend = window;
      flush();
    });
  }
}
