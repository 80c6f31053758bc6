// The HTTP listener over TLS (brook.http.tls.*: Kafka's ssl.* PEM settings under that
// prefix) against a broker in this process: HTTPS answers with a certificate the client
// checks, plain HTTP to the port gets no answer, the session cookie is Secure, the
// WebSocket opens over wss with the cookie, client certificates are required or checked
// as ssl.client.auth says and a verified one names the principal, a renewed certificate file is served without a restart, and
// broken TLS settings are refused at start with a message that names the key and holds no
// key material.

import * as fs from 'node:fs';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../../src/config/config';
import { HttpServer } from '../../src/http/http-server';
import { readiness } from '../../src/http/readiness';
import { CSRF_HEADER } from '../../src/http/request-auth';
import { SESSION_COOKIE } from '../../src/http/sessions';
import { silentLogger } from '../../src/logger';
import { issueCertificate } from '../../src/security/certs';
import { deriveScramCredential } from '../../src/security/scram';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { CertFixture, certFixture } from '../helpers/certs';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';
import { request } from './http-client';

const WAIT_MS = 15_000;

let running: RunningBroker;
let dir: string;
let certs: CertFixture;
/** The CA the clients trust, and the server's key and chain as PEM text. */
let certificate: string;
let privateKey: string;
let chain: string;
const servers: HttpServer[] = [];
const admin = deriveScramCredential('SCRAM-SHA-256', 'admin-secret');

function server(keys: Record<string, string>): HttpServer {
  const created = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    broker: running.broker,
    kafkaBootstrap: () => `127.0.0.1:${running.kafkaPort}`,
    connections: () => 0,
    kafkaListening: () => true,
    logger: silentLogger,
    securityKeys: keys,
    credentials: {
      scramCredential: (user, mechanism) => (user === 'admin' && mechanism === admin.mechanism ? admin : undefined),
    },
  });
  servers.push(created);
  return created;
}

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-httptls-'));
  certs = certFixture();
  certificate = certs.ca.certPem;
  privateKey = certs.server.keyPem;
  chain = certs.server.certPem;
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': path.join(dir, 'data'),
    'log-level': 'error',
  });
  running = await startBroker(config, silentLogger);
  await until(() => readiness(running.broker, true).ready, { what: 'the broker to be ready', timeoutMs: 30_000 });
});

test.after(async () => {
  for (const s of servers) await s.close();
  await running?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('HTTPS from a PEM key store file: verified by the client, Secure session cookie, wss with the cookie', async () => {
  const https = server({
    'brook.http.tls.ssl.keystore.type': 'PEM',
    'brook.http.tls.ssl.keystore.location': certs.files.serverKeystore,
    'brook.http.auth.enable': 'true',
  });
  assert.ok(https.secure);
  const port = await https.listen();
  const health = await request(port, 'GET', '/health', { ca: certificate });
  assert.is(health.status, 200);
  const login = await request(port, 'POST', '/api/v1/login', {
    ca: certificate,
    body: { username: 'admin', password: 'admin-secret' },
  });
  assert.is(login.status, 200, login.text);
  const setCookie = login.headers['set-cookie']![0];
  assert.match(setCookie, /; Secure/);
  assert.match(setCookie, /HttpOnly/);
  const cookie = setCookie.split(';')[0];
  assert.ok(cookie.startsWith(`${SESSION_COOKIE}=`));
  const whoami = await request(port, 'GET', '/api/v1/whoami', { ca: certificate, headers: { cookie } });
  assert.is(whoami.json.principal, 'User:admin');
  const logout = await request(port, 'POST', '/api/v1/logout', {
    ca: certificate,
    headers: { cookie, [CSRF_HEADER]: '1' },
  });
  assert.match(logout.headers['set-cookie']![0], /Max-Age=0; Secure/);

  // Plain HTTP to the HTTPS port: the TLS server does not answer it as HTTP.
  const plain = await request(port, 'GET', '/health', { timeoutMs: 3000 }).catch((error: Error) => error);
  assert.ok(plain instanceof Error || plain.status !== 200, 'no plain HTTP answer');

  // The live feed over wss, with a fresh session.
  const again = await request(port, 'POST', '/api/v1/login', {
    ca: certificate,
    body: { username: 'admin', password: 'admin-secret' },
  });
  const socket = new WebSocket(`wss://127.0.0.1:${port}/api/v1/live`, {
    ca: certificate,
    origin: `https://127.0.0.1:${port}`,
    headers: { cookie: again.headers['set-cookie']![0].split(';')[0] },
  });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message over wss')), WAIT_MS);
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(data.toString()).type);
    });
    socket.once('error', reject);
  });
  assert.is(first, 'hello');
  socket.close();
});

test('HTTPS from inline PEM keys (ssl.keystore.key and ssl.keystore.certificate.chain)', async () => {
  const port = await server({
    'brook.http.tls.ssl.keystore.key': privateKey,
    'brook.http.tls.ssl.keystore.certificate.chain': chain,
  }).listen();
  const whoami = await request(port, 'GET', '/api/v1/whoami', { ca: certificate });
  assert.is(whoami.status, 200);
  assert.is(whoami.json.principal, 'User:ANONYMOUS');
});

