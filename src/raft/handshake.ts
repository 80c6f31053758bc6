// Mutual authentication of controller-port connections (ControllerHandshake,
// protocol/apis/1000-raft.ts), and the place where a connection is bound to the node id it
// speaks for. Two ways to prove membership, either or both:
//
// Certificates: on a controller listener with TLS and ssl.client.auth=required, TLS has
// verified both certificates against the trust store before any request; the gate then
// takes the peer's principal (from its certificate, after ssl.principal.mapping.rules) and
// admits it only if it is a cluster principal (super.users, the principals Kafka grants
// CLUSTER_ACTION). Step 1 alone binds the node id: any cluster principal may speak for any
// node id, as in Kafka, where controller traffic is authorized by principal only.
//
// The cluster secret: both sides send a fresh random nonce;
// each proves it holds the secret with an HMAC-SHA256 over both nonces, the cluster id and
// both node ids, labelled with its role, so a proof is good for one connection and one
// direction only. The client checks the server's proof before it sends its own: a node
// never follows, or registers with, a peer that does not hold the secret. The secret never
// travels. The server side (HandshakeGate) lets an unauthenticated connection send only the
// handshake: anything else, a wrong proof, or no proof within the deadline closes it.
//
// With both configured, both must pass. Without TLS, what this does not do: the frames after
// the handshake are not signed, so an attacker on the network path could still hijack an
// authenticated connection. The threat the secret alone answers is anyone who can merely
// reach the port (docs/security.md).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as tls from 'node:tls';
import { TLSSocket } from 'node:tls';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeResponseFrame } from '../../protocol/frame';
import { RequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { Connection, DispatchResult } from '../net/connection';
import { ConnectionOptions, KafkaConnection } from '../net/kafka-connection';
import { ConfigError } from '../config/config';
import { usesTls } from '../security/principal';
import { Logger } from '../logger';

const HANDSHAKE = ApiKey.ControllerHandshake;
/** Bytes of each side's nonce (256 bits: never repeats). */
export const HANDSHAKE_NONCE_BYTES = 32;
/** Longest an accepted connection may take to complete the handshake before it is closed. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/**
 * Connections still in the handshake at once, at most: past it the oldest is closed, so a
 * flood of idle sockets cannot hold the port's connection slots (a member's handshake takes
 * a round trip or two, an attacker's never ends).
 */
export const HANDSHAKES_PENDING_MAX = 32;
/** How long a refused connection has for its answer to leave before it is closed. */
const REFUSED_CLOSE_DELAY_MS = 200;
/** Refusals logged per minute at most (anyone can provoke them); the rest are counted. */
const REFUSALS_LOGGED_PER_MINUTE = 10;

/** What a node (or tool) needs to authenticate on a controller port. */
export interface ControllerAuth {
  /** The cluster secret; null when membership is proved by certificate alone. */
  secret: Buffer | null;
  /** This node's id; -1 for a tool such as the CLI. */
  nodeId: number;
  /**
   * The connection runs over TLS with this node's own certificate, verified by the server
   * (and the server's by this side, against the trust store and host name). Required when
   * there is no secret: without it nothing would authenticate the server.
   */
  certificate?: boolean;
  /**
   * Dial TLS with these client options (the controller listener's TLS material: its key
   * store as this node's certificate, its trust store, endpoint identification). When
   * absent the connection options decide how the socket is made.
   */
  tls?: {
    clientOptions(servername?: string): ConnectionOptionsTls;
    principalOf(socket: TLSSocket): { type: string; name: string };
  } | null;
  /**
   * Over TLS, the principals a server's certificate must map to (super.users): a node
   * follows, votes for and registers with members only. Null or empty: any certificate
   * the trust store accepts for the host.
   */
  serverPrincipals?: ReadonlySet<string> | null;
}

type ConnectionOptionsTls = tls.ConnectionOptions;

/**
 * The certificate check of a controller listener with mutual TLS: who may connect, and the
 * principal of a connection (its verified certificate's, mapped; null without one).
 */
export interface CertificateMembership {
  /** Cluster principals in Kafka's string form ("User:CN=broker1,O=Example"). */
  clusterPrincipals: ReadonlySet<string>;
  principalOf(connection: Connection): string | null;
}

/**
 * The verified principal of a TLS connection, as `principalOf` maps its certificate
 * (ssl.principal.mapping.rules); null for a socket without TLS or without a client
 * certificate, and when `principalOf` throws (a certificate that does not verify against
 * the trust store, or that no mapping rule applies to).
 */
export function tlsPrincipal(
  connection: Connection,
  principalOf: (socket: TLSSocket) => { type: string; name: string } | string,
): string | null {
  const socket = connection.socket as unknown;
  if (!(socket instanceof TLSSocket)) {
    // A listener that keeps the TLS socket to itself has set the principal it verified.
    const { securityProtocol, principal } = connection.security;
    const text = `${principal.type}:${principal.name}`;
    return usesTls(securityProtocol) && text !== 'User:ANONYMOUS' ? text : null;
  }
  // The material verifies the chain itself (a server-side TLSSocket made outside a
  // tls.Server does not set `authorized`) and throws for a certificate that fails.
  if (!socket.getPeerX509Certificate()) return null;
  let principal: { type: string; name: string } | string;
  try {
    principal = principalOf(socket);
  } catch {
    // A certificate that did not verify, or that no mapping rule applies to: no member.
    return null;
  }
  const text = typeof principal === 'string' ? principal : `${principal.type}:${principal.name}`;
  return text === 'User:ANONYMOUS' ? null : text;
}

/**
 * super.users as a set of principals: Kafka's form, semicolon-separated ("User:CN=broker1,
 * O=Example;User:broker2"); each entry must be TYPE:NAME. Empty entries are skipped.
 */
export function parseClusterPrincipals(value: string | undefined): Set<string> {
  const principals = new Set<string>();
  for (const raw of (value ?? '').split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1)
      throw new ConfigError(`super.users: "${entry.slice(0, 80)}" is not a principal of the form User:name`);
    principals.add(`${entry.slice(0, colon).trim()}:${entry.slice(colon + 1).trim()}`);
  }
  return principals;
}

