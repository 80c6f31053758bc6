// Authentication of the HTTP listener against a broker started in this process: HTTP Basic
// checked against SCRAM credentials (right and wrong passwords, unknown users, the cache of
// verified passwords, the per-address failure limit), Bearer tokens (valid, expired, forged),
// writes and reads refused without credentials while /health, /ready and /metrics stay open,
// the Host allowlist, the console's session cookie (its flags, login by JSON and by form,
// CSRF checks, idle and absolute expiry, the session table's bound, logout), and the
// WebSocket refusing anonymous or cross-origin upgrades and closing when its session ends.
// Time for sessions, caches and failure windows is a clock the test moves.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../../src/config/config';
import { HttpServer, insecureListenerWarning } from '../../src/http/http-server';
import { readiness } from '../../src/http/readiness';
import { CSRF_HEADER } from '../../src/http/request-auth';
import { SESSION_COOKIE } from '../../src/http/sessions';
import { silentLogger } from '../../src/logger';
import { parseHttpAuthSettings } from '../../src/security/http-auth';
import { CredentialStore, deriveScramCredential, ScramCredential, ScramMechanism } from '../../src/security/scram';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';
import { request } from './http-client';

const WAIT_MS = 15_000;

/** Users as the metadata image would hold them: name -> mechanism -> credential. */
class MemoryCredentials implements CredentialStore {
  readonly users = new Map<string, Map<ScramMechanism, ScramCredential>>();
  lookups = 0;
  set(user: string, password: string, mechanism: ScramMechanism = 'SCRAM-SHA-256'): void {
    if (!this.users.has(user)) this.users.set(user, new Map());
    this.users.get(user)!.set(mechanism, deriveScramCredential(mechanism, password));
  }
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    this.lookups++;
    return this.users.get(user)?.get(mechanism);
  }
}

/** The HMAC secret of the test's token issuer (brook.sasl.oauthbearer.hmac.secret.file). */
const TOKEN_SECRET = crypto.randomBytes(32);

/** An HS256 JWT for `sub`, expiring at `expiresAtMs`, signed with `secret`. */
function jwt(sub: string, expiresAtMs: number, secret = TOKEN_SECRET): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(expiresAtMs / 1000), aud: 'brook' })}`;
  return `${signed}.${crypto.createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

let running: RunningBroker;
let dataDir: string;
const credentials = new MemoryCredentials();
let clock = Date.now();
const servers: HttpServer[] = [];

/** An HTTP listener on the running broker with these brook.http.* keys; returns its port. */
async function serve(
  keys: Record<string, string>,
  extra: { advertisedHost?: string } = {},
): Promise<{ port: number; server: HttpServer }> {
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    broker: running.broker,
    kafkaBootstrap: () => `127.0.0.1:${running.kafkaPort}`,
    connections: () => 0,
    kafkaListening: () => true,
    logger: silentLogger,
    securityKeys: { 'brook.http.auth.failure.delay.ms': '20', ...keys },
    credentials,
    advertisedHost: extra.advertisedHost ?? null,
    nowMs: () => clock,
  });
  servers.push(server);
  return { port: await server.listen(), server };
}

/** What whoami adds without an authorizer: every cluster operation is allowed. */
const NO_AUTHORIZER = {
  authorizerEnabled: false,
  superUser: false,
  clusterOperations: [
    'CREATE',
    'ALTER',
    'DESCRIBE',
    'CLUSTER_ACTION',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
    'IDEMPOTENT_WRITE',
  ],
  topicOperations: ['READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
  mayCreateTopics: true,
};

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The session cookie's value from a Set-Cookie answer. */
function cookieOf(setCookie: string[] | undefined): string {
  const line = (setCookie ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(line, `a session cookie in ${JSON.stringify(setCookie)}`);
  return line!.split(';')[0];
}

async function login(port: number, user: string, password: string): Promise<string> {
  const answer = await request(port, 'POST', '/api/v1/login', { body: { username: user, password } });
  assert.is(answer.status, 200, answer.text);
  return cookieOf(answer.headers['set-cookie']);
}

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-httpauth-'));
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': dataDir,
    'log-level': 'error',
  });
  running = await startBroker(config, silentLogger);
  await until(() => readiness(running.broker, true).ready, { what: 'the broker to be ready', timeoutMs: 30_000 });
  credentials.set('alice', 'alice-secret', 'SCRAM-SHA-512');
  credentials.set('bob', 'bob-secret', 'SCRAM-SHA-256');
});

