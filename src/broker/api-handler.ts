// The shape every API handler file exports, and the request context handed to it.
// Kafka error codes are values in responses: handlers return them, they do not throw.

import type { ApiKey } from '../../protocol/api-keys';
import type { Request, ResponseInput } from '../../protocol/apis';
import { RequestHeader } from '../../protocol/header';
import type { Broker } from './broker';
import type { Connection } from '../net/connection';

export interface RequestContext {
  broker: Broker;
  header: RequestHeader;
  connection: Connection;
}

/** Returned by a handler when Kafka sends no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no-response');

export type HandlerResult<Res> = Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>;

/** The handler of API `K`: its request and response types come from that API's schema. */
export interface ApiHandler<K extends ApiKey = ApiKey> {
  apiKey: K;
  name: string;
  /** The version range advertised in ApiVersions and served. */
  minVersion: number;
  maxVersion: number;
  /**
   * A lower minimum shown in ApiVersions than the one served, for clients that gate
   * features on old versions being listed (Produce, as Kafka 4 does). A request between
   * this and `minVersion` closes the connection, as Kafka's network layer does.
   */
  advertisedMinVersion?: number;
  handle(ctx: RequestContext, request: Request<K>): HandlerResult<ResponseInput<K>>;
  /** A response carrying `errorCode` everywhere an error fits, for requests refused whole. */
  errorResponse(request: Request<K>, errorCode: number, version: number): ResponseInput<K>;
}
