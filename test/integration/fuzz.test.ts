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
import { apiByKey } from '../../protocol/apis';
import { handlers } from '../../src/broker/apis';
import { API_VERSIONS_V0, BrokerProcess, rawRequest, startBroker } from '../helpers/broker-process';
import { fuzzer } from '../helpers/fuzz-values';

const seed = Number(process.env.BROOK_FUZZ_SEED ?? Date.now() % 1_000_000);
const ROUNDS = Number(process.env.BROOK_FUZZ_ROUNDS ?? 600);

const { random, pick, body, mutate } = fuzzer(seed);

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
    let frame: Buffer;
    try {
      frame = encodeRequestFrame(
        { apiKey: handler.apiKey, apiVersion: version, correlationId: round, clientId: 'fuzz' },
        requestCodec(handler.apiKey, version),
        body(schema.request, version),
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
