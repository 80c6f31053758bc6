// Replication under an authorizer, on three nodes whose INTERNAL (inter-broker) listener is
// SASL_PLAINTEXT with SCRAM: the brokers' principal User:broker is not a super user; an ACL
// gives it the cluster (ClusterAction for follower fetches, Create and Alter for the admin
// requests it forwards to the controller). An RF3 topic fills its ISR, so followers passed
// the ClusterAction check by that ACL; mallory, authenticated on INTERNAL without it, posing
// as a follower is refused and moves nothing. Topics carry no ACLs and
// allow.everyone.if.no.acl.found is true, so the PLAINTEXT CLIENT listener serves as before.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { parseClientSecurity } from '../../src/security/client-config';
import { Cluster, startCluster } from '../helpers/cluster';
import { clusterAcl, kafkajsAcl, Op } from '../helpers/acls';
import { until } from '../helpers/wait';

const CONFIG = {
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
  'listener.name.internal.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
  'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
  'listener.name.internal.scram-sha-512.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
  'brook.security.bootstrap.scram.users':
    'SCRAM-SHA-512=[name=broker,password=broker-secret];SCRAM-SHA-512=[name=mallory,password=mallory-secret]',
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'allow.everyone.if.no.acl.found': 'true',
};

const MALLORY = parseClientSecurity({
  'security.protocol': 'SASL_PLAINTEXT',
  'sasl.mechanism': 'SCRAM-SHA-512',
  'sasl.username': 'mallory',
  'sasl.password': 'mallory-secret',
});

function spoofedFetch(topic: string, replicaId: number) {
  return {
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          { partition: 0, currentLeaderEpoch: -1, fetchOffset: 1_000_000, logStartOffset: -1, partitionMaxBytes: 1024 },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

test('followers replicate by a ClusterAction ACL; a principal without it posing as one is refused', async () => {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({ size: 3, internalListener: true, config: CONFIG });
    const c = cluster;
    // No ACL on the cluster yet: everyone may Alter it, so the first ACL can be created.
    const admin = new Kafka({
      brokers: c.bootstrap(),
      clientId: 'authz-replication',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      await admin.createAcls({ acl: [kafkajsAcl(clusterAcl('broker', Op.ALL))] });
    } finally {
      await admin.disconnect();
    }
    const state = await c.createTopicInSync('authz-rf3', 3);
    assert.equal([...state.isr].sort(), [1, 2, 3]);

    const leader = state.leader;
    const follower = state.replicas.find((id) => id !== leader)!;
    const connection = new KafkaConnection({
      host: '127.0.0.1',
      port: c.internalPorts.get(leader)!,
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 5000,
      security: MALLORY,
    });
    await connection.connect();
    try {
      // Every node applies the ACL from the metadata log: poll until the leader has.
      const answer = await until(
        async () => {
          const a = await connection.request(ApiKey.Fetch, 12, spoofedFetch('authz-rf3', follower));
          return a.responses[0].partitions[0].errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED ? a : null;
        },
        { what: 'the leader refusing mallory as a follower' },
      );
      assert.is(answer.errorCode, ErrorCode.NONE);
    } finally {
      connection.close();
    }
    assert.equal([...((await c.metadata('authz-rf3'))?.isr ?? [])].sort(), [1, 2, 3]);
  } finally {
    await cluster?.stopAll();
  }
});

test.run();
