// Two tenants on one secured three-node cluster, end to end with real processes
// (helpers/secure-cluster.ts: SASL_SSL client and inter-broker listeners with SCRAM users, a
// mutual-TLS controller listener) and Kafka's StandardAuthorizer: super.users are the nodes,
// the inter-broker user and User:admin. The admin grants, with kafkajs's createAcls, tenant a
// (User:alice) everything on topics and groups prefixed "a." and tenant b (User:bob) the same
// on "b.". Judged with kafkajs, kcat and raw frames: each tenant produces, consumes and runs
// consumer groups (kafkajs and librdkafka) on its own topics; neither sees the other's topics
// in Metadata, nor reads, writes, deletes or creates them, nor joins, describes or reads the
// offsets of the other's groups (Kafka's error codes); neither deletes, writes or
// reconfigures __consumer_offsets (nor may a super user); the admin does all the rest. The
// HTTP API makes the same checks. A producer_byte_rate quota set on alice (AlterClientQuotas
// through `brook quotas alter`) holds her producer near its rate and names a throttle time
// (KIP-219) while bob's is not held. ACLs and quotas survive stopping the active controller
// and a restart of the whole cluster from its data directories.
//
// Each test's name starts with the feature it judges in brackets, so a failing test names
// what is missing: [acls] the ACL APIs, [authz-data] the checks on Produce, Fetch, Metadata
// and ListOffsets, [authz-admin] the checks on group and admin APIs and internal topics,
// [quota-store] AlterClientQuotas / DescribeClientQuotas, [quota-enforce] throttling,
// [http-authz] the same checks on the HTTP API, [cluster] what needs none of them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Admin,
  ConfigResourceTypes,
  Kafka,
  KafkaConfig,
  ResourcePatternTypes,
} from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { tempDir } from '../helpers/broker-process';
import { runBrook } from '../helpers/brook-cli';
import { kcat } from '../helpers/kcat';
import { withTimeout } from '../helpers/replication-scenario';
import { nodePrincipal, OPERATOR_PRINCIPAL, ScramUser, SecureCluster } from '../helpers/secure-cluster';
import { until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat') || fs.existsSync('/usr/local/bin/kcat');
const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
type Tenant = 'alice' | 'bob';
/** Each tenant's prefix: its topics and groups are named "<prefix>...". */
const PREFIX: Record<Tenant, string> = { alice: 'a.', bob: 'b.' };
const OTHER: Record<Tenant, Tenant> = { alice: 'bob', bob: 'alice' };
const TENANTS: Tenant[] = ['alice', 'bob'];
const topicOf = (tenant: Tenant) => `${PREFIX[tenant]}orders`;
const groupOf = (tenant: Tenant) => `${PREFIX[tenant]}billing`;
/** The records each tenant writes to its own topic before the isolation checks. */
const RECORDS_PER_TENANT = 20;
/** alice's producer_byte_rate quota, bytes per second. */
const ALICE_RATE = 128 * 1024;

let cluster: SecureCluster;
/** The null topic id (base64url, as the codecs take uuids). */
const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** A client properties file for the `brook` CLI as admin (mode 0600, in a temporary directory). */
let adminProperties: string;

test.before(async () => {
  cluster = await SecureCluster.create({
    size: 3,
    http: true,
    config: {
      'authorizer.class.name': STANDARD_AUTHORIZER,
      'allow.everyone.if.no.acl.found': 'false',
      'super.users': [
        ...[1, 2, 3].map((id) => `User:${nodePrincipal(id)}`),
        `User:${OPERATOR_PRINCIPAL}`,
        'User:broker',
        'User:admin',
      ].join(';'),
      'auto.create.topics.enable': 'false',
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '1',
      'offsets.topic.replication.factor': '3',
      // Kafka's quota sampling: two one-second windows, so a burst over the quota is paid
      // for within seconds rather than the default ten.
      'quota.window.num': '2',
      'quota.window.size.seconds': '1',
    },
  });
  adminProperties = path.join(tempDir('brook-tenants-'), 'admin.properties');
  fs.writeFileSync(
    adminProperties,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.username=admin',
      `sasl.password=${cluster.passwords.admin}`,
      `ssl.ca.location=${cluster.caFile}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});

test.after(async () => {
  await cluster?.stopAll();
});

// ---------------------------------------------------------------------------------------
// Helpers

/** kafkajs as `user`, failing fast (one retry) so that a refusal surfaces at once. */
function kafka(user: ScramUser, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return cluster.kafka(clientId, user, {
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
    requestTimeout: 10000,
    ...extra,
  });
}

async function withAdmin<T>(user: ScramUser, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka(user, `tenants-admin-${user}`).admin();
  await withTimeout(admin.connect(), 15000);
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** An authenticated bundled-client connection as `user` to node `id` (the first running node by default). */
function connectAs(user: ScramUser, id = cluster.aliveIds()[0]): Promise<KafkaConnection> {
  return cluster.connect(id, cluster.clientSecurity(user));
}

async function withConnection<T>(user: ScramUser, use: (c: KafkaConnection) => Promise<T>, id?: number): Promise<T> {
  const connection = await connectAs(user, id);
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

/** The Kafka error names a kafkajs error carries, through its wrappers (retries, aggregates). */
function errorTypes(error: unknown, seen = new Set<unknown>()): string[] {
  if (!error || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const e = error as {
    type?: string;
    name?: string;
    originalError?: unknown;
    cause?: unknown;
    errors?: unknown[];
    message?: string;
  };
  return [
    ...(e.type ? [e.type] : []),
    ...(e.name?.startsWith('KafkaJS') ? [e.name] : []),
    ...errorTypes(e.originalError, seen),
    ...errorTypes(e.cause, seen),
    ...(Array.isArray(e.errors) ? e.errors.flatMap((inner) => errorTypes(inner, seen)) : []),
  ];
}

/** `call` must fail with Kafka's error `type` (e.g. TOPIC_AUTHORIZATION_FAILED). */
async function refused(what: string, type: string | string[], call: () => Promise<unknown>): Promise<void> {
  const expected = Array.isArray(type) ? type : [type];
  let outcome: unknown;
  try {
    outcome = await withTimeout(call(), 20000);
  } catch (error) {
    const types = errorTypes(error);
    assert.ok(
      expected.some((t) => types.includes(t)),
      `${what}: expected ${expected.join(' or ')}, got ${types.join(', ') || (error as Error).message}`,
    );
    return;
  }
  assert.unreachable(
    `${what}: succeeded (${JSON.stringify(outcome)?.slice(0, 200)}), expected ${expected.join(' or ')}`,
  );
}

const errorName = (code: number) =>
  Object.entries(ErrorCode).find(([, value]) => value === code)?.[0] ?? `error ${code}`;

function assertCode(actual: number, expected: number, what: string): void {
  assert.is(errorName(actual), errorName(expected), what);
}

/** kcat as `user` against node `id` (the first running node by default). */
function kcatAs(user: ScramUser, args: string[], input?: string, timeoutMs = 20000, id = cluster.aliveIds()[0]) {
  return kcat(cluster.clientPorts.get(id)!, [...args, ...cluster.kcatSecurity(user)], input, timeoutMs);
}

/** The `brook` CLI as admin, bootstrapping from the first running node. */
function brookAsAdmin(args: string[]) {
  return runBrook(
    [...args, '--bootstrap', cluster.bootstrap(cluster.aliveIds())[0], '--command-config', adminProperties],
    {
      timeoutMs: 20000,
    },
  );
}

/** The API keys node `id` serves (ApiVersions as admin). */
async function servedApiKeys(id = cluster.aliveIds()[0]): Promise<Set<number>> {
  return withConnection(
    'admin',
    async (connection) => {
      const answer = await connection.request(ApiKey.ApiVersions, 3, {
        clientSoftwareName: 'tenants-test',
        clientSoftwareVersion: '1',
      });
      return new Set(answer.apiKeys.map((k: { apiKey: number }) => k.apiKey));
    },
    id,
  );
}

/** The tenants' bindings: ALL on topics and groups of the tenant's prefix, PREFIXED, from any host. */
function tenantAcls(tenant: Tenant) {
  return [AclResourceTypes.TOPIC, AclResourceTypes.GROUP].map((resourceType) => ({
    resourceType,
    resourceName: PREFIX[tenant],
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: `User:${tenant}`,
    host: '*',
    operation: AclOperationTypes.ALL,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Every ACL the cluster reports to kafkajs's describeAcls (ANY filter, as admin), as aclLines. */
async function describedAcls(): Promise<string[]> {
  const described = await withAdmin('admin', (admin) =>
    admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    }),
  );
  return aclLines(described.resources.map((r) => ({ ...r, patternType: r.resourcePatternType })));
}

/** Node `id`'s own answer to DescribeAcls (raw v3, ANY filter, as admin), as aclLines. */
function describedAclsOn(id: number): Promise<string[]> {
  return withConnection(
    'admin',
    async (connection) => {
      const answer = await connection.request(ApiKey.DescribeAcls, 3, {
        resourceTypeFilter: AclResourceTypes.ANY,
        resourceNameFilter: null,
        patternTypeFilter: ResourcePatternTypes.ANY,
        principalFilter: null,
        hostFilter: null,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      if (answer.errorCode !== ErrorCode.NONE)
        throw new Error(`node ${id}: DescribeAcls ${errorName(answer.errorCode)}`);
      return aclLines(answer.resources);
    },
    id,
  );
}

/** Kafka's name of a code in one of kafkajs's ACL enums (plain objects, without reverse names). */
const nameIn = (names: object, code: number) =>
  Object.entries(names).find(([, value]) => value === code)?.[0] ?? String(code);

/** DescribeAcls resources as sorted "principal TYPE name PATTERN OPERATION PERMISSION" lines. */
function aclLines(
  resources: {
    resourceType: number;
    resourceName: string;
    patternType: number;
    acls: { principal: string; operation: number; permissionType: number }[];
  }[],
): string[] {
  const lines: string[] = [];
  for (const resource of resources)
    for (const acl of resource.acls)
      lines.push(
        [
          acl.principal,
          nameIn(AclResourceTypes, resource.resourceType),
          resource.resourceName,
          nameIn(ResourcePatternTypes, resource.patternType),
          nameIn(AclOperationTypes, acl.operation),
          nameIn(AclPermissionTypes, acl.permissionType),
        ].join(' '),
      );
  return lines.sort();
}

/** Waits until every running node's DescribeAcls lists exactly `expected` (a transient error means "not yet"). */
async function everyNodeLists(expected: string[], when: string): Promise<void> {
  const seen = new Map<number, string[] | string>();
  await until(
    async () => {
      for (const id of cluster.aliveIds()) {
        const lines = await describedAclsOn(id).catch((error: Error) => error.message);
        seen.set(id, lines);
        if (typeof lines === 'string' && lines.includes('SECURITY_DISABLED')) throw new Error(lines);
        if (JSON.stringify(lines) !== JSON.stringify(expected)) return false;
      }
      return true;
    },
    {
      what: () =>
        `every node's DescribeAcls ${when} to list ${JSON.stringify(expected)}; seen ${JSON.stringify([...seen])}`,
      timeoutMs: 15000,
    },
  );
}

const expectedTenantAcls = () =>
  TENANTS.flatMap((tenant) =>
    ['TOPIC', 'GROUP'].map((type) => `User:${tenant} ${type} ${PREFIX[tenant]} PREFIXED ALL ALLOW`),
  ).sort();

/** The topics `user` sees in Metadata (kafkajs listTopics). */
function visibleTopics(user: ScramUser): Promise<string[]> {
  return withAdmin(user, (admin) => admin.listTopics());
}

/** Metadata v12 naming `topic` as `user`: the topic's error code. */
function metadataError(user: ScramUser, topic: string, id?: number): Promise<number> {
  return withConnection(
    user,
    async (connection) => {
      const answer = await connection.request(ApiKey.Metadata, 12, {
        topics: [{ topicId: ZERO_TOPIC_ID, name: topic }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      return answer.topics[0].errorCode;
    },
    id,
  );
}

/** Produce v9 (acks=1) of one batch to partition 0 of `topic` as `user` on `connection`. */
async function rawProduce(connection: KafkaConnection, topic: string, values: (string | Buffer)[]) {
  const answer = await connection.request(ApiKey.Produce, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 10000,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: 0, records: encodeRecordBatchSync({ records: values.map((value) => ({ value })) }) }],
      },
    ],
  });
  return { throttleTimeMs: answer.throttleTimeMs, errorCode: answer.responses[0].partitionResponses[0].errorCode };
}

