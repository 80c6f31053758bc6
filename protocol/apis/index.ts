// The registry of API schemas, by key and by name.

import type { ApiKey } from '../api-keys';
import { ApiSchema, RequestIn, RequestOf, ResponseIn, ResponseOf } from '../schema';
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
import { SaslHandshake } from './17-sasl-handshake';
import { ApiVersions } from './18-api-versions';
import { CreateTopics } from './19-create-topics';
import { DeleteTopics } from './20-delete-topics';
import { DeleteRecords } from './21-delete-records';
import { InitProducerId } from './22-init-producer-id';
import { DescribeAcls } from './29-describe-acls';
import { CreateAcls } from './30-create-acls';
import { DeleteAcls } from './31-delete-acls';
import { DescribeConfigs } from './32-describe-configs';
import { AlterConfigs } from './33-alter-configs';
import { DescribeLogDirs } from './35-describe-log-dirs';
import { SaslAuthenticate } from './36-sasl-authenticate';
import { CreatePartitions } from './37-create-partitions';
import { DeleteGroups } from './42-delete-groups';
import { ElectLeaders } from './43-elect-leaders';
import { IncrementalAlterConfigs } from './44-incremental-alter-configs';
import { AlterPartitionReassignments } from './45-alter-partition-reassignments';
import { ListPartitionReassignments } from './46-list-partition-reassignments';
import { OffsetDelete } from './47-offset-delete';
import { DescribeClientQuotas } from './48-describe-client-quotas';
import { AlterClientQuotas } from './49-alter-client-quotas';
import { DescribeUserScramCredentials } from './50-describe-user-scram-credentials';
import { AlterUserScramCredentials } from './51-alter-user-scram-credentials';
import { DescribeCluster } from './60-describe-cluster';
import { DescribeProducers } from './61-describe-producers';
import { UnregisterBroker } from './64-unregister-broker';
import { DescribeTopicPartitions } from './75-describe-topic-partitions';
import { OffsetForLeaderEpoch } from './23-offset-for-leader-epoch';
import {
  AllocateProducerIds,
  AlterPartitionIsr,
  ControllerHandshake,
  BrokerHeartbeat,
  BrokerRegistration,
  RaftAddVoter,
  RaftAppendEntries,
  RaftDescribeQuorum,
  RaftInstallSnapshot,
  RaftRemoveVoter,
  RaftTimeoutNow,
  RaftVote,
} from './1000-raft';

const schemas = [
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
  SaslHandshake,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DeleteRecords,
  InitProducerId,
  DescribeAcls,
  CreateAcls,
  DeleteAcls,
  DescribeConfigs,
  AlterConfigs,
  DescribeLogDirs,
  SaslAuthenticate,
  CreatePartitions,
  DeleteGroups,
  ElectLeaders,
  IncrementalAlterConfigs,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  OffsetDelete,
  DescribeClientQuotas,
  AlterClientQuotas,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
  DescribeCluster,
  DescribeProducers,
  UnregisterBroker,
  DescribeTopicPartitions,
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
  ControllerHandshake,
  OffsetForLeaderEpoch,
] as const;

export const allApis: ApiSchema[] = [...schemas];

/** The schema of each API, by key, with its literal field types. */
export type SchemaOf<K extends ApiKey> = Extract<(typeof schemas)[number], { apiKey: K }>;
/** A decoded request of API `K` (what its handler receives). */
export type Request<K extends ApiKey> = K extends ApiKey ? RequestOf<SchemaOf<K>> : never;
/** A request of API `K` as handed to the encoder (what a client sends). */
export type RequestInput<K extends ApiKey> = K extends ApiKey ? RequestIn<SchemaOf<K>> : never;
/** A decoded response of API `K` (what a client receives). */
export type Response<K extends ApiKey> = K extends ApiKey ? ResponseOf<SchemaOf<K>> : never;
/** A response of API `K` as handed to the encoder (what a handler returns). */
export type ResponseInput<K extends ApiKey> = K extends ApiKey ? ResponseIn<SchemaOf<K>> : never;

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
