// A lean NATS client over node:net, written from the NATS client protocol documentation,
// with just what the peer benchmark needs: the INFO/CONNECT handshake, PING/PONG, one
// wildcard inbox subscription for every reply, PUB with a reply subject, parsing of
// MSG/HMSG/+OK/-ERR, JetStream API requests, a windowed publisher whose in-flight slots
// each own a pre-built PUB frame (the hot path builds nothing per message), numbered
// publishes for the paced end-to-end producer, and extra subscriptions (pull deliveries).
//
// Wire format (text lines end in CRLF):
//   server: INFO {json}                 client: CONNECT {json}
//   client: SUB <subject> <sid>         client: PUB <subject> [reply] <#bytes>\r\n<payload>
//   server: MSG <subject> <sid> [reply] <#bytes>\r\n<payload>
//   server: HMSG <subject> <sid> [reply] <#header bytes> <#total bytes>\r\n<headers><payload>
//   both:   PING / PONG                 server: +OK / -ERR '<message>'

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { countError } from './workload';

const CRLF = Buffer.from('\r\n');
const HANDSHAKE_TIMEOUT_MS = 10_000;
const INBOX_SID = 1;
/** How long after the deadline the last acknowledgements may take before they count as lost. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface Reply {
  payload: Buffer;
  /** The reply subject the message carries (JetStream names a delivery's position in it). */
  replyTo: string | null;
  /** The status of an HMSG ("503" when no one listens on the subject), or null for MSG. */
  status: string | null;
}

type SlotHandler = (slot: number, reply: Reply) => void;
type SubscriptionHandler = (reply: Reply) => void;

let connectionCount = 0;

