// One client socket to one broker: pipelined requests matched to responses by
// correlation id, with a timeout on every request. This is the base of the bundled client
// and of the benchmark load generator (which pre-encodes frames and uses `sendFrame`).
// With a ClientSecurity it runs over TLS and/or authenticates with SASL before any other
// request (ApiVersions, SaslHandshake v1, SaslAuthenticate), and re-authenticates in band
// before the broker's session lifetime runs out (KIP-368).

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrameParts, FrameAssembler, frameReads } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { type ClientSecurity, type ClientTls } from '../security/client-config';
import { usesSasl, usesTls } from '../security/principal';
import { authenticateSasl, type ApiVersionRange, type SaslSession } from './sasl-authenticate';

export { AuthenticationFailedError } from './sasl-authenticate';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  /** TLS and SASL settings; default PLAINTEXT. */
  security?: ClientSecurity;
}

interface Waiting {
  resolve: (body: Reader) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class KafkaConnection {
  private socket: net.Socket | null = null;
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly assembler: FrameAssembler;
  private closedError: Error | null = null;
  /** Response frames received, for the message of an early close. */
  private framesReceived = 0;
  /** Set while a re-authentication runs: requests wait for it (the broker reads SASL frames then). */
  private reauthenticating: Promise<void> | null = null;
  private reauthTimer: NodeJS.Timeout | null = null;
  private session: SaslSession | null = null;
  /** The broker's API versions when a SASL connection asked for them before authenticating. */
  apiVersions: ApiVersionRange[] | null = null;

  constructor(private readonly options: ConnectionOptions) {
    this.assembler = new FrameAssembler(options.maxFrameBytes ?? 256 * 1024 * 1024);
  }

  private get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Opens the socket (TLS when the protocol says so) and authenticates when it uses SASL. */
  async connect(): Promise<void> {
    const security = this.options.security;
    if (security?.unavailable) throw new Error(`connect to ${this.address}: ${security.unavailable}`);
    if (security && usesTls(security.protocol)) await this.openTls(security.tls ?? {});
    else await this.openPlain();
    if (security && usesSasl(security.protocol)) {
      if (!security.sasl) throw new Error(`${security.protocol} to ${this.address}: no SASL mechanism configured`);
      try {
        this.session = await authenticateSasl(this.saslChannel(), security.sasl, this.address, true);
        this.apiVersions = this.session.apiVersions;
        this.scheduleReauthentication();
      } catch (error) {
        this.close();
        throw error;
      }
    }
  }

  private openPlain(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Responses are read through the assembler (see protocol/frame.ts): a large fetch
      // response lands in its own buffer with no per-read allocation or joining copy.
      const onread = frameReads(
        this.assembler,
        (frames) => this.onFrames(frames),
        (error) => {
          this.failAll(error);
          this.socket?.destroy();
        },
      );
      const socket = net.connect({ host: this.options.host, port: this.options.port, noDelay: true, onread });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${this.address} timed out`));
      }, this.options.connectTimeoutMs ?? 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('close', () => this.failAll(this.closedByPeer()));
      socket.on('error', () => undefined);
    });
  }

  /**
   * TLS: the chain is always verified (against `ca`, or Node's trust store); the broker's
   * name is checked unless `checkHostname` is false. Decrypted bytes arrive as 'data'
   * chunks and are fed to the same assembler as plaintext reads.
   */
  private openTls(settings: ClientTls): Promise<void> {
    return new Promise((resolve, reject) => {
      const host = this.options.host;
      const servername = settings.servername ?? (net.isIP(host) ? undefined : host);
      const options: tls.ConnectionOptions = settings.material
        ? { ...settings.material.clientOptions(settings.servername ?? host), host, port: this.options.port }
        : {
            host,
            port: this.options.port,
            servername,
            ca: settings.ca,
            cert: settings.cert,
            key: settings.key,
            passphrase: settings.passphrase,
            rejectUnauthorized: true,
          };
      if (!settings.material && settings.checkHostname === false) options.checkServerIdentity = () => undefined;
      const socket = tls.connect(options);
      socket.setNoDelay(true);
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`TLS connect to ${this.address} timed out (is it a TLS listener?)`)),
        this.options.connectTimeoutMs ?? 10_000,
      );
      socket.once('secureConnect', () => {
        if (settled) return;
        const refused = settings.verifyServer?.(socket) ?? null;
        if (refused) return fail(refused);
        settled = true;
        clearTimeout(timer);
        this.socket = socket;
        resolve();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => fail(tlsConnectError(error, this.address)));
      socket.once('close', () =>
        fail(
          new Error(
            `TLS handshake with ${this.address} failed: the broker closed the connection (is it a TLS listener?)`,
          ),
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = this.assembler.push(chunk);
        } catch (error) {
          this.failAll(error as Error);
          socket.destroy();
          return;
        }
        if (frames.length > 0) this.onFrames(frames);
      });
      socket.on('close', () => this.failAll(this.closedByPeer()));
      socket.on('error', () => undefined);
    });
  }

  /** How the SASL exchange reaches the socket: around the re-authentication gate. */
  private saslChannel() {
    return {
      request: <K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<K>) =>
        this.encodeAndSend(apiKey, apiVersion, body, true) as Promise<Response<K>>,
    };
  }

  /**
   * KIP-368: re-authenticate at 85-95% of the session lifetime the broker gave (as Kafka's
   * client does), in band. Requests sent meanwhile wait; those in flight complete normally.
   */
  private scheduleReauthentication(): void {
    const lifetimeMs = this.session?.sessionLifetimeMs ?? 0;
    if (lifetimeMs <= 0 || this.closedError) return;
    const delayMs = Math.max(REAUTHENTICATION_DELAY_MIN_MS, Math.floor(lifetimeMs * (0.85 + Math.random() * 0.1)));
    this.reauthTimer = setTimeout(() => {
      this.reauthTimer = null;
      this.reauthenticate();
    }, delayMs);
    this.reauthTimer.unref();
  }

  private reauthenticate(): void {
    const sasl = this.options.security?.sasl;
    if (!sasl || !this.isOpen) return;
    const run = authenticateSasl(this.saslChannel(), sasl, this.address, false, this.session).then(
      (session) => {
        this.session = session;
        this.reauthenticating = null;
        this.scheduleReauthentication();
      },
      (error: Error) => {
        // The broker closes a connection whose session expired: fail it now, with the reason.
        this.reauthenticating = null;
        this.failAll(new Error(`re-authentication with ${this.address} failed: ${error.message}`));
        this.socket?.destroy();
      },
    );
    this.reauthenticating = run;
  }

  /** How many times this connection re-authenticated (for tests and metrics). */
  get reauthentications(): number {
    return this.session?.reauthentications ?? 0;
  }

  /**
   * Why requests fail when the broker closed the socket. A listener that requires SASL (or
   * TLS) answers ApiVersions and then closes a connection that does not authenticate, so a
   * close at that point, on a connection without SASL, says where to look.
   */
  private closedByPeer(): Error {
    const security = this.options.security;
    if (this.waiting.size > 0 && this.framesReceived === 0 && !(security && usesTls(security.protocol)))
      return new Error(
        `connection closed by ${this.address} before any answer (a TLS listener closes connections that do not start TLS: check security.protocol)`,
      );
    if (this.waiting.size > 0 && this.framesReceived === 1 && !(security && usesSasl(security.protocol)))
      return new Error(
        `connection closed by ${this.address} at its first requests (a listener that requires SASL closes connections that do not authenticate: check security.protocol)`,
      );
    return new Error('connection closed');
  }

  private onFrames(frames: Buffer[]): boolean {
    this.framesReceived += frames.length;
    for (const frame of frames) {
      if (frame.length < 4) {
        this.failAll(new Error(`response frame of ${frame.length} bytes has no correlation id`));
        this.socket?.destroy();
        return false;
      }
      const correlationId = frame.readInt32BE(0);
      const waiting = this.waiting.get(correlationId);
      if (!waiting) continue;
      this.waiting.delete(correlationId);
      if (waiting.timer) clearTimeout(waiting.timer);
      waiting.resolve(new Reader(frame));
    }
    return true;
  }

  private failAll(error: Error): void {
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
    this.closedError ??= error;
    for (const [, waiting] of this.waiting) {
      if (waiting.timer) clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }

  /** Connected and not failed: requests can be sent. */
  get isOpen(): boolean {
    return this.socket !== null && this.closedError === null && !this.socket.destroyed;
  }

  get inflight(): number {
    return this.waiting.size;
  }

  allocateCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    return id;
  }

  /**
   * Sends a complete frame whose correlation id is `correlationId`; resolves with a reader
   * positioned at the start of the response (its header still unread).
   */
  sendFrame(frame: Buffer | Buffer[], correlationId: number, expectResponse = true): Promise<Reader> {
    const parts = Array.isArray(frame) ? frame : [frame];
    const gate = this.reauthenticating;
    if (gate) return gate.then(() => this.write(parts, correlationId, expectResponse));
    return this.write(parts, correlationId, expectResponse);
  }

  private write(parts: Buffer[], correlationId: number, expectResponse = true): Promise<Reader> {
    const socket = this.socket;
    if (!socket || this.closedError) return Promise.reject(this.closedError ?? new Error('not connected'));
    if (!expectResponse) {
      for (const part of parts) socket.write(part);
      return Promise.resolve(new Reader(Buffer.alloc(0)));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.waiting.delete(correlationId);
              reject(new Error(`request ${correlationId} timed out after ${timeoutMs} ms`));
            }, timeoutMs)
          : null;
      this.waiting.set(correlationId, { resolve, reject, timer });
      if (parts.length === 1) socket.write(parts[0]);
      else {
        socket.cork();
        for (const part of parts) socket.write(part);
        socket.uncork();
      }
    });
  }

  /**
   * Encodes, sends and decodes one request with the schema codecs: the body and the answer
   * are typed by the API's schema. With `expectResponse` false nothing is read back and the
   * promise resolves with `undefined` (a produce with acks 0).
   */
  request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<Response<K>>;
  request<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    expectResponse: boolean,
  ): Promise<Response<K> | undefined>;
  request<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    expectResponse = true,
  ): Promise<Response<K> | undefined> {
    return this.encodeAndSend(apiKey, apiVersion, body, expectResponse, true);
  }

  private async encodeAndSend<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    expectResponse: boolean,
    gated = false,
  ): Promise<Response<K> | undefined> {
    const correlationId = this.allocateCorrelationId();
    const frame = encodeRequestFrameParts(
      { apiKey, apiVersion, correlationId, clientId: this.options.clientId ?? 'brook' },
      requestCodec(apiKey, apiVersion),
      body,
    );
    const reader = gated
      ? await this.sendFrame(frame, correlationId, expectResponse)
      : await this.write(frame, correlationId, expectResponse);
    if (!expectResponse) return undefined;
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, apiVersion));
    return responseCodec(apiKey, apiVersion).decode(reader);
  }

  close(): void {
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
    this.socket?.destroy();
    this.socket = null;
  }
}

/**
 * Re-authentication never runs sooner than this after the last one: Kafka's broker refuses
 * more than one a second per connection (KafkaChannel's MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS).
 */
const REAUTHENTICATION_DELAY_MIN_MS = 1000;

/** A TLS connect failure said plainly: what failed, and the likely cause. */
function tlsConnectError(error: NodeJS.ErrnoException, address: string): Error {
  const code = error.code ?? '';
  let hint = '';
  if (code === 'ECONNRESET' || code === 'EPROTO' || /wrong version number|packet length too long/i.test(error.message))
    hint = ' (is it a TLS listener? the broker did not answer the TLS handshake)';
  else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code))
    hint = " (check ssl.ca.location / ssl.truststore.location, or the broker certificate's names)";
  const wrapped = new Error(`TLS connect to ${address} failed: ${error.message}${hint}`);
  (wrapped as NodeJS.ErrnoException).code = code || undefined;
  return wrapped;
}