/** Fetch v12 of partition 0 of `topic` from offset 0 as a consumer: the partition's error code. */
async function rawFetchError(connection: KafkaConnection, topic: string): Promise<number> {
  const answer = await connection.request(ApiKey.Fetch, 12, {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
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
  if (answer.errorCode !== ErrorCode.NONE) return answer.errorCode;
  return answer.responses[0].partitions[0].errorCode;
}

/** The coordinator of `group` as the admin finds it (FindCoordinator v3). */
async function coordinatorOf(group: string): Promise<number> {
  return until(
    () =>
      withConnection('admin', async (connection) => {
        const answer = await connection.request(ApiKey.FindCoordinator, 3, { key: group, keyType: 0 });
        return answer.errorCode === ErrorCode.NONE && cluster.aliveIds().includes(answer.nodeId) ? answer.nodeId : null;
      }).catch(() => null),
    { what: `a coordinator for ${group}`, timeoutMs: 15000 },
  );
}

/** A kafkajs group consumer as `tenant` reading `count` records of its topic in its group, committing as it goes. */
async function consumeInGroup(tenant: Tenant, count: number): Promise<string[]> {
  const consumer = kafka(tenant, `tenants-consumer-${tenant}`).consumer({
    groupId: groupOf(tenant),
    sessionTimeout: 10000,
    heartbeatInterval: 500,
  });
  const values: string[] = [];
  await withTimeout(consumer.connect(), 15000);
  try {
    await consumer.subscribe({ topic: topicOf(tenant), fromBeginning: true });
    await consumer.run({
      autoCommitInterval: 200,
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
      },
    });
    await until(() => values.length >= count, {
      what: () => `${tenant}'s group consumer to read ${count} records (has ${values.length})`,
      timeoutMs: 25000,
    });
  } finally {
    await withTimeout(consumer.disconnect(), 10000).catch(() => undefined);
  }
  return values;
}

/** Records of partition 0 of `topic` read by kcat as `user` from the beginning to the end. */
async function kcatRead(user: ScramUser, topic: string) {
  return kcatAs(user, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], undefined, 20000);
}

