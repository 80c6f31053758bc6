// The OpenAPI description and the router agree: every documented operation is routed and
// every route is documented (WebSocket upgrades, marked x-websocket, are served outside
// the router). Also checks the pieces the routes are built from: the exposition writer's
// escaping (read back by the strict parser the integration tests use), the router's 404
// and 405, and the record formats.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpServer } from '../../src/http/http-server';
import { ExpositionWriter } from '../../src/http/exposition';
import { HttpError } from '../../src/http/http-errors';
import { decodeOutput, encodeInput } from '../../src/http/record-format';
import { Router } from '../../src/http/router';
import { statusForKafkaError } from '../../src/http/http-errors';
import { ErrorCode } from '../../protocol/errors';
import { createLogger } from '../../src/logger';
import type { Broker } from '../../src/broker/broker';
import { parseExposition, valueOf } from './prometheus-parser';

const OPENAPI = path.join(__dirname, '..', '..', '..', 'src', 'http', 'openapi.json');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

test('every documented operation is routed, and every route is documented', () => {
  const doc = JSON.parse(fs.readFileSync(OPENAPI, 'utf8'));
  assert.match(doc.openapi, /^3\./);
  const documented = new Set<string>();
  for (const [route, item] of Object.entries<any>(doc.paths)) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      assert.ok(item[method].summary, `${method} ${route} has a summary`);
      assert.ok(Object.keys(item[method].responses ?? {}).length > 0, `${method} ${route} lists its responses`);
      if (item[method]['x-websocket']) continue;
      documented.add(`${method.toUpperCase()} ${route}`);
    }
  }
  // The router is built in the constructor; nothing here touches the broker or listens.
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    broker: {} as Broker,
    kafkaBootstrap: () => '127.0.0.1:1',
    connections: () => 0,
    kafkaListening: () => false,
    logger: createLogger({ level: 'silent' }),
  });
  const routed = new Set(server.router.routes().map((r) => `${r.method} ${r.template}`));
  const undocumented = [...routed].filter((r) => !documented.has(r));
  const unrouted = [...documented].filter((r) => !routed.has(r));
  assert.equal(undocumented, [], 'routes missing from openapi.json');
  assert.equal(unrouted, [], 'documented operations with no route');
  assert.ok(routed.size >= 18, `all routes seen (${routed.size})`);
});

test('the router answers 404 for unknown paths and 405 with Allow for a wrong method', () => {
  const router = new Router()
    .add('GET', '/a/{x}', () => ({ status: 200 }))
    .add('DELETE', '/a/{x}', () => ({ status: 204 }));
  assert.equal(router.match('GET', '/a/b%20c').params, { x: 'b c' });
  assert.ok(router.match('HEAD', '/a/b'), 'HEAD served where GET is');
  const notFound = (() => {
    try {
      router.match('GET', '/a');
    } catch (error) {
      return error as HttpError;
    }
  })();
  assert.is(notFound?.status, 404);
  const wrongMethod = (() => {
    try {
      router.match('POST', '/a/b');
    } catch (error) {
      return error as HttpError;
    }
  })();
  assert.is(wrongMethod?.status, 405);
  assert.is(wrongMethod?.headers.allow, 'DELETE, GET, HEAD');
});

test('the exposition writer escapes help and label values so a strict parser reads them back', () => {
  const w = new ExpositionWriter();
  w.family('x_total', 'counter', 'a help with \\ and a\nnewline').sample('x_total', { topic: 'we"ird\\na\nme' }, 3);
  w.single('y_seconds', 'gauge', 'gauge', 0.25);
  w.family('z_seconds', 'histogram', 'h')
    .sample('z_seconds_bucket', { le: 0.1 }, 1)
    .sample('z_seconds_bucket', { le: '+Inf' }, 2)
    .sample('z_seconds_sum', undefined, 0.3)
    .sample('z_seconds_count', undefined, 2);
  const text = w.text();
  assert.ok(text.includes('# HELP x_total a help with \\\\ and a\\nnewline'), text);
  const parsed = parseExposition(text);
  assert.is(valueOf(parsed, 'x_total', { topic: 'we"ird\\na\nme' }), 3);
  assert.is(valueOf(parsed, 'y_seconds'), 0.25);
  assert.is(parsed.types.get('z_seconds'), 'histogram');
  assert.throws(() => w.family('x_total', 'counter', 'again'), /twice/);
  assert.throws(() => parseExposition('x_total{a="b} 1\n'), /unterminated/);
  assert.throws(() => parseExposition('# TYPE q counter\nq 1\n# TYPE r gauge\nr 1\nq 2\n'), /not together/);
  assert.throws(() => parseExposition('q 1\n'), /no TYPE/);
});

test('Kafka errors map to the HTTP status that says the same thing', () => {
  assert.is(statusForKafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), 404);
  assert.is(statusForKafkaError(ErrorCode.TOPIC_ALREADY_EXISTS), 409);
  assert.is(statusForKafkaError(ErrorCode.INVALID_REPLICATION_FACTOR), 400);
  assert.is(statusForKafkaError(ErrorCode.NOT_CONTROLLER), 503);
  assert.is(statusForKafkaError(ErrorCode.LEADER_NOT_AVAILABLE), 503);
  assert.is(statusForKafkaError(ErrorCode.NON_EMPTY_GROUP), 409);
  assert.is(statusForKafkaError(ErrorCode.UNKNOWN_SERVER_ERROR), 500);
});

test('record formats: text, JSON and bytes in; auto shows text, flags JSON, hexes the rest', () => {
  assert.equal(encodeInput('héllo', undefined, 'v'), Buffer.from('héllo'));
  assert.equal(encodeInput({ a: 1 }, undefined, 'v'), Buffer.from('{"a":1}'));
  assert.equal(encodeInput('abc', 'json', 'v'), Buffer.from('"abc"'));
  assert.equal(encodeInput('AAEC', 'base64', 'v'), Buffer.from([0, 1, 2]));
  assert.is(encodeInput(null, 'base64', 'v'), null);
  assert.throws(() => encodeInput('not base64!', 'base64', 'v'), /base64/);
  assert.throws(() => encodeInput(5, 'string', 'v'), /must be a string/);
  assert.equal(decodeOutput(Buffer.from('plain text'), 'auto'), { value: 'plain text', encoding: 'string' });
  assert.equal(decodeOutput(Buffer.from('{"a": [1]}'), 'auto'), { value: '{"a": [1]}', encoding: 'json' });
  assert.equal(decodeOutput(Buffer.from([0, 255, 1]), 'auto'), { value: '00ff01', encoding: 'hex' });
  assert.equal(decodeOutput(Buffer.from('a\u0001b'), 'auto'), { value: '610162', encoding: 'hex' });
  assert.equal(decodeOutput(Buffer.from([0, 1, 2]), 'base64'), { value: 'AAEC', encoding: 'base64' });
  assert.equal(decodeOutput(Buffer.from('42'), 'json'), { value: '42', encoding: 'json' });
  assert.equal(decodeOutput(null, 'auto'), { value: null, encoding: null });
});

test.run();
