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

/**
 * Returned by a handler when Kafka closes the connection instead of answering (Produce with
 * acks=0 that failed: the producer learns of the error by the close and refreshes its metadata).
 * Responses to earlier requests on the connection are sent first.
 */
export const CLOSE_CONNECTION = Symbol('close-connection');

type NoAnswer = typeof NO_RESPONSE | typeof CLOSE_CONNECTION;

export type HandlerResult<Res> = Res | NoAnswer | Promise<Res | NoAnswer>;

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
