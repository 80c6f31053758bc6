// ListPartitionReassignments (key 46), version 0: the reassignments in progress, from the
// metadata image (the same on every node, so no forwarding is needed). Describe on the
// cluster is needed (CLUSTER_AUTHORIZATION_FAILED otherwise).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';

export const listPartitionReassignments: ApiHandler<typeof ApiKey.ListPartitionReassignments> = {
  apiKey: ApiKey.ListPartitionReassignments,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!clusterAuthorized(ctx, AclOperation.DESCRIBE))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    const ongoing = ctx.broker.quorum.listPartitionReassignments(request.topics);
    const topics: {
      name: string;
      partitions: {
        partitionIndex: number;
        replicas: number[];
        addingReplicas: number[];
        removingReplicas: number[];
      }[];
    }[] = [];
    for (const r of ongoing) {
      let topic = topics.find((t) => t.name === r.topic);
      if (!topic) topics.push((topic = { name: r.topic, partitions: [] }));
      topic.partitions.push({
        partitionIndex: r.partitionIndex,
        replicas: r.replicas,
        addingReplicas: r.addingReplicas,
        removingReplicas: r.removingReplicas,
      });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, topics: [] };
  },
};
