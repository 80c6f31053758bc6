// Kafka's ACL model and its StandardAuthorizer's decision rules. An ACL binds a resource
// pattern (type, name, LITERAL or PREFIXED) to an entry (principal, host, operation,
// ALLOW or DENY). A request is allowed when the principal is a super user, or when some
// ALLOW ACL matches and no DENY ACL does; when no ACL at all names the resource, the
// answer is allow.everyone.if.no.acl.found (false by default). The numeric codes are
// Kafka's (ResourceType, PatternType, AclOperation, AclPermissionType), as on the wire
// and in the metadata log.

import { ConfigError } from '../config/config';
import type { KafkaPrincipal } from './principal';

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceTypeCode = (typeof ResourceType)[keyof typeof ResourceType];

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export type AclOperationCode = (typeof AclOperation)[keyof typeof AclOperation];

export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The name of the single cluster resource, and the wildcard resource name / principal / host. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

/** Kafka's spellings, for the CLI, the HTTP API and messages. */
export const RESOURCE_TYPE_NAMES: Record<number, string> = {
  2: 'TOPIC',
  3: 'GROUP',
  4: 'CLUSTER',
  5: 'TRANSACTIONAL_ID',
  6: 'DELEGATION_TOKEN',
  7: 'USER',
};
export const PATTERN_TYPE_NAMES: Record<number, string> = { 1: 'ANY', 2: 'MATCH', 3: 'LITERAL', 4: 'PREFIXED' };
export const OPERATION_NAMES: Record<number, string> = {
  1: 'ANY',
  2: 'ALL',
  3: 'READ',
  4: 'WRITE',
  5: 'CREATE',
  6: 'DELETE',
  7: 'ALTER',
  8: 'DESCRIBE',
  9: 'CLUSTER_ACTION',
  10: 'DESCRIBE_CONFIGS',
  11: 'ALTER_CONFIGS',
  12: 'IDEMPOTENT_WRITE',
  13: 'CREATE_TOKENS',
  14: 'DESCRIBE_TOKENS',
};
export const PERMISSION_NAMES: Record<number, string> = { 1: 'ANY', 2: 'DENY', 3: 'ALLOW' };

/** The operations that apply to each resource type (Kafka's authorized-operations sets). */
export const OPERATIONS_BY_RESOURCE_TYPE: Record<number, readonly number[]> = {
  [ResourceType.TOPIC]: [3, 4, 5, 6, 7, 8, 10, 11],
  [ResourceType.GROUP]: [3, 6, 8],
  [ResourceType.CLUSTER]: [5, 7, 8, 9, 10, 11, 12],
  [ResourceType.TRANSACTIONAL_ID]: [4, 8],
  [ResourceType.DELEGATION_TOKEN]: [8],
  [ResourceType.USER]: [13, 14],
};

/** The value of an `*_authorized_operations` field the client did not ask for (Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** One ACL as stored: Kafka's StandardAcl plus the id of its metadata record. */
export interface AclEntry {
  id: string;
  resourceType: number;
  resourceName: string;
  patternType: number;
  /** "User:alice", or User:* for every principal. */
  principal: string;
  /** A client address, or * for any. */
  host: string;
  operation: number;
  permissionType: number;
}

/** What an ACL binding names, without its id (CreateAcls' creations, `brook acls add`). */
export type AclBinding = Omit<AclEntry, 'id'>;

/** DescribeAcls' and DeleteAcls' filters: null names/principals/hosts match anything. */
export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/**
 * Why a binding cannot be stored, as Kafka's AclControlManager.validateNewAcl refuses it
 * (INVALID_REQUEST with this text), or null when it can.
 */
export function invalidBindingReason(b: AclBinding): string | null {
  if (!RESOURCE_TYPE_NAMES[b.resourceType] || b.resourceType === ResourceType.ANY)
    return `Invalid resourceType ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED)
    return `Invalid patternType ${b.patternType}`;
  if (b.operation < AclOperation.ALL || b.operation > AclOperation.DESCRIBE_TOKENS)
    return `Invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY)
    return `Invalid permissionType ${b.permissionType}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE_NAME)
    return 'The only valid name for the CLUSTER resource is kafka-cluster';
  const colon = b.principal.indexOf(':');
  if (colon <= 0 || colon === b.principal.length - 1) return `Could not parse principal from \`${b.principal}\``;
  if (b.host === '') return 'Invalid host';
  return null;
}

