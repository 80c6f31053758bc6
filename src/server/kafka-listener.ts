// The Kafka listener: a node:net server that accepts connections up to max.connections,
// wraps each in a Connection, and on shutdown stops accepting, lets every connection
// answer what it already received, then closes them.

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

  constructor(
    private readonly options: ListenerOptions,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening; resolves with the bound port (useful when asked for port 0). */
  listen(): Promise<number> {
    const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (info) => {
      this.logger.warn('connection refused: max.connections reached', { remote: `${info?.remoteAddress}:${info?.remotePort}`, limit: this.options.maxConnections });
    });
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

  private accept(socket: net.Socket): void {
    const connection = new Connection(socket, this.dispatcher, this.options, this.logger);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
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
