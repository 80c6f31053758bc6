// DescribeClientQuotas (key 48), versions 0-1 (KIP-546). Answered from this node's metadata
// image, as Kafka's brokers answer from their ClientQuotasImage (filter rules in
// src/controller/client-quotas.ts). Needs DESCRIBE_CONFIGS on the cluster, else
// CLUSTER_AUTHORIZATION_FAILED with null entries, as Kafka answers.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode, errorInfo } from '../../../protocol/errors';
import { AclOperation } from '../../security/acl';
import { describeClientQuotas as describe } from '../../controller/client-quotas';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';

export const describeClientQuotas: ApiHandler<typeof ApiKey.DescribeClientQuotas> = {
  apiKey: ApiKey.DescribeClientQuotas,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    if (!clusterAuthorized(ctx, AclOperation.DESCRIBE_CONFIGS))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    const answer = describe(ctx.broker.quorum.image, request.components, request.strict);
    if ('error' in answer) return { throttleTimeMs: 0, ...answer.error, entries: null };
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries: answer.entries };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: errorInfo(errorCode).message, entries: null };
  },
};
