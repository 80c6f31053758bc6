// AlterClientQuotas (key 49), versions 0-1 (KIP-546). Needs ALTER_CONFIGS on the cluster,
// checked here before anything is forwarded (else CLUSTER_AUTHORIZATION_FAILED for every
// entity). The active controller decides (src/controller/client-quotas.ts, Kafka's
// ClientQuotaControlManager rules) and answers once the ClientQuota records are committed;
// another node forwards the request to it and passes its answer back, once it has applied
// the accepted changes itself (or after 5 s), so that a Describe here sees them. More
// entries than brook.max.client.quota.entries.per.request refuse the request whole
// (INVALID_REQUEST for every entity). validateOnly checks without writing.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode, errorInfo } from '../../../protocol/errors';
import type { Request } from '../../../protocol/apis';
import { AclOperation } from '../../security/acl';
import {
  alterationApplied,
  DEFAULT_CLIENT_QUOTA_ENTRIES_PER_REQUEST_MAX,
  QUOTA_ENTITY_PAIRS_MAX,
} from '../../controller/client-quotas';
import { quotaEntityKey } from '../../controller/metadata-image';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';

/** The longest a forwarding node waits to apply the changes it forwarded. */
const FORWARDED_APPLY_WAIT_MAX_MS = 5000;

export const alterClientQuotas: ApiHandler<typeof ApiKey.AlterClientQuotas> = {
  apiKey: ApiKey.AlterClientQuotas,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    if (!clusterAuthorized(ctx, AclOperation.ALTER_CONFIGS))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, header.apiVersion);
    const max = broker.settings.clientQuotas?.entriesPerRequestMax ?? DEFAULT_CLIENT_QUOTA_ENTRIES_PER_REQUEST_MAX;
    if (request.entries.length > max)
      return refuseAll(
        request,
        ErrorCode.INVALID_REQUEST,
        `At most ${max} entities may be altered in one request (brook.max.client.quota.entries.per.request).`,
      );
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, header.apiVersion, request);
      if (!forwarded) return this.errorResponse(request, ErrorCode.NOT_CONTROLLER, header.apiVersion);
      if (request.validateOnly) return forwarded;
      // The controller answered after the commit; this node waits (briefly) until it has
      // applied the accepted changes too, so that the client's next Describe here sees them.
      const accepted = new Set(
        forwarded.entries
          .filter((e) => e.errorCode === ErrorCode.NONE && e.entity.length <= QUOTA_ENTITY_PAIRS_MAX)
          .map((e) => quotaEntityKey(e.entity)),
      );
      const wanted = request.entries.filter(
        (e) => e.entity.length <= QUOTA_ENTITY_PAIRS_MAX && accepted.has(quotaEntityKey(e.entity)),
      );
      const applied = () => wanted.every((e) => alterationApplied(broker.quorum.image, e));
      const deadline = Date.now() + FORWARDED_APPLY_WAIT_MAX_MS;
      while (!applied() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return forwarded;
    }
    const results = await broker.quorum.alterClientQuotas(request.entries, request.validateOnly);
    return { throttleTimeMs: 0, entries: results };
  },
  errorResponse(request, errorCode) {
    return refuseAll(request, errorCode, errorInfo(errorCode).message);
  },
};

/** The same error for every entity the request names, as Kafka's getErrorResponse answers. */
function refuseAll(
  request: Request<typeof ApiKey.AlterClientQuotas> | undefined,
  errorCode: number,
  errorMessage: string,
) {
  return {
    throttleTimeMs: 0,
    entries: (request?.entries ?? []).map((e) => ({ errorCode, errorMessage, entity: e.entity })),
  };
}
