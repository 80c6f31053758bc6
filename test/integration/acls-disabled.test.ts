// The ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) on a broker without an authorizer:
// answered as Kafka answers them then, SECURITY_DISABLED with "No Authorizer is
// configured.", through kafkajs's admin client and as raw frames at every served version;
// version 0 (removed in Kafka 4.0) is not served, and a truncated request closes only its
// own connection.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker();
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10_000 });
  await connection.connect();
});

test.after(async () => {
  connection?.close();
  await broker.stop();
});

const FILTER = {
  resourceTypeFilter: 1, // ANY
  resourceNameFilter: null,
  patternTypeFilter: 1, // ANY
  principalFilter: null,
  hostFilter: null,
  operation: 1, // ANY
  permissionType: 1, // ANY
};

test('raw frames: every served version answers SECURITY_DISABLED', async () => {
  for (const version of [1, 2, 3]) {
    const described = await connection.request(ApiKey.DescribeAcls, version, FILTER);
    assert.is(described.errorCode, ErrorCode.SECURITY_DISABLED, `DescribeAcls v${version}`);
    assert.is(described.errorMessage, 'No Authorizer is configured.');
    assert.equal(described.resources, []);

    const created = await connection.request(ApiKey.CreateAcls, version, {
      creations: [
        {
          resourceType: 2, // TOPIC
          resourceName: 'orders',
          resourcePatternType: 3, // LITERAL
          principal: 'User:alice',
          host: '*',
          operation: 3, // READ
          permissionType: 3, // ALLOW
        },
        {
          resourceType: 3, // GROUP
          resourceName: 'g',
          resourcePatternType: 4, // PREFIXED
          principal: 'User:bob',
          host: '*',
          operation: 8, // DESCRIBE
          permissionType: 2, // DENY
        },
      ],
    });
    assert.equal(
      created.results.map((r) => r.errorCode),
      [ErrorCode.SECURITY_DISABLED, ErrorCode.SECURITY_DISABLED],
      `CreateAcls v${version}`,
    );

    const deleted = await connection.request(ApiKey.DeleteAcls, version, { filters: [FILTER] });
    assert.is(deleted.filterResults.length, 1);
    assert.is(deleted.filterResults[0].errorCode, ErrorCode.SECURITY_DISABLED, `DeleteAcls v${version}`);
    assert.equal(deleted.filterResults[0].matchingAcls, []);
  }
});

test('version 0 is not served; a truncated request closes only its connection', async () => {
  const versions = await connection.request(ApiKey.ApiVersions, 3, {
    clientSoftwareName: 'acl-test',
    clientSoftwareVersion: '1',
  });
  for (const key of [ApiKey.DescribeAcls, ApiKey.CreateAcls, ApiKey.DeleteAcls]) {
    const entry = versions.apiKeys.find((k) => k.apiKey === key);
    assert.ok(entry, `ApiVersions lists key ${key}`);
    assert.is(entry!.minVersion, 1);
    assert.is(entry!.maxVersion, 3);
  }
  // DescribeAcls v0 with correlation id 7 and client id "t": UNSUPPORTED_VERSION.
  const header = Buffer.from([0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x74]);
  const v0Body = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01]);
  const v0 = Buffer.concat([Buffer.alloc(4), header, v0Body]);
  v0.writeInt32BE(v0.length - 4, 0);
  // A version Brook cannot read is refused by closing the connection (protocol/PROTOCOL.md).
  const answer = await rawRequest(broker.port, v0);
  assert.ok(answer.closed && answer.frame === null, 'v0 closes the connection without an answer');

  // CreateAcls v1 claiming two creations but carrying half of one.
  const head = Buffer.from([0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x74]);
  const truncated = Buffer.concat([
    Buffer.alloc(4),
    head,
    Buffer.from([0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x10, 0x61]),
  ]);
  truncated.writeInt32BE(truncated.length - 4, 0);
  const refused = await rawRequest(broker.port, truncated);
  assert.ok(refused.closed, 'the truncated request closed its connection');
  const still = await connection.request(ApiKey.DescribeAcls, 3, FILTER);
  assert.is(still.errorCode, ErrorCode.SECURITY_DISABLED, 'the broker still answers');
});

/** One ACL binding as kafkajs takes it: TOPIC orders, LITERAL, User:alice from any host, READ, ALLOW. */
const ALICE_READS_ORDERS = {
  resourceType: 2,
  resourceName: 'orders',
  resourcePatternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
};

test('kafkajs admin: describe, create and delete ACLs fail with SECURITY_DISABLED', async () => {
  const admin = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'acl-admin',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  await admin.connect();
  try {
    const expectDisabled = async (what: string, call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (error) {
        assert.is((error as { type?: string }).type, 'SECURITY_DISABLED', `${what}: ${(error as Error).message}`);
        return;
      }
      assert.unreachable(`${what} succeeded`);
    };
    await expectDisabled('describeAcls', () => admin.describeAcls(ALICE_READS_ORDERS as never));
    await expectDisabled('createAcls', () =>
      admin.createAcls({
        acl: [ALICE_READS_ORDERS],
      } as never),
    );
    await expectDisabled('deleteAcls', () =>
      admin.deleteAcls({
        filters: [ALICE_READS_ORDERS],
      } as never),
    );
  } finally {
    await admin.disconnect();
  }
});

test.run();
