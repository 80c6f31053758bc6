// Client security settings by the names Kafka clients use: Java's (security.protocol,
// sasl.jaas.config, ssl.truststore.*, ssl.keystore.*) and librdkafka's (sasl.username,
// ssl.ca.location, ssl.certificate.location), read into one ClientSecurity that a
// KafkaConnection applies. Also the broker's own client settings for its inter-broker and
// controller connections, derived from its listener configuration as Kafka derives them.

import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { ConfigError, readConfigFile, type BrokerConfig } from '../config/config';
import { isSecurityProtocol, usesSasl, usesTls, type SecurityProtocol } from './principal';
import { CLIENT_SASL_MECHANISMS, isClientSaslMechanism, type ClientSasl } from './sasl-client';
import { parseTlsSettings, TlsMaterial } from './tls';

export type { ClientSasl } from './sasl-client';

/** TLS settings of a client connection; certificates and keys as PEM text. */
export interface ClientTls {
  /** Trusted CA certificates; absent: Node's default trust store. */
  ca?: string;
  /** The client's certificate chain, for brokers that ask for one (ssl.client.auth). */
  cert?: string;
  key?: string;
  /** Decrypts an encrypted `key` (ssl.key.password). */
  passphrase?: string;
  /** SNI and the name checked against the certificate; default: the host connected to. */
  servername?: string;
  /**
   * Check that the broker's certificate names the host (ssl.endpoint.identification.algorithm
   * "https", the default); false only skips the name check, never the chain check.
   */
  checkHostname?: boolean;
  /**
   * TLS options from a TlsMaterial (the broker's own client: its listener's ssl.* keys, with
   * their versions, ciphers and reloads); when set, the fields above other than
   * `servername` are not used.
   */
  material?: { clientOptions(servername?: string): tls.ConnectionOptions };
  /**
   * A further check of the verified server (the controller port's: its certificate's
   * principal must be a cluster principal); an Error refuses the connection with it.
   */
  verifyServer?: (socket: tls.TLSSocket) => Error | null;
}

export interface ClientSecurity {
  protocol: SecurityProtocol;
  /** For SSL and SASL_SSL. */
  tls?: ClientTls;
  /** For SASL_PLAINTEXT and SASL_SSL. */
  sasl?: ClientSasl;
  /** Why these settings cannot connect (a configuration problem found at start): connect() fails with it. */
  unavailable?: string;
}

export const PLAINTEXT_CLIENT: ClientSecurity = Object.freeze({ protocol: 'PLAINTEXT' });

/** Largest PEM file read (a trust store of many CAs fits easily). */
const PEM_FILE_BYTES_MAX = 1024 * 1024;
/** Largest sasl.jaas.config value parsed. */
const JAAS_CHARS_MAX = 64 * 1024;

// ---------------------------------------------------------------------------------------
// sasl.jaas.config

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

/**
 * Parses a JAAS configuration as Java clients write it in sasl.jaas.config:
 * `<LoginModule class> <flag> key="value" key=value ...;` (Kafka takes exactly one entry).
 * Errors name the position, never the text (which holds a password).
 */
export function parseJaasConfig(text: string, what: string): JaasEntry {
  if (text.length > JAAS_CHARS_MAX) throw new ConfigError(`${what}: longer than ${JAAS_CHARS_MAX} characters`);
  let at = 0;
  const fail = (why: string): never => {
    throw new ConfigError(`${what}: ${why} at character ${at + 1}`);
  };
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const word = (): string => {
    skipSpace();
    const start = at;
    while (at < text.length && /[A-Za-z0-9_.$\-]/.test(text[at])) at++;
    if (at === start) fail('expected a name');
    return text.slice(start, at);
  };
  const value = (): string => {
    skipSpace();
    if (text[at] !== '"') {
      const start = at;
      while (at < text.length && !/[\s;"=]/.test(text[at])) at++;
      if (at === start) fail('expected a value');
      return text.slice(start, at);
    }
    let out = '';
    at++;
    for (;;) {
      if (at >= text.length) fail('unterminated quoted value');
      const c = text[at++];
      if (c === '"') return out;
      if (c === '\\') {
        if (at >= text.length) fail('unterminated quoted value');
        out += text[at++];
      } else out += c;
    }
  };
  const loginModule = word();
  const flag = word().toLowerCase();
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag))
    fail('expected the control flag (required, requisite, sufficient or optional)');
  const options = new Map<string, string>();
  for (;;) {
    skipSpace();
    if (at >= text.length) fail('expected ";" at the end of the entry');
    if (text[at] === ';') {
      at++;
      break;
    }
    const key = word();
    skipSpace();
    if (text[at] !== '=') fail(`expected "=" after option ${key}`);
    at++;
    options.set(key, value());
  }
  skipSpace();
  if (at < text.length) fail('only one login module entry is accepted');
  return { loginModule, flag, options };
}

