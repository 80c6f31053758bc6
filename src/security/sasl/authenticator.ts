// The SASL gate of one connection on a SASL_PLAINTEXT or SASL_SSL listener: Kafka's
// SaslServerAuthenticator as a state machine over request frames. The connection hands it
// every frame while it is not authenticated (and the SaslHandshake frames of a
// re-authentication afterwards); it answers with what to do:
//   pass    dispatch the frame as an ordinary request (ApiVersions before the handshake,
//           and every request once authenticated)
//   answer  send these frames (handshake and token responses)
//   fail    after connection.failed.authentication.delay.ms send these frames, if any,
//           then close (Kafka's delayed close on an authentication failure)
//   close   close at once (an expired session, a request Kafka closes on without delay)
//   drop    ignore the frame (the connection is already failing)
//
// The order of states follows Kafka's:
//   initial --ApiVersions--> after-versions --SaslHandshake--> authenticate --...--> complete
//   initial --SaslHandshake--> authenticate
// Anything else before authentication fails the connection without an answer, except a
// non-SaslAuthenticate request after a v1 handshake, which gets its own error response
// with ILLEGAL_SASL_STATE first. With SaslHandshake v0 (KIP-43) the tokens travel as raw
// size-prefixed frames without Kafka headers; with v1 inside SaslAuthenticate requests.
// Re-authentication (KIP-368): when the session has an expiry, a SaslHandshake on the
// authenticated connection (at most one a second) starts a new exchange with the same
// mechanism, which must end with the same principal; requests already in flight are
// answered in order as usual. Once the session has expired, any other request closes the
// connection.

import { ApiKey } from '../../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../../protocol/codec';
import { ErrorCode } from '../../../protocol/errors';
import { encodeResponseFrame } from '../../../protocol/frame';
import { decodeRequestHeader, RequestHeader } from '../../../protocol/header';
import { Reader } from '../../../protocol/primitives';
import { ConnectionSecurity, KafkaPrincipal, principalToString, userPrincipal } from '../principal';
import type { SaslListener } from './listener';
import { SaslServerMechanism, SaslStep } from './mechanism';
import { isSaslMechanismName, SaslMechanismName } from './settings';

export type GateAction =
  | { kind: 'pass' }
  | { kind: 'answer'; frames: Buffer[] }
  | {
      kind: 'fail';
      frames: Buffer[];
      /** Answer this request with its own error response (ILLEGAL_SASL_STATE) instead of `frames`. */
      refuse?: { header: RequestHeader; body: Reader };
    }
  | { kind: 'close'; reason: string }
  | { kind: 'drop' };

type Phase = 'initial' | 'after-versions' | 'authenticate' | 'reauth-bad-mechanism' | 'complete' | 'failed';

/** Kafka allows one re-authentication a second per connection. */
const REAUTH_INTERVAL_MIN_MS = 1000;

const PASS: GateAction = { kind: 'pass' };
const DROP: GateAction = { kind: 'drop' };

/** Newest ApiVersions version served (see src/broker/apis/18-api-versions.ts). */
const API_VERSIONS_MAX = 4;
/** The pattern ApiVersions v3+ requires of the client software name and version (KIP-511). */
const CLIENT_SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;

/** Whether the broker answers this ApiVersions request without an error code. */
function apiVersionsAnsweredWithoutError(header: RequestHeader, body: Reader): boolean {
  if (header.apiVersion > API_VERSIONS_MAX) return false;
  if (header.apiVersion < 3) return true;
  try {
    const request = requestCodec(ApiKey.ApiVersions, header.apiVersion).decode(body);
    const name = request.clientSoftwareName ?? '';
    return name === '' || (CLIENT_SOFTWARE.test(name) && CLIENT_SOFTWARE.test(request.clientSoftwareVersion ?? ''));
  } catch {
    return false;
  }
}

export class SaslAuthenticator {
  private phase: Phase = 'initial';
  private mechanism: SaslServerMechanism | null = null;
  private mechanismName: SaslMechanismName | null = null;
  /** SaslHandshake v1 or later: tokens come in SaslAuthenticate requests. */
  private kafkaHeaders = false;
  /** Set while re-authenticating: who the connection was, and with what. */
  private previous: { principal: KafkaPrincipal; mechanism: string } | null = null;
  private lastReauthStartMs = 0;

  constructor(
    private readonly listener: SaslListener,
    private readonly security: ConnectionSecurity,
    private readonly clientAddress: string,
    private readonly remote: string,
  ) {
    security.authenticated = false;
  }

  /** True while frames must go through handle() rather than straight to dispatch. */
  get intercepting(): boolean {
    return this.phase !== 'complete';
  }

  /** The frame-size bound while authenticating (sasl.server.max.receive.size), else null. */
  get frameBytesMax(): number | null {
    return this.phase === 'complete' ? null : this.listener.settings.maxReceiveBytes;
  }

