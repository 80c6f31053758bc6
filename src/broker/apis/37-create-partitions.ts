// CreatePartitions (key 37), versions 0-3.
// v1: same as v0. v2: flexible. v3: same as v2. Partition counts only grow.
// Authorization as Kafka's controller does it, on the node that received the request and
// before anything is forwarded: Alter on each topic named once, else
// TOPIC_AUTHORIZATION_FAILED for it (it never reaches the controller). The internal topics
// (__consumer_offsets, __transaction_state) keep their partition count for every client,
// super users included: INVALID_REQUEST (Kafka has no such rule; the group coordinator maps
// groups onto the offsets topic's partitions by their count).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { isInternalTopic } from '../../../protocol/topic-names';
import { controllerMutationQuota, THROTTLING_QUOTA_EXCEEDED_MESSAGE } from '../quota-manager';

type PartitionsRequest = Request<typeof ApiKey.CreatePartitions>;
type PartitionsResponse = ResponseInput<typeof ApiKey.CreatePartitions>;

export const createPartitions: ApiHandler<typeof ApiKey.CreatePartitions> = {
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    if (ctx.broker.authorizer === null) return grow(ctx, request);
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const denied = new Set<string>();
    for (const [name, count] of counts)
      if (count === 1 && !authorized(ctx, AclOperation.ALTER, ResourceType.TOPIC, name)) denied.add(name);
    if (denied.size === 0) return grow(ctx, request);
    const permitted = { ...request, topics: request.topics.filter((t) => !denied.has(t.name)) };
    const response: PartitionsResponse =
      permitted.topics.length === 0 ? { throttleTimeMs: 0, results: [] } : await grow(ctx, permitted);
    for (const name of denied)
      response.results.push({ name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
    return response;
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: (request?.topics ?? []).map((t) => ({ name: t.name, errorCode, errorMessage: null })),
    };
  },
};

/** The change itself: forwarded to the active controller, or decided here when this node is it. */
async function grow(ctx: RequestContext, request: PartitionsRequest): Promise<PartitionsResponse> {
  if (!ctx.broker.quorum.isLeader) {
    // Admin writes go to the active controller; its answer is passed back unchanged.
    const forwarded = await ctx.broker.forwardToController(
      ApiKey.CreatePartitions,
      ctx.header.apiVersion,
      request,
      ctx.header.clientId,
    );
    return (
      (forwarded as PartitionsResponse | null) ??
      createPartitions.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion)
    );
  }
  const { broker } = ctx;
  const quota = controllerMutationQuota(ctx, 3);
  const results = [];
  const seen = new Set<string>();
  for (const topic of request.topics) {
    const result = (errorCode: number, errorMessage: string | null) => ({
      name: topic.name,
      errorCode,
      errorMessage,
    });
    if (seen.has(topic.name)) {
      results.push(result(ErrorCode.INVALID_REQUEST, 'duplicate topic in the request'));
      continue;
    }
    seen.add(topic.name);
    const info = broker.topics.get(topic.name);
    if (!info) {
      results.push(result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.'));
      continue;
    }
    if (isInternalTopic(topic.name)) {
      results.push(
        result(
          ErrorCode.INVALID_REQUEST,
          `Topic ${topic.name} is internal: its partition count is fixed (offsets.topic.num.partitions).`,
        ),
      );
      continue;
    }
    if (topic.count <= info.partitions) {
      const message =
        topic.count === info.partitions
          ? `Topic already has ${info.partitions} partitions.`
          : `Topic currently has ${info.partitions} partitions, which is higher than the requested ${topic.count}.`;
      results.push(result(ErrorCode.INVALID_PARTITIONS, message));
      continue;
    }
    if (topic.count - info.partitions > broker.settings.maxPartitionsPerRequest) {
      results.push(result(ErrorCode.INVALID_PARTITIONS, 'too many new partitions in one request'));
      continue;
    }
    if (topic.assignments !== null) {
      const valid =
        topic.assignments.length === topic.count - info.partitions &&
        topic.assignments.every((a) => a.brokerIds.length === 1 && a.brokerIds[0] === broker.nodeId);
      if (!valid) {
        results.push(
          result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'assignments must give one existing broker per new partition'),
        );
        continue;
      }
    }
    if (!quota.admit(topic.count - info.partitions)) {
      results.push(result(ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE));
      continue;
    }
    const errorCode = request.validateOnly ? ErrorCode.NONE : await broker.addPartitions(topic.name, topic.count);
    results.push(result(errorCode, null));
  }
  return { throttleTimeMs: 0, results };
}
