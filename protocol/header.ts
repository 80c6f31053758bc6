// Request and response headers (request v0-v2, response v0-v1) and the rule that picks
// their version from the API and its version: flexible API versions use request header v2
// and response header v1, except that ApiVersions responses always use header v0 (KIP-511)
// so a client can read the error before it knows what the broker speaks.

import { ApiKey } from './api-keys';
import { apiByKey } from './apis';
import { readTaggedFields } from './codec';
import { inRange } from './schema';
import { Reader, Writer } from './primitives';

export const API_VERSIONS_KEY = ApiKey.ApiVersions;
/** Newest ApiVersions version with a schema here. */
const API_VERSIONS_MAX_KNOWN = 3;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Header version the request was decoded with. */
  headerVersion: number;
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const schema = apiByKey(apiKey);
  if (schema && inRange(schema.flexibleVersions, apiVersion, false)) return 2;
  return 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  const schema = apiByKey(apiKey);
  if (schema && inRange(schema.flexibleVersions, apiVersion, false)) return 1;
  return 0;
}

/**
 * Decodes a request header. The header version follows from the API key and version,
 * which come first; unknown APIs and versions are decoded as header v1 so the caller can
 * still learn the correlation id and answer or close.
 */
export function decodeRequestHeader(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  // An ApiVersions request newer than we know is answered from its first fields alone
  // (KIP-511), so its header's tagged section is not required to parse.
  const unknownApiVersions = apiKey === API_VERSIONS_KEY && apiVersion > API_VERSIONS_MAX_KNOWN;
  if (headerVersion >= 2 && !(unknownApiVersions && reader.remaining === 0)) readTaggedFields(reader, null, {});
  return { apiKey, apiVersion, correlationId, clientId, headerVersion };
}

export function encodeRequestHeader(
  writer: Writer,
  header: { apiKey: number; apiVersion: number; correlationId: number; clientId?: string | null },
): void {
  writer.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId);
  writer.nullableString(header.clientId ?? null);
  if (requestHeaderVersion(header.apiKey, header.apiVersion) >= 2) writer.uvarint(0);
}

export function encodeResponseHeader(writer: Writer, correlationId: number, headerVersion: number): void {
  writer.int32(correlationId);
  if (headerVersion >= 1) writer.uvarint(0);
}

export function decodeResponseHeader(reader: Reader, headerVersion: number): { correlationId: number } {
  const correlationId = reader.int32();
  if (headerVersion >= 1) readTaggedFields(reader, null, {});
  return { correlationId };
}
