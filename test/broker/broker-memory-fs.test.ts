// A whole broker on the in-memory file system: meta.properties, the metadata quorum's
// storage and the partition logs all go through the FileSystem it is given, nothing lands
// on the real disk, and after a simulated crash a new broker on the same file system finds
// its cluster, node and topics again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { Broker, BrokerSettings } from '../../src/broker/broker';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { silentLogger } from '../../src/logger';
import { freePort } from '../helpers/ports';

const DATA_DIR = '/brook-in-memory-data-dir';

function settings(controllerPort: number): BrokerSettings {
  return {
    nodeId: 1,
    host: '127.0.0.1',
    port: 9092,
    dataDir: DATA_DIR,
    autoCreateTopicsEnable: false,
    numPartitions: 1,
    defaultReplicationFactor: 1,
    topicDefaults: {},
    messageMaxBytes: 1024 * 1024,
    messageDecompressedMaxBytes: 64 << 20,
    maxPartitionsPerRequest: 1000,
    fetchMaxBytes: 1024 * 1024,
    fetchMaxWaitMsCap: 1000,
    offsetsTopicPartitions: 1,
    offsetsRetentionMs: 60_000,
    offsetMetadataMaxBytes: 4096,
    group: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000, maxSize: 100 },
    clusterId: 'in-memory-cluster',
    voters: [{ id: 1, host: '127.0.0.1', port: controllerPort }],
    controllerListen: { host: '127.0.0.1', port: controllerPort },
    raftTickMs: 10,
    raftElectionTimeoutTicks: 10,
    brokerSessionTimeoutMs: 9000,
    rack: null,
  };
}

async function startOn(
  memory: MemoryFileSystem,
  controllerPort: number,
): Promise<{ broker: Broker; logs: LogManager }> {
  const logs = new LogManager({ dataDir: DATA_DIR, fs: memory, tailCacheBytes: 0, housekeepingIntervalMs: 0 });
  logs.open();
  const broker = new Broker(settings(controllerPort), logs, silentLogger);
  await broker.start();
  return { broker, logs };
}

test('meta.properties, the metadata log and the partition logs all live on the given file system', async () => {
  const memory = new MemoryFileSystem();
  const controllerPort = await freePort();
  const first = await startOn(memory, controllerPort);
  try {
    await first.broker.createTopic('kept', 1, 1, {});
    assert.ok(memory.exists(`${DATA_DIR}/meta.properties`));
    assert.ok(memory.readdir(`${DATA_DIR}/__cluster_metadata`).includes('raft.log'));
    assert.ok(memory.isDirectory(`${DATA_DIR}/logs/kept-0`));
    assert.not.ok(fs.existsSync(DATA_DIR), 'nothing on the real disk');
  } finally {
    first.broker.beginShutdown();
    await first.broker.stop();
    // The first node's logs are not closed: no clean-shutdown marker, as after a kill.
  }

  // A crash keeps only what was fsynced: the committed metadata and meta.properties.
  memory.crash(() => 0);
  const second = await startOn(memory, controllerPort);
  try {
    assert.ok(second.broker.topics.get('kept'), 'the topic is back from the metadata log');
    assert.ok(second.logs.get('kept', 0), 'its log is open again');
  } finally {
    second.broker.beginShutdown();
    await second.broker.stop();
    second.logs.close();
  }
  assert.not.ok(fs.existsSync(DATA_DIR), 'nothing on the real disk');
});

test.run();
