// The controller port's membership check by certificate, on a real listener: a peer whose
// principal is a cluster principal (super.users) is admitted and bound to the node id it
// claims; one whose principal is not is answered CLUSTER_AUTHORIZATION_FAILED and closed,
// one without a verified certificate SASL_AUTHENTICATION_FAILED and closed, and nothing a
// refused or unauthenticated connection sends reaches Raft. With a cluster secret as well,
// both must pass. The principal a TLS listener would take from the certificate is given
// per connection here, so that the gate's decisions are tested apart from TLS itself
// (controller-tls-quorum.test.ts runs the whole path over mutual TLS).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { ControllerPortDispatcher, ControllerRequests } from '../../src/controller/controller-port';
import { controllerSecurityProblem } from '../../src/controller/controller-listener-tls';
import { silentLogger } from '../../src/logger';
import type { Connection, Dispatcher } from '../../src/net/connection';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { KafkaListener } from '../../src/net/kafka-listener';
import {
  connectController,
  HandshakeError,
  HandshakeGate,
  HANDSHAKE_TIMEOUT_MS,
  parseClusterPrincipals,
} from '../../src/raft/handshake';
import { until } from '../helpers/wait';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLUSTER = 'gate-cluster';
const MEMBERS = parseClusterPrincipals('User:CN=broker1,O=Brook; User:CN=broker2,O=Brook');

interface Port {
  port: number;
  /** Requests that reached the Raft side. */
  reachedRaft: number[];
  /** The principal the next accepted connection is given (null: no verified certificate). */
  nextPrincipal: string | null;
  close(): Promise<void>;
}

async function startPort(secret: Buffer | null): Promise<Port> {
  const principals = new WeakMap<Connection, string | null>();
  const reachedRaft: number[] = [];
  const state = { nextPrincipal: null as string | null };
  const gate = new HandshakeGate(secret, CLUSTER, 1, silentLogger, HANDSHAKE_TIMEOUT_MS, {
    clusterPrincipals: MEMBERS,
    principalOf: (connection) => principals.get(connection) ?? null,
  });
  const raft: Dispatcher = {
    dispatch: (header) => {
      reachedRaft.push(header.apiKey);
      return 'close';
    },
  };
  const answer = async () => ({
    errorCode: ErrorCode.NONE,
    isCaughtUp: true,
    isFenced: false,
    shouldShutDown: false,
    brokerEpoch: 1,
    leaderId: 1,
  });
  const controller = {
    register: answer,
    heartbeat: answer,
    brokerConnection: () => undefined,
  } as unknown as ControllerRequests;
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      socketRequestMaxBytes: 1024 * 1024,
      maxInflightRequests: 10,
      onAccept: (connection) => {
        principals.set(connection, state.nextPrincipal);
        gate.accepted(connection);
      },
    },
    new ControllerPortDispatcher(raft, CLUSTER, controller, gate),
    silentLogger,
  );
  const port = await listener.listen();
  return {
    port,
    reachedRaft,
    get nextPrincipal() {
      return state.nextPrincipal;
    },
    set nextPrincipal(value: string | null) {
      state.nextPrincipal = value;
    },
    close: () => listener.close(100),
  };
}

function options(port: number) {
  return { host: '127.0.0.1', port, requestTimeoutMs: 2000, connectTimeoutMs: 2000 };
}

const heartbeat = (brokerId: number) => ({
  clusterId: CLUSTER,
  brokerId,
  brokerEpoch: 1,
  currentMetadataOffset: 0,
  wantFence: false,
  wantShutDown: false,
});

async function refusedWith(port: Port, principal: string | null, errorCode: number): Promise<void> {
  port.nextPrincipal = principal;
  const connection = new KafkaConnection(options(port.port));
  await connection.connect();
  try {
    const answer = await connection.request(ApiKey.ControllerHandshake, 0, {
      step: 1,
      nodeId: 2,
      nonce: randomBytes(32),
      proof: Buffer.alloc(0),
    });
    assert.is(answer.errorCode, errorCode);
    assert.is(answer.nonce.length, 0, 'a refused peer is given no challenge');
    // Whatever it sends next is not answered: the connection closes.
    const vote = connection.request(ApiKey.RaftVote, 0, {
      clusterId: CLUSTER,
      term: 2 ** 40,
      candidateId: 2,
      lastLogIndex: 1_000_000,
      lastLogTerm: 2 ** 40 - 1,
      preVote: false,
      leadershipTransfer: true,
    });
    await vote.then(
      () => assert.unreachable('a refused connection was answered'),
      (error: Error) => assert.match(error.message, /closed|timed out/),
    );
    await until(() => !connection.isOpen, { what: 'the refused connection to close', timeoutMs: 3000 });
  } finally {
    connection.close();
  }
  assert.equal(port.reachedRaft, [], 'nothing reached Raft');
}

