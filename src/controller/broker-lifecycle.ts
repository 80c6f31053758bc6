// The broker side of membership: register with the active controller (over its
// controller port, or in process when this node leads), then heartbeat so the controller
// keeps this broker unfenced; the heartbeat carries how far this node has applied the
// metadata log, and the controller unfences a broker only once it has caught up to its
// own registration. A changed leader is followed; errors are retried with backoff. The
// connection to the controller port is authenticated with the cluster secret, the node's
// certificate over mutual TLS, or both (handshake.ts).

import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../net/kafka-connection';
import { Logger } from '../logger';
import type { MetadataQuorum } from './quorum';

/** How soon a failed heartbeat is tried again (on a new connection, or at the new leader). */
const RETRY_MS = 100;

export interface LifecycleOptions {
  brokerId: number;
  clusterId: string;
  incarnationId: string;
  /** The inter-broker listener's advertised address. */
  host: string;
  port: number;
  /** Every advertised listener, registered so that each client is answered on its own listener. */
  listeners: { name: string; host: string; port: number; securityProtocol: number }[];
  rack: string | null;
  /** This node's controller listener, registered so the leader can stream the log here. */
  controllerHost: string;
  controllerPort: number;
  heartbeatIntervalMs: number;
}

/** The broker-lifecycle requests a broker sends to the active controller. */
type LifecycleKey =
  | typeof ApiKey.BrokerRegistration
  | typeof ApiKey.BrokerHeartbeat
  | typeof ApiKey.AllocateProducerIds
  | typeof ApiKey.AlterPartitionIsr;

/** The controller's answer, or a refusal made here when no controller can be asked. */
type Answer<K extends LifecycleKey> =
  Response<K> | { errorCode: typeof ErrorCode.NOT_CONTROLLER; leaderId?: undefined };

export class BrokerLifecycle {
  brokerEpoch = -1;
  fenced = true;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  /** Set by a failed beat (after its early retry was scheduled) until one succeeds. */
  private failing = false;
  private connection: { leaderId: number; connection: KafkaConnection } | null = null;
  private busy = false;
  /** The leader named by a voter's refusal, while this node does not know it itself. */
  private leaderHint = -1;
  /** Which voter to ask next while no leader is known (an observer before it registers). */
  private probe = 0;

  constructor(
    private readonly quorum: MetadataQuorum,
    private readonly options: LifecycleOptions,
    private readonly logger: Logger,
  ) {}

  private async call<K extends LifecycleKey>(apiKey: K, body: Omit<RequestInput<K>, 'clusterId'>): Promise<Answer<K>> {
    let leaderId = this.quorum.isLeader ? this.options.brokerId : this.quorum.leaderId;
    if (leaderId < 0) leaderId = this.leaderHint;
    if (leaderId < 0) {
      // No leader known here: ask the voters in turn; a follower's refusal names the leader.
      const voters = this.quorum.voters().filter((v) => v.id !== this.options.brokerId);
      if (voters.length === 0) return { errorCode: ErrorCode.NOT_CONTROLLER };
      leaderId = voters[this.probe++ % voters.length].id;
    }
    if (leaderId === this.options.brokerId && this.quorum.isLeader) {
      // The key decides the body's and the answer's shape; TypeScript cannot follow that
      // correlation through K, hence the casts on this local shortcut.
      const local: Promise<unknown> =
        apiKey === ApiKey.BrokerRegistration
          ? this.quorum.register(body as never)
          : apiKey === ApiKey.AllocateProducerIds
            ? this.quorum.allocateProducerIds(body as never)
            : apiKey === ApiKey.AlterPartitionIsr
              ? this.quorum.alterPartitionIsr(body as never)
              : this.quorum.heartbeat(body as never);
      return (await local) as Answer<K>;
    }
    if (!this.connection || this.connection.leaderId !== leaderId) {
      this.connection?.connection.close();
      const address = this.quorum.voterAddress(leaderId);
      if (!address) return { errorCode: ErrorCode.NOT_CONTROLLER };
      // A paused or partitioned leader must not hold heartbeats past the session timeout.
      const timeoutMs = Math.max(500, Math.min(5000, this.options.heartbeatIntervalMs * 2));
      // Authenticated both ways (the cluster secret, the controller listener's mutual TLS, or
      // both): a broker registers only with a controller that proves it is a member.
      const connection = await this.quorum.openControllerConnection(
        {
          host: address.host,
          port: address.port,
          clientId: `broker-${this.options.brokerId}`,
          requestTimeoutMs: timeoutMs,
          connectTimeoutMs: Math.min(2000, timeoutMs),
        },
        leaderId,
      );
      this.connection = { leaderId, connection };
    }
    try {
      // TypeScript cannot see that adding the clusterId back to a body without it makes the
      // request of K again (a spread over a generic type), hence the annotation on `request`.
      const request = { clusterId: this.options.clusterId, ...body } as RequestInput<K>;
      const answer: Response<K> = await this.connection.connection.request(apiKey, 0, request);
      this.leaderHint = answer.errorCode === ErrorCode.NOT_CONTROLLER ? answer.leaderId : -1;
      return answer;
    } catch (error) {
      this.leaderHint = -1;
      this.connection.connection.close();
      this.connection = null;
      // The controller sees this close as a lost heartbeat connection: heartbeat again soon.
      this.retrySoon();
      throw error;
    }
  }

