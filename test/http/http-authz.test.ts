// Authorization of the HTTP API with the Kafka port's ACLs, against a broker started in this
// process with the StandardAuthorizer on and HTTP Basic users alice, bob and admin (a super
// user): the topic and group lists show only what a principal may Describe, with each
// entry's authorized operations; refusals are 403 with Kafka's error name, the operation
// and the resource, and do not tell whether a topic the principal may not Describe exists;
// whoami says what the principal may do; ACL hosts match the HTTP peer address; a live
// tail needs Read; internal topics are not altered; without an authorizer everything is
// allowed as before.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config/config';
import { bundledClientWarning, RequestAuthorization } from '../../src/http/authorization';
import type { ClientSecurity } from '../../src/security/client-config';
import { HttpServer } from '../../src/http/http-server';
import { readiness } from '../../src/http/readiness';
import { silentLogger } from '../../src/logger';
import type { Broker } from '../../src/broker/broker';
import { userPrincipal } from '../../src/security/principal';
import { CredentialStore, deriveScramCredential, ScramCredential, ScramMechanism } from '../../src/security/scram';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { AclOperation as Op, allow, PatternType, ResourceType, TestAcls } from '../helpers/http-acls';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';
import { request } from './http-client';

const WAIT_MS = 15_000;

class MemoryCredentials implements CredentialStore {
  private readonly users = new Map<string, ScramCredential>();
  set(user: string, password: string): void {
    this.users.set(user, deriveScramCredential('SCRAM-SHA-256', password));
  }
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return mechanism === 'SCRAM-SHA-256' ? this.users.get(user) : undefined;
  }
}

let running: RunningBroker;
let acls: TestAcls;
let dataDir: string;
let server: HttpServer;
let port: number;
const credentials = new MemoryCredentials();

