// The console's WebSocket endpoint /api/v1/live: a stats push every second to every socket,
// and per-socket tail subscriptions that push a topic's new records as they arrive, read
// with the bundled consumer from this node's Kafka listener. Everything is bounded: the
// number of sockets, one tail per socket, a cap on tails per node, records per push, bytes
// per value, and a slow socket's messages are dropped rather than queued without limit.

import * as http from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, RawData } from 'ws';
import { TOPIC_NAME_LENGTH_MAX } from '../../protocol/topic-names';
import type { Broker } from '../broker/broker';
import { Consumer, ConsumerRecord } from '../client/consumer';
import { Logger } from '../logger';
import { decodeOutput, Encoding } from './record-format';
import type { ClientSecurity } from '../security/client-config';

/** Where the WebSocket is served. */
export const LIVE_PATH = '/api/v1/live';
/** Sockets served at once; more are refused with close code 1013 (try again later). */
export const LIVE_SOCKETS_MAX = 64;
/** A socket follows at most this many topics; a new tail replaces the old one. */
export const LIVE_TAILS_PER_SOCKET_MAX = 1;
/** Tails (each one consumer) on one node across all sockets. */
export const LIVE_TAILS_MAX = 16;
/** A message from the browser larger than this closes the socket (ws enforces it). */
export const LIVE_INBOUND_MESSAGE_BYTES_MAX = 4096;
/** Above this many bytes waiting to be written, messages to that socket are dropped. */
export const LIVE_SOCKET_BUFFERED_BYTES_MAX = 1024 * 1024;
/** Records in one {type:"records"} push; more arriving in one interval are skipped. */
export const LIVE_TAIL_RECORDS_PER_PUSH_MAX = 200;
/** Keys and values are cut to this many bytes before they are formatted for the browser. */
export const LIVE_TAIL_VALUE_BYTES_MAX = 4096;
/** How often gathered tail records are pushed. */
export const LIVE_TAIL_PUSH_INTERVAL_MS = 250;
/** Sockets are pinged this often; one that has not answered the previous ping is cut. */
export const LIVE_HEARTBEAT_INTERVAL_MS = 30_000;
/** How often stats are pushed. */
export const LIVE_STATS_INTERVAL_MS = 1000;

/**
 * The stats pushed each second, as src/http/metrics.ts samples them (produce and fetch
 * records/s and bytes/s, request latency percentiles, connections) plus a brokers summary;
 * this file forwards them and does not depend on their exact fields.
 */
export type LiveStats = { at?: number } & Record<string, unknown>;

export interface LiveOptions {
  /** The latest stats sample. */
  stats: () => LiveStats;
  /**
   * Calls the listener after every new sample and returns the unsubscribe function; the
   * pushes then follow the sampler. Without it, stats are read on a timer.
   */
  onStats?: (listener: () => void) => () => void;
  /** host:port of this node's Kafka listener, which tails read from. */
  bootstrap: () => string;
  /** TLS and SASL of the tail consumers; PLAINTEXT when absent. */
  security?: ClientSecurity;
  logger: Logger;
  statsIntervalMs?: number;
  tailPushIntervalMs?: number;
  heartbeatIntervalMs?: number;
}

/** One record as the console shows it (the same shape as the REST records answer). */
export interface LiveRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null; encoding: Encoding | null }[];
  keyEncoding: Encoding | null;
  valueEncoding: Encoding | null;
  truncated?: boolean;
}

interface Tail {
  topic: string;
  consumer: Consumer;
  pending: LiveRecord[];
  skipped: number;
  timer: NodeJS.Timeout;
  stopped: boolean;
}

interface SocketState {
  tail: Tail | null;
  /** Messages dropped because the socket was slow, reported with the next message sent. */
  dropped: number;
  /** Whether the socket answered the last ping. */
  alive: boolean;
  /** Whether the credentials the socket opened with still hold (a session not ended, a token not expired). */
  authorized: () => boolean;
  /** Whether the socket's principal may Read a topic (a tail is a Fetch). */
  mayRead: (topic: string) => boolean;
}

export class LiveServer {
  private readonly sockets = new Map<WebSocket, SocketState>();
  private readonly server: WebSocketServer;
  private statsTimer: NodeJS.Timeout | null = null;
  private statsUnsubscribe: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private tails = 0;
  private closed = false;

