// Kafka's listener configuration: the named listeners a node binds (`listeners`), what it
// tells clients and other brokers about each (`advertised.listeners`), the security
// protocol of each name (`listener.security.protocol.map`), which one other brokers use
// (`inter.broker.listener.name`, or the legacy `security.inter.broker.protocol`), which one
// is the controller port (`controller.listener.names`), and each listener's own ssl.* and
// sasl.* keys (`listener.name.<name>.<key>` over the plain key). Parsed once at start; every
// mistake is a ConfigError with one line naming the key, as Kafka refuses such configs.
// The SASL mechanisms of SASL listeners are checked in src/security/listeners.ts (which
// knows the mechanisms), before the node opens anything.
//
// `--listen`, `--advertise` and `--controller-listen` remain shorthands: one PLAINTEXT
// listener named PLAINTEXT, its advertised address, and a controller listener named
// CONTROLLER.

import * as os from 'node:os';
import { ConfigError, parseHostPort, type HostPort } from './config';

/**
 * Kafka's security protocols: the same names as LISTENER_PROTOCOLS of
 * src/security/principal.ts (configuration sits below security, so it names them itself;
 * a test checks that the two lists agree).
 */
export const LISTENER_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

function isListenerProtocol(value: string): value is ListenerProtocol {
  return (LISTENER_PROTOCOLS as readonly string[]).includes(value);
}

/** Kafka's default listener.security.protocol.map: each protocol's name maps to itself. */
export const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

/**
 * The name under which this node's controller listener is registered in the metadata (the
 * broker's registration carries it so that the quorum leader can reach an observer). A
 * broker listener may not use it.
 */
export const CONTROLLER_ENDPOINT_NAME = 'CONTROLLER';

export interface ListenerEndpoint {
  /** Upper case, as Kafka normalises listener names. */
  name: string;
  host: string;
  port: number;
  securityProtocol: ListenerProtocol;
}

export interface AdvertisedListener extends ListenerEndpoint {
  /**
   * True when advertised.listeners does not name this listener: it advertises its own
   * address, and a listener bound to port 0 advertises the port it actually bound.
   */
  fromListener: boolean;
}

export interface ListenerConfig {
  /** The broker listeners this node binds (not the controller listener), in the order given. */
  broker: ListenerEndpoint[];
  /** What each broker listener advertises, in the same order. */
  advertised: AdvertisedListener[];
  /** The controller listener this node binds (the first of controller.listener.names). */
  controller: ListenerEndpoint;
  /** controller.listener.names as given (upper case); the shorthand's is CONTROLLER. */
  controllerListenerNames: string[];
  /** The broker listener other brokers connect to (replication, forwarding, the HTTP API). */
  interBrokerListenerName: string;
}

/** The shorthand flags (or their config-file keys) as given, before parsing. */
export interface ListenerShorthands {
  listen?: string;
  advertise?: string;
  controllerListen?: string;
}

const NAME = /^[A-Z0-9_]+$/;
const WILDCARD_HOSTS = ['', '0.0.0.0', '::'];

/** A listener bound to every interface: the address to advertise must come from elsewhere. */
export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.includes(host);
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** listener.security.protocol.map: NAME:PROTOCOL[,...], names upper-cased as Kafka does. */
export function parseProtocolMap(value: string): Map<string, ListenerProtocol> {
  const what = 'listener.security.protocol.map';
  const map = new Map<string, ListenerProtocol>();
  for (const part of splitList(value)) {
    const at = part.indexOf(':');
    if (at <= 0) throw new ConfigError(`${what}: expected NAME:PROTOCOL[,...], got "${part}"`);
    const name = part.slice(0, at).trim().toUpperCase();
    const protocol = part
      .slice(at + 1)
      .trim()
      .toUpperCase();
    if (!NAME.test(name)) throw new ConfigError(`${what}: "${part.slice(0, at)}" is not a listener name (A-Z, 0-9, _)`);
    if (!isListenerProtocol(protocol))
      throw new ConfigError(
        `${what}: unknown security protocol "${part.slice(at + 1).trim()}" for ${name} (expected one of ${LISTENER_PROTOCOLS.join(', ')})`,
      );
    if (map.has(name)) throw new ConfigError(`${what}: ${name} appears twice`);
    map.set(name, protocol);
  }
  return map;
}

