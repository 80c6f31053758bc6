// Codecs compiled from the declarative schemas: for each (API, version, direction) a pair
// of closures that decode a body from a Reader and encode one into a Writer. They are
// built lazily, once per version, and cached; the schema stays the single source of truth.

import type { ApiKey } from './api-keys';
import { allApis, apiByKey, Request, RequestInput, Response, ResponseInput } from './apis';
import { ProtocolError, Reader, Writer } from './primitives';
import { ApiSchema, Field, inRange, parseVersionRange, PrimitiveType, StructValue } from './schema';

/** Decodes bodies into `Decoded` values and encodes `Encodable` ones (see schema.ts). */
export interface Codec<Decoded = unknown, Encodable = Decoded> {
  decode(reader: Reader): Decoded;
  encode(writer: Writer, value: Encodable): void;
}

/** What a codec looked up by a run-time number gives: callers that know the key use the
 * typed overloads instead. */
export type UntypedCodec = Codec<any, any>;

type ReadFn = (reader: Reader) => unknown;
/** Writes one value; the typed codec API above guarantees the value's shape, so the
 * interpreter below only narrows it to what each primitive writer takes. */
type WriteFn = (writer: Writer, value: unknown) => void;

interface FieldPlan {
  name: string;
  read: ReadFn;
  write: WriteFn;
  defaultValue: () => unknown;
  /** For tagged fields: whether a value equals the default and may be left out. */
  isDefault: (value: unknown) => boolean;
}

interface StructPlan {
  fields: FieldPlan[];
  /** Fields absent in this version: filled with defaults on decode so handlers see them. */
  absent: FieldPlan[];
  tagged: Map<number, FieldPlan>;
  flexible: boolean;
}

/** Smallest possible encoding of one element, used to refuse absurd array counts early. */
function minimumBytes(items: PrimitiveType | Field[], flexible: boolean): number {
  // A struct element is at least one byte (its tag section, or its first field).
  if (Array.isArray(items)) return 1;
  switch (items) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return flexible ? 1 : 2;
    default:
      return flexible ? 1 : 4;
  }
}

function primitiveDefault(type: PrimitiveType, nullable: boolean): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      return nullable ? null : '';
    case 'bytes':
    case 'records':
      return nullable ? null : Buffer.alloc(0);
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    default:
      return 0;
  }
}

function primitiveReader(type: PrimitiveType, flexible: boolean, nullable: boolean): ReadFn {
  switch (type) {
    case 'bool':
      return (r) => r.bool();
    case 'int8':
      return (r) => r.int8();
    case 'int16':
      return (r) => r.int16();
    case 'uint16':
      return (r) => r.uint16();
    case 'int32':
      return (r) => r.int32();
    case 'uint32':
      return (r) => r.uint32();
    case 'int64':
      return (r) => r.int64();
    case 'float64':
      return (r) => r.float64();
    case 'uuid':
      return (r) => r.uuid();
    case 'string':
      if (flexible) return nullable ? (r) => r.compactNullableString() : (r) => r.compactString();
      return nullable ? (r) => r.nullableString() : (r) => r.string();
    case 'bytes':
    case 'records': {
      const read: ReadFn = flexible ? (r) => r.compactNullableBytes() : (r) => r.nullableBytes();
      if (nullable) return read;
      return (r) => {
        const value = read(r);
        if (value === null) throw new ProtocolError('null in non-nullable bytes');
        return value;
      };
    }
  }
}

function primitiveWriter(type: PrimitiveType, flexible: boolean, nullable: boolean): WriteFn {
  switch (type) {
    case 'bool':
      return (w, v) => w.bool(Boolean(v));
    case 'int8':
      return (w, v) => w.int8(v as number);
    case 'int16':
      return (w, v) => w.int16(v as number);
    case 'uint16':
      return (w, v) => w.uint16(v as number);
    case 'int32':
      return (w, v) => w.int32(v as number);
    case 'uint32':
      return (w, v) => w.uint32(v as number);
    case 'int64':
      return (w, v) => w.int64(v as number | bigint);
    case 'float64':
      return (w, v) => w.float64(v as number);
    case 'uuid':
      return (w, v) => w.uuid(v as string | null | undefined);
    case 'string':
      if (flexible) {
        return nullable
          ? (w, v) => w.compactNullableString(v as string | null)
          : (w, v) => w.compactString((v as string | undefined) ?? '');
      }
      return nullable
        ? (w, v) => w.nullableString(v as string | null)
        : (w, v) => w.string((v as string | undefined) ?? '');
    case 'bytes':
      if (flexible)
        return (w, v) =>
          w.compactNullableBytes(nullable ? (v as Buffer | null) : ((v as Buffer | undefined) ?? Buffer.alloc(0)));
      return (w, v) =>
        w.nullableBytes(nullable ? (v as Buffer | null) : ((v as Buffer | undefined) ?? Buffer.alloc(0)));
    case 'records':
      return (w, v) => w.records(v as Buffer | Buffer[] | null | undefined, flexible);
  }
}