export class NatsConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly inbox: string;
  private nextRequest = 0;
  private readonly requests = new Map<string, (reply: Reply) => void>();
  private slotHandler: SlotHandler | null = null;
  private nextSubscription = 0;
  private readonly subscriptions = new Map<number, SubscriptionHandler>();
  /** Called after each chunk of server data has been handled: the publisher sends then. */
  private afterChunk: (() => void) | null = null;
  private pong: (() => void) | null = null;
  private failure: Error | null = null;
  info: Record<string, unknown> = {};

  private constructor(private readonly socket: net.Socket) {
    this.inbox = `_INBOX.bench${process.pid}c${++connectionCount}`;
  }

  static connect(host: string, port: number): Promise<NatsConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const connection = new NatsConnection(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`NATS handshake with ${host}:${port} timed out`));
      }, HANDSHAKE_TIMEOUT_MS);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => connection.fail(new Error('NATS connection closed')));
      // The server speaks first (INFO); the client answers CONNECT, subscribes to its inbox
      // and sends PING: the PONG says the server has taken all three.
      connection.pong = () => {
        clearTimeout(timer);
        resolve(connection);
      };
      let sentConnect = false;
      socket.on('data', (chunk: Buffer) => {
        connection.onData(chunk);
        if (!sentConnect && Object.keys(connection.info).length > 0) {
          sentConnect = true;
          const options = {
            verbose: false,
            pedantic: false,
            lang: 'brook-bench',
            version: '0.1.0',
            protocol: 1,
            headers: true,
            no_responders: true,
          };
          socket.write(`CONNECT ${JSON.stringify(options)}\r\nSUB ${connection.inbox}.* ${INBOX_SID}\r\nPING\r\n`);
        }
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const [, resolve] of this.requests)
      resolve({
        payload: Buffer.from(JSON.stringify({ error: { description: error.message } })),
        replyTo: null,
        status: 'closed',
      });
    this.requests.clear();
    this.afterChunk?.();
  }

  get failed(): Error | null {
    return this.failure;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let at = 0;
    const data = this.buffered;
    for (;;) {
      const lineEnd = data.indexOf(CRLF, at);
      if (lineEnd < 0) break;
      const first = data[at];
      if (first === 0x4d /* M */ || first === 0x48 /* H */) {
        // MSG <subject> <sid> [reply] <#bytes> or HMSG <subject> <sid> [reply] <#hdr> <#total>
        const fields = data.toString('latin1', at, lineEnd).split(' ');
        const headered = first === 0x48;
        const total = Number(fields[fields.length - 1]);
        const headerBytes = headered ? Number(fields[fields.length - 2]) : 0;
        const bodyStart = lineEnd + 2;
        if (data.length < bodyStart + total + 2) break;
        const status = headered
          ? (data
              .toString('latin1', bodyStart, bodyStart + headerBytes)
              .split('\r\n')[0]
              .split(' ')[1] ?? '')
          : null;
        // With a reply subject MSG has 5 fields and HMSG 6.
        const replyTo = fields.length === (headered ? 6 : 5) ? fields[3] : null;
        this.dispatch(fields[1], Number(fields[2]), {
          payload: data.subarray(bodyStart + headerBytes, bodyStart + total),
          replyTo,
          status,
        });
        at = bodyStart + total + 2;
        continue;
      }
      const line = data.toString('latin1', at, lineEnd);
      at = lineEnd + 2;
      if (line === 'PING') this.socket.write('PONG\r\n');
      else if (line === 'PONG') {
        const pong = this.pong;
        this.pong = null;
        pong?.();
      } else if (line.startsWith('INFO ')) this.info = JSON.parse(line.slice(5));
      else if (line.startsWith('-ERR')) {
        this.fail(new Error(`NATS server: ${line}`));
        this.socket.destroy();
      }
      // +OK only comes in verbose mode, which this client turns off.
    }
    this.buffered = at >= data.length ? Buffer.alloc(0) : data.subarray(at);
    this.afterChunk?.();
  }

  /**
   * Messages of the inbox subscription go by token: r<n> answers a request, a bare number
   * a publisher slot. Other subscriptions go by subscription id: a JetStream delivery
   * keeps the subject it was published on, whatever subject it is delivered to.
   */
  private dispatch(subject: string, sid: number, reply: Reply): void {
    if (sid !== INBOX_SID) {
      this.subscriptions.get(sid)?.(reply);
      return;
    }
    const token = subject.slice(this.inbox.length + 1);
    if (token.charCodeAt(0) === 0x72 /* r */) {
      const resolve = this.requests.get(token);
      this.requests.delete(token);
      resolve?.(reply);
    } else this.slotHandler?.(Number(token), reply);
  }

  /** A new subject, subscribed with its own id, whose every message goes to `handler`. */
  subscribe(handler: SubscriptionHandler): string {
    const sid = INBOX_SID + ++this.nextSubscription;
    const subject = `_SUB.bench${process.pid}.${sid}.${this.inbox.slice(7)}`;
    this.subscriptions.set(sid, handler);
    this.socket.write(`SUB ${subject} ${sid}\r\n`);
    return subject;
  }

  publish(subject: string, replyTo: string, payload: string): void {
    const body = Buffer.from(payload);
    this.socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${replyTo} ${body.length}\r\n`), body, CRLF]));
  }

  /** Replies to publishes made with `publishNumbered` go to `handler` with their number. */
  onNumberedReply(handler: SlotHandler | null): void {
    this.slotHandler = handler;
  }

  /** Publishes `payload` once per number, each with the reply subject <inbox>.<number>. */
  publishNumbered(subject: string, payload: Buffer, numbers: number[]): void {
    this.socket.cork();
    for (const n of numbers) {
      this.socket.write(`PUB ${subject} ${this.inbox}.${n} ${payload.length}\r\n`);
      this.socket.write(payload);
      this.socket.write(CRLF);
    }
    this.socket.uncork();
  }

  /** Publishes `payload` with a reply subject on this connection's inbox; the first reply. */
  request(subject: string, payload: string, timeoutMs: number): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const token = `r${++this.nextRequest}`;
    const body = Buffer.from(payload);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(token);
        reject(new Error(`NATS request on ${subject} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.requests.set(token, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.write(
        Buffer.concat([Buffer.from(`PUB ${subject} ${this.inbox}.${token} ${body.length}\r\n`), body, CRLF]),
      );
    });
  }

  /** A JetStream API call: the JSON answer, or an Error carrying the API's error description. */
  async jetStreamApi(subject: string, body: unknown, timeoutMs: number): Promise<any> {
    const reply = await this.request(subject, body === undefined ? '' : JSON.stringify(body), timeoutMs);
    if (reply.status !== null && reply.status !== '') throw new Error(`${subject}: status ${reply.status}`);
    const answer = JSON.parse(reply.payload.toString());
    if (answer.error)
      throw new Error(
        `${subject}: ${answer.error.code ?? ''} ${answer.error.description ?? JSON.stringify(answer.error)}`,
      );
    return answer;
  }

  /**
   * A closed-loop publisher: `window` messages in flight, each slot republished as soon as
   * its JetStream acknowledgement (a PubAck JSON, or {"error":...}) arrives, until
   * `deadlineMs`; resolves with the count of acknowledged messages once every slot is back.
   * Latency per message is publish to acknowledgement, in microseconds.
   */
  publishWindow(
    subject: string,
    payload: Buffer,
    window: number,
    deadlineMs: number,
    histogram: hdr.Histogram,
    errors: Record<string, number>,
  ): Promise<number> {
    const frames = Array.from({ length: window }, (_, slot) =>
      Buffer.concat([Buffer.from(`PUB ${subject} ${this.inbox}.${slot} ${payload.length}\r\n`), payload, CRLF]),
    );
    const sentAtMs = new Float64Array(window);
    const toSend: number[] = [];
    let acknowledged = 0;
    let outstanding = 0;
    return new Promise((resolve) => {
      const flush = () => {
        if (toSend.length === 0) return;
        const now = performance.now();
        this.socket.cork();
        for (const slot of toSend) {
          sentAtMs[slot] = now;
          this.socket.write(frames[slot]);
        }
        this.socket.uncork();
        outstanding += toSend.length;
        toSend.length = 0;
      };
      const drainTimer = setTimeout(
        () => {
          countError(errors, `no acknowledgement within ${DRAIN_TIMEOUT_MS} ms of the deadline`, outstanding);
          finish();
        },
        deadlineMs - performance.now() + DRAIN_TIMEOUT_MS,
      );
      const finish = () => {
        clearTimeout(drainTimer);
        this.slotHandler = null;
        this.afterChunk = null;
        resolve(acknowledged);
      };
      this.slotHandler = (slot, reply) => {
        const now = performance.now();
        outstanding--;
        histogram.recordValue(Math.max(1, Math.round((now - sentAtMs[slot]) * 1000)));
        // A PubAck is {"stream":..,"seq":..}; a failure is {"error":{...}} or a status header.
        if (reply.status !== null && reply.status !== '') countError(errors, `status ${reply.status}`);
        else if (reply.payload.includes('"error"')) countError(errors, errorDescription(reply.payload));
        else acknowledged++;
        if (now < deadlineMs) toSend.push(slot);
      };
      this.afterChunk = () => {
        if (this.failure) {
          countError(errors, this.failure.message, outstanding);
          finish();
          return;
        }
        flush();
        if (outstanding === 0) finish();
      };
      for (let slot = 0; slot < window; slot++) toSend.push(slot);
      flush();
    });
  }
}

function errorDescription(payload: Buffer): string {
  try {
    const error = JSON.parse(payload.toString()).error;
    return `${error.code ?? ''} ${error.description ?? ''}`.trim();
  } catch {
    return 'unparsable error';
  }
}
