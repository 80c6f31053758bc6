// ACLs for tests and benchmarks: bindings committed as AccessControlEntry records through a
// broker's metadata quorum (it must be the active controller, as a single node is), then
// applied to its image like any other ACL. Short forms for the common bindings.

import { randomBytes } from 'node:crypto';
import type { Broker } from '../../src/broker/broker';
import type { MetadataRecordInput } from '../../protocol/metadata/records';
import {
  AclBinding,
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  invalidBindingReason,
  PatternType,
  ResourceType,
} from '../../src/security/acl';

/** The quorum's own decision path: records committed as one controller decision. */
interface Deciding {
  decide<T>(make: (controller: unknown) => { records: MetadataRecordInput[]; result: T }, notLeader: T): Promise<T>;
}

/** A fresh ACL id (a Kafka Uuid string). */
function aclId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Commits `bindings` as ACLs and resolves with their ids once this node has applied them.
 * Bindings go in slices, so a thousand fit the metadata log's entry size.
 */
export async function addAcls(broker: Broker, bindings: AclBinding[]): Promise<string[]> {
  for (const binding of bindings) {
    const reason = invalidBindingReason(binding);
    if (reason) throw new Error(`bad ACL binding: ${reason}`);
  }
  const quorum = broker.quorum as unknown as Deciding;
  const ids: string[] = [];
  const SLICE = 200;
  for (let at = 0; at < bindings.length; at += SLICE) {
    const records: MetadataRecordInput[] = bindings.slice(at, at + SLICE).map((binding) => {
      const id = aclId();
      ids.push(id);
      return { type: 'AccessControlEntry', data: { id, ...binding } };
    });
    const committed = await quorum.decide(() => ({ records, result: true }), false);
    if (!committed) throw new Error('ACLs not committed: this node is not the active controller');
  }
  return ids;
}

/** Removes ACLs by id. */
export async function removeAcls(broker: Broker, ids: string[]): Promise<void> {
  const quorum = broker.quorum as unknown as Deciding;
  const records: MetadataRecordInput[] = ids.map((id) => ({ type: 'RemoveAccessControlEntry', data: { id } }));
  const committed = await quorum.decide(() => ({ records, result: true }), false);
  if (!committed) throw new Error('ACL removals not committed: this node is not the active controller');
}

export interface BindingOptions {
  pattern?: 'literal' | 'prefixed';
  deny?: boolean;
  host?: string;
}

/** One binding: `user` (a name, or * for every principal) may (or, deny, may not) `operation` the resource. */
export function binding(
  user: string,
  operation: number,
  resourceType: number,
  resourceName: string,
  options: BindingOptions = {},
): AclBinding {
  return {
    resourceType,
    resourceName,
    patternType: options.pattern === 'prefixed' ? PatternType.PREFIXED : PatternType.LITERAL,
    principal: `User:${user}`,
    host: options.host ?? '*',
    operation,
    permissionType: options.deny ? AclPermission.DENY : AclPermission.ALLOW,
  };
}

export const topicAcl = (user: string, operation: number, topic: string, options?: BindingOptions) =>
  binding(user, operation, ResourceType.TOPIC, topic, options);

export const groupAcl = (user: string, operation: number, group: string, options?: BindingOptions) =>
  binding(user, operation, ResourceType.GROUP, group, options);

export const clusterAcl = (user: string, operation: number, options?: BindingOptions) =>
  binding(user, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, options);

export { AclOperation as Op };
