// Client quotas as metadata, without a network: the controller's AlterClientQuotas decision
// gives Kafka's INVALID_REQUEST for each bad entity, key and value (and POLICY_VIOLATION past
// brook.max.client.quota.entities), writes only what changes, honours validateOnly; the
// records apply to the image and survive a snapshot; DescribeClientQuotas filters (exact,
// default, specified; strict and not) match Kafka's ClientQuotasImage, and a bad filter is
// refused with Kafka's code.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecordInput } from '../../protocol/metadata/records';
import { ErrorCode } from '../../protocol/errors';
import { MetadataImage, QuotaEntity } from '../../src/controller/metadata-image';
import {
  alterClientQuotas,
  describeClientQuotas,
  QuotaAlteration,
  QuotaFilterComponent,
  QUOTA_ENTITY_NAME_BYTES_MAX,
} from '../../src/controller/client-quotas';

/** Commits records through their wire form, as the Raft log would. */
function commit(image: MetadataImage, records: MetadataRecordInput[]): void {
  for (const record of records) image.apply(decodeMetadataRecord(encodeMetadataRecord(record)), image.lastOffset + 1);
}

function entity(pairs: Record<string, string | null>): QuotaEntity {
  return Object.entries(pairs).map(([entityType, entityName]) => ({ entityType, entityName }));
}

function set(pairs: Record<string, string | null>, values: Record<string, number>): QuotaAlteration {
  return {
    entity: entity(pairs),
    ops: Object.entries(values).map(([key, value]) => ({ key, value, remove: false })),
  };
}

function alter(image: MetadataImage, alterations: QuotaAlteration[], entitiesMax = 100, validateOnly = false) {
  const decision = alterClientQuotas(image, { entitiesMax }, alterations, validateOnly);
  commit(image, decision.records);
  return decision;
}

/** The error code of each entity's result, keyed by how it reads. */
function codes(result: { entity: QuotaEntity; errorCode: number }[]): Record<string, number> {
  return Object.fromEntries(
    result.map((r) => [r.entity.map((e) => `${e.entityType}=${e.entityName ?? '*'}`).join(','), r.errorCode]),
  );
}

function describe(image: MetadataImage, components: QuotaFilterComponent[], strict = false): string[] {
  const answer = describeClientQuotas(image, components, strict);
  if ('error' in answer) throw new Error(answer.error.errorMessage);
  return answer.entries.map(
    (e) =>
      e.entity.map((p) => `${p.entityType}=${p.entityName ?? '*'}`).join(',') +
      ':' +
      e.values.map((v) => `${v.key}=${v.value}`).join(','),
  );
}

function populated(): MetadataImage {
  const image = new MetadataImage();
  const { result } = alter(image, [
    set({ user: 'alice' }, { producer_byte_rate: 1024 }),
    set({ user: null }, { consumer_byte_rate: 2048 }),
    set({ user: 'alice', 'client-id': 'app' }, { request_percentage: 50.5 }),
    set({ user: 'alice', 'client-id': null }, { controller_mutation_rate: 10 }),
    set({ 'client-id': 'app' }, { producer_byte_rate: 100, consumer_byte_rate: 200 }),
    set({ ip: '10.0.0.1' }, { connection_creation_rate: 5 }),
    set({ ip: null }, { connection_creation_rate: 50 }),
  ]);
  assert.ok(
    result.every((r) => r.errorCode === ErrorCode.NONE),
    JSON.stringify(result),
  );
  return image;
}