test.after(async () => {
  for (const server of servers) await server.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('settings: off by default, on with SASL on the Kafka side, explicit keys win, bad values refused', () => {
  assert.is(parseHttpAuthSettings({}, false).enabled, false);
  assert.is(parseHttpAuthSettings({ 'sasl.enabled.mechanisms': 'SCRAM-SHA-256' }, false).enabled, true);
  assert.is(parseHttpAuthSettings({ listeners: 'SASL_SSL://:9092' }, false).enabled, true);
  assert.is(parseHttpAuthSettings({ 'sasl.oauthbearer.expected.audience': 'brook' }, true).bearer, true);
  assert.is(
    parseHttpAuthSettings({ 'sasl.enabled.mechanisms': 'SCRAM-SHA-256', 'brook.http.auth.enable': 'false' }, false)
      .enabled,
    false,
  );
  const defaults = parseHttpAuthSettings({ 'brook.http.auth.enable': 'true' }, false);
  assert.equal(defaults.basicMechanisms, ['SCRAM-SHA-512', 'SCRAM-SHA-256']);
  assert.is(defaults.metrics, false);
  assert.throws(
    () => parseHttpAuthSettings({ 'brook.http.auth.enable': 'yes' }, false),
    (error: Error) => error instanceof ConfigError && /true or false/.test(error.message),
  );
  assert.throws(() => parseHttpAuthSettings({ 'brook.http.auth.sessions.max': '0' }, false), /sessions\.max/);
  assert.throws(() => parseHttpAuthSettings({ 'brook.http.auth.basic.mechanisms': 'PLAIN' }, false), /SCRAM/);
  assert.throws(() => parseHttpAuthSettings({ 'brook.http.auth.bearer.enable': 'true' }, false), /oauthbearer/);
  assert.throws(
    () => parseHttpAuthSettings({ 'brook.http.auth.enable': 'true', 'brook.http.auth.basic.enable': 'false' }, false),
    /Basic/,
  );
});

test('Basic: the right password passes, a wrong one or an unknown user is 401 with a challenge', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true' });
  const ok = await request(port, 'GET', '/api/v1/whoami', {
    headers: { authorization: basic('alice', 'alice-secret') },
  });
  assert.is(ok.status, 200, ok.text);
  assert.equal(ok.json, {
    principal: 'User:alice',
    authenticationEnabled: true,
    method: 'basic',
    expiresAt: null,
    ...NO_AUTHORIZER,
  });
  const sha256 = await request(port, 'GET', '/api/v1/cluster', {
    headers: { authorization: basic('bob', 'bob-secret') },
  });
  assert.is(sha256.status, 200, sha256.text);
  assert.is(sha256.json.brokers.length, 1);
  for (const authorization of [
    basic('alice', 'guessed-pw'),
    basic('mallory', 'alice-secret'),
    'Basic !!!',
    'Digest x',
  ]) {
    const started = Date.now();
    const refused = await request(port, 'GET', '/api/v1/cluster', { headers: { authorization } });
    assert.is(refused.status, 401, `${authorization}: ${refused.text}`);
    assert.match(refused.headers['www-authenticate'] ?? '', /^Basic realm="brook"/);
    assert.is(refused.json.error.code, 'unauthorized');
    assert.not.match(refused.text, /alice-secret|guessed-pw|mallory/, 'no secret in the answer');
    if (authorization.includes('Basic ') && authorization !== 'Basic !!!')
      assert.ok(Date.now() - started >= 15, 'a failure is answered after the delay');
  }
});

test('Basic: a verified password is remembered (bounded), and a changed password is not', async () => {
  const { port, server } = await serve({
    'brook.http.auth.enable': 'true',
    'brook.http.auth.basic.cache.entries.max': '2',
  });
  const authenticator = server.access.authenticator!;
  credentials.set('carol', 'carol-1');
  const asCarol = (password: string) =>
    request(port, 'GET', '/api/v1/whoami', { headers: { authorization: basic('carol', password) } });
  assert.is((await asCarol('carol-1')).status, 200);
  assert.is(authenticator.cachedVerifications, 1);
  assert.is((await asCarol('carol-1')).status, 200);
  assert.is(authenticator.cachedVerifications, 1);
  credentials.set('carol', 'carol-2');
  assert.is((await asCarol('carol-1')).status, 401, 'the old password stops at once');
  assert.is((await asCarol('carol-2')).status, 200);
  await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: basic('alice', 'alice-secret') } });
  await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: basic('bob', 'bob-secret') } });
  assert.is(authenticator.cachedVerifications, 2, 'the cache keeps its bound');
  // The cached entry expires with the clock.
  clock += 61_000;
  assert.is((await asCarol('carol-2')).status, 200);
});

