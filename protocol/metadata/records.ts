// The metadata log's records: Brook's own schemas in the spirit of KRaft's (the record
// type numbers follow KRaft's where the meaning matches). Every record is flexible from
// version 0 and is framed as [frame version uvarint][record type uvarint][version uvarint]
// followed by the struct, so new versions and types can be added without breaking replay.

import { Codec, structCodec } from '../codec';
import { Reader, Writer, ProtocolError } from '../primitives';
import { array, field, Field, StructValue } from '../schema';

export const RECORD_FRAME_VERSION = 1;

export interface MetadataRecordSchema {
  type: number;
  name: string;
  version: number;
  fields: Field[];
}

/** Declares one record's schema, keeping its literal types for `MetadataRecord`. */
function defineRecord<const S extends MetadataRecordSchema>(schema: S): S {
  return schema;
}

const endpoint = [
  field('name', 'string'),
  field('host', 'string'),
  field('port', 'uint16'),
  field('securityProtocol', 'int16'),
];

export const RegisterBrokerRecord = defineRecord({
  type: 0,
  name: 'RegisterBroker',
  version: 0,
  fields: [
    field('brokerId', 'int32'),
    field('incarnationId', 'uuid'),
    field('brokerEpoch', 'int64'),
    array('endPoints', endpoint),
    field('rack', 'string', { nullableVersions: '0+', default: null }),
    field('fenced', 'bool', { default: true }),
  ],
});

export const UnregisterBrokerRecord = defineRecord({
  type: 1,
  name: 'UnregisterBroker',
  version: 0,
  fields: [field('brokerId', 'int32'), field('brokerEpoch', 'int64')],
});

export const TopicRecord = defineRecord({
  type: 2,
  name: 'Topic',
  version: 0,
  fields: [field('name', 'string'), field('topicId', 'uuid')],
});

export const PartitionRecord = defineRecord({
  type: 3,
  name: 'Partition',
  version: 0,
  fields: [
    field('partitionId', 'int32'),
    field('topicId', 'uuid'),
    array('replicas', 'int32'),
    array('isr', 'int32'),
    array('removingReplicas', 'int32'),
    array('addingReplicas', 'int32'),
    field('leader', 'int32', { default: -1 }),
    field('leaderEpoch', 'int32', { default: 0 }),
    field('partitionEpoch', 'int32', { default: 0 }),
  ],
});

export const ConfigRecord = defineRecord({
  type: 4,
  name: 'Config',
  version: 0,
  fields: [
    field('resourceType', 'int8'),
    field('resourceName', 'string'),
    field('name', 'string'),
    field('value', 'string', { nullableVersions: '0+', default: null }),
  ],
});

/** Changes to a partition; every change field is tagged and absent means unchanged. */
export const PartitionChangeRecord = defineRecord({
  type: 5,
  name: 'PartitionChange',
  version: 0,
  fields: [
    field('partitionId', 'int32'),
    field('topicId', 'uuid'),
    array('isr', 'int32', { nullableVersions: '0+', taggedVersions: '0+', tag: 0, default: null }),
    field('leader', 'int32', { taggedVersions: '0+', tag: 1, default: -2 }),
    array('replicas', 'int32', { nullableVersions: '0+', taggedVersions: '0+', tag: 2, default: null }),
    array('removingReplicas', 'int32', { nullableVersions: '0+', taggedVersions: '0+', tag: 3, default: null }),
    array('addingReplicas', 'int32', { nullableVersions: '0+', taggedVersions: '0+', tag: 4, default: null }),
  ],
});

export const FenceBrokerRecord = defineRecord({
  type: 7,
  name: 'FenceBroker',
  version: 0,
  fields: [field('id', 'int32'), field('epoch', 'int64')],
});

export const UnfenceBrokerRecord = defineRecord({
  type: 8,
  name: 'UnfenceBroker',
  version: 0,
  fields: [field('id', 'int32'), field('epoch', 'int64')],
});

export const RemoveTopicRecord = defineRecord({
  type: 9,
  name: 'RemoveTopic',
  version: 0,
  fields: [field('topicId', 'uuid')],
});

/** A user's SCRAM credential for one mechanism (1: SCRAM-SHA-256, 2: SCRAM-SHA-512); never the password. */
export const UserScramCredentialRecord = defineRecord({
  type: 11,
  name: 'UserScramCredential',
  version: 0,
  fields: [
    field('name', 'string'),
    field('mechanism', 'int8'),
    field('salt', 'bytes'),
    field('storedKey', 'bytes'),
    field('serverKey', 'bytes'),
    field('iterations', 'int32'),
  ],
});

/** Removes a user's SCRAM credential for one mechanism (KRaft's type 22). */
export const RemoveUserScramCredentialRecord = defineRecord({
  type: 22,
  name: 'RemoveUserScramCredential',
  version: 0,
  fields: [field('name', 'string'), field('mechanism', 'int8')],
});

/**
 * One client quota value for an entity (KRaft's type 14): the entity is a list of
 * (type, name) pairs such as [user alice, client-id app]; a null name is the default entity.
 */
