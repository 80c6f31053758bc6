// Without an authorizer (authorizer.class.name unset) every group and admin request is
// answered as before authorization existed: no *_AUTHORIZATION_FAILED anywhere, new topics'
// configs returned, every group listed, DescribeGroups reporting every group operation when
// asked (as Kafka reports them without an authorizer). The internal topics are protected
// all the same: not deleted, grown or reconfigured.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { OFFSETS_TOPIC } from '../../protocol/topic-names';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { AclOperation as Op, OPERATIONS_BY_RESOURCE_TYPE, ResourceType } from '../../src/security/acl';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';

let running: RunningBroker;
let dataDir: string;
let connection: KafkaConnection;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-authz-none-'));
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
    }),
    silentLogger,
  );
  assert.is(running.broker.authorizer, null);
  connection = new KafkaConnection({ host: '127.0.0.1', port: running.kafkaPort, requestTimeoutMs: 10_000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('admin requests pass, with configs, as before', async () => {
  const created = await connection.request(ApiKey.CreateTopics, 7, {
    topics: [{ name: 'plain', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.is(created.topics[0].errorCode, ErrorCode.NONE);
  assert.is(created.topics[0].topicConfigErrorCode, ErrorCode.NONE);
  assert.ok(created.topics[0].configs!.length > 0);
  const altered = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: 'plain',
        configs: [{ name: 'min.insync.replicas', configOperation: 0, value: '1' }],
      },
    ],
    validateOnly: false,
  });
  assert.is(altered.responses[0].errorCode, ErrorCode.NONE);
  const described = await connection.request(ApiKey.DescribeConfigs, 4, {
    resources: [
      { resourceType: 2, resourceName: 'plain', configurationKeys: ['min.insync.replicas'] },
      { resourceType: 4, resourceName: '', configurationKeys: null },
    ],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  assert.equal(
    described.results.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.NONE],
  );
  const scram = await connection.request(ApiKey.DescribeUserScramCredentials, 0, { users: null });
  assert.is(scram.errorCode, ErrorCode.NONE);
  const reassignments = await connection.request(ApiKey.ListPartitionReassignments, 0, {
    timeoutMs: 10_000,
    topics: null,
  });
  assert.is(reassignments.errorCode, ErrorCode.NONE);
});

test('groups: listed, described with every operation when asked, offsets committed and fetched', async () => {
  const commit = await until(
    async () => {
      const answer = await connection.request(ApiKey.OffsetCommit, 8, {
        groupId: 'g',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: 'plain',
            partitions: [{ partitionIndex: 0, committedOffset: 3, committedLeaderEpoch: -1, committedMetadata: null }],
          },
        ],
      });
      const code = answer.topics[0].partitions[0].errorCode;
      return code === ErrorCode.NONE || code === ErrorCode.NOT_COORDINATOR ? answer : null;
    },
    { what: 'the group coordinator', timeoutMs: 15_000, intervalMs: 200 },
  );
  assert.is(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const fetched = await connection.request(ApiKey.OffsetFetch, 8, {
    groups: [{ groupId: 'g', topics: null }],
    requireStable: false,
  });
  assert.is(fetched.groups[0].topics[0].partitions[0].committedOffset, 3);
  const listed = await connection.request(ApiKey.ListGroups, 4, { statesFilter: [] });
  assert.ok(listed.groups.some((g) => g.groupId === 'g'));
  const described = await connection.request(ApiKey.DescribeGroups, 5, {
    groups: ['g'],
    includeAuthorizedOperations: true,
  });
  let every = 0;
  for (const op of OPERATIONS_BY_RESOURCE_TYPE[ResourceType.GROUP]) every |= 1 << op;
  assert.is(described.groups[0].authorizedOperations, every);
  assert.ok(every & (1 << Op.READ));
  const deleted = await connection.request(ApiKey.OffsetDelete, 0, {
    groupId: 'g',
    topics: [{ name: 'plain', partitions: [{ partitionIndex: 0 }] }],
  });
  assert.is(deleted.topics[0].partitions[0].errorCode, ErrorCode.NONE);
});

test('the internal topics are protected without an authorizer too', async () => {
  await until(() => running.broker.topics.get(OFFSETS_TOPIC), { what: 'the offsets topic' });
  const deleted = await connection.request(ApiKey.DeleteTopics, 5, { topicNames: [OFFSETS_TOPIC], timeoutMs: 10_000 });
  assert.is(deleted.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
  const grown = await connection.request(ApiKey.CreatePartitions, 3, {
    topics: [{ name: OFFSETS_TOPIC, count: 100, assignments: null }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.is(grown.results[0].errorCode, ErrorCode.INVALID_REQUEST);
  const altered = await connection.request(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: OFFSETS_TOPIC,
        configs: [{ name: 'cleanup.policy', configOperation: 0, value: 'delete' }],
      },
    ],
    validateOnly: true,
  });
  assert.is(altered.responses[0].errorCode, ErrorCode.POLICY_VIOLATION);
});

test.run();
