// DescribeClientQuotas (48) and AlterClientQuotas (49) against brokers in this process:
// v0 and v1 over the wire, bad entities, keys, values and filters answered with Kafka's
// codes, validate_only, brook.max.client.quota.entries.per.request and
// brook.max.client.quota.entities, a truncated frame closing only its connection; the
// Admin client; `brook quotas describe|alter` with its usage errors; kafka-python when it
// has the quota APIs; and on a broker with an authorizer, DescribeConfigs / AlterConfigs on
// the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise, and nothing written).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { Admin } from '../../src/client/admin';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/security/acl';
import { rawRequest } from '../helpers/broker-process';
import { BrookRun, runBrook, runBrookInProcess } from '../helpers/brook-cli';
import { freePort } from '../helpers/ports';
import { PYTHON, pythonModuleMissing } from '../helpers/python';

const started: { running: RunningBroker; dataDir: string }[] = [];

/** A broker in this process with `settings` in its config file. */
async function broker(settings: Record<string, string> = {}): Promise<RunningBroker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-quotas-'));
  const config = path.join(dataDir, 'server.properties');
  fs.writeFileSync(
    config,
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(''),
  );
  const running = await startBroker(
    loadConfig({
      config,
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': `${dataDir}/data`,
      'log-level': 'error',
    }),
    silentLogger,
  );
  started.push({ running, dataDir });
  return running;
}

let plain: RunningBroker;
let bootstrap: string;

test.before(async () => {
  plain = await broker({
    'brook.max.client.quota.entries.per.request': '4',
    'brook.max.client.quota.entities': '8',
  });
  bootstrap = `127.0.0.1:${plain.kafkaPort}`;
});

