// The controller port over mutual TLS, with real processes and no cluster secret: three
// voters whose controller listener is SSL with ssl.client.auth=required, each with its own
// certificate (CN=node<i>), super.users naming the three nodes and an operator. They elect
// a leader and commit (kafkajs creates a topic through the Kafka port). Then, while the
// quorum keeps working, each of these is refused and can neither vote (a forged RaftVote
// with a huge term and the transfer flag), register as a broker, nor read DescribeQuorum:
// a certificate from an untrusted CA, a trusted certificate whose principal is not in
// super.users, a TLS client without a certificate, and a plaintext client. No node moves
// its term. `brook cluster status` authenticates with the certificate of the config it is
// given: an operator in super.users is answered, an outsider refused. The test client
// speaks TLS and the frames itself (node:tls), so what it sends is exactly what an
// attacker could.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { ErrorCode } from '../../protocol/errors';
import { issueCertificate, IssuedCertificate } from '../../src/security/certs';
import { BrokerProcess, freePort, startBroker, tempDir } from '../helpers/broker-process';
import { runBrook } from '../helpers/brook-cli';
import { certFixture } from '../helpers/certs';
import { until } from '../helpers/wait';

const IDS = [1, 2, 3];
const nodes = new Map<number, BrokerProcess>();
const kafkaPorts = new Map<number, number>();
const controllerPorts = new Map<number, number>();
let dir: string;
let caFile: string;
let admin: IssuedCertificate;
let outsider: IssuedCertificate;
const superUsers = [...IDS.map((id) => `User:CN=node${id},O=Brook`), 'User:CN=admin,O=Brook'].join(';');

/** How a test client reaches a controller port. */
type Dial = { kind: 'plaintext' } | { kind: 'tls'; cert?: IssuedCertificate; ca?: string };

/** One connection to a controller port that sends raw request frames and reads the answers. */
class RawControllerClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer | null) => void)[] = [];
  private closed = false;
  private correlationId = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    const onClose = () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter(null);
    };
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  /** A connected client, or null when the connection (or its TLS handshake) was refused. */
  static async open(port: number, dial: Dial): Promise<RawControllerClient | null> {
    return new Promise((resolve) => {
      const socket =
        dial.kind === 'plaintext'
          ? net.connect(port, '127.0.0.1')
          : tls.connect({
              host: '127.0.0.1',
              port,
              ca: dial.ca ?? fs.readFileSync(caFile, 'utf8'),
              cert: dial.cert?.certPem,
              key: dial.cert?.keyPem,
            });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(null);
      }, 5000);
      socket.once(dial.kind === 'plaintext' ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        resolve(new RawControllerClient(socket));
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
  }

  /** The decoded answer, or null when the connection closed (or stayed silent) instead. */
  async request(apiKey: ApiKey, body: unknown): Promise<Record<string, unknown> | null> {
    if (this.closed) return null;
    const correlationId = this.correlationId++;
    const frame = encodeRequestFrame(
      { apiKey, apiVersion: 0, correlationId, clientId: 'raw-test' },
      requestCodec(apiKey, 0),
      body,
    );
    const answer = new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 3000);
      this.waiting.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
    this.socket.write(frame);
    const bytes = await answer;
    if (!bytes) return null;
    const reader = new Reader(bytes);
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, 0));
    return responseCodec(apiKey, 0).decode(reader) as Record<string, unknown>;
  }

  close(): void {
    this.socket.destroy();
  }
}

function handshakeStep1(nodeId: number) {
  return { step: 1, nodeId, nonce: randomBytes(32), proof: Buffer.alloc(0) };
}

/** DescribeQuorum of node `id`, asked as the operator (a cluster principal). */
async function describe(id: number): Promise<{ leaderId: number; term: bigint | number } | null> {
  const client = await RawControllerClient.open(controllerPorts.get(id)!, { kind: 'tls', cert: admin });
  if (!client) return null;
  try {
    const handshake = await client.request(ApiKey.ControllerHandshake, handshakeStep1(-1));
    if (!handshake || handshake.errorCode !== ErrorCode.NONE) return null;
    const answer = await client.request(ApiKey.RaftDescribeQuorum, {});
    return answer ? { leaderId: answer.leaderId as number, term: answer.term as number } : null;
  } finally {
    client.close();
  }
}