test('failed attempts from one address are limited: 429 with Retry-After, even for a right password', async () => {
  const { port } = await serve({
    'brook.http.auth.enable': 'true',
    'brook.http.auth.failures.per.minute.max': '3',
  });
  for (let i = 0; i < 3; i++)
    assert.is(
      (await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: basic('alice', `guess${i}`) } }))
        .status,
      401,
    );
  const limited = await request(port, 'GET', '/api/v1/whoami', {
    headers: { authorization: basic('alice', 'alice-secret') },
  });
  assert.is(limited.status, 429, limited.text);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  const form = await request(port, 'POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-secret' } });
  assert.is(form.status, 429, 'the login is limited too');
  clock += 60_000;
  const later = await request(port, 'GET', '/api/v1/whoami', {
    headers: { authorization: basic('alice', 'alice-secret') },
  });
  assert.is(later.status, 200, 'a minute later the address may try again');
});

test('Bearer: a JWT passes until it expires; a forged, foreign or expired one is 401', async () => {
  const secretFile = path.join(dataDir, 'token-secret');
  fs.writeFileSync(secretFile, TOKEN_SECRET, { mode: 0o600 });
  const { port } = await serve({
    'brook.http.auth.enable': 'true',
    'brook.sasl.oauthbearer.hmac.secret.file': secretFile,
    'sasl.oauthbearer.expected.audience': 'brook',
    'sasl.oauthbearer.clock.skew.seconds': '0',
  });
  const expiresAtMs = Math.ceil((clock + 60_000) / 1000) * 1000;
  const token = jwt('dave', expiresAtMs);
  const ok = await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${token}` } });
  assert.is(ok.status, 200, ok.text);
  assert.is(ok.json.principal, 'User:dave');
  assert.is(ok.json.method, 'bearer');
  assert.is(ok.json.expiresAt, new Date(expiresAtMs).toISOString());
  const created = await request(port, 'POST', '/api/v1/topics', {
    body: { name: 'made-with-a-token', partitions: 1 },
    headers: { authorization: `Bearer ${token}` },
  });
  assert.is(created.status, 201, `a write with a token needs no CSRF header: ${created.text}`);
  const foreign = jwt('dave', expiresAtMs, crypto.randomBytes(32));
  const tampered = token.replace(/\.([^.]+)\./, (_, payload: string) => {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    return `.${Buffer.from(JSON.stringify({ ...claims, sub: 'root' })).toString('base64url')}.`;
  });
  for (const bad of [foreign, tampered, 'not.a.jwt', `${token}x`]) {
    const refused = await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${bad}` } });
    assert.is(refused.status, 401, refused.text);
    assert.match(refused.headers['www-authenticate'] ?? '', /Bearer realm="brook"/);
    assert.not.match(refused.text, /root|signature/, 'why is not told');
  }
  clock = expiresAtMs;
  const expired = await request(port, 'GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${token}` } });
  assert.is(expired.status, 401, 'expired');
  // An https JWKS endpoint is fetched when the listener starts; one that cannot be had stops the start.
  const unreachable = await freePort();
  const failed = await serve({ 'sasl.oauthbearer.jwks.endpoint.url': `https://127.0.0.1:${unreachable}/jwks` }).catch(
    (error: Error) => error,
  );
  assert.ok(failed instanceof ConfigError, String(failed));
  assert.match((failed as Error).message, /JWKS/);
  // The OAUTHBEARER settings alone turn authentication on.
  const implied = await serve({ 'brook.sasl.oauthbearer.hmac.secret.file': secretFile });
  assert.is((await request(implied.port, 'GET', '/api/v1/whoami')).status, 401);
});

