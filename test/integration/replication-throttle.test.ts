// Replication throttles (KIP-73) on a two-node cluster: a follower out of sync catches up a
// few MB quickly without a throttle, and at about leader.replication.throttled.rate with the
// leader's throttle on the topic's replicas, set live (no restart); the same with the
// follower's own throttle instead; back in sync, a follower is not held back; kcat
// produces the data.
// Bad rates are refused with Kafka's message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../../protocol/api-keys';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Cluster, startCluster } from '../helpers/cluster';
import { kcat } from '../helpers/kcat';
import { until } from '../helpers/wait';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat');
const TOPIC = 'throttled';
/** What the follower catches up each time: 40 records of 64 KiB (2.5 MiB). */
const RECORDS = 40;
const RECORD_BYTES = 64 * 1024;
const RATE = 500_000;
let cluster: Cluster;

test.before(async () => {
  if (!HAVE_KCAT) return;
  cluster = await startCluster({
    size: 2,
    config: {
      // A short measure, so that the throttle bites within a test's time.
      'replication.quota.window.num': '2',
      'replication.quota.window.size.seconds': '1',
      'replica.fetch.max.bytes': '65536',
    },
  });
});

test.after(async () => {
  await cluster?.stopAll();
});

async function withConnection<T>(id: number, use: (c: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = new KafkaConnection({
    host: '127.0.0.1',
    port: cluster.kafkaPorts.get(id)!,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  try {
    await connection.connect();
    return await use(connection);
  } finally {
    connection.close();
  }
}

function alter(id: number, resourceType: number, resourceName: string, name: string, value: string | null) {
  return withConnection(id, async (c) => {
    const configOperation = value === null ? 1 : 0;
    const answer = await c.request(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType, resourceName, configs: [{ name, configOperation, value }] }],
      validateOnly: false,
    });
    return answer.responses[0] as { errorCode: number; errorMessage: string | null };
  });
}

async function produce(leader: number, acks = '1'): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < RECORDS; i++) lines.push(randomBytes(RECORD_BYTES / 2).toString('hex'));
  const result = await kcat(
    cluster.kafkaPorts.get(leader)!,
    ['-P', '-t', TOPIC, '-p', '0', '-X', `acks=${acks}`, '-X', 'linger.ms=0', '-X', 'message.max.bytes=1000000'],
    `${lines.join('\n')}\n`,
  );
  assert.is(result.code, 0, result.stderr);
}

/** Stops the follower, waits for the ISR to drop it, writes the data, restarts it: ms to rejoin the ISR. */
async function catchUpMs(leader: number, follower: number): Promise<number> {
  await cluster.stop(follower);
  await until(async () => (await cluster.metadata(TOPIC))?.isr.join() === String(leader), {
    what: 'the ISR to drop the stopped follower',
    timeoutMs: 15_000,
  });
  await produce(leader);
  await cluster.start(follower);
  const started = Date.now();
  await until(async () => (await cluster.metadata(TOPIC))?.isr.includes(follower), {
    what: 'the follower to rejoin the ISR',
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  return Date.now() - started;
}

test('a leader throttle set live holds an out-of-sync follower to about the rate', async () => {
  if (!HAVE_KCAT) {
    console.log('skipped: kcat is not installed at /usr/bin/kcat');
    return;
  }
  const state = await cluster.createTopicInSync(TOPIC, 2);
  const leader = state.leader;
  const follower = state.replicas.find((id) => id !== leader)!;
  // The replicas named, but no rate yet: unthrottled.
  const named = await alter(leader, 2, TOPIC, 'leader.replication.throttled.replicas', `0:${leader}`);
  assert.is(named.errorCode, 0, named.errorMessage ?? '');
  const freeMs = await catchUpMs(leader, follower);

  const rated = await alter(leader, 4, String(leader), 'leader.replication.throttled.rate', String(RATE));
  assert.is(rated.errorCode, 0, rated.errorMessage ?? '');
  const throttledMs = await catchUpMs(leader, follower);
  const expectedMs = ((RECORDS * RECORD_BYTES) / RATE) * 1000;
  assert.ok(freeMs < expectedMs / 2, `unthrottled catch-up took ${freeMs} ms`);
  assert.ok(
    throttledMs > expectedMs * 0.5 && throttledMs < expectedMs * 2.5,
    `throttled catch-up took ${throttledMs} ms, expected about ${expectedMs}`,
  );
  // Back in sync, the follower is not held back: acks=all writes of as much go at full speed.
  const started = Date.now();
  await produce(leader, 'all');
  const inSyncMs = Date.now() - started;
  assert.ok(inSyncMs < expectedMs / 2, `writes with an in-sync follower took ${inSyncMs} ms`);
});

test('a follower throttle holds its own fetching of the named replicas to about the rate', async () => {
  if (!HAVE_KCAT) return;
  const state = (await cluster.metadata(TOPIC))!;
  const leader = state.leader;
  const follower = state.replicas.find((id) => id !== leader)!;
  const lifted = await alter(leader, 4, String(leader), 'leader.replication.throttled.rate', null);
  assert.is(lifted.errorCode, 0, lifted.errorMessage ?? '');
  const named = await alter(leader, 2, TOPIC, 'follower.replication.throttled.replicas', `0:${follower}`);
  assert.is(named.errorCode, 0, named.errorMessage ?? '');
  const rated = await alter(leader, 4, String(follower), 'follower.replication.throttled.rate', String(RATE));
  assert.is(rated.errorCode, 0, rated.errorMessage ?? '');
  const throttledMs = await catchUpMs(leader, follower);
  const expectedMs = ((RECORDS * RECORD_BYTES) / RATE) * 1000;
  assert.ok(
    throttledMs > expectedMs * 0.5 && throttledMs < expectedMs * 2.5,
    `throttled catch-up took ${throttledMs} ms, expected about ${expectedMs}`,
  );
});

test('bad rates are refused with Kafka message', async () => {
  if (!HAVE_KCAT) return;
  const negative = await alter(1, 4, '1', 'leader.replication.throttled.rate', '-1');
  assert.is.not(negative.errorCode, 0);
  assert.is(
    negative.errorMessage,
    'Invalid value -1 for configuration leader.replication.throttled.rate: Value must be at least 0',
  );
  const text = await alter(1, 4, '', 'follower.replication.throttled.rate', 'fast');
  assert.is.not(text.errorCode, 0);
  assert.match(text.errorMessage ?? '', /^Invalid value fast for configuration follower\.replication\.throttled\.rate/);
});

test.run();
