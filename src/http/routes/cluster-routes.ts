// GET /api/v1/cluster and GET /api/v1/quorum, read from this node's metadata image and
// Raft state; GET /api/v1/log-dirs, each broker's log directory (volume size and free space,
// bytes per topic) asked of every broker with DescribeLogDirs through the admin client. The quorum's per-voter progress is known only on the leader: a follower
// asks the leader's controller port (RaftDescribeQuorum), as `brook cluster status` does.
// All need Describe on the cluster (as Kafka's DescribeQuorum and DescribeLogDirs do; the
// cluster view's totals count every topic, so it is not shown to principals who may only see
// some).

import { KafkaConnection } from '../../net/kafka-connection';
import type { Broker } from '../../broker/broker';
import type { ApiContext } from '../http-server';
import type { Router } from '../router';
import { ApiKey } from '../../../protocol/api-keys';
import { AclOperation } from '../../security/acl';
import { RequestAuthorization } from '../authorization';

const QUORUM_ASK_TIMEOUT_MS = 3000;
const CONTROLLER_ENDPOINT = 'CONTROLLER';

export interface PartitionTotals {
  topics: number;
  partitions: number;
  underReplicatedPartitions: number;
  offlinePartitions: number;
  logSizeBytes: number;
}

/** Bytes of the replicas of a topic stored on this node (by partition). */
export function localSizes(broker: Broker, topic: string): Map<number, number> {
  const sizes = new Map<number, number>();
  for (const log of broker.logs.all()) if (log.topic === topic) sizes.set(log.partition, log.sizeBytes);
  return sizes;
}

export function clusterView(broker: Broker) {
  const image = broker.quorum.image;
  const leaderCount = new Map<number, number>();
  const replicaCount = new Map<number, number>();
  const totals: PartitionTotals = {
    topics: image.topicsByName.size,
    partitions: 0,
    underReplicatedPartitions: 0,
    offlinePartitions: 0,
    logSizeBytes: 0,
  };
  for (const topic of image.topicsByName.values()) {
    for (const p of topic.partitions.values()) {
      totals.partitions++;
      if (p.leader < 0) totals.offlinePartitions++;
      else leaderCount.set(p.leader, (leaderCount.get(p.leader) ?? 0) + 1);
      if (p.isr.length < p.replicas.length) totals.underReplicatedPartitions++;
      for (const r of p.replicas) replicaCount.set(r, (replicaCount.get(r) ?? 0) + 1);
    }
  }
  for (const log of broker.logs.all()) totals.logSizeBytes += log.sizeBytes;
  const brokers = [...image.brokers.values()]
    .sort((a, b) => a.brokerId - b.brokerId)
    .map((b) => {
      const endpoint = b.endPoints.find((e) => e.name !== CONTROLLER_ENDPOINT) ?? b.endPoints[0];
      return {
        nodeId: b.brokerId,
        host: endpoint?.host ?? '',
        port: endpoint?.port ?? -1,
        rack: b.rack,
        fenced: b.fenced,
        leaderCount: leaderCount.get(b.brokerId) ?? 0,
        replicaCount: replicaCount.get(b.brokerId) ?? 0,
      };
    });
  return { clusterId: broker.clusterId, controllerId: broker.quorum.leaderId, nodeId: broker.nodeId, brokers, totals };
}

interface Progress {
  nodeId: number;
  matchIndex: number | null;
  lag: number | null;
}