function agreedLeader(): Promise<{ leaderId: number; term: bigint | number }> {
  return until(
    async () => {
      const views = await Promise.all(IDS.map((id) => describe(id)));
      const first = views[0];
      if (!first || first.leaderId < 0) return null;
      return views.every((v) => v && v.leaderId === first.leaderId && v.term === first.term) ? first : null;
    },
    { what: 'every node to agree on a leader over mutual TLS', timeoutMs: 30000 },
  );
}

async function createTopic(name: string): Promise<void> {
  const kafka = new Kafka({
    brokers: IDS.map((id) => `127.0.0.1:${kafkaPorts.get(id)}`),
    clientId: 'controller-tls-test',
    logLevel: logLevel.NOTHING,
  });
  const client = kafka.admin();
  await client.connect();
  try {
    assert.ok(await client.createTopics({ topics: [{ topic: name, numPartitions: 1, replicationFactor: 3 }] }));
  } finally {
    await client.disconnect();
  }
}

test.before(async () => {
  const fixture = certFixture();
  dir = tempDir('brook-controller-tls-');
  caFile = fixture.files.caCert;
  const write = (name: string, contents: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, contents, { mode: 0o600 });
    return file;
  };
  admin = issueCertificate(fixture.ca, { subject: 'CN=admin,O=Brook', kind: 'client' });
  outsider = issueCertificate(fixture.ca, {
    subject: 'CN=outsider,O=Brook',
    kind: 'both',
    hosts: ['127.0.0.1', 'localhost'],
  });
  for (const id of IDS) {
    kafkaPorts.set(id, await freePort());
    controllerPorts.set(id, await freePort());
  }
  const voters = IDS.map((id) => `${id}@127.0.0.1:${controllerPorts.get(id)}`).join(',');
  await Promise.all(
    IDS.map(async (id) => {
      const certificate = issueCertificate(fixture.ca, {
        subject: `CN=node${id},O=Brook`,
        kind: 'both',
        hosts: ['127.0.0.1', 'localhost'],
      });
      const keystore = write(`node${id}-keystore.pem`, certificate.keyPem + certificate.certPem);
      nodes.set(
        id,
        await startBroker({
          dataDir: tempDir(),
          port: kafkaPorts.get(id)!,
          controllerPort: controllerPorts.get(id)!,
          readyTimeoutMs: 40000,
          clusterSecret: false,
          config: {
            listeners: `PLAINTEXT://127.0.0.1:${kafkaPorts.get(id)},CONTROLLER://127.0.0.1:${controllerPorts.get(id)}`,
            'controller.listener.names': 'CONTROLLER',
            'listener.security.protocol.map': 'CONTROLLER:SSL,PLAINTEXT:PLAINTEXT',
            'listener.name.controller.ssl.keystore.location': keystore,
            'listener.name.controller.ssl.truststore.location': caFile,
            'listener.name.controller.ssl.client.auth': 'required',
            'super.users': superUsers,
          },
          extraArgs: ['--node-id', String(id), '--voters', voters],
        }),
      );
    }),
  );
});

