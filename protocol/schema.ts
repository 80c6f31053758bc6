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

export function field(name: string, type: PrimitiveType, options: FieldOptions = {}): ScalarField {
  return { name, kind: 'scalar', type, ...options };
}

export function array(name: string, items: PrimitiveType | Field[], options: FieldOptions = {}): ArrayField {
  return { name, kind: 'array', items, ...options };
}

export function struct(name: string, fields: Field[], options: FieldOptions = {}): StructField {
  return { name, kind: 'struct', fields, ...options };
}

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
