// Checks of request input (JSON bodies and query parameters) that answer 400 with a message
// naming the field and what was expected.

import { validateTopicName } from '../../protocol/topic-names';
import { badRequest } from './http-errors';

export type JsonObject = Record<string, unknown>;

export function requireObject(value: unknown, what = 'the body'): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`${what} must be a JSON object`);
  return value as JsonObject;
}

/** Refuses fields the endpoint does not know (a typo should not be silently ignored). */
export function onlyFields(body: JsonObject, allowed: string[], what = 'the body'): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw badRequest(
      `${what} has unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${allowed.join(', ')})`,
    );
}

export function optionalInteger(
  body: JsonObject,
  field: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(
      `${field} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function requireInteger(body: JsonObject, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = optionalInteger(body, field, min, max);
  if (value === undefined) throw badRequest(`${field} is required (an integer from ${min})`);
  return value;
}

export function requireString(body: JsonObject, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '')
    throw badRequest(`${field} is required (a non-empty string), got ${JSON.stringify(value ?? null)}`);
  return value;
}

/** A map of config names to values; numbers and booleans are taken as their text. */
export function configMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const object = requireObject(value, field);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(object)) {
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    else throw badRequest(`${field}.${key} must be a string, number or boolean, got ${JSON.stringify(v)}`);
  }
  return out;
}

/** A query parameter as an integer within bounds, or the default when absent. */
export function queryInteger(
  url: URL,
  name: string,
  fallback: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return fallback;
  if (!/^-?\d+$/.test(text))
    throw badRequest(`query parameter ${name} must be an integer, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw badRequest(`query parameter ${name} must be from ${min} to ${max}, got ${text}`);
  return value;
}

/** Topic names as Kafka allows them (protocol/topic-names.ts): 1 to 249 of [a-zA-Z0-9._-], not "." or "..". */
export function checkTopicName(name: string): void {
  if (validateTopicName(name) !== null) {
    throw badRequest(
      `invalid topic name ${JSON.stringify(name)}: use 1 to 249 letters, digits, '.', '_' or '-'`,
      'INVALID_TOPIC_EXCEPTION',
    );
  }
}