test('a cluster principal is admitted and bound to the node id it claims', async () => {
  const port = await startPort(null);
  try {
    port.nextPrincipal = 'User:CN=broker2,O=Brook';
    const connection = await connectController(
      options(port.port),
      { secret: null, nodeId: 2, certificate: true },
      { clusterId: CLUSTER, nodeId: 1 },
    );
    try {
      const own = await connection.request(ApiKey.BrokerHeartbeat, 0, heartbeat(2));
      assert.is(own.errorCode, ErrorCode.NONE);
      const other = await connection.request(ApiKey.BrokerHeartbeat, 0, heartbeat(3));
      assert.is(other.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'the connection speaks only for node 2');
    } finally {
      connection.close();
    }
  } finally {
    await port.close();
  }
});

test('a verified principal outside super.users is refused with CLUSTER_AUTHORIZATION_FAILED and closed', async () => {
  const port = await startPort(null);
  try {
    await refusedWith(port, 'User:CN=alice,OU=eng,O=Brook', ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    port.nextPrincipal = 'User:CN=alice,OU=eng,O=Brook';
    await connectController(
      options(port.port),
      { secret: null, nodeId: 2, certificate: true },
      { clusterId: null, nodeId: null },
    ).then(
      () => assert.unreachable('a non-member connected'),
      (error: Error) => {
        assert.instance(error, HandshakeError);
        assert.match(error.message, /not a cluster principal \(super\.users\)/);
      },
    );
  } finally {
    await port.close();
  }
});

test('a connection without a verified certificate is refused with SASL_AUTHENTICATION_FAILED and closed', async () => {
  const port = await startPort(null);
  try {
    await refusedWith(port, null, ErrorCode.SASL_AUTHENTICATION_FAILED);
  } finally {
    await port.close();
  }
});

test('a forged vote, DescribeQuorum or heartbeat before the handshake closes the connection unanswered', async () => {
  const port = await startPort(null);
  try {
    port.nextPrincipal = 'User:CN=broker1,O=Brook';
    for (const apiKey of [ApiKey.RaftVote, ApiKey.RaftDescribeQuorum, ApiKey.BrokerHeartbeat] as const) {
      const connection = new KafkaConnection(options(port.port));
      await connection.connect();
      const body =
        apiKey === ApiKey.RaftVote
          ? {
              clusterId: CLUSTER,
              term: 2 ** 40,
              candidateId: 2,
              lastLogIndex: 1,
              lastLogTerm: 1,
              preVote: false,
              leadershipTransfer: true,
            }
          : apiKey === ApiKey.BrokerHeartbeat
            ? heartbeat(1)
            : {};
      await connection.request(apiKey, 0, body as never).then(
        () => assert.unreachable(`api ${apiKey} was answered before the handshake`),
        (error: Error) => assert.match(error.message, /closed/),
      );
      connection.close();
    }
    assert.equal(port.reachedRaft, []);
  } finally {
    await port.close();
  }
});

test('with a secret as well, a member needs both its certificate and the secret', async () => {
  const secret = randomBytes(24);
  const port = await startPort(secret);
  try {
    port.nextPrincipal = 'User:CN=broker1,O=Brook';
    const both = await connectController(
      options(port.port),
      { secret, nodeId: 2, certificate: true },
      { clusterId: CLUSTER, nodeId: 1 },
    );
    assert.is((await both.request(ApiKey.BrokerHeartbeat, 0, heartbeat(2))).errorCode, ErrorCode.NONE);
    both.close();
    port.nextPrincipal = 'User:CN=broker1,O=Brook';
    await connectController(
      options(port.port),
      { secret: null, nodeId: 2, certificate: true },
      { clusterId: CLUSTER, nodeId: 1 },
    ).then(
      () => assert.unreachable('a member without the secret connected'),
      (error: Error) => assert.match(error.message, /also requires the cluster secret/),
    );
    // The secret does not stand in for the certificate.
    await refusedWith(port, 'User:CN=mallory', ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    port.nextPrincipal = null;
    await connectController(options(port.port), { secret, nodeId: 2 }, { clusterId: CLUSTER, nodeId: 1 }).then(
      () => assert.unreachable('the secret alone connected'),
      (error: Error) => assert.match(error.message, /verified certificate/),
    );
  } finally {
    await port.close();
  }
});

test('a secret-only client does not take a certificate-only port for an authenticated one', async () => {
  const port = await startPort(null);
  try {
    port.nextPrincipal = 'User:CN=broker1,O=Brook';
    await connectController(
      options(port.port),
      { secret: randomBytes(24), nodeId: 2 },
      { clusterId: CLUSTER, nodeId: 1 },
    ).then(
      () => assert.unreachable('connected without the server proving the secret'),
      (error: Error) => assert.match(error.message, /could not prove it holds the cluster secret/),
    );
    // And a client with neither a secret nor a certificate does not try.
    await connectController(options(port.port), { secret: null, nodeId: 2 }, { clusterId: null, nodeId: null }).then(
      () => assert.unreachable('connected with nothing to authenticate with'),
      (error: Error) => assert.match(error.message, /neither a cluster secret nor a TLS certificate/),
    );
  } finally {
    await port.close();
  }
});

test('super.users parses as Kafka writes it; malformed entries are one config error', () => {
  assert.equal(
    [...parseClusterPrincipals('User:CN=broker1,OU=ops,O=Example;User:broker2 ; ;')],
    ['User:CN=broker1,OU=ops,O=Example', 'User:broker2'],
  );
  assert.is(parseClusterPrincipals(undefined).size, 0);
  assert.throws(() => parseClusterPrincipals('broker1'), /super\.users: "broker1" is not a principal/);
  assert.throws(() => parseClusterPrincipals('User:'), /not a principal/);
});

test('a TLS controller listener must require client certificates and name cluster principals', () => {
  const voters = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9000 + id }));
  assert.match(
    controllerSecurityProblem({
      nodeId: 1,
      voters,
      controllerTls: { clientAuth: 'requested', clusterPrincipals: MEMBERS },
    }) ?? '',
    /ssl\.client\.auth must be "required"/,
  );
  assert.match(
    controllerSecurityProblem({
      nodeId: 1,
      voters,
      controllerTls: { clientAuth: 'required', clusterPrincipals: new Set() },
    }) ?? '',
    /super\.users must name/,
  );
  assert.is(
    controllerSecurityProblem({
      nodeId: 1,
      voters,
      controllerTls: { clientAuth: 'required', clusterPrincipals: MEMBERS },
    }),
    null,
  );
  assert.match(controllerSecurityProblem({ nodeId: 1, voters }) ?? '', /brook\.controller\.cluster\.secret/);
  assert.is(controllerSecurityProblem({ nodeId: 1, voters: voters.slice(0, 1) }), null);
});

