// The Kafka listener: a node:net server that accepts connections up to max.connections,
// wraps each in a Connection, and on shutdown stops accepting, lets every connection
// answer what it already received, then closes them.
// Accepted sockets are re-created around their handle with an `onread` option, so requests
// are read through a FrameAssembler: a large produce request lands in one buffer of its exact
// size, read there by the kernel (no per-read allocation, no joining copy). node:net offers
// `onread` only to sockets it creates from a handle or connects itself, hence the adoption.
// On a TLS listener the accepted socket is wrapped in a server-side tls.TLSSocket instead;
// after the handshake its client certificate gives the connection's principal, and frames
// are read from 'data' events into the same assembler.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { Logger } from '../logger';
import { normalizePeerAddress } from '../config/config';
import { TlsMaterial } from '../security/tls';
import type { ConnectionQuotas } from '../security/connection-quotas';
import { Connection, ConnectionLimits, Dispatcher, KEEPALIVE_INITIAL_DELAY_MS, ReservedGate } from './connection';

export interface ListenerOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxConnections: number;
  /** max.connections.per.ip (unlimited when absent). */
  maxConnectionsPerIp?: number;
  /** max.connections.per.ip.overrides: IP address to its own limit. */
  maxConnectionsPerIpOverrides?: Map<string, number>;
  /** connections.max.idle.ms (never when absent). */
  idleMs?: number;
  /** A half-read request frame with no new bytes for this long closes the connection (never when absent). */
  partialRequestTimeoutMs?: number;
  /** Slots beyond the limits above for connections that pass `reservedGate`. */
  reservedConnections?: number;
  reservedGate?: ReservedGate;
  /** How long a connection on a reserved slot has to send its first request. */
  reservedProofMs?: number;
  /** Called for each connection admitted, before any of its requests (the controller port's handshake deadline). */
  onAccept?: (connection: Connection) => void;
  /**
   * Serve TLS with this material (SSL and SASL_SSL listeners). The listener watches its
   * files from listen() and stops watching on close().
   */
  tls?: TlsMaterial;
  /** Connection creation rates (KIP-612), shared by the broker's listeners; none when absent. */
  connectionQuotas?: ConnectionQuotas;
  /** Not counted against max.connection.creation.rate (the inter-broker listener, when there are others). */
  connectionRateExempt?: boolean;
}

/** An accepted socket waiting for the broker-wide connection rate to allow it. */
interface WaitingSocket {
  socket: net.Socket;
  /** Already counted against the broker-wide rate (the one whose count started the wait). */
  counted: boolean;
}

const DEFAULT_RESERVED_PROOF_MS = 2000;

export class KafkaListener {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();
  /** Connections on the ordinary slots, by peer IP address (for max.connections.per.ip). */
  private readonly perIp = new Map<string, number>();
  private clientCount = 0;
  /** Connections on reserved slots, oldest first. */
  private readonly reserved = new Set<Connection>();
  private idleTimer: NodeJS.Timeout | undefined;
  /**
   * Sockets accepted while max.connection.creation.rate holds accepting back, in arrival
   * order (at most max.connections; more are closed), and when accepting may go on.
   */
  private readonly waiting: WaitingSocket[] = [];
  private acceptBlockedUntilMs = 0;
  private acceptTimer: NodeJS.Timeout | undefined;
  /** Sockets over their IP's connection_creation_rate, held unread until closed. */
  private readonly throttledSockets = new Map<net.Socket, NodeJS.Timeout>();
  /**
   * With `closedUntilServe` (the broker's Kafka port), false from listen() until serve():
   * connections are closed at once meanwhile. Other listeners serve from listen() on.
   */
  private serving: boolean;

