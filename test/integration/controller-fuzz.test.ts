// Seeded fuzzing of the controller port, with and without the cluster secret. A node is
// started with a secret; valid frames of every controller-port API and version (Raft,
// broker lifecycle, the handshake itself) with fields at the edges of their types, then
// flipped, cut or stretched, are sent (1) on connections that never authenticated, where
// nothing but the handshake may be answered, and (2) on connections that completed the
// handshake with the secret. The node must stay up, keep its term (no frame moves it) and
// keep serving the Kafka port. BROOK_FUZZ_SEED replays a run, BROOK_FUZZ_ROUNDS sets its
// length (`npm run soak:fuzz` runs many seeds).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { ApiKey } from '../../protocol/api-keys';
import { allApis } from '../../protocol/apis';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { parseVersionRange } from '../../protocol/schema';
import { handshakeProof, HANDSHAKE_NONCE_BYTES } from '../../src/raft/handshake';
import { connectController } from '../../src/raft/handshake';
import { API_VERSIONS_V0, BrokerProcess, CLUSTER_SECRET_KEY, rawRequest, startBroker } from '../helpers/broker-process';
import { fuzzer } from '../helpers/fuzz-values';

const seed = Number(process.env.BROOK_FUZZ_SEED ?? Date.now() % 1_000_000);
const ROUNDS = Number(process.env.BROOK_FUZZ_ROUNDS ?? 300);
const { random, pick, body, mutate } = fuzzer(seed);
const SECRET = randomBytes(24).toString('hex');
const CONTROLLER_APIS = allApis.filter((api) => api.apiKey >= 1000);

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({ config: { [CLUSTER_SECRET_KEY]: SECRET } });
  process.stdout.write(`controller fuzz seed ${seed} (replay with BROOK_FUZZ_SEED=${seed})\n`);
});

test.after(async () => {
  await broker.stop();
});

/** A socket that collects answer frames. */
function open(): Promise<{ socket: net.Socket; frames: Buffer[]; closed: () => boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(broker.controllerPort, '127.0.0.1');
    const frames: Buffer[] = [];
    let data = Buffer.alloc(0);
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        frames.push(data.subarray(4, 4 + data.readInt32BE(0)));
        data = data.subarray(4 + data.readInt32BE(0));
      }
    });
    socket.on('connect', () => resolve({ socket, frames, closed: () => closed }));
  });
}

function randomFrame(correlationId: number): Buffer | null {
  const api = pick(CONTROLLER_APIS);
  const [min, max] = parseVersionRange(api.validVersions);
  const version = min + Math.floor(random() * (max - min + 1));
  try {
    return mutate(
      encodeRequestFrame(
        { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: 'fuzz' },
        requestCodec(api.apiKey, version),
        body(api.request, version),
      ),
    );
  } catch {
    return null; // the sample did not fit the schema
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** The handshake on a raw socket, as the client side does it, so fuzzed frames can follow. */
async function authenticated(): Promise<{ socket: net.Socket; closed: () => boolean }> {
  const conn = await open();
  const send = (correlationId: number, request: Record<string, unknown>) =>
    conn.socket.write(
      encodeRequestFrame(
        { apiKey: ApiKey.ControllerHandshake, apiVersion: 0, correlationId, clientId: 'fuzz' },
        requestCodec(ApiKey.ControllerHandshake, 0),
        request,
      ),
    );
  const answer = async (n: number) => {
    await waitFor(() => conn.frames.length >= n, 5000);
    const reader = new Reader(conn.frames[n - 1]);
    decodeResponseHeader(reader, responseHeaderVersion(ApiKey.ControllerHandshake, 0));
    return responseCodec(ApiKey.ControllerHandshake, 0).decode(reader) as {
      errorCode: number;
      clusterId: string;
      nodeId: number;
      nonce: Buffer;
    };
  };
  const clientNonce = randomBytes(HANDSHAKE_NONCE_BYTES);
  send(1, { step: 1, nodeId: -1, nonce: clientNonce, proof: Buffer.alloc(0) });
  const first = await answer(1);
  assert.is(first.errorCode, 0, 'handshake step 1');
  const proof = handshakeProof(
    Buffer.from(SECRET),
    'client',
    first.clusterId,
    -1,
    first.nodeId,
    clientNonce,
    Buffer.from(first.nonce),
  );
  send(2, { step: 2, nodeId: -1, nonce: Buffer.alloc(0), proof });
  assert.is((await answer(2)).errorCode, 0, 'handshake step 2');
  return conn;
}

async function currentTerm(): Promise<number> {
  const connection = await connectController(
    { host: '127.0.0.1', port: broker.controllerPort, requestTimeoutMs: 5000 },
    { secret: Buffer.from(SECRET), nodeId: -1 },
    { clusterId: null, nodeId: null },
  );
  try {
    const answer = (await connection.request(ApiKey.RaftDescribeQuorum, 0, {} as never)) as { term: number };
    return Number(answer.term);
  } finally {
    connection.close();
  }
}

test(`${ROUNDS} fuzzed frames without the secret: nothing but the handshake answered`, async () => {
  const termBefore = await currentTerm();
  let conn = await open();
  for (let round = 0; round < ROUNDS; round++) {
    if (conn.closed() || round % 20 === 0) {
      conn.socket.destroy();
      conn = await open();
    }
    const frame = randomFrame(round);
    if (frame) conn.socket.write(frame);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  conn.socket.destroy();
  assert.ok(broker.alive(), `seed ${seed}: node alive`);
  assert.is(await currentTerm(), termBefore, `seed ${seed}: no unauthenticated frame moved the term`);
  assert.ok((await rawRequest(broker.port, API_VERSIONS_V0, 5000)).frame, `seed ${seed}: Kafka port serving`);
});

test(`${ROUNDS} fuzzed frames after the handshake leave the node serving`, async () => {
  let conn = await authenticated();
  for (let round = 0; round < ROUNDS; round++) {
    if (conn.closed()) conn = await authenticated();
    const frame = randomFrame(1000 + round);
    if (frame) conn.socket.write(frame);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 300));
  conn.socket.destroy();
  assert.ok(broker.alive(), `seed ${seed}: node alive`);
  assert.ok((await currentTerm()) >= 0);
  assert.ok((await rawRequest(broker.port, API_VERSIONS_V0, 5000)).frame, `seed ${seed}: Kafka port serving`);
  const errors = broker
    .logs()
    .split('\n')
    .filter((line) => line.includes('"level":"error"'));
  assert.equal(errors.slice(0, 3), [], `seed ${seed}: no failures logged`);
});

test.run();
