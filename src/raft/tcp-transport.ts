// Raft over the controller listener: each core message travels as a request of the
// matching Raft API (protocol/apis/1000-raft.ts) on a connection to the peer; votes and
// appends are answered in the response of the same exchange. Inbound requests from an
// unknown node or another cluster are refused with an error code and never reach the
// core. Connections are re-made with backoff; a message that cannot be sent is dropped,
// which Raft tolerates (it retries on the next heartbeat or election).

import { ErrorCode } from '../../protocol/errors';
import { RequestHeader } from '../../protocol/header';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeResponseFrame } from '../../protocol/frame';
import { Reader } from '../../protocol/primitives';
import { KafkaConnection } from '../client/connection';
import { Logger } from '../logger';
import { Connection, Dispatcher, DispatchResult } from '../server/connection';
import { Message } from './core';
import { RaftDriver, RaftTransport } from './driver';

export interface Peer {
  id: number;
  host: string;
  port: number;
}

const VOTE = 1000;
const APPEND = 1001;
const TIMEOUT_NOW = 1003;
const DESCRIBE_QUORUM = 1004;

/** Core message -> request body of its API. */
function toRequest(clusterId: string, m: Message): { apiKey: number; body: unknown } | null {
  switch (m.type) {
    case 'vote':
      return { apiKey: VOTE, body: { clusterId, term: m.term, candidateId: m.from, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm, preVote: m.preVote, leadershipTransfer: m.transfer } };
    case 'append':
      return {
        apiKey: APPEND,
        body: { clusterId, term: m.term, leaderId: m.from, prevLogIndex: m.prevLogIndex, prevLogTerm: m.prevLogTerm, leaderCommit: m.leaderCommit, entries: m.entries.map((e) => ({ term: e.term, data: e.data })) },
      };
    case 'timeout-now':
      return { apiKey: TIMEOUT_NOW, body: { clusterId, term: m.term, leaderId: m.from } };
    default:
      return null;
  }
}

export class TcpRaftTransport implements RaftTransport {
  private readonly connections = new Map<number, { connection: KafkaConnection | null; connecting: boolean; retryAt: number }>();
  private driver: RaftDriver | null = null;

  constructor(
    private readonly selfId: number,
    private readonly clusterId: string,
    private readonly peers: Peer[],
    private readonly logger: Logger,
  ) {}

  attach(driver: RaftDriver): void {
    this.driver = driver;
  }

  private connectionTo(peer: Peer): KafkaConnection | null {
    let slot = this.connections.get(peer.id);
    if (!slot) {
      slot = { connection: null, connecting: false, retryAt: 0 };
      this.connections.set(peer.id, slot);
    }
    if (slot.connection) return slot.connection;
    if (slot.connecting || Date.now() < slot.retryAt) return null;
    slot.connecting = true;
    const connection = new KafkaConnection({ host: peer.host, port: peer.port, clientId: `raft-${this.selfId}`, requestTimeoutMs: 5000, connectTimeoutMs: 2000 });
    const s = slot;
    connection.connect().then(
      () => {
        s.connection = connection;
        s.connecting = false;
      },
      () => {
        s.connecting = false;
        s.retryAt = Date.now() + 200;
      },
    );
    return null;
  }

  send(message: Message): void {
    const peer = this.peers.find((p) => p.id === message.to);
    const request = toRequest(this.clusterId, message);
    if (!peer || !request) return;
    const connection = this.connectionTo(peer);
    if (!connection) return;
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

  private onResponse(sent: Message, response: any): void {
    if (!this.driver || response.errorCode !== ErrorCode.NONE) return;
    if (sent.type === 'vote') {
      this.driver.receive({ type: 'vote-response', from: sent.to, to: this.selfId, term: response.term, granted: response.voteGranted, preVote: response.preVote });
    } else if (sent.type === 'append') {
      this.driver.receive({ type: 'append-response', from: sent.to, to: this.selfId, term: response.term, success: response.success, matchIndex: response.matchIndex, conflictTerm: response.conflictTerm, conflictIndex: response.conflictIndex });
    }
  }

  close(): void {
    for (const slot of this.connections.values()) slot.connection?.close();
    this.connections.clear();
  }
}

/** Broker lifecycle requests the active controller answers (registration, heartbeats). */
export interface ControllerRequests {
  register(request: { brokerId: number; incarnationId: string; host: string; port: number; rack: string | null }): Promise<{ errorCode: number; brokerEpoch: number; leaderId: number }>;
  heartbeat(request: { brokerId: number; brokerEpoch: number; currentMetadataOffset: number; wantFence: boolean; wantShutDown: boolean }): Promise<{ errorCode: number; isCaughtUp: boolean; isFenced: boolean; shouldShutDown: boolean; leaderId: number }>;
}

const BROKER_REGISTRATION = 1005;
const BROKER_HEARTBEAT = 1006;

/** Serves the Raft APIs (and the broker lifecycle APIs) on the controller listener. */
export class RaftDispatcher implements Dispatcher {
  constructor(
    private readonly driver: () => RaftDriver | null,
    private readonly clusterId: string,
    private readonly knownNodes: Set<number>,
    private readonly logger: Logger,
    private readonly controller: ControllerRequests | null = null,
  ) {}

