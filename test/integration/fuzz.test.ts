// Seeded fuzzing of the Kafka listener: valid requests for every served API and version,
// with bytes flipped, cut short or stretched, sent to a real broker. Whatever comes back
// (an answer, an error code or a closed connection), the broker must stay up and keep
// answering well-formed requests. Field values are ordinary ones mostly and the edges of
// their types sometimes (extreme integers, 32 KiB strings, empty or broken record sets,
// long arrays). The seed is printed; BROOK_FUZZ_SEED replays one run, BROOK_FUZZ_ROUNDS
// sets its length, and `npm run soak:fuzz` runs many seeds.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { requestCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { Field, inRange, PrimitiveType } from '../../protocol/schema';
import { apiByKey } from '../../protocol/apis';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { handlers } from '../../src/broker/apis';
import { API_VERSIONS_V0, BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';

const seed = Number(process.env.BROOK_FUZZ_SEED ?? Date.now() % 1_000_000);
const ROUNDS = Number(process.env.BROOK_FUZZ_ROUNDS ?? 600);

function prng(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(seed);
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];

/** Values for a field: ordinary ones mostly, the edges of its type sometimes. */
function sample(type: PrimitiveType): unknown {
  const edge = random() < 0.25;
  switch (type) {
    case 'bool':
      return random() < 0.5;
    case 'string':
      return edge
        ? pick(['x'.repeat(32767), '\u0000', '..', 'ünïcödé', 'a.b_c', '-'.repeat(250)])
        : pick(['fuzz', '', 'topic-a', '__consumer_offsets', 'x'.repeat(40)]);
    case 'bytes':
      return edge ? Buffer.alloc(pick([0, 1, 65536]), 0xff) : Buffer.from([1, 2, 3]);
    case 'records':
      return edge
        ? pick([
            Buffer.alloc(0),
            Buffer.alloc(61, 0xff),
            encodeRecordBatchSync({ records: [{ value: 'x'.repeat(2000) }] }),
          ])
        : encodeRecordBatchSync({ records: [{ key: 'k', value: 'v' }] });
    case 'uuid':
      return pick(['AAAAAAAAAAAAAAAAAAAAAA', '_____________________w', 'AQIDBAUGBwgJCgsMDQ4PEA']);
    case 'int8':
      return edge ? pick([-128, 127]) : pick([-1, 0, 1, 3]);
    case 'int16':
      return edge ? pick([-32768, 32767]) : pick([-1, 0, 1, 3, 100]);
    case 'int32':
      return edge ? pick([-(2 ** 31), 2 ** 31 - 1, -2]) : pick([-1, 0, 1, 3, 100]);
    case 'int64':
      return edge ? pick([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -2]) : pick([-1, 0, 1, 1000]);
    default:
      return pick([-1, 0, 1, 3, 100]);
  }
}

function body(fields: Field[], version: number, flexible: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(f.versions, version, true)) continue;
    if (f.kind === 'scalar') out[f.name] = sample(f.type);
    else if (f.kind === 'struct') out[f.name] = body(f.fields, version, flexible);
    else
      out[f.name] = Array.from({ length: random() < 0.05 ? 200 : Math.floor(random() * 3) }, () =>
        Array.isArray(f.items) ? body(f.items as Field[], version, flexible) : sample(f.items as PrimitiveType),
      );
  }
  return out;
}

function mutate(frame: Buffer): Buffer {
  const bytes = Buffer.from(frame);
  switch (Math.floor(random() * 4)) {
    case 0: // flip a few body bytes, keep the size honest
      for (let i = 0; i < 1 + random() * 4; i++)
        bytes[4 + Math.floor(random() * (bytes.length - 4))] ^= 1 << Math.floor(random() * 8);
      return bytes;
    case 1: // cut short, with the size saying so
      return (() => {
        const cut = bytes.subarray(0, 4 + Math.floor(random() * (bytes.length - 4)));
        cut.writeInt32BE(cut.length - 4, 0);
        return cut;
      })();
    case 2: // trailing garbage inside the frame
      return (() => {
        const longer = Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(random() * 16), 0xff)]);
        longer.writeInt32BE(longer.length - 4, 0);
        return longer;
      })();
    default: // unchanged: a valid request with odd values
      return bytes;
  }
}

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '2' },
  });
  process.stdout.write(`fuzz seed ${seed} (replay with BROOK_FUZZ_SEED=${seed})\n`);
});

test.after(async () => {
  await broker.stop();
});

test(`${ROUNDS} mutated requests across every served API and version leave the broker serving`, async () => {
  // Several requests share a connection, so ordering and close handling are exercised too.
  let socket: net.Socket | null = null;
  const reconnect = () =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect(broker.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
      s.on('data', () => undefined);
    });
  for (let round = 0; round < ROUNDS; round++) {
    const handler = pick(handlers);
    const version = handler.minVersion + Math.floor(random() * (handler.maxVersion - handler.minVersion + 1));
    const schema = apiByKey(handler.apiKey)!;
    const flexible = inRange(schema.flexibleVersions, version, false);
    let frame: Buffer;
    try {
      frame = encodeRequestFrame(
        { apiKey: handler.apiKey, apiVersion: version, correlationId: round, clientId: 'fuzz' },
        requestCodec(handler.apiKey, version),
        body(schema.request, version, flexible),
      );
    } catch {
      continue; // the sample did not fit the schema (e.g. a negative uint)
    }
    if (!socket || socket.destroyed || round % 25 === 0) {
      socket?.destroy();
      socket = await reconnect();
    }
    socket.write(mutate(frame));
    if (round % 50 === 49) {
      const { frame: answer } = await rawRequest(broker.port, API_VERSIONS_V0, 5000);
      assert.ok(answer, `seed ${seed}: broker answers after round ${round}`);
    }
  }
  socket?.destroy();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(broker.alive(), `seed ${seed}: broker process alive`);
  assert.ok((await rawRequest(broker.port, API_VERSIONS_V0, 5000)).frame, `seed ${seed}: still serving`);
  const errors = broker
    .logs()
    .split('\n')
    .filter((line) => line.includes('"level":"error"'));
  assert.equal(errors.slice(0, 3), [], `seed ${seed}: no handler failures logged`);
});

test.run();
