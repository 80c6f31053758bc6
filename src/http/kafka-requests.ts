// Small Kafka requests the HTTP routes make through the bundled client's cluster view
// (which owns ListOffsets and FindCoordinator): the connection to a partition's leader,
// ListOffsets for one partition as an HTTP error when it fails, and the group coordinator
// of a group id (waited for, bounded, while it is being elected or loaded).

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
  if (!meta || !meta.partitions[partition] || meta.partitions[partition].leader < 0)
    [meta] = await cluster.refreshMetadata([topic]);
  const leader = meta?.partitions.find((p) => p.partition === partition)?.leader ?? -1;
  if (leader < 0)
    throw new HttpError(
      503,
      'LEADER_NOT_AVAILABLE',
      `partition ${partition} of topic "${topic}" has no leader right now`,
    );
  return cluster.broker(leader);
}

/** ListOffsets for one partition at its leader: the offset for a timestamp, or earliest (-2) / latest (-1). */
export async function listOffset(
  cluster: Cluster,
  topic: string,
  partition: number,
  timestamp: number,
): Promise<number> {
  const [listed] = await cluster.listOffsets([{ topic, partition, timestamp }], { refresh: false });
  if (listed.cause !== undefined) throw listed.cause;
  if (listed.errorCode !== ErrorCode.NONE)
    throw fromKafkaCode(listed.errorCode, `looking up offsets of ${topic}-${partition}`);
  return listed.offset;
}

/** The coordinator of a group, through the client's FindCoordinator. */
export async function coordinatorOf(cluster: Cluster, groupId: string): Promise<BrokerConnection> {
  try {
    return await cluster.coordinator(groupId, COORDINATOR_WAIT_MS);
  } catch (error) {
    if (error instanceof KafkaError) throw fromKafkaCode(error.code, `finding the coordinator of group "${groupId}"`);
    throw error;
  }
}