/** The authentication failed: wrong secret, another cluster, or not the node expected. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

function lengthPrefixed(value: Buffer): Buffer[] {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length, 0);
  return [length, value];
}

/** HMAC-SHA256 over the role label and everything both sides agreed on, each part length-prefixed. */
export function handshakeProof(
  secret: Buffer,
  role: 'client' | 'server',
  clusterId: string,
  clientNodeId: number,
  serverNodeId: number,
  clientNonce: Buffer,
  serverNonce: Buffer,
): Buffer {
  const ids = Buffer.alloc(8);
  ids.writeInt32BE(clientNodeId, 0);
  ids.writeInt32BE(serverNodeId, 4);
  const hmac = createHmac('sha256', secret);
  for (const part of [
    Buffer.from(`brook-controller-handshake-v1 ${role}`),
    Buffer.from(clusterId, 'utf8'),
    ids,
    clientNonce,
    serverNonce,
  ])
    for (const piece of lengthPrefixed(part)) hmac.update(piece);
  return hmac.digest();
}

function proofMatches(expected: Buffer, given: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(expected, given);
}

/**
 * Runs the client side on a connected KafkaConnection. `expect` names the cluster and the
 * node this client means to reach (null: any); resolves with the server's cluster id and
 * node id once both sides are proven, rejects with HandshakeError otherwise.
 */