test.after(async () => {
  for (const { running, dataDir } of started) {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

async function connect(port: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  await connection.connect();
  return connection;
}

type Pairs = { entityType: string; entityName: string | null }[];
const user = (name: string | null): Pairs => [{ entityType: 'user', entityName: name }];
const setOp = (key: string, value: number) => ({ key, value, remove: false });

test('v0 and v1 round trip: set, describe with filters, remove', async () => {
  const connection = await connect(plain.kafkaPort);
  try {
    for (const version of [0, 1]) {
      const name = `v${version}`;
      const altered = await connection.request(ApiKey.AlterClientQuotas, version, {
        entries: [
          { entity: user(name), ops: [setOp('producer_byte_rate', 1024), setOp('request_percentage', 12.5)] },
          {
            entity: [
              { entityType: 'user', entityName: name },
              { entityType: 'client-id', entityName: null },
            ],
            ops: [setOp('consumer_byte_rate', 4096)],
          },
        ],
        validateOnly: false,
      });
      assert.equal(
        altered.entries.map((e) => e.errorCode),
        [0, 0],
        JSON.stringify(altered),
      );
      const strict = await connection.request(ApiKey.DescribeClientQuotas, version, {
        components: [{ entityType: 'user', matchType: 0, match: name }],
        strict: true,
      });
      assert.is(strict.errorCode, 0);
      assert.equal(strict.entries, [
        {
          entity: user(name),
          values: [
            { key: 'producer_byte_rate', value: 1024 },
            { key: 'request_percentage', value: 12.5 },
          ],
        },
      ]);
      const loose = await connection.request(ApiKey.DescribeClientQuotas, version, {
        components: [{ entityType: 'user', matchType: 0, match: name }],
        strict: false,
      });
      assert.is(loose.entries!.length, 2);
      const defaults = await connection.request(ApiKey.DescribeClientQuotas, version, {
        components: [
          { entityType: 'user', matchType: 0, match: name },
          { entityType: 'client-id', matchType: 1, match: null },
        ],
        strict: true,
      });
      assert.equal(
        defaults.entries!.map((e) => e.values),
        [[{ key: 'consumer_byte_rate', value: 4096 }]],
      );
      const removed = await connection.request(ApiKey.AlterClientQuotas, version, {
        entries: [
          {
            entity: user(name),
            ops: [
              { key: 'producer_byte_rate', value: 0, remove: true },
              { key: 'request_percentage', value: 0, remove: true },
            ],
          },
        ],
        validateOnly: false,
      });
      assert.is(removed.entries[0].errorCode, 0);
      const after = await connection.request(ApiKey.DescribeClientQuotas, version, {
        components: [{ entityType: 'user', matchType: 0, match: name }],
        strict: true,
      });
      assert.equal(after.entries, []);
    }
  } finally {
    connection.close();
  }
});

test("bad alterations and filters get Kafka's codes over the wire; validate_only writes nothing", async () => {
  const connection = await connect(plain.kafkaPort);
  try {
    const altered = await connection.request(ApiKey.AlterClientQuotas, 1, {
      entries: [
        { entity: [{ entityType: 'group', entityName: 'g' }], ops: [setOp('producer_byte_rate', 1)] },
        {
          entity: [
            { entityType: 'ip', entityName: '10.0.0.1' },
            { entityType: 'user', entityName: 'u' },
          ],
          ops: [setOp('connection_creation_rate', 1)],
        },
        { entity: user('frac'), ops: [setOp('producer_byte_rate', 1.5)] },
        { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [setOp('producer_byte_rate', 5)] },
      ],
      validateOnly: false,
    });
    assert.equal(
      altered.entries.map((e) => [e.errorCode, e.entity.length]),
      [
        [ErrorCode.INVALID_REQUEST, 1],
        [ErrorCode.INVALID_REQUEST, 2],
        [ErrorCode.INVALID_REQUEST, 1],
        [ErrorCode.INVALID_REQUEST, 1],
      ],
    );
    assert.match(altered.entries[3].errorMessage!, /Invalid configuration key producer_byte_rate/);
    const validated = await connection.request(ApiKey.AlterClientQuotas, 1, {
      entries: [
        { entity: user('dry'), ops: [setOp('producer_byte_rate', 10)] },
        { entity: user('dry-bad'), ops: [setOp('producer_byte_rate', -10)] },
      ],
      validateOnly: true,
    });
    assert.equal(
      validated.entries.map((e) => e.errorCode),
      [ErrorCode.NONE, ErrorCode.INVALID_REQUEST],
    );
    const dry = await connection.request(ApiKey.DescribeClientQuotas, 1, {
      components: [{ entityType: 'user', matchType: 0, match: 'dry' }],
      strict: false,
    });
    assert.equal(dry.entries, [], 'validate_only wrote nothing');
    const tooMany = await connection.request(ApiKey.AlterClientQuotas, 1, {
      entries: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ entity: user(name), ops: [setOp('producer_byte_rate', 1)] })),
      validateOnly: false,
    });
    assert.is(tooMany.entries.length, 5);
    assert.ok(tooMany.entries.every((e) => e.errorCode === ErrorCode.INVALID_REQUEST));
    assert.match(tooMany.entries[0].errorMessage!, /brook\.max\.client\.quota\.entries\.per\.request/);
    const badFilter = await connection.request(ApiKey.DescribeClientQuotas, 0, {
      components: [{ entityType: 'user', matchType: 0, match: null }],
      strict: false,
    });
    assert.is(badFilter.errorCode, ErrorCode.INVALID_REQUEST);
    assert.is(badFilter.entries, null);
    const unknownType = await connection.request(ApiKey.DescribeClientQuotas, 1, {
      components: [{ entityType: 'topic', matchType: 2, match: null }],
      strict: false,
    });
    assert.is(unknownType.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  } finally {
    connection.close();
  }
});

test('brook.max.client.quota.entities bounds new entities (POLICY_VIOLATION)', async () => {
  const admin = new Admin({ bootstrap: [bootstrap] });
  try {
    await admin.connect();
    const existing = (await admin.describeClientQuotas([])).length;
    const alterations = Array.from({ length: 4 }, (_, i) => ({
      entity: { user: `bound-${i}` },
      ops: [{ key: 'consumer_byte_rate', value: 100 }],
    }));
    const first = await admin.alterClientQuotas(alterations);
    const second = await admin.alterClientQuotas(
      alterations.map((a, i) => ({ ...a, entity: { user: `bound-more-${i}` } })),
    );
    const codes = [...first, ...second].map((r) => r.errorCode);
    assert.is(codes.filter((c) => c === ErrorCode.NONE).length, 8 - existing);
    assert.ok(codes.slice(8 - existing).every((c) => c === ErrorCode.POLICY_VIOLATION));
    // Clean up so that later tests have room, at most 4 entities a request.
    const everything = await admin.describeClientQuotas([]);
    for (let at = 0; at < everything.length; at += 4) {
      const cleared = await admin.alterClientQuotas(
        everything
          .slice(at, at + 4)
          .map((e) => ({ entity: e.entity, ops: Object.keys(e.values).map((key) => ({ key, value: null })) })),
      );
      assert.ok(
        cleared.every((r) => r.errorCode === ErrorCode.NONE),
        JSON.stringify(cleared),
      );
    }
    assert.equal(await admin.describeClientQuotas([]), []);
  } finally {
    admin.close();
  }
});

test('the Admin client: alter, describe by filter, validateOnly', async () => {
  const admin = new Admin({ bootstrap: [bootstrap] });
  try {
    await admin.connect();
    const results = await admin.alterClientQuotas([
      { entity: { user: 'alice', 'client-id': 'app' }, ops: [{ key: 'producer_byte_rate', value: 2048 }] },
      { entity: { ip: null }, ops: [{ key: 'connection_creation_rate', value: 30 }] },
      { entity: { user: 'alice' }, ops: [{ key: 'bogus', value: 1 }] },
    ]);
    assert.equal(
      results.map((r) => r.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_REQUEST],
    );
    assert.equal(results[0].entity, { 'client-id': 'app', user: 'alice' });
    const found = await admin.describeClientQuotas([
      { entityType: 'user', match: 'exact', name: 'alice' },
      { entityType: 'client-id', match: 'specified' },
    ]);
    assert.equal(found, [{ entity: { 'client-id': 'app', user: 'alice' }, values: { producer_byte_rate: 2048 } }]);
    assert.equal(await admin.describeClientQuotas([{ entityType: 'ip', match: 'default' }], true), [
      { entity: { ip: null }, values: { connection_creation_rate: 30 } },
    ]);
    const dry = await admin.alterClientQuotas(
      [{ entity: { ip: null }, ops: [{ key: 'connection_creation_rate', value: null }] }],
      { validateOnly: true },
    );
    assert.is(dry[0].errorCode, ErrorCode.NONE);
    assert.is((await admin.describeClientQuotas([{ entityType: 'ip', match: 'specified' }])).length, 1);
    try {
      await admin.describeClientQuotas([
        { entityType: 'ip', match: 'default' },
        { entityType: 'user', match: 'default' },
      ]);
      assert.unreachable('ip with user is refused');
    } catch (error) {
      assert.match((error as Error).message, /INVALID_REQUEST|IP filter component/);
    }
  } finally {
    admin.close();
  }
});

/** `brook quotas ...` run in this process (one run at a time). */
function quotas(args: string[]): Promise<BrookRun> {
  return runBrookInProcess(['quotas', ...args, '--bootstrap', bootstrap]);
}

test('brook quotas alter and describe; usage errors exit 2, refused changes exit 1', async () => {
  // One run as its own process, through the installed entry point.
  const set = await runBrook([
    'quotas',
    'alter',
    '--user',
    'carol',
    '--add',
    'producer_byte_rate=1000,consumer_byte_rate=2000',
    '--bootstrap',
    bootstrap,
  ]);
  assert.is(set.code, 0, set.stderr);
  assert.match(set.stdout, /altered the quotas of user=carol/);
  const defaults = await quotas(['alter', '--user-default', '--client-id-default', '--add', 'request_percentage=25']);
  assert.is(defaults.code, 0, defaults.stderr);
  const table = await quotas(['describe', '--user', 'carol']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /ENTITY\s+KEY\s+VALUE/);
  assert.match(table.stdout, /user=carol\s+consumer_byte_rate\s+2000/);
  assert.match(table.stdout, /user=carol\s+producer_byte_rate\s+1000/);
  const json = await quotas(['describe', '--user-default', '--client-id-default', '--json']);
  assert.equal(JSON.parse(json.stdout), [
    { entity: { 'client-id': null, user: null }, values: { request_percentage: 25 } },
  ]);
  const removed = await quotas(['alter', '--user', 'carol', '--delete', 'producer_byte_rate']);
  assert.is(removed.code, 0, removed.stderr);
  const after = JSON.parse((await quotas(['describe', '--user', 'carol', '--json'])).stdout);
  assert.equal(after, [{ entity: { user: 'carol' }, values: { consumer_byte_rate: 2000 } }]);
  const all = await quotas(['describe']);
  assert.match(all.stdout, /client-id=<default>,user=<default>|user=<default>,client-id=<default>/);
  const dry = await quotas(['alter', '--ip', '10.1.2.3', '--add', 'connection_creation_rate=5', '--validate-only']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /validated/);
  assert.match((await quotas(['describe', '--ip', '10.1.2.3'])).stdout, /no client quotas/);

  const refused = await quotas(['alter', '--ip', '10.1.2.3', '--add', 'producer_byte_rate=5']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /INVALID_REQUEST \(42\): Invalid configuration key producer_byte_rate/);
  const usage: [string[], RegExp][] = [
    [['alter', '--add', 'producer_byte_rate=1'], /needs an entity/],
    [['alter', '--user', 'x'], /needs --add or --delete/],
    [['alter', '--user', 'x', '--user-default', '--add', 'a=1'], /exclude each other/],
    [['alter', '--ip', '1.2.3.4', '--user', 'x', '--add', 'a=1'], /cannot be combined/],
    [['alter', '--user', 'x', '--add', 'producer_byte_rate=lots'], /KEY=NUMBER/],
    [['alter', '--user', 'x', '--add', 'a=1', '--delete', 'a'], /given twice/],
    [['describe', 'stray'], /unexpected argument/],
    [['frobnicate'], /unknown quotas command/],
  ];
  for (const [args, pattern] of usage) {
    const run = await quotas(args);
    assert.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.is(run.stderr.trim().split('\n').length, 1);
  }
  const help = await runBrookInProcess(['quotas', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /brook quotas alter/);
  assert.match((await runBrookInProcess(['help'])).stdout, /quotas\s+describe, alter client quotas/);
});

test('a truncated AlterClientQuotas closes that connection only', async () => {
  // Header v2 (key 49, v1, correlation 7, client "t", no tags), then an entries array that
  // claims 100 entries and ends.
  const body = Buffer.from('0031' + '0001' + '00000007' + '0001' + '74' + '00' + '65', 'hex');
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  const answer = await rawRequest(plain.kafkaPort, frame, 5000);
  assert.ok(answer.closed || answer.frame === null, 'no answer to a malformed request');
  const connection = await connect(plain.kafkaPort);
  try {
    const described = await connection.request(ApiKey.DescribeClientQuotas, 1, { components: [], strict: false });
    assert.is(described.errorCode, 0, 'the broker still answers');
  } finally {
    connection.close();
  }
});

test('kafka-python, when it has the client quota APIs', async () => {
  const missing = pythonModuleMissing('kafka', 'python3-kafka');
  const probe = missing
    ? null
    : spawnSync(
        PYTHON,
        ['-c', 'from kafka.admin import KafkaAdminClient as K; print(hasattr(K, "describe_client_quotas"))'],
        { encoding: 'utf8', timeout: 10_000 },
      );
  if (missing || probe?.stdout.trim() !== 'True') {
    console.log(`  skip: kafka-python without describe_client_quotas/alter_client_quotas (${missing ?? 'too old'})`);
    return;
  }
  const script = [
    'import json, sys',
    'from kafka.admin import KafkaAdminClient',
    'a = KafkaAdminClient(bootstrap_servers=sys.argv[1])',
    'print(json.dumps({"described": str(a.describe_client_quotas([]))}))',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script, bootstrap], { encoding: 'utf8', timeout: 20_000 });
  assert.is(run.status, 0, run.stderr);
});

/** Every Kafka error code inside a platformatic error (its errors nest). */
function platformaticCodes(error: unknown): number[] {
  const e = error as { apiCode?: number; errors?: unknown[] };
  return [...(e.apiCode !== undefined ? [e.apiCode] : []), ...(e.errors ?? []).flatMap(platformaticCodes)];
}

test("@platformatic/kafka's Admin alters and describes quotas; a refusal comes back as INVALID_REQUEST", async () => {
  const admin = new PlatformaticAdmin({
    clientId: 'brook-test',
    bootstrapBrokers: [bootstrap],
    retries: 1,
    retryDelay: 100,
  });
  try {
    const altered = await admin.alterClientQuotas({
      entries: [
        {
          entities: [
            { entityType: 'user', entityName: 'plt' },
            { entityType: 'client-id', entityName: null },
          ],
          ops: [
            { key: 'producer_byte_rate', value: 4000, remove: false },
            { key: 'request_percentage', value: 20, remove: false },
          ],
        },
      ],
    });
    assert.equal(
      altered.map((e) => e.errorCode),
      [0],
    );
    const exact = await admin.describeClientQuotas({
      components: [
        { entityType: 'user', matchType: 0, match: 'plt' },
        { entityType: 'client-id', matchType: 1 },
      ],
      strict: true,
    });
    assert.equal(exact, [
      {
        entity: [
          { entityType: 'client-id', entityName: null },
          { entityType: 'user', entityName: 'plt' },
        ],
        values: [
          { key: 'producer_byte_rate', value: 4000 },
          { key: 'request_percentage', value: 20 },
        ],
      },
    ]);
    await admin.alterClientQuotas({
      entries: [
        {
          entities: [
            { entityType: 'user', entityName: 'plt' },
            { entityType: 'client-id', entityName: null },
          ],
          ops: [{ key: 'producer_byte_rate', remove: true }],
        },
      ],
    });
    const any = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: 2 }] });
    const mine = any.find((e) => e.entity.some((p) => p.entityName === 'plt'));
    assert.equal(mine?.values, [{ key: 'request_percentage', value: 20 }]);
    try {
      await admin.alterClientQuotas({
        entries: [
          {
            entities: [{ entityType: 'user', entityName: 'plt' }],
            ops: [{ key: 'producer_byte_rate', value: 0.5, remove: false }],
          },
        ],
      });
      assert.unreachable('a fractional byte rate is refused');
    } catch (error) {
      assert.ok(platformaticCodes(error).includes(ErrorCode.INVALID_REQUEST), String(error));
    }
  } finally {
    await admin.close();
  }
});

