// One client connection on the Kafka listener: splits frames, decodes headers, runs
// requests concurrently (pipelining) but sends responses strictly in request order, as
// Kafka requires, and stops reading from the socket while too many requests are in flight.
// A frame that cannot be parsed closes this connection with one log line; nothing a client
// sends can throw past this file. On a SASL listener every frame passes the connection's
// SASL authenticator first (src/security/sasl/authenticator.ts): until it has
// authenticated, the connection dispatches nothing but ApiVersions.

import { Socket } from 'node:net';
import { FrameAssembler, frameReads } from '../../protocol/frame';
import { decodeRequestHeader, RequestHeader } from '../../protocol/header';
import { ProtocolError, Reader } from '../../protocol/primitives';
import { Logger } from '../logger';
import { normalizePeerAddress } from '../config/config';
import { ErrorCode } from '../../protocol/errors';
import { ConnectionSecurity, plaintextSecurity, usesSasl } from '../security/principal';
import type { GateAction, SaslAuthenticator } from '../security/sasl/authenticator';
import type { SaslListener } from '../security/sasl/listener';
import { MemoryBudget } from './memory-budget';

/** Fetch's API key: the request whose answers are large, read from the log files. */
const FETCH_KEY = 1;

/**
 * What a dispatcher returns for one request: frame buffers, nothing (acks=0), or a close;
 * or a response (or none) after which the connection is muted for a quota's throttle time.
 */
export type DispatchResult = Buffer[] | 'no-response' | 'close' | ThrottledResult;

/**
 * A response that a client quota throttled (KIP-219): it goes out at once, carrying the
 * throttle time, and then nothing more is read from the connection for `throttleTimeMs`.
 */
export interface ThrottledResult {
  frames: Buffer[] | 'no-response';
  throttleTimeMs: number;
}

export interface Dispatcher {
  dispatch(header: RequestHeader, body: Reader, connection: Connection): Promise<DispatchResult> | DispatchResult;
  /**
   * The request's own response carrying `errorCode` (for a request refused by the SASL
   * gate, as Kafka answers one with ILLEGAL_SASL_STATE); nothing when it cannot be built.
   */
  errorResponse?(header: RequestHeader, body: Reader, errorCode: number): Buffer[] | null;
}

export interface ConnectionLimits {
  socketRequestMaxBytes: number;
  maxInflightRequests: number;
  /**
   * Response bytes queued on the socket past which the connection is not read until the
   * client has drained them (unbounded when absent).
   */
  maxQueuedResponseBytes?: number;
  /**
   * Fetches of one connection handled at once; later frames wait, in order, behind one
   * that would pass it (unbounded when absent). Kafka handles one request per connection
   * at a time; clients send one Fetch per connection at a time.
   */
  maxInflightFetches?: number;
  /** The listener's shared budget for request and unsent response bytes (none when absent). */
  budget?: MemoryBudget;
  /** The listener's name and security protocol (a PLAINTEXT listener named PLAINTEXT when absent). */
  security?: Pick<ConnectionSecurity, 'listenerName' | 'securityProtocol'>;
  /** The SASL side of a SASL_PLAINTEXT or SASL_SSL listener (required there: without it such a connection is refused). */
  sasl?: SaslListener;
}

/**
 * Decides whether a connection on a reserved slot may stay: given its first request's
 * header and a reader over its body, true when it comes from another broker (see KafkaListener).
 */
export type ReservedGate = (
  header: RequestHeader,
  body: Reader,
  remoteAddress: string | undefined,
  security: ConnectionSecurity,
) => Promise<boolean> | boolean;

/** TCP keepalive on accepted sockets: the first probe after this much silence. */
export const KEEPALIVE_INITIAL_DELAY_MS = 60_000;

interface Pending {
  done: boolean;
  result: Buffer[] | 'no-response' | 'close';
  /** Mute the connection this long once the response is sent (a quota throttle). */
  throttleMs?: number;
  /** The request frame's size, taken from the budget until the request is answered. */
  requestBytes: number;
  fetch: boolean;
  /** The connection closes once this response is written (a failed SASL authentication). */
  closeAfter?: boolean;
}

let nextConnectionId = 1;