test('without credentials: writes and reads are 401; /health, /ready and /metrics stay open', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true' });
  const writes: [string, string, unknown][] = [
    ['POST', '/api/v1/topics', { name: 'refused' }],
    ['DELETE', '/api/v1/topics/anything', undefined],
    ['PATCH', '/api/v1/topics/anything/configs', { set: {} }],
    ['POST', '/api/v1/topics/anything/records', { records: [] }],
    ['POST', '/api/v1/groups/g/reset-offsets', {}],
    ['DELETE', '/api/v1/groups/g', undefined],
  ];
  for (const [method, url, body] of writes) {
    const answer = await request(port, method, url, { body });
    assert.is(answer.status, 401, `${method} ${url}: ${answer.text}`);
    assert.ok(answer.headers['www-authenticate'], 'a challenge');
  }
  for (const url of ['/api/v1/cluster', '/api/v1/topics', '/api/v1/whoami', '/api/v1/openapi.json'])
    assert.is((await request(port, 'GET', url)).status, 401, url);
  assert.ok(!running.broker.quorum.image.topicsByName.has('refused'));
  assert.is((await request(port, 'GET', '/health')).status, 200);
  assert.is((await request(port, 'GET', '/ready')).status, 200);
  assert.is((await request(port, 'GET', '/metrics')).status, 200);
  // The console's files are public: the login page is one of them.
  assert.is((await request(port, 'GET', '/console/login.html')).status, 200);
  // The console's own requests are not answered with a challenge the browser would prompt for.
  const fromConsole = await request(port, 'GET', '/api/v1/cluster', { headers: { [CSRF_HEADER]: '1' } });
  assert.match(fromConsole.headers['www-authenticate'] ?? '', /^Session /);

  const closed = await serve({ 'brook.http.auth.enable': 'true', 'brook.http.auth.metrics': 'true' });
  assert.is((await request(closed.port, 'GET', '/metrics')).status, 401);
  const metrics = await request(closed.port, 'GET', '/metrics', {
    headers: { authorization: basic('alice', 'alice-secret') },
  });
  assert.is(metrics.status, 200);
});

