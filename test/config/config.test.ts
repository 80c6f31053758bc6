// Configuration: embedded defaults, config file (properties and JSON), flags winning over
// the file, and one-line errors for bad values.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseHostPort, parseVoters } from '../../src/config/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-config-'));

test('defaults are the documented ones', () => {
  const config = loadConfig({});
  assert.is(config.nodeId, 1);
  assert.equal(config.listen, { host: '127.0.0.1', port: 9092 });
  assert.equal(config.controllerListen, { host: '127.0.0.1', port: 9093 });
  assert.equal(config.http, { host: '127.0.0.1', port: 8080 });
  assert.is(config.dataDir, './data');
  assert.equal(config.voters, [{ id: 1, host: '127.0.0.1', port: 9093 }]);
  assert.is(config.socketRequestMaxBytes, 104857600);
  assert.is(config.numPartitions, 1);
  assert.is(config.autoCreateTopicsEnable, true);
});

test('properties file, then flags win', () => {
  const file = path.join(dir, 'server.properties');
  fs.writeFileSync(
    file,
    '# comment\nnode.id=7\nnum.partitions=3\nlog.segment.bytes=1048576\nauto.create.topics.enable=false\nmystery.key=1\nlisten=127.0.0.1:1234\nbroker.rack=eu-1a\ncluster.id=c1\n',
  );
  const config = loadConfig({ config: file, 'node-id': '9', http: 'off' });
  assert.is(config.nodeId, 9, 'flag wins');
  assert.is(config.numPartitions, 3);
  assert.is(config.autoCreateTopicsEnable, false);
  assert.equal(config.topicDefaults, { 'log.segment.bytes': '1048576' });
  assert.equal(config.unknownKeys, ['mystery.key']);
  assert.equal(config.listen, { host: '127.0.0.1', port: 1234 });
  assert.equal([config.rack, config.clusterId], ['eu-1a', 'c1']);
  assert.is(config.http, null);
  assert.equal(config.voters, [{ id: 9, host: '127.0.0.1', port: 9093 }]);
});

test('JSON config files', () => {
  const file = path.join(dir, 'brook.json');
  fs.writeFileSync(file, JSON.stringify({ 'num.partitions': 4, 'max.connections': 10 }));
  const config = loadConfig({ config: file });
  assert.equal([config.numPartitions, config.maxConnections], [4, 10]);
  fs.writeFileSync(file, '[1,2]');
  assert.throws(
    () => loadConfig({ config: file }),
    (e: Error) => e instanceof ConfigError,
  );
});

test('connection slot settings: defaults, overrides, bad values refused', () => {
  const defaults = loadConfig({});
  assert.equal(
    [defaults.connectionsMaxIdleMs, defaults.maxConnectionsPerIp, defaults.reservedBrokerConnections],
    [600000, 500, 32],
  );
  const file = path.join(dir, 'slots.properties');
  fs.writeFileSync(
    file,
    'max.connections.per.ip=5\nmax.connections.per.ip.overrides=10.0.0.1:50, [::1]:7,::ffff:10.0.0.2:0\nconnections.max.idle.ms=1000\n',
  );
  const config = loadConfig({ config: file });
  assert.equal([config.maxConnectionsPerIp, config.connectionsMaxIdleMs], [5, 1000]);
  const bad: [string, RegExp][] = [
    ['max.connections.per.ip=-1', /max.connections.per.ip: must be an integer >= 0/],
    ['max.connections.per.ip=lots', /max.connections.per.ip: expected an integer/],
    ['connections.max.idle.ms=0', /connections.max.idle.ms: must be an integer >= 100/],
    ['max.connections.per.ip.overrides=10.0.0.1', /expected IP:COUNT/],
    ['max.connections.per.ip.overrides=broker.example:5', /is not an IP address/],
    ['max.connections.per.ip.overrides=10.0.0.1:x', /expected an integer/],
    ['max.connections.per.ip.overrides=10.0.0.1:-3', /must be an integer >= 0/],
    ['max.connections.per.ip.overrides=10.0.0.1:1,10.0.0.1:2', /appears twice/],
  ];
  for (const [line, message] of bad) {
    fs.writeFileSync(file, line + '\n');
    assert.throws(
      () => loadConfig({ config: file }),
      (e: Error) => e instanceof ConfigError && message.test(e.message),
      line,
    );
  }
});

test('bad values are ConfigErrors with a clear message', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ 'node-id': 'x' }, /--node-id: expected an integer/],
    [{ 'node-id': '-1' }, /--node-id/],
    [{ listen: 'localhost' }, /--listen: expected HOST:PORT/],
    [{ listen: '127.0.0.1:70000' }, /--listen/],
    [{ http: 'nope' }, /--http/],
    [{ voters: '1@a:1,1@b:2' }, /appears twice/],
    [{ voters: 'x@a:1' }, /--voters/],
    [{ 'log-level': 'loud' }, /--log-level/],
    [{ config: path.join(dir, 'missing.properties') }, /cannot read/],
  ];
  for (const [flags, pattern] of bad) {
    assert.throws(
      () => loadConfig(flags),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      JSON.stringify(flags),
    );
  }
  const file = path.join(dir, 'bad.properties');
  fs.writeFileSync(file, 'num.partitions=many\n');
  assert.throws(
    () => loadConfig({ config: file }),
    (e: Error) => /num.partitions: expected an integer/.test(e.message),
  );
});

test('Raft tick and election timeout: defaults, overrides and bounds', () => {
  const defaults = loadConfig({});
  assert.equal([defaults.raftTickMs, defaults.raftElectionTimeoutMs], [50, 1000]);
  const file = path.join(dir, 'raft.properties');
  fs.writeFileSync(file, 'brook.raft.tick.ms=10\ncontroller.quorum.election.timeout.ms=200\n');
  const fast = loadConfig({ config: file });
  assert.equal([fast.raftTickMs, fast.raftElectionTimeoutMs], [10, 200]);
  const bad: [string, RegExp][] = [
    ['brook.raft.tick.ms=0', /brook.raft.tick.ms: must be an integer >= 1/],
    ['brook.raft.tick.ms=5000', /brook.raft.tick.ms: must be an integer <= 1000/],
    ['controller.quorum.election.timeout.ms=fast', /controller.quorum.election.timeout.ms: expected an integer/],
    [
      'controller.quorum.election.timeout.ms=100',
      /controller.quorum.election.timeout.ms: must be at least 5 ticks of brook.raft.tick.ms \(250\), got 100/,
    ],
  ];
  for (const [line, pattern] of bad) {
    fs.writeFileSync(file, `${line}\n`);
    assert.throws(
      () => loadConfig({ config: file }),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      line,
    );
  }
});

test('voters and addresses parse', () => {
  assert.equal(parseVoters('1@127.0.0.1:9093,2@127.0.0.1:9094'), [
    { id: 1, host: '127.0.0.1', port: 9093 },
    { id: 2, host: '127.0.0.1', port: 9094 },
  ]);
  assert.equal(parseHostPort('[::1]:9092', 'x'), { host: '::1', port: 9092 });
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
