// Mutual authentication of controller-port connections with the cluster secret
// (ControllerHandshake, protocol/apis/1000-raft.ts). Both sides send a fresh random nonce;
// each proves it holds the secret with an HMAC-SHA256 over both nonces, the cluster id and
// both node ids, labelled with its role, so a proof is good for one connection and one
// direction only. The client checks the server's proof before it sends its own: a node
// never follows, or registers with, a peer that does not hold the secret. The secret never
// travels. The server side (HandshakeGate) lets an unauthenticated connection send only the
// handshake: anything else, a wrong proof, or no proof within the deadline closes it.
//
// What this does not do: the frames after the handshake are not signed, so an attacker on
// the network path could still hijack an authenticated connection. The threat it answers is
// anyone who can merely reach the port (docs/security.md).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeResponseFrame } from '../../protocol/frame';
import { RequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { Connection, DispatchResult } from '../net/connection';
import { ConnectionOptions, KafkaConnection } from '../net/kafka-connection';
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
/** Refusals logged per minute at most (anyone can provoke them); the rest are counted. */
const REFUSALS_LOGGED_PER_MINUTE = 10;

/** What a node (or tool) needs to authenticate on a controller port. */
export interface ControllerAuth {
  secret: Buffer;
  /** This node's id; -1 for a tool such as the CLI. */
  nodeId: number;
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
  if (first.errorCode !== ErrorCode.NONE)
    throw new HandshakeError(`the controller port refused the handshake (error ${first.errorCode})`);
  const serverNonce = Buffer.from(first.nonce);
  if (serverNonce.length !== HANDSHAKE_NONCE_BYTES) throw new HandshakeError('the server sent a malformed nonce');
  const expected = handshakeProof(
    auth.secret,
    'server',
    first.clusterId,
    auth.nodeId,
    first.nodeId,
    clientNonce,
    serverNonce,
  );
  if (!proofMatches(expected, Buffer.from(first.proof)))
    throw new HandshakeError('the server could not prove it holds the cluster secret');
  if (expect.clusterId !== null && first.clusterId !== expect.clusterId)
    throw new HandshakeError(`the server belongs to cluster ${first.clusterId}, not ${expect.clusterId}`);
  if (expect.nodeId !== null && first.nodeId !== expect.nodeId)
    throw new HandshakeError(`the server is node ${first.nodeId}, not node ${expect.nodeId}`);
  const second = await connection.request(HANDSHAKE, 0, {
    step: 2,
    nodeId: auth.nodeId,
    nonce: Buffer.alloc(0),
    proof: handshakeProof(auth.secret, 'client', first.clusterId, auth.nodeId, first.nodeId, clientNonce, serverNonce),
  });
  if (second.errorCode !== ErrorCode.NONE)
    throw new HandshakeError(`the controller port refused this node's proof (error ${second.errorCode})`);
  return { clusterId: first.clusterId, nodeId: first.nodeId };
}

/**
 * Connects to a controller port and, when `auth` is given, authenticates; the connection
 * is closed on any failure.
 */
export async function connectController(
  options: ConnectionOptions,
  auth: ControllerAuth | null,
  expect: { clusterId: string | null; nodeId: number | null },
): Promise<KafkaConnection> {
  const connection = new KafkaConnection(options);
  try {
    await connection.connect();
    if (auth) await authenticate(connection, auth, expect);
    return connection;
  } catch (error) {
    connection.close();
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
  timer: NodeJS.Timeout | undefined;
}

/**
 * The server side, one per controller listener. Without a secret (a single-voter node run
 * without one) every connection is admitted and the handshake is refused.
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
  ) {}

  get required(): boolean {
    return this.secret !== null;
  }

  /** Starts the handshake deadline of a connection just accepted. */
  accepted(connection: Connection): void {
    if (!this.secret) return;
    const state: ServerState = {
      clientNonce: null,
      serverNonce: null,
      clientNodeId: -1,
      authenticatedAs: null,
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
    if (!this.secret) return null;
    return this.states.get(connection)?.authenticatedAs ?? undefined;
  }

  /** Answers one ControllerHandshake request. */
  handle(header: RequestHeader, body: Reader, connection: Connection): DispatchResult {
    const { apiVersion, correlationId } = header;
    if (apiVersion !== 0) return this.close(connection, 'handshake of an unknown version', { apiVersion });
    const respond = (value: unknown) =>
      encodeResponseFrame(HANDSHAKE, 0, correlationId, responseCodec(HANDSHAKE, 0), value);
    const secret = this.secret;
    if (!secret)
      // A client with a secret reaching a node without one: refused, so the mismatch shows.
      return respond({
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        clusterId: this.clusterId,
        nodeId: this.selfId,
        nonce: Buffer.alloc(0),
        proof: Buffer.alloc(0),
      });
    const state = this.states.get(connection);
    if (!state || state.authenticatedAs !== null)
      return this.close(connection, 'handshake out of order', { step: 'again' });
    const request = requestCodec(HANDSHAKE, 0).decode(body);
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
      state.authenticatedAs = state.clientNodeId;
      this.pending.delete(connection);
      state.clientNonce = null;
      state.serverNonce = null;
      clearTimeout(state.timer);
      return respond({
        errorCode: ErrorCode.NONE,
        clusterId: this.clusterId,
        nodeId: this.selfId,
        nonce: Buffer.alloc(0),
        proof: Buffer.alloc(0),
      });
    }
    return this.close(connection, 'handshake out of order', { step: request.step });
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
