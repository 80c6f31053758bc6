// SCRAM users on a real 3-node cluster: the bootstrap user of the config file exists on
// every broker without any request; a user set through a broker that is not the active
// controller (forwarded) is described by every broker, and a deletion too; bad
// AlterUserScramCredentials and DescribeUserScramCredentials requests get Kafka's error
// codes over the wire, and a truncated one closes only its connection; ApiVersions lists
// keys 50 and 51; the credentials survive a restart of every node (replayed from the
// metadata log and from snapshots, which are taken every few entries here), and no log
// line holds the bootstrap password.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { saltedPassword } from '../../src/security/scram';
import { rawRequest } from '../helpers/broker-process';
import { Cluster, startCluster } from '../helpers/cluster';
import { until } from '../helpers/wait';

let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({
    size: 3,
    config: {
      'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=admin,password=admin-secret]',
      'brook.metadata.snapshot.interval.entries': '4',
      'brook.max.scram.credentials.per.request': '5',
    },
  });
});

test.after(async () => {
  await cluster?.stopAll();
});

/** DescribeUserScramCredentials at node `id` itself, as the admin client reports it. */
async function describeAt(id: number, users?: string[]) {
  const connection = await connectionTo(id);
  try {
    const answer = await connection.request(ApiKey.DescribeUserScramCredentials, 0, {
      users: users ? users.map((name) => ({ name })) : null,
    });
    if (answer.errorCode !== 0 || answer.results.some((r) => r.errorCode !== 0))
      throw new Error(`describe at node ${id}: ${JSON.stringify(answer)}`);
    const mechanisms: Record<number, string> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' };
    return answer.results
      .map((r) => ({
        user: r.user,
        credentials: r.credentialInfos.map((c) => ({ mechanism: mechanisms[c.mechanism], iterations: c.iterations })),
      }))
      .sort((a, b) => (a.user < b.user ? -1 : 1));
  } finally {
    connection.close();
  }
}

/** The users every node describes, once all describe the same. */
async function agreedUsers(): Promise<string> {
  return until(
    async () => {
      const views = await Promise.all(
        cluster.ids.map((id) =>
          describeAt(id)
            .then((users) => JSON.stringify(users))
            .catch(() => null),
        ),
      );
      return views.every((v) => v !== null && v === views[0]) ? views[0]! : null;
    },
    { what: 'every node to describe the same SCRAM users', timeoutMs: 20_000 },
  );
}

async function connectionTo(id: number): Promise<KafkaConnection> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  await connection.connect();
  return connection;
}

async function controllerId(): Promise<number> {
  const admin = new Admin({ bootstrap: cluster.bootstrap() });
  try {
    return await until(async () => (await admin.describeCluster()).controllerId, { what: 'a controller' });
  } finally {
    admin.close();
  }
}

test('the bootstrap user exists on every broker, described without salts or keys', async () => {
  const users = JSON.parse(await agreedUsers());
  assert.equal(users, [{ user: 'admin', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] }]);
});