/** One NAME://HOST:PORT entry (IPv6 hosts in brackets; an empty host binds every interface). */
function parseEntry(part: string, what: string): { name: string; host: string; port: number } {
  const match = /^([^:/]*):\/\/(\[[^\]]*\]|[^:/\[\]]*):(\d{1,5})$/.exec(part);
  if (!match || Number(match[3]) > 65535)
    throw new ConfigError(`${what}: expected NAME://HOST:PORT[,...] with a port 0-65535, got "${part}"`);
  const name = match[1].toUpperCase();
  if (!NAME.test(name)) throw new ConfigError(`${what}: "${match[1]}" is not a listener name (A-Z, 0-9, _)`);
  return { name, host: match[2].replace(/^\[|\]$/g, ''), port: Number(match[3]) };
}

function parseEntries(
  value: string,
  what: string,
  protocols: Map<string, ListenerProtocol>,
  distinctPorts: boolean,
): ListenerEndpoint[] {
  const entries: ListenerEndpoint[] = [];
  for (const part of splitList(value)) {
    const entry = parseEntry(part, what);
    const securityProtocol = protocols.get(entry.name);
    if (!securityProtocol)
      throw new ConfigError(
        `${what}: listener ${entry.name} has no security protocol in listener.security.protocol.map`,
      );
    if (entries.some((e) => e.name === entry.name))
      throw new ConfigError(`${what}: listener name ${entry.name} appears twice (names are case-insensitive)`);
    // Port 0 (pick a free port) may repeat, as Kafka allows it for tests.
    if (distinctPorts && entry.port !== 0 && entries.some((e) => e.port === entry.port))
      throw new ConfigError(`${what}: port ${entry.port} is used by two listeners; each listener needs its own port`);
    entries.push({ ...entry, securityProtocol });
  }
  if (entries.length === 0) throw new ConfigError(`${what}: names no listener`);
  return entries;
}

/**
 * Parses the listener keys of `keys` (BrokerConfig.securityKeys and advertised.listeners)
 * together with the shorthand flags. Throws ConfigError on any inconsistency.
 */