test('with an authorizer: DescribeConfigs and AlterConfigs on the cluster, checked before anything is written', async () => {
  const secured = await broker({
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
  });
  const connection = await connect(secured.kafkaPort);
  try {
    const describe = () => connection.request(ApiKey.DescribeClientQuotas, 1, { components: [], strict: false });
    const alter = () =>
      connection.request(ApiKey.AlterClientQuotas, 1, {
        entries: [{ entity: user('mallory'), ops: [setOp('producer_byte_rate', 1)] }],
        validateOnly: false,
      });
    const denied = await describe();
    assert.is(denied.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.is(denied.entries, null);
    const alterDenied = await alter();
    assert.equal(
      alterDenied.entries.map((e) => [e.errorCode, e.entity]),
      [[ErrorCode.CLUSTER_AUTHORIZATION_FAILED, user('mallory')]],
    );
    // Grant DESCRIBE_CONFIGS on the cluster to the anonymous principal, as CreateAcls does
    // at the controller (the request itself would need ALTER on the cluster).
    const [granted] = await secured.broker.quorum.createAcls([
      {
        resourceType: ResourceType.CLUSTER,
        resourceName: 'kafka-cluster',
        patternType: PatternType.LITERAL,
        principal: 'User:ANONYMOUS',
        host: '*',
        operation: AclOperation.DESCRIBE_CONFIGS,
        permissionType: AclPermission.ALLOW,
      },
    ]);
    assert.is(granted.errorCode, ErrorCode.NONE);
    const allowed = await describe();
    assert.is(allowed.errorCode, ErrorCode.NONE);
    assert.equal(allowed.entries, []);
    const stillDenied = await alter();
    assert.is(stillDenied.entries[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.is(secured.broker.quorum.image.clientQuotas.size, 0, 'nothing written');
  } finally {
    connection.close();
  }
});

test.run();