  constructor(private readonly options: LiveOptions) {
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: LIVE_INBOUND_MESSAGE_BYTES_MAX,
      clientTracking: false,
    });
  }

  /**
   * Takes over an HTTP upgrade request: /api/v1/live is accepted, any other path is 404.
   * `authorized` is asked before every stats push; once it says no, the socket is closed
   * with 1008 (policy violation). `mayRead` decides which topics the socket may tail.
   */
  handleUpgrade(
    request: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    authorized: () => boolean = () => true,
    mayRead: (topic: string) => boolean = () => true,
  ): void {
    socket.on('error', () => socket.destroy());
    if ((request.url ?? '').split('?')[0] !== LIVE_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    // Browsers send Origin and do not apply CORS to WebSockets: without this check any web
    // page open in the operator's browser could follow the cluster's topics. Programs that
    // send no Origin (ws, curl) are let through, as the REST API lets them through.
    if (!sameOrigin(request)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (this.closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (webSocket) => this.accept(webSocket, authorized, mayRead));
  }

  private accept(socket: WebSocket, authorized: () => boolean, mayRead: (topic: string) => boolean): void {
    if (this.sockets.size >= LIVE_SOCKETS_MAX) {
      socket.close(1013, 'too many live connections');
      return;
    }
    const state: SocketState = { tail: null, dropped: 0, alive: true, authorized, mayRead };
    this.sockets.set(socket, state);
    socket.on('pong', () => (state.alive = true));
    socket.on('message', (data, isBinary) => this.receive(socket, state, data, isBinary));
    socket.on('error', (error) => this.options.logger.debug('live socket error', { error: error.message }));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.stopTail(state);
      if (this.sockets.size === 0) this.stopStats();
    });
    this.startStats();
    this.send(socket, state, {
      type: 'hello',
      statsIntervalMs: this.statsIntervalMs,
      limits: {
        tailsPerSocket: LIVE_TAILS_PER_SOCKET_MAX,
        recordsPerPush: LIVE_TAIL_RECORDS_PER_PUSH_MAX,
        valueBytes: LIVE_TAIL_VALUE_BYTES_MAX,
      },
    });
    // The first stats go out at once so a freshly opened page has numbers to show.
    this.pushStats([socket]);
  }

  private get statsIntervalMs(): number {
    return this.options.statsIntervalMs ?? LIVE_STATS_INTERVAL_MS;
  }

  private receive(socket: WebSocket, state: SocketState, data: RawData, isBinary: boolean): void {
    if (!state.authorized()) {
      socket.close(1008, 'logged out or credentials expired');
      return;
    }
    if (isBinary) return this.sendError(socket, state, 'bad-message', 'Messages must be JSON text, not binary.');
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.sendError(socket, state, 'bad-json', 'That message is not valid JSON.');
    }
    if (!isJsonObject(message)) {
      return this.sendError(socket, state, 'bad-message', 'A message must be a JSON object with a "type".');
    }
    switch (message.type) {
      case 'tail':
        if (
          typeof message.topic !== 'string' ||
          message.topic.length === 0 ||
          message.topic.length > TOPIC_NAME_LENGTH_MAX
        ) {
          return this.sendError(
            socket,
            state,
            'bad-message',
            'A tail needs the name of a topic: {"type":"tail","topic":"..."}.',
          );
        }
        void this.startTail(socket, state, message.topic);
        return;
      case 'untail':
        this.stopTail(state);
        this.send(socket, state, { type: 'untailed' });
        return;
      case 'ping':
        this.send(socket, state, { type: 'pong' });
        return;
      default:
        return this.sendError(
          socket,
          state,
          'unknown-type',
          `Unknown message type ${JSON.stringify(String(message.type))}; use "tail", "untail" or "ping".`,
        );
    }
  }

  // ---- stats --------------------------------------------------------------------------

  private startStats(): void {
    // A browser that vanished without closing (sleep, network gone) is found by the pings.
    this.heartbeatTimer ??= setInterval(
      () => this.heartbeat(),
      this.options.heartbeatIntervalMs ?? LIVE_HEARTBEAT_INTERVAL_MS,
    );
    this.heartbeatTimer.unref();
    if (this.statsTimer || this.statsUnsubscribe) return;
    const push = () => this.pushStats([...this.sockets.keys()]);
    if (this.options.onStats) {
      this.statsUnsubscribe = this.options.onStats(push);
      return;
    }
    this.statsTimer = setInterval(push, this.statsIntervalMs);
    this.statsTimer.unref();
  }

  private heartbeat(): void {
    for (const [socket, state] of this.sockets) {
      if (!state.alive) {
        socket.terminate();
        continue;
      }
      state.alive = false;
      socket.ping();
    }
  }

  private stopStats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.statsUnsubscribe?.();
    this.statsUnsubscribe = null;
  }

  private pushStats(sockets: WebSocket[]): void {
    let stats: LiveStats;
    try {
      stats = this.options.stats();
    } catch (error) {
      this.options.logger.warn('live stats failed', { error: String(error) });
      return;
    }
    // Serialised once and shared by every socket.
    const text = JSON.stringify({ type: 'stats', ...stats, at: stats.at ?? Date.now() });
    for (const socket of sockets) {
      const state = this.sockets.get(socket);
      if (!state) continue;
      if (!state.authorized()) {
        // The close handler forgets the socket once the close completes.
        socket.close(1008, 'logged out or credentials expired');
        this.stopTail(state);
        continue;
      }
      this.sendText(socket, state, text);
    }
  }

  // ---- tails --------------------------------------------------------------------------

  private async startTail(socket: WebSocket, state: SocketState, topic: string): Promise<void> {
    // One tail per socket (LIVE_TAILS_PER_SOCKET_MAX): following another topic replaces it.
    this.stopTail(state);
    if (!state.mayRead(topic)) {
      return this.sendError(
        socket,
        state,
        'TOPIC_AUTHORIZATION_FAILED',
        `Not authorized to READ topic ${JSON.stringify(topic)}.`,
      );
    }
    if (this.tails >= LIVE_TAILS_MAX) {
      return this.sendError(
        socket,
        state,
        'too-many-tails',
        `This node already serves ${LIVE_TAILS_MAX} live tails; close another console tab and try again.`,
      );
    }
    const consumer = new Consumer({
      bootstrap: [this.options.bootstrap()],
      clientId: 'brook-console-tail',
      security: this.options.security,
      maxWaitMs: 500,
      requestTimeoutMs: 10_000,
      maxPartitionBytes: 256 * 1024,
    });
    const tail: Tail = {
      topic,
      consumer,
      pending: [],
      skipped: 0,
      stopped: false,
      timer: setInterval(
        () => this.flushTail(socket, state, tail),
        this.options.tailPushIntervalMs ?? LIVE_TAIL_PUSH_INTERVAL_MS,
      ),
    };
    tail.timer.unref();
    state.tail = tail;
    this.tails++;
    try {
      const [metadata] = await consumer.cluster.refreshMetadata([topic]);
      if (tail.stopped) return;
      if (!metadata || metadata.errorCode !== 0 || metadata.partitions.length === 0) {
        this.stopTail(state);
        return this.sendError(socket, state, 'unknown-topic', `There is no topic named "${topic}".`);
      }
      // Start from each partition's end as it is now, looked up before answering, so that
      // anything produced after the "tailing" answer is delivered.
      consumer.assign(metadata.partitions.map((p) => ({ topic, partition: p.partition, offset: 'latest' as const })));
      const ends = await consumer.endOffsets();
      if (tail.stopped) return;
      consumer.assign(
        metadata.partitions.map((p) => ({
          topic,
          partition: p.partition,
          offset: ends.get(`${topic}-${p.partition}`) ?? 'latest',
        })),
      );
      this.send(socket, state, { type: 'tailing', topic, partitions: metadata.partitions.length });
    } catch (error) {
      if (tail.stopped) return;
      this.stopTail(state);
      return this.sendError(
        socket,
        state,
        'tail-failed',
        `Could not follow "${topic}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    void this.readTail(tail);
  }

  private async readTail(tail: Tail): Promise<void> {
    try {
      while (!tail.stopped) {
        const record = await tail.consumer.next();
        if (record === null || tail.stopped) return;
        // Bounded: past the per-push cap, records are counted and skipped, not kept.
        if (tail.pending.length < LIVE_TAIL_RECORDS_PER_PUSH_MAX) tail.pending.push(toLiveRecord(record));
        else tail.skipped++;
      }
    } catch (error) {
      if (!tail.stopped) this.options.logger.warn('live tail stopped', { topic: tail.topic, error: String(error) });
    }
  }

  private flushTail(socket: WebSocket, state: SocketState, tail: Tail): void {
    if (tail.pending.length === 0 && tail.skipped === 0) return;
    const records = tail.pending;
    tail.pending = [];
    const skipped = tail.skipped;
    tail.skipped = 0;
    this.send(socket, state, { type: 'records', topic: tail.topic, records, ...(skipped > 0 ? { skipped } : {}) });
  }

  private stopTail(state: SocketState): void {
    const tail = state.tail;
    if (!tail) return;
    state.tail = null;
    tail.stopped = true;
    this.tails--;
    clearInterval(tail.timer);
    void tail.consumer
      .close()
      .catch((error) => this.options.logger.debug('live tail close failed', { error: String(error) }));
  }

  // ---- sending ------------------------------------------------------------------------

  private sendError(socket: WebSocket, state: SocketState, code: string, message: string): void {
    this.send(socket, state, { type: 'error', error: { code, message } });
  }

  private send(socket: WebSocket, state: SocketState, message: Record<string, unknown>): void {
    this.sendText(socket, state, JSON.stringify(message));
  }

  private sendText(socket: WebSocket, state: SocketState, text: string): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > LIVE_SOCKET_BUFFERED_BYTES_MAX) {
      state.dropped++;
      return;
    }
    if (state.dropped > 0) {
      socket.send(JSON.stringify({ type: 'dropped', count: state.dropped }));
      state.dropped = 0;
    }
    socket.send(text);
  }

  /** Number of open sockets and running tails (for tests and metrics). */
  counts(): { sockets: number; tails: number } {
    return { sockets: this.sockets.size, tails: this.tails };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopStats();
    for (const [socket, state] of this.sockets) {
      this.stopTail(state);
      socket.close(1001, 'server shutting down');
    }
    // Sockets that do not finish the closing handshake promptly are cut.
    const deadline = Date.now() + 1000;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const socket of this.sockets.keys()) socket.terminate();
    this.server.close();
  }
}

/** True when the request has no Origin, or one naming the host it was sent to. */
export function sameOrigin(request: http.IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The brokers line of the stats push: how many are registered, fenced, and who leads. */
export function brokersSummary(broker: Broker): { total: number; fenced: number; controllerId: number } {
  let fenced = 0;
  const brokers = [...broker.quorum.image.brokers.values()];
  for (const b of brokers) if (b.fenced) fenced++;
  return { total: brokers.length, fenced, controllerId: broker.quorum.leaderId };
}

/**
 * Formats a consumed record for the browser as the REST records answer does (format "auto":
 * text, JSON flagged as such, or hex for binary), keys and values cut to a bounded size.
 */
export function toLiveRecord(record: ConsumerRecord): LiveRecord {
  const cut = (bytes: Buffer | null) =>
    bytes !== null && bytes.length > LIVE_TAIL_VALUE_BYTES_MAX ? bytes.subarray(0, LIVE_TAIL_VALUE_BYTES_MAX) : bytes;
  const key = decodeOutput(cut(record.key), 'auto');
  const value = decodeOutput(cut(record.value), 'auto');
  const truncated =
    (record.key?.length ?? 0) > LIVE_TAIL_VALUE_BYTES_MAX || (record.value?.length ?? 0) > LIVE_TAIL_VALUE_BYTES_MAX;
  return {
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: key.value,
    value: value.value,
    headers: record.headers.map((h) => {
      const decoded = decodeOutput(cut(h.value), 'auto');
      return { key: h.key, value: decoded.value, encoding: decoded.encoding };
    }),
    keyEncoding: key.encoding,
    valueEncoding: value.encoding,
    ...(truncated ? { truncated: true } : {}),
  };
}

/** A parsed JSON value that is an object (not null, not an array): its fields are still unchecked. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
