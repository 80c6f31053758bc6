// The declarative schema language: one definition per API holds every version of its
// request and response, with per-field version ranges, as Kafka's message specs do.
// Codecs are compiled from these definitions once at load (see codec.ts).

/** A version range written the way Kafka's specs write it: "0+", "3-7", "none". */
export type VersionRange = string;

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'uuid'
  | 'string'
  | 'bytes'
  /** A record set: nullable bytes on the wire, handed out as a Buffer slice (no copy) and
   * accepted on encode as a Buffer or an array of Buffers written back to back. */
  | 'records';

export interface FieldOptions {
  /** Versions in which the field is present; default "0+". */
  versions?: VersionRange;
  /** Versions in which a string, bytes, records, array or struct field may be null. */
  nullableVersions?: VersionRange;
  /** Versions in which the field is a tagged field (must be within flexible versions). */
  taggedVersions?: VersionRange;
  /** The tag number, required when taggedVersions is set. */
  tag?: number;
  /** Value used when the field is absent in a version (decode) or left undefined (encode). */
  default?: unknown;
  /** Human note that ends up in generated docs and frame tools. */
  about?: string;
}

export interface ScalarField extends FieldOptions {
  name: string;
  kind: 'scalar';
  type: PrimitiveType;
}

export interface ArrayField extends FieldOptions {
  name: string;
  kind: 'array';
  /** Element type: a primitive name or a struct (list of fields). */
  items: PrimitiveType | Field[];
}

export interface StructField extends FieldOptions {
  name: string;
  kind: 'struct';
  fields: Field[];
}

export type Field = ScalarField | ArrayField | StructField;

export interface ApiSchema {
  apiKey: number;
  name: string;
  /** Versions defined by this schema (what codecs exist for). */
  validVersions: VersionRange;
  /** First flexible version, or "none". */
  flexibleVersions: VersionRange;
  request: Field[];
  response: Field[];
}

// Small builders so schema files read like Kafka's JSON specs without being copies of them.
// They keep each field's name, type and options as literal types, so that the value types
// below are inferred from the schema objects themselves: the schema is the single source of
// both the codecs and the types handlers and clients see.

export function field<const N extends string, const T extends PrimitiveType, const O extends FieldOptions = {}>(
  name: N,
  type: T,
  options?: O,
): { name: N; kind: 'scalar'; type: T } & NoInfer<O> {
  return { name, kind: 'scalar', type, ...options } as { name: N; kind: 'scalar'; type: T } & O;
}

export function array<
  const N extends string,
  const I extends PrimitiveType | Field[],
  const O extends FieldOptions = {},
>(name: N, items: I, options?: O): { name: N; kind: 'array'; items: I } & NoInfer<O> {
  return { name, kind: 'array', items, ...options } as { name: N; kind: 'array'; items: I } & O;
}

export function struct<const N extends string, const F extends Field[], const O extends FieldOptions = {}>(
  name: N,
  fields: F,
  options?: O,
): { name: N; kind: 'struct'; fields: F } & NoInfer<O> {
  return { name, kind: 'struct', fields, ...options } as { name: N; kind: 'struct'; fields: F } & O;
}

/** Declares one API's schema, keeping its literal types for `RequestOf` and friends. */
export function defineApi<const S extends ApiSchema>(schema: S): S {
  return schema;
}

// Value types inferred from a schema.
//
// Decoded values (what a handler receives as a request, what a client receives as a
// response) carry every field the schema defines: the codec fills a field that is absent in
// the decoded version (or a tagged field not sent) with its default, so a handler always
// sees a value, whatever the version. A field nullable in some versions is typed `| null`.
//
// Encodable values (what a handler returns, what a client sends) may leave out a field the
// codec can fill with its default on its own: one absent in some versions, tagged, or with a
// declared default. A field present in every version without a default is required, so a
// handler cannot forget it and have a zero go out unnoticed.

/** Whether values are read from the wire ('decoded') or handed to an encoder ('encodable'). */
export type ValueMode = 'decoded' | 'encodable';

type PrimitiveValue<T extends PrimitiveType, M extends ValueMode> = T extends 'bool'
  ? boolean
  : T extends 'string' | 'uuid'
    ? string
    : T extends 'bytes'
      ? Buffer
      : T extends 'records'
        ? M extends 'decoded'
          ? Buffer
          : Buffer | Buffer[]
        : T extends 'int64'
          ? M extends 'decoded'
            ? number
            : number | bigint
          : number;

type NullIfNullable<F> = F extends { nullableVersions: string } ? null : never;

type FieldValue<F, M extends ValueMode> = F extends { kind: 'scalar'; type: infer T extends PrimitiveType }
  ? PrimitiveValue<T, M> | NullIfNullable<F>
  : F extends { kind: 'array'; items: infer I }
    ? | (I extends PrimitiveType ? PrimitiveValue<I, M> : I extends Field[] ? StructValue<I, M> : never)[]
      | NullIfNullable<F>
    : F extends { kind: 'struct'; fields: infer S extends Field[] }
      ? StructValue<S, M> | NullIfNullable<F>
      : never;

/** A field the encoder fills on its own when left out (see the note above). */
type FilledOnEncode<F> = F extends { versions: infer V }
  ? V extends '0+'
    ? F extends { default: unknown } | { taggedVersions: string }
      ? true
      : false
    : true
  : F extends { default: unknown } | { taggedVersions: string }
    ? true
    : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The value of a struct with fields `Fs`. */
export type StructValue<Fs extends Field[], M extends ValueMode = 'decoded'> = M extends 'decoded'
  ? Simplify<{ [F in Fs[number] as F['name']]: FieldValue<F, M> }>
  : Simplify<
      { [F in Fs[number] as FilledOnEncode<F> extends true ? never : F['name']]: FieldValue<F, M> } & {
        [F in Fs[number] as FilledOnEncode<F> extends true ? F['name'] : never]?: FieldValue<F, M>;
      }
    >;

/** A decoded request of API schema `S` (what its handler receives). */
export type RequestOf<S extends ApiSchema> = StructValue<S['request'], 'decoded'>;
/** A request of API schema `S` as handed to the encoder (what a client sends). */
export type RequestIn<S extends ApiSchema> = StructValue<S['request'], 'encodable'>;
/** A decoded response of API schema `S` (what a client receives). */
export type ResponseOf<S extends ApiSchema> = StructValue<S['response'], 'decoded'>;
/** A response of API schema `S` as handed to the encoder (what a handler returns). */
export type ResponseIn<S extends ApiSchema> = StructValue<S['response'], 'encodable'>;

/** Parses "0+", "3-7", "5", "none" into an inclusive [min, max]; "none" is [1, 0] (empty). */
export function parseVersionRange(range: VersionRange): [number, number] {
  if (range === 'none') return [1, 0];
  const plus = /^(\d+)\+$/.exec(range);
  if (plus) return [Number(plus[1]), 0x7fff];
  const span = /^(\d+)-(\d+)$/.exec(range);
  if (span) return [Number(span[1]), Number(span[2])];
  const single = /^(\d+)$/.exec(range);
  if (single) return [Number(single[1]), Number(single[1])];
  throw new Error(`bad version range: ${range}`);
}

export function inRange(range: VersionRange | undefined, version: number, fallback: boolean): boolean {
  if (range === undefined) return fallback;
  const [min, max] = parseVersionRange(range);
  return version >= min && version <= max;
}
