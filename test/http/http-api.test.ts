// The HTTP API against a real broker process: health and readiness, cluster and quorum,
// the topic routes, records produced over REST and read back over REST and with kcat,
// every kind of bad request (each a 4xx JSON error, the process unharmed), and /metrics
// that a strict parser accepts and whose counters move after a produce.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { request, waitReady } from './http-client';
import { parseExposition, valueOf } from './prometheus-parser';

let broker: BrokerProcess;
let port: number;

test.before(async () => {
  broker = await startBroker({ http: true, config: { 'offsets.topic.num.partitions': '4' } });
  port = broker.httpPort!;
  await waitReady(port);
});

test.after(async () => {
  assert.ok(broker.alive(), 'the broker survived every request');
  await broker.stop();
});

const get = (path: string) => request(port, 'GET', path);
const post = (path: string, body: unknown) => request(port, 'POST', path, { body });

function assertError(
  answer: { status: number; json: any; text: string },
  status: number,
  code?: string | RegExp,
): void {
  assert.is(answer.status, status, answer.text);
  assert.type(answer.json?.error?.message, 'string', `an error message: ${answer.text}`);
  assert.ok(answer.json.error.message.length > 5, 'the message says something');
  if (typeof code === 'string') assert.is(answer.json.error.code, code);
  else if (code) assert.match(answer.json.error.code, code);
}

test('health, readiness, cluster and quorum of a single node', async () => {
  assert.equal((await get('/health')).json, { status: 'up' });
  assert.equal((await get('/ready')).json, { status: 'ready' });
  const cluster = (await get('/api/v1/cluster')).json;
  assert.is(cluster.nodeId, 1);
  assert.is(cluster.controllerId, 1);
  assert.type(cluster.clusterId, 'string');
  assert.is(cluster.brokers.length, 1);
  assert.is(cluster.brokers[0].fenced, false);
  assert.is(cluster.totals.offlinePartitions, 0);
  const quorum = (await get('/api/v1/quorum')).json;
  assert.is(quorum.leaderId, 1);
  assert.ok(quorum.term >= 1);
  assert.ok(quorum.commitIndex >= 1);
  assert.equal(
    quorum.voters.map((v: any) => v.nodeId),
    [1],
  );
  assert.is(quorum.voters[0].lag, 0);
});

