// ACLs for tests, committed straight to the metadata log as AccessControlEntry records
// through the active controller's decision path (the records CreateAcls commits), so that
// authorization tests do not depend on the ACL admin APIs.

import { randomBytes } from 'node:crypto';
import type { Broker } from '../../src/broker/broker';
import type { MetadataRecordInput } from '../../protocol/metadata/records';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/security/acl';

export { AclOperation, AclPermission, PatternType, ResourceType };

export interface TestAcl {
  resourceType: number;
  resourceName: string;
  /** LITERAL when absent. */
  patternType?: number;
  /** For example "User:alice". */
  principal: string;
  /** "*" when absent. */
  host?: string;
  operation: number;
  /** ALLOW when absent. */
  permissionType?: number;
}

/** A fresh Kafka Uuid (base64url of 16 random bytes). */
function aclId(): string {
  return randomBytes(16).toString('base64url');
}

/** The decision path of the quorum (private there: tests reach it to commit raw records). */
interface Decider {
  decide<T>(make: () => { records: MetadataRecordInput[]; result: T }, notLeader: T): Promise<T>;
}

/**
 * Commits the ACLs at the active controller (which `broker` must be) and resolves once they
 * are applied to its image; returns their ids, for removeAcls.
 */
export async function addAcls(broker: Broker, acls: TestAcl[]): Promise<string[]> {
  const records: MetadataRecordInput[] = acls.map((acl) => ({
    type: 'AccessControlEntry',
    data: {
      id: aclId(),
      resourceType: acl.resourceType,
      resourceName: acl.resourceName,
      patternType: acl.patternType ?? PatternType.LITERAL,
      principal: acl.principal,
      host: acl.host ?? '*',
      operation: acl.operation,
      permissionType: acl.permissionType ?? AclPermission.ALLOW,
    },
  }));
  await commit(broker, records);
  return records.map((r) => (r.data as { id: string }).id);
}

/** Removes ACLs added by addAcls. */
export async function removeAcls(broker: Broker, ids: string[]): Promise<void> {
  await commit(
    broker,
    ids.map((id) => ({ type: 'RemoveAccessControlEntry', data: { id } })),
  );
}

async function commit(broker: Broker, records: MetadataRecordInput[]): Promise<void> {
  if (!broker.quorum.isLeader) throw new Error('ACL records are committed at the active controller');
  const quorum = broker.quorum as unknown as Decider;
  const ok = await quorum.decide(() => ({ records, result: true }), false);
  if (!ok) throw new Error('the ACL records were not committed');
}
