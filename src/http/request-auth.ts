// Who an HTTP request is, and whether it may go on: the Host allowlist (DNS rebinding), a
// same-origin Origin on every write that names one, then the credentials (Authorization:
// Basic or Bearer, else the console's session cookie, else a verified client certificate),
// and for a write carried by the cookie or the certificate the X-Brook-CSRF header. Also the login, logout and whoami routes of the console.
// With authentication off every request is User:ANONYMOUS, and only the Host and Origin
// checks apply.

import type * as http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { HttpError } from './http-errors';
import { readLogin } from './login-body';
import { ALLOWED_HOSTS_KEY, HostGuard } from './host-guard';
import { sameOrigin } from './live';
import { Reply, RouteRequest, Router } from './router';
import { clearedSessionCookie, readCookie, Session, SESSION_COOKIE, sessionCookie, SessionTable } from './sessions';
import {
  AuthOutcome,
  BearerValidator,
  bearerSettingsFromKeys,
  HttpAuthenticator,
  HttpIdentity,
  parseBasic,
  parseBearer,
  parseHttpAuthSettings,
} from '../security/http-auth';
import { JwksEndpoint } from '../security/jwks-endpoint';
import { JwtConfigError, JwtSettings, JwtValidator } from '../security/jwt';
import type { CredentialStore } from '../security/scram';
import { ANONYMOUS, KafkaPrincipal, principalToString } from '../security/principal';
import type { TlsMaterial } from '../security/tls';
import { ConfigError, normalizePeerAddress } from '../config/config';
import type { Logger } from '../logger';

/** The header the console sends with every request; a cookie-carried write without it is refused. */
export const CSRF_HEADER = 'x-brook-csrf';
/** Where the console's login page is. */
export const LOGIN_PAGE = '/console/login.html';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ALWAYS_OPEN = new Set(['/health', '/ready']);

/** What a request proved: the identity, and the session it used (cookie) if any. */
export interface RequestAccess {
  identity: HttpIdentity;
  session: Session | null;
  /**
   * Whether the browser sends these credentials on its own (the session cookie, a client
   * certificate): a write with them also needs the X-Brook-CSRF header.
   */
  ambient: boolean;
}

/** What a WebSocket upgrade proved: the principal, and whether its credentials still hold. */
export interface UpgradeAccess {
  principal: KafkaPrincipal;
  alive: () => boolean;
}

const ANONYMOUS_ACCESS: RequestAccess = {
  identity: { principal: ANONYMOUS, method: 'anonymous', expiresAtMs: null },
  session: null,
  ambient: false,
};

export interface HttpAccessOptions {
  hosts: HostGuard;
  /** Null when authentication is off. */
  authenticator: HttpAuthenticator | null;
  sessions: SessionTable | null;
  /** The listener's TLS material when it is HTTPS (the cookie is then Secure; client certificates name principals). */
  tls: TlsMaterial | null;
  logger: Logger;
  nowMs?: () => number;
  /** How a failed attempt's answer is held back (tests may shorten it). */
  delay?: (ms: number) => Promise<void>;
}

/** What HttpAccess.fromKeys needs besides the keys. */
export interface HttpAccessContext {
  /** The address the listener binds (allowed as a Host by default). */
  bindHost: string;
  advertisedHost: string | null;
  /** The SCRAM users; none means nobody can log in with a password. */
  credentials?: CredentialStore;
  /** Undefined: the JWT validator of the sasl.oauthbearer.* keys, if set; null: no Bearer tokens. */
  bearer?: BearerValidator | null;
  tls: TlsMaterial | null;
  logger: Logger;
  nowMs?: () => number;
}

/** A store with no users: with authentication on and nothing to check against, nobody gets in. */
const NO_CREDENTIALS: CredentialStore = { scramCredential: () => undefined };

export class HttpAccess {
  readonly hosts: HostGuard;
  readonly authenticator: HttpAuthenticator | null;
  readonly sessions: SessionTable | null;
  private readonly tls: TlsMaterial | null;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly delay: (ms: number) => Promise<void>;
  /** An https JWKS endpoint, fetched at start() and refreshed until close(). */
  private jwks: JwksEndpoint | null = null;