  /** Registers (retrying until `deadline`), then keeps heartbeating. */
  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const answer = await this.call(ApiKey.BrokerRegistration, {
          brokerId: this.options.brokerId,
          incarnationId: this.options.incarnationId,
          host: this.options.host,
          port: this.options.port,
          listeners: this.options.listeners,
          rack: this.options.rack,
          controllerHost: this.options.controllerHost,
          controllerPort: this.options.controllerPort,
        });
        if (answer.errorCode === ErrorCode.NONE) {
          this.brokerEpoch = answer.brokerEpoch;
          break;
        }
        if (Date.now() > deadline) throw new Error(`broker registration refused: error ${answer.errorCode}`);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    // Ready means unfenced: the controller unfences once this node has applied the metadata
    // log up to its own registration, which the next heartbeats report.
    await this.beat();
    while (this.fenced && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await this.beat();
    }
    if (this.fenced) this.logger.warn('still fenced after startup; serving anyway and heartbeating');
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const answer = await this.call(ApiKey.BrokerHeartbeat, {
        brokerId: this.options.brokerId,
        brokerEpoch: this.brokerEpoch,
        currentMetadataOffset: this.quorum.appliedIndex,
        wantFence: false,
        wantShutDown: false,
      });
      if (answer.errorCode === ErrorCode.NONE) {
        this.fenced = answer.isFenced;
        this.failing = false;
      } else if (answer.errorCode === ErrorCode.NOT_CONTROLLER) this.retrySoon();
      else if (
        answer.errorCode === ErrorCode.STALE_BROKER_EPOCH ||
        answer.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED
      ) {
        this.logger.warn('registration lost, registering again', { errorCode: answer.errorCode });
        const again = await this.call(ApiKey.BrokerRegistration, {
          brokerId: this.options.brokerId,
          incarnationId: this.options.incarnationId,
          host: this.options.host,
          port: this.options.port,
          listeners: this.options.listeners,
          rack: this.options.rack,
          controllerHost: this.options.controllerHost,
          controllerPort: this.options.controllerPort,
        });
        if (again.errorCode === ErrorCode.NONE) this.brokerEpoch = again.brokerEpoch;
      }
    } catch {
      // Leader unreachable: the next beat finds the new one.
      this.retrySoon();
    } finally {
      this.busy = false;
    }
  }

  /**
   * One early beat after a failed one: a controller that saw this node's heartbeat
   * connection close fences it unless it heartbeats again within a short grace
   * (brook.broker.disconnect.grace.ms), so a reconnect must not wait a whole interval.
   * Once per run of failures: while the controller stays away the interval paces the beats.
   */
  private retrySoon(): void {
    if (!this.timer || this.retry || this.failing) return;
    this.failing = true;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.timer) void this.beat();
    }, RETRY_MS);
    this.retry.unref();
  }

  /** An ISR change for a partition this broker leads (AlterPartitionIsr at the controller). */
  async alterPartitionIsr(request: {
    topicId: string;
    partition: number;
    leaderEpoch: number;
    partitionEpoch: number;
    newIsr: number[];
  }): Promise<{ errorCode: number }> {
    try {
      return await this.call(ApiKey.AlterPartitionIsr, {
        brokerId: this.options.brokerId,
        brokerEpoch: this.brokerEpoch,
        ...request,
      });
    } catch {
      return { errorCode: ErrorCode.NOT_CONTROLLER };
    }
  }

  /** A block of producer ids from the active controller (AllocateProducerIds). */
  async allocateProducerIds(): Promise<{ errorCode: number; firstProducerId: number; count: number }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const answer = await this.call(ApiKey.AllocateProducerIds, {
          brokerId: this.options.brokerId,
          brokerEpoch: this.brokerEpoch,
        });
        // A refusal made here carries only its error code; any other answer is whole.
        if (answer.errorCode !== ErrorCode.NOT_CONTROLLER && 'firstProducerId' in answer) return answer;
      } catch {
        // The leader moved or is unreachable: try again with the one now known.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { errorCode: ErrorCode.NOT_CONTROLLER, firstProducerId: -1, count: 0 };
  }

  /**
   * Controlled shutdown: stop the regular heartbeats and ask the controller, with
   * heartbeats that want to shut down, to move this broker's leaderships away and take it
   * out of every ISR. True once the controller has committed that (shouldShutDown); false
   * when it could not be reached within `timeoutMs` (the broker then stops anyway and the
   * session timeout does the rest, as after a crash).
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const deadline = Date.now() + timeoutMs;
    while (this.busy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Holding `busy` keeps any late regular beat (which would unfence us again) out.
    this.busy = true;
    while (Date.now() < deadline) {
      try {
        const answer = await this.call(ApiKey.BrokerHeartbeat, {
          brokerId: this.options.brokerId,
          brokerEpoch: this.brokerEpoch,
          currentMetadataOffset: this.quorum.appliedIndex,
          wantFence: false,
          wantShutDown: true,
        });
        if (answer.errorCode === ErrorCode.NONE && answer.shouldShutDown) {
          this.fenced = true;
          return true;
        }
      } catch {
        // The controller moved or is unreachable: ask again while time remains.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.connection?.connection.close();
    this.connection = null;
  }
}
