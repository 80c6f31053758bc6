// The registry of API schemas, by key and by name.

import { ApiSchema } from '../schema';
import { Produce } from './00-produce';
import { Fetch } from './01-fetch';
import { ListOffsets } from './02-list-offsets';
import { Metadata } from './03-metadata';
import { OffsetCommit } from './08-offset-commit';
import { OffsetFetch } from './09-offset-fetch';
import { FindCoordinator } from './10-find-coordinator';
import { JoinGroup } from './11-join-group';
import { Heartbeat } from './12-heartbeat';
import { LeaveGroup } from './13-leave-group';
import { SyncGroup } from './14-sync-group';
import { DescribeGroups } from './15-describe-groups';
import { ListGroups } from './16-list-groups';
import { ApiVersions } from './18-api-versions';
import { CreateTopics } from './19-create-topics';
import { DeleteTopics } from './20-delete-topics';
import { InitProducerId } from './22-init-producer-id';
import { DescribeConfigs } from './32-describe-configs';
import { CreatePartitions } from './37-create-partitions';
import { DeleteGroups } from './42-delete-groups';
import { IncrementalAlterConfigs } from './44-incremental-alter-configs';
import { AlterPartitionReassignments } from './45-alter-partition-reassignments';
import { ListPartitionReassignments } from './46-list-partition-reassignments';
import { OffsetDelete } from './47-offset-delete';
import { OffsetForLeaderEpoch } from './23-offset-for-leader-epoch';
import { AllocateProducerIds, AlterPartitionIsr, BrokerHeartbeat, BrokerRegistration, RaftAddVoter, RaftAppendEntries, RaftDescribeQuorum, RaftInstallSnapshot, RaftRemoveVoter, RaftTimeoutNow, RaftVote } from './1000-raft';

export const allApis: ApiSchema[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
  DescribeConfigs,
  CreatePartitions,
  DeleteGroups,
  IncrementalAlterConfigs,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  OffsetDelete,
  RaftVote,
  RaftAppendEntries,
  RaftInstallSnapshot,
  RaftTimeoutNow,
  RaftDescribeQuorum,
  BrokerRegistration,
  BrokerHeartbeat,
  RaftAddVoter,
  RaftRemoveVoter,
  AllocateProducerIds,
  AlterPartitionIsr,
  OffsetForLeaderEpoch,
];

const byKey = new Map(allApis.map((api) => [api.apiKey, api]));
const byName = new Map(allApis.map((api) => [api.name.toLowerCase(), api]));

export function apiByKey(apiKey: number): ApiSchema | undefined {
  return byKey.get(apiKey);
}

/** Accepts "Produce", "produce" or the numeric key as a string. */
export function apiByName(name: string): ApiSchema | undefined {
  if (/^\d+$/.test(name)) return byKey.get(Number(name));
  return byName.get(name.toLowerCase().replace(/[-_ ]/g, ''));
}