test('accepted changes become ClientQuota records the image applies, sorted by type', () => {
  const image = new MetadataImage();
  const { records, result } = alter(image, [set({ 'client-id': 'app', user: 'alice' }, { producer_byte_rate: 1e6 })]);
  assert.equal(result, [
    {
      entity: entity({ 'client-id': 'app', user: 'alice' }),
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    },
  ]);
  assert.equal(records, [
    {
      type: 'ClientQuota',
      data: {
        entity: entity({ 'client-id': 'app', user: 'alice' }),
        key: 'producer_byte_rate',
        value: 1e6,
        remove: false,
      },
    },
  ]);
  assert.is(image.clientQuotas.size, 1);
  const version = image.quotaVersion;
  // The same value again writes nothing; a removal of an absent key writes nothing.
  const again = alter(image, [
    {
      entity: entity({ user: 'alice', 'client-id': 'app' }),
      ops: [
        { key: 'producer_byte_rate', value: 1e6, remove: false },
        { key: 'consumer_byte_rate', value: 0, remove: true },
        { key: 'no_such_key', value: 0, remove: true },
      ],
    },
  ]);
  assert.equal(again.records, []);
  assert.is(again.result[0].errorCode, ErrorCode.NONE);
  assert.is(image.quotaVersion, version);
  // Removing the last value removes the entity.
  const removed = alter(image, [
    {
      entity: entity({ user: 'alice', 'client-id': 'app' }),
      ops: [{ key: 'producer_byte_rate', value: 0, remove: true }],
    },
  ]);
  assert.is(removed.records.length, 1);
  assert.is(image.clientQuotas.size, 0);
});

test('every bad entity, key and value is INVALID_REQUEST, and only that entity is refused', () => {
  const image = new MetadataImage();
  const long = 'x'.repeat(QUOTA_ENTITY_NAME_BYTES_MAX + 1);
  const cases: [QuotaAlteration, RegExp][] = [
    [{ entity: [], ops: [{ key: 'producer_byte_rate', value: 1, remove: false }] }, /empty client quota entity/],
    [set({ group: 'g' }, { producer_byte_rate: 1 }), /Unhandled client quota entity type: group/],
    [set({ user: '' }, { producer_byte_rate: 1 }), /Empty user not supported/],
    [set({ user: long }, { producer_byte_rate: 1 }), /at most 1024 bytes/],
    [
      {
        entity: [
          { entityType: 'user', entityName: 'a' },
          { entityType: 'user', entityName: 'b' },
        ],
        ops: [{ key: 'producer_byte_rate', value: 1, remove: false }],
      },
      /duplicate entity entry user/,
    ],
    [
      {
        entity: Array.from({ length: 100_000 }, () => ({ entityType: 'user', entityName: 'x' })),
        ops: [{ key: 'producer_byte_rate', value: 1, remove: false }],
      },
      /100000 entity entries/,
    ],
    [set({ ip: '10.0.0.1', user: 'a' }, { connection_creation_rate: 1 }), /IP entity should not be combined/],
    [set({ ip: '10.0.0.1', 'client-id': 'a' }, { connection_creation_rate: 1 }), /IP entity should not be combined/],
    [set({ ip: 'not-an-address' }, { connection_creation_rate: 1 }), /not a valid IP/],
    [set({ ip: '10.0.0.2' }, { producer_byte_rate: 1 }), /Invalid configuration key producer_byte_rate/],
    [set({ user: 'u1' }, { connection_creation_rate: 1 }), /Invalid configuration key connection_creation_rate/],
    [set({ user: 'u2' }, { bogus: 1 }), /Invalid configuration key bogus/],
    [set({ user: 'u3' }, { producer_byte_rate: 0 }), /must be greater than 0/],
    [set({ user: 'u4' }, { request_percentage: -1 }), /must be greater than 0/],
    [set({ user: 'u5' }, { producer_byte_rate: 1.5 }), /cannot be a fractional value/],
    [set({ ip: '::1' }, { connection_creation_rate: 2.5 }), /cannot be a fractional value/],
    [set({ ip: '10.0.0.3' }, { connection_creation_rate: 2 ** 31 }), /too large for an INT/],
    [set({ user: 'u6' }, { consumer_byte_rate: 2 ** 64 }), /too large for a LONG/],
    [set({ user: 'u7' }, { request_percentage: NaN }), /finite/],
    [set({ user: 'u8' }, { controller_mutation_rate: Infinity }), /finite/],
    [
      {
        entity: entity({ user: 'u9' }),
        ops: [
          { key: 'producer_byte_rate', value: 1, remove: false },
          { key: 'producer_byte_rate', value: 2, remove: false },
        ],
      },
      /Duplicate quota key producer_byte_rate/,
    ],
  ];
  for (const [alteration, message] of cases) {
    const { records, result } = alter(image, [alteration, set({ user: 'fine' }, { producer_byte_rate: 7 })]);
    assert.is(result.length, 2);
    assert.is(result[0].errorCode, ErrorCode.INVALID_REQUEST, `${message}`);
    assert.match(result[0].errorMessage ?? '', message);
    assert.is(result[1].errorCode, ErrorCode.NONE, 'the other entity is not refused');
    assert.ok(records.length <= 1);
  }
  assert.equal([...image.clientQuotas.keys()], ['[["user","fine"]]']);
  // A fractional double is fine; an integral value given as a double is fine for a LONG.
  const doubles = alter(image, [set({ user: 'd' }, { request_percentage: 0.5, producer_byte_rate: 3.0 })]);
  assert.is(doubles.result[0].errorCode, ErrorCode.NONE);
  // IPv6 literals and default entities are accepted.
  const ips = alter(image, [
    set({ ip: '2001:db8::1' }, { connection_creation_rate: 3 }),
    set({ ip: null }, { connection_creation_rate: 9 }),
  ]);
  assert.equal(Object.values(codes(ips.result)), [ErrorCode.NONE, ErrorCode.NONE]);
});