test('topics: create, list with search and pages, describe, configs, add partitions, delete', async () => {
  const created = await post('/api/v1/topics', { name: 'orders', partitions: 2, configs: { 'retention.ms': 3600000 } });
  assert.is(created.status, 201, created.text);
  assert.equal(created.json, { name: 'orders', partitions: 2, replicationFactor: 1 });
  assert.is((await post('/api/v1/topics', { name: 'orders-archive' })).status, 201);
  const duplicate = await post('/api/v1/topics', { name: 'orders' });
  assertError(duplicate, 409, 'TOPIC_ALREADY_EXISTS');
  // Said for a person: what failed and why, without the error's code number.
  assert.match(duplicate.json.error.message, /^Create topic orders failed: .*already exists/i);
  assert.not.match(duplicate.json.error.message, /\(36\)/);
  assertError(await post('/api/v1/topics', { name: 'bad name!' }), 400, 'INVALID_TOPIC_EXCEPTION');
  assertError(await post('/api/v1/topics', { name: 'p0', partitions: 0 }), 400);
  assertError(await post('/api/v1/topics', { name: 'rf', replicationFactor: 3 }), 400, 'INVALID_REPLICATION_FACTOR');

  const page = (await get('/api/v1/topics?search=ORDERS&limit=1')).json;
  assert.is(page.total, 2);
  assert.equal(
    page.topics.map((t: any) => t.name),
    ['orders'],
  );
  assert.equal(
    (await get('/api/v1/topics?search=orders&offset=1&limit=1')).json.topics.map((t: any) => t.name),
    ['orders-archive'],
  );
  const all = (await get('/api/v1/topics')).json;
  assert.ok(all.topics.some((t: any) => t.name === '__consumer_offsets' && t.internal === true));
  assertError(await get('/api/v1/topics?limit=0'), 400);
  assertError(await get('/api/v1/topics?offset=x'), 400);

  const topic = (await get('/api/v1/topics/orders')).json;
  assert.is(topic.partitions.length, 2);
  assert.equal(topic.partitions[0].replicas, [1]);
  assert.equal(topic.partitions[0].isr, [1]);
  assert.is(topic.partitions[0].highWatermark, 0);
  const retention = topic.configs.find((c: any) => c.name === 'retention.ms');
  assert.equal(retention, {
    name: 'retention.ms',
    value: '3600000',
    source: 'DYNAMIC_TOPIC_CONFIG',
    readOnly: false,
    sensitive: false,
  });

  const patched = await request(port, 'PATCH', '/api/v1/topics/orders/configs', {
    body: { set: { 'cleanup.policy': 'compact' }, delete: ['retention.ms'] },
  });
  assert.is(patched.status, 200, patched.text);
  assert.is(patched.json.configs.find((c: any) => c.name === 'cleanup.policy').value, 'compact');
  assert.is(patched.json.configs.find((c: any) => c.name === 'retention.ms').source, 'DEFAULT_CONFIG');
  assert.is(
    (await get('/api/v1/topics/orders/configs')).json.configs.find((c: any) => c.name === 'cleanup.policy').source,
    'DYNAMIC_TOPIC_CONFIG',
  );
  assertError(
    await request(port, 'PATCH', '/api/v1/topics/orders/configs', { body: { set: { 'no.such.config': 'x' } } }),
    400,
    'INVALID_CONFIG',
  );
  assertError(await request(port, 'PATCH', '/api/v1/topics/orders/configs', { body: {} }), 400);
  assertError(
    await request(port, 'PATCH', '/api/v1/topics/orders/configs', { body: { set: { 'retention.ms': { nested: 1 } } } }),
    400,
  );

  assert.equal((await post('/api/v1/topics/orders/partitions', { count: 3 })).json, { name: 'orders', partitions: 3 });
  assert.is((await get('/api/v1/topics/orders')).json.partitions.length, 3);
  assertError(await post('/api/v1/topics/orders/partitions', { count: 2 }), 400, 'INVALID_PARTITIONS');
  assertError(await post('/api/v1/topics/orders/partitions', { count: '5' }), 400);

  assert.is((await request(port, 'DELETE', '/api/v1/topics/orders-archive')).status, 204);
  assertError(await get('/api/v1/topics/orders-archive'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
  assertError(await request(port, 'DELETE', '/api/v1/topics/orders-archive'), 404);
  assertError(await request(port, 'DELETE', '/api/v1/topics/__consumer_offsets'), 400);
});

test('records produced over REST read back over REST and with kcat', async () => {
  assert.is((await post('/api/v1/topics', { name: 'events', partitions: 2 })).status, 201);
  const produced = await post('/api/v1/topics/events/records', {
    records: [
      { key: 'k1', value: 'hello', partition: 0, headers: { source: 'rest' } },
      { key: 'k2', value: { n: 2, tags: ['a'] }, partition: 0, timestamp: 1_700_000_000_000 },
      { value: 'AAH/', partition: 1 },
      { key: 'k4', value: null, partition: 0, headers: [{ key: 'h', value: null }] },
    ],
  });
  assert.is(produced.status, 200, produced.text);
  assert.equal(produced.json.offsets, [
    { partition: 0, offset: 0 },
    { partition: 0, offset: 1 },
    { partition: 1, offset: 0 },
    { partition: 0, offset: 2 },
  ]);
  const binary = await post('/api/v1/topics/events/records', {
    valueFormat: 'base64',
    keyFormat: 'string',
    acks: 1,
    records: [{ key: 'bin', value: 'AAH/', partition: 1 }],
  });
  assert.equal(binary.json.offsets, [{ partition: 1, offset: 1 }]);
  // Without a partition the producer picks one (another topic, so the offsets below stay known).
  // Keyed: orders is compacted now, which refuses records without a key (as Kafka).
  const unpinned = await post('/api/v1/topics/orders/records', {
    acks: 'all',
    records: [{ key: 'somewhere', value: 'anywhere' }],
  });
  assert.ok([0, 1, 2].includes(unpinned.json.offsets[0].partition), unpinned.text);
  assert.is(unpinned.json.offsets[0].offset, 0);

  const read = await get('/api/v1/topics/events/partitions/0/records?offset=0');
  assert.is(read.status, 200, read.text);
  const [first, second, third] = read.json.records;
  assert.equal(first, {
    partition: 0,
    offset: 0,
    timestamp: first.timestamp,
    key: 'k1',
    value: 'hello',
    headers: [{ key: 'source', value: 'rest', encoding: 'string' }],
    keyEncoding: 'string',
    valueEncoding: 'string',
  });
  assert.is(second.valueEncoding, 'json');
  assert.equal(JSON.parse(second.value), { n: 2, tags: ['a'] });
  assert.is(second.timestamp, 1_700_000_000_000);
  assert.is(third.value, null);
  assert.is(third.valueEncoding, null);
  assert.equal(third.headers, [{ key: 'h', value: null, encoding: null }]);
  assert.is(read.json.nextOffset, 3);
  assert.is(read.json.highWatermark, 3);

  // Partition 1: "AAH/" was text the first time and bytes the second.
  const p1 = (await get('/api/v1/topics/events/partitions/1/records?offset=0&limit=2')).json.records;
  assert.equal([p1[0].value, p1[0].valueEncoding], ['AAH/', 'string']);
  assert.equal([p1[1].value, p1[1].valueEncoding], ['0001ff', 'hex']);
  assert.equal(
    (await get('/api/v1/topics/events/partitions/1/records?offset=1&format=base64')).json.records[0].value,
    'AAH/',
  );

  const limited = (await get('/api/v1/topics/events/partitions/0/records?offset=1&limit=1')).json;
  assert.equal([limited.records.length, limited.records[0].offset, limited.nextOffset], [1, 1, 2]);
  const newest = (await get('/api/v1/topics/events/partitions/0/records?limit=2')).json;
  assert.equal(
    newest.records.map((r: any) => r.offset),
    [1, 2],
  );
  const byTime = (await get('/api/v1/topics/events/partitions/0/records?timestamp=1700000000000&limit=1')).json;
  assert.ok(byTime.records.length === 1 && byTime.records[0].offset <= 1, JSON.stringify(byTime));
  const atEnd = (await get('/api/v1/topics/events/partitions/0/records?offset=3')).json;
  assert.equal([atEnd.records, atEnd.nextOffset], [[], 3]);
  assertError(await get('/api/v1/topics/events/partitions/0/records?offset=50'), 416, 'OFFSET_OUT_OF_RANGE');
  assertError(await get('/api/v1/topics/events/partitions/7/records'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
  assertError(await get('/api/v1/topics/events/partitions/x/records'), 400);
  assertError(await get('/api/v1/topics/events/partitions/0/records?format=yaml'), 400);
  assertError(await get('/api/v1/topics/events/partitions/0/records?offset=1&timestamp=2'), 400);
  assertError(await get('/api/v1/topics/events/partitions/0/records?limit=5000'), 400);

  const consumed = await kcat(broker.port, [
    '-C',
    '-t',
    'events',
    '-p',
    '0',
    '-o',
    'beginning',
    '-c',
    '3',
    '-e',
    '-f',
    '%k=%s|%h\n',
    '-Z',
  ]);
  assert.is(consumed.code, 0, consumed.stderr);
  const lines = consumed.stdout.trim().split('\n');
  assert.is(lines[0], 'k1=hello|source=rest');
  assert.equal(JSON.parse(lines[1].slice('k2='.length, lines[1].indexOf('|'))), { n: 2, tags: ['a'] });
  assert.ok(lines[2].startsWith('k4=NULL|'), lines[2]);

  // And the other way round: kcat writes, REST reads.
  const written = await kcat(broker.port, ['-P', '-t', 'events', '-p', '1', '-K', ':'], 'from:kcat\n');
  assert.is(written.code, 0, written.stderr);
  const tail = (await get('/api/v1/topics/events/partitions/1/records?limit=1')).json.records[0];
  assert.equal([tail.key, tail.value], ['from', 'kcat']);
});

test('bad requests get a 4xx JSON error and change nothing', async () => {
  const records = '/api/v1/topics/events/records';
  assertError(await request(port, 'POST', records, { raw: '{"records": [' }), 400, 'bad-json');
  assertError(await request(port, 'POST', records, { raw: '' }), 400, 'bad-json');
  assertError(
    await request(port, 'POST', records, { raw: '{"records":[]}', contentType: 'text/plain' }),
    415,
    'unsupported-media-type',
  );
  assertError(await request(port, 'POST', records, { raw: '{"records":[]}', contentType: null }), 415);
  assertError(await post(records, { records: [] }), 400);
  assertError(await post(records, { records: 'x' }), 400);
  assertError(await post(records, [1, 2]), 400);
  assertError(await post(records, { records: [{ value: 'x', partition: 'one' }] }), 400);
  assertError(await post(records, { records: [{ value: 'x', partition: -1 }] }), 400);
  assertError(await post(records, { records: [{ value: 'x', partition: 9 }] }), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
  assertError(await post(records, { records: [{ value: 'x', timestamp: 'now' }] }), 400);
  assertError(await post(records, { records: [{ value: 'x', colour: 'red' }] }), 400);
  assertError(await post(records, { records: [{ value: 'x', headers: { h: 5 } }] }), 400);
  assertError(await post(records, { records: [{ value: 5 }], valueFormat: 'string' }), 400);
  assertError(await post(records, { records: [{ value: 'x' }], valueFormat: 'xml' }), 400);
  assertError(await post(records, { records: [{ value: 'x' }], acks: 2 }), 400);
  assertError(
    await post(records, { records: [{ value: 'not base64!' }], valueFormat: 'base64' }),
    400,
    'invalid-base64',
  );
  assertError(await post(records, { records: Array.from({ length: 10_001 }, () => ({})) }), 400, 'too-many-records');
  assertError(
    await post('/api/v1/topics/no-such-topic/records', { records: [{ value: 'x' }] }),
    404,
    'UNKNOWN_TOPIC_OR_PARTITION',
  );
  assertError(await post('/api/v1/topics/__consumer_offsets/records', { records: [{ value: 'x' }] }), 400);
  assertError(
    await request(port, 'POST', records, { raw: JSON.stringify({ records: [{ value: 'x'.repeat(1024 * 1024) }] }) }),
    413,
    'body-too-large',
  );
  assertError(await post('/api/v1/topics', { name: 5 }), 400);
  assertError(await post('/api/v1/topics', { name: 'x', partitions: 1.5 }), 400);
  assertError(await post('/api/v1/topics', { name: 'x', configs: ['a'] }), 400);

  const wrongMethod = await request(port, 'PUT', '/api/v1/topics/events');
  assertError(wrongMethod, 405, 'method-not-allowed');
  assert.is(wrongMethod.headers.allow, 'DELETE, GET, HEAD');
  assert.is((await request(port, 'POST', '/metrics')).headers.allow, 'GET, HEAD');
  assertError(await get('/api/v1/nothing-here'), 404, 'not-found');
  assertError(await get('/index.html'), 404); // / itself serves the web console
  assertError(await get('/api/v1/topics/%E0%A4%A'), 404);

  // Nothing above was written: partition 0 still ends at offset 3.
  assert.is((await get('/api/v1/topics/events')).json.partitions[0].highWatermark, 3);
  assert.is((await get('/health')).status, 200);
});

test('/metrics is valid exposition text and its counters move after a produce', async () => {
  const scrape = async () => {
    const answer = await get('/metrics');
    assert.is(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseExposition(answer.text);
  };
  const before = await scrape();
  for (const family of [
    'brook_requests_total',
    'brook_request_errors_total',
    'brook_request_duration_seconds',
    'brook_topic_bytes_in_total',
    'brook_log_size_bytes',
    'brook_partitions',
    'brook_under_replicated_partitions',
    'brook_isr_shrinks_total',
    'brook_isr_expands_total',
    'brook_raft_term',
    'brook_raft_commit_index',
    'brook_raft_leader_changes_total',
    'brook_consumer_group_lag',
    'brook_open_connections',
    'brook_event_loop_delay_seconds',
  ]) {
    assert.ok(before.types.has(family), `family ${family} present`);
    assert.ok(before.help.has(family), `family ${family} has HELP`);
  }
  assert.is(before.types.get('brook_request_duration_seconds'), 'histogram');
  assert.is(valueOf(before, 'brook_raft_term')! >= 1, true);
  assert.is(valueOf(before, 'brook_raft_leader_changes_total'), 1);
  assert.is(valueOf(before, 'brook_under_replicated_partitions'), 0);
  assert.ok(valueOf(before, 'brook_open_connections')! >= 1, 'the REST clients hold connections');
  // The refused produce to partition 9 never reached Kafka; the kcat produce did.
  const producesBefore = valueOf(before, 'brook_requests_total', { api: 'Produce' }) ?? 0;
  const bytesBefore = valueOf(before, 'brook_topic_bytes_in_total', { topic: 'events' }) ?? 0;
  const recordsBefore = valueOf(before, 'brook_topic_records_in_total', { topic: 'events' }) ?? 0;
  assert.is(recordsBefore, 6, 'records in so far: 4 + 1 over REST, 1 from kcat');

  const answer = await post('/api/v1/topics/events/records', {
    records: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: 0 })),
  });
  assert.is(answer.status, 200);
  // A fetch that fails (offset out of range) is counted as an error of Fetch.
  assert.is((await get('/api/v1/topics/events/partitions/0/records?offset=900')).status, 416);
  const after = await scrape();
  assert.ok(valueOf(after, 'brook_requests_total', { api: 'Produce' })! > producesBefore);
  assert.is(valueOf(after, 'brook_topic_records_in_total', { topic: 'events' }), recordsBefore + 10);
  assert.ok(valueOf(after, 'brook_topic_bytes_in_total', { topic: 'events' })! > bytesBefore + 20);
  assert.ok(valueOf(after, 'brook_request_errors_total', { api: 'Fetch', error: 'OFFSET_OUT_OF_RANGE' })! >= 1);
  assert.ok(valueOf(after, 'brook_request_duration_seconds_count', { api: 'Produce' })! > producesBefore - 1);
  const logSize = valueOf(after, 'brook_log_size_bytes', { topic: 'events', partition: '0' })!;
  assert.ok(logSize > 100, `log size ${logSize}`);
  assert.ok(
    valueOf(after, 'brook_topic_records_out_total', { topic: 'events' })! >= 3,
    'REST and kcat reads counted as records out',
  );
});

test.run();