export const ClientQuotaRecord = defineRecord({
  type: 14,
  name: 'ClientQuota',
  version: 0,
  fields: [
    array('entity', [
      field('entityType', 'string'),
      field('entityName', 'string', { nullableVersions: '0+', default: null }),
    ]),
    field('key', 'string'),
    field('value', 'float64'),
    field('remove', 'bool'),
  ],
});

/** One ACL (KRaft's AccessControlEntryRecord, type 18); the codes are Kafka's AclOperation etc. */
export const AccessControlEntryRecord = defineRecord({
  type: 18,
  name: 'AccessControlEntry',
  version: 0,
  fields: [
    field('id', 'uuid'),
    field('resourceType', 'int8'),
    field('resourceName', 'string'),
    field('patternType', 'int8'),
    field('principal', 'string'),
    field('host', 'string'),
    field('operation', 'int8'),
    field('permissionType', 'int8'),
  ],
});

/** Removes the ACL with this id (KRaft's type 19). */
export const RemoveAccessControlEntryRecord = defineRecord({
  type: 19,
  name: 'RemoveAccessControlEntry',
  version: 0,
  fields: [field('id', 'uuid')],
});

export const ProducerIdsRecord = defineRecord({
  type: 15,
  name: 'ProducerIds',
  version: 0,
  fields: [field('brokerId', 'int32'), field('brokerEpoch', 'int64'), field('nextProducerId', 'int64')],
});

export const NoOpRecord = defineRecord({ type: 20, name: 'NoOp', version: 0, fields: [] });

const SCHEMAS = [
  RegisterBrokerRecord,
  UnregisterBrokerRecord,
  TopicRecord,
  PartitionRecord,
  ConfigRecord,
  PartitionChangeRecord,
  FenceBrokerRecord,
  UnfenceBrokerRecord,
  RemoveTopicRecord,
  UserScramCredentialRecord,
  ProducerIdsRecord,
  NoOpRecord,
  RemoveUserScramCredentialRecord,
  ClientQuotaRecord,
  AccessControlEntryRecord,
  RemoveAccessControlEntryRecord,
] as const;

export const METADATA_RECORDS: MetadataRecordSchema[] = [...SCHEMAS];

type RecordSchema = (typeof SCHEMAS)[number];

/** The names of the record types: 'RegisterBroker' | 'Topic' | ... */
export type MetadataRecordType = RecordSchema['name'];

type FieldsOf<N extends MetadataRecordType> = Extract<RecordSchema, { name: N }>['fields'];

/** A record as replay sees it (decoded: every field present, defaults filled), narrowed by
 * `type`: `if (record.type === 'Partition') record.data.isr`. */
export type MetadataRecord = {
  [N in MetadataRecordType]: { type: N; data: StructValue<FieldsOf<N>> };
}[MetadataRecordType];

/** A record as the controller writes it: fields the codec fills (tagged ones, those with a
 * default) may be left out. */
export type MetadataRecordInput = {
  [N in MetadataRecordType]: { type: N; data: StructValue<FieldsOf<N>, 'encodable'> };
}[MetadataRecordType];

/** The decoded data of one record type. */
export type MetadataRecordData<N extends MetadataRecordType> = Extract<MetadataRecord, { type: N }>['data'];

const BY_TYPE = new Map(METADATA_RECORDS.map((schema) => [schema.type, schema]));
const BY_NAME = new Map(METADATA_RECORDS.map((schema) => [schema.name, schema]));

const codecs = new Map<string, Codec<Record<string, unknown>, object>>();
function codecFor(schema: MetadataRecordSchema, version: number): Codec<Record<string, unknown>, object> {
  const key = `${schema.name}/${version}`;
  let codec = codecs.get(key);
  if (!codec) {
    codec = structCodec(schema.fields, version, true);
    codecs.set(key, codec);
  }
  return codec;
}

export function encodeMetadataRecord(record: MetadataRecordInput): Buffer {
  const schema = BY_NAME.get(record.type);
  if (!schema) throw new RangeError(`unknown metadata record type ${record.type}`);
  const writer = new Writer(64);
  writer.uvarint(RECORD_FRAME_VERSION).uvarint(schema.type).uvarint(schema.version);
  codecFor(schema, schema.version).encode(writer, record.data);
  return writer.toBuffer();
}

export function decodeMetadataRecord(bytes: Buffer): MetadataRecord {
  const reader = new Reader(bytes);
  const frameVersion = reader.uvarint();
  if (frameVersion !== RECORD_FRAME_VERSION)
    throw new ProtocolError(`unknown metadata record frame version ${frameVersion}`);
  const type = reader.uvarint();
  const version = reader.uvarint();
  const schema = BY_TYPE.get(type);
  if (!schema) throw new ProtocolError(`unknown metadata record type ${type}`);
  if (version > schema.version)
    throw new ProtocolError(`${schema.name} version ${version} is newer than this node knows (${schema.version})`);
  const data = codecFor(schema, version).decode(reader);
  if (reader.remaining !== 0) throw new ProtocolError(`${reader.remaining} stray bytes after a ${schema.name} record`);
  // The schema found by its type number decoded the data, so the pair matches the union.
  return { type: schema.name, data } as MetadataRecord;
}