test('an entity named twice in one request is refused whole, with nothing written for it', () => {
  const image = new MetadataImage();
  const { records, result } = alter(image, [
    set({ user: 'twice' }, { producer_byte_rate: 1 }),
    set({ user: 'other' }, { producer_byte_rate: 1 }),
    set({ user: 'twice' }, { consumer_byte_rate: 1 }),
  ]);
  assert.equal(codes(result), { 'user=twice': ErrorCode.INVALID_REQUEST, 'user=other': ErrorCode.NONE });
  assert.match(result[0].errorMessage!, /Ignoring duplicate entity/);
  assert.is(records.length, 1);
  assert.equal([...image.clientQuotas.keys()], ['[["user","other"]]']);
});

test('validateOnly answers the same and writes nothing', () => {
  const image = new MetadataImage();
  const { records, result } = alter(
    image,
    [set({ user: 'v' }, { producer_byte_rate: 1 }), set({ user: 'w' }, { producer_byte_rate: -1 })],
    100,
    true,
  );
  assert.equal(records, []);
  assert.equal(codes(result), { 'user=v': ErrorCode.NONE, 'user=w': ErrorCode.INVALID_REQUEST });
  assert.is(image.clientQuotas.size, 0);
});

test('brook.max.client.quota.entities bounds new entities (POLICY_VIOLATION); existing ones still change', () => {
  const image = new MetadataImage();
  const first = alter(
    image,
    [set({ user: 'a' }, { producer_byte_rate: 1 }), set({ user: 'b' }, { producer_byte_rate: 1 })],
    2,
  );
  assert.equal(Object.values(codes(first.result)), [ErrorCode.NONE, ErrorCode.NONE]);
  const second = alter(
    image,
    [
      set({ user: 'c' }, { producer_byte_rate: 1 }),
      set({ user: 'a' }, { producer_byte_rate: 2 }),
      { entity: entity({ user: 'd' }), ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] },
    ],
    2,
  );
  assert.equal(codes(second.result), {
    'user=c': ErrorCode.POLICY_VIOLATION,
    'user=a': ErrorCode.NONE,
    'user=d': ErrorCode.NONE,
  });
  assert.match(second.result[0].errorMessage!, /brook\.max\.client\.quota\.entities/);
  assert.is(image.clientQuotas.get('[["user","a"]]')!.values.get('producer_byte_rate'), 2);
});

