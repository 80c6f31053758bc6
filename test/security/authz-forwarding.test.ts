// Admin writes are authorized on the node that receives them, before they are forwarded:
// a forwarded request reaches the active controller as the forwarding node's own principal
// (a super user), so a check left to the controller would let anyone through. Two nodes with
// a SASL_PLAINTEXT client listener and no ACLs at all (allow.everyone.if.no.acl.found=false):
// alice is refused CreateTopics, DeleteTopics, CreatePartitions, IncrementalAlterConfigs,
// AlterPartitionReassignments and AlterUserScramCredentials on both nodes (one of them
// forwards), and nothing changes; the super user's requests go through either node.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { saltedPassword } from '../../src/security/scram';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

const PASSWORDS = { admin: 'admin-secret', alice: 'alice-secret' };

let cluster: Cluster;
const connections: KafkaConnection[] = [];

test.before(async () => {
  cluster = await startCluster({
    size: 2,
    internalListener: true,
    config: {
      'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'brook.security.bootstrap.scram.users': Object.entries(PASSWORDS)
        .map(([name, password]) => `SCRAM-SHA-512=[name=${name},password=${password}]`)
        .join(';'),
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // The plaintext inter-broker listener's principal is ANONYMOUS: the nodes' own.
      'super.users': 'User:admin;User:ANONYMOUS',
    },
  });
});

test.after(async () => {
  for (const c of connections) c.close();
  await cluster?.stopAll();
});

async function connect(id: number, user: 'admin' | 'alice'): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    clientId: `authz-forwarding-${user}`,
    requestTimeoutMs: 15_000,
    security: {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'SCRAM-SHA-512', username: user, password: PASSWORDS[user] },
    },
  });
  // The bootstrap users are committed once the quorum has a leader.
  await until(
    () =>
      connection.connect().then(
        () => true,
        () => false,
      ),
    { what: `${user} to authenticate on node ${id}`, timeoutMs: 20_000, intervalMs: 250 },
  );
  connections.push(connection);
  return connection;
}

function creation(name: string) {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] };
}

test('the super user creates a topic through either node', async () => {
  for (const id of cluster.ids) {
    const admin = await connect(id, 'admin');
    const created = await until(
      async () => {
        const answer = await admin.request(ApiKey.CreateTopics, 7, {
          topics: [creation(`orders-${id}`)],
          timeoutMs: 10_000,
          validateOnly: false,
        });
        const code = answer.topics[0].errorCode;
        return code === ErrorCode.NOT_CONTROLLER ? null : answer.topics[0];
      },
      { what: 'an active controller', timeoutMs: 20_000, intervalMs: 250 },
    );
    assert.is(created.errorCode, ErrorCode.NONE, `through node ${id}: ${created.errorMessage}`);
  }
});

test('a principal without ACLs is refused on both nodes and nothing changes', async () => {
  const admin = await connect(1, 'admin');
  const exists = async (name: string) => {
    const answer = await admin.request(ApiKey.CreateTopics, 7, {
      topics: [creation(name)],
      timeoutMs: 10_000,
      validateOnly: true,
    });
    return answer.topics[0].errorCode === ErrorCode.TOPIC_ALREADY_EXISTS;
  };
  for (const id of cluster.ids) {
    const alice = await connect(id, 'alice');
    const created = await alice.request(ApiKey.CreateTopics, 7, {
      topics: [creation(`alice-${id}`)],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.is(created.topics[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `node ${id}`);
    assert.not.ok(await exists(`alice-${id}`), `node ${id} created nothing`);

    const deleted = await alice.request(ApiKey.DeleteTopics, 5, { topicNames: ['orders-1'], timeoutMs: 10_000 });
    assert.is(deleted.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `node ${id}`);

    const grown = await alice.request(ApiKey.CreatePartitions, 3, {
      topics: [{ name: 'orders-1', count: 3, assignments: null }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.is(grown.results[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `node ${id}`);

    const altered = await alice.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders-1',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
        },
      ],
      validateOnly: false,
    });
    assert.is(altered.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `node ${id}`);

    const reassigned = await alice.request(ApiKey.AlterPartitionReassignments, 0, {
      timeoutMs: 10_000,
      topics: [{ name: 'orders-1', partitions: [{ partitionIndex: 0, replicas: null }] }],
    });
    assert.is(reassigned.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, `node ${id}`);

    const salt = randomBytes(32);
    const scram = await alice.request(ApiKey.AlterUserScramCredentials, 0, {
      deletions: [],
      upsertions: [
        {
          name: 'alice',
          mechanism: 2,
          iterations: 4096,
          salt,
          saltedPassword: saltedPassword('SCRAM-SHA-512', 'taken-over', salt, 4096),
        },
      ],
    });
    assert.is(scram.results[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, `node ${id}`);
  }
  assert.ok(await exists('orders-1'), 'not deleted');
  const described = await admin.request(ApiKey.DescribeConfigs, 4, {
    resources: [{ resourceType: 2, resourceName: 'orders-1', configurationKeys: ['retention.ms'] }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  assert.is(described.results[0].configs[0].configSource, 5, 'retention.ms still the default');
  // alice's password is unchanged: she still authenticates with it.
  await connect(2, 'alice');
});

test.run();