export function parseListenerConfig(keys: Record<string, string>, shorthands: ListenerShorthands = {}): ListenerConfig {
  const explicitMap = keys['listener.security.protocol.map'] !== undefined;
  const protocols = parseProtocolMap(keys['listener.security.protocol.map'] ?? DEFAULT_PROTOCOL_MAP);
  const listenersValue = keys['listeners'];
  if (listenersValue !== undefined && shorthands.listen !== undefined)
    throw new ConfigError('listeners and --listen (listen): set one, not both');
  const namesValue = keys['controller.listener.names'];
  if (namesValue !== undefined && shorthands.controllerListen !== undefined)
    throw new ConfigError('controller.listener.names and --controller-listen (controller.listen): set one, not both');
  const controllerListenerNames = namesValue !== undefined ? splitList(namesValue).map((n) => n.toUpperCase()) : [];
  if (namesValue !== undefined && controllerListenerNames.length === 0)
    throw new ConfigError('controller.listener.names: names no listener');
  for (const name of controllerListenerNames)
    if (!NAME.test(name))
      throw new ConfigError(`controller.listener.names: "${name}" is not a listener name (A-Z, 0-9, _)`);
  if (namesValue !== undefined && listenersValue === undefined)
    throw new ConfigError('controller.listener.names: needs listeners to give the controller listener its address');
  // As Kafka does when the map is not set: controller listeners default to PLAINTEXT.
  if (!explicitMap)
    for (const name of controllerListenerNames) if (!protocols.has(name)) protocols.set(name, 'PLAINTEXT');

  let all: ListenerEndpoint[];
  if (listenersValue !== undefined) {
    all = parseEntries(listenersValue, 'listeners', protocols, true);
  } else {
    const listen = parseHostPort(shorthands.listen ?? '127.0.0.1:9092', '--listen');
    all = [{ name: 'PLAINTEXT', ...listen, securityProtocol: 'PLAINTEXT' }];
  }

  let controller: ListenerEndpoint;
  if (controllerListenerNames.length > 0) {
    const first = all.find((l) => l.name === controllerListenerNames[0]);
    if (!first)
      throw new ConfigError(
        `controller.listener.names: ${controllerListenerNames[0]} is not among listeners (the controller listener needs an address there)`,
      );
    const extra = controllerListenerNames.slice(1).find((name) => all.some((l) => l.name === name));
    if (extra)
      throw new ConfigError(
        `controller.listener.names: Brook binds one controller listener (the first, ${first.name}); remove ${extra} from listeners`,
      );
    controller = first;
  } else {
    const address = parseHostPort(shorthands.controllerListen ?? '127.0.0.1:9093', '--controller-listen');
    controller = { name: CONTROLLER_ENDPOINT_NAME, ...address, securityProtocol: 'PLAINTEXT' };
  }
  // The controller port does not speak SASL: it authenticates members with the cluster
  // secret, or over TLS with their certificates (SASL_SSL is served as SSL).
  if (controller.securityProtocol === 'SASL_PLAINTEXT')
    throw new ConfigError(
      `listener.security.protocol.map: the controller listener ${controller.name} must be PLAINTEXT (authenticated with brook.controller.cluster.secret) or SSL (authenticated by client certificates), got SASL_PLAINTEXT`,
    );
  const broker = all.filter((l) => l !== controller && !controllerListenerNames.includes(l.name));
  if (broker.length === 0) throw new ConfigError('listeners: names no broker listener besides the controller listener');
  if (controller.port !== 0 && broker.some((l) => l.port === controller.port && l.host === controller.host))
    throw new ConfigError(
      `listeners: port ${controller.port} is used by a broker listener and the controller listener`,
    );
  const reserved = broker.find((l) => l.name === CONTROLLER_ENDPOINT_NAME);
  if (reserved)
    throw new ConfigError(
      `listeners: ${CONTROLLER_ENDPOINT_NAME} is a broker listener here but not in controller.listener.names; name broker listeners otherwise`,
    );

  const advertised = parseAdvertised(
    keys['advertised.listeners'],
    shorthands.advertise,
    broker,
    protocols,
    controllerListenerNames,
    controller,
  );
  const interBrokerListenerName = parseInterBroker(keys, broker);
  for (const listener of broker) {
    const resolved = resolvedListenerKeys(keys, listener.name);
    const tls = listener.securityProtocol === 'SSL' || listener.securityProtocol === 'SASL_SSL';
    if (tls && !hasKeystore(resolved))
      throw new ConfigError(
        `listener ${listener.name} (${listener.securityProtocol}): needs a keystore: set ssl.keystore.location or ssl.keystore.certificate.chain and ssl.keystore.key (or listener.name.${listener.name.toLowerCase()}.ssl.*)`,
      );
  }
  return {
    broker,
    advertised,
    controller,
    controllerListenerNames: controllerListenerNames.length > 0 ? controllerListenerNames : [controller.name],
    interBrokerListenerName,
  };
}

function hasKeystore(keys: Record<string, string>): boolean {
  const set = (key: string) => (keys[key] ?? '').trim() !== '';
  return set('ssl.keystore.location') || (set('ssl.keystore.certificate.chain') && set('ssl.keystore.key'));
}

function parseAdvertised(
  value: string | undefined,
  shorthand: string | undefined,
  broker: ListenerEndpoint[],
  protocols: Map<string, ListenerProtocol>,
  controllerListenerNames: string[],
  controller: ListenerEndpoint,
): AdvertisedListener[] {
  if (value !== undefined && shorthand !== undefined)
    throw new ConfigError('advertised.listeners and --advertise (brook.advertise): set one, not both');
  const given = value ?? shorthand;
  const what = value !== undefined ? 'advertised.listeners' : '--advertise';
  let entries: ListenerEndpoint[] = [];
  if (given !== undefined) {
    if (!given.includes('://')) {
      // HOST:PORT: the shorthand for a node with one broker listener.
      if (broker.length !== 1)
        throw new ConfigError(`${what}: HOST:PORT is only for a single listener; give NAME://HOST:PORT for each`);
      entries = [{ name: broker[0].name, ...parseHostPort(given, what), securityProtocol: broker[0].securityProtocol }];
    } else {
      entries = parseEntries(given, what, protocols, false);
    }
  }
  for (const entry of entries) {
    if (controllerListenerNames.includes(entry.name) || entry.name === controller.name)
      throw new ConfigError(`${what}: ${entry.name} is a controller listener, which is not advertised to clients`);
    if (!broker.some((l) => l.name === entry.name))
      throw new ConfigError(`${what}: ${entry.name} is not one of listeners`);
    if (entry.port === 0) throw new ConfigError(`${what}: the advertised port of ${entry.name} must not be 0`);
    if (isWildcardHost(entry.host))
      throw new ConfigError(
        `${what}: ${entry.name} advertises "${entry.host}", which clients cannot connect to; give a routable host`,
      );
  }
  return broker.map((listener) => {
    const entry = entries.find((e) => e.name === listener.name);
    if (entry) return { ...entry, fromListener: false };
    // Kafka advertises a listener without a host under the machine's host name.
    const host = isWildcardHost(listener.host) ? os.hostname() : listener.host;
    return { ...listener, host, fromListener: true };
  });
}