test('describe: exact, default and specified components, strict and not', () => {
  const image = populated();
  const all = describe(image, []);
  assert.is(all.length, 7);
  assert.equal(describe(image, [], true), [], 'strict with no components matches nothing');
  assert.equal(describe(image, [{ entityType: 'user', matchType: 0, match: 'alice' }]), [
    'client-id=app,user=alice:request_percentage=50.5',
    'client-id=*,user=alice:controller_mutation_rate=10',
    'user=alice:producer_byte_rate=1024',
  ]);
  assert.equal(describe(image, [{ entityType: 'user', matchType: 0, match: 'alice' }], true), [
    'user=alice:producer_byte_rate=1024',
  ]);
  assert.equal(describe(image, [{ entityType: 'user', matchType: 1, match: null }], true), [
    'user=*:consumer_byte_rate=2048',
  ]);
  assert.equal(describe(image, [{ entityType: 'user', matchType: 2, match: null }], true), [
    'user=alice:producer_byte_rate=1024',
    'user=*:consumer_byte_rate=2048',
  ]);
  assert.equal(
    describe(image, [
      { entityType: 'user', matchType: 0, match: 'alice' },
      { entityType: 'client-id', matchType: 1, match: null },
    ]),
    ['client-id=*,user=alice:controller_mutation_rate=10'],
  );
  assert.equal(
    describe(
      image,
      [
        { entityType: 'user', matchType: 2, match: null },
        { entityType: 'client-id', matchType: 2, match: null },
      ],
      true,
    ),
    ['client-id=app,user=alice:request_percentage=50.5', 'client-id=*,user=alice:controller_mutation_rate=10'],
  );
  assert.equal(describe(image, [{ entityType: 'client-id', matchType: 0, match: 'app' }], true), [
    'client-id=app:consumer_byte_rate=200,producer_byte_rate=100',
  ]);
  assert.equal(describe(image, [{ entityType: 'ip', matchType: 2, match: null }]), [
    'ip=10.0.0.1:connection_creation_rate=5',
    'ip=*:connection_creation_rate=50',
  ]);
  assert.equal(describe(image, [{ entityType: 'ip', matchType: 0, match: '10.9.9.9' }]), []);
});

test("describe: a bad filter is refused with Kafka's code", () => {
  const image = populated();
  const refused = (components: QuotaFilterComponent[]) => {
    const answer = describeClientQuotas(image, components, false);
    assert.ok('error' in answer, JSON.stringify(components));
    return 'error' in answer ? answer.error : { errorCode: -1, errorMessage: '' };
  };
  const cases: [QuotaFilterComponent[], number, RegExp][] = [
    [[{ entityType: '', matchType: 0, match: 'a' }], ErrorCode.INVALID_REQUEST, /empty entity type/],
    [[{ entityType: 'group', matchType: 2, match: null }], ErrorCode.UNSUPPORTED_VERSION, /Unsupported entity type/],
    [[{ entityType: 'user', matchType: 0, match: null }], ErrorCode.INVALID_REQUEST, /MATCH_TYPE_EXACT/],
    [[{ entityType: 'user', matchType: 1, match: 'a' }], ErrorCode.INVALID_REQUEST, /MATCH_TYPE_DEFAULT/],
    [[{ entityType: 'user', matchType: 2, match: 'a' }], ErrorCode.INVALID_REQUEST, /MATCH_TYPE_SPECIFIED/],
    [[{ entityType: 'user', matchType: 7, match: null }], ErrorCode.INVALID_REQUEST, /Unknown match type 7/],
    [
      [
        { entityType: 'user', matchType: 2, match: null },
        { entityType: 'user', matchType: 0, match: 'a' },
      ],
      ErrorCode.INVALID_REQUEST,
      /more than once/,
    ],
    [
      [
        { entityType: 'ip', matchType: 2, match: null },
        { entityType: 'client-id', matchType: 1, match: null },
      ],
      ErrorCode.INVALID_REQUEST,
      /IP filter component should not be used/,
    ],
  ];
  for (const [components, code, message] of cases) {
    const error = refused(components);
    assert.is(error.errorCode, code, `${message}`);
    assert.match(error.errorMessage, message);
  }
});

test('quotas survive a snapshot of the image', () => {
  const image = populated();
  const restored = MetadataImage.fromSnapshot(image.toSnapshot(), image.lastOffset);
  assert.equal(describe(restored, []), describe(image, []));
});

test.run();
