// The dispatcher of the controller port: Raft's own APIs go to the Raft dispatcher, and the
// requests the active controller answers (broker registration and heartbeats, producer id
// blocks, ISR changes, voter changes) are decoded and answered here. With a cluster secret,
// or on a TLS controller listener (membership by certificate), a connection must first
// complete ControllerHandshake (src/raft/handshake.ts); any other request before that
// closes it. A broker request for another broker id than the one the
// connection authenticated as gets CLUSTER_AUTHORIZATION_FAILED, a request from another
// cluster INCONSISTENT_CLUSTER_ID; anything unknown is left to the Raft dispatcher, which
// closes the connection with one log line. The connection on which a broker was last
// answered a registration or heartbeat is its heartbeat connection: its close is reported
// to the controller (fast failure detection, brook.broker.disconnect.grace.ms).

import { ApiKey } from '../../protocol/api-keys';
import type { Request, ResponseInput } from '../../protocol/apis';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeResponseFrame } from '../../protocol/frame';
import { RequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { Connection, Dispatcher, DispatchResult } from '../net/connection';
import { HandshakeGate } from '../raft/handshake';

export interface MembershipAnswer {
  errorCode: number;
  errorMessage: string | null;
  leaderId: number;
  leaderHost: string | null;
  leaderPort: number;
}

/** A broker-lifecycle request as the controller takes it: the port checks the cluster id. */
export type LifecycleRequest<K extends ApiKey> = Omit<Request<K>, 'clusterId'>;

/** Requests the active controller answers (registration, heartbeats, voter changes); the
 * shapes come from the schemas in protocol/apis/1000-raft.ts. */
export interface ControllerRequests {
  register(request: LifecycleRequest<typeof BROKER_REGISTRATION>): Promise<ResponseInput<typeof BROKER_REGISTRATION>>;
  heartbeat(request: LifecycleRequest<typeof BROKER_HEARTBEAT>): Promise<ResponseInput<typeof BROKER_HEARTBEAT>>;
  allocateProducerIds(
    request: LifecycleRequest<typeof ALLOCATE_PRODUCER_IDS>,
  ): Promise<ResponseInput<typeof ALLOCATE_PRODUCER_IDS>>;
  alterPartitionIsr(
    request: LifecycleRequest<typeof ALTER_PARTITION_ISR>,
  ): Promise<ResponseInput<typeof ALTER_PARTITION_ISR>>;
  /**
   * A broker's heartbeat connection: `open` once the broker was answered on it, false once
   * that connection (the broker's latest) closed.
   */
  brokerConnection(brokerId: number, open: boolean): void;
  addVoter(voterId: number): Promise<MembershipAnswer>;
  removeVoter(voterId: number): Promise<MembershipAnswer>;
}

const BROKER_REGISTRATION = ApiKey.BrokerRegistration;
const BROKER_HEARTBEAT = ApiKey.BrokerHeartbeat;
const ADD_VOTER = ApiKey.RaftAddVoter;
const REMOVE_VOTER = ApiKey.RaftRemoveVoter;
const ALLOCATE_PRODUCER_IDS = ApiKey.AllocateProducerIds;
const ALTER_PARTITION_ISR = ApiKey.AlterPartitionIsr;
const HANDSHAKE = ApiKey.ControllerHandshake;

export class ControllerPortDispatcher implements Dispatcher {
  /** Each broker's latest heartbeat connection (one entry per registered broker at most). */
  private readonly heartbeatConnections = new Map<number, Connection>();

  constructor(
    /** Serves the Raft APIs and closes the connection on any key it does not know. */
    private readonly raft: Dispatcher,
    private readonly clusterId: string,
    private readonly controller: ControllerRequests,
    private readonly gate: HandshakeGate,
  ) {}

  dispatch(header: RequestHeader, body: Reader, connection: Connection): DispatchResult | Promise<DispatchResult> {
    const { apiKey, apiVersion, correlationId } = header;
    if (apiKey === HANDSHAKE) return this.gate.handle(header, body, connection);
    const peer = this.gate.authenticatedAs(connection);
    if (peer === undefined) return this.gate.refuseUnauthenticated(connection, apiKey);
    if (apiVersion !== 0) return this.raft.dispatch(header, body, connection);
    const respond = (value: unknown) => encodeResponseFrame(apiKey, 0, correlationId, responseCodec(apiKey, 0), value);
    const controller = this.controller;
    if (
      apiKey === BROKER_REGISTRATION ||
      apiKey === BROKER_HEARTBEAT ||
      apiKey === ALLOCATE_PRODUCER_IDS ||
      apiKey === ALTER_PARTITION_ISR
    ) {
      const request = requestCodec(apiKey, 0).decode(body);
      const refusal =
        request.clusterId !== this.clusterId
          ? ErrorCode.INCONSISTENT_CLUSTER_ID
          : peer !== null && request.brokerId !== peer
            ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED
            : ErrorCode.NONE;
      if (refusal !== ErrorCode.NONE)
        return respond({
          errorCode: refusal,
          brokerEpoch: -1,
          leaderId: -1,
          firstProducerId: -1,
          count: 0,
          isr: [],
        });
      // The decoded request's shape follows the key; TypeScript cannot correlate the two
      // through the union, hence one cast per branch.
      const answer: Promise<unknown> =
        apiKey === BROKER_REGISTRATION
          ? controller.register(request as Request<typeof BROKER_REGISTRATION>)
          : apiKey === BROKER_HEARTBEAT
            ? controller.heartbeat(request as Request<typeof BROKER_HEARTBEAT>)
            : apiKey === ALLOCATE_PRODUCER_IDS
              ? controller.allocateProducerIds(request as Request<typeof ALLOCATE_PRODUCER_IDS>)
              : controller.alterPartitionIsr(request as Request<typeof ALTER_PARTITION_ISR>);
      if (apiKey === BROKER_REGISTRATION || apiKey === BROKER_HEARTBEAT)
        return answer.then((value) => {
          if ((value as { errorCode: number }).errorCode === ErrorCode.NONE)
            this.heartbeatOn(connection, request.brokerId);
          return respond(value);
        });
      return answer.then(respond);
    }
    if (apiKey === ADD_VOTER || apiKey === REMOVE_VOTER) {
      const request = requestCodec(apiKey, 0).decode(body);
      if (request.clusterId !== this.clusterId)
        return respond({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, errorMessage: 'another cluster', leaderId: -1 });
      const answer =
        apiKey === ADD_VOTER ? controller.addVoter(request.voterId) : controller.removeVoter(request.voterId);
      return answer.then(respond);
    }
    return this.raft.dispatch(header, body, connection);
  }

  /**
   * A registered broker was answered on `connection`: it is the broker's heartbeat
   * connection, whose close the controller is told of. A connection that closed while the
   * request was being decided does not count (its close was already seen, or never will be).
   */
  private heartbeatOn(connection: Connection, brokerId: number): void {
    if (connection.isClosed) return;
    if (this.heartbeatConnections.get(brokerId) !== connection) {
      this.heartbeatConnections.set(brokerId, connection);
      connection.socket.once('close', () => {
        // Only the broker's latest connection speaks for it: an older one closing after
        // the broker moved to a new connection says nothing.
        if (this.heartbeatConnections.get(brokerId) !== connection) return;
        this.heartbeatConnections.delete(brokerId);
        this.controller.brokerConnection(brokerId, false);
      });
    }
    this.controller.brokerConnection(brokerId, true);
  }
}
