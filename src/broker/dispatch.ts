// Routes a decoded request header to its API handler: checks the version against the
// advertised range, decodes the body with the schema codec, runs the handler and encodes
// its response frame. Unknown API keys close the connection, as Kafka does; a known API at
// an unsupported version is answered with UNSUPPORTED_VERSION where its layout is known.
// Requests of a connection that has not authenticated (a SASL listener before SaslAuthenticate
// succeeded) never reach a handler other than ApiVersions: the connection's SASL gate keeps
// them, and the check here closes the connection should one slip through.

import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeResponseFrame } from '../../protocol/frame';
import { API_VERSIONS_KEY, RequestHeader } from '../../protocol/header';
import { ProtocolError, Reader } from '../../protocol/primitives';
import type { ApiKey } from '../../protocol/api-keys';
import { apiByKey, Request } from '../../protocol/apis';
import { parseVersionRange } from '../../protocol/schema';
import { Connection, Dispatcher, DispatchResult } from '../net/connection';
import { ApiHandler, CLOSE_CONNECTION, NO_RESPONSE, RequestContext } from './api-handler';
import { handlers } from './apis';
import type { Broker } from './broker';
import { apiVersionsBody } from './apis/18-api-versions';
import { applyClientQuotas, capFetchBytes } from './quota-manager';

/** What an unauthenticated connection may have dispatched (the SASL gate answers the SASL APIs itself). */
const PRE_AUTHENTICATION_APIS = new Set<number>([API_VERSIONS_KEY]);

export class BrokerDispatcher implements Dispatcher {
  private readonly table = new Map<number, ApiHandler>();

  constructor(private readonly broker: Broker) {
    for (const handler of handlers) this.table.set(handler.apiKey, handler);
  }

  dispatch(header: RequestHeader, body: Reader, connection: Connection): Promise<DispatchResult> | DispatchResult {
    if (!connection.security.authenticated && !PRE_AUTHENTICATION_APIS.has(header.apiKey)) {
      this.broker.logger.warn('request before authentication, closing connection', {
        apiKey: header.apiKey,
        remote: connection.remote,
      });
      return 'close';
    }
    const handler = this.table.get(header.apiKey);
    if (!handler) {
      this.broker.logger.warn('unknown api key, closing connection', {
        apiKey: header.apiKey,
        remote: connection.remote,
      });
      return 'close';
    }
    const version = header.apiVersion;
    if (version < handler.minVersion || version > handler.maxVersion) {
      if (
        handler.advertisedMinVersion !== undefined &&
        version >= handler.advertisedMinVersion &&
        version < handler.minVersion
      ) {
        // Listed in ApiVersions but not served (Produce 0-2): Kafka's network layer
        // refuses such a request by closing the connection, without a response.
        this.broker.logger.warn('request at an advertised but unserved version, closing connection', {
          api: handler.name,
          version,
          remote: connection.remote,
        });
        return 'close';
      }
      return this.unsupportedVersion(handler, header, body, connection);
    }
    const request = requestCodec(header.apiKey, version).decode(body);
    const ctx: RequestContext = { broker: this.broker, header, connection };
    const metrics = this.broker.metrics;
    metrics.requestStarted(header.apiKey);
    const startedNs = process.hrtime.bigint();
    // Client quotas (KIP-13/124/599): only when the metadata image holds one; the handler's
    // own (synchronous) time is what request_percentage counts.
    const quotas = this.broker.quotas.active;
    if (quotas) capFetchBytes(ctx, request);
    let outcome;
    try {
      outcome = handler.handle(ctx, request);
    } catch (error) {
      return this.handlerFailed(handler, header, request, error);
    }
    const handlerNanos = quotas ? Number(process.hrtime.bigint() - startedNs) : 0;
    if (outcome instanceof Promise) {
      return outcome.then(
        (response) => {
          metrics.requestFinished(header.apiKey, startedNs, response);
          if (!quotas) return this.encode(header, response);
          return this.throttled(ctx, body, handlerNanos, request, response);
        },
        (error) => this.handlerFailed(handler, header, request, error),
      );
    }
    metrics.requestFinished(header.apiKey, startedNs, outcome);
    if (!quotas) return this.encode(header, outcome);
    return this.throttled(ctx, body, handlerNanos, request, outcome);
  }