// ---------------------------------------------------------------------------------------
// Tests, in the order a tenant's day runs: ACLs, own topics, isolation, quotas, failures.

test("[acls] the admin creates the tenants' PREFIXED ACLs with kafkajs createAcls; DescribeAcls and `brook acls list` show them", async () => {
  await withAdmin('admin', async (admin) => {
    try {
      await admin.createAcls({ acl: TENANTS.flatMap(tenantAcls) });
    } catch (error) {
      const types = errorTypes(error);
      if (types.includes('SECURITY_DISABLED'))
        assert.unreachable('CreateAcls answered SECURITY_DISABLED: the ACL APIs are not served with an authorizer yet');
      throw error;
    }
  });
  // Each node answers DescribeAcls from its own metadata image: every one must know them.
  await everyNodeLists(expectedTenantAcls(), 'after CreateAcls');
  assert.equal(await describedAcls(), expectedTenantAcls(), 'kafkajs describeAcls lists the four tenant bindings');
  const listed = await brookAsAdmin(['acls', 'list']);
  assert.is(listed.code, 0, `brook acls list: ${listed.stderr}`);
  for (const tenant of TENANTS) {
    assert.match(listed.stdout, `User:${tenant}`, 'brook acls list names each tenant');
    assert.match(listed.stdout, new RegExp(`\\b${PREFIX[tenant].replace('.', '\\.')}`));
  }
  assert.match(listed.stdout, /prefixed/i);
  assert.not.match(listed.stdout + listed.stderr, cluster.passwords.admin);
});