export async function quorumView(broker: Broker) {
  const local = broker.quorum.describe();
  const toProgress = (list: { nodeId: number; matchIndex: number }[], commitIndex: number): Progress[] =>
    list
      .map((p) => ({ nodeId: p.nodeId, matchIndex: p.matchIndex, lag: Math.max(0, commitIndex - p.matchIndex) }))
      .sort((a, b) => a.nodeId - b.nodeId);
  const base = {
    leaderId: local.leaderId,
    term: local.term,
    commitIndex: local.commitIndex,
    nodeId: broker.nodeId,
    role: local.role,
    appliedIndex: local.appliedIndex,
  };
  if (local.role === 'leader') {
    return {
      ...base,
      source: 'local',
      voters: toProgress(
        local.progress.filter((p) => p.voter),
        local.commitIndex,
      ),
      observers: toProgress(
        local.progress.filter((p) => !p.voter),
        local.commitIndex,
      ),
    };
  }
  const endpoint = local.leaderId >= 0 ? broker.quorum.endpointOf(local.leaderId) : undefined;
  if (endpoint) {
    let connection: KafkaConnection | null = null;
    try {
      // Authenticated with the cluster secret, as every controller-port connection is.
      connection = await broker.quorum.openControllerConnection(
        {
          host: endpoint.host,
          port: endpoint.port,
          clientId: `brook-http-${broker.nodeId}`,
          requestTimeoutMs: QUORUM_ASK_TIMEOUT_MS,
          connectTimeoutMs: QUORUM_ASK_TIMEOUT_MS,
        },
        local.leaderId,
      );
      const answer = await connection.request(ApiKey.RaftDescribeQuorum, 0, {});
      if (answer.errorCode === 0) {
        return {
          ...base,
          leaderId: answer.leaderId,
          term: answer.term,
          commitIndex: answer.commitIndex,
          source: `leader ${answer.leaderId}`,
          voters: toProgress(answer.voters, answer.commitIndex),
          observers: toProgress(answer.observers, answer.commitIndex),
        };
      }
    } catch {
      // The leader's progress is not available: answer what this node knows.
    } finally {
      connection?.close();
    }
  }
  const unknown = (ids: number[]): Progress[] =>
    ids.sort((a, b) => a - b).map((nodeId) => ({ nodeId, matchIndex: null, lag: null }));
  const voterIds = broker.quorum.voters().map((v) => v.id);
  const observerIds = [...broker.quorum.image.brokers.keys()].filter((id) => !voterIds.includes(id));
  return {
    ...base,
    source: 'local (the leader could not be asked)',
    voters: unknown(voterIds),
    observers: unknown(observerIds),
  };
}

/** Every broker's log directories with the bytes of each topic there (largest first). */
export async function logDirsView(context: ApiContext) {
  const admin = await context.clients.adminClient();
  const described = await admin.describeLogDirs();
  return {
    brokers: described.map((b) => ({
      brokerId: b.brokerId,
      error: b.error,
      logDirs: b.logDirs.map((d) => {
        const topics = new Map<string, { topic: string; partitions: number; sizeBytes: number }>();
        let sizeBytes = 0;
        for (const p of d.partitions) {
          const entry = topics.get(p.topic) ?? { topic: p.topic, partitions: 0, sizeBytes: 0 };
          entry.partitions++;
          entry.sizeBytes += p.sizeBytes;
          sizeBytes += p.sizeBytes;
          topics.set(p.topic, entry);
        }
        return {
          path: d.path,
          errorCode: d.errorCode,
          totalBytes: d.totalBytes,
          usableBytes: d.usableBytes,
          sizeBytes,
          topics: [...topics.values()].sort((x, y) => y.sizeBytes - x.sizeBytes || x.topic.localeCompare(y.topic)),
        };
      }),
    })),
  };
}

export function addClusterRoutes(router: Router, context: ApiContext): void {
  router.add('GET', '/api/v1/cluster', ({ req, access }) => {
    RequestAuthorization.of(context.broker, req, access).requireCluster(AclOperation.DESCRIBE);
    return { status: 200, body: clusterView(context.broker) };
  });
  router.add('GET', '/api/v1/quorum', async ({ req, access }) => {
    RequestAuthorization.of(context.broker, req, access).requireCluster(AclOperation.DESCRIBE);
    return { status: 200, body: await quorumView(context.broker) };
  });
  router.add('GET', '/api/v1/log-dirs', async ({ req, access }) => {
    RequestAuthorization.of(context.broker, req, access).requireCluster(AclOperation.DESCRIBE);
    return { status: 200, body: await logDirsView(context) };
  });
}
