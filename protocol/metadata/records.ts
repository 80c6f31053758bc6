// The metadata log's records: Brook's own schemas in the spirit of KRaft's (the record
// type numbers follow KRaft's where the meaning matches). Every record is flexible from
// version 0 and is framed as [frame version uvarint][record type uvarint][version uvarint]
// followed by the struct, so new versions and types can be added without breaking replay.

import { structCodec } from '../codec';
import { Reader, Writer, ProtocolError } from '../primitives';
import { array, field, Field } from '../schema';

export const RECORD_FRAME_VERSION = 1;

export interface MetadataRecordSchema {
  type: number;
  name: string;
  version: number;
  fields: Field[];
}

const endpoint = [field('name', 'string'), field('host', 'string'), field('port', 'uint16'), field('securityProtocol', 'int16')];

export const RegisterBrokerRecord: MetadataRecordSchema = {
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
};

export const UnregisterBrokerRecord: MetadataRecordSchema = {
  type: 1,
  name: 'UnregisterBroker',
  version: 0,
  fields: [field('brokerId', 'int32'), field('brokerEpoch', 'int64')],
};

export const TopicRecord: MetadataRecordSchema = {
  type: 2,
  name: 'Topic',
  version: 0,
  fields: [field('name', 'string'), field('topicId', 'uuid')],
};

export const PartitionRecord: MetadataRecordSchema = {
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
};

export const ConfigRecord: MetadataRecordSchema = {
  type: 4,
  name: 'Config',
  version: 0,
  fields: [field('resourceType', 'int8'), field('resourceName', 'string'), field('name', 'string'), field('value', 'string', { nullableVersions: '0+', default: null })],
};

/** Changes to a partition; every change field is tagged and absent means unchanged. */
export const PartitionChangeRecord: MetadataRecordSchema = {
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
};

export const FenceBrokerRecord: MetadataRecordSchema = {
  type: 7,
  name: 'FenceBroker',
  version: 0,
  fields: [field('id', 'int32'), field('epoch', 'int64')],
};

export const UnfenceBrokerRecord: MetadataRecordSchema = {
  type: 8,
  name: 'UnfenceBroker',
  version: 0,
  fields: [field('id', 'int32'), field('epoch', 'int64')],
};

export const RemoveTopicRecord: MetadataRecordSchema = {
  type: 9,
  name: 'RemoveTopic',
  version: 0,
  fields: [field('topicId', 'uuid')],
};

export const ProducerIdsRecord: MetadataRecordSchema = {
  type: 15,
  name: 'ProducerIds',
  version: 0,
  fields: [field('brokerId', 'int32'), field('brokerEpoch', 'int64'), field('nextProducerId', 'int64')],
};

export const NoOpRecord: MetadataRecordSchema = { type: 20, name: 'NoOp', version: 0, fields: [] };

export const METADATA_RECORDS: MetadataRecordSchema[] = [
  RegisterBrokerRecord,
  UnregisterBrokerRecord,
  TopicRecord,
  PartitionRecord,
  ConfigRecord,
  PartitionChangeRecord,
  FenceBrokerRecord,
  UnfenceBrokerRecord,
  RemoveTopicRecord,
  ProducerIdsRecord,
  NoOpRecord,
];

const BY_TYPE = new Map(METADATA_RECORDS.map((schema) => [schema.type, schema]));
const BY_NAME = new Map(METADATA_RECORDS.map((schema) => [schema.name, schema]));

export type MetadataRecord = { type: string; data: Record<string, any> };

const codecs = new Map<string, ReturnType<typeof structCodec>>();
function codecFor(schema: MetadataRecordSchema, version: number) {
  const key = `${schema.name}/${version}`;
  let codec = codecs.get(key);
  if (!codec) {
    codec = structCodec(schema.fields, version, true);
    codecs.set(key, codec);
  }
  return codec;
}

export function encodeMetadataRecord(record: MetadataRecord): Buffer {
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
  if (frameVersion !== RECORD_FRAME_VERSION) throw new ProtocolError(`unknown metadata record frame version ${frameVersion}`);
  const type = reader.uvarint();
  const version = reader.uvarint();
  const schema = BY_TYPE.get(type);
  if (!schema) throw new ProtocolError(`unknown metadata record type ${type}`);
  if (version > schema.version) throw new ProtocolError(`${schema.name} version ${version} is newer than this node knows (${schema.version})`);
  const data = codecFor(schema, version).decode(reader);
  if (reader.remaining !== 0) throw new ProtocolError(`${reader.remaining} stray bytes after a ${schema.name} record`);
  return { type: schema.name, data };
}
