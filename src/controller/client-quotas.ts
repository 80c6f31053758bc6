// Client quota configuration as Kafka's ClientQuotaControlManager decides it and its
// ClientQuotasImage describes it: AlterClientQuotas checked against the image and turned
// into ClientQuota records (type 14), and the DescribeClientQuotas filter run over the
// image. Pure: the image in, records and answers out. Enforcement (which quota applies to
// a connection) lives elsewhere and reads image.clientQuotas.

import { isIP } from 'node:net';
import { ErrorCode } from '../../protocol/errors';
import { MetadataRecordInput } from '../../protocol/metadata/records';
import { MetadataImage, QuotaEntity, quotaEntityKey } from './metadata-image';

/** The entity types (Kafka's ClientQuotaEntity.USER, CLIENT_ID, IP). */
export const QuotaEntityType = { USER: 'user', CLIENT_ID: 'client-id', IP: 'ip' } as const;
const ENTITY_TYPES: readonly string[] = Object.values(QuotaEntityType);
/** The most (type, name) pairs a valid entity has: each type at most once. */
export const QUOTA_ENTITY_PAIRS_MAX = ENTITY_TYPES.length;

/** DescribeClientQuotas match types (Kafka's ClientQuotaFilterComponent). */
export const QuotaMatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

/**
 * The quota keys and their value types, as Kafka's QuotaConfig defines them: user and
 * client-id entities take the byte rates (LONG), the request percentage and the controller
 * mutation rate (DOUBLE); ip entities take only the connection creation rate (INT).
 */
type QuotaValueType = 'long' | 'int' | 'double';
const USER_AND_CLIENT_KEYS: Record<string, QuotaValueType> = {
  producer_byte_rate: 'long',
  consumer_byte_rate: 'long',
  request_percentage: 'double',
  controller_mutation_rate: 'double',
};
const IP_KEYS: Record<string, QuotaValueType> = { connection_creation_rate: 'int' };

/** Every quota key an entity may hold, for tools that list them. */
export const QUOTA_KEYS: readonly string[] = [...Object.keys(USER_AND_CLIENT_KEYS), ...Object.keys(IP_KEYS)];

/** Longest entity name accepted, in UTF-8 bytes (Kafka has no bound; names stay in the image). */
export const QUOTA_ENTITY_NAME_BYTES_MAX = 1024;
/** Defaults of brook.max.client.quota.entities and brook.max.client.quota.entries.per.request. */
export const DEFAULT_CLIENT_QUOTA_ENTITIES_MAX = 10_000;
export const DEFAULT_CLIENT_QUOTA_ENTRIES_PER_REQUEST_MAX = 1000;

/** Long.MAX_VALUE and Integer.MAX_VALUE as Java compares a double against them. */
const LONG_MAX = 9223372036854775807;
const INT_MAX = 2147483647;

export interface ClientQuotaSettings {
  /** brook.max.client.quota.entities: entities with at least one quota value in the whole cluster. */
  entitiesMax: number;
  /** brook.max.client.quota.entries.per.request: entities in one AlterClientQuotas. */
  entriesPerRequestMax: number;
}

export interface QuotaAlteration {
  entity: QuotaEntity;
  ops: { key: string; value: number; remove: boolean }[];
}

export interface AlterQuotaResult {
  entity: QuotaEntity;
  errorCode: number;
  errorMessage: string | null;
}

export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

export interface QuotaDescription {
  entity: QuotaEntity;
  values: { key: string; value: number }[];
}

interface ApiError {
  errorCode: number;
  errorMessage: string;
}

const invalid = (errorMessage: string): ApiError => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

/** How an entity reads in messages, e.g. {user=alice, client-id=<default>}. */
export function describeEntity(entity: QuotaEntity): string {
  return `{${entity.map((e) => `${e.entityType}=${e.entityName ?? '<default>'}`).join(', ')}}`;
}

/** The entity with its pairs sorted by type, as records and the image hold it. */
function sortedEntity(entity: QuotaEntity): QuotaEntity {
  return [...entity]
    .map((e) => ({ entityType: e.entityType, entityName: e.entityName }))
    .sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0));
}

/**
 * Kafka's validateEntity and configKeysForEntityType: known types, each once, no empty
 * name, ip never combined with user or client-id, and an ip name that is an address. Kafka
 * also accepts a host name it can resolve; the controller stays pure here and takes IPv4 or
 * IPv6 literals only (the addresses quotas are matched against). Gives the keys the entity
 * may hold.
 */
