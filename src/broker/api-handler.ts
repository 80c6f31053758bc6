// The shape every API handler file exports, and the request context handed to it.
// Kafka error codes are values in responses: handlers return them, they do not throw.

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

export interface ApiHandler<Req = any, Res = any> {
  apiKey: number;
  name: string;
  /** The version range advertised in ApiVersions and served. */
  minVersion: number;
  maxVersion: number;
  handle(ctx: RequestContext, request: Req): Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>;
  /** A response carrying `errorCode` everywhere an error fits, for requests refused whole. */
  errorResponse(request: Req, errorCode: number, version: number): Res;
}