export async function authenticate(
  connection: KafkaConnection,
  auth: ControllerAuth,
  expect: { clusterId: string | null; nodeId: number | null },
): Promise<{ clusterId: string; nodeId: number }> {
  const clientNonce = randomBytes(HANDSHAKE_NONCE_BYTES);
  const first = await connection.request(HANDSHAKE, 0, {
    step: 1,
    nodeId: auth.nodeId,
    nonce: clientNonce,
    proof: Buffer.alloc(0),
  });
  if (first.errorCode !== ErrorCode.NONE) throw new HandshakeError(refusalReason(first.errorCode));
  if (expect.clusterId !== null && first.clusterId !== expect.clusterId)
    throw new HandshakeError(`the server belongs to cluster ${first.clusterId}, not ${expect.clusterId}`);
  if (expect.nodeId !== null && first.nodeId !== expect.nodeId)
    throw new HandshakeError(`the server is node ${first.nodeId}, not node ${expect.nodeId}`);
  const secret = auth.secret;
  if (secret === null) {
    // Certificate mode: TLS has verified the server's certificate, and the server bound
    // this connection at step 1. A server that wants the secret as well says so with a nonce.
    if (first.nonce.length !== 0 || first.proof.length !== 0)
      throw new HandshakeError('the controller port also requires the cluster secret, which this node does not have');
    return { clusterId: first.clusterId, nodeId: first.nodeId };
  }
  if (first.nonce.length === 0)
    throw new HandshakeError(
      'the server could not prove it holds the cluster secret (it authenticates by certificate only: give every node the secret, or none)',
    );
  const serverNonce = Buffer.from(first.nonce);
  if (serverNonce.length !== HANDSHAKE_NONCE_BYTES) throw new HandshakeError('the server sent a malformed nonce');
  const expected = handshakeProof(
    secret,
    'server',
    first.clusterId,
    auth.nodeId,
    first.nodeId,
    clientNonce,
    serverNonce,
  );
  if (!proofMatches(expected, Buffer.from(first.proof)))
    throw new HandshakeError('the server could not prove it holds the cluster secret');
  const second = await connection.request(HANDSHAKE, 0, {
    step: 2,
    nodeId: auth.nodeId,
    nonce: Buffer.alloc(0),
    proof: handshakeProof(secret, 'client', first.clusterId, auth.nodeId, first.nodeId, clientNonce, serverNonce),
  });
  if (second.errorCode !== ErrorCode.NONE)
    throw new HandshakeError(`the controller port refused this node's proof (error ${second.errorCode})`);
  return { clusterId: first.clusterId, nodeId: first.nodeId };
}

