// The ACL APIs end to end on one node with an authorizer, in this process: a SASL_PLAINTEXT
// listener (SCRAM users "admin", a super user, and "alice", not one) and
// StandardAuthorizer. kafkajs's admin creates, describes and deletes ACLs as admin; alice
// gets CLUSTER_AUTHORIZATION_FAILED until ACLs on the cluster grant her Describe, then
// Alter; the ACLs take effect at once (the authorizer lets alice read a topic once granted). Bad input over
// raw frames gets Kafka's codes: invalid bindings and filters (INVALID_REQUEST with the
// reason, one by one), more than brook.max.acls.per.request (the request refused whole),
// more ACLs than brook.max.acls (POLICY_VIOLATION).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { userPrincipal } from '../../src/security/principal';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { freePort } from '../helpers/ports';

let running: RunningBroker;
let dataDir: string;

const PASSWORDS = { admin: 'admin-secret', alice: 'alice-secret' } as const;
type User = keyof typeof PASSWORDS;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-acls-api-'));
  const file = `${dataDir}.properties`;
  fs.writeFileSync(
    file,
    [
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      `brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=${PASSWORDS.admin}];SCRAM-SHA-512=[name=alice,password=${PASSWORDS.alice}]`,
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users=User:admin',
      'brook.max.acls.per.request=5',
      'brook.max.acls=12',
    ].join('\n'),
  );
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
      config: file,
    }),
    silentLogger,
    { kafkaListenerSecurity: { securityProtocol: 'SASL_PLAINTEXT' } },
  );
});

test.after(async () => {
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(`${dataDir}.properties`, { force: true });
});

