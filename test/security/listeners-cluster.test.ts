// Named listeners end to end: a node with a CLIENT and an INTERNAL listener answers each
// client with the endpoints of the listener it came in on (kcat -L, FindCoordinator,
// DescribeCluster); SASL_PLAINTEXT and SSL client listeners beside a PLAINTEXT one; three nodes with separate client and inter-broker listeners replicate
// over the inter-broker one (kafkajs, acks=all); and bad listener configurations stop
// `brook server` with exit code 2 and one line.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { API_VERSIONS_V0, BrokerProcess, freePort, rawRequest, startBroker, tempDir } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { runBrook } from '../helpers/brook-cli';
import { Cluster, startCluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat') || fs.existsSync('/usr/local/bin/kcat');

async function request<T>(port: number, send: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port, requestTimeoutMs: 5000, connectTimeoutMs: 2000 });
  try {
    await connection.connect();
    return await send(connection);
  } finally {
    connection.close();
  }
}

/** The ports Metadata names when asked through `port`. */
async function metadataPorts(port: number): Promise<number[]> {
  const answer = await request(port, (c) =>
    c.request(ApiKey.Metadata, 9, { topics: [], allowAutoTopicCreation: false }),
  );
  return answer.brokers.map((b: { port: number }) => b.port).sort((a: number, b: number) => a - b);
}

test('one node, two listeners: each port hands out its own listener', async () => {
  const [client, internal, controller] = [await freePort(), await freePort(), await freePort()];
  let node: BrokerProcess | undefined;
  try {
    node = await startBroker({
      port: client,
      config: {
        listeners: `client://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
        'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'INTERNAL',
        'controller.listener.names': 'CONTROLLER',
        // CLIENT advertised explicitly, INTERNAL advertising its own address.
        'advertised.listeners': `CLIENT://127.0.0.1:${client}`,
      },
    });
    if (HAVE_KCAT) {
      const viaClient = await kcat(client, ['-L', '-m', '10']);
      assert.is(viaClient.code, 0, viaClient.stderr);
      assert.match(viaClient.stdout, ` 1 brokers:`);
      assert.match(viaClient.stdout, `broker 1 at 127.0.0.1:${client}`);
      assert.not.match(viaClient.stdout, `:${internal}`);
      const viaInternal = await kcat(internal, ['-L', '-m', '10']);
      assert.is(viaInternal.code, 0, viaInternal.stderr);
      assert.match(viaInternal.stdout, ` 1 brokers:`);
      assert.match(viaInternal.stdout, `broker 1 at 127.0.0.1:${internal}`);
      assert.not.match(viaInternal.stdout, `:${client}`);
    } else console.log('kcat not installed: skipping the kcat -L checks');
    // The controller port is no Kafka listener clients are told of.
    assert.equal(await metadataPorts(client), [client]);
    assert.equal(await metadataPorts(internal), [internal]);
    for (const port of [client, internal]) {
      const described = await request(port, (c) =>
        c.request(ApiKey.DescribeCluster, 0, { includeClusterAuthorizedOperations: false }),
      );
      assert.equal(
        described.brokers.map((b: { port: number }) => b.port),
        [port],
      );
      const coordinator = await until(
        () =>
          request(port, (c) => c.request(ApiKey.FindCoordinator, 1, { key: 'g', keyType: 0 })).then((a) =>
            a.errorCode === 0 ? a : null,
          ),
        { what: 'a group coordinator' },
      );
      assert.equal([coordinator.host, coordinator.port], ['127.0.0.1', port]);
    }
  } finally {
    await node?.stop();
  }
});

