// Inter-broker connections with the broker's own client security: three nodes whose
// INTERNAL (inter-broker) listener is SASL_PLAINTEXT with SCRAM-SHA-512 (the broker's
// credentials from listener.name.internal.scram-sha-512.sasl.jaas.config, its user from
// brook.security.bootstrap.scram.users) beside a PLAINTEXT client listener. Followers fetch
// over INTERNAL, so a full ISR proves they authenticated; a CreateTopics sent to a node that
// is not the controller is forwarded over INTERNAL too. A client without SASL is refused there.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { ClientSecurity, parseClientSecurity } from '../../src/security/client-config';
import { certFixture } from '../helpers/certs';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

const SECURE_INTERNAL = {
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
  'listener.name.internal.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
  'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
  'listener.name.internal.scram-sha-512.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
  'brook.security.bootstrap.scram.users':
    'SCRAM-SHA-512=[name=broker,password=broker-secret];SCRAM-SHA-512=[name=mallory,password=mallory-secret]',
  // The brokers' principal: follower fetches are believed only from it.
  'super.users': 'User:broker',
};

async function withConnection<T>(
  port: number,
  work: (c: KafkaConnection) => Promise<T>,
  security?: ClientSecurity,
): Promise<T> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
    security,
  });
  try {
    await connection.connect();
    return await work(connection);
  } finally {
    connection.close();
  }
}

test('followers fetch and admin requests are forwarded over a SASL_PLAINTEXT inter-broker listener', async () => {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({ size: 3, internalListener: true, config: SECURE_INTERNAL });
    const c = cluster;
    // Replication factor 3: the ISR fills only if both followers authenticated to the leader.
    const state = await c.createTopicInSync('secured-replication', 3);
    assert.equal([...state.isr].sort(), [1, 2, 3]);

    // A node that is not the controller forwards CreateTopics to it over INTERNAL.
    const controller = await until(
      () => c.metadata('secured-replication').then((s) => (s && s.controller > 0 ? s.controller : null)),
      {
        what: 'the controller',
      },
    );
    const other = c.ids.find((id) => id !== controller)!;
    const created = await withConnection(c.kafkaPorts.get(other)!, (conn) =>
      conn.request(ApiKey.CreateTopics, 4, {
        topics: [{ name: 'forwarded', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
        timeoutMs: 15_000,
        validateOnly: false,
      }),
    );
    assert.is(created.topics[0].errorCode, ErrorCode.NONE, JSON.stringify(created.topics[0]));
    await until(async () => ((await c.metadata('forwarded'))?.isr.length === 3 ? true : null), {
      what: 'the forwarded topic with a full ISR',
    });

    // A follower fetch is believed only on INTERNAL and only from the brokers' principal:
    // the same request with a follower's replica id, over the PLAINTEXT client listener or
    // authenticated on INTERNAL as another user, is refused as Kafka refuses a follower
    // fetch without CLUSTER_ACTION, and the ISR stays as it was.
    const leader = state.leader;
    const follower = [...state.isr].find((id) => id !== leader)!;
    const spoofed = {
      replicaId: follower,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'secured-replication',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 1_000_000,
              logStartOffset: -1,
              partitionMaxBytes: 1024,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    };
    const overClient = await withConnection(c.kafkaPorts.get(leader)!, (conn) =>
      conn.request(ApiKey.Fetch, 12, spoofed),
    );
    assert.is(overClient.responses[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const mallory = parseClientSecurity({
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.username': 'mallory',
      'sasl.password': 'mallory-secret',
    });
    const overInternal = await withConnection(
      c.internalPorts.get(leader)!,
      (conn) => conn.request(ApiKey.Fetch, 12, spoofed),
      mallory,
    );
    assert.is(overInternal.responses[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal([...((await c.metadata('secured-replication'))?.isr ?? [])].sort(), [1, 2, 3]);

    // The INTERNAL listener does require SASL: a client without it is closed after ApiVersions.
    const refused = await withConnection(c.internalPorts.get(other)!, (conn) =>
      conn.request(ApiKey.Metadata, 9, { topics: [], allowAutoTopicCreation: false }),
    ).then(
      () => null,
      (error: Error) => error,
    );
    assert.ok(refused, 'a plaintext client was served on the SASL listener');
    assert.match(refused!.message, /check security.protocol/);
  } finally {
    await cluster?.stopAll();
  }
});

test('a SASL_SSL inter-broker listener: followers authenticate over TLS with the listener trust store', async () => {
  const { files } = certFixture();
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({
      size: 3,
      internalListener: true,
      config: {
        ...SECURE_INTERNAL,
        'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_SSL,CONTROLLER:PLAINTEXT',
        'listener.name.internal.ssl.keystore.location': files.serverKeystore,
        'listener.name.internal.ssl.truststore.location': files.caCert,
      },
    });
    const state = await cluster.createTopicInSync('replicated-over-tls', 3);
    assert.equal([...state.isr].sort(), [1, 2, 3]);
  } finally {
    await cluster?.stopAll();
  }
});

test.run();