test('[cluster] each tenant creates its topic, produces and consumes it (kafkajs, kcat) and runs a consumer group on it', async () => {
  await Promise.all(
    TENANTS.map(async (tenant) => {
      const topic = topicOf(tenant);
      await withAdmin(tenant, async (admin) => {
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
          waitForLeaders: true,
        });
      });
      const producer = kafka(tenant, `tenants-producer-${tenant}`).producer({ allowAutoTopicCreation: false });
      await withTimeout(producer.connect(), 15000);
      try {
        await withTimeout(
          producer.send({
            topic,
            acks: -1,
            messages: Array.from({ length: RECORDS_PER_TENANT / 2 }, (_, i) => ({ value: `${tenant}-kafkajs-${i}` })),
          }),
          15000,
        );
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
      if (HAVE_KCAT) {
        const lines = Array.from({ length: RECORDS_PER_TENANT / 2 }, (_, i) => `${tenant}-kcat-${i}`).join('\n');
        const produced = await kcatAs(tenant, ['-P', '-t', topic, '-p', '0', '-X', 'acks=all'], lines + '\n');
        assert.is(produced.code, 0, `kcat -P as ${tenant}: ${produced.stderr}`);
        const read = await kcatRead(tenant, topic);
        assert.is(read.code, 0, `kcat -C as ${tenant}: ${read.stderr}`);
        assert.is(read.stdout.trim().split('\n').length, RECORDS_PER_TENANT, `kcat reads ${tenant}'s records`);
        // A librdkafka group consumer in a group of the tenant's prefix.
        const grouped = await kcatAs(
          tenant,
          ['-G', `${PREFIX[tenant]}kcat`, topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'],
          undefined,
          25000,
        );
        assert.is(grouped.code, 0, `kcat -G as ${tenant}: ${grouped.stderr}`);
        assert.is(grouped.stdout.trim().split('\n').length, RECORDS_PER_TENANT, `kcat -G reads ${tenant}'s records`);
      } else {
        console.log('kcat not installed: the kcat produce and read are skipped');
        const producer2 = kafka(tenant, `tenants-producer2-${tenant}`).producer();
        await producer2.connect();
        await producer2.send({
          topic,
          messages: Array.from({ length: RECORDS_PER_TENANT / 2 }, (_, i) => ({ value: `${tenant}-more-${i}` })),
        });
        await producer2.disconnect();
      }
      const consumed = await consumeInGroup(tenant, RECORDS_PER_TENANT);
      assert.ok(
        consumed.every((value) => value.startsWith(`${tenant}-`)),
        `${tenant} reads only her records`,
      );
      // The group committed, and the tenant reads its offsets back.
      const offsets = await until(
        () =>
          withAdmin(tenant, async (admin) => {
            const [entry] = await admin.fetchOffsets({ groupId: groupOf(tenant), topics: [topic] });
            return Number(entry.partitions[0].offset) === RECORDS_PER_TENANT ? entry : null;
          }),
        { what: `${tenant}'s committed offset`, timeoutMs: 10000 },
      );
      assert.is(offsets.topic, topic);
    }),
  );
});

test('[authz-data] a tenant sees only its own topics in Metadata (kafkajs listTopics, kcat -L)', async () => {
  for (const tenant of TENANTS) {
    const topics = await visibleTopics(tenant);
    assert.ok(topics.includes(topicOf(tenant)), `${tenant} sees ${topicOf(tenant)}: ${topics}`);
    assert.equal(
      topics.filter((t) => !t.startsWith(PREFIX[tenant])),
      [],
      `${tenant} sees only topics prefixed ${PREFIX[tenant]}`,
    );
    // Named in a Metadata request, the other's topic (existing or not) and the internal topic
    // are TOPIC_AUTHORIZATION_FAILED: nothing tells whether they exist.
    for (const topic of [topicOf(OTHER[tenant]), `${PREFIX[OTHER[tenant]]}no-such-topic`, '__consumer_offsets'])
      assertCode(
        await metadataError(tenant, topic),
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: Metadata of ${topic}`,
      );
    assertCode(await metadataError(tenant, topicOf(tenant)), ErrorCode.NONE, `${tenant}: Metadata of her topic`);
  }
  if (!HAVE_KCAT) return console.log('kcat not installed: the kcat -L check is skipped');
  const listed = await kcatAs('alice', ['-L', '-m', '10']);
  assert.is(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, `topic "${topicOf('alice')}"`);
  assert.not.match(listed.stdout, topicOf('bob'));
  assert.not.match(listed.stdout, '__consumer_offsets');
});

test("[authz-data] a tenant can neither produce to nor read the other's topic (TOPIC_AUTHORIZATION_FAILED: raw, kafkajs, kcat)", async () => {
  for (const tenant of TENANTS) {
    const other = topicOf(OTHER[tenant]);
    await withConnection(tenant, async (connection) => {
      const written = await rawProduce(connection, other, ['intruder']);
      assertCode(written.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, `${tenant}: Produce to ${other}`);
      assertCode(
        await rawFetchError(connection, other),
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: Fetch of ${other}`,
      );
      const offsets = await connection.request(ApiKey.ListOffsets, 2, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: other, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
      });
      assertCode(
        offsets.topics[0].partitions[0].errorCode,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: ListOffsets of ${other}`,
      );
    });
    const producer = kafka(tenant, `tenants-intruder-${tenant}`).producer({ allowAutoTopicCreation: false });
    await withTimeout(producer.connect(), 15000);
    try {
      await refused(`kafkajs: ${tenant} producing to ${other}`, 'TOPIC_AUTHORIZATION_FAILED', () =>
        producer.send({ topic: other, messages: [{ value: 'intruder' }] }),
      );
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }
  if (!HAVE_KCAT) return console.log('kcat not installed: the kcat checks are skipped');
  const read = await kcatRead('alice', topicOf('bob'));
  assert.is.not(read.code, 0, 'kcat as alice reading b.orders fails');
  assert.match(read.stderr, /authoriz/i);
  const written = await kcatAs('alice', ['-P', '-t', topicOf('bob'), '-p', '0'], 'intruder\n', 20000);
  assert.match(written.stderr, /authoriz/i, `kcat as alice producing to b.orders: ${written.stderr}`);
  // Nothing of the intruders' reached bob's topic.
  const bobs = await kcatRead('bob', topicOf('bob'));
  assert.is(bobs.code, 0, bobs.stderr);
  assert.not.match(bobs.stdout, 'intruder');
});

test("[authz-admin] a tenant can neither delete the other's topic nor create one under its prefix, nor alter its configs", async () => {
  for (const tenant of TENANTS) {
    const other = topicOf(OTHER[tenant]);
    await withAdmin(tenant, async (admin) => {
      await refused(`${tenant} deleting ${other}`, 'TOPIC_AUTHORIZATION_FAILED', () =>
        admin.deleteTopics({ topics: [other], timeout: 5000 }),
      );
      await refused(`${tenant} creating ${PREFIX[OTHER[tenant]]}squatter`, 'TOPIC_AUTHORIZATION_FAILED', () =>
        admin.createTopics({ topics: [{ topic: `${PREFIX[OTHER[tenant]]}squatter`, numPartitions: 1 }] }),
      );
    });
    await withConnection(tenant, async (connection) => {
      const altered = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [
          {
            resourceType: 2,
            resourceName: other,
            configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
          },
          {
            resourceType: 2,
            resourceName: topicOf(tenant),
            configs: [{ name: 'retention.ms', configOperation: 0, value: '86400000' }],
          },
        ],
        validateOnly: false,
      });
      const byName = new Map(
        altered.responses.map((r: { resourceName: string; errorCode: number }) => [r.resourceName, r.errorCode]),
      );
      assertCode(
        byName.get(other) ?? -1,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: IncrementalAlterConfigs of ${other}`,
      );
      assertCode(
        byName.get(topicOf(tenant)) ?? -1,
        ErrorCode.NONE,
        `${tenant}: IncrementalAlterConfigs of her own topic`,
      );
    });
  }
  // Both topics are still there, for the admin.
  const all = await visibleTopics('admin');
  for (const tenant of TENANTS) assert.ok(all.includes(topicOf(tenant)), `${topicOf(tenant)} still exists`);
  assert.not.ok(
    all.some((t) => t.endsWith('squatter')),
    'no squatter topic was created',
  );
});

