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
import { certFixture } from '../helpers/certs';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

const SECURE_INTERNAL = {
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
  'listener.name.internal.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
  'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
  'listener.name.internal.scram-sha-512.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
  'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=broker,password=broker-secret]',
};

async function withConnection<T>(port: number, work: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 10_000, connectTimeoutMs: 2000 });
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
