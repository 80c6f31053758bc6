// The bundled client's connection security against a scripted node that speaks SASL and TLS
// as Kafka's broker does: every mechanism at every SaslAuthenticate version, refused
// credentials as one clear, non-retriable error (no retry storm), in-band re-authentication
// before the session lifetime ends with requests in flight, TLS with and without the
// hostname check, and the wrong protocol for a port failing with a message that says so.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, isRetriableError } from '../../src/client/cluster';
import { AuthenticationFailedError, KafkaConnection } from '../../src/net/kafka-connection';
import type { ClientSecurity } from '../../src/security/client-config';
import { ApiKey } from '../../protocol/api-keys';
import { issueCertificate } from '../../src/security/certs';
import { certFixture } from '../helpers/certs';
import { secureScriptedNode, SecureNode } from '../helpers/secure-scripted-node';

const fixture = certFixture();
const certificate = { cert: fixture.server.certPem, key: fixture.server.keyPem };
const caPem = fixture.ca.certPem;
const misnamedLeaf = issueCertificate(fixture.ca, {
  subject: 'CN=elsewhere',
  kind: 'server',
  hosts: ['elsewhere.example'],
});
const elsewhere = { cert: misnamedLeaf.certPem, key: misnamedLeaf.keyPem };

const nodes: SecureNode[] = [];
async function node(options: Parameters<typeof secureScriptedNode>[0] = {}): Promise<SecureNode> {
  const started = await secureScriptedNode(options);
  nodes.push(started);
  return started;
}

async function metadataThrough(port: number, security: ClientSecurity): Promise<string[]> {
  const cluster = new Cluster({
    bootstrap: [`127.0.0.1:${port}`],
    security,
    connectTimeoutMs: 3000,
    requestTimeoutMs: 3000,
  });
  try {
    return (await cluster.refreshMetadata(null)).map((topic) => topic.name);
  } finally {
    cluster.close();
  }
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  assert.unreachable('no failure');
  return new Error();
}

test('every mechanism authenticates at every SaslAuthenticate version', async () => {
  for (const version of [0, 1, 2]) {
    const scripted = await node({ authenticateVersionMax: version, oauthToken: 'tok.en' });
    const cases: ClientSecurity['sasl'][] = [
      { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
      { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' },
      { mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' },
      { mechanism: 'OAUTHBEARER', token: async () => 'tok.en' },
    ];
    for (const sasl of cases) {
      const topics = await metadataThrough(scripted.port, { protocol: 'SASL_PLAINTEXT', sasl });
      assert.equal(topics, ['secured'], `${sasl!.mechanism} v${version}`);
    }
    assert.equal(
      scripted.authentications.map((a) => a.mechanism),
      ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
    );
    assert.is(scripted.failures, 0);
  }
});

test('a wrong password is one clear, non-retriable error naming the broker message, never the password', async () => {
  const scripted = await node();
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
    const error = await failure(() =>
      metadataThrough(scripted.port, {
        protocol: 'SASL_PLAINTEXT',
        sasl: { mechanism, username: 'admin', password: 'WRONG-pw' },
      }),
    );
    assert.instance(error, AuthenticationFailedError);
    assert.match(
      error.message,
      `SASL ${mechanism} authentication with 127.0.0.1:${scripted.port} failed: SASL_AUTHENTICATION_FAILED`,
    );
    assert.match(error.message, /Authentication failed/);
    assert.not.match(error.message, 'WRONG-pw');
    assert.is(isRetriableError(error), false);
  }
  // One attempt each: the client did not retry refused credentials.
  assert.is(scripted.failures, 2);
  assert.is(scripted.authentications.length, 0);
});

test('a refused OAUTHBEARER token and a mechanism the broker does not enable', async () => {
  const scripted = await node({ mechanisms: ['SCRAM-SHA-512', 'OAUTHBEARER'], oauthToken: 'good' });
  const token = await failure(() =>
    metadataThrough(scripted.port, { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'OAUTHBEARER', token: 'bad' } }),
  );
  assert.match(token.message, /SASL_AUTHENTICATION_FAILED: Authentication failed: invalid token/);
  const plain = await failure(() =>
    metadataThrough(scripted.port, {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    }),
  );
  assert.match(plain.message, /does not enable SASL mechanism PLAIN \(it enables: SCRAM-SHA-512, OAUTHBEARER\)/);
});

test('re-authentication before the session lifetime ends, on the same connection, with requests in flight', async () => {
  const scripted = await node({ sessionLifetimeMs: 1100 });
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: scripted.port,
    requestTimeoutMs: 3000,
    security: {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' },
    },
  });
  await connection.connect();
  try {
    // At 85-95% of the lifetime, and never twice within a second (Kafka's broker refuses that).
    const deadline = Date.now() + 2500;
    let answered = 0;
    while (Date.now() < deadline) {
      // Several pipelined requests at a time, so some are in flight when re-authentication starts.
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          connection.request(ApiKey.Metadata, 12, {
            topics: null,
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: false,
          }),
        ),
      );
      answered += answers.filter((a) => a.topics[0]?.name === 'secured').length;
    }
    assert.ok(connection.reauthentications >= 2, `re-authenticated ${connection.reauthentications} times`);
    assert.is(scripted.connections, 1, 'no new connection was needed');
    assert.ok(scripted.authentications.every((a) => a.connection === 1));
    assert.is(answered, scripted.served.length, 'every request was answered');
  } finally {
    connection.close();
  }
});