  get failureDelayMs(): number {
    return this.listener.settings.failedAuthenticationDelayMs;
  }

  handle(frame: Buffer): GateAction {
    const nowMs = this.listener.nowMs();
    switch (this.phase) {
      case 'complete':
        return this.authenticated(frame, nowMs);
      case 'initial':
      case 'after-versions':
        return this.handshakeOrVersions(frame);
      case 'authenticate':
        return this.token(frame, nowMs);
      case 'reauth-bad-mechanism':
        return this.fail(
          'mechanism changed during re-authentication',
          [],
          this.previous ? this.previous.principal.name : undefined,
        );
      case 'failed':
        return DROP;
    }
  }

  private authenticated(frame: Buffer, nowMs: number): GateAction {
    const expiresAt = this.security.sessionExpiresAtMs;
    if (
      frame.length >= 2 &&
      frame.readInt16BE(0) === ApiKey.SaslHandshake &&
      expiresAt !== null &&
      (this.lastReauthStartMs === 0 || nowMs - this.lastReauthStartMs >= REAUTH_INTERVAL_MIN_MS)
    ) {
      this.lastReauthStartMs = nowMs;
      this.previous = { principal: this.security.principal, mechanism: this.security.saslMechanism ?? '' };
      return this.handshakeOrVersions(frame);
    }
    if (expiresAt !== null && nowMs > expiresAt) {
      this.listener.logger.info('closing connection: SASL session expired', {
        remote: this.remote,
        principal: principalToString(this.security.principal),
      });
      this.phase = 'failed';
      return { kind: 'close', reason: 'SASL session expired' };
    }
    return PASS;
  }

