// `brook acls list|add|remove`: ACLs from the command line with kafka-acls' flags (--topic,
// --group, --cluster, --transactional-id, --resource-pattern-type, --allow-principal,
// --deny-principal, --allow-host, --deny-host, --operation, --principal), through the
// admin client's CreateAcls, DescribeAcls and DeleteAcls. Exit codes: 0 done, 1 broker or
// Kafka error, 2 bad usage.

import { errorInfo, ErrorCode } from '../../protocol/errors';
import type { Admin } from '../client/admin';
import { parseHostPort } from '../config/config';
import {
  AclBinding,
  AclFilter,
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  OPERATION_NAMES,
  OPERATIONS_BY_RESOURCE_TYPE,
  PATTERN_TYPE_NAMES,
  PatternType,
  PERMISSION_NAMES,
  RESOURCE_TYPE_NAMES,
  ResourceType,
  WILDCARD,
} from '../security/acl';
import { parseArgs, UsageError, runVerb } from './args';
import { cliError, CliError, connectBootstrap, table } from './admin-client';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const ACLS_HELP = `Usage:
  brook acls list [--topic T|--group G|--cluster|--transactional-id ID] [--resource-pattern-type any|match|literal|prefixed]
                  [--principal P] [--bootstrap HOST:PORT] [--json]
  brook acls add --allow-principal User:alice [--deny-principal P] [--allow-host H] [--deny-host H]
                 --operation Read [--operation Write ...] (--topic T|--group G|--cluster|--transactional-id ID)
                 [--resource-pattern-type literal|prefixed] [--bootstrap HOST:PORT] [--json]
  brook acls remove (--topic T|--group G|--cluster|--transactional-id ID) [--resource-pattern-type any|match|literal|prefixed]
                 [--operation X ...] [--principal P ...] [--allow-principal P] [--deny-principal P]
                 [--allow-host H] [--deny-host H] [--bootstrap HOST:PORT] [--json]

As Kafka's kafka-acls. Resource flags may be repeated (--topic a --topic b); a name of *
means every resource of the type. --resource-pattern-type defaults to literal; list
without a resource shows every ACL. add grants each --operation to each --allow-principal
from each --allow-host (default *), and denies them to each --deny-principal from each
--deny-host (default *); principals are TYPE:NAME (User:alice, User:* for everyone).
Operations: All, Read, Write, Create, Delete, Alter, Describe, ClusterAction,
DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens.
remove deletes the ACLs of the resources that match the other flags (every ACL of the
resources without them), at once, without asking (--force is accepted and changes
nothing); it prints what it removed.
--bootstrap (or --bootstrap-server) defaults to 127.0.0.1:9092.

${CONNECTION_HELP}`;

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
/** Longest flag value taken as a resource name, principal or host, in characters. */
const VALUE_LENGTH_MAX = 1000;

const RESOURCE_FLAGS = ['topic', 'group', 'transactional-id'] as const;
const RESOURCE_FLAG_TYPES: Record<(typeof RESOURCE_FLAGS)[number], number> = {
  topic: ResourceType.TOPIC,
  group: ResourceType.GROUP,
  'transactional-id': ResourceType.TRANSACTIONAL_ID,
};
const REPEATABLE = [
  ...RESOURCE_FLAGS,
  'operation',
  'principal',
  'allow-principal',
  'deny-principal',
  'allow-host',
  'deny-host',
];

