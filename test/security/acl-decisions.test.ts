// The active controller's ACL decisions (src/controller/acls.ts), as Kafka's
// AclControlManager makes them: fresh ids, INVALID_REQUEST with invalidBindingReason's
// text, an existing binding accepted without a record, brook.max.acls (POLICY_VIOLATION),
// DeleteAcls filters removing every match once, and bad filters refused one by one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import type { MetadataRecord, MetadataRecordInput } from '../../protocol/metadata/records';
import { createAcls, deleteAcls } from '../../src/controller/acls';
import { MetadataImage } from '../../src/controller/metadata-image';
import {
  AclBinding,
  AclFilter,
  AclOperation as Op,
  AclPermission,
  PatternType,
  ResourceType,
} from '../../src/security/acl';

let counter = 0;
/** Kafka Uuid strings from a counter (what newTopicId gives, but predictable). */
function nextId(): string {
  const bytes = Buffer.alloc(16);
  bytes[0] = 1;
  bytes.writeUInt32BE(++counter, 12);
  return bytes.toString('base64url');
}

function binding(partial: Partial<AclBinding> = {}): AclBinding {
  return {
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

const ANY_FILTER: AclFilter = {
  resourceType: ResourceType.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: Op.ANY,
  permissionType: AclPermission.ANY,
};

let offset = 0;
function apply(image: MetadataImage, records: MetadataRecordInput[]): void {
  for (const record of records) image.apply(record as MetadataRecord, offset++);
}

test('creations become AccessControlEntry records with distinct fresh ids', () => {
  const image = new MetadataImage();
  const { records, result } = createAcls(
    image,
    { aclsMax: 100 },
    [binding(), binding({ operation: Op.WRITE }), binding({ patternType: PatternType.PREFIXED, resourceName: 'or' })],
    nextId,
  );
  assert.equal(
    result.map((r) => r.errorCode),
    [0, 0, 0],
  );
  assert.is(records.length, 3);
  assert.ok(records.every((r) => r.type === 'AccessControlEntry'));
  const ids = records.map((r) => (r.data as { id: string }).id);
  assert.is(new Set(ids).size, 3);
  apply(image, records);
  assert.is(image.acls.size, 3);
});

test('an existing binding, or one named twice, succeeds without a new record', () => {
  const image = new MetadataImage();
  apply(image, createAcls(image, { aclsMax: 100 }, [binding()], nextId).records);
  const again = createAcls(
    image,
    { aclsMax: 100 },
    [binding(), binding({ host: '10.0.0.1' }), binding({ host: '10.0.0.1' })],
    nextId,
  );
  assert.equal(
    again.result.map((r) => r.errorCode),
    [0, 0, 0],
  );
  assert.is(again.records.length, 1, 'only the new host is written, once');
});

test('an id the image already holds is drawn again', () => {
  const image = new MetadataImage();
  const first = createAcls(image, { aclsMax: 100 }, [binding()], () => 'AQAAAAAAAAAAAAAAAAAAAQ');
  apply(image, first.records);
  const ids = ['AQAAAAAAAAAAAAAAAAAAAQ', 'AQAAAAAAAAAAAAAAAAAAAQ', 'AQAAAAAAAAAAAAAAAAAAAg'];
  const second = createAcls(image, { aclsMax: 100 }, [binding({ operation: Op.WRITE })], () => ids.shift()!);
  assert.is((second.records[0].data as { id: string }).id, 'AQAAAAAAAAAAAAAAAAAAAg');
});

test('invalid bindings are INVALID_REQUEST with the reason; the others still apply', () => {
  const image = new MetadataImage();
  const { records, result } = createAcls(
    image,
    { aclsMax: 100 },
    [
      binding({ resourceType: ResourceType.CLUSTER, resourceName: 'my-cluster' }),
      binding({ resourceName: '' }),
      binding({ patternType: PatternType.MATCH }),
      binding({ operation: Op.ANY }),
      binding({ permissionType: AclPermission.ANY }),
      binding({ principal: 'alice' }),
      binding({ resourceType: ResourceType.ANY }),
      binding(),
    ],
    nextId,
  );
  assert.equal(
    result.map((r) => r.errorCode),
    [...Array(7).fill(ErrorCode.INVALID_REQUEST), 0],
  );
  assert.is(result[0].errorMessage, 'The only valid name for the CLUSTER resource is kafka-cluster');
  assert.is(result[1].errorMessage, 'Resource name should not be empty');
  assert.is(records.length, 1);
});

test('brook.max.acls: a new ACL past it is POLICY_VIOLATION, an existing one still succeeds', () => {
  const image = new MetadataImage();
  apply(image, createAcls(image, { aclsMax: 2 }, [binding()], nextId).records);
  const { records, result } = createAcls(
    image,
    { aclsMax: 2 },
    [binding({ operation: Op.WRITE }), binding({ operation: Op.CREATE }), binding()],
    nextId,
  );
  assert.equal(
    result.map((r) => r.errorCode),
    [0, ErrorCode.POLICY_VIOLATION, 0],
  );
  assert.match(result[1].errorMessage!, /brook\.max\.acls/);
  assert.is(records.length, 1);
});

test('DeleteAcls: each filter lists its matches; an ACL matched twice is removed once', () => {
  const image = new MetadataImage();
  apply(
    image,
    createAcls(
      image,
      { aclsMax: 100 },
      [
        binding(),
        binding({ operation: Op.WRITE }),
        binding({ resourceName: 'payments' }),
        binding({ resourceType: ResourceType.GROUP, resourceName: 'g' }),
        binding({ patternType: PatternType.PREFIXED, resourceName: 'ord' }),
      ],
      nextId,
    ).records,
  );
  const readsOfOrders: AclFilter = {
    ...ANY_FILTER,
    resourceType: ResourceType.TOPIC,
    resourceName: 'orders',
    patternType: PatternType.LITERAL,
    operation: Op.READ,
  };
  const orders: AclFilter = { ...readsOfOrders, operation: Op.ANY };
  const matchOrders: AclFilter = { ...orders, patternType: PatternType.MATCH };
  const { records, result } = deleteAcls(image, [readsOfOrders, orders, matchOrders]);
  assert.equal(
    result.map((r) => r.matchingAcls.length),
    [1, 2, 3],
  );
  assert.is(records.length, 3, 'READ and WRITE on orders, and the ord prefix, once each');
  apply(image, records);
  assert.equal([...image.acls.values()].map((a) => a.resourceName).sort(), ['g', 'payments']);
});

test('DeleteAcls: an UNKNOWN element in a filter is INVALID_REQUEST for that filter only', () => {
  const image = new MetadataImage();
  apply(image, createAcls(image, { aclsMax: 100 }, [binding()], nextId).records);
  const { records, result } = deleteAcls(image, [
    { ...ANY_FILTER, resourceType: ResourceType.UNKNOWN },
    { ...ANY_FILTER, patternType: PatternType.UNKNOWN },
    { ...ANY_FILTER, operation: Op.UNKNOWN },
    { ...ANY_FILTER, permissionType: 99 },
    ANY_FILTER,
  ]);
  assert.equal(
    result.map((r) => r.errorCode),
    [...Array(4).fill(ErrorCode.INVALID_REQUEST), 0],
  );
  assert.ok(result.slice(0, 4).every((r) => r.errorMessage && r.matchingAcls.length === 0));
  assert.is(records.length, 1);
});

test.run();
