// The route table of the HTTP listener: method and path template (OpenAPI style,
// /api/v1/topics/{topic}) to a handler. Unknown paths are 404; a known path asked with
// another method is 405 with an Allow header. HEAD is answered wherever GET is.

import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors';
import type { RequestAccess } from './request-auth';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteRequest {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  /** Who sent the request (User:ANONYMOUS when authentication is off), for authorization. */
  access: RequestAccess;
}

/** What a handler answers: JSON (or text) with a status, or no body (204). */
export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is instead of JSON. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (request: RouteRequest) => Promise<Reply> | Reply;

interface Route {
  method: Method;
  template: string;
  segments: string[];
  handler: Handler;
}

export type RouteMatch = { handler: Handler; params: Record<string, string> };

export class Router {
  private readonly table: Route[] = [];

  add(method: Method, template: string, handler: Handler): this {
    if (this.table.some((r) => r.method === method && r.template === template))
      throw new Error(`route ${method} ${template} added twice`);
    this.table.push({ method, template, segments: template.split('/').slice(1), handler });
    return this;
  }

  /** Every route, as method and template (the OpenAPI test compares these). */
  routes(): { method: Method; template: string }[] {
    return this.table.map(({ method, template }) => ({ method, template }));
  }

  /** The handler for this method and path; throws 404 or 405 (with Allow) when there is none. */
  match(method: string, pathname: string): RouteMatch {
    const parts = pathname.split('/').slice(1);
    const allowed = new Set<string>();
    for (const route of this.table) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET'))
        return { handler: route.handler, params };
      allowed.add(route.method);
      if (route.method === 'GET') allowed.add('HEAD');
    }
    if (allowed.size === 0) throw new HttpError(404, 'not-found', `no such endpoint: ${pathname}`);
    const allow = [...allowed].sort().join(', ');
    throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${pathname} (allowed: ${allow})`, {
      allow,
    });
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | null {
  if (template.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t.startsWith('{') && t.endsWith('}')) {
      if (parts[i] === '') return null;
      let value: string;
      try {
        value = decodeURIComponent(parts[i]);
      } catch {
        return null;
      }
      params[t.slice(1, -1)] = value;
    } else if (t !== parts[i]) return null;
  }
  return params;
}
