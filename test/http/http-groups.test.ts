// Consumer groups over the HTTP API with a real kafkajs group: its members and assignment
// while it runs, 409 for resets and deletes while it has members, its lag once it has
// stopped (in the group routes and in /metrics), offset resets to earliest, an offset, a
// timestamp and latest, and deletion. Also /ready's 503 before the broker is ready.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';
import { request, waitReady } from './http-client';
import { parseExposition, valueOf } from './prometheus-parser';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

let broker: BrokerProcess;
let port: number;

test.before(async () => {
  broker = await startBroker({
    http: true,
    config: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '4' },
  });
  port = broker.httpPort!;
  await waitReady(port);
});

test.after(async () => {
  await broker.stop();
});

const get = (path: string) => request(port, 'GET', path);
const post = (path: string, body: unknown) => request(port, 'POST', path, { body });

test('a kafkajs group: members while running, 409 while not empty, lag when stopped, resets, delete', async () => {
  assert.is((await post('/api/v1/topics', { name: 'lagging', partitions: 2 })).status, 201);
  const records = Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2 }));
  assert.is((await post('/api/v1/topics/lagging/records', { records })).status, 200);
  const startedAtMs = Date.now();

  const kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'http-groups-test',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: 'watchers', sessionTimeout: 6000, heartbeatInterval: 500 });
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: 'lagging', fromBeginning: true });
  await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
  try {
    await until(async () => seen >= 10, { what: 'all 10 records consumed' });
    const running = await until(
      async () => {
        const answer = await get('/api/v1/groups/watchers');
        return answer.status === 200 &&
          answer.json.state === 'Stable' &&
          answer.json.offsets.length === 2 &&
          answer.json.totalLag === 0
          ? answer.json
          : undefined;
      },
      { what: 'the group stable with its commits' },
    );
    assert.is(running.protocolType, 'consumer');
    assert.is(running.members.length, 1);
    assert.equal(running.members[0].assignment, [{ topic: 'lagging', partitions: [0, 1] }]);
    assert.is(running.members[0].clientId, 'http-groups-test');
    const resetWhileRunning = await post('/api/v1/groups/watchers/reset-offsets', { topic: 'lagging', to: 'earliest' });
    assert.is(resetWhileRunning.status, 409, resetWhileRunning.text);
    assert.is(resetWhileRunning.json.error.code, 'NON_EMPTY_GROUP');
    assert.is((await request(port, 'DELETE', '/api/v1/groups/watchers')).status, 409);
  } finally {
    await consumer.disconnect();
  }

  // Stopped, then 5 more records: the group lags by 5.
  assert.is((await post('/api/v1/topics/lagging/records', { records: records.slice(0, 5) })).status, 200);
  const stopped = await until(
    async () => {
      const answer = (await get('/api/v1/groups/watchers')).json;
      return answer.totalLag === 5 ? answer : undefined;
    },
    { what: 'lag 5' },
  );
  assert.is(stopped.state, 'Empty');
  assert.equal(stopped.members, []);
  assert.equal(
    stopped.offsets.map((o: any) => [o.partition, o.committedOffset, o.logEndOffset, o.lag]),
    [
      [0, 5, 8, 3],
      [1, 5, 7, 2],
    ],
  );
  const listed = (await get('/api/v1/groups')).json.groups.find((g: any) => g.groupId === 'watchers');
  // Without an authorizer every group operation is allowed.
  assert.equal(listed, {
    groupId: 'watchers',
    state: 'Empty',
    protocolType: 'consumer',
    members: 0,
    lag: 5,
    authorizedOperations: ['READ', 'DELETE', 'DESCRIBE'],
  });
  const metrics = parseExposition((await get('/metrics')).text);
  assert.is(valueOf(metrics, 'brook_consumer_group_lag', { group: 'watchers', topic: 'lagging', partition: '0' }), 3);
  assert.is(valueOf(metrics, 'brook_consumer_group_lag', { group: 'watchers', topic: 'lagging', partition: '1' }), 2);

  const toEarliest = await post('/api/v1/groups/watchers/reset-offsets', { topic: 'lagging', to: 'earliest' });
  assert.is(toEarliest.status, 200, toEarliest.text);
  assert.equal(toEarliest.json.offsets, [
    { partition: 0, offset: 0 },
    { partition: 1, offset: 0 },
  ]);
  assert.is((await get('/api/v1/groups/watchers')).json.totalLag, 15);
  const toOffset = (
    await post('/api/v1/groups/watchers/reset-offsets', { topic: 'lagging', to: 'offset', offset: 4, partitions: [1] })
  ).json;
  assert.equal(toOffset.offsets, [{ partition: 1, offset: 4 }]);
  const clamped = (
    await post('/api/v1/groups/watchers/reset-offsets', {
      topic: 'lagging',
      to: 'offset',
      offset: 999,
      partitions: [0],
    })
  ).json;
  assert.equal(clamped.offsets, [{ partition: 0, offset: 8 }], 'an offset past the end moves to the end');
  const byTime = (
    await post('/api/v1/groups/watchers/reset-offsets', {
      topic: 'lagging',
      to: 'timestamp',
      timestamp: startedAtMs - 60_000,
    })
  ).json;
  assert.equal(byTime.offsets, [
    { partition: 0, offset: 0 },
    { partition: 1, offset: 0 },
  ]);
  const toLatest = (await post('/api/v1/groups/watchers/reset-offsets', { topic: 'lagging', to: 'latest' })).json;
  assert.equal(toLatest.offsets, [
    { partition: 0, offset: 8 },
    { partition: 1, offset: 7 },
  ]);
  assert.is((await get('/api/v1/groups/watchers')).json.totalLag, 0);

  for (const [body, status] of [
    [{ topic: 'lagging', to: 'somewhere' }, 400],
    [{ topic: 'lagging', to: 'offset' }, 400],
    [{ topic: 'lagging', to: 'timestamp', timestamp: 'yesterday' }, 400],
    [{ topic: 'lagging', to: 'earliest', partitions: [7] }, 404],
    [{ topic: 'missing', to: 'earliest' }, 404],
    [{ to: 'earliest' }, 400],
  ] as const) {
    const answer = await post('/api/v1/groups/watchers/reset-offsets', body);
    assert.is(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
  }

  assert.is((await request(port, 'DELETE', '/api/v1/groups/watchers')).status, 204);
  assert.is((await get('/api/v1/groups/watchers')).status, 404);
  assert.is((await request(port, 'DELETE', '/api/v1/groups/watchers')).status, 404);
  assert.not.ok((await get('/api/v1/groups')).json.groups.some((g: any) => g.groupId === 'watchers'));
});

test('/ready answers 503 with a reason until the broker is registered, then 200', async () => {
  // A node whose voter set names an absent second voter never elects a leader: never ready.
  const lonely = await startBroker({
    http: true,
    awaitKafka: false,
    extraArgs: ['--node-id', '1', '--voters', '1@127.0.0.1:1,2@127.0.0.1:2'],
  });
  try {
    const answer = await until(() => request(lonely.httpPort!, 'GET', '/ready').catch(() => undefined), {
      what: 'the HTTP listener',
    });
    assert.is(answer.status, 503, answer.text);
    assert.is(answer.json.status, 'not-ready');
    assert.match(answer.json.reason, /leader|caught up|registered|fenced/);
    assert.is((await request(lonely.httpPort!, 'GET', '/health')).status, 200);
    assert.ok(lonely.alive());
  } finally {
    await lonely.stop('SIGKILL');
  }
});

test.run();
