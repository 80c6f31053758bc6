// DescribeLogDirs (key 35), versions 1-4 (v0 removed in Kafka 4.0, KIP-896): the broker's log
// directory (Brook has one, data/logs) with the partitions it holds there, each with its size
// on disk and offset lag, as Kafka's ReplicaManager.describeLogDirs answers. The lag is
// Kafka's max(high watermark - log end offset, 0): 0 for a leader; for a follower the high
// watermark is the leader's from its last fetch answer (Kafka caps a follower's own high
// watermark at its log end, which would always give 0), so a follower that is behind shows
// how far. A partition asked for that is not here is left out; a null topic list asks for
// every partition. isFutureKey is false: Brook has no AlterReplicaLogDirs. v3 adds a
// top-level error code, v4 the volume's total and usable bytes (statfs; -1 when unknown,
// e.g. on the in-memory file system of tests). An offline directory is KAFKA_STORAGE_ERROR.
// Describe on the cluster is needed: otherwise no directories and CLUSTER_AUTHORIZATION_FAILED
// at the top (v3+), as Kafka answers. At most brook.max.partitions.per.request partitions may
// be named (INVALID_REQUEST past it).

import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';
import type { Broker } from '../broker';
import type { PartitionLog } from '../../log/partition-log';

/** The volume's total and usable bytes (Kafka's FileStore total and usable space), -1 when unknown. */
export async function volumeBytes(dir: string): Promise<{ totalBytes: number; usableBytes: number }> {
  try {
    const stats = await statfs(dir);
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}

/** Kafka's offset lag of a current (not future) log: how far its end is below the partition's high watermark. */
export function offsetLag(broker: Broker, log: PartitionLog): number {
  const replica = broker.replicas.get(log.topic, log.partition);
  if (!replica || replica.leading) return 0;
  return Math.max(replica.leaderHighWatermark - log.logEndOffset, 0);
}

export const describeLogDirs: ApiHandler<typeof ApiKey.DescribeLogDirs> = {
  apiKey: ApiKey.DescribeLogDirs,
  name: 'DescribeLogDirs',
  minVersion: 1,
  maxVersion: 4,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (!clusterAuthorized(ctx, AclOperation.DESCRIBE))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx.header.apiVersion);
    let wanted: Map<string, Set<number>> | null = null;
    if (request.topics !== null) {
      let count = 0;
      for (const topic of request.topics) count += topic.partitions.length;
      if (count > broker.settings.maxPartitionsPerRequest)
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx.header.apiVersion);
      wanted = new Map();
      for (const topic of request.topics) {
        const set = wanted.get(topic.topic) ?? new Set<number>();
        for (const p of topic.partitions) set.add(p);
        wanted.set(topic.topic, set);
      }
    }
    const directory = broker.logs.directory;
    const logDir = path.resolve(directory.dir);
    if (directory.offline)
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: [{ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [], totalBytes: -1, usableBytes: -1 }],
      };
    const byTopic = new Map<
      string,
      { partitionIndex: number; partitionSize: number; offsetLag: number; isFutureKey: boolean }[]
    >();
    for (const log of broker.logs.all()) {
      if (wanted && !wanted.get(log.topic)?.has(log.partition)) continue;
      const partitions = byTopic.get(log.topic) ?? [];
      partitions.push({
        partitionIndex: log.partition,
        partitionSize: log.sizeBytes,
        offsetLag: offsetLag(broker, log),
        isFutureKey: false,
      });
      byTopic.set(log.topic, partitions);
    }
    const topics = [...byTopic]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, partitions]) => ({
        name,
        partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
      }));
    const { totalBytes, usableBytes } = await volumeBytes(logDir);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir, topics, totalBytes, usableBytes }],
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
};
