// Small Kafka requests the HTTP routes make through the bundled client's cluster view:
// the connection to a partition's leader, ListOffsets for one partition, and the group
// coordinator of a group id (waiting, bounded, while it is being elected or loaded).

import { ErrorCode } from '../../protocol/errors';
import { BrokerConnection, Cluster, KafkaError } from '../client/cluster';
import { fromKafkaCode, HttpError } from './http-errors';

export const EARLIEST = -2;
export const LATEST = -1;
/** How long a route waits for a group coordinator to become available. */
const COORDINATOR_WAIT_MS = 5000;

/** The connection to a partition's leader (metadata refreshed once when it is not known). */
export async function leaderConnection(cluster: Cluster, topic: string, partition: number): Promise<BrokerConnection> {
  let meta = cluster.topics.get(topic);
  if (!meta || !meta.partitions[partition] || meta.partitions[partition].leader < 0) [meta] = await cluster.refreshMetadata([topic]);
  const leader = meta?.partitions.find((p) => p.partition === partition)?.leader ?? -1;
  if (leader < 0) throw new HttpError(503, 'LEADER_NOT_AVAILABLE', `partition ${partition} of topic "${topic}" has no leader right now`);
  return cluster.broker(leader);
}

/** ListOffsets for one partition: the offset for a timestamp, or earliest (-2) / latest (-1). */
export async function listOffset(connection: BrokerConnection, topic: string, partition: number, timestamp: number): Promise<number> {
  const answer = await connection.request(2, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }] }, { cap: 7 });
  const p = answer.topics[0].partitions[0];
  if (p.errorCode !== ErrorCode.NONE) throw fromKafkaCode(p.errorCode, `looking up offsets of ${topic}-${partition}`);
  return Number(p.offset);
}

/** The coordinator of a group, through FindCoordinator at any broker. */
export async function coordinatorOf(cluster: Cluster, groupId: string): Promise<BrokerConnection> {
  const deadline = Date.now() + COORDINATOR_WAIT_MS;
  for (;;) {
    const broker = await cluster.anyBroker();
    const answer = await broker.request(10, { key: groupId, keyType: 0, coordinatorKeys: [groupId] }, { cap: 3 });
    if (answer.errorCode === ErrorCode.NONE) {
      if (!cluster.brokers.has(answer.nodeId)) await cluster.refreshMetadata([]);
      return cluster.broker(answer.nodeId);
    }
    if (!new KafkaError(answer.errorCode, '').retriable || Date.now() > deadline) throw fromKafkaCode(answer.errorCode, `finding the coordinator of group "${groupId}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