  dispatch(header: RequestHeader, body: Reader, connection: Connection): DispatchResult | Promise<DispatchResult> {
    const { apiKey, apiVersion, correlationId } = header;
    if ((apiKey === BROKER_REGISTRATION || apiKey === BROKER_HEARTBEAT) && apiVersion === 0 && this.controller) {
      const request = requestCodec(apiKey, 0).decode(body);
      const respond = (value: unknown) => encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), value);
      if (request.clusterId !== this.clusterId) return respond({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1, leaderId: -1 });
      const answer = apiKey === BROKER_REGISTRATION ? this.controller.register(request) : this.controller.heartbeat(request);
      return answer.then(respond);
    }
    if (apiKey === DESCRIBE_QUORUM && apiVersion === 0) {
      const driver = this.driver();
      const d = driver?.node.describe();
      return encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), {
        errorCode: d ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE,
        leaderId: d?.leaderId ?? -1,
        term: d?.term ?? -1,
        commitIndex: d?.commitIndex ?? -1,
        voters: (d?.progress ?? []).filter((p) => p.voter).map((p) => ({ nodeId: p.nodeId, matchIndex: p.matchIndex, lastContactMs: -1 })),
        observers: (d?.progress ?? []).filter((p) => !p.voter).map((p) => ({ nodeId: p.nodeId, matchIndex: p.matchIndex, lastContactMs: -1 })),
      });
    }
    if (![VOTE, APPEND, TIMEOUT_NOW].includes(apiKey) || apiVersion !== 0) {
      this.logger.warn('controller port: unknown api, closing connection', { apiKey, apiVersion, remote: connection.remote });
      return 'close';
    }
    const request = requestCodec(apiKey, 0).decode(body);
    const respond = (value: unknown) => encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), value);
    const from = apiKey === VOTE ? request.candidateId : request.leaderId;
    const driver = this.driver();
    const refuse = (errorCode: number) => respond({ errorCode, term: driver?.node.term ?? -1, voteGranted: false, preVote: false, success: false, matchIndex: 0, conflictTerm: -1, conflictIndex: -1 });
    if (request.clusterId !== this.clusterId) return refuse(ErrorCode.INCONSISTENT_CLUSTER_ID);
    if (!this.knownNodes.has(from)) return refuse(ErrorCode.INCONSISTENT_VOTER_SET);
    if (!driver) return refuse(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const self = driver.node.id;
    if (apiKey === VOTE) {
      const replies = driver.receive({ type: 'vote', from, to: self, term: request.term, lastLogIndex: request.lastLogIndex, lastLogTerm: request.lastLogTerm, preVote: request.preVote, transfer: request.leadershipTransfer });
      const reply = replies.find((m) => m.type === 'vote-response');
      if (!reply || reply.type !== 'vote-response') return refuse(ErrorCode.REQUEST_TIMED_OUT);
      return respond({ errorCode: ErrorCode.NONE, term: reply.term, voteGranted: reply.granted, preVote: reply.preVote });
    }
    if (apiKey === APPEND) {
      const entries = (request.entries as { term: number; data: Buffer }[]).map((e, i) => ({ index: request.prevLogIndex + 1 + i, term: e.term, data: Buffer.from(e.data) }));
      const replies = driver.receive({ type: 'append', from, to: self, term: request.term, prevLogIndex: request.prevLogIndex, prevLogTerm: request.prevLogTerm, entries, leaderCommit: request.leaderCommit });
      const reply = replies.find((m) => m.type === 'append-response');
      if (!reply || reply.type !== 'append-response') return refuse(ErrorCode.REQUEST_TIMED_OUT);
      return respond({ errorCode: ErrorCode.NONE, term: reply.term, success: reply.success, matchIndex: reply.matchIndex, conflictTerm: reply.conflictTerm, conflictIndex: reply.conflictIndex });
    }
    driver.receive({ type: 'timeout-now', from, to: self, term: request.term });
    return respond({ errorCode: ErrorCode.NONE, term: driver.node.term });
  }
}
