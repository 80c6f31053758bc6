// DeleteTopics (key 20), versions 0-6.
// v1: throttle time. v4: flexible. v5: per-topic error messages. v6: topics named by name
// or by topic id (the request's Topics array replaces TopicNames).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import type { Request } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';
import { isInternalTopic } from '../../../protocol/topic-names';

/** A topic to delete, by name (v0-5) or by name or id (v6+). */
type Target = Request<typeof ApiKey.DeleteTopics>['topics'][number];

function targets(request: Request<typeof ApiKey.DeleteTopics>, version: number): Target[] {
  if (version >= 6) return request.topics;
  return request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
}

export const deleteTopics: ApiHandler<typeof ApiKey.DeleteTopics> = {
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, request) {
    if (!ctx.broker.quorum.isLeader) {
      // Admin writes go to the active controller; its answer is passed back unchanged.
      const forwarded = await ctx.broker.forwardToController(this.apiKey, ctx.header.apiVersion, request);
      return forwarded ?? this.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion);
    }
    const { broker, header } = ctx;
    const responses = [];
    for (const target of targets(request, header.apiVersion)) {
      const info =
        target.name !== null && target.name !== ''
          ? broker.topics.get(target.name)
          : broker.topics.getById(target.topicId);
      if (!info) {
        const errorCode = target.name ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
        responses.push({
          name: target.name,
          topicId: target.topicId,
          errorCode,
          errorMessage: 'This server does not host this topic.',
        });
        continue;
      }
      if (isInternalTopic(info.name)) {
        responses.push({
          name: info.name,
          topicId: info.topicId,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Topic ${info.name} is an internal topic and cannot be deleted.`,
        });
        continue;
      }
      const errorCode = await broker.deleteTopic(info.name);
      responses.push({
        name: info.name,
        topicId: info.topicId,
        errorCode,
        errorMessage: errorCode === ErrorCode.NONE ? null : 'not deleted: this node is not the active controller',
      });
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(request, errorCode, version) {
    return {
      throttleTimeMs: 0,
      responses: targets(request, version).map((t) => ({
        name: t.name,
        topicId: t.topicId,
        errorCode,
        errorMessage: null,
      })),
    };
  },
};
