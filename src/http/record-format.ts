// How record keys, values and headers travel in JSON. Producing: a value is taken as
// "string" (UTF-8 text), "json" (any JSON value, serialised) or "base64" (bytes); without
// a format, strings are text and other JSON values are serialised as JSON. Reading: "auto"
// shows text when the bytes are valid UTF-8 without control characters (flagged "json"
// when the text is a JSON object or array), hex otherwise; or one fixed format.

import { badRequest } from './http-errors';

export type InputFormat = 'string' | 'json' | 'base64';
export type OutputFormat = 'auto' | 'string' | 'json' | 'hex' | 'base64';
export type Encoding = 'string' | 'json' | 'hex' | 'base64';

export const INPUT_FORMATS: InputFormat[] = ['string', 'json', 'base64'];
export const OUTPUT_FORMATS: OutputFormat[] = ['auto', 'string', 'json', 'hex', 'base64'];

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** C0 controls other than tab, line feed and carriage return, and DEL: not shown as text. */
const CONTROL_PATTERN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** The bytes of one key or value given in a produce body (null stays null: a tombstone). */
export function encodeInput(value: unknown, format: InputFormat | undefined, field: string): Buffer | null {
  if (value === undefined || value === null) return null;
  if (format === 'base64') {
    if (typeof value !== 'string')
      throw badRequest(`${field} must be a base64 string when the format is base64, got ${typeof value}`);
    if (!BASE64_PATTERN.test(value)) throw badRequest(`${field} is not valid base64`, 'invalid-base64');
    return Buffer.from(value, 'base64');
  }
  if (format === 'string') {
    if (typeof value !== 'string')
      throw badRequest(
        `${field} must be a string when the format is string, got ${typeof value} (use format json for other JSON values)`,
      );
    return Buffer.from(value, 'utf8');
  }
  if (format === 'json' || typeof value !== 'string') return Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.from(value, 'utf8');
}

export function parseInputFormat(value: unknown, field: string): InputFormat | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !INPUT_FORMATS.includes(value as InputFormat))
    throw badRequest(`${field} must be one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as InputFormat;
}

/** The text of these bytes if they are valid UTF-8 without control characters. */
function asText(bytes: Buffer): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  return CONTROL_PATTERN.test(text) ? null : text;
}

function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') && trimmed.endsWith('}')) && !(trimmed.startsWith('[') && trimmed.endsWith(']')))
    return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** One key, value or header value for a read answer, with how it is encoded. */
export function decodeOutput(
  bytes: Buffer | null,
  format: OutputFormat,
): { value: string | null; encoding: Encoding | null } {
  if (bytes === null) return { value: null, encoding: null };
  switch (format) {
    case 'hex':
      return { value: bytes.toString('hex'), encoding: 'hex' };
    case 'base64':
      return { value: bytes.toString('base64'), encoding: 'base64' };
    case 'string':
      return { value: bytes.toString('utf8'), encoding: 'string' };
    case 'json': {
      const text = asText(bytes);
      if (text !== null) {
        try {
          JSON.parse(text);
          return { value: text, encoding: 'json' };
        } catch {
          // Not JSON: shown as auto would show it.
        }
      }
      return decodeOutput(bytes, 'auto');
    }
    default: {
      const text = asText(bytes);
      if (text === null) return { value: bytes.toString('hex'), encoding: 'hex' };
      return { value: text, encoding: looksLikeJson(text) ? 'json' : 'string' };
    }
  }
}
