// The HTTP listener (--http): for now the health endpoints that scripts and orchestration
// use; the console, REST API and /metrics (issue 7) are added on this same server.
// Every answer is JSON, including errors, and request bodies are never read.

import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger } from '../logger';

export interface HttpStatus {
  /** True once the broker is serving the Kafka listener. */
  ready(): boolean;
}

export class HttpServer {
  private server: http.Server | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly status: HttpStatus,
    private readonly logger: Logger,
  ) {}

  listen(): Promise<number> {
    const server = http.createServer((req, res) => this.route(req, res));
    server.maxHeadersCount = 100;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.logger.error('http listener error', { error: error.message }));
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, { error: 'method not allowed', method: req.method });
    }
    if (url.pathname === '/health') return send(res, 200, { status: 'up' });
    if (url.pathname === '/ready') {
      return this.status.ready() ? send(res, 200, { status: 'ready' }) : send(res, 503, { status: 'starting' });
    }
    send(res, 404, { error: 'not found', path: url.pathname });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