/** Why a filter is not one Kafka accepts (INVALID_REQUEST), or null. */
export function invalidFilterReason(f: AclFilter): string | null {
  if (f.resourceType === ResourceType.UNKNOWN) return 'Resource type UNKNOWN is not valid in a filter';
  if (f.patternType === PatternType.UNKNOWN) return 'Pattern type UNKNOWN is not valid in a filter';
  if (f.operation === AclOperation.UNKNOWN) return 'Operation UNKNOWN is not valid in a filter';
  if (f.permissionType === AclPermission.UNKNOWN) return 'Permission type UNKNOWN is not valid in a filter';
  if (f.resourceType > ResourceType.USER || f.resourceType < 0) return `Invalid resourceType ${f.resourceType}`;
  if (f.patternType > PatternType.PREFIXED || f.patternType < 0) return `Invalid patternType ${f.patternType}`;
  if (f.operation > AclOperation.DESCRIBE_TOKENS || f.operation < 0) return `Invalid operation ${f.operation}`;
  if (f.permissionType > AclPermission.ALLOW || f.permissionType < 0)
    return `Invalid permissionType ${f.permissionType}`;
  return null;
}

/**
 * Whether a stored ACL matches a filter, as Kafka's AclBindingFilter.matches: ANY matches
 * every value; a MATCH pattern matches the ACLs that would apply to that literal name
 * (the literal itself, the * wildcard, and PREFIXED ACLs that are a prefix of it).
 */
export function aclMatchesFilter(acl: AclEntry, f: AclFilter): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== acl.resourceType) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== acl.operation) return false;
  if (f.permissionType !== AclPermission.ANY && f.permissionType !== acl.permissionType) return false;
  if (f.principal !== null && f.principal !== acl.principal) return false;
  if (f.host !== null && f.host !== acl.host) return false;
  switch (f.patternType) {
    case PatternType.ANY:
      return f.resourceName === null || f.resourceName === acl.resourceName;
    case PatternType.MATCH:
      if (f.resourceName === null) return true;
      if (acl.patternType === PatternType.LITERAL)
        return acl.resourceName === f.resourceName || acl.resourceName === WILDCARD;
      return acl.patternType === PatternType.PREFIXED && f.resourceName.startsWith(acl.resourceName);
    default:
      return f.patternType === acl.patternType && (f.resourceName === null || f.resourceName === acl.resourceName);
  }
}

/** The key that makes two bindings the same ACL (CreateAcls of an existing binding is a no-op). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.resourceName,
    b.patternType,
    b.principal,
    b.host,
    b.operation,
    b.permissionType,
  ]);
}

/** Where the authorizer reads the ACLs: the metadata image (version bumps on every ACL change). */
export interface AclSource {
  /** Changes whenever an ACL is added or removed (also on snapshot loads). */
  readonly aclVersion: number;
  /** The ACLs of one resource type. */
  aclsOfType(resourceType: number): Iterable<AclEntry>;
}

export interface AuthorizerSettings {
  /** super.users as "User:name" strings. */
  superUsers: Set<string>;
  /** allow.everyone.if.no.acl.found. */
  allowEveryoneIfNoAclFound: boolean;
  /** brook.authorizer.cache.entries: (principal, host, resource) decisions kept (default 100,000). */
  cacheEntriesMax?: number;
}

export const DEFAULT_AUTHORIZER_CACHE_ENTRIES = 100_000;

/** The class names of Kafka's authorizers that turn Brook's (the same rules) on. */
const AUTHORIZER_CLASS_NAMES = new Set([
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
  'brook.StandardAuthorizer',
]);

