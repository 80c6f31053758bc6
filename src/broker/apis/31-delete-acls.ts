// DeleteAcls (key 31), versions 1-3 (version 0 was removed in Kafka 4.0, KIP-896). As
// Kafka's AclApis: without an authorizer every filter is answered SECURITY_DISABLED with no
// matching ACLs; with one, the principal needs Alter on the cluster
// (CLUSTER_AUTHORIZATION_FAILED for every filter otherwise), checked before anything is
// forwarded. The active controller removes every ACL each filter matches
// (src/controller/acls.ts) and answers once the removals are committed; another node
// forwards the request and passes the answer back once it has applied the removals itself
// (or after 5 s). More filters than brook.max.acls.per.request refuse the request whole
// (INVALID_REQUEST for each).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { DEFAULT_ACLS_PER_REQUEST_MAX, storedBindingKeys } from '../../controller/acls';
import { AclBinding, AclOperation, bindingKey } from '../../security/acl';
import { aclFilterOf, NO_AUTHORIZER, notAuthorizedOnCluster } from './29-describe-acls';
import { untilApplied } from './30-create-acls';

export const deleteAcls: ApiHandler<typeof ApiKey.DeleteAcls> = {
  apiKey: ApiKey.DeleteAcls,
  name: 'DeleteAcls',
  minVersion: 1,
  maxVersion: 3,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const answerAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!broker.authorizer) return answerAll(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return answerAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, notAuthorizedOnCluster('Alter'));
    const max = broker.settings.acls?.aclsPerRequestMax ?? DEFAULT_ACLS_PER_REQUEST_MAX;
    if (request.filters.length > max)
      return answerAll(
        ErrorCode.INVALID_REQUEST,
        `At most ${max} filters may be given in one request (brook.max.acls.per.request).`,
      );
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, header.apiVersion, request);
      if (!forwarded) return this.errorResponse(request, ErrorCode.NOT_CONTROLLER, header.apiVersion);
      const removed: AclBinding[] = forwarded.filterResults.flatMap((r) =>
        r.errorCode === ErrorCode.NONE
          ? r.matchingAcls.map((m) => ({
              resourceType: m.resourceType,
              resourceName: m.resourceName,
              patternType: m.patternType,
              principal: m.principal,
              host: m.host,
              operation: m.operation,
              permissionType: m.permissionType,
            }))
          : [],
      );
      if (removed.length > 0) {
        const names = new Set(removed.map((b) => b.resourceName));
        await untilApplied(() => {
          const stored = storedBindingKeys(broker.quorum.image, names);
          return removed.every((b) => !stored.has(bindingKey(b)));
        });
      }
      return forwarded;
    }
    const results = await broker.quorum.deleteAcls(request.filters.map(aclFilterOf));
    return {
      throttleTimeMs: 0,
      filterResults: results.map((r) => ({
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        matchingAcls: r.matchingAcls.map((acl) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      filterResults: (request?.filters ?? []).map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })),
    };
  },
};