test('loadConfig takes a TLS controller listener with client auth required in place of the secret', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-ctlsec-'));
  try {
    const write = (lines: string[]) => {
      const file = path.join(dir, 'server.properties');
      fs.writeFileSync(file, lines.join('\n') + '\n');
      return file;
    };
    const base = ['node.id=1', 'controller.quorum.voters=1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103'];
    const tls = [
      'listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9101',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:SSL,PLAINTEXT:PLAINTEXT',
    ];
    const members = 'super.users=User:CN=node1;User:CN=node2;User:CN=node3';
    assert.ok(
      loadConfig({ config: write([...base, ...tls, members, 'listener.name.controller.ssl.client.auth=required']) }),
    );
    assert.ok(loadConfig({ config: write([...base, ...tls, members, 'ssl.client.auth=required']) }));
    // A TLS controller listener is refused without client authentication, secret or not.
    for (const extra of [[], ['brook.controller.cluster.secret=0123456789abcdef0123']])
      assert.throws(
        () => loadConfig({ config: write([...base, ...tls, ...extra, members, 'ssl.client.auth=requested']) }),
        /controller listener CONTROLLER uses TLS: set listener\.name\.controller\.ssl\.client\.auth=required \(it is requested\)/,
      );
    assert.throws(
      () => loadConfig({ config: write([...base, ...tls, 'ssl.client.auth=required']) }),
      /super\.users must name the principals/,
    );
    assert.throws(
      () =>
        loadConfig({
          config: write([
            ...base,
            'listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9101',
            'controller.listener.names=CONTROLLER',
            'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
            'ssl.client.auth=required',
          ]),
        }),
      /is required when this node is not the only voter/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
