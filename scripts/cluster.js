#!/usr/bin/env node
// A local three-node Brook cluster for development: distinct ports and data directories
// under one base directory, PIDs recorded so `stop` ends exactly the processes `start`
// began. Usage:
//   node scripts/cluster.js start [--base DIR] [--nodes 3] [--kafka-port 9192] [--controller-port 9193] [--secure]
//   node scripts/cluster.js stop  [--base DIR]
//   node scripts/cluster.js status [--base DIR]
// Node i listens on kafka-port + 100*(i-1) and controller-port + 100*(i-1), on 127.0.0.1.
// The nodes share a random controller-port secret, made once in DIR/cluster.properties
// (mode 0600); `brook cluster ... --config DIR/cluster.properties` authenticates with it.
// With --secure every Kafka listener is SASL_SSL and the controller listener mutual TLS (the
// nodes' certificates, named in super.users): a development CA and one certificate per
// node (for 127.0.0.1 and localhost) in DIR/tls/, a CLIENT listener on the kafka port and a
// BROKER (inter-broker) listener two ports up, SCRAM-SHA-512 users "admin" (for people)
// and "broker" (between brokers) made at first start, and DIR/client.properties (brook CLI
// and kcat -F) and DIR/client-java.properties (Kafka's tools) to connect with.
'use strict';
const { randomBytes } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const tls = require('node:tls');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const args = process.argv.slice(2);
const verb = args[0];
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const base = path.resolve(option('base', './cluster-data'));
const count = Number(option('nodes', '3'));
const kafkaBase = Number(option('kafka-port', '9192'));
const controllerBase = Number(option('controller-port', '9193'));
const secure = args.includes('--secure');
const pidFile = path.join(base, 'pids.json');
const brook = path.join(__dirname, 'brook.js');
const tlsDir = path.join(base, 'tls');
const caFile = path.join(tlsDir, 'ca.pem');

/** An ApiVersions v0 request (answered before authentication) proves the listener serves. */
function probe(port) {
  return new Promise((resolve) => {
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(caFile) })
      : net.connect(port, '127.0.0.1');
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on(secure ? 'secureConnect' : 'connect', () =>
      socket.write(Buffer.from('0000000a00120000000000010000', 'hex').subarray(0, 14)),
    );
    socket.on('data', () => done(true));
    socket.on('error', () => done(false));
    setTimeout(() => done(false), 1000);
  });
}

/** Writes `text` readable by this user only (it holds keys or passwords). */
function writePrivate(file, text) {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/**
 * The CA and one certificate per node, made once: with src/security/certs.ts (node:crypto
 * only) when the build has it, else with openssl.
 */
function makeCertificates(ids) {
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(caFile) && ids.every((id) => fs.existsSync(path.join(tlsDir, `node-${id}.pem`)))) return;
  const certs = path.join(__dirname, '..', 'dist', 'src', 'security', 'certs.js');
  if (fs.existsSync(certs)) {
    const { createCertificateAuthority, issueCertificate } = require(certs);
    const ca = createCertificateAuthority({ subject: 'CN=Brook Development CA,O=Brook' });
    fs.writeFileSync(caFile, ca.certPem);
    writePrivate(path.join(tlsDir, 'ca-key.pem'), ca.keyPem);
    for (const id of ids) {
      const leaf = issueCertificate(ca, {
        subject: `CN=brook-node-${id},O=Brook`,
        kind: 'both',
        hosts: ['127.0.0.1', 'localhost'],
      });
      writePrivate(path.join(tlsDir, `node-${id}.pem`), leaf.keyPem + leaf.certPem);
    }
    return;
  }
  const openssl = (argv) => execFileSync('openssl', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const caKey = path.join(tlsDir, 'ca-key.pem');
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey].concat([
      '-out',
      caFile,
      '-subj',
      '/O=Brook/CN=Brook Development CA',
      '-days',
      '3650',
    ]),
  );
  fs.chmodSync(caKey, 0o600);
  for (const id of ids) {
    const key = path.join(tlsDir, `node-${id}.key`);
    const csr = path.join(tlsDir, `node-${id}.csr`);
    const cert = path.join(tlsDir, `node-${id}.crt`);
    const ext = path.join(tlsDir, `node-${id}.ext`);
    openssl(
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr].concat([
        '-subj',
        `/O=Brook/CN=brook-node-${id}`,
      ]),
    );
    fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl(
      ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert].concat([
        '-days',
        '825',
        '-extfile',
        ext,
      ]),
    );
    writePrivate(path.join(tlsDir, `node-${id}.pem`), fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
    for (const file of [key, csr, cert, ext]) fs.rmSync(file, { force: true });
  }
}

