// The API keys Brook defines a schema for, by the names Kafka's specs use (0-999) and
// Brook's own Raft and controller keys (1000 up, served on the controller listener).
// Code names a key as `ApiKey.Produce`, never as a bare number.

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  DescribeConfigs: 32,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  DeleteGroups: 42,
  IncrementalAlterConfigs: 44,
  AlterPartitionReassignments: 45,
  ListPartitionReassignments: 46,
  OffsetDelete: 47,
  DescribeClientQuotas: 48,
  AlterClientQuotas: 49,
  DescribeUserScramCredentials: 50,
  AlterUserScramCredentials: 51,
  DescribeCluster: 60,
  DescribeTopicPartitions: 75,
  RaftVote: 1000,
  RaftAppendEntries: 1001,
  RaftInstallSnapshot: 1002,
  RaftTimeoutNow: 1003,
  RaftDescribeQuorum: 1004,
  BrokerRegistration: 1005,
  BrokerHeartbeat: 1006,
  RaftAddVoter: 1007,
  RaftRemoveVoter: 1008,
  AllocateProducerIds: 1009,
  AlterPartitionIsr: 1010,
  ControllerHandshake: 1011,
} as const;

/** The name of an API with a schema: 'Produce' | 'Fetch' | ... */
export type ApiName = keyof typeof ApiKey;

/** The key of an API with a schema: 0 | 1 | ... | 1011. */
export type ApiKey = (typeof ApiKey)[ApiName];
