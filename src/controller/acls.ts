// ACLs at the active controller, as Kafka's AclControlManager decides them: CreateAcls
// bindings checked and turned into AccessControlEntry records with fresh ids, DeleteAcls
// filters turned into RemoveAccessControlEntry records for every ACL they match. Pure:
// the image in, records and answers out; ids come from the caller's generator.

import { ErrorCode } from '../../protocol/errors';
import { MetadataRecordInput } from '../../protocol/metadata/records';
import {
  AclBinding,
  AclEntry,
  AclFilter,
  aclMatchesFilter,
  bindingKey,
  invalidBindingReason,
  invalidFilterReason,
  ResourceType,
} from '../security/acl';
import type { MetadataImage } from './metadata-image';

/** Defaults of brook.max.acls and brook.max.acls.per.request. */
export const DEFAULT_ACLS_MAX = 100_000;
export const DEFAULT_ACLS_PER_REQUEST_MAX = 1000;

export interface AclSettings {
  /** brook.max.acls: ACLs in the whole cluster. */
  aclsMax: number;
  /** brook.max.acls.per.request: creations (CreateAcls) or filters (DeleteAcls) in one request. */
  aclsPerRequestMax: number;
}

export interface AclCreateResult {
  errorCode: number;
  errorMessage: string | null;
}

export interface AclDeleteResult {
  errorCode: number;
  errorMessage: string | null;
  /** The ACLs the filter matched, each removed by this decision. */
  matchingAcls: AclBinding[];
}

const SUCCESS: AclCreateResult = { errorCode: ErrorCode.NONE, errorMessage: null };

/** The binding of a stored ACL (its id left out). */
export function bindingOf(acl: AclEntry): AclBinding {
  const { id: _id, ...binding } = acl;
  return binding;
}

/**
 * CreateAcls, as Kafka's AclControlManager.createAcls: one result per binding in request
 * order. A binding that invalidBindingReason refuses is INVALID_REQUEST with that text; a
 * binding the cluster already holds (or that the same request named before) succeeds
 * without a record. A new ACL past brook.max.acls is refused with POLICY_VIOLATION: the
 * limit is this cluster's configured policy, as for brook.max.partitions, and Kafka has no
 * code of its own for "too many ACLs".
 */
export function createAcls(
  image: MetadataImage,
  settings: Pick<AclSettings, 'aclsMax'>,
  bindings: AclBinding[],
  newId: () => string,
): { records: MetadataRecordInput[]; result: AclCreateResult[] } {
  const existing = storedBindingKeys(image, new Set(bindings.map((b) => b.resourceName)));
  const records: MetadataRecordInput[] = [];
  const usedIds = new Set<string>();
  let count = image.acls.size;
  const result = bindings.map((binding): AclCreateResult => {
    const reason = invalidBindingReason(binding);
    if (reason !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason };
    const key = bindingKey(binding);
    if (existing.has(key)) return SUCCESS;
    if (count >= settings.aclsMax)
      return {
        errorCode: ErrorCode.POLICY_VIOLATION,
        errorMessage: `The cluster has ${count} ACLs, the most brook.max.acls allows.`,
      };
    let id = newId();
    while (image.acls.has(id) || usedIds.has(id)) id = newId();
    usedIds.add(id);
    existing.add(key);
    count++;
    records.push({
      type: 'AccessControlEntry',
      data: {
        id,
        resourceType: binding.resourceType,
        resourceName: binding.resourceName,
        patternType: binding.patternType,
        principal: binding.principal,
        host: binding.host,
        operation: binding.operation,
        permissionType: binding.permissionType,
      },
    });
    return SUCCESS;
  });
  return { records, result };
}

/**
 * DeleteAcls, as Kafka's AclControlManager.deleteAcls: one result per filter in request
 * order; a filter invalidFilterReason refuses is INVALID_REQUEST with that text, every
 * other lists the ACLs it matched. An ACL matched by several filters is listed by each and
 * removed once. The whole decision is one atomic change.
 */
export function deleteAcls(
  image: MetadataImage,
  filters: AclFilter[],
): { records: MetadataRecordInput[]; result: AclDeleteResult[] } {
  const removed = new Set<string>();
  const records: MetadataRecordInput[] = [];
  const result = filters.map((filter): AclDeleteResult => {
    const reason = invalidFilterReason(filter);
    if (reason !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason, matchingAcls: [] };
    const matchingAcls: AclBinding[] = [];
    for (const acl of matchingAclsOf(image, filter)) {
      matchingAcls.push(bindingOf(acl));
      if (removed.has(acl.id)) continue;
      removed.add(acl.id);
      records.push({ type: 'RemoveAccessControlEntry', data: { id: acl.id } });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls };
  });
  return { records, result };
}

/**
 * The binding keys of the stored ACLs on the named resources: one pass over the image, keys
 * computed only for those names (what a set of bindings can be equal to).
 */
export function storedBindingKeys(image: MetadataImage, names: Set<string>): Set<string> {
  const keys = new Set<string>();
  for (const acl of image.acls.values()) if (names.has(acl.resourceName)) keys.add(bindingKey(acl));
  return keys;
}

/** The stored ACLs a (valid) filter matches, in the order they were stored. */
export function matchingAclsOf(image: MetadataImage, filter: AclFilter): AclEntry[] {
  const candidates =
    filter.resourceType === ResourceType.ANY ? image.acls.values() : image.aclsOfType(filter.resourceType);
  const matches: AclEntry[] = [];
  for (const acl of candidates) if (aclMatchesFilter(acl, filter)) matches.push(acl);
  return matches;
}
