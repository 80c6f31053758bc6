// The HTTP listener (--http): /health, /ready, /metrics and the REST API under /api/v1
// (routes in src/http/routes/), in the broker's own process. Every answer is JSON except
// /metrics; errors are {"error": {"code", "message"}} with a 4xx/5xx status, and nothing a
// client sends can throw past route(). The console (src/http/console/) adds its routes to
// `router` and its WebSocket to `server` before listen(). With brook.http.tls.* the listener
// is HTTPS; every request passes the Host allowlist and, with authentication on, names its
// principal (src/http/request-auth.ts) before a route sees it. With an authorizer the API
// routes and live tails are decided by the Kafka port's ACLs for that principal
// (src/http/authorization.ts); /health, /ready and /metrics are not: they say how the node
// is, not what the cluster holds, and keep their own settings (always open; metrics behind
// brook.http.auth.metrics).

import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Broker } from '../broker/broker';
import { Logger } from '../logger';
import type { BearerValidator } from '../security/http-auth';
import type { CredentialStore } from '../security/scram';
import { ConsoleAssets } from './console-assets';
import { EXPOSITION_CONTENT_TYPE } from './exposition';
import { HttpError, toHttpError } from './http-errors';
import { KafkaClients } from './kafka-clients';
import { brokersSummary, LiveServer } from './live';
import { NodeMetrics } from './metrics';
import openapi from './openapi.json';
import { readiness } from './readiness';
import { Reply, Router } from './router';
import { addClusterRoutes } from './routes/cluster-routes';
import { addGroupRoutes } from './routes/group-routes';
import { addRecordRoutes } from './routes/record-routes';
import { addTopicRoutes } from './routes/topic-routes';
import { isLoopbackHost } from './host-guard';
import { httpTlsMaterial, serveTlsMaterial } from './http-tls';
import type { TlsMaterial } from '../security/tls';
import { HttpAccess } from './request-auth';
import type { ClientSecurity } from '../security/client-config';
import { AclOperation } from '../security/acl';
import { normalizePeerAddress } from '../config/config';
import { bundledClientWarning, RequestAuthorization } from './authorization';

/** Open HTTP connections at most (the Kafka listener has its own limit). */
const HTTP_CONNECTIONS_MAX = 1000;
/** How long a clean stop waits for the REST producers to deliver what they hold. */
const CLIENTS_CLOSE_MS = 3000;

/** What the routes need: the broker (in-process reads), the clients (writes), the metrics. */
export interface ApiContext {
  broker: Broker;
  clients: KafkaClients;
  metrics: NodeMetrics;
  logger: Logger;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  broker: Broker;
  /** host:port of this node's Kafka listener, for the bundled clients (asked at first use). */
  kafkaBootstrap: () => string;
  /** TLS and SASL of those clients (the broker's inter-broker client settings); PLAINTEXT when absent. */
  kafkaSecurity?: ClientSecurity;
  /** Open Kafka connections (for /metrics and the live stats). */
  connections: () => number;
  /** True once the Kafka listener is bound (readiness waits for it). */
  kafkaListening: () => boolean;
  logger: Logger;
  /** The raw brook.http.* and Kafka security keys (BrokerConfig.securityKeys): TLS, auth, allowed hosts. */
  securityKeys?: Record<string, string>;
  /** The host Kafka clients are told (advertised.listeners), allowed as a Host by default. */
  advertisedHost?: string | null;
  /** SCRAM credentials that Basic auth and the console login check passwords against. */
  credentials?: CredentialStore;
  /**
   * Checks Bearer tokens; by default the OAUTHBEARER JWT validator of the sasl.oauthbearer.*
   * keys when they are set; null accepts no Bearer tokens.
   */
  bearer?: BearerValidator | null;
  /** The wall clock for sessions, caches and failure windows (tests move it). */
  nowMs?: () => number;
}

export class HttpServer {
  readonly server: http.Server | https.Server;
  readonly router = new Router();
  readonly context: ApiContext;
  readonly live: LiveServer;
  readonly access: HttpAccess;
  private readonly tls: TlsMaterial | null;
  /** Stops following certificate reloads (HTTPS only). */
  private readonly stopTls: (() => void) | null = null;
  private readonly consoleAssets = new ConsoleAssets();

