// A cluster secured on every port, end to end with real processes (helpers/secure-cluster.ts):
// SASL_SSL client and inter-broker listeners, a mutual-TLS controller listener, bootstrap
// SCRAM users. An idempotent acks=all kafkajs producer (TLS + SCRAM-SHA-512) writes while
// the partition leader is killed with SIGKILL and started again; every acknowledged record
// is then found exactly once at its offset (kcat and kafkajs over SASL_SSL) and the three
// replicas' logs are byte-identical. Then, while the cluster keeps serving, these are
// refused: a wrong password (kcat), plaintext on the SASL_SSL port, TLS clients of an
// untrusted CA, the controller protocol in plaintext or from a trusted certificate outside
// super.users (no vote, registration or DescribeQuorum, no term moved), and Fetches by an
// authenticated client principal under a stopped follower's replica id, on the client and
// on the inter-broker listener (no high watermark moved, no ISR joined).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import { Producer } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { connectController } from '../../src/raft/handshake';
import { API_VERSIONS_V0, rawRequest } from '../helpers/broker-process';
import { certFixture } from '../helpers/certs';
import { kcat } from '../helpers/kcat';
import { replicasIdentical, withTimeout, Writer } from '../helpers/replication-scenario';
import { SecureCluster } from '../helpers/secure-cluster';
import { delay, until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat') || fs.existsSync('/usr/local/bin/kcat');
const TOPIC = 'secured';
let cluster: SecureCluster;
/** A producer for "the cluster still serves" after each refusal. */
let probe: Producer | undefined;
let probes = 0;

test.before(async () => {
  cluster = await SecureCluster.create({
    size: 3,
    config: {
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '1',
      // A follower stopped with SIGSTOP stays in the ISR for 3 s (the window in which the
      // impersonation test judges the high watermark) and is fenced only after 20 s (so it
      // is out of the ISR, yet still a registered broker, for a while). A killed node is
      // fenced after brook.broker.disconnect.grace.ms, not this.
      'replica.lag.time.max.ms': '3000',
      'broker.session.timeout.ms': '20000',
    },
  });
});

test.after(async () => {
  await probe?.disconnect().catch(() => undefined);
  await cluster?.stopAll();
});

/** One acks=all record through a long-lived SASL_SSL producer: the cluster still serves. */
async function stillServes(what: string): Promise<void> {
  if (!probe) {
    probe = cluster.kafka('secure-probe').producer({ allowAutoTopicCreation: false });
    await withTimeout(probe.connect(), 10000);
  }
  const sent = await withTimeout(
    probe.send({ topic: TOPIC, acks: -1, messages: [{ value: `probe-${probes++}` }] }),
    10000,
  ).catch((error: Error) => error);
  if (sent instanceof Error) assert.unreachable(`the cluster stopped serving after ${what}: ${sent.message}`);
  else assert.ok(Number(sent[0].baseOffset) >= 0, what);
}

/** The whole partition read with kcat over SASL_SSL from node `id`: offset -> value. */
async function readWithKcat(id: number): Promise<Map<number, string>> {
  const read = await kcat(
    cluster.clientPorts.get(id)!,
    [
      '-C',
      '-t',
      TOPIC,
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%o:%s\n',
      '-m',
      '10',
      ...cluster.kcatSecurity(),
    ],
    undefined,
    30000,
  );
  assert.is(read.code, 0, `kcat over SASL_SSL: ${read.stderr}`);
  const stored = new Map<number, string>();
  for (const line of read.stdout.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) stored.set(Number(line.slice(0, colon)), line.slice(colon + 1));
  }
  return stored;
}

/** The whole partition read with a kafkajs group consumer over SASL_SSL: offset -> value. */
async function readWithKafkajs(count: number): Promise<Map<number, string>> {
  const consumer = cluster
    .kafka('secure-reader')
    .consumer({ groupId: `secure-reader-${randomBytes(4).toString('hex')}` });
  const read = new Map<number, string>();
  try {
    await withTimeout(consumer.connect(), 10000);
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        read.set(Number(message.offset), message.value?.toString() ?? '');
      },
    });
    await until(() => read.size >= count, {
      what: () => `kafkajs to read ${count} records (has ${read.size})`,
      timeoutMs: 20000,
    });
  } finally {
    await withTimeout(consumer.disconnect(), 5000).catch(() => undefined);
  }
  return read;
}