/**
 * The authorizer settings of a config file's keys, or null when `authorizer.class.name` is
 * empty (no authorizer: every request is allowed, the ACL APIs answer SECURITY_DISABLED).
 */
export function authorizerSettingsFrom(keys: Record<string, string>): AuthorizerSettings | null {
  const className = (keys['authorizer.class.name'] ?? '').trim();
  if (className === '') return null;
  if (!AUTHORIZER_CLASS_NAMES.has(className))
    throw new ConfigError(
      `authorizer.class.name: ${className.slice(0, 120)} is not an authorizer Brook has; use org.apache.kafka.metadata.authorizer.StandardAuthorizer`,
    );
  const allow = (keys['allow.everyone.if.no.acl.found'] ?? 'false').trim().toLowerCase();
  if (allow !== 'true' && allow !== 'false')
    throw new ConfigError('allow.everyone.if.no.acl.found must be true or false');
  const cacheRaw = keys['brook.authorizer.cache.entries'];
  let cacheEntriesMax = DEFAULT_AUTHORIZER_CACHE_ENTRIES;
  if (cacheRaw !== undefined) {
    cacheEntriesMax = Number(cacheRaw);
    if (!Number.isInteger(cacheEntriesMax) || cacheEntriesMax < 0 || cacheEntriesMax > 10_000_000)
      throw new ConfigError('brook.authorizer.cache.entries must be an integer from 0 to 10000000');
  }
  return {
    superUsers: parseSuperUsers(keys['super.users']),
    allowEveryoneIfNoAclFound: allow === 'true',
    cacheEntriesMax,
  };
}

/** super.users: "User:a;User:b" (Kafka's form); each entry must be TYPE:NAME. */
export function parseSuperUsers(value: string | undefined): Set<string> {
  const principals = new Set<string>();
  for (const raw of (value ?? '').split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1)
      throw new ConfigError(`super.users: "${entry.slice(0, 80)}" is not a principal of the form User:name`);
    principals.add(`${entry.slice(0, colon).trim()}:${entry.slice(colon + 1).trim()}`);
  }
  return principals;
}

const BIT = (operation: number) => 1 << operation;
const IMPLIES_DESCRIBE = [
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
];
const IMPLIES_DESCRIBE_CONFIGS = [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS];

/**
 * Kafka's StandardAuthorizer over an AclSource. Decisions are computed for all operations
 * of a (principal, host, resource) at once and cached as a bitmask until the ACLs change,
 * so the hot path (Produce, Fetch) is one map lookup.
 */
export class Authorizer {
  private cache = new Map<string, number>();
  private cachedVersion = -1;
  private readonly cacheEntriesMax: number;

  constructor(
    private readonly source: AclSource,
    readonly settings: AuthorizerSettings,
  ) {
    this.cacheEntriesMax = settings.cacheEntriesMax ?? DEFAULT_AUTHORIZER_CACHE_ENTRIES;
  }

  isSuperUser(principal: KafkaPrincipal): boolean {
    return this.settings.superUsers.has(`${principal.type}:${principal.name}`);
  }