test('a SASL_PLAINTEXT client listener beside a PLAINTEXT inter-broker one (kcat, SASL PLAIN)', async () => {
  if (!HAVE_KCAT) {
    console.log('kcat not installed: skipping the SASL listener test');
    return;
  }
  const [client, internal, controller] = [await freePort(), await freePort(), await freePort()];
  let node: BrokerProcess | undefined;
  try {
    node = await startBroker({
      port: internal,
      config: {
        listeners: `CLIENT://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
        'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'INTERNAL',
        'controller.listener.names': 'CONTROLLER',
        // PLAIN checks the password against the SCRAM credential of the bootstrap user.
        'listener.name.client.sasl.enabled.mechanisms': 'PLAIN',
        'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=alice,password=alice-secret]',
      },
    });
    const sasl = (password: string) => [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      'sasl.username=alice',
      '-X',
      `sasl.password=${password}`,
    ];
    const listed = await kcat(client, ['-L', '-m', '10', ...sasl('alice-secret')]);
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, `broker 1 at 127.0.0.1:${client}`);
    const refused = await kcat(client, ['-L', '-m', '5', ...sasl('wrong')], undefined, 15000);
    assert.is.not(refused.code, 0, 'a wrong password is refused');
    // The PLAINTEXT listener needs no authentication and names its own port.
    assert.equal(await metadataPorts(internal), [internal]);
  } finally {
    await node?.stop();
  }
});

test('an SSL client listener beside a PLAINTEXT inter-broker one (kcat over TLS)', async () => {
  if (!HAVE_KCAT) {
    console.log('kcat not installed: skipping the SSL listener test');
    return;
  }
  const { files } = certFixture();
  const [client, internal, controller] = [await freePort(), await freePort(), await freePort()];
  let node: BrokerProcess | undefined;
  try {
    node = await startBroker({
      port: internal,
      config: {
        listeners: `CLIENT://127.0.0.1:${client},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}`,
        'listener.security.protocol.map': 'CLIENT:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'INTERNAL',
        'controller.listener.names': 'CONTROLLER',
        // The key store of the CLIENT listener alone.
        'listener.name.client.ssl.keystore.type': 'PEM',
        'listener.name.client.ssl.keystore.location': files.serverKeystore,
      },
    });
    const listed = await kcat(client, [
      '-L',
      '-m',
      '10',
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${files.caCert}`,
    ]);
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, `broker 1 at 127.0.0.1:${client}`);
    // Plaintext on the TLS port gets no answer; the PLAINTEXT listener answers in clear.
    const { frame } = await rawRequest(client, API_VERSIONS_V0, 2000);
    assert.is(frame, null);
    assert.equal(await metadataPorts(internal), [internal]);
  } finally {
    await node?.stop();
  }
});

/** Established TCP connections to local port `port` (from `ss`), or null when ss is missing. */
function establishedTo(port: number): number | null {
  try {
    const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
    return out.split('\n').filter((line) => line.trim() !== '').length;
  } catch {
    return null;
  }
}

test('three nodes with client and inter-broker listeners replicate over the inter-broker one', async () => {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({ size: 3, internalListener: true });
    const c = cluster;
    const clientPorts = c.ids.map((id) => c.kafkaPorts.get(id)!).sort((a, b) => a - b);
    const internalPorts = c.ids.map((id) => c.internalPorts.get(id)!).sort((a, b) => a - b);
    // Each node answers once it has applied all three registrations.
    for (const [port, expected] of [
      [clientPorts[0], clientPorts],
      [clientPorts[1], clientPorts],
      [internalPorts[2], internalPorts],
    ] as const)
      await until(async () => JSON.stringify(await metadataPorts(port)) === JSON.stringify(expected), {
        what: `port ${port} to name ${expected.join(', ')}`,
      });

    const state = await c.createTopicInSync('across-listeners', 3);
    const kafka = new Kafka({ brokers: c.bootstrap(), clientId: 'listeners-test', logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < 20; i++)
        await producer.send({ topic: 'across-listeners', acks: -1, messages: [{ value: `m${i}` }] });
    } finally {
      await producer.disconnect();
    }
    const after = await c.metadata('across-listeners');
    assert.equal(after?.isr.length, 3, 'every replica stays in sync');
    assert.is(after?.leader, state.leader);
    // The followers fetch from the leader's INTERNAL port (kafkajs only knows CLIENT ports).
    const leaderInternal = c.internalPorts.get(state.leader)!;
    const established = establishedTo(leaderInternal);
    if (established === null) console.log('ss not available: skipping the connection count on the INTERNAL port');
    else assert.ok(established >= 2, `the two followers are connected to INTERNAL (${established})`);
    const offsets = await until(
      () =>
        request(c.kafkaPorts.get(state.leader)!, (conn) =>
          conn.request(ApiKey.ListOffsets, 1, {
            replicaId: -1,
            topics: [{ name: 'across-listeners', partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
          }),
        ).then((a) => (a.topics[0].partitions[0].offset === 20 ? a : null)),
      { what: 'the high watermark at 20' },
    );
    assert.ok(offsets);
  } finally {
    await cluster?.stopAll();
  }
});

test('a broker without the client listener is left out, and its partitions are LISTENER_NOT_FOUND', async () => {
  // Node 1 has CLIENT and INTERNAL; node 2 only INTERNAL. Both replicate over INTERNAL.
  const ports = { client: await freePort(), internal: [await freePort(), await freePort()] };
  const controllers = [await freePort(), await freePort()];
  const voters = `1@127.0.0.1:${controllers[0]},2@127.0.0.1:${controllers[1]}`;
  const common = {
    'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'controller.listener.names': 'CONTROLLER',
  };
  const nodes: BrokerProcess[] = [];
  try {
    const started = await Promise.all([
      startBroker({
        port: ports.client,
        readyTimeoutMs: 40000,
        config: {
          ...common,
          listeners: `CLIENT://127.0.0.1:${ports.client},INTERNAL://127.0.0.1:${ports.internal[0]},CONTROLLER://127.0.0.1:${controllers[0]}`,
        },
        extraArgs: ['--node-id', '1', '--voters', voters],
      }),
      startBroker({
        port: ports.internal[1],
        readyTimeoutMs: 40000,
        config: {
          ...common,
          listeners: `INTERNAL://127.0.0.1:${ports.internal[1]},CONTROLLER://127.0.0.1:${controllers[1]}`,
        },
        extraArgs: ['--node-id', '2', '--voters', voters],
      }),
    ]);
    nodes.push(...started);
    await until(async () => (await metadataPorts(ports.internal[0])).length === 2, { what: 'both brokers registered' });
    assert.equal(await metadataPorts(ports.client), [ports.client], 'node 2 has no CLIENT listener');
    // Partition 0 on node 1, partition 1 on node 2.
    const created = await request(ports.internal[0], (c) =>
      c.request(ApiKey.CreateTopics, 4, {
        topics: [
          {
            name: 'split',
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [
              { partitionIndex: 0, brokerIds: [1] },
              { partitionIndex: 1, brokerIds: [2] },
            ],
            configs: [],
          },
        ],
        timeoutMs: 10000,
      }),
    );
    assert.is(created.topics[0].errorCode, 0, JSON.stringify(created.topics[0]));
    const partitionsVia = async (port: number, version: number) => {
      const answer = await request(port, (c) =>
        c.request(ApiKey.Metadata, version, { topics: [{ name: 'split' }], allowAutoTopicCreation: false }),
      );
      return answer.topics[0].partitions
        .map((p: { partitionIndex: number; errorCode: number; leaderId: number }) => [
          p.partitionIndex,
          p.errorCode,
          p.leaderId,
        ])
        .sort((a: number[], b: number[]) => a[0] - b[0]);
    };
    await until(async () => (await partitionsVia(ports.internal[0], 9)).every((p: number[]) => p[2] > 0), {
      what: 'both partitions led',
    });
    assert.equal(await partitionsVia(ports.internal[0], 9), [
      [0, 0, 1],
      [1, 0, 2],
    ]);
    // LISTENER_NOT_FOUND (72) from v6, LEADER_NOT_AVAILABLE (5) before, as Kafka answers.
    assert.equal(await partitionsVia(ports.client, 9), [
      [0, 0, 1],
      [1, 72, -1],
    ]);
    assert.equal(await partitionsVia(ports.client, 5), [
      [0, 0, 1],
      [1, 5, -1],
    ]);
    // KIP-951: a produce to node 1 for node 2's partition names the leader, with its endpoint
    // on the producer's listener only when the leader has that listener.
    const produceVia = (port: number) =>
      request(port, (c) =>
        c.request(ApiKey.Produce, 12, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [
            {
              name: 'split',
              partitionData: [{ index: 1, records: encodeRecordBatchSync({ records: [{ value: 'x' }] }) }],
            },
          ],
        }),
      );
    const viaInternal = await produceVia(ports.internal[0]);
    assert.is(viaInternal.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.is(viaInternal.responses[0].partitionResponses[0].currentLeader.leaderId, 2);
    assert.equal(
      viaInternal.nodeEndpoints.map((e: { nodeId: number; port: number }) => [e.nodeId, e.port]),
      [[2, ports.internal[1]]],
    );
    const viaClient = await produceVia(ports.client);
    assert.is(viaClient.responses[0].partitionResponses[0].currentLeader.leaderId, 2);
    assert.equal(viaClient.nodeEndpoints, [], 'node 2 has no CLIENT endpoint to give');
  } finally {
    for (const node of nodes) await node.stop();
  }
});