function options(argv: string[]) {
  const parsed = parseArgs(
    argv,
    ['bootstrap', 'bootstrap-server', 'resource-pattern-type', ...CONNECTION_FLAGS],
    ['cluster', 'json', 'help', 'force'],
    REPEATABLE,
  );
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  for (const name of REPEATABLE)
    for (const value of parsed.lists[name]) {
      if (value.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
      if (value.length > VALUE_LENGTH_MAX)
        throw new UsageError(`--${name}: a value must be at most ${VALUE_LENGTH_MAX} characters`);
    }
  return parsed;
}

type Parsed = ReturnType<typeof options>;

function bootstrapOf(flags: Record<string, string>): string {
  if (flags.bootstrap !== undefined && flags['bootstrap-server'] !== undefined)
    throw new UsageError('give --bootstrap or --bootstrap-server, not both');
  const bootstrap = flags.bootstrap ?? flags['bootstrap-server'] ?? DEFAULT_BOOTSTRAP;
  parseHostPort(bootstrap, '--bootstrap');
  return bootstrap;
}

/** A name compared without case, '_' or '-': "DescribeConfigs", "describe_configs". */
const squash = (name: string) => name.replace(/[_-]/g, '').toUpperCase();

function patternTypeFlag(value: string | undefined, allowed: number[]): number {
  if (value === undefined) return PatternType.LITERAL;
  const code = allowed.find((c) => squash(PATTERN_TYPE_NAMES[c]) === squash(value));
  if (code === undefined)
    throw new UsageError(
      `--resource-pattern-type: expected ${allowed.map((c) => PATTERN_TYPE_NAMES[c].toLowerCase()).join(', ')}, got "${value.slice(0, 40)}"`,
    );
  return code;
}

function operationFlags(values: string[]): number[] {
  return [
    ...new Set(
      values.map((value) => {
        const code = Object.keys(OPERATION_NAMES)
          .map(Number)
          .find((c) => c !== AclOperation.ANY && squash(OPERATION_NAMES[c]) === squash(value.trim()));
        if (code === undefined) throw new UsageError(`--operation: unknown operation "${value.slice(0, 40)}"`);
        return code;
      }),
    ),
  ];
}

function principalFlags(flag: string, values: string[]): string[] {
  return [
    ...new Set(
      values.map((raw) => {
        const value = raw.trim();
        const colon = value.indexOf(':');
        if (colon <= 0 || colon === value.length - 1)
          throw new UsageError(
            `--${flag}: expected a principal TYPE:NAME such as User:alice, got "${value.slice(0, 40)}"`,
          );
        return value;
      }),
    ),
  ];
}

/** The resources the flags name, as (type, name) pairs; the cluster is kafka-cluster. */
function resourcesOf(parsed: Parsed): { resourceType: number; resourceName: string }[] {
  const resources: { resourceType: number; resourceName: string }[] = [];
  for (const flag of RESOURCE_FLAGS)
    for (const name of parsed.lists[flag])
      resources.push({ resourceType: RESOURCE_FLAG_TYPES[flag], resourceName: name.trim() });
  if (parsed.flags.cluster === 'true')
    resources.push({ resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE_NAME });
  return resources;
}

/** Refuses an operation the resource type does not have, as kafka-acls does. */
function checkOperations(resourceType: number, operations: number[]): void {
  const valid = [AclOperation.ALL, ...(OPERATIONS_BY_RESOURCE_TYPE[resourceType] ?? [])];
  const wrong = operations.find((op) => !valid.includes(op as never));
  if (wrong !== undefined)
    throw new UsageError(
      `${RESOURCE_TYPE_NAMES[resourceType]} resources only support the operations ${valid.map((op) => operationName(op)).join(', ')}; not ${operationName(wrong)}`,
    );
}

/** Kafka's spelling of an operation: "DescribeConfigs". */
function operationName(code: number): string {
  return (OPERATION_NAMES[code] ?? `UNKNOWN(${code})`)
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function hostsFor(parsed: Parsed, hostFlag: string, principals: string[]): string[] {
  const hosts = [...new Set(parsed.lists[hostFlag].map((h) => h.trim()))];
  if (hosts.length > 0 && principals.length === 0)
    throw new UsageError(`--${hostFlag} needs --${hostFlag.replace('host', 'principal')}`);
  return hosts.length > 0 ? hosts : [WILDCARD];
}

/** The (permission, principal, host) entries of --allow-* and --deny-* flags. */
function entriesOf(parsed: Parsed): { permissionType: number; principal: string; host: string }[] {
  const entries: { permissionType: number; principal: string; host: string }[] = [];
  for (const [kind, permissionType] of [
    ['allow', AclPermission.ALLOW],
    ['deny', AclPermission.DENY],
  ] as const) {
    const principals = principalFlags(`${kind}-principal`, parsed.lists[`${kind}-principal`]);
    for (const host of hostsFor(parsed, `${kind}-host`, principals))
      for (const principal of principals) entries.push({ permissionType, principal, host });
  }
  return entries;
}

function describe(binding: AclBinding): (string | number)[] {
  return [
    RESOURCE_TYPE_NAMES[binding.resourceType] ?? `UNKNOWN(${binding.resourceType})`,
    binding.resourceName,
    PATTERN_TYPE_NAMES[binding.patternType] ?? `UNKNOWN(${binding.patternType})`,
    binding.principal,
    binding.host,
    operationName(binding.operation),
    PERMISSION_NAMES[binding.permissionType] ?? `UNKNOWN(${binding.permissionType})`,
  ];
}

const HEADERS = ['RESOURCE-TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'];

function jsonOf(binding: AclBinding) {
  const [resourceType, resourceName, patternType, principal, host, operation, permissionType] = describe(binding);
  return { resourceType, resourceName, patternType, principal, host, operation, permissionType };
}

function print(parsed: Parsed, bindings: AclBinding[], empty: string, heading: string): void {
  if (parsed.flags.json === 'true') {
    process.stdout.write(`${JSON.stringify(bindings.map(jsonOf), null, 2)}\n`);
    return;
  }
  if (bindings.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  process.stdout.write(`${heading}\n${table(HEADERS, bindings.map(describe))}`);
}

/** A result that is not NONE, as one line. */
function resultError(what: string, errorCode: number, errorMessage: string | null): CliError {
  const info = errorInfo(errorCode);
  return new CliError(`${what}: ${info.name} (${errorCode}): ${errorMessage || info.message}`);
}

async function withAdmin<T>(bootstrap: string, flags: Record<string, string>, work: (admin: Admin) => Promise<T>) {
  const client = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  try {
    return await work(client.admin);
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    client.close();
  }
}

async function list(argv: string[]): Promise<number> {
  const parsed = options(argv);
  const bootstrap = bootstrapOf(parsed.flags);
  const resources = resourcesOf(parsed);
  const patternType = patternTypeFlag(parsed.flags['resource-pattern-type'], [
    PatternType.ANY,
    PatternType.MATCH,
    PatternType.LITERAL,
    PatternType.PREFIXED,
  ]);
  const principals = principalFlags('principal', parsed.lists.principal);
  for (const flag of ['operation', 'allow-principal', 'deny-principal', 'allow-host', 'deny-host'])
    if (parsed.lists[flag].length > 0) throw new UsageError(`acls list does not take --${flag}`);
  const filters: AclFilter[] = [];
  const any = { operation: AclOperation.ANY, permissionType: AclPermission.ANY, host: null };
  const resourceFilters =
    resources.length > 0
      ? resources.map((r) => ({ ...r, patternType }))
      : [{ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY }];
  for (const r of resourceFilters)
    for (const principal of principals.length > 0 ? principals : [null]) filters.push({ ...r, ...any, principal });
  return withAdmin(bootstrap, parsed.flags, async (admin) => {
    const seen = new Set<string>();
    const bindings: AclBinding[] = [];
    for (const filter of filters)
      for (const binding of await admin.describeAcls(filter)) {
        const key = JSON.stringify(describe(binding));
        if (!seen.has(key)) {
          seen.add(key);
          bindings.push(binding);
        }
      }
    print(parsed, bindings, 'no ACLs', `${bindings.length} ACL${bindings.length === 1 ? '' : 's'}:`);
    return 0;
  });
}

async function add(argv: string[]): Promise<number> {
  const parsed = options(argv);
  const bootstrap = bootstrapOf(parsed.flags);
  const resources = resourcesOf(parsed);
  if (resources.length === 0)
    throw new UsageError('acls add needs a resource: --topic T, --group G, --cluster or --transactional-id ID');
  const patternType = patternTypeFlag(parsed.flags['resource-pattern-type'], [
    PatternType.LITERAL,
    PatternType.PREFIXED,
  ]);
  if (parsed.lists.principal.length > 0)
    throw new UsageError('acls add takes --allow-principal or --deny-principal, not --principal');
  const entries = entriesOf(parsed);
  if (entries.length === 0) throw new UsageError('acls add needs --allow-principal or --deny-principal');
  if (parsed.lists.operation.length === 0)
    throw new UsageError('acls add needs --operation (Read, Write, ..., or All)');
  const operations = operationFlags(parsed.lists.operation);
  const bindings: AclBinding[] = [];
  for (const r of resources) {
    checkOperations(r.resourceType, operations);
    // The cluster resource is only ever a literal pattern, as kafka-acls makes it.
    const pattern = r.resourceType === ResourceType.CLUSTER ? PatternType.LITERAL : patternType;
    for (const entry of entries)
      for (const operation of operations) bindings.push({ ...r, patternType: pattern, ...entry, operation });
  }
  return withAdmin(bootstrap, parsed.flags, async (admin) => {
    const results = await admin.createAcls(bindings);
    const failed = results.findIndex((r) => r.errorCode !== ErrorCode.NONE);
    if (failed >= 0) {
      const created = results.filter((r) => r.errorCode === ErrorCode.NONE).length;
      const b = bindings[failed];
      throw resultError(
        `add ${operationName(b.operation)} for ${b.principal} on ${RESOURCE_TYPE_NAMES[b.resourceType]} ${b.resourceName}` +
          (created > 0 ? ` (${created} of ${bindings.length} ACLs added)` : ''),
        results[failed].errorCode,
        results[failed].errorMessage,
      );
    }
    print(parsed, bindings, 'no ACLs added', `added ${bindings.length} ACL${bindings.length === 1 ? '' : 's'}:`);
    return 0;
  });
}

async function remove(argv: string[]): Promise<number> {
  const parsed = options(argv);
  const bootstrap = bootstrapOf(parsed.flags);
  const resources = resourcesOf(parsed);
  if (resources.length === 0)
    throw new UsageError('acls remove needs a resource: --topic T, --group G, --cluster or --transactional-id ID');
  const patternType = patternTypeFlag(parsed.flags['resource-pattern-type'], [
    PatternType.ANY,
    PatternType.MATCH,
    PatternType.LITERAL,
    PatternType.PREFIXED,
  ]);
  const operations = parsed.lists.operation.length > 0 ? operationFlags(parsed.lists.operation) : [AclOperation.ANY];
  const principals = principalFlags('principal', parsed.lists.principal);
  const entries = entriesOf(parsed);
  if (principals.length > 0 && entries.length > 0)
    throw new UsageError('give --principal or --allow-principal/--deny-principal, not both');
  // --principal: any permission from any host; --allow-/--deny-principal: that permission
  // from the given hosts (default *), as kafka-acls removes them; neither: every entry.
  const entryFilters: { permissionType: number; principal: string | null; host: string | null }[] =
    entries.length > 0
      ? entries
      : (principals.length > 0 ? principals : [null]).map((principal) => ({
          permissionType: AclPermission.ANY,
          principal,
          host: null,
        }));
  const filters: AclFilter[] = [];
  for (const r of resources) {
    if (operations[0] !== AclOperation.ANY) checkOperations(r.resourceType, operations);
    for (const entry of entryFilters)
      for (const operation of operations) filters.push({ ...r, patternType, ...entry, operation });
  }
  return withAdmin(bootstrap, parsed.flags, async (admin) => {
    const results = await admin.deleteAcls(filters);
    const failed = results.find((r) => r.errorCode !== ErrorCode.NONE);
    if (failed) throw resultError('remove ACLs', failed.errorCode, failed.errorMessage);
    const seen = new Set<string>();
    const removed = results
      .flatMap((r) => r.matchingAcls)
      .filter((b) => {
        const key = JSON.stringify(describe(b));
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    print(parsed, removed, 'no ACLs matched', `removed ${removed.length} ACL${removed.length === 1 ? '' : 's'}:`);
    return 0;
  });
}

export function aclsCommand(argv: string[]): Promise<number> {
  return runVerb('acls', ACLS_HELP, { list, add, remove }, argv);
}