test.after(async () => {
  for (const node of nodes.values()) await node.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('three voters over mutual TLS without a secret elect a leader and commit', async () => {
  const leader = await agreedLeader();
  assert.ok(leader.leaderId >= 1 && leader.leaderId <= 3);
  await createTopic('over-mtls');
});

/** How each kind of client is refused: in TLS itself, or by the handshake's answer. */
const REFUSED: [string, () => Dial, 'tls' | number][] = [
  ['a certificate from an untrusted CA', () => ({ kind: 'tls', cert: certFixture().untrustedClient }), 'tls'],
  [
    'a trusted certificate whose principal is not in super.users',
    () => ({ kind: 'tls', cert: outsider }),
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ],
  ['a TLS client without a certificate', () => ({ kind: 'tls' }), 'tls'],
  ['a plaintext client', () => ({ kind: 'plaintext' }), 'tls'],
];

for (const [what, dial, refusal] of REFUSED)
  test(`${what} can neither vote, register nor read DescribeQuorum`, async () => {
    const before = await agreedLeader();
    const attempts: [ApiKey, unknown][] = [
      [
        ApiKey.RaftVote,
        {
          clusterId: 'ignored',
          term: 2 ** 40,
          candidateId: 2,
          lastLogIndex: 1_000_000,
          lastLogTerm: 2 ** 40 - 1,
          preVote: false,
          leadershipTransfer: true,
        },
      ],
      [
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
      [ApiKey.RaftDescribeQuorum, {}],
    ];
    for (const id of IDS)
      for (const [apiKey, body] of attempts) {
        const client = await RawControllerClient.open(controllerPorts.get(id)!, dial());
        if (!client) continue; // refused in the TLS handshake itself
        try {
          // The handshake first, as a member would start; then the request regardless.
          const handshake = await client.request(ApiKey.ControllerHandshake, handshakeStep1(2));
          if (refusal === 'tls')
            assert.is(handshake, null, `node ${id} answered the handshake over a refused TLS connection`);
          else assert.is(handshake?.errorCode, refusal, `node ${id} answered the handshake with the refusal`);
          const answer = await client.request(apiKey, body);
          assert.is(answer, null, `node ${id} answered api ${apiKey} from ${what}`);
        } finally {
          client.close();
        }
      }
    const after = await agreedLeader();
    assert.is(after.term, before.term, 'no node moved its term');
    assert.is(after.leaderId, before.leaderId);
  });

test('brook cluster status authenticates with the certificate of the config it is given', async () => {
  const operatorConfig = (certificate: IssuedCertificate, name: string, members = superUsers, trust = caFile) => {
    const keystore = path.join(dir, `${name}-keystore.pem`);
    fs.writeFileSync(keystore, certificate.keyPem + certificate.certPem, { mode: 0o600 });
    const file = path.join(dir, `${name}.properties`);
    fs.writeFileSync(
      file,
      [
        'listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:SSL,PLAINTEXT:PLAINTEXT',
        `listener.name.controller.ssl.keystore.location=${keystore}`,
        `listener.name.controller.ssl.truststore.location=${trust}`,
        'listener.name.controller.ssl.client.auth=required',
        `super.users=${members}`,
      ].join('\n'),
    );
    return file;
  };
  const leader = (await agreedLeader()).leaderId;
  const status = (config: string) =>
    runBrook([
      'cluster',
      'status',
      '--bootstrap',
      `127.0.0.1:${kafkaPorts.get(leader)}`,
      '--controller',
      `127.0.0.1:${controllerPorts.get(leader)}`,
      '--config',
      config,
      '--json',
    ]);
  const ok = await status(operatorConfig(admin, 'admin'));
  assert.is(ok.code, 0, ok.stderr);
  assert.is(JSON.parse(ok.stdout).quorum.leaderId, leader);
  const refused = await status(operatorConfig(outsider, 'outsider'));
  assert.is.not(refused.code, 0);
  assert.match(refused.stderr, /not a cluster principal \(super\.users\)/);
  // The other way round: a server whose principal is not among the client's members.
  const stranger = await status(operatorConfig(admin, 'admin-alone', 'User:CN=admin,O=Brook'));
  assert.is.not(stranger.code, 0);
  assert.match(stranger.stderr, /the server's principal User:CN=node\d,O=Brook is not a cluster principal/);
  // And a server whose certificate this side's trust store does not accept.
  const untrusting = await status(
    operatorConfig(admin, 'admin-untrusting', superUsers, certFixture().files.untrustedCaCert),
  );
  assert.is.not(untrusting.code, 0);
  assert.match(untrusting.stderr, /TLS with 127\.0\.0\.1:\d+ refused: [A-Z_]+/);
});

test('the quorum still commits after every refusal', async () => {
  await createTopic('after-refusals');
});

test.run();