  /** Whether `principal` connecting from `host` may perform `operation` on the literal resource. */
  authorize(principal: KafkaPrincipal, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.isSuperUser(principal)) return true;
    return (this.allowedMask(principal, host, resourceType, name) & BIT(operation)) !== 0;
  }

  /**
   * The operations allowed on a resource as Kafka's int32 bitfield (bit n set for operation
   * code n), limited to the operations that apply to its type: the `*_authorized_operations`
   * fields of Metadata, DescribeGroups and DescribeCluster.
   */
  authorizedOperations(principal: KafkaPrincipal, host: string, resourceType: number, name: string): number {
    let applicable = 0;
    for (const op of OPERATIONS_BY_RESOURCE_TYPE[resourceType] ?? []) applicable |= BIT(op);
    if (this.isSuperUser(principal)) return applicable;
    return this.allowedMask(principal, host, resourceType, name) & applicable;
  }

  /**
   * Kafka's authorizeByResourceType: whether the principal may perform `operation` on at
   * least one resource of the type (an ALLOW not dominated by a DENY). Used where Kafka
   * allows an idempotent producer with Write on any topic.
   */
  authorizeByResourceType(principal: KafkaPrincipal, host: string, operation: number, resourceType: number): boolean {
    if (this.isSuperUser(principal)) return true;
    if (this.authorize(principal, host, operation, resourceType, 'hardcode')) return true;
    const who = `${principal.type}:${principal.name}`;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral: string[] = [];
    const allowPrefixed: string[] = [];
    for (const acl of this.source.aclsOfType(resourceType)) {
      if (acl.host !== host && acl.host !== WILDCARD) continue;
      if (acl.principal !== who && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      if (acl.permissionType === AclPermission.DENY) {
        if (acl.patternType === PatternType.LITERAL) {
          if (acl.resourceName === WILDCARD) return false;
          denyLiteral.add(acl.resourceName);
        } else if (acl.patternType === PatternType.PREFIXED) denyPrefixed.add(acl.resourceName);
      } else if (acl.permissionType === AclPermission.ALLOW) {
        if (acl.patternType === PatternType.LITERAL) {
          if (acl.resourceName === WILDCARD) return true;
          allowLiteral.push(acl.resourceName);
        } else if (acl.patternType === PatternType.PREFIXED) allowPrefixed.push(acl.resourceName);
      }
    }
    const dominated = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominated(name)) return true;
    for (const name of allowPrefixed) if (!dominated(name)) return true;
    return false;
  }

  /** Drops every cached decision (the ACLs or the settings changed). */
  invalidate(): void {
    this.cache.clear();
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  private allowedMask(principal: KafkaPrincipal, host: string, resourceType: number, name: string): number {
    if (this.cachedVersion !== this.source.aclVersion) {
      this.cache.clear();
      this.cachedVersion = this.source.aclVersion;
    }
    const key = `${resourceType}\u0000${principal.type}:${principal.name}\u0000${host}\u0000${name}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const mask = this.computeMask(`${principal.type}:${principal.name}`, host, resourceType, name);
    if (this.cacheEntriesMax > 0) {
      // Bounded: a full cache starts over rather than growing with every new name.
      if (this.cache.size >= this.cacheEntriesMax) this.cache.clear();
      this.cache.set(key, mask);
    }
    return mask;
  }

  /**
   * The bitmask of operations allowed by the ACLs that apply to the resource (its literal
   * name, the * wildcard, PREFIXED prefixes of it): allowed = matched by an ALLOW (with
   * Kafka's implications) and not by a DENY; with no ACL naming the resource at all,
   * everything or nothing by allow.everyone.if.no.acl.found.
   */
  private computeMask(who: string, host: string, resourceType: number, name: string): number {
    let allow = 0;
    let deny = 0;
    let resourceHasAcls = false;
    for (const acl of this.source.aclsOfType(resourceType)) {
      if (acl.patternType === PatternType.LITERAL) {
        if (acl.resourceName !== name && acl.resourceName !== WILDCARD) continue;
      } else if (acl.patternType === PatternType.PREFIXED) {
        if (!name.startsWith(acl.resourceName)) continue;
      } else continue;
      resourceHasAcls = true;
      if (acl.principal !== who && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.host !== host && acl.host !== WILDCARD) continue;
      if (acl.permissionType === AclPermission.DENY) {
        deny |= acl.operation === AclOperation.ALL ? ~0 : BIT(acl.operation);
      } else if (acl.permissionType === AclPermission.ALLOW) {
        if (acl.operation === AclOperation.ALL) allow |= ~0;
        else {
          allow |= BIT(acl.operation);
          if (IMPLIES_DESCRIBE.includes(acl.operation as never)) allow |= BIT(AclOperation.DESCRIBE);
          if (IMPLIES_DESCRIBE_CONFIGS.includes(acl.operation as never)) allow |= BIT(AclOperation.DESCRIBE_CONFIGS);
        }
      }
    }
    if (!resourceHasAcls) return this.settings.allowEveryoneIfNoAclFound ? ~0 : 0;
    return allow & ~deny;
  }
}
