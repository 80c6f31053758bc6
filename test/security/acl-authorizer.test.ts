// Kafka's StandardAuthorizer rules over an in-memory ACL set: literal, prefixed and
// wildcard resources, User:* and host matching, DENY winning, the implied operations,
// super.users, allow.everyone.if.no.acl.found, the cache following ACL changes, the
// authorized-operations bitfield, authorizeByResourceType, and the record round trip
// through the metadata image and its snapshot.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AclEntry,
  aclMatchesFilter,
  AclOperation as Op,
  AclPermission,
  Authorizer,
  authorizerSettingsFrom,
  invalidBindingReason,
  PatternType,
  ResourceType,
} from '../../src/security/acl';
import { MetadataImage } from '../../src/controller/metadata-image';
import { userPrincipal } from '../../src/security/principal';

let nextId = 0;
/** A Kafka Uuid string (base64url of 16 bytes) from a counter. */
function uuidOf(n: number): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32BE(n, 12);
  bytes[0] = 1;
  return bytes.toString('base64url');
}
function acl(partial: Partial<AclEntry>): AclEntry {
  return {
    id: uuidOf(++nextId),
    resourceType: ResourceType.TOPIC,
    resourceName: 'orders',
    patternType: PatternType.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: Op.READ,
    permissionType: AclPermission.ALLOW,
    ...partial,
  };
}

function imageWith(acls: AclEntry[]): MetadataImage {
  const image = new MetadataImage();
  let offset = 0;
  for (const a of acls) image.apply({ type: 'AccessControlEntry', data: a }, offset++);
  return image;
}

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');
const settings = { superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false };

test('literal ALLOW grants only that operation on that name, and implies Describe', () => {
  const az = new Authorizer(imageWith([acl({})]), settings);
  assert.ok(az.authorize(alice, '127.0.0.1', Op.READ, ResourceType.TOPIC, 'orders'));
  assert.ok(az.authorize(alice, '127.0.0.1', Op.DESCRIBE, ResourceType.TOPIC, 'orders'));
  assert.not.ok(az.authorize(alice, '127.0.0.1', Op.WRITE, ResourceType.TOPIC, 'orders'));
  assert.not.ok(az.authorize(alice, '127.0.0.1', Op.READ, ResourceType.TOPIC, 'orders2'));
  assert.not.ok(az.authorize(bob, '127.0.0.1', Op.READ, ResourceType.TOPIC, 'orders'));
  assert.not.ok(az.authorize(alice, '127.0.0.1', Op.READ, ResourceType.GROUP, 'orders'));
});

test('PREFIXED matches names starting with the prefix; * matches every name; User:* every principal', () => {
  const az = new Authorizer(
    imageWith([
      acl({ resourceName: 'tenant-a.', patternType: PatternType.PREFIXED, operation: Op.WRITE }),
      acl({ resourceName: '*', principal: 'User:*', operation: Op.DESCRIBE }),
    ]),
    settings,
  );
  assert.ok(az.authorize(alice, '10.0.0.1', Op.WRITE, ResourceType.TOPIC, 'tenant-a.events'));
  assert.not.ok(az.authorize(alice, '10.0.0.1', Op.WRITE, ResourceType.TOPIC, 'tenant-b.events'));
  assert.not.ok(az.authorize(alice, '10.0.0.1', Op.WRITE, ResourceType.TOPIC, 'tenant-a'));
  assert.ok(az.authorize(bob, '10.0.0.1', Op.DESCRIBE, ResourceType.TOPIC, 'anything'));
  assert.not.ok(az.authorize(bob, '10.0.0.1', Op.READ, ResourceType.TOPIC, 'anything'));
});

