// Seeded, structure-aware fuzzing of the HTTP API: requests built from the OpenAPI paths
// (every method, path parameters filled with odd values, query strings, JSON bodies with
// fields of the wrong type, broken JSON, huge values) are sent to a real broker. Every
// answer must be a well-formed HTTP response below 500, the broker must stay up, and no
// handler failure may be logged. The seed is printed; BROOK_FUZZ_SEED replays a run and
// BROOK_FUZZ_ROUNDS sets its length (`npm run soak:fuzz` runs many seeds).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { request } from './http-client';

const seed = Number(process.env.BROOK_FUZZ_SEED ?? Date.now() % 1_000_000);
const ROUNDS = Number(process.env.BROOK_FUZZ_ROUNDS ?? 300);

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
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

const OPENAPI = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', '..', 'src', 'http', 'openapi.json'), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'];

/** Odd values for anything: numbers at the edges, strings that are too long or strange. */
function oddValue(): unknown {
  return pick([
    0,
    -1,
    2 ** 31,
    -(2 ** 63),
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    1.5,
    '',
    'x'.repeat(300),
    'x'.repeat(70_000),
    '..',
    '../../etc/passwd',
    '%00',
    'ünïcödé',
    '__consumer_offsets',
    'topic-a',
    true,
    null,
    [],
    [1, 2, 3],
    {},
    { name: 1 },
  ]);
}

function pathValue(): string {
  return encodeURIComponent(
    String(pick(['topic-a', 'group-a', '0', '-1', '99999999999', 'x'.repeat(300), '..', '%', ''])),
  );
}

/** A JSON body whose fields are what an endpoint expects, some of them the wrong type. */
function body(): unknown {
  const fields = [
    'name',
    'partitions',
    'replicationFactor',
    'configs',
    'records',
    'key',
    'value',
    'headers',
    'partition',
    'count',
    'to',
    'offset',
    'timestamp',
    'topics',
    'set',
    'delete',
  ];
  const out: Record<string, unknown> = {};
  for (const field of fields) if (random() < 0.4) out[field] = oddValue();
  if (random() < 0.3) out.records = Array.from({ length: Math.floor(random() * 4) }, () => ({ value: oddValue() }));
  return random() < 0.1 ? oddValue() : out;
}

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker({ http: true });
  process.stdout.write(`http fuzz seed ${seed} (replay with BROOK_FUZZ_SEED=${seed})\n`);
  // Something to find: one topic and a few records.
  const made = await request(broker.httpPort!, 'POST', '/api/v1/topics', {
    body: { name: 'topic-a', partitions: 2, replicationFactor: 1 },
  });
  assert.ok(made.status < 300, `topic-a created (${made.status} ${made.text})`);
});

test.after(async () => {
  await broker.stop();
});

test(`${ROUNDS} fuzzed HTTP requests answer below 500 and leave the broker serving`, async () => {
  const templates = Object.keys(OPENAPI.paths);
  for (let round = 0; round < ROUNDS; round++) {
    const template = pick(templates);
    let url = template.replace(/\{[^}]+\}/g, () => pathValue());
    // Past Node's 16 KiB header limit the server answers 431 and closes; kept below it here.
    if (random() < 0.3) url += `?limit=${encodeURIComponent(String(oddValue()).slice(0, 2000))}&offset=${pathValue()}`;
    const method =
      random() < 0.8
        ? pick(Object.keys(OPENAPI.paths[template]).filter((m) => m !== 'parameters')).toUpperCase()
        : pick(METHODS);
    const kind = random();
    const options =
      kind < 0.6
        ? { body: body() }
        : kind < 0.8
          ? { raw: pick(['{', '{"name":', 'null', '[]', '\u0000\u0001', '{"a":'.repeat(2000)]) }
          : { raw: 'x=1', contentType: pick(['text/plain', 'application/x-www-form-urlencoded', null]) };
    let answer;
    try {
      answer = await request(broker.httpPort!, method, url, { ...options, timeoutMs: 10_000 });
    } catch (error) {
      assert.unreachable(`seed ${seed} round ${round}: ${method} ${url.slice(0, 120)} failed: ${String(error)}`);
      return;
    }
    assert.ok(
      answer.status < 500 || answer.status === 503,
      `seed ${seed} round ${round}: ${method} ${url.slice(0, 120)} answered ${answer.status} ${answer.text.slice(0, 200)}`,
    );
  }
  assert.ok(broker.alive(), `seed ${seed}: broker alive`);
  assert.is((await request(broker.httpPort!, 'GET', '/health')).status, 200);
  const errors = broker
    .logs()
    .split('\n')
    .filter((line) => line.includes('"level":"error"'));
  assert.equal(errors.slice(0, 3), [], `seed ${seed}: no handler failures logged`);
});

test.run();
