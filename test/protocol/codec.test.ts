// Round trips every request and response codec at every version: a sample value derived
// from the schema is encoded, decoded and re-encoded; both the value and the bytes must
// survive. Also fixed byte vectors for hand-checked messages, and hostile inputs.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { allApis } from '../../protocol/apis';
import { compileAll, requestCodec, responseCodec } from '../../protocol/codec';
import { Reader, Writer, ProtocolError } from '../../protocol/primitives';
import { Field, inRange, parseVersionRange, PrimitiveType } from '../../protocol/schema';

let counter = 0;

function sampleScalar(type: PrimitiveType): unknown {
  counter++;
  switch (type) {
    case 'bool':
      return counter % 2 === 0;
    case 'int8':
      return (counter % 100) - 50;
    case 'int16':
      // Kept inside the int16 range however many fields the schemas grow to.
      return ((counter * 7) % 60000) - 30000;
    case 'uint16':
      return (counter * 13) % 65535;
    case 'int32':
      return ((counter * 100003) % 4000000000) - 2000000000;
    case 'uint32':
      return (counter * 2654435761) % 4294967295;
    case 'int64':
      return counter * 1234567891 - 5;
    case 'float64':
      return counter / 3;
    case 'uuid':
      return Buffer.alloc(16, counter).toString('base64url');
    case 'string':
      return `s${counter}-é`;
    case 'bytes':
    case 'records':
      return Buffer.from([counter & 0xff, 1, 2, 3]);
  }
}

function sampleStruct(fields: Field[], version: number, flexible: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (!inRange(field.versions, version, true)) continue;
    const tagged = flexible && field.taggedVersions !== undefined && inRange(field.taggedVersions, version, false);
    if (field.taggedVersions !== undefined && !flexible) continue;
    if (field.kind === 'scalar') out[field.name] = sampleScalar(field.type);
    else if (field.kind === 'struct') out[field.name] = sampleStruct(field.fields, version, flexible);
    else if (Array.isArray(field.items))
      out[field.name] = [sampleStruct(field.items, version, flexible), sampleStruct(field.items, version, flexible)];
    else out[field.name] = [sampleScalar(field.items), sampleScalar(field.items)];
    void tagged;
  }
  return out;
}

/** Keeps only the keys of `expected` when comparing, since decode fills absent fields. */
function project(actual: any, expected: any): any {
  if (Buffer.isBuffer(actual)) return actual.toString('hex');
  if (Array.isArray(expected)) return (actual as any[]).map((item, i) => project(item, expected[i]));
  if (expected !== null && typeof expected === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(expected)) out[key] = project(actual?.[key], expected[key]);
    return out;
  }
  return actual;
}

function normalise(value: any): any {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = normalise(value[key]);
    return out;
  }
  return value;
}

test('every schema compiles at every version', () => {
  assert.ok(compileAll() > 0);
});

for (const schema of allApis) {
  const [min, max] = parseVersionRange(schema.validVersions);
  for (let version = min; version <= max; version++) {
    const flexible = inRange(schema.flexibleVersions, version, false);
    for (const side of ['request', 'response'] as const) {
      test(`${schema.name} v${version} ${side} round trip`, () => {
        const codec = side === 'request' ? requestCodec(schema.apiKey, version) : responseCodec(schema.apiKey, version);
        const value = sampleStruct(side === 'request' ? schema.request : schema.response, version, flexible);
        const writer = new Writer();
        codec.encode(writer, value);
        const bytes = writer.toBuffer();
        const reader = new Reader(bytes);
        const decoded = codec.decode(reader);
        assert.is(reader.remaining, 0, 'decode consumed every byte');
        assert.equal(project(decoded, normalise(value)), normalise(value));
        const again = new Writer();
        codec.encode(again, decoded);
        assert.is(again.toBuffer().toString('hex'), bytes.toString('hex'));
        // Every strict prefix must fail cleanly with a ProtocolError, never another error.
        for (const cut of [0, 1, Math.floor(bytes.length / 2), bytes.length - 1]) {
          if (cut >= bytes.length) continue;
          try {
            codec.decode(new Reader(bytes.subarray(0, cut)));
          } catch (error) {
            assert.instance(error, ProtocolError);
          }
        }
      });
    }
  }
}

test('ApiVersions v0 request and response fixed bytes', () => {
  const response = { errorCode: 0, apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 }] };
  const writer = new Writer();
  responseCodec(ApiKey.ApiVersions, 0).encode(writer, response);
  assert.is(writer.toBuffer().toString('hex'), '0000' + '00000001' + '0012' + '0000' + '0003');
});