function parseInterBroker(keys: Record<string, string>, broker: ListenerEndpoint[]): string {
  const byName = keys['inter.broker.listener.name'];
  const byProtocol = keys['security.inter.broker.protocol'];
  if (byName !== undefined && byProtocol !== undefined)
    throw new ConfigError('inter.broker.listener.name and security.inter.broker.protocol: set one, not both');
  if (byName !== undefined) {
    const name = byName.trim().toUpperCase();
    if (!broker.some((l) => l.name === name))
      throw new ConfigError(`inter.broker.listener.name: ${name} is not one of the broker listeners`);
    return name;
  }
  if (byProtocol !== undefined) {
    // Kafka: the listener named after the protocol.
    const protocol = byProtocol.trim().toUpperCase();
    if (!isListenerProtocol(protocol))
      throw new ConfigError(
        `security.inter.broker.protocol: unknown security protocol "${byProtocol}" (expected one of ${LISTENER_PROTOCOLS.join(', ')})`,
      );
    if (!broker.some((l) => l.name === protocol))
      throw new ConfigError(`security.inter.broker.protocol: no broker listener is named ${protocol}`);
    return protocol;
  }
  // Kafka's default is the PLAINTEXT listener; a node with a single listener uses it.
  if (broker.some((l) => l.name === 'PLAINTEXT')) return 'PLAINTEXT';
  if (broker.length === 1) return broker[0].name;
  throw new ConfigError(
    `inter.broker.listener.name: required with several listeners and none named PLAINTEXT (listeners: ${broker.map((l) => l.name).join(', ')})`,
  );
}

/**
 * The keys that apply per listener: ssl.*, sasl.*, the SASL connection keys, and Brook's
 * brook.sasl.* and brook.security.tls.*.
 */
function isPlainListenerKey(key: string): boolean {
  return (
    /^(ssl|sasl|brook\.sasl|brook\.security\.tls)\./.test(key) ||
    key === 'connections.max.reauth.ms' ||
    key === 'connection.failed.authentication.delay.ms'
  );
}

/**
 * The keys a listener may override under listener.name.<name>: those, and Kafka's
 * per-mechanism <mechanism>.sasl.* and <mechanism>.connections.max.reauth.ms.
 */
function isListenerKey(key: string): boolean {
  return isPlainListenerKey(key) || /^[a-z0-9-]+\.(sasl\.|connections\.max\.reauth\.ms$)/.test(key);
}

/**
 * The keys that apply to one listener (ssl.*, sasl.*, connections.max.reauth.ms,
 * connection.failed.authentication.delay.ms, brook.sasl.*, brook.security.tls.*):
 * `listener.name.<lower-case name>.<key>` wins over the plain key. Mechanism-specific keys
 * (`listener.name.<name>.<mechanism lower case>.sasl.jaas.config`,
 * `....<mechanism>.connections.max.reauth.ms`) keep their mechanism prefix:
 * `scram-sha-256.sasl.jaas.config`.
 */
export function resolvedListenerKeys(keys: Record<string, string>, listenerName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(keys)) if (isPlainListenerKey(key)) out[key] = value;
  const prefix = `listener.name.${listenerName.toLowerCase()}.`;
  for (const [key, value] of Object.entries(keys)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (isListenerKey(rest)) out[rest] = value;
  }
  return out;
}

/** The advertised endpoint of listener `name`, or undefined when this node has none by that name. */
export function advertisedListener(config: ListenerConfig, name: string): AdvertisedListener | undefined {
  return config.advertised.find((l) => l.name === name);
}

/** Where a local client reaches a listener: its own host, or loopback when it binds every interface. */
export function localAddress(listener: HostPort): HostPort {
  return { host: isWildcardHost(listener.host) ? '127.0.0.1' : listener.host, port: listener.port };
}