  constructor(
    private readonly options: ListenerOptions,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    closedUntilServe = false,
  ) {
    this.serving = !closedUntilServe;
    // A TLS listener without a key store fails here, at startup, not at the first accept.
    if (options.tls) void options.tls.serverContext;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Binds the port; resolves with the bound port (useful when asked for port 0), so the
   * port is known (and registered in the metadata) before the broker can answer. Until
   * serve(), a connection is closed as soon as it is accepted, which a client treats as a
   * refused connection and retries; holding it instead could deadlock nodes that start
   * together and need each other's Kafka ports to finish starting.
   */
  listen(): Promise<number> {
    // Paused on accept so that no byte is read before the socket is adopted.
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.logger.error('listener error', { error: error.message }));
        this.startIdleSweep();
        this.options.tls?.watch();
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /**
   * Closes connections idle for connections.max.idle.ms and those stalled in the middle of
   * a request frame; checked a few times per period.
   */
  private startIdleSweep(): void {
    const { idleMs, partialRequestTimeoutMs: partialMs } = this.options;
    if ((!idleMs && !partialMs) || this.idleTimer) return;
    const period = Math.min(idleMs || Infinity, partialMs || Infinity);
    this.idleTimer = setInterval(
      () => {
        const now = Date.now();
        for (const connection of this.connections) {
          if (partialMs && connection.isStalled(now, partialMs)) {
            this.logger.warn('closing connection: a request frame stalled half-sent', {
              connection: connection.id,
              remote: connection.remote,
              timeoutMs: partialMs,
            });
            connection.close('partial frame timeout');
          } else if (idleMs && connection.isIdle(now, idleMs)) {
            this.logger.debug('closing idle connection', {
              connection: connection.id,
              remote: connection.remote,
              idleMs,
            });
            connection.close('idle');
          }
        }
      },
      Math.max(10, Math.min(Math.floor(period / 4), 30_000)),
    );
    this.idleTimer.unref();
  }

  /** Starts answering new connections. */
  serve(): void {
    this.serving = true;
  }

  /**
   * The connection rates first (KIP-612): while the broker-wide rate is exceeded, new sockets
   * wait (unread, in order) until it is back within max.connection.creation.rate, as Kafka's
   * acceptor blocks; a socket over its IP's connection_creation_rate is held unread for the
   * throttle time and then closed, as Kafka delays closing it.
   */
  private onConnection(socket: net.Socket): void {
    const quotas = this.options.connectionQuotas;
    if (!quotas || !this.serving) {
      this.accept(socket);
      return;
    }
    if (this.waiting.length > 0 || Date.now() < this.acceptBlockedUntilMs) {
      if (this.waiting.length >= this.options.maxConnections) {
        this.logger.warn('connection refused: too many connections waiting for max.connection.creation.rate', {
          remote: `${socket.remoteAddress}:${socket.remotePort}`,
        });
        socket.destroy();
        return;
      }
      socket.on('error', () => undefined);
      this.waiting.push({ socket, counted: false });
      this.scheduleWaiting();
      return;
    }
    this.admitWaiting({ socket, counted: false });
  }

  private get listenerName(): string {
    return this.options.security?.listenerName ?? 'PLAINTEXT';
  }

  /** Counts a socket against the connection rates; false when it must wait (it is queued first). */
  private admitWaiting(entry: WaitingSocket): boolean {
    const quotas = this.options.connectionQuotas!;
    const exempt = this.options.connectionRateExempt === true;
    if (!entry.counted) {
      entry.counted = true;
      const delayMs = quotas.recordBrokerConnection(Date.now(), this.listenerName, exempt);
      if (delayMs > 0) {
        this.acceptBlockedUntilMs = Date.now() + delayMs;
        this.waiting.unshift(entry);
        this.logger.debug('accepting paused: max.connection.creation.rate', { delayMs });
        this.scheduleWaiting();
        return false;
      }
    }
    const socket = entry.socket;
    const ip = normalizePeerAddress(socket.remoteAddress ?? '');
    const holdMs = quotas.recordIpConnection(ip, Date.now(), !exempt, this.listenerName);
    if (holdMs > 0) {
      this.logger.debug('connection throttled: connection_creation_rate of its IP', { remote: ip, holdMs });
      if (this.throttledSockets.size >= this.options.maxConnections) {
        socket.destroy();
        return true;
      }
      const timer = setTimeout(() => {
        this.throttledSockets.delete(socket);
        socket.destroy();
      }, holdMs);
      this.throttledSockets.set(socket, timer);
      socket.on('error', () => undefined);
      return true;
    }
    this.accept(socket);
    return true;
  }

  private scheduleWaiting(): void {
    if (this.acceptTimer || this.waiting.length === 0) return;
    const delayMs = Math.max(0, this.acceptBlockedUntilMs - Date.now());
    this.acceptTimer = setTimeout(() => {
      this.acceptTimer = undefined;
      while (this.waiting.length > 0 && Date.now() >= this.acceptBlockedUntilMs && this.server) {
        if (!this.admitWaiting(this.waiting.shift()!)) return;
      }
    }, delayMs);
  }

  /**
   * Ordinary slots: max.connections in all, max.connections.per.ip (or its override) per
   * peer address. A connection past either limit may take a reserved slot, if one is free
   * (else the oldest connection still on probation there is dropped for it), and keeps it
   * only if its first request passes the gate in time; otherwise it is refused.
   */
  private accept(accepted: net.Socket): void {
    const remote = `${accepted.remoteAddress}:${accepted.remotePort}`;
    if (!this.serving) {
      this.logger.debug('connection closed: the broker is still starting', { remote });
      accepted.destroy();
      return;
    }
    const ip = normalizePeerAddress(accepted.remoteAddress ?? '');
    const ipLimit = this.options.maxConnectionsPerIpOverrides?.get(ip) ?? this.options.maxConnectionsPerIp ?? Infinity;
    // node:net's own max.connections check cannot see adopted sockets, so it is done here.
    let refusal: string | null = null;
    if (this.clientCount >= this.options.maxConnections) refusal = 'max.connections reached';
    else if ((this.perIp.get(ip) ?? 0) >= ipLimit) refusal = 'max.connections.per.ip reached';
    const gate = this.options.reservedGate;
    const reservedSlots = gate ? (this.options.reservedConnections ?? 0) : 0;
    if (refusal !== null) {
      if (this.reserved.size >= reservedSlots) {
        const unproven = [...this.reserved].find((c) => c.onProbation);
        if (unproven) {
          this.logger.debug('connection dropped: its reserved slot goes to a newer connection', {
            connection: unproven.id,
            remote: unproven.remote,
          });
          unproven.close('dropped for a newer connection on a reserved slot');
          this.reserved.delete(unproven);
        }
      }
      if (this.reserved.size >= reservedSlots) {
        this.logger.warn(`connection refused: ${refusal}`, {
          remote,
          limit: refusal.startsWith('max.connections.per.ip') ? ipLimit : this.options.maxConnections,
        });
        accepted.destroy();
        return;
      }
    }
    let connection: Connection | null = null;
    const material = this.options.tls;
    const socket = material
      ? wrapTls(accepted, material)
      : adoptWithReads(
          accepted,
          Connection.reads(this.options, () => connection),
        );
    const created = new Connection(socket, this.dispatcher, this.options, this.logger);
    connection = created;
    this.connections.add(created);
    if (material) this.handshake(created, socket as tls.TLSSocket, material);
    this.options.onAccept?.(created);
    if (refusal !== null) {
      this.reserved.add(created);
      created.probation(gate!, this.options.reservedProofMs ?? DEFAULT_RESERVED_PROOF_MS, refusal);
      socket.on('close', () => {
        this.connections.delete(created);
        this.reserved.delete(created);
      });
      return;
    }
    this.clientCount++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    socket.on('close', () => {
      this.connections.delete(created);
      this.clientCount--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    });
  }

  /**
   * Completes the TLS handshake of an accepted connection within the handshake timeout,
   * then sets its principal from the client certificate (ANONYMOUS without one) and starts
   * reading requests. A failed handshake or a refused certificate closes it with one line;
   * the listener and its other connections carry on.
   */
  private handshake(connection: Connection, socket: tls.TLSSocket, material: TlsMaterial): void {
    const timeoutMs = material.settings.handshakeTimeoutMs;
    const timer = setTimeout(() => {
      this.logger.info('TLS handshake timed out', { connection: connection.id, remote: connection.remote, timeoutMs });
      connection.close('TLS handshake timeout');
    }, timeoutMs);
    const failed = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.logger.info('TLS handshake failed', {
        connection: connection.id,
        remote: connection.remote,
        error: error.code ?? error.message,
      });
    };
    socket.once('error', failed);
    socket.once('close', () => clearTimeout(timer));
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      try {
        // On SASL_SSL the certificate is still verified, but SASL names the principal.
        const principal = material.principalOf(socket);
        if (connection.security.securityProtocol === 'SSL') connection.security.principal = principal;
      } catch (error) {
        this.logger.info('TLS client refused', {
          connection: connection.id,
          remote: connection.remote,
          reason: (error as Error).message,
        });
        connection.close('TLS client refused');
        return;
      }
      connection.readDataEvents();
    });
  }

  /** Stops accepting, waits (bounded) for in-flight requests to be answered, then closes. */
  async close(drainTimeoutMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    clearInterval(this.idleTimer);
    clearTimeout(this.acceptTimer);
    this.acceptTimer = undefined;
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
    for (const [socket, timer] of this.throttledSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttledSockets.clear();
    this.options.tls?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.connections) connection.stopReading();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    await Promise.race([Promise.all([...this.connections].map((c) => c.drained())), timeout]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.close('shutdown');
    await closed;
  }
}

/**
 * The accepted socket (paused, never read from) wrapped in a server-side TLS socket with
 * the material's current secure context, so that a reloaded certificate serves the next
 * handshake while established connections keep theirs.
 */
function wrapTls(accepted: net.Socket, material: TlsMaterial): tls.TLSSocket {
  accepted.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
  const { secureContext, requestCert, rejectUnauthorized } = material.serverOptions();
  const socket = new tls.TLSSocket(accepted, { isServer: true, secureContext, requestCert, rejectUnauthorized });
  // Renegotiation (TLS 1.2) would let a client make the broker redo handshakes at will.
  socket.disableRenegotiation();
  return socket;
}

/**
 * A socket around the accepted socket's handle that reads through `onread`. The accepted
 * socket (paused, never read from) gives up its handle and is destroyed, which also takes
 * it out of the server's connection count.
 */
function adoptWithReads(accepted: net.Socket, onread: net.OnReadOpts): net.Socket {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  // No handle means the peer is already gone; the closed socket is handed on as it is.
  if (!handle) return accepted;
  holder._handle = null;
  accepted.destroy();
  return new net.Socket({ handle, onread, readable: true, writable: true } as net.SocketConstructorOpts);
}