/** The SCRAM passwords of the secure cluster, made once in DIR/users.properties (mode 0600). */
function securePasswords() {
  const file = path.join(base, 'users.properties');
  if (!fs.existsSync(file))
    writePrivate(
      file,
      `admin=${randomBytes(18).toString('base64url')}\nbroker=${randomBytes(18).toString('base64url')}\n`,
    );
  const entries = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries);
}

/** Node `id`'s config file for --secure: SASL_SSL listeners, a mutual-TLS controller listener and the cluster secret. */
function secureNodeConfig(id, ids, secretLine, passwords) {
  const kafkaPort = kafkaBase + 100 * (id - 1);
  const controllerPort = controllerBase + 100 * (id - 1);
  const jaas = (user) =>
    `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${passwords[user]}";`;
  const lines = [
    secretLine,
    `listeners=CLIENT://127.0.0.1:${kafkaPort},BROKER://127.0.0.1:${kafkaPort + 2},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=CLIENT://127.0.0.1:${kafkaPort},BROKER://127.0.0.1:${kafkaPort + 2}`,
    'listener.security.protocol.map=CLIENT:SASL_SSL,BROKER:SASL_SSL,CONTROLLER:SSL',
    // The controller port takes only the nodes' certificates (mutual TLS) besides the secret;
    // follower fetches only the broker user.
    'listener.name.controller.ssl.client.auth=required',
    `super.users=${ids.map((n) => `User:CN=brook-node-${n},O=Brook`).join(';')};User:broker`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=BROKER',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.broker.scram-sha-512.sasl.jaas.config=${jaas('broker')}`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${path.join(tlsDir, `node-${id}.pem`)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caFile}`,
    `brook.security.bootstrap.scram.users=SCRAM-SHA-512=[name=admin,password=${passwords.admin}];SCRAM-SHA-512=[name=broker,password=${passwords.broker}]`,
  ];
  const file = path.join(base, `node-${id}.properties`);
  writePrivate(file, `${lines.join('\n')}\n`);
  return file;
}

