// Raft over the controller listener: each core message travels as a request of the
// matching Raft API (protocol/apis/1000-raft.ts) on a connection to the peer; votes and
// appends are answered in the response of the same exchange. Every connection is
// authenticated both ways first (handshake.ts), by the cluster secret, by mutual TLS with
// cluster-principal certificates, or both: a node sends nothing to, and takes nothing
// from, a peer that has not proved it is a member. Inbound requests from
// an unknown node, from a node other than the one the connection authenticated as, from
// another cluster, or with a term outside 0..2^53-1 are refused with an error code and
// never reach the core. Connections are re-made with backoff; a message that cannot be sent is dropped,
// which Raft tolerates (it retries on the next heartbeat or election). A snapshot travels
// as a sequence of RaftInstallSnapshot chunks, one at a time; the receiver reassembles
// them and hands the whole snapshot to its core with the last one.

import { ApiKey } from '../../protocol/api-keys';
import type { Request, RequestInput, Response } from '../../protocol/apis';
import { ErrorCode } from '../../protocol/errors';
import { RequestHeader } from '../../protocol/header';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeResponseFrame } from '../../protocol/frame';
import { Reader } from '../../protocol/primitives';
import { KafkaConnection } from '../net/kafka-connection';
import type { ClientSecurity } from '../security/client-config';
import { Logger } from '../logger';
import { Connection, Dispatcher, DispatchResult } from '../net/connection';
import { decodeSnapshotStream, encodeSnapshotStream } from './quorum-storage';
import { Message } from './core';
import { RaftDriver, RaftTransport } from './driver';
import { ControllerAuth, connectController } from './handshake';

export interface Peer {
  id: number;
  host: string;
  port: number;
}

const VOTE = ApiKey.RaftVote;
const APPEND = ApiKey.RaftAppendEntries;
const INSTALL_SNAPSHOT = ApiKey.RaftInstallSnapshot;
const TIMEOUT_NOW = ApiKey.RaftTimeoutNow;
const DESCRIBE_QUORUM = ApiKey.RaftDescribeQuorum;
/** Messages held for a peer while its connection is being made. */
const QUEUED_WHILE_CONNECTING_MAX = 8;
/** Bytes of snapshot per InstallSnapshot request. */
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Largest snapshot a node accepts (the metadata image of a very large cluster). */
const SNAPSHOT_BYTES_MAX = 512 * 1024 * 1024;

type Outbound = typeof VOTE | typeof APPEND | typeof TIMEOUT_NOW;
/** A request this transport sends, its body typed by its key. */
type OutboundRequest = { [K in Outbound]: { apiKey: K; body: RequestInput<K> } }[Outbound];

/** Core message -> request body of its API. */
function toRequest(clusterId: string, m: Message): OutboundRequest | null {
  switch (m.type) {
    case 'vote':
      return {
        apiKey: VOTE,
        body: {
          clusterId,
          term: m.term,
          candidateId: m.from,
          lastLogIndex: m.lastLogIndex,
          lastLogTerm: m.lastLogTerm,
          preVote: m.preVote,
          leadershipTransfer: m.transfer,
        },
      };
    case 'append':
      return {
        apiKey: APPEND,
        body: {
          clusterId,
          term: m.term,
          leaderId: m.from,
          prevLogIndex: m.prevLogIndex,
          prevLogTerm: m.prevLogTerm,
          leaderCommit: m.leaderCommit,
          entries: m.entries.map((e) => ({ term: e.term, kind: e.kind ?? 0, data: e.data })),
        },
      };
    case 'timeout-now':
      return { apiKey: TIMEOUT_NOW, body: { clusterId, term: m.term, leaderId: m.from } };
    default:
      return null;
  }
}

export class TcpRaftTransport implements RaftTransport {
  private readonly connections = new Map<
    number,
    { connection: KafkaConnection | null; connecting: boolean; retryAt: number; queued: Message[]; failure: string }
  >();
  private driver: RaftDriver | null = null;