const BAD_CONFIGS: [string, Record<string, string>, string[], RegExp][] = [
  ['an unknown protocol', { 'listener.security.protocol.map': 'PLAINTEXT:TCP' }, [], /unknown security protocol "TCP"/],
  ['a name missing from the map', { listeners: 'CLIENT://127.0.0.1:0' }, [], /CLIENT has no security protocol/],
  [
    'a duplicate port',
    { listeners: 'PLAINTEXT://127.0.0.1:19092,SASL_PLAINTEXT://127.0.0.1:19092' },
    [],
    /port 19092 is used by two listeners/,
  ],
  [
    'an inter-broker listener that is not a listener',
    { listeners: 'PLAINTEXT://127.0.0.1:0', 'inter.broker.listener.name': 'INTERNAL' },
    [],
    /INTERNAL is not one of the broker listeners/,
  ],
  [
    'an advertised name that is not a listener',
    { listeners: 'PLAINTEXT://127.0.0.1:0', 'advertised.listeners': 'SSL://h:1' },
    [],
    /SSL is not one of listeners/,
  ],
  [
    'an advertised controller listener',
    {
      listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
      'controller.listener.names': 'CONTROLLER',
      'advertised.listeners': 'CONTROLLER://h:1',
    },
    [],
    /controller listener, which is not advertised/,
  ],
  ['SSL without a keystore', { listeners: 'SSL://127.0.0.1:0' }, [], /needs a keystore/],
  [
    'a TLS listener whose key store cannot be read',
    { listeners: 'SSL://127.0.0.1:0', 'listener.name.ssl.ssl.keystore.location': '/nonexistent/keystore.pem' },
    [],
    /listener SSL/,
  ],
  [
    'a JKS key store',
    { listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.location': '/x.jks', 'ssl.keystore.type': 'JKS' },
    [],
    /listener SSL.*JKS/,
  ],
  ['GSSAPI', { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'GSSAPI' }, [], /GSSAPI/],
  ['listeners and --listen', { listeners: 'PLAINTEXT://127.0.0.1:0' }, ['--listen', '127.0.0.1:0'], /--listen/],
];

test('bad listener configurations stop brook server with exit code 2 and one line', async () => {
  const dir = tempDir();
  for (const [what, keys, flags, message] of BAD_CONFIGS) {
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(
      file,
      Object.entries(keys)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const run = await runBrook([
      'server',
      '--config',
      file,
      '--data-dir',
      path.join(dir, 'data'),
      '--http',
      'off',
      ...flags,
    ]);
    assert.is(run.code, 2, `${what}: ${run.stderr}`);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    assert.is(lines.length, 1, `${what}: one line: ${run.stderr}`);
    assert.match(lines[0], /^brook: /);
    assert.match(lines[0], message, what);
  }
});

test.run();