  constructor(options: HttpAccessOptions) {
    this.hosts = options.hosts;
    this.authenticator = options.authenticator;
    this.sessions = options.sessions;
    this.tls = options.tls;
    this.logger = options.logger;
    this.nowMs = options.nowMs ?? Date.now;
    this.delay = options.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  /** The access rules of brook.http.allowed.hosts and brook.http.auth.* (with the sasl.oauthbearer.* token keys). */
  static fromKeys(keys: Record<string, string>, context: HttpAccessContext): HttpAccess {
    const nowMs = context.nowMs ?? Date.now;
    let bearer = context.bearer ?? null;
    let tokenSettings: JwtSettings | null = null;
    if (context.bearer === undefined) {
      tokenSettings = bearerSettingsFromKeys(keys);
      if (tokenSettings) bearer = new JwtValidator(tokenSettings);
    }
    const settings = parseHttpAuthSettings(keys, bearer !== null);
    const access = new HttpAccess({
      hosts: HostGuard.fromConfig(keys[ALLOWED_HOSTS_KEY], context.bindHost, context.advertisedHost),
      authenticator: settings.enabled
        ? new HttpAuthenticator(settings, context.credentials ?? NO_CREDENTIALS, bearer, nowMs)
        : null,
      sessions: settings.enabled
        ? new SessionTable(
            { idleMs: settings.sessionIdleMs, maxMs: settings.sessionMaxMs, sessionsMax: settings.sessionsMax },
            nowMs,
          )
        : null,
      tls: context.tls,
      logger: context.logger,
      nowMs,
    });
    if (settings.enabled && settings.bearer && tokenSettings?.jwksEndpoint && bearer instanceof JwtValidator) {
      try {
        access.jwks = new JwksEndpoint(tokenSettings.jwksEndpoint, bearer, context.logger);
      } catch (error) {
        throw error instanceof JwtConfigError ? new ConfigError(error.message) : error;
      }
    }
    return access;
  }

  /** Fetches the https JWKS, if there is one; a failure is a ConfigError (the start stops). */
  async start(): Promise<void> {
    try {
      await this.jwks?.start();
    } catch (error) {
      this.jwks?.close();
      throw error instanceof JwtConfigError ? new ConfigError(error.message) : error;
    }
  }

  close(): void {
    this.jwks?.close();
  }

  get enabled(): boolean {
    return this.authenticator !== null;
  }

  /**
   * Decides a request: its access, or the error to answer with (421 for a foreign Host, 401
   * without valid credentials, 429 after too many failures, 403 for a cross-site write).
   */
  async check(req: http.IncomingMessage, pathname: string, publicPath = false): Promise<RequestAccess> {
    if (ALWAYS_OPEN.has(pathname)) return ANONYMOUS_ACCESS;
    if (!this.hosts.allows(req.headers.host))
      throw new HttpError(
        421,
        'misdirected-request',
        'this node does not answer for that Host; see brook.http.allowed.hosts',
      );
    const method = req.method ?? 'GET';
    // A browser names the page behind every cross-site write; no write of another site's page
    // is served, whatever credentials it carries (a browser also sends cached Basic
    // credentials by itself). Programs send no Origin and are not affected.
    if (WRITE_METHODS.has(method) && !sameOrigin(req))
      throw new HttpError(403, 'cross-origin', 'the Origin of this request is not this listener');
    if (!this.authenticator || publicPath) return ANONYMOUS_ACCESS;
    const open =
      (pathname === '/metrics' && !this.authenticator.settings.metrics) ||
      (method === 'POST' && (pathname === '/api/v1/login' || pathname === '/api/v1/logout'));
    const access = await this.authenticate(req);
    if (!access) {
      if (open) return ANONYMOUS_ACCESS;
      throw this.unauthorized(req, 'authentication required: log in, or send Authorization: Basic or Bearer');
    }
    // Login and logout check the Origin themselves (and need no header: the login form has none).
    if (access.ambient && WRITE_METHODS.has(method) && !open) checkCrossSite(req);
    return access;
  }

  /**
   * The credentials of a request, or null when it carries none. Wrong credentials in an
   * Authorization header are an error (401 after the failure delay, or 429); a session
   * cookie that names no live session counts as none.
   */
  async authenticate(req: http.IncomingMessage): Promise<RequestAccess | null> {
    const authenticator = this.authenticator!;
    const authorization = req.headers.authorization;
    const address = normalizePeerAddress(req.socket.remoteAddress ?? '');
    if (authorization !== undefined) {
      const basic = parseBasic(authorization);
      const token = basic ? null : parseBearer(authorization);
      let outcome: AuthOutcome;
      if (basic) outcome = await authenticator.password(address, basic.user, basic.password);
      else if (token !== null) outcome = await authenticator.token(address, token);
      else throw this.unauthorized(req, 'the Authorization header is neither Basic nor Bearer');
      if (!outcome.ok) throw await this.failed(req, outcome);
      return { identity: outcome.identity, session: null, ambient: false };
    }
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = id ? this.sessions!.use(id) : undefined;
    if (session)
      return {
        identity: { principal: session.principal, method: 'session', expiresAtMs: session.expiresAtMs },
        session,
        ambient: true,
      };
    const certified = this.certificatePrincipal(req);
    if (certified)
      return {
        identity: { principal: certified, method: 'certificate', expiresAtMs: null },
        session: null,
        ambient: true,
      };
    return null;
  }

  /**
   * The principal of a verified client certificate (ssl.client.auth=required or requested,
   * named by ssl.principal.mapping.rules as on the Kafka listeners), or null without one.
   */
  private certificatePrincipal(req: http.IncomingMessage): KafkaPrincipal | null {
    const socket = req.socket as TLSSocket;
    if (!this.tls || typeof socket.getPeerX509Certificate !== 'function' || !socket.getPeerX509Certificate())
      return null;
    try {
      return this.tls.principalOf(socket);
    } catch {
      // A certificate that did not verify closed its connection at the handshake; no principal.
      return null;
    }
  }

  /** The 401 (after the failure delay) or 429 for failed credentials. */
  private async failed(req: http.IncomingMessage, outcome: Extract<AuthOutcome, { ok: false }>): Promise<HttpError> {
    this.logFailure(req, outcome);
    if (outcome.reason === 'rate-limited')
      return new HttpError(429, 'too-many-failures', 'too many failed logins from this address; try again later', {
        'retry-after': String(Math.max(1, Math.ceil((outcome.retryAfterMs ?? 60_000) / 1000))),
      });
    await this.delay(this.authenticator!.settings.failureDelayMs);
    return this.unauthorized(req, 'wrong user name, password or token');
  }

  /** One line per failed attempt (as Kafka logs failed authentications): where from and why, never what was sent. */
  private logFailure(req: http.IncomingMessage, outcome: Extract<AuthOutcome, { ok: false }>): void {
    this.logger.info('http authentication failed', {
      address: req.socket.remoteAddress,
      path: (req.url ?? '').split('?')[0].slice(0, 200),
      reason: outcome.reason,
    });
  }

  /**
   * A 401 with the challenges this listener takes. The console's own requests get a
   * challenge browsers do not answer with their password dialog (they show the login page).
   */
  unauthorized(req: http.IncomingMessage, message: string): HttpError {
    return new HttpError(401, 'unauthorized', message, { 'www-authenticate': this.challenge(req) });
  }

  private challenge(req: http.IncomingMessage): string {
    if (req.headers[CSRF_HEADER] !== undefined) return `Session realm="brook", login="${LOGIN_PAGE}"`;
    const challenges: string[] = [];
    const settings = this.authenticator!.settings;
    if (settings.basic) challenges.push('Basic realm="brook", charset="UTF-8"');
    if (settings.bearer) challenges.push('Bearer realm="brook"');
    return challenges.join(', ');
  }

  /**
   * Checks a WebSocket upgrade: Host, Origin, then credentials. Answers the refusal on the
   * socket and returns null, or returns the principal and a function telling whether the
   * credentials still hold (the live feed closes sockets whose session ended or token expired).
   */
  async checkUpgrade(req: http.IncomingMessage, socket: Duplex): Promise<UpgradeAccess | null> {
    const refuse = (status: string, headers: Record<string, string> = {}) => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n${extra}content-length: 0\r\n\r\n`);
      return null;
    };
    if (!this.hosts.allows(req.headers.host)) return refuse('421 Misdirected Request');
    if (!sameOrigin(req)) return refuse('403 Forbidden');
    if (!this.authenticator) return { alive: () => true, principal: ANONYMOUS };
    let access: RequestAccess | null;
    try {
      access = await this.authenticate(req);
    } catch (error) {
      const failure = error as HttpError;
      return refuse(failure.status === 429 ? '429 Too Many Requests' : '401 Unauthorized', failure.headers);
    }
    if (!access) return refuse('401 Unauthorized', { 'www-authenticate': this.challenge(req) });
    const { session, identity } = access;
    const principal = identity.principal;
    if (session) return { alive: () => this.sessions!.alive(session), principal };
    const expiresAtMs = identity.expiresAtMs;
    return { alive: expiresAtMs === null ? () => true : () => this.nowMs() < expiresAtMs, principal };
  }

  /**
   * POST /api/v1/login, POST /api/v1/logout and GET /api/v1/whoami; `permissions` adds what
   * the principal may do to the whoami answer.
   */
  addRoutes(router: Router, permissions: (request: RouteRequest) => Record<string, unknown> = () => ({})): void {
    router.add('POST', '/api/v1/login', (request) => this.login(request.req));
    router.add('POST', '/api/v1/logout', ({ req }) => {
      checkCrossSite(req, false);
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (id && this.sessions) this.sessions.end(id);
      return { status: 204, headers: { 'set-cookie': clearedSessionCookie(this.tls !== null) } };
    });
    router.add('GET', '/api/v1/whoami', (request) => ({
      status: 200,
      body: {
        ...permissions(request),
        principal: principalToString(request.access.identity.principal),
        authenticationEnabled: this.enabled,
        method: this.enabled ? request.access.identity.method : null,
        expiresAt:
          request.access.identity.expiresAtMs === null
            ? null
            : new Date(request.access.identity.expiresAtMs).toISOString(),
      },
    }));
  }

  /**
   * Checks a user name and password against the SCRAM credentials and starts a session. A
   * JSON body is answered with JSON; the login page's form (no script needed) is answered with
   * a redirect to the console, or back to the page with the failure named.
   */
  private async login(req: http.IncomingMessage): Promise<Reply> {
    checkCrossSite(req, false);
    if (!this.authenticator || !this.sessions)
      throw new HttpError(409, 'authentication-off', 'authentication is off on this listener: nothing to log in to');
    const { form, username, password } = await readLogin(req);
    const address = normalizePeerAddress(req.socket.remoteAddress ?? '');
    const outcome = await this.authenticator.password(address, username, password);
    if (!outcome.ok) {
      if (form) {
        this.logFailure(req, outcome);
        if (outcome.reason === 'invalid') await this.delay(this.authenticator.settings.failureDelayMs);
        return redirect(`${LOGIN_PAGE}?failed=${outcome.reason === 'invalid' ? 'credentials' : 'rate-limited'}`);
      }
      throw await this.failed(req, outcome);
    }
    // A new id at every login (no session fixation); the session the browser had ends.
    const previous = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (previous) this.sessions.end(previous);
    const { id, session } = this.sessions.create(outcome.identity.principal);
    this.logger.debug('http login', {
      principal: principalToString(session.principal),
      address: req.socket.remoteAddress,
    });
    const cookie = sessionCookie(id, this.authenticator.settings.sessionMaxMs, this.tls !== null);
    if (form) return redirect('/', { 'set-cookie': cookie });
    return {
      status: 200,
      headers: { 'set-cookie': cookie },
      body: {
        principal: principalToString(session.principal),
        expiresAt: new Date(session.expiresAtMs).toISOString(),
        idleTimeoutMs: this.authenticator.settings.sessionIdleMs,
      },
    };
  }
}

function redirect(location: string, headers: Record<string, string> = {}): Reply {
  return { status: 303, headers: { location, ...headers }, body: { location } };
}

/**
 * Refuses a request another site's page could have made with the operator's cookie: the
 * Origin, when sent, must be this listener's, and (when `requireHeader`) the console's
 * X-Brook-CSRF header must be there (a cross-site page cannot add one without a CORS
 * preflight, which this listener never approves). SameSite=Strict already keeps the cookie
 * off cross-site requests in current browsers; these checks hold where it does not.
 */
export function checkCrossSite(req: http.IncomingMessage, requireHeader = true): void {
  if (!sameOrigin(req)) throw new HttpError(403, 'cross-origin', 'the Origin of this request is not this listener');
  if (requireHeader && req.headers[CSRF_HEADER] === undefined)
    throw new HttpError(403, 'csrf-header-missing', `writes with the session cookie need the ${CSRF_HEADER} header`);
}
