// Starting with --listen on port 0: the port the broker registers in the metadata (and so
// names in Metadata answers) is the port it actually bound, and a client that connects
// while the broker is still starting is answered once it is up.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaConnection } from '../../src/client/connection';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { startBroker } from '../../src/server/broker-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

test('a broker asked for port 0 registers and advertises the port it bound', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-port0-'));
  const config = loadConfig({ listen: '127.0.0.1:0', 'controller-listen': `127.0.0.1:${await freePort()}`, http: 'off', 'data-dir': dataDir, 'log-level': 'error' });
  const running = await startBroker(config, silentLogger);
  try {
    assert.ok(running.kafkaPort > 0);
    const connection = new KafkaConnection({ host: '127.0.0.1', port: running.kafkaPort, requestTimeoutMs: 10_000 });
    await connection.connect();
    const metadata = await connection.request(3, 1, { topics: [] });
    connection.close();
    assert.equal(metadata.brokers.map((b: { port: number }) => b.port), [running.kafkaPort]);
    // The registration committed to the metadata log (what other nodes and the HTTP API see).
    const registered = [...running.broker.quorum.image.brokers.values()].map((b) => b.endPoints.filter((e) => e.name !== 'CONTROLLER').map((e) => e.port));
    assert.equal(registered, [[running.kafkaPort]]);
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
