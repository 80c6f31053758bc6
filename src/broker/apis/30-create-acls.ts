// CreateAcls (key 30), versions 1-3 (version 0 was removed in Kafka 4.0, KIP-896). As
// Kafka's AclApis: without an authorizer every creation is answered SECURITY_DISABLED; with
// one, the principal needs Alter on the cluster (CLUSTER_AUTHORIZATION_FAILED for every
// creation otherwise), checked here before anything is forwarded, since a forwarded
// request reaches the controller as this broker's own principal. The active controller
// decides (src/controller/acls.ts, Kafka's AclControlManager rules) and answers once the
// AccessControlEntry records are committed; another node forwards the request to it and
// passes its answer back once it has applied the new ACLs itself (or after 5 s), so that
// the client's next DescribeAcls here sees them. More creations than
// brook.max.acls.per.request refuse the request whole (INVALID_REQUEST for each).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { DEFAULT_ACLS_PER_REQUEST_MAX, storedBindingKeys } from '../../controller/acls';
import { AclBinding, AclOperation, bindingKey } from '../../security/acl';
import { NO_AUTHORIZER, notAuthorizedOnCluster } from './29-describe-acls';

/** The longest a forwarding node waits to apply the changes it forwarded. */
const FORWARDED_APPLY_WAIT_MAX_MS = 5000;

/** Waits (polling, at most FORWARDED_APPLY_WAIT_MAX_MS) until `applied` holds. */
export async function untilApplied(applied: () => boolean): Promise<void> {
  const deadline = Date.now() + FORWARDED_APPLY_WAIT_MAX_MS;
  while (!applied() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

export const createAcls: ApiHandler<typeof ApiKey.CreateAcls> = {
  apiKey: ApiKey.CreateAcls,
  name: 'CreateAcls',
  minVersion: 1,
  maxVersion: 3,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const answerAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: request.creations.map(() => ({ errorCode, errorMessage })),
    });
    if (!broker.authorizer) return answerAll(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return answerAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, notAuthorizedOnCluster('Alter'));
    const max = broker.settings.acls?.aclsPerRequestMax ?? DEFAULT_ACLS_PER_REQUEST_MAX;
    if (request.creations.length > max)
      return answerAll(
        ErrorCode.INVALID_REQUEST,
        `At most ${max} ACLs may be created in one request (brook.max.acls.per.request).`,
      );
    const bindings: AclBinding[] = request.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    }));
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, header.apiVersion, request);
      if (!forwarded) return this.errorResponse(request, ErrorCode.NOT_CONTROLLER, header.apiVersion);
      const accepted = bindings.filter((_, i) => forwarded.results[i]?.errorCode === ErrorCode.NONE);
      if (accepted.length > 0) {
        const names = new Set(accepted.map((b) => b.resourceName));
        await untilApplied(() => {
          const stored = storedBindingKeys(broker.quorum.image, names);
          return accepted.every((b) => stored.has(bindingKey(b)));
        });
      }
      return forwarded;
    }
    const results = await broker.quorum.createAcls(bindings);
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: (request?.creations ?? []).map(() => ({ errorCode, errorMessage: null })),
    };
  },
};