test('RF3 over SASL_SSL: the leader killed mid-stream loses no acknowledged record', async () => {
  const admin = cluster.kafka('secure-admin').admin();
  await withTimeout(admin.connect(), 10000);
  try {
    await withTimeout(
      admin.createTopics({
        topics: [
          {
            topic: TOPIC,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '2' }],
          },
        ],
      }),
      20000,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const before = await until(
    async () => {
      const s = await cluster.metadata(TOPIC);
      return s && s.leader > 0 && s.isr.length === 3 ? s : null;
    },
    { what: 'the topic led with a full ISR' },
  );

  const writer = new Writer({
    topic: TOPIC,
    newProducer: () =>
      cluster
        .kafka('secure-writer', 'admin', {
          requestTimeout: 3000,
          connectionTimeout: 2000,
          retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
        })
        .producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
        }),
  });
  await writer.connect();
  writer.run();
  try {
    await until(() => writer.acked.size >= 40, { what: () => `40 acknowledgements (${writer.acked.size})` });

    // SIGKILL the leader; writing goes on until the new leader acknowledges.
    const victim = before.leader;
    const killedAt = Date.now();
    const ackedBeforeKill = writer.acked.size;
    await cluster.kill9(victim);
    const after = await until(
      async () => {
        const s = await cluster.metadata(TOPIC);
        return s && s.leader > 0 && s.leader !== victim && !s.isr.includes(victim) ? s : null;
      },
      { what: `a leader other than node ${victim}`, timeoutMs: 20000 },
    );
    await until(() => writer.firstAckAfter(killedAt, 0) !== null && writer.acked.size >= ackedBeforeKill + 20, {
      what: () => `20 acknowledgements after the kill (${writer.acked.size - ackedBeforeKill})`,
      timeoutMs: 20000,
    });

    // The killed node comes back, catches up and rejoins the ISR while writing goes on.
    cluster.retire(victim);
    await cluster.start(victim);
    await until(
      async () => {
        const s = await cluster.metadata(TOPIC);
        return s && s.isr.length === 3;
      },
      { what: `node ${victim} back in the ISR`, timeoutMs: 30000 },
    );
    const ackedAtReturn = writer.acked.size;
    await until(() => writer.acked.size >= ackedAtReturn + 10, {
      what: 'acknowledgements after the restart',
      timeoutMs: 15000,
    });
    await writer.stop();
    assert.ok(after.leader !== victim);
  } finally {
    await writer.stop().catch(() => undefined);
  }

  // Every replica holds the same bytes: same records at the same offsets everywhere.
  await until(
    () =>
      replicasIdentical(
        cluster.ids.map((id) => cluster.dirs.get(id)!),
        TOPIC,
      ),
    { what: "the three replicas' logs to be byte-identical", timeoutMs: 20000 },
  );
  const leader = (await cluster.metadata(TOPIC))!.leader;
  const stored = HAVE_KCAT ? await readWithKcat(leader) : null;
  if (!stored) console.log('kcat not installed: the kcat read is skipped');
  const consumed = await readWithKafkajs(stored?.size ?? writer.acked.size);
  const log = stored ?? consumed;
  const count = new Map<string, number>();
  for (const value of log.values()) count.set(value, (count.get(value) ?? 0) + 1);
  const problems: string[] = [];
  for (const [value, offset] of writer.acked) {
    if (log.get(offset) !== value)
      problems.push(`${value} acknowledged at ${offset}, stored there: ${log.get(offset)}`);
    if ((count.get(value) ?? 0) !== 1) problems.push(`${value} stored ${count.get(value) ?? 0} times`);
  }
  assert.equal(problems.slice(0, 10), [], `${problems.length} problems among ${writer.acked.size} acknowledged`);
  if (stored) {
    const differ = [...stored].filter(([offset, value]) => consumed.get(offset) !== value);
    assert.equal(differ.slice(0, 5), [], 'kafkajs reads what kcat reads');
  }
});