test('DENY wins over ALLOW; a DENY of Describe does not deny Read; DENY ALL denies everything', () => {
  const az = new Authorizer(
    imageWith([
      acl({ resourceName: 'pay', patternType: PatternType.PREFIXED, operation: Op.ALL }),
      acl({ resourceName: 'payroll', operation: Op.READ, permissionType: AclPermission.DENY }),
      acl({ resourceName: 'payments', operation: Op.DESCRIBE, permissionType: AclPermission.DENY }),
      acl({ resourceName: 'paypal', principal: 'User:*', operation: Op.ALL, permissionType: AclPermission.DENY }),
    ]),
    settings,
  );
  assert.not.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'payroll'));
  assert.ok(az.authorize(alice, 'h', Op.WRITE, ResourceType.TOPIC, 'payroll'));
  assert.not.ok(az.authorize(alice, 'h', Op.DESCRIBE, ResourceType.TOPIC, 'payments'));
  assert.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'payments'));
  assert.not.ok(az.authorize(alice, 'h', Op.WRITE, ResourceType.TOPIC, 'paypal'));
  assert.ok(az.authorize(alice, 'h', Op.ALTER, ResourceType.TOPIC, 'pay-other'));
});

test('host must match exactly or be *', () => {
  const az = new Authorizer(imageWith([acl({ host: '10.0.0.5' })]), settings);
  assert.ok(az.authorize(alice, '10.0.0.5', Op.READ, ResourceType.TOPIC, 'orders'));
  assert.not.ok(az.authorize(alice, '10.0.0.6', Op.READ, ResourceType.TOPIC, 'orders'));
});

test('AlterConfigs implies DescribeConfigs; Write implies Describe but not Read', () => {
  const az = new Authorizer(
    imageWith([acl({ operation: Op.ALTER_CONFIGS }), acl({ resourceName: 'w', operation: Op.WRITE })]),
    settings,
  );
  assert.ok(az.authorize(alice, 'h', Op.DESCRIBE_CONFIGS, ResourceType.TOPIC, 'orders'));
  assert.not.ok(az.authorize(alice, 'h', Op.DESCRIBE, ResourceType.TOPIC, 'orders'));
  assert.ok(az.authorize(alice, 'h', Op.DESCRIBE, ResourceType.TOPIC, 'w'));
  assert.not.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'w'));
});

test('super users pass everything; allow.everyone.if.no.acl.found applies only where no ACL names the resource', () => {
  const image = imageWith([acl({ principal: 'User:bob' })]);
  const strict = new Authorizer(image, settings);
  assert.ok(strict.authorize(userPrincipal('admin'), 'h', Op.DELETE, ResourceType.TOPIC, 'orders'));
  assert.not.ok(strict.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'free'));
  const open = new Authorizer(image, { ...settings, allowEveryoneIfNoAclFound: true });
  assert.ok(open.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'free'));
  // "orders" has an ACL (for bob): alice is refused even with the open default.
  assert.not.ok(open.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'orders'));
});

test('the cache follows ACL additions and removals', () => {
  const image = imageWith([]);
  const az = new Authorizer(image, settings);
  assert.not.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'orders'));
  const a = acl({});
  image.apply({ type: 'AccessControlEntry', data: a }, 10);
  assert.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'orders'));
  image.apply({ type: 'RemoveAccessControlEntry', data: { id: a.id } }, 11);
  assert.not.ok(az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, 'orders'));
});

test('the cache is bounded by brook.authorizer.cache.entries', () => {
  const az = new Authorizer(imageWith([acl({})]), { ...settings, cacheEntriesMax: 10 });
  for (let i = 0; i < 1000; i++) az.authorize(alice, 'h', Op.READ, ResourceType.TOPIC, `t${i}`);
  assert.ok(az.cacheSize <= 10);
});

test('authorized operations: the bitfield of allowed operations that apply to the type', () => {
  const az = new Authorizer(imageWith([acl({ operation: Op.WRITE })]), settings);
  const bits = az.authorizedOperations(alice, 'h', ResourceType.TOPIC, 'orders');
  assert.is(bits, (1 << Op.WRITE) | (1 << Op.DESCRIBE));
  const all = az.authorizedOperations(userPrincipal('admin'), 'h', ResourceType.GROUP, 'g');
  assert.is(all, (1 << Op.READ) | (1 << Op.DELETE) | (1 << Op.DESCRIBE));
});