  constructor(
    private readonly selfId: number,
    private readonly clusterId: string,
    /** Where a node's controller listener is (voters, and observers once registered). */
    private readonly resolve: (id: number) => Peer | undefined,
    private readonly logger: Logger,
    /** The cluster secret or certificate and this node's id; null when neither is configured. */
    private readonly auth: ControllerAuth | null = null,
    /** TLS of the connections (the controller listener's protocol); PLAINTEXT when absent. */
    private readonly security?: ClientSecurity,
  ) {}

  attach(driver: RaftDriver): void {
    this.driver = driver;
  }

  /**
   * The connection to a peer, or null while it is being made. Messages sent meanwhile wait
   * for it (a few, newest kept): a follower has no connection to the other followers until
   * it first campaigns, and dropping its first vote request would cost a whole election
   * timeout.
   */
  private connectionTo(peer: Peer, waiting?: Message): KafkaConnection | null {
    let slot = this.connections.get(peer.id);
    if (!slot) {
      slot = { connection: null, connecting: false, retryAt: 0, queued: [], failure: '' };
      this.connections.set(peer.id, slot);
    }
    if (slot.connection) return slot.connection;
    if (waiting) {
      slot.queued.push(waiting);
      if (slot.queued.length > QUEUED_WHILE_CONNECTING_MAX) slot.queued.shift();
    }
    if (slot.connecting || Date.now() < slot.retryAt) return null;
    slot.connecting = true;
    const s = slot;
    connectController(
      {
        host: peer.host,
        port: peer.port,
        clientId: `raft-${this.selfId}`,
        requestTimeoutMs: 5000,
        connectTimeoutMs: 2000,
        security: this.security,
      },
      this.auth,
      { clusterId: this.clusterId, nodeId: peer.id },
    ).then(
      (connection) => {
        s.failure = '';
        s.connection = connection;
        s.connecting = false;
        const queued = s.queued;
        s.queued = [];
        for (const message of queued) this.send(message);
      },
      (error: Error) => {
        // Logged once per kind of failure, not on every retry.
        if (error.name === 'HandshakeError' && s.failure !== error.message)
          this.logger.warn('controller port: peer failed authentication', { peer: peer.id, error: error.message });
        s.failure = error.message;
        s.connecting = false;
        s.retryAt = Date.now() + 200;
        s.queued = [];
      },
    );
    return null;
  }

  /** Opens connections to these peers ahead of need (the voters, at start). */
  preconnect(ids: number[]): void {
    for (const id of ids) {
      const peer = id === this.selfId ? undefined : this.resolve(id);
      if (peer) this.connectionTo(peer);
    }
  }

  send(message: Message): void {
    const peer = this.resolve(message.to);
    if (!peer) return;
    const connection = this.connectionTo(peer, message);
    if (!connection) return;
    if (message.type === 'snapshot') {
      void this.sendSnapshot(connection, message);
      return;
    }
    const request = toRequest(this.clusterId, message);
    if (!request) return;
    connection.request(request.apiKey, 0, request.body).then(
      (response) => this.onResponse(message, response),
      () => {
        // The connection failed: forget it so the next send reconnects.
        const slot = this.connections.get(peer.id);
        if (slot && slot.connection === connection) {
          slot.connection = null;
          slot.retryAt = Date.now() + 200;
          connection.close();
        }
      },
    );
  }