function kafkajs(user: User) {
  return new Kafka({
    clientId: 'acls-api',
    brokers: [`127.0.0.1:${running.kafkaPort}`],
    sasl: { mechanism: 'scram-sha-512', username: user, password: PASSWORDS[user] },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
}

async function withAdmin<T>(user: User, work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafkajs(user).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function connection(user: User = 'admin'): Promise<KafkaConnection> {
  const c = new KafkaConnection({
    host: '127.0.0.1',
    port: running.kafkaPort,
    requestTimeoutMs: 10_000,
    security: {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'SCRAM-SHA-512', username: user, password: PASSWORDS[user] },
    },
  });
  await c.connect();
  return c;
}

/** kafkajs's error type of a call that must fail. */
async function errorType(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    return (error as { type?: string }).type ?? (error as Error).message;
  }
  return 'succeeded';
}

// Codes as kafkajs and the wire take them.
const TOPIC = 2;
const GROUP = 3;
const CLUSTER = 4;
const [ANY, MATCH, LITERAL, PREFIXED] = [1, 2, 3, 4];
const [OP_ANY, READ, ALTER, DESCRIBE] = [1, 3, 7, 8];
const [DENY, ALLOW] = [2, 3];

const ALICE_READS_ORDERS = {
  resourceType: TOPIC,
  resourceName: 'orders',
  resourcePatternType: LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: READ,
  permissionType: ALLOW,
};
const BOB_DENIED_GROUPS = {
  resourceType: GROUP,
  resourceName: 'team-',
  resourcePatternType: PREFIXED,
  principal: 'User:bob',
  host: '10.0.0.1',
  operation: DESCRIBE,
  permissionType: DENY,
};
const EVERY_ACL = {
  resourceType: ANY,
  resourcePatternType: ANY,
  operation: OP_ANY,
  permissionType: ANY,
};

/** Every ACL the image holds, as [type, name, pattern, principal, host, op, permission] sorted. */
function stored(): (string | number)[][] {
  return [...running.broker.quorum.image.acls.values()]
    .map((a) => [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permissionType])
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

test('kafkajs admin (a super user): createAcls, describeAcls grouped by resource, deleteAcls', async () => {
  await withAdmin('admin', async (admin) => {
    assert.is(await admin.createAcls({ acl: [ALICE_READS_ORDERS, BOB_DENIED_GROUPS] } as never), true);
    // The same binding again succeeds and adds nothing.
    assert.is(await admin.createAcls({ acl: [ALICE_READS_ORDERS] } as never), true);
    assert.is(running.broker.quorum.image.acls.size, 2);

    const described = await admin.describeAcls(EVERY_ACL as never);
    assert.equal(described.resources, [
      {
        resourceType: TOPIC,
        resourceName: 'orders',
        resourcePatternType: LITERAL,
        acls: [{ principal: 'User:alice', host: '*', operation: READ, permissionType: ALLOW }],
      },
      {
        resourceType: GROUP,
        resourceName: 'team-',
        resourcePatternType: PREFIXED,
        acls: [{ principal: 'User:bob', host: '10.0.0.1', operation: DESCRIBE, permissionType: DENY }],
      },
    ]);
    // MATCH: the ACLs that apply to the group "team-blue" (the prefixed one).
    const matching = await admin.describeAcls({
      ...EVERY_ACL,
      resourceType: GROUP,
      resourceName: 'team-blue',
      resourcePatternType: MATCH,
    } as never);
    assert.equal(
      matching.resources.map((r) => r.resourceName),
      ['team-'],
    );

    const deleted = await admin.deleteAcls({
      filters: [{ ...EVERY_ACL, resourceType: TOPIC, principal: 'User:alice' }],
    } as never);
    assert.is(deleted.filterResponses.length, 1);
    assert.equal(
      deleted.filterResponses[0].matchingAcls.map((m) => [m.resourceName, m.principal, m.operation]),
      [['orders', 'User:alice', READ]],
    );
    assert.equal(
      stored().map((a) => a[1]),
      ['team-'],
    );
    await admin.deleteAcls({ filters: [EVERY_ACL] } as never);
    assert.equal((await admin.describeAcls(EVERY_ACL as never)).resources, []);
  });
});

test('a principal that is not a super user: CLUSTER_AUTHORIZATION_FAILED until granted', async () => {
  const clusterAcl = (operation: number) => ({
    resourceType: CLUSTER,
    resourceName: 'kafka-cluster',
    resourcePatternType: LITERAL,
    principal: 'User:alice',
    host: '*',
    operation,
    permissionType: ALLOW,
  });
  await withAdmin('alice', async (alice) => {
    assert.is(
      await errorType(() => alice.createAcls({ acl: [ALICE_READS_ORDERS] } as never)),
      'CLUSTER_AUTHORIZATION_FAILED',
    );
    assert.is(await errorType(() => alice.describeAcls(EVERY_ACL as never)), 'CLUSTER_AUTHORIZATION_FAILED');
    assert.is(
      await errorType(() => alice.deleteAcls({ filters: [EVERY_ACL] } as never)),
      'CLUSTER_AUTHORIZATION_FAILED',
    );
    assert.equal(stored(), [], 'nothing was created');

    await withAdmin('admin', (admin) => admin.createAcls({ acl: [clusterAcl(DESCRIBE)] } as never));
    const described = await alice.describeAcls(EVERY_ACL as never);
    assert.is(described.resources.length, 1, 'Describe on the cluster lets alice describe ACLs');
    assert.is(
      await errorType(() => alice.createAcls({ acl: [ALICE_READS_ORDERS] } as never)),
      'CLUSTER_AUTHORIZATION_FAILED',
      'Describe is not Alter',
    );

    await withAdmin('admin', (admin) => admin.createAcls({ acl: [clusterAcl(ALTER)] } as never));
    assert.is(await alice.createAcls({ acl: [ALICE_READS_ORDERS] } as never), true, 'Alter lets alice create ACLs');
  });
  // The ACL alice created is in force at once: she may read the topic, and not another.
  const authorizer = running.broker.authorizer!;
  const alice = userPrincipal('alice');
  assert.ok(authorizer.authorize(alice, '127.0.0.1', READ, TOPIC, 'orders'));
  assert.not.ok(authorizer.authorize(alice, '127.0.0.1', READ, TOPIC, 'secret'));
  await withAdmin('admin', (admin) => admin.deleteAcls({ filters: [EVERY_ACL] } as never));
});

const CREATION = {
  resourceType: TOPIC,
  resourceName: 'orders',
  resourcePatternType: LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: READ,
  permissionType: ALLOW,
};
const FILTER = {
  resourceTypeFilter: ANY,
  resourceNameFilter: null,
  patternTypeFilter: ANY,
  principalFilter: null,
  hostFilter: null,
  operation: OP_ANY,
  permissionType: ANY,
};

test('raw frames: invalid bindings are INVALID_REQUEST with the reason, each on its own', async () => {
  const c = await connection();
  try {
    const created = await c.request(ApiKey.CreateAcls, 3, {
      creations: [
        { ...CREATION, resourceType: CLUSTER, resourceName: 'my-cluster' },
        { ...CREATION, resourceName: '' },
        { ...CREATION, resourcePatternType: MATCH },
        { ...CREATION, principal: 'alice' },
        CREATION,
      ],
    });
    assert.equal(
      created.results.map((r) => r.errorCode),
      [...Array(4).fill(ErrorCode.INVALID_REQUEST), ErrorCode.NONE],
    );
    const more = await c.request(ApiKey.CreateAcls, 1, {
      creations: [
        { ...CREATION, operation: OP_ANY },
        { ...CREATION, resourceType: 0 },
      ],
    });
    assert.equal(
      more.results.map((r) => r.errorCode),
      [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
    );
    assert.is(created.results[0].errorMessage, 'The only valid name for the CLUSTER resource is kafka-cluster');
    assert.is(created.results[1].errorMessage, 'Resource name should not be empty');
    assert.equal(stored(), [[TOPIC, 'orders', LITERAL, 'User:alice', '*', READ, ALLOW]]);

    const described = await c.request(ApiKey.DescribeAcls, 2, { ...FILTER, patternTypeFilter: 0 });
    assert.is(described.errorCode, ErrorCode.INVALID_REQUEST);
    assert.ok(described.errorMessage, 'with a reason');

    const deleted = await c.request(ApiKey.DeleteAcls, 1, {
      filters: [
        { ...FILTER, operation: 0 },
        { ...FILTER, resourceTypeFilter: 42 },
        { ...FILTER, resourceTypeFilter: TOPIC, resourceNameFilter: 'orders', patternTypeFilter: LITERAL },
      ],
    });
    assert.equal(
      deleted.filterResults.map((r) => [r.errorCode, r.matchingAcls.length]),
      [
        [ErrorCode.INVALID_REQUEST, 0],
        [ErrorCode.INVALID_REQUEST, 0],
        [ErrorCode.NONE, 1],
      ],
    );
    assert.equal(stored(), []);
  } finally {
    c.close();
  }
});

test('raw frames: past brook.max.acls.per.request the whole request is refused', async () => {
  const c = await connection();
  try {
    const six = Array.from({ length: 6 }, (_, i) => ({ ...CREATION, resourceName: `t${i}` }));
    const created = await c.request(ApiKey.CreateAcls, 2, { creations: six });
    assert.equal(
      created.results.map((r) => r.errorCode),
      Array(6).fill(ErrorCode.INVALID_REQUEST),
    );
    assert.match(created.results[0].errorMessage!, /brook\.max\.acls\.per\.request/);
    assert.equal(stored(), [], 'nothing created');

    const deleted = await c.request(ApiKey.DeleteAcls, 3, { filters: Array(6).fill(FILTER) });
    assert.equal(
      deleted.filterResults.map((r) => r.errorCode),
      Array(6).fill(ErrorCode.INVALID_REQUEST),
    );
  } finally {
    c.close();
  }
});

test('raw frames: a new ACL past brook.max.acls is POLICY_VIOLATION', async () => {
  const c = await connection();
  try {
    for (let batch = 0; batch < 2; batch++) {
      const five = Array.from({ length: 5 }, (_, i) => ({ ...CREATION, resourceName: `t${batch}-${i}` }));
      const created = await c.request(ApiKey.CreateAcls, 3, { creations: five });
      assert.ok(
        created.results.every((r) => r.errorCode === ErrorCode.NONE),
        JSON.stringify(created.results),
      );
    }
    const more = Array.from({ length: 3 }, (_, i) => ({ ...CREATION, resourceName: `t2-${i}` }));
    const created = await c.request(ApiKey.CreateAcls, 3, {
      creations: [...more, { ...CREATION, resourceName: 't0-0' }],
    });
    assert.equal(
      created.results.map((r) => r.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.POLICY_VIOLATION, ErrorCode.NONE],
    );
    assert.match(created.results[2].errorMessage!, /brook\.max\.acls/);
    assert.is(stored().length, 12);
    const deleted = await c.request(ApiKey.DeleteAcls, 3, { filters: [FILTER] });
    assert.is(deleted.filterResults[0].matchingAcls.length, 12);
    assert.equal(stored(), []);
  } finally {
    c.close();
  }
});

test.run();