  private handshakeOrVersions(frame: Buffer): GateAction {
    let header: RequestHeader;
    const reader = new Reader(frame);
    try {
      header = decodeRequestHeader(reader);
    } catch {
      return this.fail('unparseable request before SASL authentication', []);
    }
    if (header.apiKey === ApiKey.ApiVersions && this.previous === null) {
      if (this.phase === 'initial') {
        // As Kafka: an ApiVersions answered with an error (a version it does not know, an
        // invalid client software name) leaves the client free to ask again.
        if (apiVersionsAnsweredWithoutError(header, reader)) this.phase = 'after-versions';
        return PASS;
      }
      this.phase = 'failed';
      this.listener.logger.warn('closing connection: a second ApiVersions request during SASL authentication', {
        remote: this.remote,
      });
      return { kind: 'close', reason: 'ApiVersions twice during SASL authentication' };
    }
    if (header.apiKey !== ApiKey.SaslHandshake)
      return this.fail(`unexpected request (api ${header.apiKey}) during SASL handshake`, []);
    if (header.apiVersion > 1) {
      this.phase = 'failed';
      return { kind: 'close', reason: `SaslHandshake v${header.apiVersion} is not supported` };
    }
    let mechanism: string;
    try {
      mechanism = requestCodec(ApiKey.SaslHandshake, header.apiVersion).decode(reader).mechanism;
    } catch {
      return this.fail('malformed SaslHandshake request', []);
    }
    const enabled = this.listener.settings.enabledMechanisms;
    if (!isSaslMechanismName(mechanism) || !enabled.includes(mechanism)) {
      const response = this.handshakeResponse(header, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
      return this.fail(`unsupported SASL mechanism ${JSON.stringify(mechanism.slice(0, 64))}`, response);
    }
    this.kafkaHeaders = header.apiVersion >= 1;
    this.mechanismName = mechanism;
    if (this.previous !== null && this.previous.mechanism !== mechanism) {
      // As Kafka: the handshake is answered, and the exchange fails at its first token.
      this.phase = 'reauth-bad-mechanism';
    } else {
      this.mechanism = this.listener.createMechanism(mechanism);
      this.phase = 'authenticate';
    }
    return { kind: 'answer', frames: this.handshakeResponse(header, ErrorCode.NONE) };
  }

  private handshakeResponse(header: RequestHeader, errorCode: number): Buffer[] {
    return encodeResponseFrame(
      ApiKey.SaslHandshake,
      header.apiVersion,
      header.correlationId,
      responseCodec(ApiKey.SaslHandshake, header.apiVersion),
      { errorCode, mechanisms: [...this.listener.settings.enabledMechanisms] },
    );
  }

  private token(frame: Buffer, nowMs: number): GateAction {
    let header: RequestHeader | null = null;
    let token = frame;
    if (this.kafkaHeaders) {
      const reader = new Reader(frame);
      try {
        header = decodeRequestHeader(reader);
      } catch {
        return this.fail('unparseable request during SASL authentication', []);
      }
      if (header.apiKey !== ApiKey.SaslAuthenticate) {
        this.fail(`unexpected request (api ${header.apiKey}) during SASL authentication`, []);
        return { kind: 'fail', frames: [], refuse: { header, body: reader } };
      }
      if (header.apiVersion > 2) {
        this.phase = 'failed';
        return { kind: 'close', reason: `SaslAuthenticate v${header.apiVersion} is not supported` };
      }
      try {
        token = requestCodec(ApiKey.SaslAuthenticate, header.apiVersion).decode(reader).authBytes;
      } catch {
        return this.fail('malformed SaslAuthenticate request', []);
      }
    }
    // Asked at every token, so that connections opened in parallel cannot all run their
    // exchanges before the first failures are counted.
    const step: SaslStep = this.listener.limiter.allows(this.clientAddress, nowMs)
      ? this.mechanism!.evaluate(token, nowMs)
      : { kind: 'failure', reason: 'too many failed authentications from this address' };
    if (step.kind === 'challenge') return { kind: 'answer', frames: this.tokenResponse(header, step.token, 0) };
    if (step.kind === 'failure') {
      this.listener.limiter.recordFailure(this.clientAddress, nowMs);
      return this.fail(step.reason, this.failureResponse(header, this.failureMessage()), step.user);
    }
    const principal = userPrincipal(step.principalName);
    if (this.previous !== null && principalToString(this.previous.principal) !== principalToString(principal)) {
      const message =
        `Cannot change principals during re-authentication from ${principalToString(this.previous.principal)}: ` +
        principalToString(principal);
      return this.fail(
        'principal changed during re-authentication',
        this.failureResponse(header, message),
        step.principalName,
      );
    }
    const lifetimeMs = this.sessionLifetimeMs(step.credentialExpiresAtMs, nowMs);
    this.security.principal = principal;
    this.security.saslMechanism = this.mechanismName;
    this.security.sessionExpiresAtMs = lifetimeMs === null ? null : nowMs + lifetimeMs;
    this.security.authenticated = true;
    this.phase = 'complete';
    this.mechanism = null;
    this.listener.logger.debug(
      this.previous === null ? 'SASL authentication succeeded' : 'SASL re-authentication succeeded',
      { remote: this.remote, principal: principalToString(principal), mechanism: this.mechanismName, lifetimeMs },
    );
    this.previous = null;
    return { kind: 'answer', frames: this.tokenResponse(header, step.token, lifetimeMs ?? 0) };
  }

  /** Kafka's rule: the smaller of connections.max.reauth.ms and the credential's remaining life, if either applies. */
  private sessionLifetimeMs(credentialExpiresAtMs: number | undefined, nowMs: number): number | null {
    const settings = this.listener.settings;
    const maxReauthMs = settings.maxReauthMsByMechanism[this.mechanismName!] ?? settings.maxReauthMs;
    if (credentialExpiresAtMs === undefined && maxReauthMs <= 0) return null;
    if (credentialExpiresAtMs === undefined) return maxReauthMs;
    const remaining = Math.max(0, credentialExpiresAtMs - nowMs);
    return maxReauthMs <= 0 ? remaining : Math.min(remaining, maxReauthMs);
  }

  private failureMessage(): string {
    const during = this.previous === null ? 'authentication' : 're-authentication';
    return `Authentication failed during ${during} due to invalid credentials with SASL mechanism ${this.mechanismName}`;
  }

  private tokenResponse(header: RequestHeader | null, token: Buffer, sessionLifetimeMs: number): Buffer[] {
    if (header === null) {
      // SaslHandshake v0: a raw size-prefixed token.
      const size = Buffer.alloc(4);
      size.writeInt32BE(token.length, 0);
      return [size, token];
    }
    return encodeResponseFrame(
      ApiKey.SaslAuthenticate,
      header.apiVersion,
      header.correlationId,
      responseCodec(ApiKey.SaslAuthenticate, header.apiVersion),
      { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: token, sessionLifetimeMs },
    );
  }

  private failureResponse(header: RequestHeader | null, message: string): Buffer[] {
    // With raw v0 tokens there is no way to say why: the connection is just closed.
    if (header === null) return [];
    return encodeResponseFrame(
      ApiKey.SaslAuthenticate,
      header.apiVersion,
      header.correlationId,
      responseCodec(ApiKey.SaslAuthenticate, header.apiVersion),
      {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: message,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      },
    );
  }

  /** Fails the connection: one log line (address, user, mechanism; never a secret). */
  private fail(reason: string, frames: Buffer[], user?: string): GateAction {
    this.phase = 'failed';
    this.mechanism = null;
    this.security.authenticated = false;
    this.listener.logger.warn(this.previous === null ? 'SASL authentication failed' : 'SASL re-authentication failed', {
      remote: this.remote,
      mechanism: this.mechanismName ?? undefined,
      user: user === undefined ? undefined : user.slice(0, 256),
      reason,
    });
    return { kind: 'fail', frames };
  }
}