const auth = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}` });
const as = (user: string, method: string, url: string, body?: unknown) =>
  request(port, method, url, { headers: auth(user), body });

function assertRefused(
  answer: { status: number; json: any; text: string },
  code: string,
  operation: string,
  resourceName: string,
): void {
  assert.is(answer.status, 403, answer.text);
  assert.is(answer.json.error.code, code);
  assert.is(answer.json.error.operation, operation);
  assert.is(answer.json.error.resourceName, resourceName);
  assert.match(answer.json.error.message, operation);
}

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-httpauthz-'));
  const configFile = path.join(dataDir, 'server.properties');
  // The bundled clients reach the PLAINTEXT listener as User:ANONYMOUS: the broker's own
  // principal, a super user as an inter-broker principal must be.
  fs.writeFileSync(
    configFile,
    [
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users=User:admin;User:ANONYMOUS',
      'offsets.topic.num.partitions=2',
    ].join('\n'),
  );
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': path.join(dataDir, 'data'),
    'log-level': 'error',
    config: configFile,
  });
  running = await startBroker(config, silentLogger);
  await until(() => readiness(running.broker, true).ready, { what: 'the broker to be ready', timeoutMs: 30_000 });
  acls = await TestAcls.connect(`127.0.0.1:${running.kafkaPort}`, running.broker);
  for (const user of ['alice', 'bob', 'admin']) credentials.set(user, `${user}-pw`);
  server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    broker: running.broker,
    kafkaBootstrap: () => `127.0.0.1:${running.kafkaPort}`,
    connections: () => 0,
    kafkaListening: () => true,
    logger: silentLogger,
    securityKeys: { 'brook.http.auth.enable': 'true', 'brook.http.auth.failure.delay.ms': '20' },
    credentials,
  });
  port = await server.listen();
  for (const name of ['alice-a', 'alice-b', 'other']) {
    const created = await as('admin', 'POST', '/api/v1/topics', { name, partitions: 1 });
    assert.is(created.status, 201, created.text);
  }
  const prefixed = { patternType: PatternType.PREFIXED };
  await acls.add([
    allow('User:alice', Op.READ, ResourceType.TOPIC, 'alice-', prefixed),
    allow('User:alice', Op.WRITE, ResourceType.TOPIC, 'alice-', prefixed),
    allow('User:alice', Op.DELETE, ResourceType.TOPIC, 'alice-a'),
    allow('User:alice', Op.ALTER_CONFIGS, ResourceType.TOPIC, 'alice-b'),
    allow('User:alice', Op.READ, ResourceType.GROUP, 'alice-', prefixed),
  ]);
});

test.after(async () => {
  acls?.close();
  await server?.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('whoami: the authorizer, super user, cluster operations and topic creation per principal', async () => {
  const admin = await as('admin', 'GET', '/api/v1/whoami');
  assert.is(admin.status, 200, admin.text);
  assert.is(admin.json.principal, 'User:admin');
  assert.is(admin.json.authorizerEnabled, true);
  assert.is(admin.json.superUser, true);
  assert.ok(admin.json.clusterOperations.includes('DESCRIBE'));
  assert.ok(admin.json.clusterOperations.includes('CREATE'));
  assert.is(admin.json.mayCreateTopics, true);
  const alice = await as('alice', 'GET', '/api/v1/whoami');
  assert.is(alice.json.principal, 'User:alice');
  assert.is(alice.json.superUser, false);
  assert.equal(alice.json.clusterOperations, []);
  assert.is(alice.json.mayCreateTopics, false);
  assert.equal(alice.json.topicOperations, [
    'READ',
    'WRITE',
    'DELETE',
    'DESCRIBE',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
  ]);
  const bob = await as('bob', 'GET', '/api/v1/whoami');
  assert.equal(bob.json.topicOperations, []);
});

test('topic list: alice sees only her topics, with their authorized operations; admin sees all', async () => {
  const alice = await as('alice', 'GET', '/api/v1/topics');
  assert.is(alice.status, 200, alice.text);
  assert.equal(
    alice.json.topics.map((t: any) => t.name),
    ['alice-a', 'alice-b'],
  );
  assert.is(alice.json.total, 2);
  const [a, b] = alice.json.topics;
  assert.equal(a.authorizedOperations, ['READ', 'WRITE', 'DELETE', 'DESCRIBE']);
  assert.equal(b.authorizedOperations, ['READ', 'WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS']);
  const bob = await as('bob', 'GET', '/api/v1/topics');
  assert.is(bob.status, 200);
  assert.equal(bob.json.topics, []);
  const admin = await as('admin', 'GET', '/api/v1/topics');
  const names = admin.json.topics.map((t: any) => t.name);
  for (const name of ['alice-a', 'alice-b', 'other']) assert.ok(names.includes(name), name);
  assert.ok(admin.json.topics[0].authorizedOperations.includes('ALTER'));
});

test('describe and delete: 403 naming the operation, existence hidden without Describe', async () => {
  assertRefused(await as('alice', 'GET', '/api/v1/topics/other'), 'TOPIC_AUTHORIZATION_FAILED', 'DESCRIBE', 'other');
  assertRefused(
    await as('alice', 'GET', '/api/v1/topics/no-such-topic'),
    'TOPIC_AUTHORIZATION_FAILED',
    'DESCRIBE',
    'no-such-topic',
  );
  // alice may Describe alice-* names, so she is told one does not exist.
  assert.is((await as('alice', 'GET', '/api/v1/topics/alice-missing')).status, 404);
  const described = await as('alice', 'GET', '/api/v1/topics/alice-a');
  assert.is(described.status, 200, described.text);
  assert.is(described.json.configs, null, 'no DescribeConfigs on alice-a: no configs');
  assert.ok(described.json.authorizedOperations.includes('DELETE'));
  assert.ok(Array.isArray((await as('alice', 'GET', '/api/v1/topics/alice-b')).json.configs));

  assertRefused(
    await as('alice', 'DELETE', '/api/v1/topics/alice-b'),
    'TOPIC_AUTHORIZATION_FAILED',
    'DELETE',
    'alice-b',
  );
  assertRefused(await as('alice', 'DELETE', '/api/v1/topics/other'), 'TOPIC_AUTHORIZATION_FAILED', 'DELETE', 'other');
  assertRefused(await as('bob', 'DELETE', '/api/v1/topics/alice-a'), 'TOPIC_AUTHORIZATION_FAILED', 'DELETE', 'alice-a');
  // A hostile name is named back cut short.
  const long = await as('bob', 'DELETE', `/api/v1/topics/${'x'.repeat(5000)}`);
  assert.is(long.status, 403);
  assert.ok(long.json.error.resourceName.length <= 258 && long.json.error.message.length < 400);
  assert.ok(running.broker.quorum.image.topicsByName.has('alice-b'));
  assert.is((await as('alice', 'DELETE', '/api/v1/topics/alice-a')).status, 204);
  assert.not.ok(running.broker.quorum.image.topicsByName.has('alice-a'));
  const again = await as('admin', 'POST', '/api/v1/topics', { name: 'alice-a', partitions: 1 });
  assert.is(again.status, 201, again.text);
});

test('a console session carries the same principal: the list is filtered, a refused write is 403', async () => {
  const login = await request(port, 'POST', '/api/v1/login', { body: { username: 'alice', password: 'alice-pw' } });
  assert.is(login.status, 200, login.text);
  const cookie = (login.headers['set-cookie'] ?? [])[0].split(';')[0];
  const headers = { cookie, 'x-brook-csrf': '1' };
  const listed = await request(port, 'GET', '/api/v1/topics', { headers });
  assert.equal(
    listed.json.topics.map((t: any) => t.name),
    ['alice-a', 'alice-b'],
  );
  const refused = await request(port, 'DELETE', '/api/v1/topics/other', { headers });
  assertRefused(refused, 'TOPIC_AUTHORIZATION_FAILED', 'DELETE', 'other');
});

test('create needs Create on the cluster or the topic', async () => {
  assertRefused(
    await as('alice', 'POST', '/api/v1/topics', { name: 'alice-new' }),
    'TOPIC_AUTHORIZATION_FAILED',
    'CREATE',
    'alice-new',
  );
  const granted = await acls.add([allow('User:bob', Op.CREATE, ResourceType.TOPIC, 'bob-new')]);
  try {
    assert.is((await as('bob', 'GET', '/api/v1/whoami')).json.mayCreateTopics, true);
    assertRefused(
      await as('bob', 'POST', '/api/v1/topics', { name: 'bob-other' }),
      'TOPIC_AUTHORIZATION_FAILED',
      'CREATE',
      'bob-other',
    );
    const created = await as('bob', 'POST', '/api/v1/topics', { name: 'bob-new', partitions: 1 });
    assert.is(created.status, 201, created.text);
  } finally {
    await acls.remove(granted);
  }
});

test('records: Write to produce, Read to read', async () => {
  const produced = await as('alice', 'POST', '/api/v1/topics/alice-b/records', { records: [{ value: 'hi' }] });
  assert.is(produced.status, 200, produced.text);
  assert.is(produced.json.offsets[0].offset, 0);
  const read = await as('alice', 'GET', '/api/v1/topics/alice-b/partitions/0/records?offset=0');
  assert.is(read.status, 200, read.text);
  assert.is(read.json.records[0].value, 'hi');
  assertRefused(
    await as('alice', 'POST', '/api/v1/topics/other/records', { records: [{ value: 'x' }] }),
    'TOPIC_AUTHORIZATION_FAILED',
    'WRITE',
    'other',
  );
  assertRefused(
    await as('bob', 'GET', '/api/v1/topics/alice-b/partitions/0/records'),
    'TOPIC_AUTHORIZATION_FAILED',
    'READ',
    'alice-b',
  );
});

test('configs: DescribeConfigs to read, AlterConfigs to change; internal topics are not altered', async () => {
  assertRefused(
    await as('alice', 'GET', '/api/v1/topics/alice-a/configs'),
    'TOPIC_AUTHORIZATION_FAILED',
    'DESCRIBE_CONFIGS',
    'alice-a',
  );
  assertRefused(
    await as('alice', 'PATCH', '/api/v1/topics/alice-a/configs', { set: { 'retention.ms': '60000' } }),
    'TOPIC_AUTHORIZATION_FAILED',
    'ALTER_CONFIGS',
    'alice-a',
  );
  const changed = await as('alice', 'PATCH', '/api/v1/topics/alice-b/configs', { set: { 'retention.ms': '60000' } });
  assert.is(changed.status, 200, changed.text);
  assert.is(changed.json.configs.find((c: any) => c.name === 'retention.ms').value, '60000');
  // min.insync.replicas and unclean.leader.election.enable also need Alter, as on the Kafka port.
  for (const change of [{ set: { 'min.insync.replicas': '1' } }, { delete: ['unclean.leader.election.enable'] }])
    assertRefused(
      await as('alice', 'PATCH', '/api/v1/topics/alice-b/configs', change),
      'TOPIC_AUTHORIZATION_FAILED',
      'ALTER',
      'alice-b',
    );
  const alter = await acls.add([allow('User:alice', Op.ALTER, ResourceType.TOPIC, 'alice-b')]);
  const durable = await as('alice', 'PATCH', '/api/v1/topics/alice-b/configs', { set: { 'min.insync.replicas': '1' } });
  assert.is(durable.status, 200, durable.text);
  await acls.remove(alter);
  assertRefused(
    await as('alice', 'POST', '/api/v1/topics/alice-b/partitions', { count: 2 }),
    'TOPIC_AUTHORIZATION_FAILED',
    'ALTER',
    'alice-b',
  );
  await until(() => running.broker.quorum.image.topicsByName.has('__consumer_offsets'), {
    what: '__consumer_offsets',
    timeoutMs: WAIT_MS,
  }).catch(() => undefined);
  if (running.broker.quorum.image.topicsByName.has('__consumer_offsets')) {
    const internal = await as('admin', 'PATCH', '/api/v1/topics/__consumer_offsets/configs', {
      set: { 'retention.ms': '1' },
    });
    assert.is(internal.status, 400, internal.text);
    assert.is(internal.json.error.code, 'INVALID_TOPIC_EXCEPTION');
    assert.is((await as('admin', 'POST', '/api/v1/topics/__consumer_offsets/partitions', { count: 9 })).status, 400);
    assert.is((await as('admin', 'DELETE', '/api/v1/topics/__consumer_offsets')).status, 400);
  }
});

test('cluster, quorum and log directories need Describe on the cluster', async () => {
  assertRefused(
    await as('alice', 'GET', '/api/v1/cluster'),
    'CLUSTER_AUTHORIZATION_FAILED',
    'DESCRIBE',
    'kafka-cluster',
  );
  assertRefused(await as('bob', 'GET', '/api/v1/quorum'), 'CLUSTER_AUTHORIZATION_FAILED', 'DESCRIBE', 'kafka-cluster');
  assert.is((await as('admin', 'GET', '/api/v1/cluster')).status, 200);
  assertRefused(
    await as('bob', 'GET', '/api/v1/log-dirs'),
    'CLUSTER_AUTHORIZATION_FAILED',
    'DESCRIBE',
    'kafka-cluster',
  );
  const dirs = await as('admin', 'GET', '/api/v1/log-dirs');
  assert.is(dirs.status, 200, dirs.text);
  assert.is(dirs.json.brokers[0].error, null);
  // /health and /ready stay open; /metrics keeps its own setting (brook.http.auth.metrics).
  assert.is((await request(port, 'GET', '/health')).status, 200);
  assert.is((await request(port, 'GET', '/metrics')).status, 200);
});

test('groups: listed and described by Describe, reset needs Read, delete needs Delete', async () => {
  for (const [group, topic] of [
    ['alice-g', 'alice-b'],
    ['other-g', 'other'],
  ]) {
    const reset = await as('admin', 'POST', `/api/v1/groups/${group}/reset-offsets`, { topic, to: 'earliest' });
    assert.is(reset.status, 200, reset.text);
  }
  const listed = await until(
    async () => {
      const answer = await as('admin', 'GET', '/api/v1/groups');
      const ids = (answer.json?.groups ?? []).map((g: any) => g.groupId);
      return ids.includes('alice-g') && ids.includes('other-g') ? answer : null;
    },
    { what: 'both groups listed', timeoutMs: WAIT_MS },
  );
  assert.ok(listed.json.groups[0].authorizedOperations.includes('DELETE'));
  const alice = await as('alice', 'GET', '/api/v1/groups');
  assert.equal(
    alice.json.groups.map((g: any) => g.groupId),
    ['alice-g'],
  );
  assert.equal(alice.json.groups[0].authorizedOperations, ['READ', 'DESCRIBE']);
  assertRefused(
    await as('alice', 'GET', '/api/v1/groups/other-g'),
    'GROUP_AUTHORIZATION_FAILED',
    'DESCRIBE',
    'other-g',
  );
  const described = await as('alice', 'GET', '/api/v1/groups/alice-g');
  assert.is(described.status, 200, described.text);
  assert.equal(
    described.json.offsets.map((o: any) => o.topic),
    ['alice-b'],
  );
  assertRefused(
    await as('alice', 'POST', '/api/v1/groups/alice-g/reset-offsets', { topic: 'other', to: 'latest' }),
    'TOPIC_AUTHORIZATION_FAILED',
    'READ',
    'other',
  );
  assertRefused(
    await as('alice', 'POST', '/api/v1/groups/other-g/reset-offsets', { topic: 'alice-b', to: 'latest' }),
    'GROUP_AUTHORIZATION_FAILED',
    'READ',
    'other-g',
  );
  const reset = await as('alice', 'POST', '/api/v1/groups/alice-g/reset-offsets', { topic: 'alice-b', to: 'latest' });
  assert.is(reset.status, 200, reset.text);
  assertRefused(
    await as('alice', 'DELETE', '/api/v1/groups/alice-g'),
    'GROUP_AUTHORIZATION_FAILED',
    'DELETE',
    'alice-g',
  );
  assert.is((await as('admin', 'DELETE', '/api/v1/groups/other-g')).status, 204);
});

test('ACL hosts match the HTTP peer address', async () => {
  const elsewhere = await acls.add([allow('User:bob', Op.DESCRIBE, ResourceType.TOPIC, 'other', { host: '10.1.2.3' })]);
  assert.equal((await as('bob', 'GET', '/api/v1/topics')).json.topics, []);
  const here = await acls.add([allow('User:bob', Op.DESCRIBE, ResourceType.TOPIC, 'other', { host: '127.0.0.1' })]);
  assert.equal(
    (await as('bob', 'GET', '/api/v1/topics')).json.topics.map((t: any) => t.name),
    ['other'],
  );
  await acls.remove([...elsewhere, ...here]);
});

test('a live tail needs Read on the topic', async () => {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: auth('alice') });
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  try {
    await until(() => messages.some((m) => m.type === 'hello'), { what: 'hello', timeoutMs: WAIT_MS });
    socket.send(JSON.stringify({ type: 'tail', topic: 'other' }));
    const refused = await until(() => messages.find((m) => m.type === 'error'), {
      what: 'the refusal',
      timeoutMs: WAIT_MS,
    });
    assert.is(refused.error.code, 'TOPIC_AUTHORIZATION_FAILED');
    socket.send(JSON.stringify({ type: 'tail', topic: 'alice-b' }));
    await until(() => messages.some((m) => m.type === 'tailing' && m.topic === 'alice-b'), {
      what: 'the tail of alice-b',
      timeoutMs: WAIT_MS,
    });
  } finally {
    socket.close();
  }
});

test('console: what alice is offered follows her answers; an older node without the fields offers everything', async () => {
  const source = path.join(__dirname, '..', '..', '..', 'src', 'http', 'console', 'permissions.js');
  // TypeScript would turn import() into require(); the browser module must load as a module.
  const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<any>;
  const shown = await importModule(`data:text/javascript;base64,${fs.readFileSync(source).toString('base64')}`);
  const whoami = (await as('alice', 'GET', '/api/v1/whoami')).json;
  const topics = (await as('alice', 'GET', '/api/v1/topics')).json.topics;
  shown.setWhoami(whoami);
  assert.is(shown.mayCreateTopics(), false, 'no create form');
  assert.is(shown.mayDescribeCluster(), false, 'no cluster tables');
  assert.is(shown.allowsSomeTopic('WRITE'), true, 'the produce page');
  assert.is(shown.allowsSomeTopic('ALTER'), false);
  const byName = Object.fromEntries(topics.map((t: any) => [t.name, shown.topicActions(t)]));
  assert.equal(byName['alice-a'], {
    read: true,
    produce: true,
    delete: true,
    addPartitions: false,
    describeConfigs: false,
    editConfigs: false,
  });
  assert.equal(byName['alice-b'], {
    read: true,
    produce: true,
    delete: false,
    addPartitions: false,
    describeConfigs: true,
    editConfigs: true,
  });
  shown.setWhoami((await as('bob', 'GET', '/api/v1/whoami')).json);
  assert.is(shown.allowsSomeTopic('READ'), false, 'bob: no messages page');
  assert.is(shown.allowsSomeTopic('WRITE'), false, 'bob: no produce page');
  const group = (await as('alice', 'GET', '/api/v1/groups/alice-g')).json;
  assert.equal(shown.groupActions(group), { resetOffsets: true, delete: false });
  shown.setWhoami((await as('admin', 'GET', '/api/v1/whoami')).json);
  assert.is(shown.mayCreateTopics(), true);
  assert.is(shown.mayDescribeCluster(), true);
  // Internal topics are never offered for writes, deletes or changes, whatever the ACLs say.
  const internal = shown.topicActions({ name: '__consumer_offsets', internal: true, authorizedOperations: ['ALL'] });
  assert.equal(
    [internal.read, internal.produce, internal.delete, internal.editConfigs, internal.addPartitions],
    [true, false, false, false, false],
  );
  shown.setWhoami({ principal: 'User:ANONYMOUS', authenticationEnabled: false });
  assert.is(shown.mayCreateTopics(), true);
  assert.is(shown.mayDescribeCluster(), true);
  assert.is(shown.allowsSomeTopic('READ'), true);
  assert.equal(Object.values(shown.topicActions({ name: 't', internal: false })), [true, true, true, true, true, true]);
  assert.equal(shown.groupActions({ groupId: 'g' }), { resetOffsets: true, delete: true });
});

test('a start warning when the bundled clients are not super users', () => {
  const broker = running.broker;
  assert.is(bundledClientWarning(broker, undefined), null, 'User:ANONYMOUS is a super user here');
  const scram = (username: string): ClientSecurity => ({
    protocol: 'SASL_PLAINTEXT',
    sasl: { mechanism: 'SCRAM-SHA-512', username, password: 'secret-pw' },
  });
  assert.is(bundledClientWarning(broker, scram('admin')), null);
  const warning = bundledClientWarning(broker, scram('http-client'))!;
  assert.match(warning, /User:http-client, which is not in super\.users/);
  assert.not.match(warning, /secret-pw/);
  assert.is(bundledClientWarning(broker, { protocol: 'SSL' }), null, 'a certificate names it: not known here');
  assert.is(bundledClientWarning({ authorizer: null } as unknown as Broker, scram('x')), null, 'no authorizer');
});

test('without an authorizer every operation is allowed and listed', () => {
  const authz = new RequestAuthorization({ authorizer: null } as unknown as Broker, userPrincipal('bob'), '127.0.0.1');
  assert.is(authz.enabled, false);
  assert.ok(authz.topic(Op.DELETE, 'anything'));
  authz.requireCluster(Op.ALTER);
  assert.equal(authz.operations(ResourceType.GROUP, 'g'), ['READ', 'DELETE', 'DESCRIBE']);
  assert.equal(authz.summary(), {
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
  });
});

test.run();