function refusalReason(errorCode: number): string {
  if (errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    return "the controller port refused this node's certificate: its principal is not a cluster principal (super.users)";
  if (errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED)
    return 'the controller port refused the handshake: it takes only members with a verified certificate, or runs without a secret';
  return `the controller port refused the handshake (error ${errorCode})`;
}

/** A TLS error about the peer's certificate (untrusted, expired, misnamed), not the network. */
function isCertificateError(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? '';
  return code.startsWith('ERR_TLS_CERT') || /CERT|VERIFY|SELF_SIGNED|ISSUER/.test(code);
}

/** Largest response frame a controller-port client accepts over TLS (a snapshot chunk and more). */
const CONTROLLER_RESPONSE_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Connects to a controller port and, when `auth` is given, authenticates; the connection
 * is closed on any failure.
 */
export async function connectController(
  options: ConnectionOptions,
  auth: ControllerAuth | null,
  expect: { clusterId: string | null; nodeId: number | null },
): Promise<KafkaConnection> {
  if (auth && auth.secret === null && !auth.certificate)
    throw new HandshakeError('no way to authenticate: neither a cluster secret nor a TLS certificate is configured');
  const tlsMaterial = auth?.tls;
  const serverPrincipals = auth?.serverPrincipals;
  // Over TLS: the node's own certificate, and a server that is a cluster principal.
  const verifyServer = (socket: tls.TLSSocket): Error | null => {
    if (!tlsMaterial || !serverPrincipals || serverPrincipals.size === 0) return null;
    let principal: string;
    try {
      const mapped = tlsMaterial.principalOf(socket);
      principal = `${mapped.type}:${mapped.name}`;
    } catch (error) {
      return new HandshakeError(`the server's certificate was refused: ${(error as Error).message}`);
    }
    return serverPrincipals.has(principal)
      ? null
      : new HandshakeError(`the server's principal ${principal} is not a cluster principal (super.users)`);
  };
  const connection = new KafkaConnection(
    tlsMaterial
      ? {
          ...options,
          maxFrameBytes: options.maxFrameBytes ?? CONTROLLER_RESPONSE_BYTES_MAX,
          security: { protocol: 'SSL', tls: { material: tlsMaterial, verifyServer } },
        }
      : options,
  );
  try {
    await connection.connect();
    if (auth) await authenticate(connection, auth, expect);
    return connection;
  } catch (error) {
    connection.close();
    // A certificate this side refuses is an authentication failure, logged as one.
    if (tlsMaterial && !(error instanceof HandshakeError) && isCertificateError(error as NodeJS.ErrnoException))
      throw new HandshakeError(
        `TLS with ${options.host}:${options.port} refused: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    throw error;
  }
}

interface ServerState {
  /** Set between step 1 and step 2. */
  clientNonce: Buffer | null;
  serverNonce: Buffer | null;
  clientNodeId: number;
  /** The node id the connection proved it speaks for; null until it has. */
  authenticatedAs: number | null;
  /** Refused membership by certificate: closing, nothing more is answered. */
  refused: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The server side, one per controller listener. With `certificates`, step 1 first checks the
 * connection's verified principal against the cluster principals; with a secret, the HMAC
 * proofs follow. With neither (a single-voter node run without a secret) every connection
 * is admitted and the handshake is refused.
 */
export class HandshakeGate {
  private readonly states = new WeakMap<Connection, ServerState>();
  /** Connections accepted and not yet authenticated, oldest first. */
  private readonly pending = new Set<Connection>();
  private refusalsThisMinute = 0;
  private minuteStartMs = 0;
  private refusalsNotLogged = 0;

  constructor(
    private readonly secret: Buffer | null,
    private readonly clusterId: string,
    private readonly selfId: number,
    private readonly logger: Logger,
    private readonly timeoutMs = HANDSHAKE_TIMEOUT_MS,
    private readonly certificates: CertificateMembership | null = null,
  ) {}

  get required(): boolean {
    return this.secret !== null || this.certificates !== null;
  }

  /** Starts the handshake deadline of a connection just accepted. */
  accepted(connection: Connection): void {
    if (!this.required) return;
    const state: ServerState = {
      clientNonce: null,
      serverNonce: null,
      clientNodeId: -1,
      authenticatedAs: null,
      refused: false,
      timer: undefined,
    };
    state.timer = setTimeout(() => {
      if (state.authenticatedAs === null && !connection.isClosed) {
        this.refused(connection, 'no handshake in time', { timeoutMs: this.timeoutMs });
        connection.close('handshake timeout');
      }
    }, this.timeoutMs);
    state.timer.unref();
    connection.socket.once('close', () => {
      clearTimeout(state.timer);
      this.pending.delete(connection);
    });
    this.states.set(connection, state);
    if (this.pending.size >= HANDSHAKES_PENDING_MAX) {
      const oldest = this.pending.values().next().value as Connection;
      this.pending.delete(oldest);
      this.refused(oldest, 'too many connections in the handshake; the oldest is closed', {
        pendingMax: HANDSHAKES_PENDING_MAX,
      });
      oldest.close('handshake slots full');
    }
    this.pending.add(connection);
  }

  /**
   * The node id this connection authenticated as: a number (-1 for a tool) once it has,
   * undefined while it has not, and null when no secret is configured (nothing to prove).
   */
  authenticatedAs(connection: Connection): number | null | undefined {
    if (!this.required) return null;
    return this.states.get(connection)?.authenticatedAs ?? undefined;
  }

  /** Answers one ControllerHandshake request. */
  handle(header: RequestHeader, body: Reader, connection: Connection): DispatchResult {
    const { apiVersion, correlationId } = header;
    if (apiVersion !== 0) return this.close(connection, 'handshake of an unknown version', { apiVersion });
    const respond = (value: unknown) =>
      encodeResponseFrame(HANDSHAKE, 0, correlationId, responseCodec(HANDSHAKE, 0), value);
    const secret = this.secret;
    const refusal = (errorCode: number) => ({
      errorCode,
      clusterId: this.clusterId,
      nodeId: this.selfId,
      nonce: Buffer.alloc(0),
      proof: Buffer.alloc(0),
    });
    if (!this.required)
      // A client with a secret reaching a node without one: refused, so the mismatch shows.
      return respond(refusal(ErrorCode.SASL_AUTHENTICATION_FAILED));
    const state = this.states.get(connection);
    if (!state || state.authenticatedAs !== null || state.refused)
      return this.close(connection, 'handshake out of order', { step: 'again' });
    const request = requestCodec(HANDSHAKE, 0).decode(body);
    if (request.step === 1 && state.serverNonce === null && this.certificates) {
      // Membership by certificate, checked before anything else is answered.
      const principal = this.certificates.principalOf(connection);
      const errorCode =
        principal === null
          ? ErrorCode.SASL_AUTHENTICATION_FAILED
          : this.certificates.clusterPrincipals.has(principal)
            ? ErrorCode.NONE
            : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      if (errorCode !== ErrorCode.NONE) {
        state.refused = true;
        this.refused(
          connection,
          principal === null ? 'no verified client certificate' : 'principal is not a cluster principal (super.users)',
          principal === null ? { nodeId: request.nodeId } : { nodeId: request.nodeId, principal },
        );
        // The answer says why; the connection closes once it has left.
        connection.stopReading();
        setTimeout(() => connection.close('not a cluster member'), REFUSED_CLOSE_DELAY_MS).unref();
        return respond(refusal(errorCode));
      }
      if (!secret) return respond(this.admit(connection, state, request.nodeId));
    }
    if (!secret) return this.close(connection, 'handshake out of order', { step: request.step });
    if (request.step === 1 && state.serverNonce === null) {
      const clientNonce = Buffer.from(request.nonce);
      if (clientNonce.length !== HANDSHAKE_NONCE_BYTES)
        return this.close(connection, 'malformed handshake nonce', { bytes: clientNonce.length });
      const serverNonce = randomBytes(HANDSHAKE_NONCE_BYTES);
      state.clientNonce = clientNonce;
      state.serverNonce = serverNonce;
      state.clientNodeId = request.nodeId;
      return respond({
        errorCode: ErrorCode.NONE,
        clusterId: this.clusterId,
        nodeId: this.selfId,
        nonce: serverNonce,
        proof: handshakeProof(secret, 'server', this.clusterId, request.nodeId, this.selfId, clientNonce, serverNonce),
      });
    }
    if (request.step === 2 && state.serverNonce !== null && state.clientNonce !== null) {
      const expected = handshakeProof(
        secret,
        'client',
        this.clusterId,
        state.clientNodeId,
        this.selfId,
        state.clientNonce,
        state.serverNonce,
      );
      if (request.nodeId !== state.clientNodeId || !proofMatches(expected, Buffer.from(request.proof)))
        return this.close(connection, 'wrong cluster secret', { nodeId: request.nodeId });
      state.clientNonce = null;
      state.serverNonce = null;
      return respond(this.admit(connection, state, state.clientNodeId));
    }
    return this.close(connection, 'handshake out of order', { step: request.step });
  }

  /** Binds the connection to the node id it proved, and answers so. */
  private admit(connection: Connection, state: ServerState, nodeId: number) {
    state.authenticatedAs = nodeId;
    this.pending.delete(connection);
    clearTimeout(state.timer);
    return {
      errorCode: ErrorCode.NONE,
      clusterId: this.clusterId,
      nodeId: this.selfId,
      nonce: Buffer.alloc(0),
      proof: Buffer.alloc(0),
    };
  }

  /** Closes a connection that sent something other than the handshake before authenticating. */
  refuseUnauthenticated(connection: Connection, apiKey: number): DispatchResult {
    return this.close(connection, 'request before the handshake', { apiKey });
  }

  private close(connection: Connection, reason: string, fields: Record<string, unknown>): DispatchResult {
    this.refused(connection, reason, fields);
    return 'close';
  }

  private refused(connection: Connection, reason: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.minuteStartMs >= 60_000) {
      this.minuteStartMs = now;
      this.refusalsThisMinute = 0;
    }
    if (++this.refusalsThisMinute > REFUSALS_LOGGED_PER_MINUTE) {
      this.refusalsNotLogged++;
      return;
    }
    const notLogged = this.refusalsNotLogged;
    this.refusalsNotLogged = 0;
    this.logger.warn(`controller port: connection refused: ${reason}`, {
      remote: connection.remote,
      ...fields,
      ...(notLogged > 0 ? { refusalsNotLogged: notLogged } : {}),
    });
  }
}
