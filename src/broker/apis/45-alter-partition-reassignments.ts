// AlterPartitionReassignments (key 45), versions 0-1. Forwarded to the active controller like
// the other admin writes; answered once the reassignment is committed (the data moves
// afterwards, while traffic continues; ListPartitionReassignments shows the progress).
// v1: allowReplicationFactorChange (KIP-860, kafka-reassign-partitions
// --disallow-replication-factor-change). When false, a new target replica list whose length
// differs from the partition's replication factor is refused with INVALID_REPLICATION_FACTOR
// ("The replication factor is changed from X to Y"), where a partition being reassigned
// counts the replicas it is headed for (its replicas and adding ones, less the removing
// ones), as Kafka's controller counts them. Cancellations (null replicas) are not checked.
// The response echoes the flag. Alter on the cluster is needed, checked before anything is
// forwarded: otherwise CLUSTER_AUTHORIZATION_FAILED for the request and every partition.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Broker } from '../broker';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';

/** The replica count a partition is headed for, or undefined when it does not exist. */
function targetReplicationFactor(broker: Broker, topic: string, index: number): number | undefined {
  const partition = broker.quorum.image.topicsByName.get(topic)?.partitions.get(index);
  if (!partition) return undefined;
  if (partition.addingReplicas.length === 0 && partition.removingReplicas.length === 0)
    return partition.replicas.length;
  const heading = new Set([...partition.replicas, ...partition.addingReplicas]);
  for (const id of partition.removingReplicas) heading.delete(id);
  return heading.size;
}

export const alterPartitionReassignments: ApiHandler<typeof ApiKey.AlterPartitionReassignments> = {
  apiKey: ApiKey.AlterPartitionReassignments,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    if (!ctx.broker.quorum.isLeader) {
      const forwarded = await ctx.broker.forwardToController(this.apiKey, ctx.header.apiVersion, request);
      return forwarded ?? this.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion);
    }
    const allowReplicationFactorChange = ctx.header.apiVersion < 1 || request.allowReplicationFactorChange !== false;
    const duplicate = request.topics.find((t, i) => request.topics.findIndex((u) => u.name === t.name) !== i);
    if (duplicate)
      return {
        throttleTimeMs: 0,
        allowReplicationFactorChange,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `topic ${duplicate.name} appears twice`,
        responses: [],
      };
    // Partitions refused for changing the replication factor, by topic and index.
    const refused = new Map<string, Map<number, string>>();
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.filter((p) => {
        if (allowReplicationFactorChange || p.replicas === null) return true;
        const current = targetReplicationFactor(ctx.broker, topic.name, p.partitionIndex);
        if (current === undefined || current === p.replicas.length) return true;
        if (!refused.has(topic.name)) refused.set(topic.name, new Map());
        refused
          .get(topic.name)!
          .set(p.partitionIndex, `The replication factor is changed from ${current} to ${p.replicas.length}`);
        return false;
      }),
    }));
    const decided = await ctx.broker.quorum.alterPartitionReassignments(topics.filter((t) => t.partitions.length > 0));
    for (const topic of decided) {
      for (const p of topic.partitions) {
        if (p.errorCode === ErrorCode.NONE)
          ctx.broker.logger.info('partition reassignment', {
            topic: topic.name,
            partition: p.partitionIndex,
            replicas:
              request.topics
                .find((t) => t.name === topic.name)
                ?.partitions.find((q) => q.partitionIndex === p.partitionIndex)?.replicas ?? 'cancelled',
          });
      }
    }
    // Answer in the request's order, refused partitions among the decided ones.
    const responses = request.topics.map((topic) => {
      const answered = decided.find((t) => t.name === topic.name)?.partitions ?? [];
      return {
        name: topic.name,
        partitions: topic.partitions.map((p) => {
          const message = refused.get(topic.name)?.get(p.partitionIndex);
          if (message !== undefined)
            return {
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
              errorMessage: message,
            };
          return (
            answered.find((a) => a.partitionIndex === p.partitionIndex) ?? {
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
              errorMessage: null,
            }
          );
        }),
      };
    });
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses,
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange: request?.allowReplicationFactorChange ?? true,
      errorCode,
      errorMessage: null,
      responses: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage: null })),
      })),
    };
  },
};