const LOGIN_MODULES: Record<string, string> = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
};

/** Username and password from a PlainLoginModule or ScramLoginModule entry for `mechanism`. */
function jaasCredentials(text: string, mechanism: string, what: string): { username: string; password: string } {
  const entry = parseJaasConfig(text, what);
  const expected = LOGIN_MODULES[mechanism];
  if (!expected) throw new ConfigError(`${what}: not used for sasl.mechanism ${mechanism}`);
  const simple = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  if (entry.loginModule !== expected && simple(entry.loginModule) !== simple(expected))
    throw new ConfigError(`${what}: sasl.mechanism ${mechanism} needs ${expected}, not ${entry.loginModule}`);
  const username = entry.options.get('username');
  const password = entry.options.get('password');
  if (!username || password === undefined) throw new ConfigError(`${what}: username and password options are required`);
  return { username, password };
}

// ---------------------------------------------------------------------------------------
// Files

/** A PEM file's text, bounded; `key` names the setting in errors. */
export function readPemFile(file: string, key: string): string {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > PEM_FILE_BYTES_MAX) throw new ConfigError(`${key}: ${file} is larger than ${PEM_FILE_BYTES_MAX} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!text.includes('-----BEGIN '))
    throw new ConfigError(`${key}: ${file} is not PEM (Brook reads PEM files only, not JKS or PKCS12)`);
  return text;
}

function pemValue(text: string, key: string): string {
  if (!text.includes('-----BEGIN ')) throw new ConfigError(`${key}: not PEM text`);
  // Java properties files often hold PEM on one line with literal "\n".
  return text.replace(/\\n/g, '\n');
}

/** The PEM blocks of one kind in a text (a PEM keystore holds the key and the chain together). */
function pemBlocks(text: string, kind: RegExp): string {
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  return blocks.filter((block) => kind.test(block.slice(11, block.indexOf('-----', 11)))).join('\n');
}

// ---------------------------------------------------------------------------------------
// Client settings

/**
 * A ClientSecurity from Kafka client settings. Keys it does not know are ignored (a client
 * properties file holds other settings too). Throws ConfigError naming the key; secret
 * values never appear in a message.
 */
export function parseClientSecurity(keys: Record<string, string>, what = 'client config'): ClientSecurity {
  const get = (key: string): string | undefined => {
    const value = keys[key];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const protocolText = (get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!isSecurityProtocol(protocolText))
    throw new ConfigError(
      `${what}: security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "${protocolText.slice(0, 40)}"`,
    );
  const security: ClientSecurity = { protocol: protocolText };
  if (usesTls(protocolText)) security.tls = parseClientTls(keys, what);
  if (usesSasl(protocolText)) security.sasl = parseClientSasl(keys, what);
  return security;
}

function parseClientSasl(keys: Record<string, string>, what: string): ClientSasl {
  const get = (key: string) => (keys[key] === undefined || keys[key].trim() === '' ? undefined : keys[key].trim());
  // librdkafka spells it sasl.mechanisms; Kafka's default (GSSAPI) is not spoken here.
  const mechanism = (get('sasl.mechanism') ?? get('sasl.mechanisms'))?.toUpperCase();
  if (mechanism === undefined)
    throw new ConfigError(`${what}: sasl.mechanism is required for SASL (${CLIENT_SASL_MECHANISMS.join(', ')})`);
  if (!isClientSaslMechanism(mechanism))
    throw new ConfigError(
      `${what}: sasl.mechanism ${mechanism.slice(0, 40)} is not supported (${CLIENT_SASL_MECHANISMS.join(', ')})`,
    );
  if (mechanism === 'OAUTHBEARER') {
    const token = get('sasl.oauthbearer.token');
    const tokenFile = get('sasl.oauthbearer.token.file');
    if ((token === undefined) === (tokenFile === undefined))
      throw new ConfigError(`${what}: OAUTHBEARER needs one of sasl.oauthbearer.token or sasl.oauthbearer.token.file`);
    if (token !== undefined) return { mechanism, token };
    // Read at every (re)authentication, so a token refreshed on disk is picked up.
    return { mechanism, token: () => readTokenFile(tokenFile!) };
  }
  const jaas = get('sasl.jaas.config');
  const username = keys['sasl.username'];
  const password = keys['sasl.password'];
  if (jaas !== undefined) {
    if (username !== undefined || password !== undefined)
      throw new ConfigError(`${what}: set sasl.jaas.config or sasl.username/sasl.password, not both`);
    return { mechanism, ...jaasCredentials(jaas, mechanism, `${what}: sasl.jaas.config`) };
  }
  if (!username || password === undefined)
    throw new ConfigError(`${what}: ${mechanism} needs sasl.username and sasl.password (or sasl.jaas.config)`);
  return { mechanism, username, password };
}

/** Largest OAUTHBEARER token file read. */
const TOKEN_FILE_BYTES_MAX = 64 * 1024;

function readTokenFile(file: string): string {
  try {
    if (fs.statSync(file).size > TOKEN_FILE_BYTES_MAX) throw new Error('too large');
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(
      `sasl.oauthbearer.token.file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseClientTls(keys: Record<string, string>, what: string): ClientTls {
  const get = (key: string) => (keys[key] === undefined || keys[key].trim() === '' ? undefined : keys[key].trim());
  const tls: ClientTls = {};
  const only = (names: string[]): string | undefined => {
    const set = names.filter((name) => get(name) !== undefined);
    if (set.length > 1) throw new ConfigError(`${what}: ${set.join(' and ')} say the same thing: set one`);
    return set[0];
  };

  const caKey = only(['ssl.ca.location', 'ssl.ca.pem', 'ssl.truststore.location', 'ssl.truststore.certificates']);
  if (caKey !== undefined) {
    if (caKey.startsWith('ssl.truststore.')) requirePemType(keys, 'ssl.truststore.type', what);
    const text = caKey.endsWith('.location') ? readPemFile(get(caKey)!, caKey) : pemValue(get(caKey)!, caKey);
    const ca = pemBlocks(text, /CERTIFICATE/);
    if (!ca) throw new ConfigError(`${what}: ${caKey} holds no certificate`);
    tls.ca = ca;
  }

  const certKey = only([
    'ssl.certificate.location',
    'ssl.certificate.pem',
    'ssl.keystore.location',
    'ssl.keystore.certificate.chain',
  ]);
  const keyKey = only(['ssl.key.location', 'ssl.key.pem', 'ssl.keystore.key']);
  if (certKey === 'ssl.keystore.location') {
    // A PEM keystore file holds the private key and the certificate chain together.
    requirePemType(keys, 'ssl.keystore.type', what);
    if (keyKey !== undefined)
      throw new ConfigError(`${what}: ssl.keystore.location already holds the key: drop ${keyKey}`);
    const text = readPemFile(get(certKey)!, certKey);
    tls.cert = pemBlocks(text, /CERTIFICATE/);
    tls.key = pemBlocks(text, /PRIVATE KEY/);
    if (!tls.cert || !tls.key)
      throw new ConfigError(`${what}: ssl.keystore.location must hold a private key and its certificate`);
  } else if (certKey !== undefined || keyKey !== undefined) {
    if (certKey === undefined || keyKey === undefined)
      throw new ConfigError(`${what}: a client certificate needs both a certificate and its key`);
    if (certKey === 'ssl.keystore.certificate.chain' || keyKey === 'ssl.keystore.key')
      requirePemType(keys, 'ssl.keystore.type', what);
    const certText = certKey.endsWith('.location')
      ? readPemFile(get(certKey)!, certKey)
      : pemValue(get(certKey)!, certKey);
    const keyText = keyKey.endsWith('.location') ? readPemFile(get(keyKey)!, keyKey) : pemValue(get(keyKey)!, keyKey);
    tls.cert = pemBlocks(certText, /CERTIFICATE/);
    tls.key = pemBlocks(keyText, /PRIVATE KEY/);
    if (!tls.cert) throw new ConfigError(`${what}: ${certKey} holds no certificate`);
    if (!tls.key) throw new ConfigError(`${what}: ${keyKey} holds no private key`);
  }
  const password = keys['ssl.key.password'];
  if (password !== undefined && password !== '') {
    if (!tls.key) throw new ConfigError(`${what}: ssl.key.password is set but no key is`);
    tls.passphrase = password;
  }

  const algorithm = keys['ssl.endpoint.identification.algorithm'];
  if (algorithm !== undefined) {
    const value = algorithm.trim().toLowerCase();
    if (value !== '' && value !== 'https' && value !== 'none')
      throw new ConfigError(
        `${what}: ssl.endpoint.identification.algorithm must be https or empty, got "${algorithm.slice(0, 40)}"`,
      );
    tls.checkHostname = value === 'https';
  }
  const servername = get('brook.ssl.servername');
  if (servername !== undefined) tls.servername = servername;
  return tls;
}

function requirePemType(keys: Record<string, string>, typeKey: string, what: string): void {
  const type = keys[typeKey]?.trim().toUpperCase();
  if (type !== undefined && type !== '' && type !== 'PEM')
    throw new ConfigError(`${what}: ${typeKey} ${type.slice(0, 20)} is not read here: Brook reads PEM only`);
}

/**
 * The client settings of a properties file (`--command-config`): Kafka's key=value format
 * (or a flat JSON object), read by the same reader as broker config files.
 */
export function readClientSecurityFile(file: string): ClientSecurity {
  let keys: Record<string, string>;
  try {
    keys = readConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.message.replace(/^--config:/, '--command-config:'));
    throw error;
  }
  return parseClientSecurity(keys, file);
}

