// The value types inferred from the schemas: checked by the compiler (a wrong expectation
// fails `tsc`), with a round trip at run time so the file also proves the types describe
// what the codec really produces.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import type { Request, RequestInput, Response, ResponseInput } from '../../protocol/apis';
import { requestCodec, responseCodec } from '../../protocol/codec';
import {
  decodeMetadataRecord,
  encodeMetadataRecord,
  MetadataRecord,
  MetadataRecordInput,
} from '../../protocol/metadata/records';
import { Reader, Writer } from '../../protocol/primitives';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_proof: T): void {}

type Produce = typeof ApiKey.Produce;
type Fetch = typeof ApiKey.Fetch;

test('decoded requests carry every field, nullable ones as | null', () => {
  // transactionalId exists from v3 only and is nullable: decoded, it is always there.
  expectType<Equal<Request<Produce>['transactionalId'], string | null>>(true);
  expectType<Equal<Request<Produce>['topicData'][number]['partitionData'][number]['records'], Buffer | null>>(true);
  // rackId exists from v11 only, with a default: decoded, it is a plain string.
  expectType<Equal<Request<Fetch>['rackId'], string>>(true);
  expectType<Equal<Request<Fetch>['forgottenTopicsData'][number]['partitions'], number[]>>(true);
});

test('encodable responses may leave out what the codec fills, not the rest', () => {
  type PartitionOut = ResponseInput<Produce>['responses'][number]['partitionResponses'][number];
  // logAppendTimeMs exists from v2 only: optional. errorCode exists in every version: required.
  expectType<Equal<undefined extends PartitionOut['logAppendTimeMs'] ? true : false, true>>(true);
  expectType<Equal<PartitionOut['errorCode'], number>>(true);
  // @ts-expect-error a response without errorCode does not compile
  const missing: PartitionOut = { index: 0, baseOffset: 0 };
  assert.ok(missing);
});

test('the typed codecs round-trip the inferred shapes', () => {
  const out: RequestInput<Produce> = {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }],
  };
  const writer = new Writer(64);
  requestCodec(ApiKey.Produce, 7).encode(writer, out);
  const back: Request<Produce> = requestCodec(ApiKey.Produce, 7).decode(new Reader(writer.toBuffer()));
  assert.is(back.topicData[0].name, 't');
  assert.is(back.topicData[0].partitionData[0].records, null);

  const response: ResponseInput<Fetch> = {
    throttleTimeMs: 0,
    responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 5, records: null }] }],
  };
  const w = new Writer(64);
  responseCodec(ApiKey.Fetch, 4).encode(w, response);
  const decoded: Response<Fetch> = responseCodec(ApiKey.Fetch, 4).decode(new Reader(w.toBuffer()));
  // Fields absent at v4 come back as their defaults, as the decoded type promises.
  assert.is(decoded.responses[0].partitions[0].preferredReadReplica, -1);
  assert.is(decoded.sessionId, 0);
});

test('metadata records are a union narrowed by type', () => {
  const topicId = Buffer.alloc(16, 3).toString('base64url');
  const record: MetadataRecord = decodeMetadataRecord(
    encodeMetadataRecord({ type: 'Topic', data: { name: 't', topicId } }),
  );
  if (record.type !== 'Topic') throw new Error(`decoded a ${record.type}`);
  expectType<Equal<typeof record.data, { name: string; topicId: string }>>(true);
  assert.is(record.data.name, 't');
  // @ts-expect-error a Topic record has no isr
  const wrong: MetadataRecordInput = { type: 'Topic', data: { name: 't', topicId, isr: [] } };
  assert.ok(wrong);
});

test.run();