/** Client settings for the secure cluster: librdkafka's names (brook and kcat -F), and Java's. */
function writeClientConfigs(passwords) {
  writePrivate(
    path.join(base, 'client.properties'),
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanisms=SCRAM-SHA-512',
      'sasl.username=admin',
      `sasl.password=${passwords.admin}`,
      `ssl.ca.location=${caFile}`,
      '',
    ].join('\n'),
  );
  writePrivate(
    path.join(base, 'client-java.properties'),
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${passwords.admin}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${caFile}`,
      '',
    ].join('\n'),
  );
}

async function start() {
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error('--nodes must be 1..9');
  fs.mkdirSync(base, { recursive: true });
  if (fs.existsSync(pidFile)) throw new Error(`${pidFile} exists: the cluster may be running (run stop first)`);
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const secretFile = path.join(base, 'cluster.properties');
  if (!fs.existsSync(secretFile))
    fs.writeFileSync(secretFile, `brook.controller.cluster.secret=${randomBytes(32).toString('hex')}\n`, {
      mode: 0o600,
    });
  const voters = ids.map((id) => `${id}@127.0.0.1:${controllerBase + 100 * (id - 1)}`).join(',');
  let passwords = null;
  if (secure) {
    makeCertificates(ids);
    passwords = securePasswords();
    writeClientConfigs(passwords);
  }
  const secretLine = fs
    .readFileSync(secretFile, 'utf8')
    .split('\n')
    .find((line) => line.startsWith('brook.controller.cluster.secret='));
  const pids = {};
  for (const id of ids) {
    const log = fs.openSync(path.join(base, `node-${id}.log`), 'a');
    // Secure nodes name their listeners in their config file (listeners, not --listen).
    const addresses = secure
      ? ['--config', secureNodeConfig(id, ids, secretLine, passwords)]
      : [
          '--listen',
          `127.0.0.1:${kafkaBase + 100 * (id - 1)}`,
          '--controller-listen',
          `127.0.0.1:${controllerBase + 100 * (id - 1)}`,
          '--config',
          secretFile,
        ];
    const child = spawn(
      process.execPath,
      [
        brook,
        'server',
        '--node-id',
        String(id),
        ...addresses,
        '--voters',
        voters,
        '--http',
        'off',
        '--data-dir',
        path.join(base, `node-${id}`),
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.unref();
    pids[id] = child.pid;
  }
  fs.writeFileSync(pidFile, JSON.stringify(pids));
  const deadline = Date.now() + 60000;
  for (const id of ids) {
    while (!(await probe(kafkaBase + 100 * (id - 1)))) {
      if (Date.now() > deadline)
        throw new Error(`node ${id} not ready within 60 s; see ${path.join(base, `node-${id}.log`)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  console.log(
    `cluster of ${count} up: bootstrap ${ids.map((id) => `127.0.0.1:${kafkaBase + 100 * (id - 1)}`).join(',')}`,
  );
  const commandConfig = secure ? ` --command-config ${path.join(base, 'client.properties')}` : '';
  console.log(
    // On the secure cluster the controller port wants a node's certificate as well: node 1's config carries it.
    `status: npx brook cluster status --bootstrap 127.0.0.1:${kafkaBase} --controller 127.0.0.1:${controllerBase} --config ${secure ? path.join(base, 'node-1.properties') : secretFile}${commandConfig}`,
  );
  if (secure) {
    console.log('SASL_SSL with SCRAM-SHA-512, user admin (passwords in users.properties, mode 0600):');
    console.log(`  brook: npx brook topics list --bootstrap 127.0.0.1:${kafkaBase}${commandConfig}`);
    console.log(`         (or export BROOK_COMMAND_CONFIG=${path.join(base, 'client.properties')})`);
    console.log(`  kcat:  kcat -F ${path.join(base, 'client.properties')} -b 127.0.0.1:${kafkaBase} -L`);
    console.log(
      `  Kafka tools: kafka-topics.sh --bootstrap-server 127.0.0.1:${kafkaBase} --command-config ${path.join(base, 'client-java.properties')} --list`,
    );
    console.log(`  CA certificate: ${caFile}`);
  }
}

async function stop() {
  if (!fs.existsSync(pidFile)) {
    console.log('no cluster recorded here');
    return;
  }
  const pids = JSON.parse(fs.readFileSync(pidFile, 'utf8'));
  for (const [id, pid] of Object.entries(pids)) {
    try {
      process.kill(pid, 'SIGTERM');
      console.log(`node ${id} (pid ${pid}): SIGTERM`);
    } catch {
      console.log(`node ${id} (pid ${pid}): not running`);
    }
  }
  const deadline = Date.now() + 20000;
  for (const pid of Object.values(pids)) {
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        break;
      }
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(pidFile);
}

async function status() {
  const pids = fs.existsSync(pidFile) ? JSON.parse(fs.readFileSync(pidFile, 'utf8')) : {};
  for (const [id, pid] of Object.entries(pids)) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    console.log(
      `node ${id}: pid ${pid} ${alive ? 'running' : 'not running'}, kafka 127.0.0.1:${kafkaBase + 100 * (id - 1)}`,
    );
  }
}

const verbs = { start, stop, status };
if (!verbs[verb]) {
  console.error(
    'usage: node scripts/cluster.js start|stop|status [--base DIR] [--nodes N] [--kafka-port P] [--controller-port P] [--secure]',
  );
  process.exit(2);
}
verbs[verb]().catch((error) => {
  console.error(`cluster: ${error.message}`);
  process.exit(1);
});
