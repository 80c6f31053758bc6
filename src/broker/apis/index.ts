// The table of served APIs: one handler per API key. ApiVersions answers from this table,
// and a test checks that every advertised version has a codec and a handler.

import { ApiHandler } from '../api-handler';
import { produce } from './00-produce';
import { fetch } from './01-fetch';
import { listOffsets } from './02-list-offsets';
import { metadata } from './03-metadata';
import { offsetCommit } from './08-offset-commit';
import { offsetFetch } from './09-offset-fetch';
import { findCoordinator } from './10-find-coordinator';
import { joinGroup } from './11-join-group';
import { heartbeat } from './12-heartbeat';
import { leaveGroup } from './13-leave-group';
import { syncGroup } from './14-sync-group';
import { describeGroups } from './15-describe-groups';
import { listGroups } from './16-list-groups';
import { saslHandshake } from './17-sasl-handshake';
import { apiVersions } from './18-api-versions';
import { createTopics } from './19-create-topics';
import { deleteTopics } from './20-delete-topics';
import { deleteRecords } from './21-delete-records';
import { initProducerId } from './22-init-producer-id';
import { offsetForLeaderEpoch } from './23-offset-for-leader-epoch';
import { describeAcls } from './29-describe-acls';
import { createAcls } from './30-create-acls';
import { deleteAcls } from './31-delete-acls';
import { describeConfigs } from './32-describe-configs';
import { alterConfigs } from './33-alter-configs';
import { describeLogDirs } from './35-describe-log-dirs';
import { saslAuthenticate } from './36-sasl-authenticate';
import { createPartitions } from './37-create-partitions';
import { deleteGroups } from './42-delete-groups';
import { electLeaders } from './43-elect-leaders';
import { incrementalAlterConfigs } from './44-incremental-alter-configs';
import { alterPartitionReassignments } from './45-alter-partition-reassignments';
import { listPartitionReassignments } from './46-list-partition-reassignments';
import { offsetDelete } from './47-offset-delete';
import { describeClientQuotas } from './48-describe-client-quotas';
import { alterClientQuotas } from './49-alter-client-quotas';
import { describeUserScramCredentials } from './50-describe-user-scram-credentials';
import { alterUserScramCredentials } from './51-alter-user-scram-credentials';
import { describeCluster } from './60-describe-cluster';
import { describeProducers } from './61-describe-producers';
import { unregisterBroker } from './64-unregister-broker';
import { describeTopicPartitions } from './75-describe-topic-partitions';

export const handlers: ApiHandler[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  saslHandshake,
  apiVersions,
  createTopics,
  deleteTopics,
  deleteRecords,
  initProducerId,
  offsetForLeaderEpoch,
  describeAcls,
  createAcls,
  deleteAcls,
  describeConfigs,
  alterConfigs,
  describeLogDirs,
  saslAuthenticate,
  createPartitions,
  deleteGroups,
  electLeaders,
  incrementalAlterConfigs,
  alterPartitionReassignments,
  listPartitionReassignments,
  offsetDelete,
  describeClientQuotas,
  alterClientQuotas,
  describeUserScramCredentials,
  alterUserScramCredentials,
  describeCluster,
  describeProducers,
  unregisterBroker,
  describeTopicPartitions,
];
