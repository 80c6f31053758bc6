// AlterUserScramCredentials (key 51), version 0 (KIP-554). The active controller decides
// (src/controller/scram-users.ts, Kafka's ScramControlManager rules) and answers once the
// credential records are committed to the metadata log; another node forwards the request
// to it and passes its answer back, as CreateTopics does (once it has applied the accepted
// changes itself, or after 5 s). The client sends the salt and
// the salted password, never the password. More deletions plus upsertions than
// brook.max.scram.credentials.per.request refuse the request whole (INVALID_REQUEST for
// every user named). Alter on the cluster is needed, checked before anything is forwarded
// (a forwarded request reaches the controller as this node's own principal): otherwise
// CLUSTER_AUTHORIZATION_FAILED for every user named.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';
import { DEFAULT_SCRAM_CREDENTIALS_PER_REQUEST_MAX, scramMechanismOfType } from '../../controller/scram-users';

/** The longest a forwarding node waits to apply the changes it forwarded. */
const FORWARDED_APPLY_WAIT_MAX_MS = 5000;

export const alterUserScramCredentials: ApiHandler<typeof ApiKey.AlterUserScramCredentials> = {
  apiKey: ApiKey.AlterUserScramCredentials,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, header.apiVersion);
    const max = broker.settings.scram?.credentialsPerRequestMax ?? DEFAULT_SCRAM_CREDENTIALS_PER_REQUEST_MAX;
    if (request.deletions.length + request.upsertions.length > max)
      return {
        throttleTimeMs: 0,
        results: users(request).map((user) => ({
          user,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `At most ${max} credentials may be altered in one request (brook.max.scram.credentials.per.request).`,
        })),
      };
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, header.apiVersion, request);
      if (!forwarded) return this.errorResponse(request, ErrorCode.NOT_CONTROLLER, header.apiVersion);
      // The controller answered after the commit; this node waits (briefly) until it has
      // applied the accepted changes too, so that the client's next Describe here, and
      // authentication here, see them.
      const accepted = new Set(forwarded.results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => r.user));
      const image = broker.quorum.image;
      const applied = () =>
        request.upsertions.every(
          (u) =>
            !accepted.has(u.name) ||
            image.scramCredential(u.name, scramMechanismOfType(u.mechanism)!)?.salt.equals(u.salt),
        ) &&
        request.deletions.every(
          (d) => !accepted.has(d.name) || !image.scramCredential(d.name, scramMechanismOfType(d.mechanism)!),
        );
      const deadline = Date.now() + FORWARDED_APPLY_WAIT_MAX_MS;
      while (!applied() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return forwarded;
    }
    const results = await broker.quorum.alterScramCredentials(request.deletions, request.upsertions);
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: users(request).map((user) => ({ user, errorCode, errorMessage: null })),
    };
  },
};

/** Each user the request names, once, in request order. */
function users(request: { deletions: { name: string }[]; upsertions: { name: string }[] } | undefined): string[] {
  return [...new Set([...(request?.deletions ?? []), ...(request?.upsertions ?? [])].map((c) => c.name))];
}