test('hostile credentials are refused without harm: oversized, malformed, binary', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true', 'brook.http.auth.failures.per.minute.max': '1000' });
  const hostile = [
    basic('alice', 'x'.repeat(9000)),
    `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
    `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x00, 0x01]).toString('base64')}`,
    basic('', 'alice-secret'),
    basic('alice\u0000', 'alice-secret'),
    'Bearer ',
    'Bearer a b c',
    `Bearer ${'t'.repeat(9000)}`,
    'Basic',
    ' ',
  ];
  for (const authorization of hostile) {
    const answer = await request(port, 'GET', '/api/v1/whoami', { headers: { authorization } });
    assert.is(answer.status, 401, `${authorization.slice(0, 40)}: ${answer.text}`);
  }
  for (const cookie of [
    `${SESSION_COOKIE}=`,
    `${SESSION_COOKIE}=../../etc`,
    `${SESSION_COOKIE}=${'A'.repeat(5000)}`,
    `a=b; ${SESSION_COOKIE}; c`,
    ';;;===;;',
  ])
    assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { cookie } })).status, 401, cookie.slice(0, 40));
  assert.is((await request(port, 'GET', '/health')).status, 200, 'the listener is unharmed');
});

test('with authentication off everyone is User:ANONYMOUS and login says so', async () => {
  const { port } = await serve({});
  const whoami = await request(port, 'GET', '/api/v1/whoami');
  assert.equal(whoami.json, {
    principal: 'User:ANONYMOUS',
    authenticationEnabled: false,
    method: null,
    expiresAt: null,
    ...NO_AUTHORIZER,
  });
  const loginOff = await request(port, 'POST', '/api/v1/login', { body: { username: 'alice', password: 'x' } });
  assert.is(loginOff.status, 409);
  const crossSite = await request(port, 'POST', '/api/v1/topics', {
    body: { name: 'cross-site' },
    headers: { origin: 'http://attacker.example' },
  });
  assert.is(crossSite.status, 403, 'no cross-site writes even with authentication off');
});

test('Host allowlist: another Host is 421 (DNS rebinding); the defaults and brook.http.allowed.hosts', async () => {
  const { port } = await serve({}, { advertisedHost: 'broker-1.example' });
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'broker-1.example', 'LOCALHOST.'])
    assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { host } })).status, 200, host);
  for (const host of ['attacker.example', `attacker.example:${port}`, '127.0.0.1.attacker.example']) {
    const refused = await request(port, 'GET', '/api/v1/whoami', { headers: { host } });
    assert.is(refused.status, 421, host);
    assert.is(refused.json.error.code, 'misdirected-request');
    assert.is((await request(port, 'GET', '/', { headers: { host } })).status, 421, 'the console too');
  }
  assert.is((await request(port, 'GET', '/health', { headers: { host: 'lb.internal' } })).status, 200, 'probes');
  const listed = await serve({ 'brook.http.allowed.hosts': 'brook.example.com, 10.0.0.5' });
  assert.is(
    (await request(listed.port, 'GET', '/api/v1/whoami', { headers: { host: 'brook.example.com:443' } })).status,
    200,
  );
  assert.is((await request(listed.port, 'GET', '/api/v1/whoami')).status, 421, 'only the listed names');
  const any = await serve({ 'brook.http.allowed.hosts': '*' });
  assert.is((await request(any.port, 'GET', '/api/v1/whoami', { headers: { host: 'x.example' } })).status, 200);
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { host: 'attacker.example' } });
  assert.is(await upgradeStatus(socket), 421);
});

test('console login: session cookie flags, reads and CSRF-checked writes with it, logout', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true' });
  const answer = await request(port, 'POST', '/api/v1/login', {
    body: { username: 'alice', password: 'alice-secret' },
    headers: { origin: `http://127.0.0.1:${port}` },
  });
  assert.is(answer.status, 200, answer.text);
  assert.is(answer.json.principal, 'User:alice');
  const setCookie = answer.headers['set-cookie']![0];
  assert.match(setCookie, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; `), 'a 32-byte id');
  for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200'])
    assert.ok(setCookie.includes(flag), flag);
  assert.not.ok(setCookie.includes('Secure'), 'not Secure over plain HTTP');
  const cookie = cookieOf(answer.headers['set-cookie']);
  const whoami = await request(port, 'GET', '/api/v1/whoami', { headers: { cookie } });
  assert.is(whoami.json.principal, 'User:alice');
  assert.is(whoami.json.method, 'session');

  const create = { name: 'made-with-a-session', partitions: 1 };
  const noHeader = await request(port, 'POST', '/api/v1/topics', { body: create, headers: { cookie } });
  assert.is(noHeader.status, 403, noHeader.text);
  assert.is(noHeader.json.error.code, 'csrf-header-missing');
  const crossSite = await request(port, 'POST', '/api/v1/topics', {
    body: create,
    headers: { cookie, [CSRF_HEADER]: '1', origin: 'http://attacker.example' },
  });
  assert.is(crossSite.status, 403);
  assert.is(crossSite.json.error.code, 'cross-origin');
  const made = await request(port, 'POST', '/api/v1/topics', {
    body: create,
    headers: { cookie, [CSRF_HEADER]: '1', origin: `http://127.0.0.1:${port}` },
  });
  assert.is(made.status, 201, made.text);
  // A cross-site write is refused with Basic too (browsers resend cached Basic credentials).
  const crossSiteBasic = await request(port, 'DELETE', '/api/v1/topics/made-with-a-session', {
    headers: { authorization: basic('alice', 'alice-secret'), origin: 'http://attacker.example' },
  });
  assert.is(crossSiteBasic.status, 403);
  // Basic from a program (no Origin): no CSRF header needed.
  const deleted = await request(port, 'DELETE', '/api/v1/topics/made-with-a-session', {
    headers: { authorization: basic('alice', 'alice-secret') },
  });
  assert.is(deleted.status, 204, deleted.text);

  const crossLogin = await request(port, 'POST', '/api/v1/login', {
    body: { username: 'alice', password: 'alice-secret' },
    headers: { origin: 'http://attacker.example' },
  });
  assert.is(crossLogin.status, 403, 'no login from another site');

  // Logging in again (the form sends no CSRF header) gives a new id and ends the old session.
  const relogin = await request(port, 'POST', '/api/v1/login', {
    raw: 'username=alice&password=alice-secret',
    contentType: 'application/x-www-form-urlencoded',
    headers: { cookie },
  });
  assert.is(relogin.status, 303, relogin.text);
  const renewed = cookieOf(relogin.headers['set-cookie']);
  assert.is.not(renewed, cookie);
  assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { cookie } })).status, 401, 'the old id ended');
  assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { cookie: renewed } })).status, 200);

  const logout = await request(port, 'POST', '/api/v1/logout', { headers: { cookie: renewed, [CSRF_HEADER]: '1' } });
  assert.is(logout.status, 204);
  assert.match(logout.headers['set-cookie']![0], new RegExp(`^${SESSION_COOKIE}=; .*Max-Age=0`));
  assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { cookie: renewed } })).status, 401, 'ended');
  const forged = `${SESSION_COOKIE}=${'A'.repeat(43)}`;
  assert.is((await request(port, 'GET', '/api/v1/whoami', { headers: { cookie: forged } })).status, 401);
});