test("[authz-admin] a tenant can neither join, describe nor read the offsets of the other's group (GROUP_AUTHORIZATION_FAILED)", async () => {
  for (const tenant of TENANTS) {
    const otherGroup = groupOf(OTHER[tenant]);
    const coordinator = await coordinatorOf(otherGroup);
    await withConnection(
      tenant,
      async (connection) => {
        const found = await connection.request(ApiKey.FindCoordinator, 4, {
          keyType: 0,
          coordinatorKeys: [otherGroup],
        });
        assertCode(
          found.coordinators[0].errorCode,
          ErrorCode.GROUP_AUTHORIZATION_FAILED,
          `${tenant}: FindCoordinator of ${otherGroup}`,
        );
        const joined = await connection.request(ApiKey.JoinGroup, 5, {
          groupId: otherGroup,
          sessionTimeoutMs: 10000,
          rebalanceTimeoutMs: 10000,
          memberId: '',
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        });
        assertCode(joined.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, `${tenant}: JoinGroup ${otherGroup}`);
        const described = await connection.request(ApiKey.DescribeGroups, 5, {
          groups: [otherGroup],
          includeAuthorizedOperations: false,
        });
        assertCode(
          described.groups[0].errorCode,
          ErrorCode.GROUP_AUTHORIZATION_FAILED,
          `${tenant}: DescribeGroups ${otherGroup}`,
        );
        assert.equal(described.groups[0].members, [], 'no member of the other group is shown');
        const fetched = await connection.request(ApiKey.OffsetFetch, 7, {
          groupId: otherGroup,
          topics: null,
          requireStable: false,
        });
        assertCode(fetched.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, `${tenant}: OffsetFetch ${otherGroup}`);
      },
      coordinator,
    );
    // kafkajs asks every broker for the coordinator and, all refusing, reports that it found
    // none (the GROUP_AUTHORIZATION_FAILED behind it is checked in raw frames above).
    const groupRefusal = ['GROUP_AUTHORIZATION_FAILED', 'KafkaJSGroupCoordinatorNotFound'];
    await withAdmin(tenant, async (admin) => {
      await refused(`kafkajs: ${tenant} describing ${otherGroup}`, groupRefusal, () =>
        admin.describeGroups([otherGroup]),
      );
      await refused(`kafkajs: ${tenant} fetching the offsets of ${otherGroup}`, groupRefusal, () =>
        admin.fetchOffsets({ groupId: otherGroup, topics: [topicOf(OTHER[tenant])] }),
      );
      // Her own group is hers to describe (kafkajs throws on a group's error code).
      const own = await admin.describeGroups([groupOf(tenant)]);
      assert.is(own.groups[0].groupId, groupOf(tenant), `${tenant} describes her own group`);
    });
  }
  if (!HAVE_KCAT) return console.log('kcat not installed: the kcat group check is skipped');
  // A kcat (librdkafka) group consumer as alice in bob's group is refused.
  const joined = await kcatAs(
    'alice',
    ['-G', groupOf('bob'), topicOf('alice'), '-o', 'beginning', '-e', '-q', '-c', '1'],
    undefined,
    10000,
  );
  assert.match(joined.stderr, /group authorization failed|GROUP_AUTHORIZATION_FAILED/i, `kcat -G: ${joined.stderr}`);
});

