// Kafka's listener keys: named listeners, advertised addresses, the protocol map, the
// inter-broker and controller listeners, per-listener overrides, and one ConfigError line
// for every bad combination.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import {
  LISTENER_PROTOCOLS,
  parseListenerConfig,
  parseProtocolMap,
  resolvedListenerKeys,
} from '../../src/config/listeners';
import { DEFAULT_SASL_MECHANISMS, listenerSaslMechanisms, SECURITY_PROTOCOL_IDS } from '../../src/security/listeners';
import { SECURITY_PROTOCOLS } from '../../src/security/principal';

const THREE = {
  listeners: 'CLIENT://0.0.0.0:9092,INTERNAL://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093',
  'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
  'inter.broker.listener.name': 'INTERNAL',
  'controller.listener.names': 'CONTROLLER',
  'advertised.listeners': 'CLIENT://broker1.example.com:9092,INTERNAL://10.0.0.1:9094',
};

test('the shorthand flags make one PLAINTEXT listener and a CONTROLLER listener', () => {
  const config = parseListenerConfig({}, {});
  assert.equal(config.broker, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' }]);
  assert.equal(config.advertised, [
    { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT', fromListener: true },
  ]);
  assert.equal(config.controller, { name: 'CONTROLLER', host: '127.0.0.1', port: 9093, securityProtocol: 'PLAINTEXT' });
  assert.is(config.interBrokerListenerName, 'PLAINTEXT');
  const flagged = parseListenerConfig({}, { listen: '127.0.0.1:0', advertise: 'kafka.local:19092' });
  assert.equal(flagged.advertised[0], {
    name: 'PLAINTEXT',
    host: 'kafka.local',
    port: 19092,
    securityProtocol: 'PLAINTEXT',
    fromListener: false,
  });
  // Kafka's form of the shorthand's advertised address.
  assert.is(parseListenerConfig({}, { advertise: 'PLAINTEXT://kafka.local:1' }).advertised[0].host, 'kafka.local');
});

test('several named listeners: controller split off, advertised per name, inter-broker by name', () => {
  const config = parseListenerConfig(THREE);
  assert.equal(
    config.broker.map((l) => `${l.name}://${l.host}:${l.port}`),
    ['CLIENT://0.0.0.0:9092', 'INTERNAL://127.0.0.1:9094'],
  );
  assert.equal(config.controller, { name: 'CONTROLLER', host: '127.0.0.1', port: 9093, securityProtocol: 'PLAINTEXT' });
  assert.equal(
    config.advertised.map((l) => `${l.name}://${l.host}:${l.port}`),
    ['CLIENT://broker1.example.com:9092', 'INTERNAL://10.0.0.1:9094'],
  );
  assert.is(config.interBrokerListenerName, 'INTERNAL');
  assert.equal(config.controllerListenerNames, ['CONTROLLER']);
});

test('names are case-insensitive; an unadvertised listener advertises itself (the host name for every interface)', () => {
  const config = parseListenerConfig({
    listeners: 'client://:0,internal://127.0.0.1:0,Controller://127.0.0.1:0',
    'listener.security.protocol.map': 'CLIENT:PLAINTEXT,internal:plaintext,controller:PLAINTEXT',
    'inter.broker.listener.name': 'internal',
    'controller.listener.names': 'controller',
  });
  assert.equal(
    config.broker.map((l) => l.name),
    ['CLIENT', 'INTERNAL'],
  );
  assert.is(config.interBrokerListenerName, 'INTERNAL');
  assert.is(config.controller.name, 'CONTROLLER');
  assert.is(config.advertised[0].host, os.hostname());
  assert.is(config.advertised[1].host, '127.0.0.1');
  assert.ok(config.advertised.every((l) => l.fromListener));
});

test('the default protocol map maps each protocol name to itself, and controller listeners to PLAINTEXT', () => {
  const map = parseProtocolMap('PLAINTEXT:PLAINTEXT,SSL:SSL');
  assert.equal(
    [...map.entries()],
    [
      ['PLAINTEXT', 'PLAINTEXT'],
      ['SSL', 'SSL'],
    ],
  );
  const config = parseListenerConfig({
    listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
    'controller.listener.names': 'CONTROLLER',
  });
  assert.is(config.controller.securityProtocol, 'PLAINTEXT');
  assert.is(config.interBrokerListenerName, 'PLAINTEXT');
});

test('security.inter.broker.protocol names the listener called after the protocol', () => {
  const config = parseListenerConfig({
    listeners: 'PLAINTEXT://127.0.0.1:1,SASL_PLAINTEXT://127.0.0.1:2',
    'security.inter.broker.protocol': 'SASL_PLAINTEXT',
  });
  assert.is(config.interBrokerListenerName, 'SASL_PLAINTEXT');
  assert.equal(listenerSaslMechanisms(config, {}).get('SASL_PLAINTEXT'), DEFAULT_SASL_MECHANISMS);
});

test('per-listener keys win over the plain keys; mechanism keys keep their mechanism', () => {
  const keys = {
    'ssl.keystore.location': '/etc/brook/default.p12',
    'ssl.keystore.password': 'x',
    'sasl.enabled.mechanisms': 'PLAIN',
    'connections.max.reauth.ms': '0',
    'listener.name.client.ssl.keystore.location': '/etc/brook/client.p12',
    'listener.name.client.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.client.scram-sha-512.sasl.jaas.config': 'jaas',
    'listener.name.client.oauthbearer.connections.max.reauth.ms': '30000',
    'listener.name.client.connections.max.reauth.ms': '60000',
    'listener.name.internal.ssl.keystore.location': '/etc/brook/internal.p12',
    'listener.name.client.unrelated.key': 'ignored',
    'brook.sasl.plain.users.file': '/etc/brook/users',
    'listener.name.client.connection.failed.authentication.delay.ms': '500',
    'listener.name.client.brook.security.tls.handshake.timeout.ms': '2000',
    'super.users': 'User:admin',
  };
  assert.equal(resolvedListenerKeys(keys, 'CLIENT'), {
    'ssl.keystore.location': '/etc/brook/client.p12',
    'ssl.keystore.password': 'x',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'connections.max.reauth.ms': '60000',
    'scram-sha-512.sasl.jaas.config': 'jaas',
    'oauthbearer.connections.max.reauth.ms': '30000',
    'brook.security.tls.handshake.timeout.ms': '2000',
    'brook.sasl.plain.users.file': '/etc/brook/users',
    'connection.failed.authentication.delay.ms': '500',
  });
  assert.equal(resolvedListenerKeys(keys, 'OTHER'), {
    'ssl.keystore.location': '/etc/brook/default.p12',
    'ssl.keystore.password': 'x',
    'sasl.enabled.mechanisms': 'PLAIN',
    'connections.max.reauth.ms': '0',
    'brook.sasl.plain.users.file': '/etc/brook/users',
  });
  const all = {
    ...keys,
    listeners: 'CLIENT://127.0.0.1:1,INTERNAL://127.0.0.1:2',
    'listener.security.protocol.map': 'CLIENT:SASL_SSL,INTERNAL:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
  };
  const mechanisms = listenerSaslMechanisms(parseListenerConfig(all), all);
  assert.equal(mechanisms.get('CLIENT'), ['SCRAM-SHA-512']);
  assert.equal(mechanisms.get('INTERNAL'), ['PLAIN']);
});

test('loadConfig: listeners from the file, the shorthand fields follow the inter-broker listener', () => {
  const config = loadConfig({ config: writeConfig(THREE) });
  assert.equal(config.listen, { host: '127.0.0.1', port: 9094 });
  assert.equal(config.advertise, { host: '10.0.0.1', port: 9094 });
  assert.equal(config.controllerListen, { host: '127.0.0.1', port: 9093 });
  assert.equal(config.voters, [{ id: 1, host: '127.0.0.1', port: 9093 }]);
  assert.is(config.listeners.broker.length, 2);
  // advertised.listeners with HOST:PORT, as the --advertise flag, for the single listener.
  const single = loadConfig({ config: writeConfig({ 'advertised.listeners': 'kafka.local:9000' }) });
  assert.equal(single.advertise, { host: 'kafka.local', port: 9000 });
});

const BAD: [Record<string, string>, Record<string, string>, RegExp][] = [
  [{ listeners: 'CLIENT://127.0.0.1:1' }, {}, /listeners: listener CLIENT has no security protocol/],
  [
    { listeners: 'PLAINTEXT://127.0.0.1:1', 'listener.security.protocol.map': 'PLAINTEXT:TLS' },
    {},
    /unknown security protocol "TLS"/,
  ],
  [{ 'listener.security.protocol.map': 'PLAINTEXT' }, {}, /expected NAME:PROTOCOL/],
  [{ listeners: 'PLAINTEXT://127.0.0.1:1,plaintext://127.0.0.1:2' }, {}, /PLAINTEXT appears twice/],
  [
    { listeners: 'PLAINTEXT://127.0.0.1:1,SSL://127.0.0.2:1', 'ssl.keystore.location': 'k' },
    {},
    /port 1 is used by two listeners/,
  ],
  [{ listeners: 'PLAINTEXT://127.0.0.1' }, {}, /expected NAME:\/\/HOST:PORT/],
  [{ listeners: 'PLAINTEXT://127.0.0.1:99999' }, {}, /port 0-65535/],
  [{ listeners: 'PLAIN-TEXT://127.0.0.1:1' }, {}, /is not a listener name/],
  [{ listeners: '' }, {}, /names no listener/],
  [{ listeners: 'PLAINTEXT://127.0.0.1:1' }, { listen: '127.0.0.1:2' }, /listeners and --listen/],
  [
    { listeners: 'A://127.0.0.1:1,B://127.0.0.1:2', 'listener.security.protocol.map': 'A:PLAINTEXT,B:PLAINTEXT' },
    {},
    /inter.broker.listener.name: required with several listeners/,
  ],
  [
    { 'inter.broker.listener.name': 'INTERNAL' },
    {},
    /inter.broker.listener.name: INTERNAL is not one of the broker listeners/,
  ],
  [
    { 'inter.broker.listener.name': 'PLAINTEXT', 'security.inter.broker.protocol': 'PLAINTEXT' },
    {},
    /set one, not both/,
  ],
  [{ 'security.inter.broker.protocol': 'SSL' }, {}, /no broker listener is named SSL/],
  [{ 'security.inter.broker.protocol': 'TCP' }, {}, /unknown security protocol "TCP"/],
  [{ 'advertised.listeners': 'SSL://h:1' }, {}, /advertised.listeners: SSL is not one of listeners/],
  [{ 'advertised.listeners': 'PLAINTEXT://0.0.0.0:9092' }, {}, /clients cannot connect to/],
  [{ 'advertised.listeners': 'PLAINTEXT://h:0' }, {}, /must not be 0/],
  [{ 'advertised.listeners': 'PLAINTEXT://h:1' }, { advertise: 'h:1' }, /advertised.listeners and --advertise/],
  [
    { ...THREE, 'advertised.listeners': 'CLIENT://h:1,CONTROLLER://h:2' },
    {},
    /CONTROLLER is a controller listener, which is not advertised/,
  ],
  [{ ...THREE, 'advertised.listeners': 'h:1' }, {}, /HOST:PORT is only for a single listener/],
  [{ ...THREE, 'controller.listener.names': 'CTRL' }, {}, /CTRL is not among listeners/],
  [{ ...THREE }, { controllerListen: '127.0.0.1:1' }, /controller.listener.names and --controller-listen/],
  [{ 'controller.listener.names': 'CONTROLLER' }, {}, /needs listeners/],
  [{ ...THREE, 'controller.listener.names': 'CONTROLLER,INTERNAL' }, {}, /binds one controller listener/],
  [
    { ...THREE, 'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT' },
    {},
    /controller listener CONTROLLER must be PLAINTEXT .* or SSL .*, got SASL_PLAINTEXT/,
  ],
  [
    { listeners: 'CONTROLLER://127.0.0.1:1', 'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT' },
    {},
    /CONTROLLER is a broker listener here/,
  ],
  [
    { listeners: 'CONTROLLER://127.0.0.1:1', 'controller.listener.names': 'CONTROLLER' },
    {},
    /no broker listener besides the controller/,
  ],
  [{ listeners: 'SSL://127.0.0.1:1' }, {}, /listener SSL \(SSL\): needs a keystore/],
  [
    { ...THREE, 'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT' },
    {},
    /listener CONTROLLER has no security protocol/,
  ],
  [
    { listeners: 'SASL_SSL://127.0.0.1:1', 'ssl.keystore.certificate.chain': 'pem' },
    {},
    /listener SASL_SSL \(SASL_SSL\): needs a keystore/,
  ],
  [
    { listeners: 'SASL_PLAINTEXT://127.0.0.1:1', 'sasl.enabled.mechanisms': 'GSSAPI' },
    {},
    /GSSAPI \(Kerberos\) is not supported/,
  ],
  [
    { listeners: 'SASL_PLAINTEXT://127.0.0.1:1', 'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'OAUTH' },
    {},
    /unknown mechanism "OAUTH"/,
  ],
  [{ listeners: 'SASL_PLAINTEXT://127.0.0.1:1', 'sasl.enabled.mechanisms': ' , ' }, {}, /at least one mechanism/],
  [{ listeners: 'SASL_PLAINTEXT://127.0.0.1:1', 'sasl.enabled.mechanisms': 'PLAIN,plain' }, {}, /appears twice/],
  [{}, { listen: '127.0.0.1:9093' }, /port 9093 is used by a broker listener and the controller listener/],
];

test('every bad listener configuration is one ConfigError line', () => {
  for (const [keys, shorthands, message] of BAD) {
    try {
      // The listener configuration, then the SASL mechanisms (checked by the security layer).
      listenerSaslMechanisms(parseListenerConfig(keys, shorthands), keys);
      assert.unreachable(`accepted ${JSON.stringify(keys)} ${JSON.stringify(shorthands)}`);
    } catch (error) {
      assert.instance(error, ConfigError, String(error));
      assert.match((error as Error).message, message);
      assert.not.match((error as Error).message, /\n/);
    }
  }
});

test("the configuration's protocol names are Kafka's, with Kafka's wire ids", () => {
  assert.equal([...LISTENER_PROTOCOLS], [...SECURITY_PROTOCOLS]);
  assert.equal(
    SECURITY_PROTOCOLS.map((p) => SECURITY_PROTOCOL_IDS[p]),
    [0, 1, 2, 3],
  );
});

test('secrets in listener keys never appear in errors', () => {
  try {
    parseListenerConfig({
      listeners: 'SSL://127.0.0.1:1',
      'ssl.keystore.password': 'hunter2-secret',
      'sasl.jaas.config': 'password="hunter2-secret"',
    });
    assert.unreachable();
  } catch (error) {
    assert.not.match((error as Error).message, /hunter2/);
  }
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-listeners-'));
let files = 0;
function writeConfig(keys: Record<string, string>): string {
  const file = path.join(dir, `server-${files++}.properties`);
  fs.writeFileSync(
    file,
    Object.entries(keys)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return file;
}

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
