// The console's login sessions: a random 32-byte id (CSPRNG) handed to the browser in an
// HttpOnly, SameSite=Strict cookie, and a bounded table of the sessions behind those ids.
// The table is keyed by a hash of the id, so the ids themselves are not kept in memory
// longer than a request. A session ends when it has been idle too long, when it reaches its
// maximum age, on logout, or when the table is full and a newer login pushes it out.

import * as crypto from 'node:crypto';
import type { KafkaPrincipal } from '../security/principal';

/** The cookie's name. */
export const SESSION_COOKIE = 'brook_session';
/** Session ids are this many random bytes (base64url in the cookie). */
export const SESSION_ID_BYTES = 32;

export interface Session {
  principal: KafkaPrincipal;
  createdAtMs: number;
  lastUsedAtMs: number;
  /** The session ends at this time at the latest (login + session.max.ms). */
  expiresAtMs: number;
  /** Set when the session left the table (logout, expiry, pushed out). */
  ended: boolean;
}

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
  sessionsMax: number;
}

export class SessionTable {
  /** By hashed id, least recently used first (a use moves the entry to the end). */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Starts a session for this principal; returns the id for the cookie. */
  create(principal: KafkaPrincipal): { id: string; session: Session } {
    this.sweep();
    while (this.sessions.size >= this.limits.sessionsMax) this.drop(this.sessions.keys().next().value!);
    const id = crypto.randomBytes(SESSION_ID_BYTES).toString('base64url');
    const now = this.nowMs();
    const session = {
      principal,
      createdAtMs: now,
      lastUsedAtMs: now,
      expiresAtMs: now + this.limits.maxMs,
      ended: false,
    };
    this.sessions.set(hashId(id), session);
    return { id, session };
  }

  /** The live session for this id, marked as used; undefined when there is none (or it ended). */
  use(id: string): Session | undefined {
    if (!isSessionId(id)) return undefined;
    const key = hashId(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.nowMs();
    if (!this.live(session, now)) {
      this.drop(key);
      return undefined;
    }
    session.lastUsedAtMs = now;
    this.sessions.delete(key);
    this.sessions.set(key, session);
    return session;
  }

  /** Whether the session is still live, without marking it used (a WebSocket checks this). */
  alive(session: Session): boolean {
    return !session.ended && this.live(session, this.nowMs());
  }

  /** Ends the session with this id (logout); true when there was one. */
  end(id: string): boolean {
    return isSessionId(id) && this.drop(hashId(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Drops ended sessions (on each login, so the table holds only live ones when it is counted). */
  private sweep(): void {
    const now = this.nowMs();
    for (const [key, session] of this.sessions) if (!this.live(session, now)) this.drop(key);
  }

  private drop(key: string): boolean {
    const session = this.sessions.get(key);
    if (!session) return false;
    session.ended = true;
    return this.sessions.delete(key);
  }

  private live(session: Session, now: number): boolean {
    return now < session.expiresAtMs && now - session.lastUsedAtMs < this.limits.idleMs;
  }
}

function hashId(id: string): string {
  return crypto.createHash('sha256').update(id).digest('base64url');
}

function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id);
}

/** The value of one cookie from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 16_384) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    if (part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for a session id (Secure when the listener is HTTPS). */
export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** The Set-Cookie value that makes the browser forget the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