test('[authz-admin] a tenant can neither delete __consumer_offsets nor alter its configs (nor can a super user)', async () => {
  for (const tenant of TENANTS) {
    await withConnection(tenant, async (connection) => {
      const deleted = await connection.request(ApiKey.DeleteTopics, 5, {
        topicNames: ['__consumer_offsets'],
        timeoutMs: 5000,
      });
      assertCode(
        deleted.responses[0].errorCode,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: DeleteTopics __consumer_offsets`,
      );
      const altered = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [
          {
            resourceType: 2,
            resourceName: '__consumer_offsets',
            configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
          },
        ],
        validateOnly: false,
      });
      assertCode(
        altered.responses[0].errorCode,
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `${tenant}: IncrementalAlterConfigs __consumer_offsets`,
      );
      // Nor the broker's configs (CLUSTER ALTER_CONFIGS).
      const broker = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [
          {
            resourceType: 4,
            resourceName: '',
            configs: [{ name: 'log.retention.ms', configOperation: 0, value: '1000' }],
          },
        ],
        validateOnly: true,
      });
      assertCode(
        broker.responses[0].errorCode,
        ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        `${tenant}: IncrementalAlterConfigs of the broker`,
      );
    });
    await withAdmin(tenant, (admin) =>
      refused(`kafkajs: ${tenant} deleting __consumer_offsets`, 'TOPIC_AUTHORIZATION_FAILED', () =>
        admin.deleteTopics({ topics: ['__consumer_offsets'], timeout: 5000 }),
      ),
    );
  }
  // Not even a super user deletes the offsets topic, alters its configs or writes to it.
  await withConnection('admin', async (connection) => {
    const deleted = await connection.request(ApiKey.DeleteTopics, 5, {
      topicNames: ['__consumer_offsets'],
      timeoutMs: 5000,
    });
    assertCode(deleted.responses[0].errorCode, ErrorCode.INVALID_REQUEST, 'admin: DeleteTopics __consumer_offsets');
    const altered = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [
        {
          resourceType: 2,
          resourceName: '__consumer_offsets',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
        },
      ],
      validateOnly: false,
    });
    assertCode(
      altered.responses[0].errorCode,
      ErrorCode.POLICY_VIOLATION,
      'admin: IncrementalAlterConfigs __consumer_offsets',
    );
    const written = await rawProduce(connection, '__consumer_offsets', ['forged']);
    assertCode(written.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, 'admin: Produce to __consumer_offsets');
  });
  await withConnection('alice', async (connection) => {
    const written = await rawProduce(connection, '__consumer_offsets', ['forged']);
    assertCode(written.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'alice: Produce to __consumer_offsets');
  });
  // The internal topic is still there and keeps its retention.
  const configs = await withAdmin('admin', (admin) =>
    admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: '__consumer_offsets', configNames: ['retention.ms'] }],
      includeSynonyms: false,
    }),
  );
  const retention = configs.resources[0].configEntries.find((entry) => entry.configName === 'retention.ms');
  assert.is.not(retention?.configValue, '1000', '__consumer_offsets keeps its retention');
});

test('[cluster] the admin (a super user) reads, writes, describes and deletes across both tenants', async () => {
  assert.ok((await visibleTopics('admin')).includes('__consumer_offsets'), 'the admin sees the internal topic');
  await withConnection('admin', async (connection) => {
    for (const tenant of TENANTS) {
      // Produce goes to the partition leader; any node answers Metadata.
      const leader = (await cluster.metadata(topicOf(tenant)))!.leader;
      await withConnection(
        'admin',
        async (onLeader) => {
          const written = await rawProduce(onLeader, topicOf(tenant), [`admin-${tenant}`]);
          assertCode(written.errorCode, ErrorCode.NONE, `admin: Produce to ${topicOf(tenant)}`);
          assertCode(
            await rawFetchError(onLeader, topicOf(tenant)),
            ErrorCode.NONE,
            `admin: Fetch of ${topicOf(tenant)}`,
          );
        },
        leader,
      );
    }
    const described = await connection.request(ApiKey.DescribeGroups, 5, {
      groups: TENANTS.map(groupOf),
      includeAuthorizedOperations: false,
    });
    // DescribeGroups is answered by each group's coordinator; elsewhere NOT_COORDINATOR.
    for (const group of described.groups)
      assert.not.ok(
        group.errorCode === ErrorCode.GROUP_AUTHORIZATION_FAILED,
        `admin describing ${group.groupId}: ${errorName(group.errorCode)}`,
      );
  });
  await withAdmin('admin', async (admin) => {
    const groups = await admin.describeGroups(TENANTS.map(groupOf));
    // kafkajs throws on a group's error code.
    assert.equal(groups.groups.map((g) => g.groupId).sort(), TENANTS.map(groupOf), 'the admin describes both groups');
    for (const tenant of TENANTS) {
      const [offsets] = await admin.fetchOffsets({ groupId: groupOf(tenant), topics: [topicOf(tenant)] });
      assert.is(
        Number(offsets.partitions[0].offset),
        RECORDS_PER_TENANT,
        `the admin reads ${groupOf(tenant)}'s offsets`,
      );
    }
    // A tenant topic of the admin's making, deleted by the admin.
    await admin.createTopics({ topics: [{ topic: 'b.scratch', numPartitions: 1, replicationFactor: 3 }] });
    await admin.deleteTopics({ topics: ['b.scratch'], timeout: 10000 });
  });
  if (HAVE_KCAT) {
    const read = await kcatRead('admin', topicOf('alice'));
    assert.is(read.code, 0, read.stderr);
    assert.match(read.stdout, 'admin-alice');
  }
});

/** An HTTP request to node `id`'s HTTP API with HTTP Basic as `user`: status and parsed body. */
async function http(user: ScramUser, method: string, url: string, id = cluster.aliveIds()[0]) {
  const port = cluster.node(id).httpPort;
  assert.ok(port, `node ${id} serves HTTP`);
  const answer = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${user}:${cluster.passwords[user]}`).toString('base64')}` },
    signal: AbortSignal.timeout(15000),
  });
  const text = await answer.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the text tells.
  }
  return { status: answer.status, json, text };
}

