// OffsetCommit (key 8), versions 0-9.
// v1: generation and member id. v2-v4: retention time: when not -1 the offsets expire that
// long after the commit instead of by offsets.retention.minutes, as Kafka keeps it (they
// still expire only when the group is empty or no longer subscribes). v3: throttle time.
// v6: committed leader epoch. v7: group instance id. v8: flexible.
// v9: a commit naming a generation into a group that does not
// exist is GROUP_ID_NOT_FOUND (ILLEGAL_GENERATION before), as Kafka's coordinator answers
// for both protocols; Brook's groups are classic, so the field is a generation id.
// At most brook.max.partitions.per.request partitions (all INVALID_REQUEST past it).
// Offsets are written to __consumer_offsets before the answer. A group holds at most
// brook.group.max.committed.offsets partitions: a commit for a new one past it gets
// INVALID_COMMIT_OFFSET_SIZE (Kafka's code for a commit the offsets topic cannot take).
// The offset is stored as the client sent it, negative ones included: Kafka's coordinator
// does not check it (clients do), and kafkajs commits -2 to mean "earliest" (its
// admin.resetOffsets and its recovery from OFFSET_OUT_OF_RANGE), which OffsetFetch then
// returns for the client to resolve. Null metadata is stored as "", as Kafka stores it
// (OffsetAndMetadata.NO_METADATA).
// Authorization as Kafka's: Read on the group, else the whole request is refused with
// GROUP_AUTHORIZATION_FAILED; then Read on each topic, else its partitions are answered
// TOPIC_AUTHORIZATION_FAILED and not committed. When no topic is authorized nothing reaches
// the group (no membership check), as in Kafka.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { NO_METADATA } from './09-offset-fetch';
import type { CommittedOffset } from '../../group/offset-store';

export const offsetCommit: ApiHandler<typeof ApiKey.OffsetCommit> = {
  apiKey: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const groups = broker.groups;
    let partitionCount = 0;
    for (const topic of request.topics) partitionCount += topic.partitions.length;
    if (partitionCount > broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, header.apiVersion);
    if (!authorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, header.apiVersion);
    const denied = new Set<string>();
    for (const topic of request.topics)
      if (!authorized(ctx, AclOperation.READ, ResourceType.TOPIC, topic.name)) denied.add(topic.name);
    if (denied.size > 0 && request.topics.every((t) => denied.has(t.name)))
      return this.errorResponse(request, ErrorCode.TOPIC_AUTHORIZATION_FAILED, header.apiVersion);
    let errorCode = groups.precheck(request.groupId, true);
    if (errorCode === ErrorCode.NONE) {
      // v0 has no membership: it is a standalone commit.
      const generation = header.apiVersion >= 1 ? request.generationIdOrMemberEpoch : -1;
      const memberId = header.apiVersion >= 1 ? request.memberId : '';
      errorCode = groups.commitCheck(
        request.groupId,
        memberId,
        request.groupInstanceId ?? null,
        generation,
        header.apiVersion,
      );
    }
    if (errorCode !== ErrorCode.NONE) {
      const refused = this.errorResponse(request, errorCode, header.apiVersion);
      for (const t of refused.topics)
        if (denied.has(t.name)) for (const p of t.partitions) p.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      return refused;
    }
    const now = Date.now();
    const accepted: {
      topic: string;
      partition: number;
      offset: CommittedOffset;
    }[] = [];
    const retentionTimeMs = header.apiVersion >= 2 && header.apiVersion <= 4 ? request.retentionTimeMs : -1;
    // Kept within what the offsets record can hold, however large the client's number.
    const expireTimestampMs = retentionTimeMs === -1 ? null : Math.min(now + retentionTimeMs, Number.MAX_SAFE_INTEGER);
    // Partitions this commit would add to the group, against brook.group.max.committed.offsets.
    let committedCount = groups.committedOffsetCount(request.groupId);
    const added = new Set<string>();
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => {
        let code: number = ErrorCode.NONE;
        const metadataBytes = p.committedMetadata === null ? 0 : Buffer.byteLength(p.committedMetadata);
        const key = `${p.partitionIndex}:${topic.name}`;
        const isNew = !added.has(key) && !groups.hasCommittedOffset(request.groupId, topic.name, p.partitionIndex);
        if (denied.has(topic.name)) code = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (broker.locate(topic.name, p.partitionIndex) === 'unknown') code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (metadataBytes > broker.settings.offsetMetadataMaxBytes) code = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        else if (isNew && committedCount >= groups.committedOffsetsPerGroupMax)
          code = ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
        else {
          if (isNew) {
            added.add(key);
            committedCount++;
          }
          accepted.push({
            topic: topic.name,
            partition: p.partitionIndex,
            offset: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch ?? -1,
              metadata: p.committedMetadata ?? NO_METADATA,
              commitTimestampMs: now,
              expireTimestampMs,
            },
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode: code };
      }),
    }));
    if (accepted.length > 0) {
      const end = groups.commit(request.groupId, accepted);
      const durable = await broker.awaitOffsetsCommitted(request.groupId, end);
      if (durable !== ErrorCode.NONE)
        for (const t of topics) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = durable;
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: (request?.topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    };
  },
};
