// OffsetForLeaderEpoch (key 23), versions 0-4.
// Where a leader epoch ends in this leader's log (from the leader epoch cache): followers
// ask after a leader change and cut what they wrote past it; consumers (librdkafka, KIP-320)
// ask to detect that the log was truncated under their position. Only the leader answers;
// v2+ carries the caller's current leader epoch, fenced as for Fetch.
// With an authorizer: ClusterAction on the cluster answers every topic, otherwise each
// topic needs Describe (TOPIC_AUTHORIZATION_FAILED on its partitions), as Kafka checks it.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized, topicAuthorizer } from '../authorize';
import { AclOperation } from '../../security/acl';

export const offsetForLeaderEpoch: ApiHandler<typeof ApiKey.OffsetForLeaderEpoch> = {
  apiKey: ApiKey.OffsetForLeaderEpoch,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
    let count = 0;
    for (const topic of request.topics) count += topic.partitions.length;
    if (count > broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
    // ClusterAction on the cluster (followers) answers every topic; otherwise Describe on
    // each (consumers, KIP-320), the refused topics last, as Kafka merges them.
    const mayDescribe = clusterAuthorized(ctx, AclOperation.CLUSTER_ACTION)
      ? () => true
      : topicAuthorizer(ctx, AclOperation.DESCRIBE);
    const refused = request.topics
      .filter((topic) => !mayDescribe(topic.topic))
      .map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p) => ({
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          partition: p.partition,
          leaderEpoch: -1,
          endOffset: -1,
        })),
      }));
    const allowed = refused.length === 0 ? request.topics : request.topics.filter((t) => mayDescribe(t.topic));
    const answered = {
      throttleTimeMs: 0,
      topics: allowed.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p) => {
          const located = broker.topics.get(topic.topic)
            ? broker.replicas.leaderReplica(topic.topic, p.partition, p.currentLeaderEpoch ?? -1)
            : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if ('errorCode' in located)
            return { errorCode: located.errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
          const { log } = located.replica;
          const end = log.epochs.endOffsetFor(p.leaderEpoch, log.logEndOffset);
          return {
            errorCode: ErrorCode.NONE,
            partition: p.partition,
            leaderEpoch: end.epoch,
            endOffset: end.endOffset,
          };
        }),
      })),
    };
    answered.topics.push(...refused);
    return answered;
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p) => ({
          errorCode,
          partition: p.partition,
          leaderEpoch: -1,
          endOffset: -1,
        })),
      })),
    };
  },
};