function compileField(field: Field, version: number, flexible: boolean): FieldPlan {
  const nullable = inRange(field.nullableVersions, version, false);
  if (field.kind === 'scalar') {
    const fallback = field.default !== undefined ? field.default : primitiveDefault(field.type, nullable);
    return {
      name: field.name,
      read: primitiveReader(field.type, flexible, nullable),
      write: primitiveWriter(field.type, flexible, nullable),
      defaultValue: () => fallback,
      isDefault: (value) => value === undefined || value === fallback,
    };
  }
  if (field.kind === 'struct') {
    const plan = compileStruct(field.fields, version, flexible);
    if (nullable) {
      // A nullable struct is preceded by one byte, -1 for null and 1 for present, in
      // flexible and non-flexible versions alike (Kafka's generated code).
      return {
        name: field.name,
        read: (r) => (r.int8() < 0 ? null : readStruct(plan, r)),
        write: (w, v) => {
          if (v === null || v === undefined) {
            w.int8(-1);
            return;
          }
          w.int8(1);
          writeStruct(plan, w, v as Record<string, unknown>);
        },
        defaultValue: () => (field.default !== undefined ? field.default : null),
        isDefault: (value) => value === undefined || value === null,
      };
    }
    return {
      name: field.name,
      read: (r) => readStruct(plan, r),
      write: (w, v) => writeStruct(plan, w, (v ?? {}) as Record<string, unknown>),
      defaultValue: () => defaultStruct(plan),
      isDefault: (value) => value === undefined || value === null,
    };
  }
  // Arrays of primitives or of structs.
  const items = field.items;
  const minBytes = minimumBytes(items, flexible);
  let readItem: ReadFn;
  let writeItem: WriteFn;
  if (Array.isArray(items)) {
    const plan = compileStruct(items, version, flexible);
    readItem = (r) => readStruct(plan, r);
    writeItem = (w, v) => writeStruct(plan, w, v as Record<string, unknown>);
  } else {
    readItem = primitiveReader(items, flexible, false);
    writeItem = primitiveWriter(items, flexible, false);
  }
  const read: ReadFn = (r) => {
    const count = flexible ? r.compactArrayLength(minBytes) : r.arrayLength(minBytes);
    if (count === null) {
      if (!nullable) throw new ProtocolError(`null in non-nullable array ${field.name}`);
      return null;
    }
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = readItem(r);
    return out;
  };
  const write: WriteFn = (w, v) => {
    if (v === null || v === undefined) {
      if (nullable && v === null) {
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      v = [];
    }
    const list = v as unknown[];
    if (flexible) w.uvarint(list.length + 1);
    else w.int32(list.length);
    for (let i = 0; i < list.length; i++) writeItem(w, list[i]);
  };
  const fallback = field.default;
  return {
    name: field.name,
    read,
    write,
    defaultValue: () => (fallback !== undefined ? fallback : nullable ? null : []),
    isDefault: (value) =>
      value === undefined || (Array.isArray(value) ? value.length === 0 && !nullable : value === null && nullable),
  };
}

function compileStruct(fields: Field[], version: number, flexible: boolean): StructPlan {
  const plan: StructPlan = { fields: [], absent: [], tagged: new Map(), flexible };
  for (const field of fields) {
    const fieldPlan = compileField(field, version, flexible);
    if (!inRange(field.versions, version, true)) {
      plan.absent.push(fieldPlan);
    } else if (flexible && field.taggedVersions !== undefined && inRange(field.taggedVersions, version, false)) {
      if (field.tag === undefined) throw new Error(`tagged field ${field.name} has no tag`);
      plan.tagged.set(field.tag, fieldPlan);
    } else {
      plan.fields.push(fieldPlan);
    }
  }
  return plan;
}

function defaultStruct(plan: StructPlan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of plan.fields) out[f.name] = f.defaultValue();
  for (const f of plan.tagged.values()) out[f.name] = f.defaultValue();
  for (const f of plan.absent) out[f.name] = f.defaultValue();
  return out;
}

function readStruct(plan: StructPlan, r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) out[fields[i].name] = fields[i].read(r);
  for (let i = 0; i < plan.absent.length; i++) out[plan.absent[i].name] = plan.absent[i].defaultValue();
  if (plan.flexible) {
    for (const f of plan.tagged.values()) out[f.name] = f.defaultValue();
    readTaggedFields(r, plan.tagged, out);
  }
  return out;
}

