// Raft messages of the metadata quorum, served on the controller listener with the same
// framing and headers as the Kafka port (so `brook frame` and nc work there too). Brook's
// own API keys, from 1000 up, away from Kafka's. All flexible from version 0.
//
// Terms are int64 on the wire (they were int32 before ControllerHandshake existed; nodes of
// that layout cannot talk to these, which the handshake makes explicit: an older node
// never completes it). These APIs are Brook-internal: every node of a cluster runs the
// same release, so the version numbers were not bumped.
//
//   1000 RaftVote            candidate -> voters (pre-vote: same message, preVote = true)
//   1001 RaftAppendEntries   leader -> followers and observers (also the heartbeat)
//   1002 RaftInstallSnapshot leader -> a follower behind the leader's log start, in chunks
//   1003 RaftTimeoutNow      leader -> its chosen successor (leadership transfer)
//   1004 RaftDescribeQuorum  anyone -> any node: leader, term, commit index, voter lag
//   1005 BrokerRegistration  broker -> active controller
//   1006 BrokerHeartbeat     broker -> active controller
//   1007 RaftAddVoter        operator -> any node (answered by the leader): promote a node
//   1008 RaftRemoveVoter     operator -> any node (answered by the leader): demote a voter
//   1009 AllocateProducerIds broker -> active controller: a block of producer ids
//   1010 AlterPartitionIsr   partition leader -> active controller: a new ISR
//   1011 ControllerHandshake any client -> any node, first on every connection when the
//                            cluster has a secret: mutual challenge-response (HMAC-SHA256)

import { ApiKey } from '../api-keys';
import { array, defineApi, field } from '../schema';

export const RaftVote = defineApi({
  apiKey: ApiKey.RaftVote,
  name: 'RaftVote',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('term', 'int64'),
    field('candidateId', 'int32'),
    field('lastLogIndex', 'int64'),
    field('lastLogTerm', 'int64'),
    field('preVote', 'bool'),
    field('leadershipTransfer', 'bool'),
  ],
  response: [
    field('errorCode', 'int16'),
    field('term', 'int64'),
    field('voteGranted', 'bool'),
    field('preVote', 'bool'),
  ],
});

export const RaftAppendEntries = defineApi({
  apiKey: ApiKey.RaftAppendEntries,
  name: 'RaftAppendEntries',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('term', 'int64'),
    field('leaderId', 'int32'),
    field('prevLogIndex', 'int64'),
    field('prevLogTerm', 'int64'),
    field('leaderCommit', 'int64'),
    // kind 0: metadata records; kind 1: the new voter set (a membership change).
    array('entries', [field('term', 'int64'), field('kind', 'int8'), field('data', 'bytes')]),
  ],
  response: [
    field('errorCode', 'int16'),
    field('term', 'int64'),
    field('success', 'bool'),
    field('matchIndex', 'int64'),
    field('conflictTerm', 'int64', { default: -1 }),
    field('conflictIndex', 'int64', { default: -1 }),
  ],
});

export const RaftInstallSnapshot = defineApi({
  apiKey: ApiKey.RaftInstallSnapshot,
  name: 'RaftInstallSnapshot',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('term', 'int64'),
    field('leaderId', 'int32'),
    field('lastIncludedIndex', 'int64'),
    field('lastIncludedTerm', 'int64'),
    // The byte stream: [voter set length int32][voter set][metadata image records].
    field('position', 'int64'),
    field('totalBytes', 'int64'),
    field('data', 'bytes'),
    field('done', 'bool'),
  ],
  response: [
    field('errorCode', 'int16'),
    field('term', 'int64'),
    field('nextPosition', 'int64'),
    // Set on the answer to the last chunk, once the snapshot is installed.
    field('success', 'bool'),
    field('matchIndex', 'int64'),
  ],
});

export const RaftTimeoutNow = defineApi({
  apiKey: ApiKey.RaftTimeoutNow,
  name: 'RaftTimeoutNow',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('clusterId', 'string'), field('term', 'int64'), field('leaderId', 'int32')],
  response: [field('errorCode', 'int16'), field('term', 'int64')],
});

export const RaftDescribeQuorum = defineApi({
  apiKey: ApiKey.RaftDescribeQuorum,
  name: 'RaftDescribeQuorum',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [],
  response: [
    field('errorCode', 'int16'),
    field('leaderId', 'int32'),
    field('term', 'int64'),
    field('commitIndex', 'int64'),
    array('voters', [field('nodeId', 'int32'), field('matchIndex', 'int64'), field('lastContactMs', 'int64')]),
    array('observers', [field('nodeId', 'int32'), field('matchIndex', 'int64'), field('lastContactMs', 'int64')]),
    field('clusterId', 'string'),
  ],
});