  /**
   * The response with the quotas' throttle time in its throttle_time_ms, and the connection
   * muted for that time once it is sent (KIP-219); a request that gets no answer (acks=0)
   * still mutes the connection.
   */
  private throttled(
    ctx: RequestContext,
    body: Reader,
    handlerNanos: number,
    request: Request<ApiKey>,
    response: unknown,
  ): DispatchResult {
    const answered = response !== NO_RESPONSE && response !== CLOSE_CONNECTION;
    const throttleTimeMs = applyClientQuotas(ctx, body.end, handlerNanos, request, answered ? response : null);
    const result = this.encode(ctx.header, response);
    if (throttleTimeMs <= 0 || result === 'close' || !(Array.isArray(result) || result === 'no-response'))
      return result;
    return { frames: result, throttleTimeMs };
  }

  /** The request's own response with `errorCode` everywhere (see Dispatcher.errorResponse). */
  errorResponse(header: RequestHeader, body: Reader, errorCode: number): Buffer[] | null {
    const handler = this.table.get(header.apiKey);
    if (!handler || header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) return null;
    const request = requestCodec(header.apiKey, header.apiVersion).decode(body);
    const result = this.encode(header, handler.errorResponse(request, errorCode, header.apiVersion));
    return Array.isArray(result) ? result : null;
  }

  private encode(header: RequestHeader, response: unknown): DispatchResult {
    if (response === NO_RESPONSE) return 'no-response';
    if (response === CLOSE_CONNECTION) return 'close';
    const codec = responseCodec(header.apiKey, header.apiVersion);
    return encodeResponseFrame(header.apiKey, header.apiVersion, header.correlationId, codec, response);
  }

  /** A handler bug is answered with UNKNOWN_SERVER_ERROR and logged; the broker carries on. */
  private handlerFailed(
    handler: ApiHandler,
    header: RequestHeader,
    request: Request<ApiKey>,
    error: unknown,
  ): DispatchResult {
    if (error instanceof ProtocolError) throw error;
    this.broker.metrics.requestFailed(header.apiKey, ErrorCode.UNKNOWN_SERVER_ERROR);
    this.broker.logger.error('handler failed', {
      api: handler.name,
      version: header.apiVersion,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return this.encode(header, handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, header.apiVersion));
  }

  private unsupportedVersion(
    handler: ApiHandler,
    header: RequestHeader,
    body: Reader,
    connection: Connection,
  ): DispatchResult {
    if (header.apiKey === API_VERSIONS_KEY) {
      // KIP-511: answer in the v0 layout so any client can read our ranges and retry lower.
      const response = apiVersionsBody(ErrorCode.UNSUPPORTED_VERSION);
      return encodeResponseFrame(
        API_VERSIONS_KEY,
        0,
        header.correlationId,
        responseCodec(API_VERSIONS_KEY, 0),
        response,
      );
    }
    const schema = apiByKey(header.apiKey);
    const [min, max] = schema ? parseVersionRange(schema.validVersions) : [1, 0];
    if (header.apiVersion >= min && header.apiVersion <= max) {
      try {
        const request = requestCodec(header.apiKey, header.apiVersion).decode(body);
        return this.encode(header, handler.errorResponse(request, ErrorCode.UNSUPPORTED_VERSION, header.apiVersion));
      } catch {
        // Fall through to closing: the body does not even parse at that version.
      }
    }
    this.broker.logger.warn('unsupported api version, closing connection', {
      api: handler.name,
      version: header.apiVersion,
      remote: connection.remote,
    });
    return 'close';
  }
}
