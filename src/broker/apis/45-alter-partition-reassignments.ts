// AlterPartitionReassignments (key 45), version 0. Forwarded to the active controller like
// the other admin writes; answered once the reassignment is committed (the data moves
// afterwards, while traffic continues; ListPartitionReassignments shows the progress).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

export const alterPartitionReassignments: ApiHandler<typeof ApiKey.AlterPartitionReassignments> = {
  apiKey: ApiKey.AlterPartitionReassignments,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!ctx.broker.quorum.isLeader) {
      const forwarded = await ctx.broker.forwardToController(this.apiKey, ctx.header.apiVersion, request);
      return forwarded ?? this.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion);
    }
    const duplicate = request.topics.find((t, i) => request.topics.findIndex((u) => u.name === t.name) !== i);
    if (duplicate)
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `topic ${duplicate.name} appears twice`,
        responses: [],
      };
    const responses = await ctx.broker.quorum.alterPartitionReassignments(request.topics);
    for (const topic of responses) {
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
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      responses: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage: null })),
      })),
    };
  },
};