  /** Streams a snapshot in chunks; the answer to the last one is the follower's append answer. */
  private async sendSnapshot(connection: KafkaConnection, m: Extract<Message, { type: 'snapshot' }>): Promise<void> {
    const stream = encodeSnapshotStream(m.snapshot);
    let position = 0;
    try {
      for (;;) {
        const end = Math.min(stream.length, position + SNAPSHOT_CHUNK_BYTES);
        const done = end === stream.length;
        const response = await connection.request(INSTALL_SNAPSHOT, 0, {
          clusterId: this.clusterId,
          term: m.term,
          leaderId: m.from,
          lastIncludedIndex: m.snapshot.index,
          lastIncludedTerm: m.snapshot.term,
          position,
          totalBytes: stream.length,
          data: stream.subarray(position, end),
          done,
        });
        if (!isValidTerm(response.term)) return;
        if (response.errorCode !== ErrorCode.NONE || response.term > m.term) {
          // A newer term, or a refusal: the core learns the term; the transfer is retried later.
          if (response.term > m.term)
            this.driver?.receive({
              type: 'append-response',
              from: m.to,
              to: this.selfId,
              term: response.term,
              success: false,
              matchIndex: 0,
              conflictTerm: -1,
              conflictIndex: 0,
            });
          return;
        }
        if (done) {
          this.driver?.receive({
            type: 'append-response',
            from: m.to,
            to: this.selfId,
            term: response.term,
            success: response.success,
            matchIndex: response.matchIndex,
            conflictTerm: -1,
            conflictIndex: 0,
          });
          return;
        }
        position = response.nextPosition;
        if (position < 0 || position > stream.length) return;
      }
    } catch (error) {
      this.logger.warn('snapshot transfer failed; it will be retried', {
        to: m.to,
        index: m.snapshot.index,
        error: (error as Error).message,
      });
    }
  }

  private onResponse(sent: Message, response: Response<Outbound>): void {
    if (!this.driver || response.errorCode !== ErrorCode.NONE || !isValidTerm(response.term)) return;
    // The answer's type follows the request sent: a vote gets a vote response, and so on.
    if (sent.type === 'vote') {
      const vote = response as Response<typeof VOTE>;
      this.driver.receive({
        type: 'vote-response',
        from: sent.to,
        to: this.selfId,
        term: vote.term,
        granted: vote.voteGranted,
        preVote: vote.preVote,
      });
    } else if (sent.type === 'append') {
      const append = response as Response<typeof APPEND>;
      this.driver.receive({
        type: 'append-response',
        from: sent.to,
        to: this.selfId,
        term: append.term,
        success: append.success,
        matchIndex: append.matchIndex,
        conflictTerm: append.conflictTerm,
        conflictIndex: append.conflictIndex,
      });
    }
  }

  close(): void {
    for (const slot of this.connections.values()) slot.connection?.close();
    this.connections.clear();
  }
}

/**
 * Terms are int64 on the wire but JS numbers here: exact up to 2^53-1, which no cluster
 * reaches by elections (one a millisecond for 285,000 years). A larger value cannot be
 * represented exactly, so it is refused rather than rounded. Negative terms are refused too
 * (-1 is only ever sent as "no conflict term").
 */
export function isValidTerm(term: number): boolean {
  return Number.isSafeInteger(term) && term >= 0;
}

function termsValid(
  apiKey: number,
  request: Request<typeof VOTE | typeof APPEND | typeof TIMEOUT_NOW | typeof INSTALL_SNAPSHOT>,
): boolean {
  if (!isValidTerm(request.term)) return false;
  if (apiKey === VOTE) return isValidTerm((request as Request<typeof VOTE>).lastLogTerm);
  if (apiKey === APPEND) {
    const append = request as Request<typeof APPEND>;
    return isValidTerm(append.prevLogTerm) && append.entries.every((e) => isValidTerm(e.term));
  }
  if (apiKey === INSTALL_SNAPSHOT) return isValidTerm((request as Request<typeof INSTALL_SNAPSHOT>).lastIncludedTerm);
  return true;
}

/** A snapshot being received, chunk by chunk. */
interface IncomingSnapshot {
  leaderId: number;
  term: number;
  index: number;
  total: number;
  received: number;
  chunks: Buffer[];
}

/**
 * Serves the Raft APIs (vote, append, snapshot, timeout-now, describe-quorum). The
 * controller port's dispatcher (src/controller/controller-port.ts) hands these here and
 * serves the rest itself; any other key closes the connection.
 */
