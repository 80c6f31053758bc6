// A broker started in this process: with --listen on port 0, the port it registers in the
// metadata (and so names in Metadata answers) is the port it actually bound; and a fetch
// that waits for fetch.min.bytes counts what it answers once in the metrics, not once per
// read of the log while it waited.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { Admin } from '../../src/client/admin';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { Producer } from '../../src/client/producer';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { startBroker } from '../../src/server/broker-server';
import { freePort } from '../helpers/ports';

test('a broker asked for port 0 registers and advertises the port it bound', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-port0-'));
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': dataDir,
    'log-level': 'error',
  });
  const running = await startBroker(config, silentLogger);
  try {
    assert.ok(running.kafkaPort > 0);
    const connection = new KafkaConnection({ host: '127.0.0.1', port: running.kafkaPort, requestTimeoutMs: 10_000 });
    await connection.connect();
    const metadata = await connection.request(ApiKey.Metadata, 1, { topics: [] });
    connection.close();
    assert.equal(
      metadata.brokers.map((b: { port: number }) => b.port),
      [running.kafkaPort],
    );
    // The registration committed to the metadata log (what other nodes and the HTTP API see).
    const registered = [...running.broker.quorum.image.brokers.values()].map((b) =>
      b.endPoints.filter((e) => e.name !== 'CONTROLLER').map((e) => e.port),
    );
    assert.equal(registered, [[running.kafkaPort]]);
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a long-polled fetch counts the records it answers once', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-fetchcount-'));
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': dataDir,
    'log-level': 'error',
  });
  const running = await startBroker(config, silentLogger);
  const producer = new Producer({ bootstrap: [`127.0.0.1:${running.kafkaPort}`], lingerMs: 0 });
  const connection = new KafkaConnection({ host: '127.0.0.1', port: running.kafkaPort, requestTimeoutMs: 10_000 });
  try {
    const admin = new Admin({ bootstrap: [`127.0.0.1:${running.kafkaPort}`] });
    await admin.createTopics([{ name: 'counted', partitions: 1, replicationFactor: 1 }]);
    admin.close();
    await producer.connect();
    await producer.send({ topic: 'counted', partition: 0, value: Buffer.from('one record') });
    await connection.connect();
    // min bytes far above what is there: the broker reads, waits out maxWaitMs, reads again.
    const response = await connection.request(ApiKey.Fetch, 4, {
      replicaId: -1,
      maxWaitMs: 300,
      minBytes: 1_000_000,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic: 'counted', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    assert.ok((response.responses[0].partitions[0].records as Buffer).length > 0, 'the record is in the answer');
    assert.is(running.broker.metrics.fetchedRecords, 1);
  } finally {
    connection.close();
    await producer.close();
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
