// The follower check with an authorizer: a Fetch or OffsetForLeaderEpoch with a replica id
// needs ClusterAction on the cluster for the connection's principal (from its address as
// the ACL host), on every listener, as Kafka checks it; that ACL check replaces the
// super.users list of an authenticating inter-broker listener, whose own rule (the
// listener, an authenticated connection) still holds. Without an authorizer nothing changes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { MetadataImage } from '../../src/controller/metadata-image';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { silentLogger } from '../../src/logger';
import { FollowerAuth, ReplicaManager } from '../../src/replica/replica-manager';
import { Authorizer } from '../../src/security/acl';
import { ANONYMOUS, userPrincipal } from '../../src/security/principal';
import { clusterAcl, Op } from '../helpers/acls';

function setup(options: { authorizer: boolean; followerAuth?: FollowerAuth }) {
  const image = new MetadataImage();
  (image.brokers as Map<number, unknown>).set(2, {
    brokerId: 2,
    incarnationId: 'x',
    brokerEpoch: 1,
    endPoints: [{ name: 'BROKER', host: '10.0.0.2', port: 9092, securityProtocol: 0 }],
    rack: null,
    fenced: false,
    registeredAtOffset: 0,
  });
  const grant = (user: string, host = '*') => {
    const id = Buffer.alloc(16);
    id.writeUInt32BE(image.acls.size + 1, 12);
    image.apply(
      {
        type: 'AccessControlEntry',
        data: { id: id.toString('base64url'), ...clusterAcl(user, Op.CLUSTER_ACTION, { host }) },
      },
      image.acls.size,
    );
  };
  const authorizer = options.authorizer
    ? new Authorizer(image, { superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false })
    : null;
  const logs = new LogManager({
    dataDir: '/data',
    fs: new MemoryFileSystem(),
    tailCacheBytes: 1 << 20,
    housekeepingIntervalMs: 0,
  });
  logs.open();
  const manager = new ReplicaManager(
    {
      nodeId: 1,
      lagTimeMaxMs: 30_000,
      fetchWaitMaxMs: 500,
      fetchMaxBytes: 1 << 20,
      followerAuth: options.followerAuth,
    },
    {
      image: () => image,
      logs,
      endpointOf: () => undefined,
      alterIsr: async () => ({ errorCode: ErrorCode.NONE }),
      clusterId: 'c',
      authorizer: () => authorizer,
    },
    silentLogger,
  );
  return { manager, grant, logs };
}

const on = (user: string, listenerName = 'BROKER', authenticated = true) => ({
  principal: user === 'ANONYMOUS' ? ANONYMOUS : userPrincipal(user),
  listenerName,
  authenticated,
});

test('with an authorizer, a follower needs ClusterAction, on any listener, from an allowed host', async () => {
  const { manager, grant, logs } = setup({ authorizer: true });
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('broker')), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.is(
    await manager.checkFollowerIdentity(2, '10.0.0.2', on('ANONYMOUS', 'PLAINTEXT', false)),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2'), ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'no principal');
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('admin')), ErrorCode.NONE, 'a super user');
  grant('broker', '10.0.0.2');
  assert.is(await manager.checkFollowerIdentity(2, '::ffff:10.0.0.2', on('broker')), ErrorCode.NONE);
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('alice')), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // Authorized, then the identity check: the peer is not broker 2's registered host.
  grant('broker');
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.9', on('broker')), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  logs.close();
});

test('the ACL replaces the super.users list of an authenticating inter-broker listener, not its listener rule', async () => {
  const followerAuth = { interBrokerListenerName: 'BROKER', clusterPrincipals: new Set(['User:broker']) };
  const { manager, grant, logs } = setup({ authorizer: true, followerAuth });
  grant('replicator');
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('replicator')), ErrorCode.NONE, 'by its ACL');
  assert.is(
    await manager.checkFollowerIdentity(2, '10.0.0.2', on('broker')),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    'listed, but no ClusterAction',
  );
  assert.is(
    await manager.checkFollowerIdentity(2, '10.0.0.2', on('replicator', 'CLIENT')),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    'not the inter-broker listener',
  );
  logs.close();
});

test('without an authorizer, the super.users list and the address decide as before', async () => {
  const followerAuth = { interBrokerListenerName: 'BROKER', clusterPrincipals: new Set(['User:broker']) };
  const { manager, logs } = setup({ authorizer: false, followerAuth });
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('broker')), ErrorCode.NONE);
  assert.is(await manager.checkFollowerIdentity(2, '10.0.0.2', on('alice')), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const plain = setup({ authorizer: false });
  assert.is(
    await plain.manager.checkFollowerIdentity(2, '10.0.0.2', on('ANONYMOUS', 'PLAINTEXT', false)),
    ErrorCode.NONE,
  );
  logs.close();
  plain.logs.close();
});

test.run();
