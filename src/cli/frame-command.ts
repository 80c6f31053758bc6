// `brook frame encode|decode`: craft a Kafka frame from JSON for `nc`, or turn frame bytes
// from stdin (raw, or hex text with --hex) back into JSON. Byte fields are hex strings in
// JSON both ways, so `xxd -p` output can be pasted in.

import { apiByName } from '../../protocol/apis';
import { requestCodec, responseCodec, supportsVersion } from '../../protocol/codec';
import { encodeRequestFrame, encodeResponseFrame } from '../../protocol/frame';
import { decodeRequestHeader, decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { ApiSchema, Field, inRange } from '../../protocol/schema';
import { parseArgs, UsageError } from './args';

export const FRAME_HELP = `Usage:
  brook frame encode <api> <version> <json> [--response] [--correlation-id N] [--client-id ID] [--hex]
  brook frame decode [--response <api> <version>] [--hex]

encode writes one complete frame (4-byte size, header, body) to stdout, raw unless --hex,
so it can be piped into nc. <api> is a name (ApiVersions, Produce ...) or a key number.
<json> is the body with camelCase field names; bytes and record sets are hex strings.

decode reads frames from stdin (raw bytes, or hex text with --hex; whitespace ignored)
and prints each as JSON. Requests name their API in the header; responses do not, so give
--response <api> <version>.

Example:
  brook frame encode ApiVersions 0 '{}' | nc -q1 127.0.0.1 9092 | brook frame decode --response ApiVersions 0
`;

function schemaFor(name: string): ApiSchema {
  const schema = apiByName(name);
  if (!schema) throw new UsageError(`unknown api "${name}"`);
  return schema;
}

function versionFor(schema: ApiSchema, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`version must be a number, got "${text}"`);
  const version = Number(text);
  if (!supportsVersion(schema, version))
    throw new UsageError(`${schema.name} has no version ${version} (defined: ${schema.validVersions})`);
  return version;
}

/** Converts JSON values into codec values: hex strings become Buffers in byte fields. */
export function fromJson(fields: Field[], version: number, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...value };
  for (const field of fields) {
    if (!inRange(field.versions, version, true) || out[field.name] === undefined || out[field.name] === null) continue;
    const v = out[field.name];
    if (field.kind === 'scalar' && (field.type === 'bytes' || field.type === 'records')) {
      if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v))
        throw new UsageError(`${field.name}: expected a hex string`);
      out[field.name] = Buffer.from(v, 'hex');
    } else if (field.kind === 'struct') {
      out[field.name] = fromJson(field.fields, version, v);
    } else if (field.kind === 'array' && Array.isArray(field.items)) {
      if (!Array.isArray(v)) throw new UsageError(`${field.name}: expected an array`);
      out[field.name] = v.map((item) => fromJson(field.items as Field[], version, item));
    }
  }
  return out;
}

/** Makes decoded values printable: Buffers as hex. */
export function toJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(v)]));
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function frameCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    // Without a verb the help is a usage error: it goes to stderr, as other usage errors do.
    (verb === undefined ? process.stderr : process.stdout).write(FRAME_HELP);
    return verb === undefined ? 2 : 0;
  }
  if (verb === 'encode') {
    const { positionals, flags } = parseArgs(rest, ['correlation-id', 'client-id'], ['response', 'hex', 'help']);
    if (flags.help) {
      process.stdout.write(FRAME_HELP);
      return 0;
    }
    if (positionals.length !== 3) throw new UsageError('frame encode needs <api> <version> <json>');
    const schema = schemaFor(positionals[0]);
    const version = versionFor(schema, positionals[1]);
    let body: unknown;
    try {
      body = JSON.parse(positionals[2]);
    } catch (error) {
      throw new UsageError(`<json> is not valid JSON: ${(error as Error).message}`);
    }
    const correlationId = flags['correlation-id'] !== undefined ? Number(flags['correlation-id']) : 1;
    if (!Number.isInteger(correlationId)) throw new UsageError('--correlation-id must be an integer');
    const isResponse = flags.response === 'true';
    const value = fromJson(isResponse ? schema.response : schema.request, version, body);
    let frame: Buffer;
    try {
      frame = isResponse
        ? Buffer.concat(
            encodeResponseFrame(schema.apiKey, version, correlationId, responseCodec(schema.apiKey, version), value),
          )
        : encodeRequestFrame(
            { apiKey: schema.apiKey, apiVersion: version, correlationId, clientId: flags['client-id'] ?? 'brook-cli' },
            requestCodec(schema.apiKey, version),
            value,
          );
    } catch (error) {
      throw new UsageError(`cannot encode: ${(error as Error).message}`);
    }
    process.stdout.write(flags.hex ? `${frame.toString('hex')}\n` : frame);
    return 0;
  }
  if (verb === 'decode') {
    const { positionals, flags } = parseArgs(rest, ['response'], ['hex', 'help']);
    if (flags.help) {
      process.stdout.write(FRAME_HELP);
      return 0;
    }
    let responseSchema: ApiSchema | null = null;
    let responseVersion = 0;
    if (flags.response !== undefined) {
      responseSchema = schemaFor(flags.response);
      if (positionals.length !== 1) throw new UsageError('--response needs <api> <version>');
      responseVersion = versionFor(responseSchema, positionals[0]);
    } else if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let input = await readStdin();
    if (flags.hex) {
      const text = input.toString('utf8').replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new UsageError('stdin is not hex text');
      input = Buffer.from(text, 'hex');
    }
    if (input.length === 0) throw new UsageError('no bytes on stdin');
    let offset = 0;
    while (offset < input.length) {
      if (input.length - offset < 4) throw new UsageError(`${input.length - offset} stray bytes after the last frame`);
      const size = input.readInt32BE(offset);
      if (size < 0 || offset + 4 + size > input.length)
        throw new UsageError(`frame at byte ${offset} says ${size} bytes but ${input.length - offset - 4} follow`);
      const reader = new Reader(input, offset + 4, offset + 4 + size);
      let output: unknown;
      try {
        if (responseSchema) {
          const header = decodeResponseHeader(reader, responseHeaderVersion(responseSchema.apiKey, responseVersion));
          const body = responseCodec(responseSchema.apiKey, responseVersion).decode(reader);
          output = {
            size,
            api: responseSchema.name,
            version: responseVersion,
            header,
            body: toJson(body),
            trailingBytes: reader.remaining,
          };
        } else {
          const header = decodeRequestHeader(reader);
          const schema = apiByName(String(header.apiKey));
          if (!schema || !supportsVersion(schema, header.apiVersion)) {
            output = { size, header, error: `no codec for api ${header.apiKey} version ${header.apiVersion}` };
          } else {
            const body = requestCodec(header.apiKey, header.apiVersion).decode(reader);
            output = {
              size,
              api: schema.name,
              version: header.apiVersion,
              header,
              body: toJson(body),
              trailingBytes: reader.remaining,
            };
          }
        }
      } catch (error) {
        throw new UsageError(`cannot decode frame at byte ${offset}: ${(error as Error).message}`);
      }
      process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      offset += 4 + size;
    }
    return 0;
  }
  throw new UsageError(`unknown frame verb "${verb}" (encode or decode)`);
}