// ---------------------------------------------------------------------------------------
// The broker as a client

/** Kafka's default listener.security.protocol.map: each protocol's own name. */
function protocolMap(keys: Record<string, string>): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  const text = keys['listener.security.protocol.map'];
  if (text === undefined || text.trim() === '') {
    for (const protocol of ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const) map.set(protocol, protocol);
    return map;
  }
  for (const entry of text.split(',')) {
    const [name, protocol] = entry.split(':').map((part) => part.trim().toUpperCase());
    if (!name || !protocol || !isSecurityProtocol(protocol))
      throw new ConfigError(`listener.security.protocol.map: "${entry.trim().slice(0, 60)}" is not NAME:PROTOCOL`);
    map.set(name, protocol);
  }
  return map;
}

/** The listener names of `listeners` (NAME://host:port,...), in order. */
function listenerNames(keys: Record<string, string>): string[] {
  return (keys.listeners ?? '')
    .split(',')
    .map((entry) => /^\s*([A-Za-z0-9_]+):\/\//.exec(entry)?.[1]?.toUpperCase())
    .filter((name): name is string => name !== undefined);
}

/** The inter-broker listener's name and protocol, as Kafka picks them. */
export function interBrokerListener(keys: Record<string, string>): { name: string; protocol: SecurityProtocol } {
  const map = protocolMap(keys);
  const byName = keys['inter.broker.listener.name']?.trim().toUpperCase();
  const byProtocol = keys['security.inter.broker.protocol']?.trim().toUpperCase();
  if (byName && byProtocol)
    throw new ConfigError('inter.broker.listener.name and security.inter.broker.protocol: set one, not both');
  let name: string;
  if (byName) name = byName;
  else if (byProtocol) name = byProtocol;
  else {
    // Kafka's default is PLAINTEXT; with a single listener that is not PLAINTEXT, that one.
    const names = listenerNames(keys);
    name = names.length === 1 ? names[0] : 'PLAINTEXT';
  }
  const protocol = map.get(name);
  if (!protocol) throw new ConfigError(`inter-broker listener ${name} has no entry in listener.security.protocol.map`);
  return { name, protocol };
}

/** The keys a listener sees: listener.name.<name>.<key> over <key>, as Kafka resolves them. */
function listenerKeys(keys: Record<string, string>, listener: string): Record<string, string> {
  const view: Record<string, string> = {};
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  for (const [key, value] of Object.entries(keys)) if (!key.startsWith('listener.name.')) view[key] = value;
  for (const [key, value] of Object.entries(keys))
    if (key.toLowerCase().startsWith(prefix)) view[key.slice(prefix.length)] = value;
  return view;
}

/**
 * The ssl.* view of a listener's keys as client TLS, read as the listener itself reads them
 * (src/security/tls.ts): its trust store, its key store as the client certificate, its
 * protocol versions and ciphers, and ssl.endpoint.identification.algorithm.
 */
function brokerClientTls(view: Record<string, string>, what: string): ClientTls {
  return { material: new TlsMaterial(parseTlsSettings(view, what)) };
}

/** What the broker's client settings are derived from: its raw security keys, and its parsed listeners when known. */
export interface BrokerClientConfig extends Pick<BrokerConfig, 'securityKeys'> {
  listeners?: {
    broker: { name: string; securityProtocol: SecurityProtocol }[];
    interBrokerListenerName: string;
    controller: { name: string; securityProtocol: SecurityProtocol };
  };
}

/**
 * The broker's client settings for connections to other brokers' inter-broker listener
 * (follower fetches, forwarded admin requests): Kafka's derivation. The protocol is the
 * inter-broker listener's; SASL uses sasl.mechanism.inter.broker.protocol with the
 * username and password of listener.name.<l>.<mechanism>.sasl.jaas.config (or
 * sasl.jaas.config); TLS uses the listener's trust store, and its key store as the
 * client certificate.
 */
export function interBrokerClientSecurity(config: BrokerClientConfig): ClientSecurity {
  const keys = config.securityKeys;
  const parsed = config.listeners;
  const known = parsed?.broker.find((l) => l.name === parsed.interBrokerListenerName);
  const listener = known ? { name: known.name, protocol: known.securityProtocol } : interBrokerListener(keys);
  const what = `inter-broker listener ${listener.name}`;
  const view = listenerKeys(keys, listener.name);
  const security: ClientSecurity = { protocol: listener.protocol };
  if (usesTls(listener.protocol)) security.tls = brokerClientTls(view, what);
  if (usesSasl(listener.protocol)) {
    const mechanism = keys['sasl.mechanism.inter.broker.protocol']?.trim().toUpperCase();
    if (!mechanism)
      throw new ConfigError(
        `${what} uses SASL: set sasl.mechanism.inter.broker.protocol (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)`,
      );
    if (!LOGIN_MODULES[mechanism])
      throw new ConfigError(
        `${what}: sasl.mechanism.inter.broker.protocol ${mechanism.slice(0, 40)} is not supported between brokers`,
      );
    const jaasKey = `${mechanism.toLowerCase()}.sasl.jaas.config`;
    const jaas = view[jaasKey] ?? view['sasl.jaas.config'];
    if (jaas === undefined)
      throw new ConfigError(
        `${what}: set listener.name.${listener.name.toLowerCase()}.${jaasKey} with this broker's username and password`,
      );
    security.sasl = {
      mechanism: mechanism as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
      ...jaasCredentials(jaas, mechanism, `listener.name.${listener.name.toLowerCase()}.${jaasKey}`),
    };
  }
  return security;
}

/**
 * The broker's client settings for other nodes' controller ports: the TLS part of the
 * first controller.listener.names listener's protocol (the controller port authenticates
 * peers with the cluster secret's handshake, not SASL). Plaintext when none is named.
 */
export function controllerClientSecurity(config: BrokerClientConfig): ClientSecurity {
  const keys = config.securityKeys;
  const name = keys['controller.listener.names']?.split(',')[0]?.trim().toUpperCase();
  if (!name) return PLAINTEXT_CLIENT;
  const known = config.listeners?.controller;
  if (known && known.name === name)
    return usesTls(known.securityProtocol)
      ? { protocol: 'SSL', tls: brokerClientTls(listenerKeys(keys, name), `controller listener ${name}`) }
      : PLAINTEXT_CLIENT;
  // As Kafka does: without an explicit map, a controller listener is PLAINTEXT.
  const explicit = (keys['listener.security.protocol.map'] ?? '').trim() !== '';
  const protocol = protocolMap(keys).get(name) ?? (explicit ? undefined : 'PLAINTEXT');
  if (!protocol) throw new ConfigError(`controller listener ${name} has no entry in listener.security.protocol.map`);
  if (!usesTls(protocol)) return PLAINTEXT_CLIENT;
  return { protocol: 'SSL', tls: brokerClientTls(listenerKeys(keys, name), `controller listener ${name}`) };
}

/** A short, secret-free description for logs: "SASL_SSL (SCRAM-SHA-512 as admin)". */
export function describeClientSecurity(security: ClientSecurity): string {
  const sasl = security.sasl;
  if (!sasl) return security.protocol;
  return `${security.protocol} (${sasl.mechanism}${'username' in sasl ? ` as ${sasl.username}` : ''})`;
}