/** GET /health on a fresh connection; the status and the serial of the server's certificate, or the error. */
function get(
  port: number,
  client: { key: string; cert: string } | null = null,
): Promise<{ status: number; serial: string } | Error> {
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/health', ca: certificate, agent: false, timeout: WAIT_MS, ...(client ?? {}) },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve(error));
    req.end();
  });
}

test('client certificates: required refuses a client without one or with an untrusted one; requested checks one given', async () => {
  const trusted = { key: certs.client.keyPem, cert: certs.client.certPem };
  const untrusted = { key: certs.untrustedClient.keyPem, cert: certs.untrustedClient.certPem };
  const tlsKeys = {
    'brook.http.tls.ssl.keystore.location': certs.files.serverKeystore,
    'brook.http.tls.ssl.truststore.location': certs.files.caCert,
  };
  const required = await server({ ...tlsKeys, 'brook.http.tls.ssl.client.auth': 'required' }).listen();
  assert.ok((await get(required)) instanceof Error, 'no certificate');
  assert.ok((await get(required, untrusted)) instanceof Error, 'an untrusted certificate');
  assert.is(((await get(required, trusted)) as { status: number }).status, 200);
  const requested = await server({ ...tlsKeys, 'brook.http.tls.ssl.client.auth': 'requested' }).listen();
  assert.is(((await get(requested)) as { status: number }).status, 200, 'none given is allowed');
  assert.ok((await get(requested, untrusted)) instanceof Error, 'an untrusted certificate closes the connection');
  assert.is(((await get(requested, trusted)) as { status: number }).status, 200);
});

test('a verified client certificate names the principal; writes with it need the CSRF header', async () => {
  const port = await server({
    'brook.http.tls.ssl.keystore.location': certs.files.serverKeystore,
    'brook.http.tls.ssl.truststore.location': certs.files.caCert,
    'brook.http.tls.ssl.client.auth': 'requested',
    'brook.http.tls.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
    'brook.http.auth.enable': 'true',
  }).listen();
  const call = (method: string, url: string, headers: Record<string, string> = {}, body?: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: url,
          ca: certificate,
          key: certs.client.keyPem,
          cert: certs.client.certPem,
          agent: false,
          headers: payload
            ? { ...headers, 'content-type': 'application/json', 'content-length': payload.length }
            : headers,
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const whoami = await call('GET', '/api/v1/whoami');
  assert.is(whoami.status, 200);
  assert.is(whoami.json.principal, 'User:alice');
  assert.is(whoami.json.method, 'certificate');
  const body = { name: 'made-with-a-certificate', partitions: 1 };
  assert.is((await call('POST', '/api/v1/topics', {}, body)).status, 403, 'a browser sends its certificate by itself');
  assert.is((await call('POST', '/api/v1/topics', { [CSRF_HEADER]: '1' }, body)).status, 201);
  // Without a certificate (requested, not required) the request needs other credentials.
  assert.is((await request(port, 'GET', '/api/v1/whoami', { ca: certificate })).status, 401);
});

test('a renewed certificate file is served to new connections without a restart', async () => {
  const keystore = path.join(dir, 'renewed-keystore.pem');
  fs.writeFileSync(keystore, fs.readFileSync(certs.files.serverKeystore));
  const port = await server({
    'brook.http.tls.ssl.keystore.location': keystore,
    'brook.security.tls.reload.interval.ms': '50',
  }).listen();
  const before = (await get(port)) as { status: number; serial: string };
  assert.is(before.status, 200);
  const renewed = issueCertificate(certs.ca, { subject: 'CN=localhost,O=Brook', kind: 'server', hosts: ['127.0.0.1'] });
  fs.writeFileSync(keystore + '.next', renewed.keyPem + renewed.certPem);
  fs.renameSync(keystore + '.next', keystore);
  const after = await until(
    async () => {
      const answer = await get(port);
      return !(answer instanceof Error) && answer.serial !== before.serial ? answer : null;
    },
    { what: 'the renewed certificate to be served', timeoutMs: WAIT_MS },
  );
  assert.is(after.status, 200);
});

test('broken TLS settings are refused at start, naming the key, without key material', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      {
        'brook.http.tls.ssl.keystore.type': 'JKS',
        'brook.http.tls.ssl.keystore.location': certs.files.serverKeystore,
      },
      /ssl\.keystore\.type=JKS is not supported/,
    ],
    [{ 'brook.http.tls.ssl.keystore.location': path.join(dir, 'missing.pem') }, /ENOENT/],
    [{ 'brook.http.tls.ssl.keystore.location': certs.files.caCert }, /private key/],
    [{ 'brook.http.tls.ssl.keystore.key': privateKey }, /needs ssl\.keystore\.certificate\.chain/],
    [
      {
        'brook.http.tls.ssl.keystore.location': certs.files.serverKeystore,
        'brook.http.tls.ssl.keystore.key': privateKey,
      },
      /not both/,
    ],
    [{ 'brook.http.tls.ssl.truststore.location': certs.files.caCert }, /needs a key store/],
  ];
  for (const [keys, message] of cases) {
    let thrown: unknown;
    try {
      server(keys);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ConfigError, `${JSON.stringify(Object.keys(keys))} refused`);
    assert.match((thrown as Error).message, message);
    assert.not.ok((thrown as Error).message.includes('PRIVATE KEY'), 'no key material in the message');
  }
});

test.run();