test('the login form: a redirect to the console with the cookie, or back to the page with the failure', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true' });
  const form = (password: string) =>
    request(port, 'POST', '/api/v1/login', {
      raw: new URLSearchParams({ username: 'bob', password }).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
  const ok = await form('bob-secret');
  assert.is(ok.status, 303);
  assert.is(ok.headers.location, '/');
  cookieOf(ok.headers['set-cookie']);
  const failed = await form('nope');
  assert.is(failed.status, 303);
  assert.is(failed.headers.location, '/console/login.html?failed=credentials');
  assert.is(failed.headers['set-cookie'], undefined);
  const tooBig = await request(port, 'POST', '/api/v1/login', {
    raw: 'username=a&password=' + 'x'.repeat(20_000),
    contentType: 'application/x-www-form-urlencoded',
  });
  assert.is(tooBig.status, 413);
  for (const body of ['[]', '{"username": 1}', 'not json'])
    assert.is((await request(port, 'POST', '/api/v1/login', { raw: body })).status, 400, body);
  assert.is((await request(port, 'POST', '/api/v1/login', { raw: 'x', contentType: 'text/plain' })).status, 415);
});

test('sessions end when idle, at their maximum age, and the oldest when the table is full', async () => {
  const { port, server } = await serve({
    'brook.http.auth.enable': 'true',
    'brook.http.auth.session.idle.ms': '10000',
    'brook.http.auth.session.max.ms': '25000',
    'brook.http.auth.sessions.max': '2',
  });
  const status = async (cookie: string) =>
    (await request(port, 'GET', '/api/v1/whoami', { headers: { cookie } })).status;
  const idle = await login(port, 'alice', 'alice-secret');
  clock += 9000;
  assert.is(await status(idle), 200, 'used within the idle time');
  clock += 9000;
  assert.is(await status(idle), 200, 'the use renewed it');
  clock += 10_000;
  assert.is(await status(idle), 401, 'idle too long');

  const aged = await login(port, 'alice', 'alice-secret');
  for (let i = 0; i < 3; i++) {
    clock += 8000;
    assert.is(await status(aged), 200);
  }
  clock += 8000;
  assert.is(await status(aged), 401, 'past session.max.ms, used or not');

  const first = await login(port, 'alice', 'alice-secret');
  const second = await login(port, 'bob', 'bob-secret');
  const third = await login(port, 'bob', 'bob-secret');
  assert.is(server.access.sessions!.size, 2);
  assert.is(await status(first), 401, 'the least recently used left the full table');
  assert.is(await status(second), 200);
  assert.is(await status(third), 200);
});

/** The status an upgrade was refused with, or 101 when it opened (the socket is then closed). */
function upgradeStatus(socket: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the upgrade')), WAIT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(response.statusCode ?? 0);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

test('WebSocket: anonymous and cross-origin upgrades refused; a session socket closes at logout', async () => {
  const { port } = await serve({ 'brook.http.auth.enable': 'true' });
  const url = `ws://127.0.0.1:${port}/api/v1/live`;
  const origin = `http://127.0.0.1:${port}`;
  assert.is(await upgradeStatus(new WebSocket(url, { origin })), 401, 'anonymous');
  assert.is(await upgradeStatus(new WebSocket(url, { headers: { authorization: basic('alice', 'no') } })), 401);
  const cookie = await login(port, 'alice', 'alice-secret');
  assert.is(await upgradeStatus(new WebSocket(url, { origin: 'http://attacker.example', headers: { cookie } })), 403);
  assert.is(await upgradeStatus(new WebSocket(url, { headers: { authorization: basic('bob', 'bob-secret') } })), 101);

  const socket = new WebSocket(url, { origin, headers: { cookie } });
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()).type));
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await until(() => messages.includes('stats'), { what: 'stats on the session socket', timeoutMs: WAIT_MS });
  await request(port, 'POST', '/api/v1/logout', { headers: { cookie, [CSRF_HEADER]: '1' } });
  const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), WAIT_MS))]);
  assert.is(code, 1008, 'closed with policy violation once the session ended');
});

test('the start warns when the listener is reachable beyond loopback without authentication', () => {
  assert.match(insecureListenerWarning('0.0.0.0', false) ?? '', /without authentication/);
  assert.ok(insecureListenerWarning('10.1.2.3', false));
  assert.is(insecureListenerWarning('127.0.0.1', false), null);
  assert.is(insecureListenerWarning('::1', false), null);
  assert.is(insecureListenerWarning('localhost', false), null);
  assert.is(insecureListenerWarning('0.0.0.0', true), null);
});

test.run();