test('authorizeByResourceType: an ALLOW not dominated by a DENY on some resource of the type', () => {
  const az = new Authorizer(
    imageWith([
      acl({ resourceName: 'a', operation: Op.WRITE }),
      acl({ resourceName: 'a', operation: Op.WRITE, permissionType: AclPermission.DENY }),
    ]),
    settings,
  );
  assert.not.ok(az.authorizeByResourceType(alice, 'h', Op.WRITE, ResourceType.TOPIC));
  const az2 = new Authorizer(
    imageWith([
      acl({ resourceName: 'abc', operation: Op.WRITE }),
      acl({
        resourceName: 'ab',
        patternType: PatternType.PREFIXED,
        operation: Op.WRITE,
        permissionType: AclPermission.DENY,
      }),
      acl({ resourceName: 'x', operation: Op.WRITE, patternType: PatternType.PREFIXED }),
    ]),
    settings,
  );
  assert.ok(az2.authorizeByResourceType(alice, 'h', Op.WRITE, ResourceType.TOPIC));
  assert.not.ok(az2.authorizeByResourceType(bob, 'h', Op.WRITE, ResourceType.TOPIC));
});

test('filters: ANY, MATCH (literal, wildcard and prefixes of the name) and exact patterns', () => {
  const literal = acl({ resourceName: 'orders' });
  const star = acl({ resourceName: '*' });
  const prefixed = acl({ resourceName: 'ord', patternType: PatternType.PREFIXED });
  const f = {
    resourceType: ResourceType.TOPIC,
    resourceName: 'orders',
    patternType: PatternType.MATCH,
    principal: null,
    host: null,
    operation: Op.ANY,
    permissionType: AclPermission.ANY,
  };
  assert.ok([literal, star, prefixed].every((a) => aclMatchesFilter(a, f)));
  assert.not.ok(aclMatchesFilter(acl({ resourceName: 'x' }), f));
  assert.ok(aclMatchesFilter(prefixed, { ...f, resourceName: null, patternType: PatternType.PREFIXED }));
  assert.not.ok(aclMatchesFilter(literal, { ...f, resourceName: null, patternType: PatternType.PREFIXED }));
  assert.not.ok(aclMatchesFilter(literal, { ...f, principal: 'User:bob' }));
});

test('bindings Kafka refuses are refused with its reasons', () => {
  const { id: _id, ...good } = acl({});
  assert.is(invalidBindingReason(good), null);
  assert.match(invalidBindingReason({ ...good, patternType: PatternType.MATCH })!, /patternType/);
  assert.match(invalidBindingReason({ ...good, resourceType: ResourceType.ANY })!, /resourceType/);
  assert.match(invalidBindingReason({ ...good, operation: Op.ANY })!, /operation/);
  assert.match(invalidBindingReason({ ...good, principal: 'alice' })!, /principal/);
  assert.match(
    invalidBindingReason({ ...good, resourceType: ResourceType.CLUSTER, resourceName: 'x' })!,
    /kafka-cluster/,
  );
});

test('settings: no authorizer without authorizer.class.name; unknown class and bad values refused', () => {
  assert.is(authorizerSettingsFrom({}), null);
  const s = authorizerSettingsFrom({
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:admin; User:CN=broker1,O=x',
  })!;
  assert.equal([...s.superUsers], ['User:admin', 'User:CN=broker1,O=x']);
  assert.is(s.allowEveryoneIfNoAclFound, false);
  assert.throws(() => authorizerSettingsFrom({ 'authorizer.class.name': 'com.example.Other' }), /authorizer/);
  assert.throws(
    () =>
      authorizerSettingsFrom({
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'allow.everyone.if.no.acl.found': 'yes',
      }),
    /true or false/,
  );
});

test('ACLs and client quotas survive a snapshot round trip', () => {
  const image = imageWith([acl({}), acl({ resourceType: ResourceType.GROUP, resourceName: 'g' })]);
  image.apply(
    {
      type: 'ClientQuota',
      data: {
        entity: [{ entityType: 'user', entityName: 'alice' }],
        key: 'producer_byte_rate',
        value: 1048576,
        remove: false,
      },
    },
    20,
  );
  const copy = MetadataImage.fromSnapshot(image.toSnapshot(), 20);
  assert.is(copy.digest(), image.digest());
  assert.is(copy.acls.size, 2);
  assert.is(copy.clientQuotas.size, 1);
  const az = new Authorizer(copy, settings);
  assert.ok(az.authorize(alice, 'h', Op.READ, ResourceType.GROUP, 'g'));
});

test.run();
