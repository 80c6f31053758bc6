// The request counters and the live stats the console pushes: errors found in responses,
// records counted from batch headers, and one sample's rates and latency percentiles.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countRecords, newLatencyHistogram, RequestMetrics } from '../../src/broker/request-metrics';
import { NodeMetrics } from '../../src/http/metrics';
import { cumulativeBuckets, LATENCY_BUCKETS_SECONDS } from '../../src/http/prometheus-metrics';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { createLogger } from '../../src/logger';
import type { Broker } from '../../src/broker/broker';

function batch(records: number): Buffer {
  return encodeRecordBatchSync({
    baseOffset: 0,
    records: Array.from({ length: records }, (_, i) => ({ value: `v${i}` })),
  });
}

test('errors are counted by API and code, from every partition of a response', () => {
  const metrics = new RequestMetrics();
  const started = process.hrtime.bigint();
  metrics.requestStarted(0);
  metrics.requestFinished(0, started, {
    responses: [
      {
        name: 't',
        partitionResponses: [
          { index: 0, errorCode: 6 },
          { index: 1, errorCode: 0 },
          { index: 2, errorCode: 6 },
        ],
      },
    ],
    throttleTimeMs: 0,
  });
  metrics.requestStarted(18);
  metrics.requestFinished(18, started, { errorCode: 35, apiKeys: [] });
  metrics.requestFailed(3, -1);
  assert.is(metrics.apis.get(0)!.requests, 1);
  assert.equal([...metrics.apis.get(0)!.errors], [[6, 2]]);
  assert.equal([...metrics.apis.get(18)!.errors], [[35, 1]]);
  assert.equal([...metrics.apis.get(3)!.errors], [[-1, 1]]);
  assert.is(metrics.apis.get(0)!.latencyMicroseconds.totalCount, 1);
});

test('records out are counted from the batch headers of the chunks read', () => {
  const chunk = Buffer.concat([batch(3), batch(5)]);
  assert.is(countRecords([chunk, batch(2)]), 10);
  assert.is(countRecords([Buffer.alloc(10)]), 0, 'a short chunk counts nothing');
  const metrics = new RequestMetrics();
  metrics.fetched('t', [chunk], chunk.length, false);
  metrics.fetched('t', [chunk], chunk.length, true);
  const t = metrics.topics.get('t')!;
  assert.equal([t.recordsOut, t.bytesOut, t.replicationBytesOut], [8, chunk.length, chunk.length]);
});

test('a live stats sample holds the rates and latency of its interval, then starts afresh', () => {
  const requestMetrics = new RequestMetrics();
  const broker = { metrics: requestMetrics, logger: createLogger({ level: 'silent' }) } as unknown as Broker;
  const live = new NodeMetrics(broker, () => 7);
  const seen: number[] = [];
  const off = live.onStats((s) => seen.push(s.produce.recordsPerSec));
  assert.is(live.stats().requests, 0);
  requestMetrics.produced('t', 500, 50_000);
  requestMetrics.fetched('t', [batch(4)], 100, false);
  const started = process.hrtime.bigint() - 2_000_000n;
  for (let i = 0; i < 10; i++) requestMetrics.requestFinished(0, started);
  requestMetrics.requestFinished(1, process.hrtime.bigint() - 500_000_000n);
  const first = live.sample();
  assert.ok(first.produce.recordsPerSec > 0 && first.produce.bytesPerSec > first.produce.recordsPerSec);
  assert.ok(first.fetch.recordsPerSec > 0);
  assert.is(first.requests, 10, 'Fetch is left out of the interval latency');
  assert.ok(first.requestLatencyMs.p50 >= 2 && first.requestLatencyMs.p50 < 400, `p50 ${first.requestLatencyMs.p50}`);
  assert.ok(first.requestLatencyMs.p999 >= first.requestLatencyMs.p50);
  assert.is(first.connections, 7);
  assert.equal(seen.length, 1);
  const second = live.sample();
  assert.equal([second.produce.recordsPerSec, second.requests, second.requestLatencyMs.p99], [0, 0, 0]);
  off();
  live.sample();
  assert.is(seen.length, 2, 'unsubscribed listeners are not called');
  live.stop();
});

test('latency buckets from the HDR histogram are cumulative and end at the count', () => {
  const histogram = newLatencyHistogram();
  for (const micros of [50, 300, 300, 2000, 40_000_000]) histogram.recordValue(micros);
  const buckets = cumulativeBuckets(histogram, LATENCY_BUCKETS_SECONDS);
  const at = (le: number) => buckets[LATENCY_BUCKETS_SECONDS.indexOf(le)];
  assert.equal(
    [at(0.0001), at(0.00025), at(0.0005), at(0.001), at(0.0025), at(30)],
    [1, 1, 3, 3, 4, 4],
    'the 40 s request is only in +Inf',
  );
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1]);
});

test.run();