test('ApiVersions v3 response uses compact arrays and tagged fields', () => {
  const response = {
    errorCode: 0,
    apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 }],
    throttleTimeMs: 0,
  };
  const writer = new Writer();
  responseCodec(ApiKey.ApiVersions, 3).encode(writer, response);
  // error 0000, compact array of 1 (02), key 0012 min 0000 max 0003, entry tags 00, throttle 00000000, tags 00
  assert.is(writer.toBuffer().toString('hex'), '0000' + '02' + '0012' + '0000' + '0003' + '00' + '00000000' + '00');
});

test('absurd array length is refused before allocation', () => {
  const bytes = Buffer.from('7fffffff', 'hex'); // ApiVersions v0 response: errorCode missing -> truncated
  assert.throws(
    () => responseCodec(ApiKey.ApiVersions, 0).decode(new Reader(bytes)),
    (e: Error) => e instanceof ProtocolError,
  );
  const huge = Buffer.from('0000' + '7ffffff0' + '0012', 'hex');
  assert.throws(
    () => responseCodec(ApiKey.ApiVersions, 0).decode(new Reader(huge)),
    (e: Error) => /array length/.test(e.message),
  );
});

test('record sets are written by reference, not copied', () => {
  const records = Buffer.alloc(4096, 7);
  const writer = new Writer();
  writer.int32(1).records([records, records], false);
  const parts = writer.toBuffers();
  assert.ok(parts.includes(records), 'the record buffer itself is one of the output parts');
  assert.is(writer.length, 4 + 4 + 8192);
});

test.run();

test('ListOffsets v0 request and response fixed bytes (max_num_offsets, old_style_offsets)', () => {
  const request = {
    replicaId: -1,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -1, maxNumOffsets: 2 }] }],
  };
  const requestHex =
    'ffffffff' + // replica id -1
    '00000001' +
    '0001' +
    '74' + // one topic, "t"
    '00000001' +
    '00000000' + // one partition, index 0
    'ffffffffffffffff' + // timestamp -1 (latest)
    '00000002'; // max_num_offsets 2
  const writer = new Writer();
  requestCodec(ApiKey.ListOffsets, 0).encode(writer, request);
  assert.is(writer.toBuffer().toString('hex'), requestHex);
  const decodedRequest = requestCodec(ApiKey.ListOffsets, 0).decode(new Reader(Buffer.from(requestHex, 'hex')));
  assert.equal(decodedRequest.topics[0].partitions[0].maxNumOffsets, 2);

  const response = {
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [5, 0] }] }],
  };
  const responseHex =
    '00000001' +
    '0001' +
    '74' + // one topic, "t"
    '00000001' +
    '00000000' +
    '0000' + // one partition, index 0, no error
    '00000002' +
    '0000000000000005' +
    '0000000000000000'; // old-style offsets [5, 0]
  const out = new Writer();
  responseCodec(ApiKey.ListOffsets, 0).encode(out, response);
  assert.is(out.toBuffer().toString('hex'), responseHex);
  const decoded = responseCodec(ApiKey.ListOffsets, 0).decode(new Reader(Buffer.from(responseHex, 'hex')));
  assert.equal(decoded.topics[0].partitions[0].oldStyleOffsets.map(Number), [5, 0]);
});

test('Fetch v13 request fixed bytes: the topic is named by its 16-byte id', () => {
  const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
  const request = {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topicId: id,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 5,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1024,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
  const expected =
    'ffffffff' +
    '000001f4' +
    '00000001' +
    '00000400' + // replica id, max wait, min bytes, max bytes
    '00' +
    '00000000' +
    'ffffffff' + // isolation level, session id, session epoch
    '02' +
    '00112233445566778899aabbccddeeff' + // one topic: its id
    '02' +
    '00000000' +
    'ffffffff' +
    '0000000000000005' +
    'ffffffff' +
    'ffffffffffffffff' +
    '00000400' +
    '00' + // one partition, its tags
    '00' + // topic tags
    '01' + // no forgotten topics
    '01' + // rack id ""
    '00'; // request tags (no cluster id)
  const writer = new Writer();
  requestCodec(ApiKey.Fetch, 13).encode(writer, request);
  assert.is(writer.toBuffer().toString('hex'), expected);
  const decoded = requestCodec(ApiKey.Fetch, 13).decode(new Reader(Buffer.from(expected, 'hex')));
  assert.is(decoded.topics[0].topicId, id);
});