/** A broker joining the cluster (sent to the active controller's controller port). */
export const BrokerRegistration = defineApi({
  apiKey: ApiKey.BrokerRegistration,
  name: 'BrokerRegistration',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('brokerId', 'int32'),
    field('incarnationId', 'uuid'),
    field('host', 'string'),
    field('port', 'int32'),
    field('rack', 'string', { nullableVersions: '0+', default: null }),
    // This node's controller listener: a broker outside the voters follows the metadata
    // log there as an observer.
    field('controllerHost', 'string'),
    field('controllerPort', 'int32'),
    // Every advertised listener (Kafka's security protocol ids); host and port above repeat
    // the inter-broker one. Tagged, so a registration without it reads as one PLAINTEXT
    // listener named PLAINTEXT at host:port.
    array(
      'listeners',
      [field('name', 'string'), field('host', 'string'), field('port', 'uint16'), field('securityProtocol', 'int16')],
      { taggedVersions: '0+', tag: 0, default: [] },
    ),
  ],
  response: [field('errorCode', 'int16'), field('brokerEpoch', 'int64'), field('leaderId', 'int32')],
});

/** A registered broker's liveness and catch-up report; the answer says whether it is fenced. */
export const BrokerHeartbeat = defineApi({
  apiKey: ApiKey.BrokerHeartbeat,
  name: 'BrokerHeartbeat',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('brokerId', 'int32'),
    field('brokerEpoch', 'int64'),
    field('currentMetadataOffset', 'int64'),
    field('wantFence', 'bool'),
    field('wantShutDown', 'bool'),
  ],
  response: [
    field('errorCode', 'int16'),
    field('isCaughtUp', 'bool'),
    field('isFenced', 'bool'),
    field('shouldShutDown', 'bool'),
    field('leaderId', 'int32'),
  ],
});

const membershipResponse = [
  field('errorCode', 'int16'),
  field('errorMessage', 'string', { nullableVersions: '0+', default: null }),
  field('leaderId', 'int32'),
  field('leaderHost', 'string', { nullableVersions: '0+', default: null }),
  field('leaderPort', 'int32', { default: -1 }),
];

/** Makes a node a voter (it must be registered and caught up on the metadata log). */
export const RaftAddVoter = defineApi({
  apiKey: ApiKey.RaftAddVoter,
  name: 'RaftAddVoter',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('clusterId', 'string'), field('voterId', 'int32')],
  response: membershipResponse,
});

/** Removes a voter from the quorum (it stays a broker and follows the log as an observer). */
export const RaftRemoveVoter = defineApi({
  apiKey: ApiKey.RaftRemoveVoter,
  name: 'RaftRemoveVoter',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('clusterId', 'string'), field('voterId', 'int32')],
  response: membershipResponse,
});

/** A block of producer ids for a broker's InitProducerId answers (committed as a ProducerIds record). */
export const AllocateProducerIds = defineApi({
  apiKey: ApiKey.AllocateProducerIds,
  name: 'AllocateProducerIds',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('clusterId', 'string'), field('brokerId', 'int32'), field('brokerEpoch', 'int64')],
  response: [
    field('errorCode', 'int16'),
    field('firstProducerId', 'int64'),
    field('count', 'int32'),
    field('leaderId', 'int32'),
  ],
});

/**
 * A partition leader's ISR change (shrink or expand), checked against its leader epoch and
 * the partition epoch so that a stale leader's request is refused; committed as a
 * PartitionChange record.
 */
export const AlterPartitionIsr = defineApi({
  apiKey: ApiKey.AlterPartitionIsr,
  name: 'AlterPartitionIsr',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    field('clusterId', 'string'),
    field('brokerId', 'int32'),
    field('brokerEpoch', 'int64'),
    field('topicId', 'uuid'),
    field('partition', 'int32'),
    field('leaderEpoch', 'int32'),
    field('partitionEpoch', 'int32'),
    array('newIsr', 'int32'),
  ],
  response: [
    field('errorCode', 'int16'),
    field('leaderId', 'int32'),
    field('leaderEpoch', 'int32', { default: -1 }),
    field('partitionEpoch', 'int32', { default: -1 }),
    array('isr', 'int32'),
  ],
});

/**
 * Mutual authentication of a controller-port connection with the cluster secret, in two
 * exchanges. Step 1: the client sends a fresh nonce and its node id (-1 for a tool); the
 * server answers its cluster id, node id, a fresh nonce and its proof. Step 2: the client,
 * having checked the server's proof, sends its own; the server answers NONE or closes the
 * connection. A proof is HMAC-SHA256(secret, role label, cluster id, client node id,
 * server node id, client nonce, server nonce), so neither side's proof can be replayed on
 * another connection or reflected back as the other side's.
 */
export const ControllerHandshake = defineApi({
  apiKey: ApiKey.ControllerHandshake,
  name: 'ControllerHandshake',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [field('step', 'int8'), field('nodeId', 'int32'), field('nonce', 'bytes'), field('proof', 'bytes')],
  response: [
    field('errorCode', 'int16'),
    field('clusterId', 'string'),
    field('nodeId', 'int32'),
    field('nonce', 'bytes'),
    field('proof', 'bytes'),
  ],
});