function isFetch(frame: Buffer): boolean {
  return frame.length >= 2 && frame.readInt16BE(0) === FETCH_KEY;
}

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  /** The peer's address alone (IPv4-mapped IPv6 unwrapped): what ACL host fields match. */
  readonly clientAddress: string;
  /** Requests in arrival order; the head leaves first once its response is ready. */
  private readonly queue: Pending[] = [];
  private closed = false;
  private paused = false;
  /** Not read because too many response bytes wait for the client (until 'drain'). */
  private muted = false;
  /**
   * Not read because a client quota throttled it (KIP-219), until throttleTimer fires; kept
   * apart from `muted`, which the client's draining ends.
   */
  private throttled = false;
  private throttleTimer: NodeJS.Timeout | undefined;
  private throttledUntilMs = 0;
  /** When bytes last arrived, or reading last resumed; and whether a frame is half-read. */
  private lastReadMs = Date.now();
  private partialFrame = false;
  private stopped = false;
  private drainWaiters: (() => void)[] = [];
  /** When the last request arrived or the last response left (for connections.max.idle.ms). */
  lastActiveMs = Date.now();
  /** Who the peer is: the listener sets it, TLS and SASL authentication update it. */
  security: ConnectionSecurity;
  /** Set while the connection sits on a reserved slot and has not yet proved it is a broker. */
  private gate: ReservedGate | null = null;
  private held: Buffer[] = [];
  private gateTimer: NodeJS.Timeout | undefined;
  /** Fetches in flight, and response bytes written but not yet taken by the kernel. */
  private inflightFetches = 0;
  private unsentBytes = 0;
  /** Set while held frames wait for the memory budget (the callback it will call). */
  private budgetWait: (() => void) | null = null;
  /** The SASL gate on a SASL listener, null elsewhere. */
  private readonly sasl: SaslAuthenticator | null = null;
  /** Set once SASL authentication failed: nothing more is read, the close is under way. */
  private saslFailing = false;
  private saslFailureTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly dispatcher: Dispatcher,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.clientAddress = normalizePeerAddress(socket.remoteAddress ?? '');
    this.security = plaintextSecurity(limits.security?.listenerName);
    if (limits.security) this.security.securityProtocol = limits.security.securityProtocol;
    if (usesSasl(this.security.securityProtocol)) {
      if (limits.sasl) {
        const address = normalizePeerAddress(socket.remoteAddress ?? '');
        this.sasl = limits.sasl.authenticator(this.security, address, this.remote);
      } else {
        // A SASL listener without its SASL settings must not serve anyone unauthenticated.
        this.security.authenticated = false;
        this.logger.error('closing connection: SASL listener without SASL settings', { remote: this.remote });
        this.saslFailing = true;
        socket.destroy();
      }
    }
    socket.setNoDelay(true);
    // Dead peers (a host that vanished without a FIN) are found by the kernel's probes.
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    socket.on('error', (error) => {
      this.logger.debug('connection error', { connection: this.id, remote: this.remote, error: error.message });
    });
    socket.on('close', () => this.onClose());
  }

  get inflight(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The socket `onread` option that feeds this connection (see KafkaListener.accept). */
  static reads(limits: ConnectionLimits, target: () => Connection | null): ReturnType<typeof frameReads> {
    // Only a SASL listener's bound changes with the connection's state; elsewhere it is fixed.
    const assembler = new FrameAssembler(
      limits.sasl ? () => target()?.frameBytesMax ?? limits.socketRequestMaxBytes : limits.socketRequestMaxBytes,
    );
    const reads = frameReads(
      assembler,
      (frames) => target()?.onFrames(frames) ?? false,
      (error) => target()?.fail('bad frame', error),
    );
    return {
      buffer: reads.buffer,
      callback: (bytesRead) => {
        const more = reads.callback(bytesRead);
        const connection = target();
        if (connection) {
          connection.lastReadMs = Date.now();
          connection.partialFrame = assembler.partial;
        }
        return more;
      },
    };
  }

  /** The bound on the next frame: sasl.server.max.receive.size while SASL authentication is under way. */
  get frameBytesMax(): number {
    const saslMax = this.sasl?.frameBytesMax ?? null;
    return saslMax === null ? this.limits.socketRequestMaxBytes : Math.min(saslMax, this.limits.socketRequestMaxBytes);
  }

  /**
   * Reads this connection's frames from 'data' events, for sockets that cannot be adopted
   * with `onread` (TLS sockets, whose bytes are decrypted in node:tls first). The same
   * assembler and back-pressure apply: when onFrames declines more, the socket is paused,
   * and the TLS socket in turn stops reading from the network once its buffer is full.
   */
  readDataEvents(): void {
    // The same bound as the onread path: sasl.server.max.receive.size until SASL has authenticated.
    const assembler = new FrameAssembler(this.sasl ? () => this.frameBytesMax : this.limits.socketRequestMaxBytes);
    let failed = false;
    this.socket.on('data', (chunk: Buffer) => {
      if (failed || this.closed) return;
      let frames: Buffer[];
      try {
        frames = assembler.push(chunk);
      } catch (error) {
        failed = true;
        this.fail('bad frame', error);
        return;
      }
      this.lastReadMs = Date.now();
      this.partialFrame = assembler.partial;
      if (frames.length > 0 && !this.onFrames(frames)) this.socket.pause();
    });
  }

  /**
   * Half a request frame has been waiting for its rest for `timeoutMs` while the connection
   * was being read (time spent not reading, by back-pressure, does not count).
   */
  isStalled(nowMs: number, timeoutMs: number): boolean {
    const reading = !this.paused && !this.muted && !this.throttled && !this.stopped && this.gate === null;
    return reading && this.partialFrame && nowMs - this.lastReadMs >= timeoutMs;
  }

  private resumeReading(): void {
    if (this.closed || this.paused || this.muted || this.throttled || this.stopped || this.gate !== null) return;
    this.lastReadMs = Date.now();
    this.socket.resume();
  }

  /** True while the connection holds a reserved slot it has not yet earned. */
  get onProbation(): boolean {
    return this.gate !== null;
  }

  /**
   * Puts the connection on a reserved slot: its first request must pass `gate` within
   * `proofMs`, or the connection is closed with `refusal` as the log line's reason.
   * Nothing it sends is dispatched before the gate has answered.
   */
  probation(gate: ReservedGate, proofMs: number, refusal: string): void {
    this.gate = gate;
    this.gateTimer = setTimeout(() => this.refuse(refusal, 'no broker request in time'), proofMs);
    this.refusal = refusal;
  }

  private refusal = '';

  private refuse(reason: string, detail: string): void {
    if (this.closed) return;
    this.logger.warn('connection refused: ' + reason, { connection: this.id, remote: this.remote, detail });
    this.close(reason);
  }

  private checkGate(frame: Buffer): void {
    const gate = this.gate!;
    let header: RequestHeader;
    let verdict: Promise<boolean> | boolean;
    try {
      const reader = new Reader(frame);
      header = decodeRequestHeader(reader);
      verdict = gate(header, reader, this.socket.remoteAddress, this.security);
    } catch {
      verdict = false;
    }
    const decide = (admitted: boolean) => {
      if (this.closed) return;
      if (!admitted) {
        this.refuse(this.refusal, "first request is not a registered broker's");
        return;
      }
      clearTimeout(this.gateTimer);
      this.gate = null;
      const held = this.held;
      this.held = [];
      if (this.onFrames(held)) this.resumeReading();
    };
    if (verdict instanceof Promise) verdict.then(decide, () => decide(false));
    else decide(verdict);
  }

  /** Handles complete frames; returns false to stop reading (too many requests in flight). */
  private onFrames(frames: Buffer[]): boolean {
    if (this.closed || this.stopped || this.saslFailing) return false;
    this.lastActiveMs = Date.now();
    if (this.gate && this.sasl && !this.security.authenticated && this.held.length === 0) {
      // On a SASL listener a broker authenticates first: its SASL exchange (and the
      // ApiVersions before it) is handled while the slot is on probation, and the first
      // request after it is the one judged.
      let i = 0;
      while (i < frames.length && !this.security.authenticated && !this.closed && !this.saslFailing)
        this.onFrame(frames[i++]);
      if (i === frames.length || this.closed || this.saslFailing) return !this.closed && !this.saslFailing;
      frames = frames.slice(i);
    }
    if (this.gate) {
      // Held, unread, until the first frame has been judged.
      const first = this.held.length === 0;
      this.held.push(...frames);
      this.socket.pause();
      if (first) this.checkGate(this.held[0]);
      return false;
    }
    for (let i = 0; i < frames.length; i++) {
      if (this.closed) return false;
      if (!this.mayStart(frames[i])) {
        // Frames already read wait, unhandled and in order, until what holds them clears:
        // the client drains its responses, an earlier Fetch ends, or the budget has room.
        this.held.push(...frames.slice(i));
        this.socket.pause();
        return false;
      }
      this.onFrame(frames[i]);
    }
    if (!this.paused && this.queue.length >= this.limits.maxInflightRequests) {
      this.paused = true;
      this.socket.pause();
      return false;
    }
    return !this.closed && !this.muted && !this.throttled;
  }

  /** Whether `frame` may be handled now; when not, arranges to be woken (see onFrames). */
  private mayStart(frame: Buffer): boolean {
    if (this.muted || this.throttled) return false;
    const max = this.limits.maxInflightFetches;
    if (max !== undefined && this.inflightFetches >= max && isFetch(frame)) return false;
    const budget = this.limits.budget;
    if (budget?.exhausted && (this.queue.length > 0 || this.unsentBytes > 0)) {
      if (!this.budgetWait) {
        this.budgetWait = () => {
          this.budgetWait = null;
          this.releaseHeld();
        };
        budget.wait(this.budgetWait);
      }
      return false;
    }
    return true;
  }

  /** Handles the frames held back, in order, and reads on when none is held any more. */
  private releaseHeld(): void {
    if (this.closed || this.stopped || this.gate !== null) return;
    const held = this.held;
    this.held = [];
    if (held.length === 0 || this.onFrames(held)) this.resumeReading();
  }

  private onFrame(frame: Buffer): void {
    if (this.sasl && !this.saslFailing) {
      let action: GateAction;
      try {
        action = this.sasl.handle(frame);
      } catch (error) {
        // A fault in a mechanism (not a client's bad token, which is a failure value).
        this.fail('SASL authenticator failed', error);
        return;
      }
      if (action.kind !== 'pass') {
        this.onSaslAction(action);
        return;
      }
    }
    if (this.saslFailing) return;
    const reader = new Reader(frame);
    let header: RequestHeader;
    try {
      header = decodeRequestHeader(reader);
    } catch (error) {
      this.fail('unparseable request header', error);
      return;
    }
    const fetch = header.apiKey === FETCH_KEY;
    const pending: Pending = { done: false, result: 'no-response', requestBytes: frame.length, fetch };
    this.queue.push(pending);
    if (fetch) this.inflightFetches++;
    this.limits.budget?.take(frame.length);
    let outcome: Promise<DispatchResult> | DispatchResult;
    try {
      outcome = this.dispatcher.dispatch(header, reader, this);
    } catch (error) {
      this.failRequest(header, error);
      return;
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (result) => this.complete(pending, result),
        (error) => this.failRequest(header, error),
      );
    } else {
      this.complete(pending, outcome);
    }
  }

  /** Carries out what the SASL gate decided for a frame it kept from dispatch. */
  private onSaslAction(action: Exclude<GateAction, { kind: 'pass' }>): void {
    if (action.kind === 'drop') return;
    if (action.kind === 'answer') {
      const pending: Pending = { done: false, result: 'no-response', requestBytes: 0, fetch: false };
      this.queue.push(pending);
      this.complete(pending, action.frames);
      return;
    }
    if (action.kind === 'close') {
      this.saslFailing = true;
      const pending: Pending = { done: false, result: 'no-response', requestBytes: 0, fetch: false };
      this.queue.push(pending);
      this.complete(pending, 'close');
      return;
    }
    // A failure: nothing more is read; after the delay the answer (if any) goes out, in
    // order behind earlier responses, and the connection closes (Kafka's delayed close).
    this.saslFailing = true;
    this.socket.pause();
    const pending: Pending = { done: false, result: 'no-response', requestBytes: 0, fetch: false, closeAfter: true };
    this.queue.push(pending);
    const refuse = action.refuse;
    this.saslFailureTimer = setTimeout(() => {
      let frames = action.frames;
      if (refuse) {
        try {
          frames = this.dispatcher.errorResponse?.(refuse.header, refuse.body, ErrorCode.ILLEGAL_SASL_STATE) ?? [];
        } catch {
          frames = [];
        }
      }
      this.complete(pending, frames.length > 0 ? frames : 'no-response');
    }, this.sasl!.failureDelayMs);
  }

  /** Sends what the socket still holds, then closes it (bounded: a peer that does not read is cut off). */
  private endAndClose(): void {
    if (this.closed) return;
    this.release();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.notifyDrained();
  }

  private failRequest(header: RequestHeader, error: unknown): void {
    const reason = error instanceof ProtocolError ? 'malformed request' : 'request failed';
    this.fail(`${reason} (api ${header.apiKey} v${header.apiVersion}, correlation ${header.correlationId})`, error);
  }

  private complete(pending: Pending, result: DispatchResult): void {
    if (this.closed) return;
    pending.done = true;
    if (typeof result === 'object' && !Array.isArray(result)) {
      pending.result = result.frames;
      pending.throttleMs = result.throttleTimeMs;
    } else pending.result = result;
    this.finished(pending);
    this.flush();
    // Frames held for a Fetch to end, or for this connection to owe nothing, may go now.
    if (this.held.length > 0 && !this.muted && !this.throttled) this.releaseHeld();
  }

  /**
   * Mutes the connection for `ms` from now (a quota throttle, KIP-219): nothing more is read
   * or started until then. A longer throttle already running is kept.
   */
  private throttle(ms: number): void {
    if (this.closed || ms <= 0) return;
    const untilMs = Date.now() + ms;
    if (this.throttled && untilMs <= this.throttledUntilMs) return;
    this.throttled = true;
    this.throttledUntilMs = untilMs;
    this.socket.pause();
    clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttled = false;
      if (this.closed) return;
      this.releaseHeld();
    }, ms);
  }

  /** True while a quota throttle keeps the connection unread. */
  get isThrottled(): boolean {
    return this.throttled;
  }

  /** A request's own resources go back once it is answered (or its connection closed). */
  private finished(pending: Pending): void {
    if (pending.fetch) this.inflightFetches--;
    pending.fetch = false;
    this.limits.budget?.give(pending.requestBytes);
    pending.requestBytes = 0;
  }

  /** Sends every finished response at the head of the queue, in order. */
  private flush(): void {
    if (this.queue.length === 0 || !this.queue[0].done) return;
    this.socket.cork();
    const budget = this.limits.budget;
    let written = 0;
    let last: Buffer | null = null;
    let throttleMs = 0;
    while (this.queue.length > 0 && this.queue[0].done) {
      const { result, closeAfter, throttleMs: ms } = this.queue.shift()!;
      if (ms !== undefined && ms > throttleMs) throttleMs = ms;
      if (result === 'close') {
        if (last) this.socket.write(last);
        this.socket.uncork();
        this.close('dispatcher asked to close');
        return;
      }
      if (result !== 'no-response') {
        for (const part of result) {
          if (last) this.socket.write(last);
          last = part;
          written += part.length;
        }
      }
      if (closeAfter) {
        if (last) this.socket.write(last);
        this.socket.uncork();
        this.endAndClose();
        return;
      }
    }
    if (last && budget) {
      // Writes finish in order: the last one's callback means all of these left user space.
      const bytes = written;
      this.unsentBytes += bytes;
      budget.take(bytes);
      this.socket.write(last, (error) => {
        if (this.closed) return;
        this.unsentBytes -= bytes;
        budget.give(bytes);
        if (error || this.socket.destroyed) {
          this.close('write failed');
          return;
        }
        if (this.unsentBytes === 0 && this.held.length > 0 && !this.muted && !this.throttled) this.releaseHeld();
      });
    } else if (last) this.socket.write(last);
    this.socket.uncork();
    this.lastActiveMs = Date.now();
    // The throttle runs from the moment its response is handed to the socket.
    if (throttleMs > 0) this.throttle(throttleMs);
    const bound = this.limits.maxQueuedResponseBytes;
    if (bound !== undefined && !this.muted && this.socket.writableLength >= bound) {
      // Kafka mutes such a channel: nothing more is read (so no more responses are made)
      // until the client has taken what waits for it.
      this.muted = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.muted = false;
        if (!this.throttled) this.releaseHeld();
      });
    }
    if (this.paused && !this.stopped && this.queue.length < this.limits.maxInflightRequests) {
      this.paused = false;
      this.resumeReading();
    }
    if (this.queue.length === 0) this.notifyDrained();
  }

  private fail(reason: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn('closing connection', { connection: this.id, remote: this.remote, reason, error: message });
    this.close(reason);
  }

  /** True while reading waits for the client to drain queued responses. */
  get isMuted(): boolean {
    return this.muted;
  }

  /** No request in flight and none received for `idleMs`. */
  isIdle(nowMs: number, idleMs: number): boolean {
    return this.queue.length === 0 && nowMs - this.lastActiveMs >= idleMs;
  }

  close(_reason?: string): void {
    if (this.closed) return;
    this.release();
    this.socket.destroy();
    this.notifyDrained();
  }

  private onClose(): void {
    if (!this.closed) this.release();
    this.notifyDrained();
  }

  /** Marks the connection closed and gives back everything it held of the budget. */
  private release(): void {
    this.closed = true;
    clearTimeout(this.gateTimer);
    clearTimeout(this.saslFailureTimer);
    clearTimeout(this.throttleTimer);
    this.held = [];
    for (const pending of this.queue) this.finished(pending);
    this.queue.length = 0;
    const budget = this.limits.budget;
    if (budget) {
      if (this.budgetWait) budget.cancel(this.budgetWait);
      this.budgetWait = null;
      budget.give(this.unsentBytes);
    }
    this.unsentBytes = 0;
  }

  /** Resolves once every request received so far has been answered (or the socket closed). */
  drained(): Promise<void> {
    if (this.queue.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops reading new requests (used by shutdown); in-flight ones still complete. */
  stopReading(): void {
    this.stopped = true;
    this.paused = true;
    this.socket.pause();
  }

  private notifyDrained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