test('SASL_SSL: TLS with the CA, the hostname check on by default and off when asked', async () => {
  const sasl = { mechanism: 'SCRAM-SHA-512' as const, username: 'admin', password: 'admin-secret' };
  const scripted = await node({ tls: certificate });
  assert.equal(await metadataThrough(scripted.port, { protocol: 'SASL_SSL', sasl, tls: { ca: caPem } }), ['secured']);
  // Not trusted: the chain check always runs.
  const untrusted = await failure(() => metadataThrough(scripted.port, { protocol: 'SASL_SSL', sasl, tls: {} }));
  assert.match(
    untrusted.message,
    /TLS connect to 127\.0\.0\.1:\d+ failed: .*(self[- ]signed|unable to (get local issuer|verify the first certificate)).*check ssl.ca.location/,
  );

  const misnamed = await node({ tls: elsewhere });
  const hostname = await failure(() =>
    metadataThrough(misnamed.port, { protocol: 'SASL_SSL', sasl, tls: { ca: caPem } }),
  );
  assert.match(hostname.message, /TLS connect to .* failed: .*IP: 127\.0\.0\.1 is not in the cert's list/);
  assert.equal(
    await metadataThrough(misnamed.port, {
      protocol: 'SASL_SSL',
      sasl,
      tls: { ca: caPem, checkHostname: false },
    }),
    ['secured'],
  );
  // The name the certificate carries may be asked for explicitly (SNI and the check).
  assert.equal(
    await metadataThrough(misnamed.port, {
      protocol: 'SASL_SSL',
      sasl,
      tls: { ca: caPem, servername: 'elsewhere.example' },
    }),
    ['secured'],
  );
});

test('SSL with a client certificate when the broker requires one (ssl.client.auth=required)', async () => {
  const scripted = await node({ tls: { ...certificate, clientCa: caPem } });
  const security: ClientSecurity = {
    protocol: 'SASL_SSL',
    sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    tls: { ca: caPem, cert: fixture.client.certPem, key: fixture.client.keyPem },
  };
  assert.equal(await metadataThrough(scripted.port, security), ['secured']);
  assert.equal(scripted.clientSubjects, ['CN=alice']);
  const without = await failure(() => metadataThrough(scripted.port, { ...security, tls: { ca: caPem } }));
  assert.match(without.message, /127\.0\.0\.1:\d+/);
});

test('the wrong protocol for the port fails at once with a message that says so', async () => {
  const plaintext = await node();
  const started = Date.now();
  const tlsToPlain = await failure(() => metadataThrough(plaintext.port, { protocol: 'SSL', tls: { ca: caPem } }));
  assert.match(tlsToPlain.message, /TLS .*127\.0\.0\.1:\d+.*is it a TLS listener\?/);
  assert.ok(Date.now() - started < 2500, 'failed fast, not at a timeout');

  const secure = await node({ tls: certificate });
  const plainToTls = await failure(() =>
    metadataThrough(secure.port, {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    }),
  );
  assert.match(plainToTls.message, /closed by 127\.0\.0\.1:\d+ before any answer .*check security.protocol|ECONNRESET/);
});

test.after(() => {
  for (const scripted of nodes) scripted.close();
});

test.run();