test("[http-authz] over the HTTP API (SCRAM users by HTTP Basic) a tenant sees only its own topics and is refused the other's topic and group", async () => {
  for (const tenant of TENANTS) {
    const listed = await http(tenant, 'GET', '/api/v1/topics');
    assert.is(listed.status, 200, listed.text);
    const names: string[] = listed.json.topics.map((t: { name: string }) => t.name);
    assert.ok(names.includes(topicOf(tenant)), `${tenant} lists ${topicOf(tenant)} over HTTP: ${names}`);
    assert.equal(
      names.filter((name) => !name.startsWith(PREFIX[tenant])),
      [],
      `${tenant} lists only topics prefixed ${PREFIX[tenant]} over HTTP`,
    );
    const other = topicOf(OTHER[tenant]);
    for (const [method, url, code] of [
      ['GET', `/api/v1/topics/${other}`, 'TOPIC_AUTHORIZATION_FAILED'],
      ['DELETE', `/api/v1/topics/${other}`, 'TOPIC_AUTHORIZATION_FAILED'],
      ['GET', `/api/v1/topics/${other}/partitions/0/records`, 'TOPIC_AUTHORIZATION_FAILED'],
      ['GET', `/api/v1/groups/${groupOf(OTHER[tenant])}`, 'GROUP_AUTHORIZATION_FAILED'],
      ['GET', '/api/v1/quorum', 'CLUSTER_AUTHORIZATION_FAILED'],
    ] as const) {
      const refused = await http(tenant, method, url);
      assert.is(refused.status, 403, `${tenant}: ${method} ${url}: ${refused.text}`);
      assert.is(refused.json?.error?.code, code, `${tenant}: ${method} ${url}`);
    }
    const own = await http(tenant, 'GET', `/api/v1/groups/${groupOf(tenant)}`);
    assert.is(own.status, 200, `${tenant} describes her own group over HTTP: ${own.text}`);
    const whoami = await http(tenant, 'GET', '/api/v1/whoami');
    assert.is(whoami.json?.authorizerEnabled, true, whoami.text);
    assert.is(whoami.json?.superUser, false, whoami.text);
  }
  const all = await http('admin', 'GET', '/api/v1/topics');
  assert.is(all.status, 200, all.text);
  const names: string[] = all.json.topics.map((t: { name: string }) => t.name);
  for (const tenant of TENANTS) assert.ok(names.includes(topicOf(tenant)), `admin lists ${topicOf(tenant)} over HTTP`);
  const described = await http('admin', 'GET', `/api/v1/topics/${topicOf('bob')}`);
  assert.is(described.status, 200, described.text);
});

test('[quota-store] `brook quotas alter` sets producer_byte_rate on user alice (AlterClientQuotas); `brook quotas describe` shows it', async () => {
  const served = await servedApiKeys();
  assert.ok(served.has(48), 'ApiVersions lists DescribeClientQuotas (48)');
  assert.ok(served.has(49), 'ApiVersions lists AlterClientQuotas (49)');
  const altered = await brookAsAdmin([
    'quotas',
    'alter',
    '--user',
    'alice',
    '--add',
    `producer_byte_rate=${ALICE_RATE}`,
  ]);
  assert.is(altered.code, 0, `brook quotas alter: ${altered.stdout}${altered.stderr}`);
  const described = await brookAsAdmin(['quotas', 'describe', '--user', 'alice']);
  assert.is(described.code, 0, described.stderr);
  assert.match(described.stdout, new RegExp(`producer_byte_rate\\D{0,10}${ALICE_RATE}\\b`), described.stdout);
  await everyNodeHasAliceQuota('after AlterClientQuotas');
  // As alice, altering her own quota is refused (AlterClientQuotas needs CLUSTER ALTER_CONFIGS).
  const aliceProperties = adminProperties.replace(/admin\.properties$/, 'alice.properties');
  fs.writeFileSync(
    aliceProperties,
    fs
      .readFileSync(adminProperties, 'utf8')
      .replace('sasl.username=admin', 'sasl.username=alice')
      .replace(`sasl.password=${cluster.passwords.admin}`, `sasl.password=${cluster.passwords.alice}`),
    { mode: 0o600 },
  );
  const selfServe = await runBrook(
    [
      'quotas',
      'alter',
      '--user',
      'alice',
      '--add',
      'producer_byte_rate=1073741824',
      '--bootstrap',
      cluster.bootstrap(cluster.aliveIds())[0],
      '--command-config',
      aliceProperties,
    ],
    { timeoutMs: 20000 },
  );
  assert.is.not(selfServe.code, 0, 'alice cannot raise her own quota');
  assert.match(selfServe.stdout + selfServe.stderr, /CLUSTER_AUTHORIZATION_FAILED|cluster authorization failed/i);
  await everyNodeHasAliceQuota('after her own attempt');
});

/** alice's user quotas as node `id` describes them (DescribeClientQuotas v1, strict, as admin). */
function aliceQuotasOn(id: number): Promise<Record<string, number>> {
  return withConnection(
    'admin',
    async (connection) => {
      const answer = await connection.request(ApiKey.DescribeClientQuotas, 1, {
        components: [{ entityType: 'user', matchType: 0, match: 'alice' }],
        strict: true,
      });
      if (answer.errorCode !== ErrorCode.NONE)
        throw new Error(`node ${id}: DescribeClientQuotas ${errorName(answer.errorCode)} ${answer.errorMessage}`);
      const values: Record<string, number> = {};
      for (const entry of answer.entries ?? []) for (const v of entry.values) values[v.key] = v.value;
      return values;
    },
    id,
  );
}

/** Waits until every running node describes alice's producer_byte_rate (and nothing else) as set. */
async function everyNodeHasAliceQuota(when: string): Promise<void> {
  const expected = JSON.stringify({ producer_byte_rate: ALICE_RATE });
  const seen = new Map<number, string>();
  await until(
    async () => {
      for (const id of cluster.aliveIds()) {
        const described = await aliceQuotasOn(id).then(JSON.stringify, (error: Error) => error.message);
        seen.set(id, described);
        if (described !== expected) return false;
      }
      return true;
    },
    {
      what: () => `every node to describe alice's quotas ${when} as ${expected}; seen ${JSON.stringify([...seen])}`,
      timeoutMs: 15000,
    },
  );
}

