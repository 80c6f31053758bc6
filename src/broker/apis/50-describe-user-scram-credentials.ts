// DescribeUserScramCredentials (key 50), version 0 (KIP-554). Answered from this node's
// metadata image, as Kafka's brokers answer from their ScramImage: per user the mechanisms
// and iteration counts, never salts or keys. A null or empty user list describes every
// user; an unknown user is RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE (once).
// More names than brook.max.scram.credentials.per.request refuse the request whole
// (INVALID_REQUEST in the top-level error). Describe on the cluster is needed, as Kafka
// checks it: otherwise CLUSTER_AUTHORIZATION_FAILED in the top-level error.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';
import { DEFAULT_SCRAM_CREDENTIALS_PER_REQUEST_MAX, scramMechanismType } from '../../controller/scram-users';

export const describeUserScramCredentials: ApiHandler<typeof ApiKey.DescribeUserScramCredentials> = {
  apiKey: ApiKey.DescribeUserScramCredentials,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    if (!clusterAuthorized(ctx, AclOperation.DESCRIBE))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    const image = ctx.broker.quorum.image;
    const max = ctx.broker.settings.scram?.credentialsPerRequestMax ?? DEFAULT_SCRAM_CREDENTIALS_PER_REQUEST_MAX;
    const names = request.users === null || request.users.length === 0 ? null : request.users.map((u) => u.name);
    if (names !== null && names.length > max) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `At most ${max} users may be described in one request (brook.max.scram.credentials.per.request).`,
        results: [],
      };
    }
    // Request order, each name once; a name given again is marked as duplicated.
    const repeated = new Map<string, boolean>();
    for (const name of names ?? image.scramUserNames()) repeated.set(name, repeated.has(name));
    const results = [...repeated].map(([user, duplicated]) => {
      if (duplicated)
        return {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: [],
        };
      const credentials = image.scramUsers.get(user);
      if (!credentials)
        return {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: [],
        };
      const credentialInfos = [...credentials.values()]
        .map((c) => ({ mechanism: scramMechanismType(c.mechanism), iterations: c.iterations }))
        .sort((a, b) => a.mechanism - b.mechanism);
      return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, results: [] };
  },
};