function checkEntity(entity: QuotaEntity): { error: ApiError } | { keys: Record<string, QuotaValueType> } {
  const fail = (message: string) => ({ error: invalid(message) });
  if (entity.length === 0) return fail('Invalid empty client quota entity');
  const seen = new Map<string, string | null>();
  for (const { entityType, entityName } of entity) {
    if (seen.has(entityType)) return fail(`Invalid client quota entity, duplicate entity entry ${entityType}`);
    if (!ENTITY_TYPES.includes(entityType))
      return fail(`Unhandled client quota entity type: ${entityType.slice(0, 100)}`);
    if (entityName !== null && entityName.length === 0) return fail(`Empty ${entityType} not supported`);
    if (entityName !== null && Buffer.byteLength(entityName, 'utf8') > QUOTA_ENTITY_NAME_BYTES_MAX)
      return fail(`The ${entityType} name must be at most ${QUOTA_ENTITY_NAME_BYTES_MAX} bytes`);
    seen.set(entityType, entityName);
  }
  if (seen.has(QuotaEntityType.IP)) {
    if (seen.size > 1)
      return fail('Invalid quota entity combination, IP entity should not be combined with User or ClientId');
    const ip = seen.get(QuotaEntityType.IP)!;
    if (ip !== null && isIP(ip) === 0) return fail(`${ip} is not a valid IP address.`);
    return { keys: IP_KEYS };
  }
  return { keys: USER_AND_CLIENT_KEYS };
}

/** Kafka's validateQuotaKeyValue, and Brook refuses NaN and infinities, which Java lets through. */
function checkValue(keys: Record<string, QuotaValueType>, key: string, value: number): ApiError | null {
  const type = keys[key];
  if (type === undefined) return invalid(`Invalid configuration key ${key.slice(0, 100)}`);
  if (!Number.isFinite(value)) return invalid(`Quota ${key} must be a finite number`);
  if (value <= 0) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'double') return null;
  if (type === 'long' && value > LONG_MAX) return invalid(`Proposed value for ${key} is too large for a LONG.`);
  if (type === 'int' && value > INT_MAX) return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return null;
}

/**
 * AlterClientQuotas, as Kafka's ClientQuotaControlManager.alterClientQuotas: each entity is
 * checked on its own (one refused entity leaves the others to apply); a key given twice
 * for one entity, or an entity given twice in the request, refuses that entity
 * (INVALID_REQUEST). A value is written only when it changes, a removal only when the value
 * exists (a removal's key is not checked, as in Kafka). A new entity past
 * brook.max.client.quota.entities is POLICY_VIOLATION. One result per distinct entity, in
 * request order. With validateOnly the answers are the same and no record is written.
 */
export function alterClientQuotas(
  image: MetadataImage,
  settings: Pick<ClientQuotaSettings, 'entitiesMax'>,
  alterations: QuotaAlteration[],
  validateOnly: boolean,
): { records: MetadataRecordInput[]; result: AlterQuotaResult[] } {
  // Entity key -> the entity's answer, and its records while it is still accepted.
  const decided = new Map<string, { entity: QuotaEntity; error: ApiError | null; records: MetadataRecordInput[] }>();
  let entities = image.clientQuotas.size;
  for (const { entity: given, ops } of alterations) {
    // More pairs than there are types must name one twice: refused before any sorting, so
    // that a huge entity costs no more than reading it.
    if (given.length > QUOTA_ENTITY_PAIRS_MAX) {
      const pairs = given.slice(0, QUOTA_ENTITY_PAIRS_MAX + 1);
      decided.set(`oversized\u0000${decided.size}`, {
        entity: pairs,
        error: invalid(`Invalid client quota entity: ${given.length} entity entries`),
        records: [],
      });
      continue;
    }
    const entity = sortedEntity(given);
    const key = quotaEntityKey(entity);
    const earlier = decided.get(key);
    if (earlier) {
      earlier.error = invalid(`Ignoring duplicate entity ${describeEntity(entity)}`);
      earlier.records = [];
      continue;
    }
    const outcome = { entity, error: null as ApiError | null, records: [] as MetadataRecordInput[] };
    decided.set(key, outcome);
    const checked = checkEntity(entity);
    if ('error' in checked) {
      outcome.error = checked.error;
      continue;
    }
    const keys = checked.keys;
    const current = image.clientQuotas.get(key)?.values ?? new Map<string, number>();
    const seenKeys = new Set<string>();
    let sets = false;
    for (const op of ops) {
      if (seenKeys.has(op.key)) {
        outcome.error = invalid(
          `Duplicate quota key ${op.key.slice(0, 100)} not updating quota for this entity ${describeEntity(entity)}`,
        );
        break;
      }
      seenKeys.add(op.key);
      if (op.remove) {
        if (current.has(op.key))
          outcome.records.push({ type: 'ClientQuota', data: { entity, key: op.key, value: 0, remove: true } });
        continue;
      }
      const error = checkValue(keys, op.key, op.value);
      if (error) {
        outcome.error = error;
        break;
      }
      sets = true;
      if (current.get(op.key) !== op.value)
        outcome.records.push({ type: 'ClientQuota', data: { entity, key: op.key, value: op.value, remove: false } });
    }
    if (outcome.error) {
      outcome.records = [];
      continue;
    }
    // The bound counts entities that hold values; one that a request empties is not
    // counted off, so the bound is never crossed whatever order the records apply in.
    if (sets && !image.clientQuotas.has(key)) {
      if (entities >= settings.entitiesMax) {
        outcome.error = {
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: `The cluster has ${entities} client quota entities, the most brook.max.client.quota.entities allows.`,
        };
        outcome.records = [];
        continue;
      }
      entities++;
    }
  }
  const records: MetadataRecordInput[] = [];
  const result: AlterQuotaResult[] = [];
  for (const { entity, error, records: own } of decided.values()) {
    if (!validateOnly) records.push(...own);
    result.push({ entity, errorCode: error?.errorCode ?? ErrorCode.NONE, errorMessage: error?.errorMessage ?? null });
  }
  return { records, result };
}