/** Acknowledged bytes per second of a kafkajs producer as `tenant` writing 8 KiB records for `durationMs`, over the last `tailMs`. */
async function producerRate(tenant: Tenant, topic: string, durationMs: number, tailMs: number): Promise<number> {
  const producer = kafka(tenant, `tenants-load-${tenant}`, { requestTimeout: 30000 }).producer({
    allowAutoTopicCreation: false,
  });
  await withTimeout(producer.connect(), 15000);
  const value = Buffer.alloc(8 * 1024, tenant === 'alice' ? 'a' : 'b');
  const acks: { at: number; bytes: number }[] = [];
  const started = Date.now();
  try {
    while (Date.now() - started < durationMs) {
      await producer.send({ topic, acks: 1, messages: Array.from({ length: 4 }, () => ({ value })) });
      acks.push({ at: Date.now(), bytes: 4 * value.length });
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  const ended = Date.now();
  const from = ended - tailMs;
  const bytes = acks.filter((a) => a.at >= from).reduce((sum, a) => sum + a.bytes, 0);
  return bytes / (tailMs / 1000);
}

test("[quota-enforce] alice's producer is held near her producer_byte_rate and told to back off (KIP-219); bob's is not", async () => {
  const loadTopics = TENANTS.map((tenant) => `${PREFIX[tenant]}load`);
  await withAdmin('admin', (admin) =>
    admin.createTopics({
      topics: loadTopics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
      waitForLeaders: true,
    }),
  );
  try {
    const [alice, bob] = await Promise.all(TENANTS.map((tenant, i) => producerRate(tenant, loadTopics[i], 6000, 3000)));
    const kib = (rate: number) => `${Math.round(rate / 1024)} KiB/s`;
    console.log(`quota ${kib(ALICE_RATE)}: alice's producer ${kib(alice)}, bob's ${kib(bob)}`);
    assert.ok(alice <= ALICE_RATE * 1.6, `alice's producer is held near ${kib(ALICE_RATE)} (it ran at ${kib(alice)})`);
    assert.ok(alice >= ALICE_RATE * 0.3, `alice's producer still progresses (${kib(alice)})`);
    assert.ok(bob >= ALICE_RATE * 2.5, `bob's producer is not held (${kib(bob)})`);
    // Over her quota, alice's Produce responses name a throttle time; bob's do not.
    for (const tenant of TENANTS) {
      const topic = loadTopics[TENANTS.indexOf(tenant)];
      const leader = (await cluster.metadata(topic))!.leader;
      const answer = await withConnection(
        tenant,
        (connection) => rawProduce(connection, topic, [Buffer.alloc(256 * 1024, 'x')]),
        leader,
      );
      assertCode(answer.errorCode, ErrorCode.NONE, `${tenant}'s Produce over the quota is still accepted`);
      if (tenant === 'alice')
        assert.ok(answer.throttleTimeMs > 0, `alice's Produce names a throttle time (${answer.throttleTimeMs})`);
      else assert.is(answer.throttleTimeMs, 0, "bob's Produce names no throttle time");
    }
  } finally {
    await withAdmin('admin', (admin) => admin.deleteTopics({ topics: loadTopics, timeout: 10000 })).catch(
      () => undefined,
    );
  }
});

/** What must hold after every failure: the bindings, the isolation, alice's quota, the tenants' data. */
async function stateHolds(when: string, extraAcls: string[]): Promise<void> {
  await everyNodeLists([...expectedTenantAcls(), ...extraAcls].sort(), when);
  assert.equal(await describedAcls(), [...expectedTenantAcls(), ...extraAcls].sort(), `kafkajs describeAcls ${when}`);
  for (const id of cluster.aliveIds()) {
    assertCode(
      await metadataError('alice', topicOf('bob'), id),
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      `${when}: node ${id}, alice's Metadata of b.orders`,
    );
    assertCode(
      await metadataError('alice', topicOf('alice'), id),
      ErrorCode.NONE,
      `${when}: node ${id}, alice's Metadata of a.orders`,
    );
  }
  await withAdmin('alice', async (admin) => {
    const [offsets] = await admin.fetchOffsets({ groupId: groupOf('alice'), topics: [topicOf('alice')] });
    assert.is(Number(offsets.partitions[0].offset), RECORDS_PER_TENANT, `${when}: alice's committed offset`);
  });
  await everyNodeHasAliceQuota(when);
}

test('[acls] [quota-store] ACLs and quotas survive stopping the active controller; a binding added after the failover is enforced', async () => {
  const before = await cluster.agreedQuorum();
  const stopped = before.leaderId;
  cluster.retire(stopped);
  await cluster.node(stopped).stop();
  const after = await cluster.agreedQuorum(20000);
  assert.is.not(after.leaderId, stopped, 'another node leads the metadata quorum');
  await stateHolds('after the failover', []);
  // The new active controller takes writes: bob may now describe a.orders (LITERAL).
  await withAdmin('admin', (admin) =>
    admin.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: topicOf('alice'),
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: 'User:bob',
          host: '*',
          operation: AclOperationTypes.DESCRIBE,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    }),
  );
  await until(async () => (await visibleTopics('bob')).includes(topicOf('alice')), {
    what: 'bob to see a.orders after his DESCRIBE binding',
    timeoutMs: 10000,
  });
  // The stopped node stays down: the next test starts the whole cluster from its data
  // directories, this node's a binding behind the others'.
});

test('[acls] [quota-store] ACLs and quotas survive a restart of the whole cluster from its data directories', async () => {
  const running = cluster.aliveIds();
  await cluster.stopAll();
  for (const id of running) cluster.retire(id);
  await Promise.all(cluster.ids.map((id) => cluster.start(id)));
  await cluster.agreedQuorum(20000);
  const bobDescribes = `User:bob TOPIC ${topicOf('alice')} LITERAL DESCRIBE ALLOW`;
  await stateHolds('after the restart', [bobDescribes]);
  const bobSees = await visibleTopics('bob');
  assert.ok(bobSees.includes(topicOf('alice')), 'bob still sees a.orders');
  assert.ok(bobSees.includes(topicOf('bob')));
  assertCode(
    await withConnection('bob', (connection) => rawFetchError(connection, topicOf('alice'))),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    'bob may describe a.orders but not read it',
  );
  if (HAVE_KCAT) {
    const read = await kcatRead('alice', topicOf('alice'));
    assert.is(read.code, 0, read.stderr);
    assert.match(read.stdout, `alice-kafkajs-0`);
  }
});

test.run();
