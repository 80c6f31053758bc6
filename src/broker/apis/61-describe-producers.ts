// DescribeProducers (key 61), version 0 (KIP-664, kafka-transactions describe-producers): per
// partition the idempotent producers its leader remembers (src/log/producer-state.ts), each
// with its epoch, last sequence and the timestamp of its last batch. The coordinator epoch
// is -1 and the current transaction start offset -1: Brook has no transactions yet.
// As in Kafka's KafkaApis: an invalid topic name is INVALID_TOPIC_EXCEPTION, a topic the
// principal may not Read is TOPIC_AUTHORIZATION_FAILED, an unknown one
// UNKNOWN_TOPIC_OR_PARTITION, each on every partition asked; a partition this broker does
// not lead is NOT_LEADER_OR_FOLLOWER. At most brook.max.partitions.per.request partitions
// may be named (INVALID_REQUEST on every partition past it).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { validateTopicName } from '../../../protocol/topic-names';
import { ApiHandler } from '../api-handler';
import { topicAuthorizer } from '../authorize';
import { AclOperation } from '../../security/acl';

export const describeProducers: ApiHandler<typeof ApiKey.DescribeProducers> = {
  apiKey: ApiKey.DescribeProducers,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    let count = 0;
    for (const topic of request.topics) count += topic.partitionIndexes.length;
    if (count > broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, 0);
    const mayRead = topicAuthorizer(ctx, AclOperation.READ);
    const image = broker.quorum.image;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => {
        const topicError =
          validateTopicName(topic.name) !== null
            ? ErrorCode.INVALID_TOPIC_EXCEPTION
            : !mayRead(topic.name)
              ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
              : !image.topicsByName.has(topic.name)
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.NONE;
        return {
          name: topic.name,
          partitions: topic.partitionIndexes.map((partitionIndex) => {
            const refused = (errorCode: number) => ({
              partitionIndex,
              errorCode,
              errorMessage: null,
              activeProducers: [],
            });
            if (topicError !== ErrorCode.NONE) return refused(topicError);
            const located = broker.replicas.leaderReplica(topic.name, partitionIndex);
            if ('errorCode' in located) return refused(located.errorCode);
            return {
              partitionIndex,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              activeProducers: located.replica.log.activeProducers().map((entry) => ({
                producerId: entry.producerId,
                producerEpoch: entry.epoch,
                lastSequence: entry.batches.at(-1)?.lastSeq ?? -1,
                lastTimestamp: entry.lastTimestamp,
                coordinatorEpoch: -1,
                currentTxnStartOffset: -1,
              })),
            };
          }),
        };
      }),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          errorCode,
          errorMessage: null,
          activeProducers: [],
        })),
      })),
    };
  },
};