/**
 * DescribeClientQuotas, as Kafka's ClientQuotasImage.describe: the filter is checked first
 * (a type named twice, an empty type, a match string where the match type takes none or
 * none where it needs one, an unknown match type, ip with user or client-id: INVALID_REQUEST;
 * an unknown entity type: UNSUPPORTED_VERSION, as Kafka answers), then every entity that
 * has each exactly-matched type with that name (null: the default entity) and each
 * specified type with any name; strict also leaves out entities with types the filter does
 * not name. No components match every entity, or none when strict. Entities and values
 * come sorted.
 */
export function describeClientQuotas(
  image: MetadataImage,
  components: QuotaFilterComponent[],
  strict: boolean,
): { error: ApiError } | { entries: QuotaDescription[] } {
  const exact = new Map<string, string | null>();
  const specified = new Set<string>();
  for (const { entityType, matchType, match } of components) {
    if (entityType.length === 0) return { error: invalid('Invalid empty entity type.') };
    if (exact.has(entityType) || specified.has(entityType))
      return { error: invalid(`Entity type ${entityType} cannot appear more than once in the filter.`) };
    if (!ENTITY_TYPES.includes(entityType))
      return {
        error: {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          errorMessage: `Unsupported entity type ${entityType.slice(0, 100)}`,
        },
      };
    switch (matchType) {
      case QuotaMatchType.EXACT:
        if (match === null)
          return { error: invalid('Request specified MATCH_TYPE_EXACT, but set match string to null.') };
        exact.set(entityType, match);
        break;
      case QuotaMatchType.DEFAULT:
        if (match !== null)
          return { error: invalid('Request specified MATCH_TYPE_DEFAULT, but also specified a match string.') };
        exact.set(entityType, null);
        break;
      case QuotaMatchType.SPECIFIED:
        if (match !== null)
          return { error: invalid('Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.') };
        specified.add(entityType);
        break;
      default:
        return { error: invalid(`Unknown match type ${matchType}`) };
    }
  }
  const named = (type: string) => exact.has(type) || specified.has(type);
  if (named(QuotaEntityType.IP) && (named(QuotaEntityType.USER) || named(QuotaEntityType.CLIENT_ID)))
    return {
      error: invalid(
        'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
      ),
    };
  const entries: QuotaDescription[] = [];
  for (const key of [...image.clientQuotas.keys()].sort()) {
    const { entity, values } = image.clientQuotas.get(key)!;
    const names = new Map(entity.map((e) => [e.entityType, e.entityName]));
    if (strict && names.size !== exact.size + specified.size) continue;
    let matches = true;
    for (const [type, name] of exact) if (!names.has(type) || names.get(type) !== name) matches = false;
    for (const type of specified) if (!names.has(type)) matches = false;
    if (!matches) continue;
    entries.push({
      entity: sortedEntity(entity),
      values: [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, value]) => ({ key: k, value })),
    });
  }
  return { entries };
}

/**
 * Whether the image holds what an accepted alteration asked for: every set value in place
 * and every removed key gone (a forwarding node waits for this before it answers).
 */
export function alterationApplied(image: MetadataImage, alteration: QuotaAlteration): boolean {
  const values = image.clientQuotas.get(quotaEntityKey(alteration.entity))?.values;
  return alteration.ops.every((op) => (op.remove ? !values?.has(op.key) : values?.get(op.key) === op.value));
}
