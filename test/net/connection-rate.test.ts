// max.connection.creation.rate on a Kafka listener (KIP-612): past the broker-wide rate,
// accepting pauses (connections wait, unread, in order) until the rate is back within it,
// and every connection is then served; an exempt listener (the inter-broker one among
// several) is never paused; a connection over its IP's rate is held unanswered and closed.
// A quota throttle on one connection (KIP-219) holds its next request, not others'.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../src/logger';
import { Dispatcher, DispatchResult } from '../../src/net/connection';
import { KafkaListener } from '../../src/net/kafka-listener';
import { ConnectionQuotas } from '../../src/security/connection-quotas';
import { rawRequest, API_VERSIONS_V0 } from '../helpers/broker-process';

/** Answers every request with a frame holding its correlation id; `throttleMs` mutes after the answer. */
function echo(throttleMs = 0): Dispatcher {
  return {
    dispatch(header): DispatchResult {
      const frame = Buffer.alloc(8);
      frame.writeInt32BE(4, 0);
      frame.writeInt32BE(header.correlationId, 4);
      return throttleMs > 0 ? { frames: [frame], throttleTimeMs: throttleMs } : [frame];
    },
  };
}

async function withListener(
  quotas: ConnectionQuotas,
  exempt: boolean,
  body: (port: number) => Promise<void>,
  dispatcher = echo(),
): Promise<void> {
  const listener = new KafkaListener(
    {
      host: '127.0.0.1',
      port: 0,
      maxConnections: 100,
      socketRequestMaxBytes: 1 << 20,
      maxInflightRequests: 10,
      connectionQuotas: quotas,
      connectionRateExempt: exempt,
    },
    dispatcher,
    silentLogger,
  );
  const port = await listener.listen();
  try {
    await body(port);
  } finally {
    await listener.close(100);
  }
}

const WINDOW = { samples: 2, windowMs: 1000 };

/** Opens `count` connections at once; the ms after which each was answered (null: closed unanswered). */
async function burst(port: number, count: number): Promise<(number | null)[]> {
  const started = Date.now();
  return Promise.all(
    Array.from({ length: count }, async () => {
      const { frame } = await rawRequest(port, API_VERSIONS_V0, 5000);
      return frame ? Date.now() - started : null;
    }),
  );
}

test('past max.connection.creation.rate accepting pauses, and every connection is served later', async () => {
  const quotas = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2, ipSensorsMax: 10 },
    () => null,
    Date.now(),
  );
  await withListener(quotas, false, async (port) => {
    // Two pass at once over the one-second minimum window; each one after waits its turn.
    const times = await burst(port, 5);
    assert.ok(
      times.every((t) => t !== null),
      'all served',
    );
    const sorted = (times as number[]).sort((a, b) => a - b);
    assert.ok(sorted[1] < 400, `the first two at once: ${sorted}`);
    assert.ok(sorted[4] >= 900, `the last waited: ${sorted}`);
    assert.ok(sorted[4] < 4000, `but not for long: ${sorted}`);
    assert.ok(quotas.brokerThrottles >= 2);
  });
});

test('an exempt listener is not paused by the broker-wide rate', async () => {
  const quotas = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2, ipSensorsMax: 10 },
    () => null,
    Date.now(),
  );
  await withListener(quotas, true, async (port) => {
    const times = await burst(port, 5);
    assert.ok(
      times.every((t) => t !== null && t < 900),
      `${times}`,
    );
    assert.is(quotas.brokerThrottles, 0);
  });
});

test("a listener's own max.connection.creation.rate pauses it, even the exempt inter-broker listener", async () => {
  const quotas = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2147483647, ipSensorsMax: 10 },
    () => null,
    Date.now(),
  );
  quotas.setListenerRate('PLAINTEXT', 2, Date.now());
  await withListener(quotas, true, async (port) => {
    const times = (await burst(port, 5)) as number[];
    assert.ok(
      times.every((t) => t !== null),
      'all served',
    );
    assert.ok(Math.max(...times) >= 900, `the last waited: ${times}`);
  });
});

test("a connection over its IP's rate is held unanswered, then closed", async () => {
  const quotas = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2147483647, ipSensorsMax: 10 },
    (ip) => (ip === '127.0.0.1' ? 1 : null),
    Date.now(),
  );
  await withListener(quotas, false, async (port) => {
    const times = await burst(port, 3);
    assert.is(times.filter((t) => t !== null).length, 1, `${times}`);
    assert.is(quotas.ipThrottles, 2);
  });
});

test('a throttled connection is answered at once, then not read for the throttle time', async () => {
  const quotas = new ConnectionQuotas(
    { window: WINDOW, maxConnectionCreationRate: 2147483647, ipSensorsMax: 10 },
    () => null,
    Date.now(),
  );
  await withListener(
    quotas,
    false,
    async (port) => {
      const net = await import('node:net');
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const arrivals: number[] = [];
      let received = 0;
      socket.on('data', (chunk) => {
        received += chunk.length;
        while (arrivals.length < Math.floor(received / 8)) arrivals.push(Date.now());
      });
      await new Promise((resolve) => socket.once('connect', resolve));
      const sent = Date.now();
      // Two requests back to back: the first is answered at once, the second after 600 ms.
      socket.write(Buffer.concat([API_VERSIONS_V0, API_VERSIONS_V0]));
      const deadline = Date.now() + 5000;
      while (arrivals.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      socket.destroy();
      assert.is(arrivals.length, 2);
      assert.ok(arrivals[0] - sent < 400, `first after ${arrivals[0] - sent} ms`);
      assert.ok(arrivals[1] - arrivals[0] >= 550, `second ${arrivals[1] - arrivals[0]} ms after the first`);
    },
    echo(600),
  );
});

test.run();