test('refused: kcat over SASL_SSL with a wrong password', async () => {
  if (!HAVE_KCAT) return console.log('kcat not installed: skipping the wrong-password test');
  const port = cluster.clientPorts.get(1)!;
  const refused = await kcat(
    port,
    ['-L', '-m', '5', ...cluster.kcatSecurity('admin', 'not-the-password')],
    undefined,
    15000,
  );
  assert.is.not(refused.code, 0, 'a wrong password is refused');
  assert.match(refused.stderr, /auth/i);
  assert.not.match(refused.stderr, cluster.passwords.admin);
  const listed = await kcat(port, ['-L', '-m', '10', ...cluster.kcatSecurity()]);
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, ' 3 brokers:');
  await until(() => /authentication failed|SASL_AUTHENTICATION_FAILED|failed authentication/i.test(cluster.logs(1)), {
    what: 'the refusal in the log',
    timeoutMs: 5000,
  });
  for (const id of cluster.ids)
    for (const password of ['not-the-password', ...Object.values(cluster.passwords)])
      assert.not.ok(cluster.logs(id).includes(password), `node ${id} logged a password`);
  await stillServes('a wrong password');
});

test('refused: a plaintext client on the SASL_SSL port', async () => {
  for (const id of cluster.ids) {
    const answer = await rawRequest(cluster.clientPorts.get(id)!, API_VERSIONS_V0, 5000);
    assert.ok(answer.frame === null, `node ${id} answered plaintext on its SASL_SSL port`);
    assert.ok(answer.closed, `node ${id} closed the plaintext connection`);
  }
  const plain = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.clientPorts.get(2)!,
    requestTimeoutMs: 3000,
    connectTimeoutMs: 2000,
  });
  await withTimeout(
    (async () => {
      await plain.connect();
      await plain.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false });
    })(),
    8000,
  ).then(
    () => assert.unreachable('a plaintext client was answered'),
    (error: Error) => assert.match(error.message, /closed|security\.protocol|ECONNRESET|stuck/),
  );
  plain.close();
  await stillServes('plaintext on the SASL_SSL port');
});