/** Reads a tagged-field section; known tags decode into `out`, unknown ones are skipped. */
export function readTaggedFields(r: Reader, known: Map<number, FieldPlan> | null, out: Record<string, unknown>): void {
  const count = r.uvarint();
  if (count > r.remaining) throw new ProtocolError(`tagged field count ${count} exceeds the input`);
  let previousTag = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    if (tag <= previousTag) throw new ProtocolError('tagged fields out of order');
    previousTag = tag;
    const size = r.uvarint();
    r.need(size);
    const plan = known?.get(tag);
    if (plan) {
      const sub = new Reader(r.buf, r.pos, r.pos + size);
      out[plan.name] = plan.read(sub);
    }
    r.pos += size;
  }
}

function writeStruct(plan: StructPlan, w: Writer, value: Record<string, unknown>): void {
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = value[f.name];
    f.write(w, v === undefined ? f.defaultValue() : v);
  }
  if (!plan.flexible) return;
  if (plan.tagged.size === 0) {
    w.uvarint(0);
    return;
  }
  const present: [number, FieldPlan][] = [];
  for (const [tag, f] of plan.tagged) if (!f.isDefault(value[f.name])) present.push([tag, f]);
  present.sort((a, b) => a[0] - b[0]);
  w.uvarint(present.length);
  for (const [tag, f] of present) {
    const sub = new Writer(64);
    f.write(sub, value[f.name]);
    const bytes = sub.toBuffer();
    w.uvarint(tag).uvarint(bytes.length).raw(bytes);
  }
}

function isFlexible(schema: ApiSchema, version: number): boolean {
  return inRange(schema.flexibleVersions, version, false);
}

/** A codec for a free-standing struct (metadata records, internal formats). */
export function structCodec<const Fs extends Field[]>(
  fields: Fs,
  version: number,
  flexible: boolean,
): Codec<StructValue<Fs>, StructValue<Fs, 'encodable'>> {
  const plan = compileStruct(fields, version, flexible);
  return {
    decode: (reader) => readStruct(plan, reader) as StructValue<Fs>,
    encode: (writer, value) => writeStruct(plan, writer, (value ?? {}) as Record<string, unknown>),
  };
}

function compileCodec(schema: ApiSchema, fields: Field[], version: number): Codec<Record<string, unknown>, object> {
  const plan = compileStruct(fields, version, isFlexible(schema, version));
  return {
    decode: (reader) => readStruct(plan, reader),
    encode: (writer, value) => writeStruct(plan, writer, (value ?? {}) as Record<string, unknown>),
  };
}

type AnyCodec = Codec<Record<string, unknown>, object>;

const requestCache = new Map<number, AnyCodec>();
const responseCache = new Map<number, AnyCodec>();

function lookup(cache: Map<number, AnyCodec>, apiKey: number, version: number, side: 'request' | 'response'): AnyCodec {
  const key = apiKey * 0x10000 + version;
  let codec = cache.get(key);
  if (codec) return codec;
  const schema = apiByKey(apiKey);
  if (!schema) throw new RangeError(`unknown api key ${apiKey}`);
  if (!supportsVersion(schema, version)) throw new RangeError(`${schema.name} has no version ${version}`);
  codec = compileCodec(schema, side === 'request' ? schema.request : schema.response, version);
  cache.set(key, codec);
  return codec;
}

export function supportsVersion(schema: ApiSchema, version: number): boolean {
  const [min, max] = parseVersionRange(schema.validVersions);
  return version >= min && version <= max;
}

/** The request codec of one API version: typed by the schema when the key is an `ApiKey`. */
export function requestCodec<K extends ApiKey>(apiKey: K, version: number): Codec<Request<K>, RequestInput<K>>;
/** With a key only known at run time (a frame tool, a generic client path) the value is untyped. */
export function requestCodec(apiKey: number, version: number): UntypedCodec;
export function requestCodec(apiKey: number, version: number): AnyCodec {
  return lookup(requestCache, apiKey, version, 'request');
}

/** The response codec of one API version: typed by the schema when the key is an `ApiKey`. */
export function responseCodec<K extends ApiKey>(apiKey: K, version: number): Codec<Response<K>, ResponseInput<K>>;
export function responseCodec(apiKey: number, version: number): UntypedCodec;
export function responseCodec(apiKey: number, version: number): AnyCodec {
  return lookup(responseCache, apiKey, version, 'response');
}

export function isFlexibleVersion(apiKey: number, version: number): boolean {
  const schema = apiByKey(apiKey);
  return schema !== undefined && isFlexible(schema, version);
}

/** Compiles every version of every API once; used by tests to surface schema mistakes. */
export function compileAll(): number {
  let count = 0;
  for (const schema of allApis) {
    const [min, max] = parseVersionRange(schema.validVersions);
    for (let v = min; v <= max; v++) {
      requestCodec(schema.apiKey, v);
      responseCodec(schema.apiKey, v);
      count += 2;
    }
  }
  return count;
}