test('ApiVersions lists DescribeUserScramCredentials (50) and AlterUserScramCredentials (51) at v0', async () => {
  const connection = await connectionTo(cluster.ids[0]);
  try {
    const answer = await connection.request(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    for (const key of [50, 51]) {
      const entry = answer.apiKeys.find((k: { apiKey: number }) => k.apiKey === key);
      assert.ok(entry, `key ${key} listed`);
      assert.equal([entry!.minVersion, entry!.maxVersion], [0, 0]);
    }
  } finally {
    connection.close();
  }
});

test('a user set through a non-controller broker is described by every broker; deletion too', async () => {
  const controller = await controllerId();
  const other = cluster.ids.find((id) => id !== controller)!;
  // Straight to a node that is not the controller, which forwards it.
  const salt = Buffer.alloc(32, 9);
  const connection = await connectionTo(other);
  try {
    const forwarded = await connection.request(ApiKey.AlterUserScramCredentials, 0, {
      deletions: [],
      upsertions: [
        {
          name: 'alice',
          mechanism: 1,
          iterations: 8192,
          salt,
          saltedPassword: saltedPassword('SCRAM-SHA-256', 'alice-secret', salt, 8192),
        },
      ],
    });
    assert.equal(
      forwarded.results.map((r) => [r.user, r.errorCode]),
      [['alice', 0]],
    );
  } finally {
    connection.close();
  }
  assert.equal(
    (await describeAt(other, ['alice'])).map((u) => u.user),
    ['alice'],
    'the forwarding broker answered once it had applied the change',
  );
  // And through the admin client, which sends writes to the controller.
  const admin = new Admin({ bootstrap: cluster.bootstrap() });
  try {
    const results = await admin.alterUserScramCredentials([
      { kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-512', password: 'bob-secret' },
    ]);
    assert.equal(
      results.map((r) => [r.user, r.errorCode]),
      [['bob', 0]],
    );
    const users = JSON.parse(await agreedUsers());
    assert.equal(
      users.map((u: { user: string }) => u.user),
      ['admin', 'alice', 'bob'],
    );
    assert.equal(users[1].credentials, [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }]);
    const deleted = await admin.alterUserScramCredentials([
      { kind: 'delete', user: 'bob', mechanism: 'SCRAM-SHA-512' },
    ]);
    assert.is(deleted[0].errorCode, 0);
    assert.equal(
      JSON.parse(await agreedUsers()).map((u: { user: string }) => u.user),
      ['admin', 'alice'],
    );
  } finally {
    admin.close();
  }
});

test("bad requests get Kafka's error codes over the wire, through any broker", async () => {
  const salt = Buffer.alloc(32, 1);
  const salted = saltedPassword('SCRAM-SHA-512', 'x', salt, 4096);
  for (const id of cluster.ids) {
    const connection = await connectionTo(id);
    try {
      const alter = await connection.request(ApiKey.AlterUserScramCredentials, 0, {
        deletions: [
          { name: 'nobody', mechanism: 2 },
          { name: 'weird', mechanism: 9 },
        ],
        upsertions: [
          { name: '', mechanism: 2, iterations: 4096, salt, saltedPassword: salted },
          { name: 'few', mechanism: 2, iterations: 100, salt, saltedPassword: salted },
          { name: 'alice', mechanism: 2, iterations: 4096, salt, saltedPassword: salted },
        ],
      });
      const codes = Object.fromEntries(alter.results.map((r) => [r.user, r.errorCode]));
      assert.equal(codes, {
        nobody: ErrorCode.RESOURCE_NOT_FOUND,
        weird: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
        '': ErrorCode.UNACCEPTABLE_CREDENTIAL,
        few: ErrorCode.UNACCEPTABLE_CREDENTIAL,
        alice: ErrorCode.NONE,
      });
      const twice = await connection.request(ApiKey.AlterUserScramCredentials, 0, {
        deletions: [{ name: 'alice', mechanism: 2 }],
        upsertions: [{ name: 'alice', mechanism: 1, iterations: 4096, salt, saltedPassword: salted.subarray(0, 32) }],
      });
      assert.equal(
        twice.results.map((r) => [r.user, r.errorCode]),
        [['alice', ErrorCode.DUPLICATE_RESOURCE]],
      );
      const tooMany = await connection.request(ApiKey.AlterUserScramCredentials, 0, {
        deletions: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, mechanism: 1 })),
        upsertions: [],
      });
      assert.ok(
        tooMany.results.every((r) => r.errorCode === ErrorCode.INVALID_REQUEST),
        'past the per-request bound',
      );
      const described = await connection.request(ApiKey.DescribeUserScramCredentials, 0, {
        users: [{ name: 'admin' }, { name: 'ghost' }, { name: 'dup' }, { name: 'dup' }],
      });
      assert.is(described.errorCode, 0);
      assert.equal(
        described.results.map((r) => [r.user, r.errorCode, r.credentialInfos.length]),
        [
          ['admin', 0, 1],
          ['ghost', ErrorCode.RESOURCE_NOT_FOUND, 0],
          ['dup', ErrorCode.DUPLICATE_RESOURCE, 0],
        ],
      );
      const describeTooMany = await connection.request(ApiKey.DescribeUserScramCredentials, 0, {
        users: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name })),
      });
      assert.is(describeTooMany.errorCode, ErrorCode.INVALID_REQUEST);
    } finally {
      connection.close();
    }
  }
  // alice kept the SCRAM-SHA-256 credential set earlier and gained SCRAM-SHA-512.
  const alice = (await describeAt(cluster.ids[0], ['alice']))[0];
  assert.ok(alice.credentials.some((c) => c.mechanism === 'SCRAM-SHA-512'));
});

test('a truncated AlterUserScramCredentials closes that connection only', async () => {
  const id = cluster.ids[0];
  // Header v2 (key 51, v0, correlation 7, client "t", no tags), then a deletions array
  // that claims 100 entries and ends.
  const body = Buffer.from('0033' + '0000' + '00000007' + '0001' + '74' + '00' + '65', 'hex');
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  const answer = await rawRequest(cluster.kafkaPorts.get(id)!, frame, 5000);
  assert.ok(answer.closed || answer.frame === null, 'no answer to a malformed request');
  assert.equal(
    (await describeAt(id, ['admin'])).map((u) => u.user),
    ['admin'],
    'the broker still answers',
  );
});

test('credentials survive a restart of every node (log replay and snapshots)', async () => {
  const before = await agreedUsers();
  for (const id of cluster.ids) await cluster.stop(id);
  await Promise.all(cluster.ids.map((id) => cluster.start(id)));
  assert.is(await agreedUsers(), before);
  for (const node of cluster.list()) {
    assert.not.ok(node.logs().includes('admin-secret'), 'no bootstrap password in the log');
    assert.match(node.logs(), /./, 'the node logged');
  }
});

test.run();
