// The DNS-rebinding guard of the HTTP listener: a request's Host header must name this node
// (brook.http.allowed.hosts). A web page on an attacker's domain whose name is re-pointed at
// 127.0.0.1 reaches the listener from the operator's browser as same-origin, but its
// requests still carry the attacker's host name, and are refused here.

import * as os from 'node:os';
import { ConfigError } from '../config/config';

export const ALLOWED_HOSTS_KEY = 'brook.http.allowed.hosts';

/** Names always allowed by default: this machine's loopback names. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

export class HostGuard {
  /** Lower-case host names without ports or IPv6 brackets; null allows any (the value "*"). */
  readonly allowed: ReadonlySet<string> | null;

  constructor(allowed: Iterable<string> | null) {
    this.allowed = allowed === null ? null : new Set([...allowed].map((h) => normalizeHost(h)));
  }

  /**
   * From brook.http.allowed.hosts when set ("*" allows any host); otherwise the bound
   * address, the loopback names, the advertised host, and when bound to every address this
   * machine's host name and interface addresses.
   */
  static fromConfig(value: string | undefined, bindHost: string, advertisedHost: string | null): HostGuard {
    if (value !== undefined) {
      const names = value
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '');
      if (names.length === 0) throw new ConfigError(`${ALLOWED_HOSTS_KEY}: name at least one host, or "*"`);
      if (names.includes('*')) return new HostGuard(null);
      for (const name of names)
        if (!/^[A-Za-z0-9.\-:[\]]+$/.test(name))
          throw new ConfigError(`${ALLOWED_HOSTS_KEY}: "${name}" is not a host name`);
      return new HostGuard(names);
    }
    const names = [...LOOPBACK_NAMES];
    if (!isWildcardHost(bindHost)) names.push(bindHost);
    else {
      names.push(os.hostname());
      for (const addresses of Object.values(os.networkInterfaces()))
        for (const address of addresses ?? []) names.push(address.address);
    }
    if (advertisedHost) names.push(advertisedHost);
    return new HostGuard(names);
  }

  /** Whether a Host header names this node. A missing header is refused (HTTP/1.1 requires it). */
  allows(hostHeader: string | undefined): boolean {
    if (this.allowed === null) return true;
    if (hostHeader === undefined || hostHeader.length > 300) return false;
    return this.allowed.has(normalizeHost(stripPort(hostHeader)));
  }
}

/** The host of a Host header value: "[::1]:8080" is ::1, "a.b:80" is a.b. */
export function stripPort(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    return end < 0 ? v : v.slice(1, end);
  }
  const colons = v.split(':').length - 1;
  // More than one colon without brackets is a bare IPv6 address, which has no port.
  return colons === 1 ? v.slice(0, v.indexOf(':')) : v;
}

function normalizeHost(host: string): string {
  return host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}