/** Whether a TLS handshake with these options completes (the server and the client both accept). */
function tlsHandshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    const timer = setTimeout(() => finish('silent'), 5000);
    const finish = (how: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    // TLS 1.3 reports a refused client certificate after the client's handshake completes:
    // the server's alert arrives as an error or a close right after.
    socket.on('secureConnect', () => {
      socket.write(API_VERSIONS_V0);
      socket.once('data', () => finish('answered'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(`error ${error.code ?? error.message}`));
    socket.on('close', () => finish('closed'));
  });
}

test('refused: TLS clients whose CA is untrusted', async () => {
  const { untrustedCa, untrustedClient } = certFixture();
  // A client that trusts another CA refuses the broker's certificate (kcat and node:tls).
  if (HAVE_KCAT) {
    const untrusting = await kcat(
      cluster.clientPorts.get(1)!,
      ['-L', '-m', '5', ...cluster.kcatSecurity(), '-X', `ssl.ca.location=${certFixture().files.untrustedCaCert}`],
      undefined,
      15000,
    );
    assert.is.not(untrusting.code, 0, 'kcat trusting another CA does not connect');
    assert.match(untrusting.stderr, /certificate|SSL|handshake/i);
  } else console.log('kcat not installed: the kcat part of the untrusted-CA test is skipped');
  const refusedServer = await tlsHandshake(cluster.clientPorts.get(1)!, { ca: untrustedCa.certPem });
  assert.match(refusedServer, /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/, refusedServer);
  // A client certificate of an untrusted CA is refused where certificates are required:
  // on every controller port, in the TLS handshake.
  for (const id of cluster.ids) {
    const how = await tlsHandshake(cluster.controllerPorts.get(id)!, {
      ca: cluster.caPem,
      cert: untrustedClient.certPem,
      key: untrustedClient.keyPem,
    });
    assert.ok(how !== 'answered', `node ${id}'s controller port answered a certificate of an untrusted CA`);
  }
  await stillServes('untrusted CAs');
});

test('refused: the controller protocol in plaintext (or from a non-member certificate) cannot vote, register or read DescribeQuorum', async () => {
  const before = await cluster.agreedQuorum();
  const attempts: [string, ApiKey, unknown][] = [
    [
      'a forged RaftVote',
      ApiKey.RaftVote,
      {
        clusterId: 'ignored',
        term: 2 ** 31 - 1,
        candidateId: cluster.ids.find((id) => id !== before.leaderId)!,
        lastLogIndex: 1_000_000,
        lastLogTerm: 2 ** 31 - 2,
        preVote: false,
        leadershipTransfer: true,
      },
    ],
    [
      'a BrokerRegistration',
      ApiKey.BrokerRegistration,
      {
        clusterId: 'ignored',
        brokerId: 7,
        incarnationId: randomBytes(16).toString('base64url'),
        host: '127.0.0.1',
        port: 1,
        rack: null,
        controllerHost: '',
        controllerPort: 0,
      },
    ],
    ['DescribeQuorum', ApiKey.RaftDescribeQuorum, {}],
  ];
  for (const id of cluster.ids) {
    const options = {
      host: '127.0.0.1',
      port: cluster.controllerPorts.get(id)!,
      clientId: 'plaintext-controller',
      requestTimeoutMs: 3000,
      connectTimeoutMs: 2000,
    };
    // The repository's own controller client, in plaintext: it cannot authenticate.
    await connectController(options, { secret: randomBytes(24), nodeId: 2 }, { clusterId: null, nodeId: id }).then(
      (connection) => {
        connection.close();
        assert.unreachable(`node ${id} admitted a plaintext controller connection`);
      },
      () => undefined,
    );
    // Over mutual TLS with a trusted certificate whose principal (CN=alice) is no cluster principal.
    const { client: alice } = certFixture();
    await connectController(
      { ...options, security: { protocol: 'SSL', tls: { ca: cluster.caPem, cert: alice.certPem, key: alice.keyPem } } },
      { secret: null, nodeId: 2, certificate: true },
      { clusterId: null, nodeId: id },
    ).then(
      (connection) => {
        connection.close();
        assert.unreachable(`node ${id} admitted a certificate outside super.users`);
      },
      () => undefined,
    );
    // Without a handshake at all: each request is left unanswered and the connection closed.
    for (const [what, apiKey, body] of attempts) {
      const connection = new KafkaConnection(options);
      try {
        const outcome = await withTimeout(
          (async () => {
            await connection.connect();
            return connection.request(apiKey, 0, body as never);
          })(),
          6000,
        ).then(
          () => 'answered',
          (error: Error) => error.message,
        );
        assert.is.not(outcome, 'answered', `node ${id} answered ${what} in plaintext`);
      } finally {
        connection.close();
      }
    }
  }
  const after = await cluster.agreedQuorum();
  assert.is(after.term, before.term, 'no node moved its term');
  assert.is(after.leaderId, before.leaderId);
  const brokers = await until(
    async () => {
      const connection = await cluster.connect(cluster.aliveIds()[0]).catch(() => null);
      if (!connection) return null;
      try {
        const answer = await connection.request(ApiKey.Metadata, 9, { topics: [], allowAutoTopicCreation: false });
        return answer.brokers.map((b: { nodeId: number }) => b.nodeId).sort();
      } finally {
        connection.close();
      }
    },
    { what: 'Metadata over SASL_SSL' },
  );
  assert.equal(brokers, cluster.ids, 'no broker 7 registered');
  await stillServes('plaintext controller requests');
});

/** Fetch v12 (replica id in the header's body, broker epoch -1) for partition 0 of TOPIC at `fetchOffset`. */
function followerFetch(connection: KafkaConnection, replicaId: number, fetchOffset: number) {
  return connection.request(ApiKey.Fetch, 12, {
    clusterId: null,
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: TOPIC,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
}

test("refused: a client principal's Fetches under a follower's replica id move no high watermark and join no ISR", async () => {
  await stillServes('before the impersonation');
  const state = await until(
    async () => {
      const s = await cluster.metadata(TOPIC);
      return s && s.isr.length === 3 ? s : null;
    },
    { what: 'a full ISR' },
  );
  const leader = state.leader;
  // The follower to stop and impersonate: one that is not the active controller, so that
  // stopping it does not move the metadata quorum.
  const quorum = await cluster.agreedQuorum();
  const followers = state.replicas.filter((id) => id !== leader);
  const stopped = followers.find((id) => id !== quorum.leaderId) ?? followers[0];
  // alice is an ordinary client (not in super.users), authenticated on the CLIENT listener
  // and on the inter-broker BROKER listener alike.
  const impostors = [
    await cluster.connect(leader, cluster.clientSecurity('alice', 'SCRAM-SHA-256')),
    await cluster.connect(leader, cluster.clientSecurity('alice', 'SCRAM-SHA-512'), 'BROKER'),
  ];
  /** Every impostor Fetches as the stopped follower at `fetchOffset`; each must be refused. */
  const impersonate = async (fetchOffset: number) => {
    for (const [i, impostor] of impostors.entries()) {
      const answer = await followerFetch(impostor, stopped, fetchOffset);
      // As Kafka: every partition refused, the response itself without an error.
      assert.is(
        answer.responses[0]?.partitions[0]?.errorCode,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `alice on the ${i === 0 ? 'CLIENT' : 'BROKER'} listener fetching as node ${stopped}`,
      );
    }
  };
  try {
    const hwBefore = await until(() => cluster.highWatermark(leader, TOPIC), { what: 'the high watermark' });
    cluster.pause(stopped);
    try {
      // One record acknowledged by the leader alone: the high watermark waits for the
      // stopped follower while it is in the ISR, unless a Fetch in its name claims that far.
      const produced = await impostors[0].request(ApiKey.Produce, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [
          {
            name: TOPIC,
            partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: [{ value: 'leader-only' }] }) }],
          },
        ],
      });
      const written = produced.responses[0].partitionResponses[0];
      assert.is(written.errorCode, ErrorCode.NONE);
      assert.is(Number(written.baseOffset), hwBefore);
      const logEnd = hwBefore + 1;
      await impersonate(logEnd);
      const hwAfter = await cluster.highWatermark(leader, TOPIC);
      const isr = (await cluster.metadata(TOPIC))?.isr ?? [];
      // Judged only while the stopped follower is still in the ISR (replica.lag.time.max.ms).
      if (isr.includes(stopped)) assert.is(hwAfter, hwBefore, 'the high watermark waits for the stopped follower');
      else console.log('the stopped follower left the ISR before the check: the high watermark is not judged');

      // Once it has left the ISR, caught-up Fetches in its name must not bring it back.
      await until(async () => !((await cluster.metadata(TOPIC))?.isr ?? [stopped]).includes(stopped), {
        what: `node ${stopped} to leave the ISR`,
        timeoutMs: 15000,
      });
      for (let round = 0; round < 8; round++) {
        await impersonate(logEnd);
        await delay(200);
        const now = (await cluster.metadata(TOPIC))?.isr ?? [];
        assert.not.ok(now.includes(stopped), `node ${stopped} rejoined the ISR while stopped`);
      }
    } finally {
      cluster.resume(stopped);
    }
  } finally {
    for (const impostor of impostors) impostor.close();
  }
  await until(
    async () => {
      const s = await cluster.metadata(TOPIC);
      return s && s.isr.length === 3;
    },
    { what: `node ${stopped} back in the ISR after it resumed`, timeoutMs: 20000 },
  );
  await stillServes('impersonated follower Fetches');
});

test.run();