export class RaftDispatcher implements Dispatcher {
  private incoming: IncomingSnapshot | null = null;

  constructor(
    private readonly driver: () => RaftDriver | null,
    private readonly clusterId: string,
    private readonly isKnown: (id: number) => boolean,
    private readonly logger: Logger,
    /** The node id a connection authenticated as (handshake.ts); null when nothing is required. */
    private readonly authenticatedAs: (connection: Connection) => number | null | undefined = () => null,
  ) {}

  dispatch(header: RequestHeader, body: Reader, connection: Connection): DispatchResult | Promise<DispatchResult> {
    const { apiKey, apiVersion, correlationId } = header;
    if (apiKey === DESCRIBE_QUORUM && apiVersion === 0) {
      const driver = this.driver();
      const d = driver?.node.describe();
      return encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), {
        errorCode: d ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE,
        leaderId: d?.leaderId ?? -1,
        term: d?.term ?? -1,
        commitIndex: d?.commitIndex ?? -1,
        voters: (d?.progress ?? [])
          .filter((p) => p.voter)
          .map((p) => ({ nodeId: p.nodeId, matchIndex: p.matchIndex, lastContactMs: -1 })),
        observers: (d?.progress ?? [])
          .filter((p) => !p.voter)
          .map((p) => ({ nodeId: p.nodeId, matchIndex: p.matchIndex, lastContactMs: -1 })),
        clusterId: this.clusterId,
      });
    }
    if (!([VOTE, APPEND, TIMEOUT_NOW, INSTALL_SNAPSHOT] as number[]).includes(apiKey) || apiVersion !== 0) {
      this.logger.warn('controller port: unknown api, closing connection', {
        apiKey,
        apiVersion,
        remote: connection.remote,
      });
      return 'close';
    }
    const request = requestCodec(apiKey, 0).decode(body);
    const respond = (value: unknown) => encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), value);
    const from = apiKey === VOTE ? request.candidateId : request.leaderId;
    const driver = this.driver();
    const refuse = (errorCode: number) =>
      respond({
        errorCode,
        term: driver?.node.term ?? -1,
        voteGranted: false,
        preVote: false,
        success: false,
        matchIndex: 0,
        conflictTerm: -1,
        conflictIndex: -1,
        nextPosition: -1,
      });
    if (request.clusterId !== this.clusterId) return refuse(ErrorCode.INCONSISTENT_CLUSTER_ID);
    // A connection speaks for the node it authenticated as, and no peer speaks for this node.
    const bound = this.authenticatedAs(connection);
    if (bound !== null && bound !== from) return refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (!this.isKnown(from)) return refuse(ErrorCode.INCONSISTENT_VOTER_SET);
    if (!driver) return refuse(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const self = driver.node.id;
    if (from === self) return refuse(ErrorCode.INCONSISTENT_VOTER_SET);
    if (!termsValid(apiKey, request)) {
      this.logger.warn('controller port: a term outside 0..2^53-1 refused', {
        apiKey,
        from,
        remote: connection.remote,
      });
      return refuse(ErrorCode.INVALID_REQUEST);
    }
    if (apiKey === VOTE) {
      const replies = driver.receive({
        type: 'vote',
        from,
        to: self,
        term: request.term,
        lastLogIndex: request.lastLogIndex,
        lastLogTerm: request.lastLogTerm,
        preVote: request.preVote,
        transfer: request.leadershipTransfer,
      });
      const reply = replies.find((m) => m.type === 'vote-response');
      if (!reply || reply.type !== 'vote-response') return refuse(ErrorCode.REQUEST_TIMED_OUT);
      return respond({
        errorCode: ErrorCode.NONE,
        term: reply.term,
        voteGranted: reply.granted,
        preVote: reply.preVote,
      });
    }
    if (apiKey === APPEND) {
      const entries = (request.entries as { term: number; kind: number; data: Buffer }[]).map((e, i) => ({
        index: request.prevLogIndex + 1 + i,
        term: e.term,
        data: Buffer.from(e.data),
        kind: e.kind,
      }));
      const replies = driver.receive({
        type: 'append',
        from,
        to: self,
        term: request.term,
        prevLogIndex: request.prevLogIndex,
        prevLogTerm: request.prevLogTerm,
        entries,
        leaderCommit: request.leaderCommit,
      });
      const reply = replies.find((m) => m.type === 'append-response');
      if (!reply || reply.type !== 'append-response') return refuse(ErrorCode.REQUEST_TIMED_OUT);
      return respond({
        errorCode: ErrorCode.NONE,
        term: reply.term,
        success: reply.success,
        matchIndex: reply.matchIndex,
        conflictTerm: reply.conflictTerm,
        conflictIndex: reply.conflictIndex,
      });
    }
    if (apiKey === INSTALL_SNAPSHOT) return this.installChunk(driver, from, request, respond, refuse);
    driver.receive({ type: 'timeout-now', from, to: self, term: request.term });
    return respond({ errorCode: ErrorCode.NONE, term: driver.node.term });
  }

  private installChunk(
    driver: RaftDriver,
    from: number,
    request: Request<typeof INSTALL_SNAPSHOT>,
    respond: (value: unknown) => Buffer[],
    refuse: (errorCode: number) => Buffer[],
  ): Buffer[] {
    const term = driver.node.term;
    if (request.term < term)
      return respond({ errorCode: ErrorCode.NONE, term, nextPosition: -1, success: false, matchIndex: 0 });
    const total = Number(request.totalBytes);
    if (total < 4 || total > SNAPSHOT_BYTES_MAX) {
      this.logger.warn('controller port: snapshot of an impossible size refused', { from, totalBytes: total });
      return refuse(ErrorCode.INVALID_REQUEST);
    }
    let incoming = this.incoming;
    const position = Number(request.position);
    if (position === 0) {
      incoming = {
        leaderId: from,
        term: request.term,
        index: Number(request.lastIncludedIndex),
        total,
        received: 0,
        chunks: [],
      };
      this.incoming = incoming;
    }
    const data = request.data as Buffer;
    if (
      !incoming ||
      incoming.leaderId !== from ||
      incoming.term !== request.term ||
      incoming.index !== Number(request.lastIncludedIndex) ||
      position !== incoming.received
    ) {
      // Out of sequence: the leader starts over from the answered position (0 when lost).
      return respond({
        errorCode: ErrorCode.NONE,
        term,
        nextPosition: incoming && incoming.leaderId === from ? incoming.received : 0,
        success: false,
        matchIndex: 0,
      });
    }
    if (incoming.received + data.length > incoming.total) {
      this.incoming = null;
      return refuse(ErrorCode.INVALID_REQUEST);
    }
    incoming.chunks.push(Buffer.from(data));
    incoming.received += data.length;
    if (!request.done)
      return respond({
        errorCode: ErrorCode.NONE,
        term,
        nextPosition: incoming.received,
        success: false,
        matchIndex: 0,
      });
    this.incoming = null;
    if (incoming.received !== incoming.total) return refuse(ErrorCode.INVALID_REQUEST);
    let snapshot;
    try {
      snapshot = decodeSnapshotStream(incoming.index, Number(request.lastIncludedTerm), Buffer.concat(incoming.chunks));
    } catch (error) {
      this.logger.warn('controller port: malformed snapshot refused', { from, error: (error as Error).message });
      return refuse(ErrorCode.INVALID_REQUEST);
    }
    const replies = driver.receive({ type: 'snapshot', from, to: driver.node.id, term: request.term, snapshot });
    const reply = replies.find((m) => m.type === 'append-response');
    if (!reply || reply.type !== 'append-response') return refuse(ErrorCode.REQUEST_TIMED_OUT);
    return respond({
      errorCode: ErrorCode.NONE,
      term: reply.term,
      nextPosition: incoming.received,
      success: reply.success,
      matchIndex: reply.matchIndex,
    });
  }
}
