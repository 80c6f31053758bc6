// DescribeAcls (key 29), versions 1-3 (version 0 was removed in Kafka 4.0, KIP-896). As
// Kafka's AclApis: without an authorizer the answer is SECURITY_DISABLED with "No
// Authorizer is configured." (tools such as MirrorMaker 2 and kafka-acls read it as "ACLs
// are off here"); with one, the principal needs Describe on the cluster
// (CLUSTER_AUTHORIZATION_FAILED otherwise), and the ACLs matching the filter are answered
// from this node's metadata image, grouped by resource pattern. A filter with an UNKNOWN
// element (which Kafka's request parser refuses) is INVALID_REQUEST.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { matchingAclsOf } from '../../controller/acls';
import { AclEntry, AclFilter, AclOperation, invalidFilterReason } from '../../security/acl';

/** Kafka's message for the ACL APIs on a broker without an authorizer. */
export const NO_AUTHORIZER = 'No Authorizer is configured.';

/** The message of a CLUSTER_AUTHORIZATION_FAILED answer to the ACL APIs. */
export function notAuthorizedOnCluster(operation: 'Describe' | 'Alter'): string {
  return `${operation} on the cluster is not authorized for this principal.`;
}

/** The filter fields of DescribeAcls, and of each DeleteAcls filter. */
export interface WireAclFilter {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}

export function aclFilterOf(wire: WireAclFilter): AclFilter {
  return {
    resourceType: wire.resourceTypeFilter,
    resourceName: wire.resourceNameFilter,
    patternType: wire.patternTypeFilter,
    principal: wire.principalFilter,
    host: wire.hostFilter,
    operation: wire.operation,
    permissionType: wire.permissionType,
  };
}

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The ACLs grouped by resource pattern, as Kafka's DescribeAclsResponse.aclsResources;
 * sorted (by type, pattern type and name, then principal, host, operation, permission) so
 * that the answer does not depend on the order the ACLs were created in.
 */
export function aclsByResource(acls: AclEntry[]) {
  const groups = new Map<
    string,
    {
      resourceType: number;
      resourceName: string;
      patternType: number;
      acls: { principal: string; host: string; operation: number; permissionType: number }[];
    }
  >();
  for (const acl of acls) {
    const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        resourceType: acl.resourceType,
        resourceName: acl.resourceName,
        patternType: acl.patternType,
        acls: [],
      };
      groups.set(key, group);
    }
    group.acls.push({
      principal: acl.principal,
      host: acl.host,
      operation: acl.operation,
      permissionType: acl.permissionType,
    });
  }
  const resources = [...groups.values()].sort(
    (a, b) =>
      compare(a.resourceType, b.resourceType) ||
      compare(a.patternType, b.patternType) ||
      compare(a.resourceName, b.resourceName),
  );
  for (const r of resources)
    r.acls.sort(
      (a, b) =>
        compare(a.principal, b.principal) ||
        compare(a.host, b.host) ||
        compare(a.operation, b.operation) ||
        compare(a.permissionType, b.permissionType),
    );
  return resources;
}

export const describeAcls: ApiHandler<typeof ApiKey.DescribeAcls> = {
  apiKey: ApiKey.DescribeAcls,
  name: 'DescribeAcls',
  minVersion: 1,
  maxVersion: 3,
  handle(ctx, request) {
    if (!ctx.broker.authorizer)
      return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, resources: [] };
    if (!clusterAuthorized(ctx, AclOperation.DESCRIBE))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: notAuthorizedOnCluster('Describe'),
        resources: [],
      };
    const filter = aclFilterOf(request);
    const reason = invalidFilterReason(filter);
    if (reason !== null)
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason, resources: [] };
    const resources = aclsByResource(matchingAclsOf(ctx.broker.quorum.image, filter));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] };
  },
};
