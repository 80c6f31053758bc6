// ACLs for tests of a broker started in this process: AccessControlEntry records committed
// through the node's quorum as a controller decision (the broker must lead the quorum, as a
// single node does), then waited for in its metadata image.

import * as crypto from 'node:crypto';
import type { Broker } from '../../src/broker/broker';
import { AclBinding, AclOperation, AclPermission, PatternType, ResourceType } from '../../src/security/acl';
import { until } from './wait';

type Decide = (
  make: () => { records: { type: string; data: unknown }[]; result: null },
  notLeader: null,
) => Promise<null>;

/** An ALLOW binding for a principal from any host (fields overridable). */
export function allow(
  principal: string,
  operation: number,
  resourceType: number,
  resourceName: string,
  more: Partial<AclBinding> = {},
): AclBinding {
  return {
    resourceType,
    resourceName,
    patternType: PatternType.LITERAL,
    principal,
    host: '*',
    operation,
    permissionType: AclPermission.ALLOW,
    ...more,
  };
}

/** Commits the bindings and waits until the image holds them; returns their ids. */
export async function addAcls(broker: Broker, bindings: AclBinding[]): Promise<string[]> {
  const entries = bindings.map((b) => ({ id: crypto.randomBytes(16).toString('base64url'), ...b }));
  const quorum = broker.quorum as unknown as { decide: Decide };
  await quorum.decide(
    () => ({ records: entries.map((data) => ({ type: 'AccessControlEntry', data })), result: null }),
    null,
  );
  await until(() => entries.every((e) => broker.quorum.image.acls.has(e.id)), {
    what: 'the ACLs in the metadata image',
    timeoutMs: 5000,
  });
  return entries.map((e) => e.id);
}

/** Removes ACLs by id and waits until the image no longer holds them. */
export async function removeAcls(broker: Broker, ids: string[]): Promise<void> {
  const quorum = broker.quorum as unknown as { decide: Decide };
  await quorum.decide(
    () => ({ records: ids.map((id) => ({ type: 'RemoveAccessControlEntry', data: { id } })), result: null }),
    null,
  );
  await until(() => ids.every((id) => !broker.quorum.image.acls.has(id)), {
    what: 'the ACLs gone from the metadata image',
    timeoutMs: 5000,
  });
}

export { AclOperation, ResourceType, PatternType };
