// The Kafka listener: a node:net server that accepts connections up to max.connections,
// wraps each in a Connection, and on shutdown stops accepting, lets every connection
// answer what it already received, then closes them.
// Accepted sockets are re-created around their handle with an `onread` option, so requests
// are read through a FrameAssembler: a large produce request lands in one buffer of its exact
// size, read there by the kernel (no per-read allocation, no joining copy). node:net offers
// `onread` only to sockets it creates from a handle or connects itself, hence the adoption.

import * as net from 'node:net';
import { Logger } from '../logger';
import { Connection, ConnectionLimits, Dispatcher } from './connection';

export interface ListenerOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxConnections: number;
}

export class KafkaListener {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();
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
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.logger.error('listener error', { error: error.message }));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Starts answering new connections. */
  serve(): void {
    this.serving = true;
  }

  private accept(accepted: net.Socket): void {
    if (!this.serving) {
      this.logger.debug('connection closed: the broker is still starting', { remote: `${accepted.remoteAddress}:${accepted.remotePort}` });
      accepted.destroy();
      return;
    }
    // node:net's own max.connections check cannot see adopted sockets, so it is done here.
    if (this.connections.size >= this.options.maxConnections) {
      this.logger.warn('connection refused: max.connections reached', { remote: `${accepted.remoteAddress}:${accepted.remotePort}`, limit: this.options.maxConnections });
      accepted.destroy();
      return;
    }
    let connection: Connection | null = null;
    const socket = adoptWithReads(accepted, Connection.reads(this.options, () => connection));
    const created = new Connection(socket, this.dispatcher, this.options, this.logger);
    connection = created;
    this.connections.add(created);
    socket.on('close', () => this.connections.delete(created));
  }

  /** Stops accepting, waits (bounded) for in-flight requests to be answered, then closes. */
  async close(drainTimeoutMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
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