  constructor(private readonly options: HttpServerOptions) {
    const metrics = new NodeMetrics(options.broker, options.connections);
    const logger = options.logger.child({ component: 'http' });
    this.context = {
      broker: options.broker,
      clients: new KafkaClients(options.kafkaBootstrap, options.kafkaSecurity),
      metrics,
      logger,
    };
    const keys = options.securityKeys ?? {};
    this.tls = httpTlsMaterial(keys, logger);
    this.access = HttpAccess.fromKeys(keys, {
      bindHost: options.host,
      advertisedHost: options.advertisedHost ?? null,
      credentials: options.credentials,
      bearer: options.bearer,
      tls: this.tls,
      logger,
      nowMs: options.nowMs,
    });
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.route(req, res);
    if (this.tls) {
      const server = https.createServer(this.tls.serverOptions(), onRequest);
      this.stopTls = serveTlsMaterial(server, this.tls);
      this.server = server;
    } else this.server = http.createServer(onRequest);
    this.server.maxHeadersCount = 100;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.maxConnections = HTTP_CONNECTIONS_MAX;
    this.router
      .add('GET', '/health', () => ({ status: 200, body: { status: 'up' } }))
      .add('GET', '/ready', () => {
        const state = readiness(options.broker, options.kafkaListening());
        return state.ready
          ? { status: 200, body: { status: 'ready' } }
          : { status: 503, body: { status: 'not-ready', reason: state.reason } };
      })
      .add('GET', '/metrics', () => ({ status: 200, text: metrics.render(), contentType: EXPOSITION_CONTENT_TYPE }))
      .add('GET', '/api/v1/openapi.json', () => ({ status: 200, body: openapi }));
    addClusterRoutes(this.router, this.context);
    addTopicRoutes(this.router, this.context);
    addRecordRoutes(this.router, this.context);
    addGroupRoutes(this.router, this.context);
    this.access.addRoutes(this.router, ({ req, access }) =>
      RequestAuthorization.of(options.broker, req, access).summary(),
    );
    // The web console: its files at / and /console/* (route()), its WebSocket at /api/v1/live.
    this.live = new LiveServer({
      stats: () => ({ ...metrics.stats(), brokers: brokersSummary(options.broker) }),
      onStats: (listener) => metrics.onStats(listener),
      bootstrap: options.kafkaBootstrap,
      security: options.kafkaSecurity,
      logger: this.context.logger,
    });
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
  }

  /** Whether the listener speaks HTTPS. */
  get secure(): boolean {
    return this.tls !== null;
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const checked = await this.access.checkUpgrade(req, socket);
      if (!checked) return;
      const authz = new RequestAuthorization(
        this.options.broker,
        checked.principal,
        normalizePeerAddress(req.socket.remoteAddress ?? ''),
      );
      this.live.handleUpgrade(req, socket, head, checked.alive, (topic) => authz.topic(AclOperation.READ, topic));
    } catch (error) {
      this.context.logger.warn('http upgrade failed', { error: (error as Error).message });
      socket.destroy();
    }
  }

  get metrics(): NodeMetrics {
    return this.context.metrics;
  }

  async listen(): Promise<number> {
    await this.access.start();
    const server = this.server;
    this.context.metrics.start();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        const settings = this.access.authenticator?.settings;
        this.context.logger.info('http listener security', {
          tls: this.secure,
          authentication: settings ? [settings.basic && 'basic', settings.bearer && 'bearer'].filter(Boolean) : 'off',
          allowedHosts: this.access.hosts.allowed ? [...this.access.hosts.allowed] : '*',
        });
        const warning = insecureListenerWarning(this.options.host, this.access.enabled);
        if (warning) this.context.logger.warn(warning, { http: `${this.options.host}:${this.options.port}` });
        const clientsWarning = bundledClientWarning(this.options.broker, this.options.kafkaSecurity);
        if (clientsWarning) this.context.logger.warn(clientsWarning);
        server.on('error', (error) => this.context.logger.error('http listener error', { error: error.message }));
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = (req.url ?? '/').split('?')[0];
    let reply: Reply;
    try {
      // The console's files are public (the login page is one of them); the Host check applies.
      const consoleFile = this.consoleAssets.handles(pathname);
      const access = await this.access.check(req, pathname, consoleFile);
      if (consoleFile) return this.consoleAssets.serve(req, res, pathname);
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        throw new HttpError(400, 'bad-request', `cannot parse the request path ${JSON.stringify(req.url)}`);
      }
      const { handler, params } = this.router.match(req.method ?? 'GET', url.pathname);
      reply = await handler({ req, url, params, access });
    } catch (error) {
      const failure = toHttpError(error);
      // As Kafka's authorizer log: who was refused what (debug, so a client retrying a
      // refused call cannot flood the log).
      if (failure.status === 403 && failure.details.operation)
        this.context.logger.debug('http request not authorized', {
          method: req.method,
          address: req.socket.remoteAddress,
          ...failure.details,
        });
      if (failure.status >= 500)
        this.context.logger.warn('http request failed', {
          method: req.method,
          url: req.url,
          status: failure.status,
          error: failure.message,
        });
      reply = {
        status: failure.status,
        body: { error: { ...failure.details, code: failure.code, message: failure.message } },
        headers: failure.headers,
      };
    }
    // A body not read by the route (a GET with a body, a refused upload) is drained.
    if (!req.complete) req.resume();
    send(res, reply);
  }

  async close(): Promise<void> {
    this.stopTls?.();
    this.access.close();
    await this.live.close();
    this.context.metrics.stop();
    await Promise.race([this.context.clients.close(), new Promise((r) => setTimeout(r, CLIENTS_CLOSE_MS).unref())]);
    const server = this.server;
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** The line logged at start when the listener is reachable beyond this machine without authentication. */
export function insecureListenerWarning(host: string, authEnabled: boolean): string | null {
  if (authEnabled || isLoopbackHost(host)) return null;
  return (
    'the HTTP listener is reachable beyond this machine without authentication: anyone who reaches it can read, ' +
    'produce and delete topics; set brook.http.auth.enable=true (and brook.http.tls.*), or bind --http to 127.0.0.1'
  );
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
  if (reply.status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const text = reply.text ?? JSON.stringify(reply.body ?? null);
  headers['content-type'] = reply.contentType ?? 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(text);
  headers['cache-control'] = 'no-store';
  res.writeHead(reply.status, headers);
  res.end(text);
}
